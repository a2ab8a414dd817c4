package websession

import (
	"strings"
	"testing"
)

func TestImpressions(t *testing.T) {
	const (
		start = `{"contexts":[{"EngagementContext":{"id":"1"}},{"pageContext":{"id":"1738225948"}}],"campaignId":210599710,"engagementId":210600710,"engagementRevision":18,"engagementType":3,"contextId":"1","zoneId":471288710,"state":1,"confKey":"210599710_210600710_18","tglName":"slider","done":true,"engagementName":"Slide-out chat button"}`
		// fromEvent are the blocks of start when no eligibility lists its campaign.
		fromEvent = `"engagement":{"com.liveperson.dataaccess.Engagement":{"id":{"long":210600710},"channel":null,"type":{"string":"3"},"visitorBehaviors":null,"skillId":null,"skillName":null,"surveySkills":null,"isOffsiteEngagement":null,"availabilityPolicy":null,"interactionType":null,"renderingType":null}},` +
			`"campaign":{"com.liveperson.dataaccess.Campaign":{"id":{"long":210599710},"visitorProfiles":null}},"goal":null`
	)
	// fromEligibility are the blocks of the eligibility that lists start's campaign and engagement.
	fromEligibility := `"engagement":{"com.liveperson.dataaccess.Engagement":` + fullEngagementJSON + `},` +
		`"campaign":{"com.liveperson.dataaccess.Campaign":` + fullCampaignJSON + `},` +
		`"goal":{"com.liveperson.dataaccess.Goal":` + fullGoalJSON + `}`
	eligible := []Eligibility{{Time: 50, Campaigns: []EligibleCampaign{
		{Campaign: &Campaign{ID: Some[int64](1)}},
		{Campaign: &fullCampaign, Engagements: []Engagement{{ID: Some[int64](5)}, fullEngagement}, Goal: &fullGoal},
	}}}
	otherGoal := Goal{ID: Some[int64](8)}
	twoAssessments := []Eligibility{
		{Time: 50, Campaigns: []EligibleCampaign{{Campaign: &fullCampaign, Engagements: []Engagement{fullEngagement}, Goal: &fullGoal}}},
		{Time: 150, Campaigns: []EligibleCampaign{{Campaign: &fullCampaign, Goal: &otherGoal}}},
	}

	for _, tc := range []struct {
		name, event, data string
		eligibility       []Eligibility
		want              string // the entry, without its timestamp ({"long":100})
	}{
		{"shown, from the event", "OFFER_IMPRESSION", start, nil,
			`"engagementInstanceId":{"string":"1"},"impressionType":{"string":"Show"},"state":{"string":"1"},` + fromEvent},
		{"accepted, offline", "OFFER_CLICK", replace(start, `"state":1`, `"state":2`), nil,
			`"engagementInstanceId":{"string":"1"},"impressionType":{"string":"Accept"},"state":{"string":"2"},` + fromEvent},
		{"closed, busy", "OFFER_DECLINED", replace(start, `"state":1`, `"state":4`), nil,
			`"engagementInstanceId":{"string":"1"},"impressionType":{"string":"Close"},"state":{"string":"2"},` + fromEvent},
		{"timed out, no state: content", "OFFER_TIMEOUT", replace(start, `"state":1,`, ``), nil,
			`"engagementInstanceId":{"string":"1"},"impressionType":{"string":"Timeout"},"state":{"string":"0"},` + fromEvent},
		{"instance from contexts", "OFFER_IMPRESSION",
			`{"contexts":[{"pageContext":{"id":"9"}},{"EngagementContext":{"id":"7"}}],"campaignId":"abc","engagementId":2}`, nil,
			`"engagementInstanceId":{"string":"7"},"impressionType":{"string":"Show"},"state":{"string":"0"},` +
				`"engagement":{"com.liveperson.dataaccess.Engagement":{"id":{"long":2},"channel":null,"type":null,"visitorBehaviors":null,"skillId":null,"skillName":null,"surveySkills":null,"isOffsiteEngagement":null,"availabilityPolicy":null,"interactionType":null,"renderingType":null}},` +
				`"campaign":{"com.liveperson.dataaccess.Campaign":{"id":null,"visitorProfiles":null}},"goal":null`},
		{"nothing known", "OFFER_IMPRESSION", `{}`, nil,
			`"engagementInstanceId":null,"impressionType":{"string":"Show"},"state":{"string":"0"},` +
				`"engagement":{"com.liveperson.dataaccess.Engagement":` + nullEngagementJSON + `},` +
				`"campaign":{"com.liveperson.dataaccess.Campaign":{"id":null,"visitorProfiles":null}},"goal":null`},
		{"from eligibility", "OFFER_IMPRESSION", start, eligible,
			`"engagementInstanceId":{"string":"1"},"impressionType":{"string":"Show"},"state":{"string":"1"},` + fromEligibility},
		{"campaign eligible, engagement not listed", "OFFER_IMPRESSION", replace(start, `"engagementId":210600710`, `"engagementId":"99"`), eligible,
			`"engagementInstanceId":{"string":"1"},"impressionType":{"string":"Show"},"state":{"string":"1"},` +
				`"engagement":{"com.liveperson.dataaccess.Engagement":{"id":{"long":99},"channel":null,"type":{"string":"3"},"visitorBehaviors":null,"skillId":null,"skillName":null,"surveySkills":null,"isOffsiteEngagement":null,"availabilityPolicy":null,"interactionType":null,"renderingType":null}},` +
				`"campaign":{"com.liveperson.dataaccess.Campaign":` + fullCampaignJSON + `},` +
				`"goal":{"com.liveperson.dataaccess.Goal":` + fullGoalJSON + `}`},
		{"latest assessment before the impression", "OFFER_IMPRESSION", start, twoAssessments,
			`"engagementInstanceId":{"string":"1"},"impressionType":{"string":"Show"},"state":{"string":"1"},` + fromEligibility},
		{"first assessment when none is before", "OFFER_IMPRESSION", start, twoAssessments[1:],
			`"engagementInstanceId":{"string":"1"},"impressionType":{"string":"Show"},"state":{"string":"1"},` +
				`"engagement":{"com.liveperson.dataaccess.Engagement":{"id":{"long":210600710},"channel":null,"type":{"string":"3"},"visitorBehaviors":null,"skillId":null,"skillName":null,"surveySkills":null,"isOffsiteEngagement":null,"availabilityPolicy":null,"interactionType":null,"renderingType":null}},` +
				`"campaign":{"com.liveperson.dataaccess.Campaign":` + fullCampaignJSON + `},"goal":{"com.liveperson.dataaccess.Goal":{"id":{"long":8},"type":null,"indicatorType":null}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &Visit{Events: []Event{offerEvent(100, tc.event, tc.data)}, Eligibility: tc.eligibility}
			doc := AppendDocument(nil, v, fakeEnricher{})
			checkDocument(t, doc)
			want := `[{"timestamp":{"long":100},` + tc.want + `}]`
			if got := list(t, records(t, doc)["WebSessionImpressionData"], "impressions"); !jsonEqual(t, got, want) {
				t.Errorf("got %v\nwant %s", got, want)
			}
		})
	}
}

func TestNotImpressions(t *testing.T) {
	const data = `{"campaignId":1,"engagementId":2}`
	v := &Visit{Events: []Event{
		offerEvent(1, "START", data), offerEvent(2, "OFFER_DISPLAY", data), offerEvent(3, "OFFER_REMOVE", data),
		{Time: 4, App: "CHAT", Name: "OFFER_IMPRESSION", Data: []byte(data)},
	}}
	doc := AppendDocument(nil, v, fakeEnricher{})
	checkDocument(t, doc)
	if _, ok := records(t, doc)["WebSessionImpressionData"]; ok {
		t.Error("an Impression record")
	}
}

// replace returns s with old replaced by new, which must be there.
func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("replace: " + old + " not in " + s)
	}
	return strings.Replace(s, old, new, 1)
}
