package websession

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/sightline/sightline/internal/enrich"
)

// jsonEqual reports whether the JSON values a and b are equal, key order
// aside.
func jsonEqual(t *testing.T, a any, b string) bool {
	t.Helper()
	got, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(parseJSON(t, got), parseJSON(t, []byte(b)))
}

func TestRecordOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		en   Enricher
		edit func(v *Visit)
		want []string
	}{
		{"all", fullEnricher, func(*Visit) {},
			[]string{"WebSessionGeoData", "WebSessionSessionInfoData", "WebSessionEngAttrsData", "WebSessionNavigationData",
				"WebSessionGoalAchievedData", "WebSessionEligibilityData", "WebSessionImpressionData"}},
		{"no geo", fakeEnricher{}, func(*Visit) {},
			[]string{"WebSessionSessionInfoData", "WebSessionEngAttrsData", "WebSessionNavigationData",
				"WebSessionGoalAchievedData", "WebSessionEligibilityData", "WebSessionImpressionData"}},
		{"continuation", fullEnricher, func(v *Visit) { v.Continuation = 2 },
			[]string{"WebSessionEngAttrsData", "WebSessionNavigationData",
				"WebSessionGoalAchievedData", "WebSessionEligibilityData", "WebSessionImpressionData"}},
		{"page views only", fullEnricher, func(v *Visit) {
			v.Events = slices.DeleteFunc(v.Events, func(e Event) bool { return e.App != appMonitoring })
			v.Eligibility, v.Goals = nil, nil
		}, []string{"WebSessionGeoData", "WebSessionSessionInfoData", "WebSessionNavigationData"}},
		{"no events", fakeEnricher{}, func(v *Visit) { v.Events, v.Eligibility, v.Goals = nil, nil, nil },
			[]string{"WebSessionSessionInfoData"}},
		{"continuation of nothing", fakeEnricher{}, func(v *Visit) {
			v.Events, v.Eligibility, v.Goals, v.Continuation = nil, nil, nil, 1
		}, nil},
		{"only events of no record", fakeEnricher{}, func(v *Visit) {
			v.Events = []Event{offerEvent(1, "START", `{}`), {Time: 2, App: "CHAT", Name: "LOAD", Data: []byte(`{}`)},
				sdeEvent(3, `{"type":"unknown"}`), {Time: 4, App: appSDES, Name: pageView, Data: []byte(`{}`)}}
			v.Eligibility, v.Goals, v.Continuation = nil, nil, 1
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := specVisit()
			tc.edit(v)
			doc := AppendDocument(nil, v, tc.en)
			checkDocument(t, doc)
			if got := recordOrder(t, doc); !slices.Equal(got, tc.want) {
				t.Errorf("records %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMetaData(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    Visit
		want string
	}{
		{"events", Visit{AccountID: "le\"1", Events: []Event{pageViewEvent(7, `{}`), pageViewEvent(9, `{}`)}},
			`{"accountId":{"string":"le\"1"},"schemaVersion":"1.0.0.22","startTime":{"long":7},"endTime":null}`},
		{"no events", Visit{},
			`{"accountId":null,"schemaVersion":"1.0.0.22","startTime":null,"endTime":null}`},
	} {
		doc := AppendDocument(nil, &tc.v, fakeEnricher{})
		checkDocument(t, doc)
		meta := parseJSON(t, doc).(map[string]any)
		if !jsonEqual(t, meta["metaData"], tc.want) {
			t.Errorf("%s: metaData %v, want %s", tc.name, meta["metaData"], tc.want)
		}
		if !jsonEqual(t, meta["dataType"], `{"com.liveperson.dataaccess.DataTypeEnum":"WebSession"}`) {
			t.Errorf("%s: dataType %v", tc.name, meta["dataType"])
		}
	}
}

func TestHeaderGeoAndSessionInfo(t *testing.T) {
	header := `{"com.liveperson.dataaccess.VisitorHeader":{"visitId":{"string":"vi\\d"},"visitorId":{"string":"vr"},"contextId":null}}`
	for _, tc := range []struct {
		name         string
		en           fakeEnricher
		controlGroup string
		events       []Event
		geo, info    string
	}{
		{"everything known", fullEnricher, "TEST",
			[]Event{sdeEvent(3, `{}`), pageViewEvent(4, `{"url":"https://a/","referrer":"https://www.google.com/search?q=blinds"}`), pageViewEvent(5, `{"url":"https://b/","referrer":"https://a/"}`)},
			`{"header":` + header + `,"iPV4":{"string":"203.0.113.7"},"iPV6":null,"country":{"string":"France"},"city":{"string":"Paris"},"state":{"string":"Île-de-France"},"org":{"string":"Example Org"},"isp":{"string":"Example ISP"},"countryCode":{"string":"FR"}}`,
			`{"header":` + header + `,"sessionStartTime":{"long":3},"userAgent":{"string":"UA \"1\""},"deviceOS":{"string":"MAC_OS"},"deviceFamily":{"string":"DESKTOP"},"siteControlGroup":{"string":"TEST"},"searchEngine":{"string":"Google"},"searchEngineKey":{"string":"blinds \"cheap\""}}`},
		{"no referrer: no search", fakeEnricher{device: fullEnricher.device, search: fullEnricher.search}, "CONTROL",
			[]Event{pageViewEvent(4, `{"url":"https://a/","referrer":""}`)}, "",
			`{"header":` + header + `,"sessionStartTime":{"long":4},"userAgent":{"string":"UA \"1\""},"deviceOS":{"string":"MAC_OS"},"deviceFamily":{"string":"DESKTOP"},"siteControlGroup":{"string":"CONTROL"},"searchEngine":null,"searchEngineKey":null}`},
		{"nothing known", fakeEnricher{geo: enrich.Geo{}}, "",
			nil, "",
			`{"header":` + header + `,"sessionStartTime":null,"userAgent":{"string":"UA \"1\""},"deviceOS":null,"deviceFamily":null,"siteControlGroup":{"string":"NA"},"searchEngine":null,"searchEngineKey":null}`},
		{"IPv6 only", fakeEnricher{geo: enrich.Geo{IPv6: "2001:db8::1"}}, "BOGUS",
			nil,
			`{"header":` + header + `,"iPV4":null,"iPV6":{"string":"2001:db8::1"},"country":null,"city":null,"state":null,"org":null,"isp":null,"countryCode":null}`,
			`{"header":` + header + `,"sessionStartTime":null,"userAgent":{"string":"UA \"1\""},"deviceOS":null,"deviceFamily":null,"siteControlGroup":{"string":"NA"},"searchEngine":null,"searchEngineKey":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &Visit{VisitID: `vi\d`, VisitorID: "vr", UserAgent: `UA "1"`, ControlGroup: tc.controlGroup, Events: tc.events}
			doc := AppendDocument(nil, v, tc.en)
			checkDocument(t, doc)
			recs := records(t, doc)
			if geo, ok := recs["WebSessionGeoData"]; ok != (tc.geo != "") || ok && !jsonEqual(t, geo, tc.geo) {
				t.Errorf("geo %v, want %s", geo, tc.geo)
			}
			if info := recs["WebSessionSessionInfoData"]; !jsonEqual(t, info, tc.info) {
				t.Errorf("session info %v\nwant %s", info, tc.info)
			}
		})
	}
}

// searchRecorder records the referrers it is asked about.
type searchRecorder struct {
	fakeEnricher
	referrers *[]string
}

func (s searchRecorder) Search(referrer string) enrich.Search {
	*s.referrers = append(*s.referrers, referrer)
	return s.search
}

func TestSearchFromFirstPageView(t *testing.T) {
	var asked []string
	v := &Visit{Events: []Event{
		sdeEvent(1, `{"type":"cart","referrer":"no"}`),
		pageViewEvent(2, `{"url":"https://a/","referrer":"https://www.bing.com/search?q=x\u0026y"}`),
		pageViewEvent(3, `{"url":"https://b/","referrer":"https://a/"}`),
	}}
	checkDocument(t, AppendDocument(nil, v, searchRecorder{referrers: &asked}))
	if want := []string{"https://www.bing.com/search?q=x&y"}; !slices.Equal(asked, want) {
		t.Errorf("Search asked about %q, want %q", asked, want)
	}
}
