package websession

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppendDocument writes a visit whose events of every kind the
// document reads have arbitrary data: a page view, an impression of each
// type, and an attribute of each of the 10 types (the data with the type
// spliced in when it is an object, and as it is). The document must be
// valid JSON and decode with goavro.
func FuzzAppendDocument(f *testing.F) {
	for _, tc := range attributeCases {
		f.Add([]byte(tc.data))
	}
	for _, seed := range []string{
		`{"url":"https://example.com/\u00e9","referrer":"","title":"t","sections":["a",1,null,{}],"contextId":"1"}`,
		`{"contexts":[{"EngagementContext":{"id":"1"}}],"campaignId":"210599710","engagementId":2,"engagementType":3,"state":4}`,
		`{"info":{"cstatus":"\ud83d\ude00\ud800","lastPaymentDate":{"day":"1e2"}},"personal":{"age":{"age":1.5}}}`,
		`{"products":[{"product":{"price":"NaN"}},[],"x"],"cart":{"products":{}}}`,
		`{"a":[{"b":"\"}]"}]`, `{`, `[`, `"`, `"\`, `{"x":tru}`, "\xff\x00", ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v := &Visit{VisitID: "v", Eligibility: []Eligibility{{Time: 0, Campaigns: []EligibleCampaign{
			{Campaign: &Campaign{ID: Some[int64](210599710)}, Engagements: []Engagement{{ID: Some[int64](2)}}},
		}}}}
		add := func(app, name string, data []byte) {
			v.Events = append(v.Events, Event{Time: int64(len(v.Events)), App: app, Name: name, Data: data})
		}
		add(appMonitoring, pageView, data)
		for _, name := range []string{"OFFER_IMPRESSION", "OFFER_CLICK", "OFFER_DECLINED", "OFFER_TIMEOUT"} {
			add(appOffers, name, data)
		}
		add(appSDES, varAdded, data)
		for _, a := range attributes {
			add(appSDES, varAdded, withType(a.page, data))
		}
		doc := AppendDocument(nil, v, fullEnricher)
		if !json.Valid(doc) {
			t.Fatalf("not valid JSON: %s", doc)
		}
		checkDocument(t, doc)
	})
}

// withType returns data, if it is an object, with the property type set
// to typ first.
func withType(typ string, data []byte) []byte {
	rest, ok := bytes.CutPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{"))
	if !ok {
		return data
	}
	head := []byte(`{"type":"` + typ + `"`)
	if r := bytes.TrimLeft(rest, " \t\r\n"); len(r) > 0 && r[0] != '}' {
		head = append(head, ',')
	}
	return append(head, rest...)
}
