package websession

import (
	"testing"
)

// Blocks with every field set.
var (
	fullEngagement = Engagement{
		ID: Some[int64](210600710), Channel: "1", Type: "3",
		VisitorBehaviors: []VisitorBehavior{{ID: Some[int64](126225110), Revision: Some[int64](33)}, {ID: Some[int64](7)}},
		SkillID:          Some[int32](11), SkillName: "Tier1",
		SurveySkills:        []Skill{{ID: Some[int64](12), Name: "survey"}},
		IsOffsiteEngagement: Some(true), AvailabilityPolicy: "1",
		InteractionType: Some[int32](5), RenderingType: Some[int32](2),
	}
	fullCampaign = Campaign{ID: Some[int64](210599710),
		VisitorProfiles: []VisitorProfile{{ID: Some[int64](156579410), Revision: Some[int64](111)}}}
	fullGoal = Goal{ID: Some[int64](126222610), Type: Some[int32](4), IndicatorType: Some[int32](3)}

	fullEngagementJSON = `{"id":{"long":210600710},"channel":{"string":"1"},"type":{"string":"3"},"visitorBehaviors":{"array":[{"id":{"long":126225110},"revision":{"long":33}},{"id":{"long":7},"revision":null}]},"skillId":{"int":11},"skillName":{"string":"Tier1"},"surveySkills":{"array":[{"id":{"long":12},"name":{"string":"survey"}}]},"isOffsiteEngagement":{"boolean":true},"availabilityPolicy":{"string":"1"},"interactionType":{"int":5},"renderingType":{"int":2}}`
	fullCampaignJSON   = `{"id":{"long":210599710},"visitorProfiles":{"array":[{"id":{"long":156579410},"revision":{"long":111}}]}}`
	fullGoalJSON       = `{"id":{"long":126222610},"type":{"int":4},"indicatorType":{"int":3}}`
	nullEngagementJSON = `{"id":null,"channel":null,"type":null,"visitorBehaviors":null,"skillId":null,"skillName":null,"surveySkills":null,"isOffsiteEngagement":null,"availabilityPolicy":null,"interactionType":null,"renderingType":null}`
)

func TestEligibility(t *testing.T) {
	for _, tc := range []struct {
		name string
		el   Eligibility
		want string
	}{
		{"full", Eligibility{Time: 99, Campaigns: []EligibleCampaign{
			{Campaign: &fullCampaign, Engagements: []Engagement{fullEngagement, {}}, Goal: &fullGoal, ControlGroup: "CONTROL"},
			{ControlGroup: "TEST"},
		}},
			`{"eligibleCampaigns":{"array":[` +
				`{"campaign":{"com.liveperson.dataaccess.Campaign":` + fullCampaignJSON + `},` +
				`"engagements":{"array":[` + fullEngagementJSON + `,` + nullEngagementJSON + `]},` +
				`"goal":{"com.liveperson.dataaccess.Goal":` + fullGoalJSON + `},` +
				`"controlGroupType":{"com.liveperson.dataaccess.ControlGroupEnum":"CONTROL"}},` +
				`{"campaign":null,"engagements":null,"goal":null,"controlGroupType":{"com.liveperson.dataaccess.ControlGroupEnum":"TEST"}}` +
				`]},"timestamp":{"long":99}}`},
		{"empty", Eligibility{Time: 5},
			`{"eligibleCampaigns":null,"timestamp":{"long":5}}`},
		{"unknown control group", Eligibility{Time: 5, Campaigns: []EligibleCampaign{{Campaign: &Campaign{}, ControlGroup: "test"}}},
			`{"eligibleCampaigns":{"array":[{"campaign":{"com.liveperson.dataaccess.Campaign":{"id":null,"visitorProfiles":null}},"engagements":null,"goal":null,"controlGroupType":{"com.liveperson.dataaccess.ControlGroupEnum":"NA"}}]},"timestamp":{"long":5}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := AppendDocument(nil, &Visit{Eligibility: []Eligibility{tc.el}}, fakeEnricher{})
			checkDocument(t, doc)
			if got := list(t, records(t, doc)["WebSessionEligibilityData"], "eligibilityData"); !jsonEqual(t, got, "["+tc.want+"]") {
				t.Errorf("got %v\nwant [%s]", got, tc.want)
			}
		})
	}
}

func TestGoalsAchieved(t *testing.T) {
	const head = `"id":{"string":"g1"},"timestamp":{"long":42},"campaignGoalRevision":{"long":13},"campaignGoalId":{"long":153250510},"campaignGoalType":{"int":1}`
	for _, tc := range []struct {
		name     string
		metadata GoalMetadata
		want     string
	}{
		{"none", nil, `null`},
		{"url", URLGoalMetadata{URL: "https://example.com/thanks?a=\"b\""},
			`{"com.liveperson.dataaccess.UrlGoalMetadata":{"url":{"string":"https://example.com/thanks?a=\"b\""}}}`},
		{"url empty", URLGoalMetadata{}, `{"com.liveperson.dataaccess.UrlGoalMetadata":{"url":null}}`},
		{"purchase", PurchaseMetadata{Total: Some(78.5), OrderID: "Test123",
			Cart: `{"total":"77.8","numItems":2,"currency":"USD","products":[{"product":{"name":"shoe","category":"women shoes","sku":"xyz567",` +
				`"price":38.9,"statusInStock":"in stock","quantityInStock":"12"},"quantity":2},{}]}`},
			`{"com.liveperson.dataaccess.PurchaseMetadata":{"total":{"double":78.5},"orderId":{"string":"Test123"},"cartStatus":{"com.liveperson.dataaccess.CartStatus":{` +
				`"total":{"double":77.8},"numItems":{"int":2},"products":{"array":[` +
				`{"quantity":{"int":2},"product":{"com.liveperson.dataaccess.Product":{"name":{"string":"shoe"},"category":{"string":"women shoes"},"sku":{"string":"xyz567"},"price":{"double":38.9},"statusInStock":{"string":"in stock"},"quantityInStock":{"int":12}}}},` +
				`{"quantity":null,"product":null}]},"currency":{"string":"USD"}}}}}`},
		{"purchase empty", PurchaseMetadata{},
			`{"com.liveperson.dataaccess.PurchaseMetadata":{"total":null,"orderId":null,"cartStatus":null}}`},
		{"reduce abandonment", ReduceAbandonmentGoalMetadata{NumberOfPages: Some[int32](2)},
			`{"com.liveperson.dataaccess.ReduceAbandonmentGoalMetadata":{"numberOfPages":{"int":2}}}`},
		{"reduce abandonment empty", ReduceAbandonmentGoalMetadata{},
			`{"com.liveperson.dataaccess.ReduceAbandonmentGoalMetadata":{"numberOfPages":null}}`},
		{"lead", LeadMetadata{Topic: "test drive", LeadID: "xyz123", Value: Some(22.22)},
			`{"com.liveperson.dataaccess.LeadMetaData":{"topic":{"string":"test drive"},"leadId":{"string":"xyz123"},"value":{"double":22.22}}}`},
		{"lead empty", LeadMetadata{},
			`{"com.liveperson.dataaccess.LeadMetaData":{"topic":null,"leadId":null,"value":null}}`},
		{"service activity", ServiceActivityMetadata{Topic: "order checkbook", Status: Some[int32](0), Category: "finance", ServiceID: "service12"},
			`{"com.liveperson.dataaccess.ServiceActivityMetaData":{"topic":{"string":"order checkbook"},"status":{"int":0},"category":{"string":"finance"},"serviceId":{"string":"service12"}}}`},
		{"service activity empty", ServiceActivityMetadata{},
			`{"com.liveperson.dataaccess.ServiceActivityMetaData":{"topic":null,"status":null,"category":null,"serviceId":null}}`},
		{"increase interaction", IncreaseInteractionGoalMetadata{Engagement: &fullEngagement, Campaign: &fullCampaign},
			`{"com.liveperson.dataaccess.IncreaseInteractionGoalMetadata":{"engagement":{"com.liveperson.dataaccess.Engagement":` + fullEngagementJSON + `},"campaign":{"com.liveperson.dataaccess.Campaign":` + fullCampaignJSON + `}}}`},
		{"increase interaction empty", IncreaseInteractionGoalMetadata{},
			`{"com.liveperson.dataaccess.IncreaseInteractionGoalMetadata":{"engagement":null,"campaign":null}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := GoalAchieved{ID: "g1", Time: 42, CampaignGoalRevision: Some[int64](13), CampaignGoalID: Some[int64](153250510),
				CampaignGoalType: Some[int32](1), Metadata: tc.metadata}
			doc := AppendDocument(nil, &Visit{Goals: []GoalAchieved{g, {Time: 43}}}, fakeEnricher{})
			checkDocument(t, doc)
			want := `[{` + head + `,"goalMetaData":` + tc.want + `},` +
				`{"id":null,"timestamp":{"long":43},"campaignGoalRevision":null,"campaignGoalId":null,"campaignGoalType":null,"goalMetaData":null}]`
			if got := list(t, records(t, doc)["WebSessionGoalAchievedData"], "achievedGoals"); !jsonEqual(t, got, want) {
				t.Errorf("got %v\nwant %s", got, want)
			}
		})
	}
}
