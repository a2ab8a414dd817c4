package ingest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/websession"
)

// TestCampaignDecisions checks what the collector does with an account's
// campaigns: the answer to a page view lists the engagement to show and
// the visit's signed state; the assessment is stored beside the batch,
// once even when the batch is sent again; the state sent back carries the
// visit on, unless it was changed or is another visitor's; an account
// without campaigns gets neither.
func TestCampaignDecisions(t *testing.T) {
	d := &campaign.Definitions{
		Availability: campaign.Availability{"sales": "online"},
		Goals:        []campaign.Goal{{ID: 1, Name: "g", Type: "purchase"}},
		Campaigns: []campaign.Campaign{{ID: 2, Name: "c", Status: "active", GoalID: 1, Engagements: []campaign.Engagement{{
			ID: 3, Revision: 4, Name: "Chat", Type: 3, Zone: 1, Interaction: "chat", SkillName: "sales", Availability: "online",
			Content: campaign.Content{Title: "Help?", Button: "Chat"}}}}},
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	engine, err := campaign.Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, DefaultConfig(), engines{"shop": engine})

	type decided struct {
		Answer
		Engagements []campaign.Offer `json:"engagements"`
		State       json.RawMessage  `json:"state"`
	}
	post := func(acct string, body []byte) decided {
		t.Helper()
		code, _, b := e.post(acct, body, nil)
		var a decided
		if code != 200 || json.Unmarshal(b, &a) != nil {
			t.Fatalf("%d %s", code, b)
		}
		return a
	}
	eligibility := func() int {
		n := 0
		for _, s := range e.stored() {
			if s.AppName == websession.AppCampaigns && s.EventName == websession.EventEligibility {
				n++
			}
		}
		return n
	}
	now := time.Now().UnixMilli()
	first := batch(pageView("a1", now))
	a := post("shop", first)
	if len(a.Engagements) != 1 || a.Engagements[0].ConfKey != "2_3_4" || a.Engagements[0].State != 1 || !strings.Contains(string(a.State), `"p":1`) {
		t.Fatalf("answer %+v, state %s", a, a.State)
	}
	if n := eligibility(); n != 1 {
		t.Fatalf("%d assessments stored, want 1", n)
	}
	// Sent again (its answer lost): the same answer, nothing stored again.
	if again := post("shop", first); again.Duplicates != 1 || len(again.Engagements) != 1 || eligibility() != 1 {
		t.Fatalf("batch sent again: %+v, %d assessments stored", again, eligibility())
	}
	// The next page, with the state sent back: the visit's second page.
	withState := func(body []byte, state string) []byte {
		return []byte(strings.Replace(string(body), `"events"`, `"state":`+state+`,"events"`, 1))
	}
	if b := post("shop", withState(batch(pageView("a2", now+1000)), string(a.State))); !strings.Contains(string(b.State), `"p":2`) || eligibility() != 2 {
		t.Fatalf("next page: state %s, %d assessments stored", b.State, eligibility())
	}
	// A state the server did not sign as it is, or signed for another
	// visitor, counts for nothing: the visit starts over at its first page.
	for name, body := range map[string][]byte{
		"changed":           withState(batch(pageView("a3", now+2000)), strings.Replace(string(a.State), `"p":1`, `"p":7`, 1)),
		"unsigned":          withState(batch(pageView("a4", now+3000)), `{"v":"AjvT6hLKTEi3AXgGnYu_mQ","p":7}`),
		"another visitor's": []byte(strings.Replace(string(withState(batch(pageView("a5", now+4000)), string(a.State))), "pKytlMTwSPCwpJS-RQqtlQ", "someoneElse", 1)),
	} {
		if b := post("shop", body); !strings.Contains(string(b.State), `"p":1,`) {
			t.Errorf("%s state: answered %s, want the state of a first page", name, b.State)
		}
	}
	if o := post("other", batch(pageView("o1", now))); o.Engagements != nil || o.State != nil {
		t.Fatalf("account without campaigns: %+v %s", o, o.State)
	}
}
