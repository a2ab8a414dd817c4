package ingest

import (
	"testing"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/event"
)

func TestOffers(t *testing.T) {
	slider := account.Engagement{CampaignID: 21, EngagementID: 22, Revision: 3, Name: "Chat", Type: 3, State: 1, Title: "Help?", Button: "Chat"}
	tvOnly := account.Engagement{CampaignID: 21, EngagementID: 23, Revision: 1, Name: "TV offer", Type: 5, State: 2, ElementID: "offer", Title: "10% off", Button: "Get it", Sections: []string{"tv"}}
	acct := &account.Account{ID: "a", Engagements: []account.Engagement{slider, tvOnly}}
	pageView := func(data string) event.Batch {
		return event.Batch{Events: []event.Event{{AppName: "LP_MONITORING", EventName: "PAGE_VIEW", Data: []byte(data)}}}
	}
	tests := []struct {
		name  string
		acct  *account.Account
		batch event.Batch
		want  string
	}{
		{"no engagements", &account.Account{ID: "b"}, pageView(`{"url":"https://x.example/"}`), ""},
		{"no page view", acct, event.Batch{Events: []event.Event{{AppName: "lp_sdes", EventName: "VAR_ADDED", Data: []byte(`{"type":"cart"}`)}}}, ""},
		{"other section", acct, pageView(`{"url":"https://x.example/","sections":["shoes"],"contextId":"17"}`),
			`[{"campaignId":21,"engagementId":22,"engagementRevision":3,"engagementName":"Chat","engagementType":3,"zoneId":0,"state":1,"title":"Help?","button":"Chat","confKey":"21_22_3","tglName":"slider","pageContextId":"17"}]`},
		{"tv section, numeric context id", acct, pageView(`{"url":"https://x.example/","sections":["tv"],"contextId":1738225948}`),
			`[{"campaignId":21,"engagementId":22,"engagementRevision":3,"engagementName":"Chat","engagementType":3,"zoneId":0,"state":1,"title":"Help?","button":"Chat","confKey":"21_22_3","tglName":"slider","pageContextId":"1738225948"},` +
				`{"campaignId":21,"engagementId":23,"engagementRevision":1,"engagementName":"TV offer","engagementType":5,"zoneId":0,"state":2,"elementId":"offer","title":"10% off","button":"Get it","sections":["tv"],"confKey":"21_23_1","tglName":"embedded","pageContextId":"1738225948"}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.batch
			if got := string(offers(tc.acct, &b)); got != tc.want {
				t.Errorf("offers =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
