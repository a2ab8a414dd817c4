package websession

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"

	"github.com/sightline/sightline/internal/enrich"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json with the document written")

// specVisit is the visit of the Data Access API's Data Structure example
// (testdata/spec_example.json, copied from spec/web-session-data-access.txt)
// as the sessionizer would hand it over: its page views, attributes and
// impressions as events, its eligibility and goal as the campaign engine
// would fill them. What the example does not show is made up: the
// engagement IDs, the times of the impressions, and a START event at the
// visit's start time (metaData.startTime, 57 ms before the first page view)
// that makes no record.
func specVisit() *Visit {
	const (
		chatCampaign, chatEngagement       = 129082910, 129083010
		contentCampaign, contentEngagement = 626105510, 626105610
	)
	goal := &Goal{ID: Some[int64](126222610), Type: Some[int32](4), IndicatorType: Some[int32](3)}
	behaviors := []VisitorBehavior{{ID: Some[int64](126225110), Revision: Some[int64](33)}}
	chat := EligibleCampaign{
		Campaign: &Campaign{ID: Some[int64](chatCampaign),
			VisitorProfiles: []VisitorProfile{{ID: Some[int64](156579410), Revision: Some[int64](111)}}},
		Engagements: []Engagement{{ID: Some[int64](chatEngagement), Channel: "1", Type: "5",
			VisitorBehaviors: behaviors, SkillID: Some[int32](11), SkillName: "Tier1",
			IsOffsiteEngagement: Some(false), AvailabilityPolicy: "1", InteractionType: Some[int32](5)}},
		Goal: goal,
	}
	content := EligibleCampaign{
		Campaign: &Campaign{ID: Some[int64](contentCampaign),
			VisitorProfiles: []VisitorProfile{{ID: Some[int64](286374810), Revision: Some[int64](111)}}},
		Engagements: []Engagement{{ID: Some[int64](contentEngagement), Channel: "100", Type: "1",
			VisitorBehaviors: behaviors, SkillID: Some[int32](-1),
			IsOffsiteEngagement: Some(false), InteractionType: Some[int32](1)}},
		Goal: goal,
	}
	return &Visit{
		AccountID: "75555851",
		VisitorID: "pKytlMTwSPCwpJS-RQqtlQ",
		VisitID:   "AjvT6hLKTEi3AXgGnYu_mQ.606c99c686cbe0d422d558a5005b3ec2275dc20a",
		IP:        "203.0.113.7",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36",
		Events: []Event{
			offerEvent(1467291704468, "START", `{"campaignId":129082910,"engagementId":129083010,"engagementType":5,"state":1,"contextId":"1"}`),
			pageViewEvent(1467291704525, `{"url":"https://authentication.liveperson.net/login.html","referrer":"","title":"Login","sections":["loginPages"],"contextId":"173828"}`),
			offerEvent(1467291704602, "OFFER_IMPRESSION", `{"contexts":[{"EngagementContext":{"id":"1"}},{"pageContext":{"id":"173828"}}],"campaignId":129082910,"engagementId":129083010,"engagementRevision":18,"engagementType":5,"contextId":"1","state":1}`),
			pageViewEvent(1467291714765, `{"url":"https://z1.le.liveperson.net/a/89995382/#wa!webagent","referrer":"https://authentication.liveperson.net/login.html","sections":[]}`),
			sdeEvent(1467291718263, `{"type":"ctmrinfo","info":{"cstatus":"agentManager","customerId":"Account: 89995382"}}`),
			sdeEvent(1467291718494, `{"type":"personal","personal":{"lastname":"BrookeR@blinds.com","contacts":[{}]}}`),
			offerEvent(1467291718600, "OFFER_IMPRESSION", `{"campaignId":626105510,"engagementId":626105610,"engagementType":1,"contextId":"2"}`),
			offerEvent(1467291721000, "OFFER_DECLINED", `{"campaignId":626105510,"engagementId":626105610,"engagementType":1,"contextId":"2"}`),
			pageViewEvent(1467308703041, `{"url":"https://authentication.liveperson.net/login.html?lpservice=liveEngage&servicepath=a%2F%7E%7Eaccountid%7E%7E%2F%23%2C%7E%7Essokey%7E%7E","referrer":"https://z1.le.liveperson.net/a/89995382/","sections":["loginPages"]}`),
		},
		Eligibility: []Eligibility{
			{Time: 1467291704571, Campaigns: []EligibleCampaign{chat}},
			{Time: 1467291718265, Campaigns: []EligibleCampaign{content}},
		},
		Goals: []GoalAchieved{{
			ID: "0b5f9655-7bcb-4143-960b-7a5b08195167", Time: 1467291714594,
			CampaignGoalRevision: Some[int64](13), CampaignGoalID: Some[int64](153250510), CampaignGoalType: Some[int32](1),
			Metadata: ReduceAbandonmentGoalMetadata{NumberOfPages: Some[int32](2)},
		}},
	}
}

func pageViewEvent(t int64, data string) Event {
	return Event{Time: t, ServerTime: t + 40, App: appMonitoring, Name: pageView, Data: []byte(data)}
}

func sdeEvent(t int64, data string) Event {
	return Event{Time: t, ServerTime: t + 40, App: appSDES, Name: varAdded, Data: []byte(data)}
}

func offerEvent(t int64, name, data string) Event {
	return Event{Time: t, ServerTime: t + 40, App: appOffers, Name: name, Data: []byte(data)}
}

// specEnricher knows the device of the example's visit, not where it is.
var specEnricher = fakeEnricher{device: enrich.Device{OS: "WINDOWS", Family: "DESKTOP"}}

// TestSpecExample checks the document of the example's visit against
// testdata/golden.json.
func TestSpecExample(t *testing.T) {
	doc := AppendDocument(nil, specVisit(), specEnricher)
	checkDocument(t, doc)
	if *update {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, doc, "", "  "); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/golden.json", append(pretty.Bytes(), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := parseJSON(t, doc), readJSON(t, "testdata/golden.json"); !reflect.DeepEqual(got, want) {
		t.Errorf("the document differs from testdata/golden.json (go test -update rewrites it):\n%s", doc)
	}
}

// TestGoldenIsSpecExample checks that testdata/golden.json is the
// specification's example but for the deliberate differences that
// specDifferences lists.
func TestGoldenIsSpecExample(t *testing.T) {
	example := readJSON(t, "testdata/spec_example.json").(map[string]any)
	specDifferences(t, example)
	if golden := readJSON(t, "testdata/golden.json"); !reflect.DeepEqual(golden, any(example)) {
		got, _ := json.MarshalIndent(example, "", "  ")
		t.Errorf("testdata/golden.json is not the example with the differences made; the example with them:\n%s", got)
	}
}

// specDifferences makes in the specification's example the changes that
// Sightline's document of the same visit has, each on purpose:
func specDifferences(t *testing.T, example map[string]any) {
	recs := example["recordCollection"].([]any)
	body := func(i int) map[string]any {
		for _, b := range recs[i].(map[string]any)["body"].(map[string]any) {
			return b.(map[string]any)
		}
		return nil
	}
	entries := func(i int, list string) []any {
		return body(i)[list].(map[string]any)["array"].([]any)
	}
	value := func(entry any, path ...string) map[string]any {
		m := entry.(map[string]any)
		for _, p := range path {
			m = m[p].(map[string]any)
		}
		return m
	}
	long := func(n int64) any { return map[string]any{"long": float64(n)} }

	// 1. A visit's first document has a SessionInfo record (the example
	//    shows none); there is no Geo record as the enricher does not know
	//    where the visitor is.
	header := body(0)["header"]
	sessionInfo := map[string]any{"body": map[string]any{ns + "WebSessionSessionInfoData": map[string]any{
		"header":           header,
		"sessionStartTime": long(1467291704468),
		"userAgent":        map[string]any{"string": specVisit().UserAgent},
		"deviceOS":         map[string]any{"string": "WINDOWS"},
		"deviceFamily":     map[string]any{"string": "DESKTOP"},
		"siteControlGroup": map[string]any{"string": "NA"},
		"searchEngine":     nil,
		"searchEngineKey":  nil,
	}}}

	// 2. Attributes have every field of spec/engagement-attributes.txt: the
	//    fields the example does not show are null here.
	attrs := entries(0, "engagementAttributes")
	for _, f := range []string{"currency", "companyBranch", "loginStatus"} {
		value(attrs[0], "data", ns+"CustomerInfo")[f] = nil
	}
	value(attrs[1], "data", ns+"PersonalInfo")["language"] = nil

	// 3. Impressions have the timestamp, and engagements the id, that the
	//    specification's tables list and the example does not show.
	impressions := entries(4, "impressions")
	for i, ts := range []int64{1467291704602, 1467291718600, 1467291721000} {
		value(impressions[i])["timestamp"] = long(ts)
	}
	engagementIDs := map[float64]int64{129082910: 129083010, 626105510: 626105610}
	setID := func(campaign, engagement map[string]any) {
		id := campaign["id"].(map[string]any)["long"].(float64)
		engagement["id"] = long(engagementIDs[id])
	}
	for _, imp := range impressions {
		setID(value(imp, "campaign", ns+"Campaign"), value(imp, "engagement", ns+"Engagement"))
	}
	for _, el := range entries(3, "eligibilityData") {
		for _, ec := range value(el, "eligibleCampaigns")["array"].([]any) {
			for _, eng := range value(ec, "engagements")["array"].([]any) {
				setID(value(ec, "campaign", ns+"Campaign"), eng.(map[string]any))
			}
		}
	}

	example["recordCollection"] = append([]any{sessionInfo}, recs...)
}

// readJSON reads the JSON file name.
func readJSON(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return parseJSON(t, b)
}
