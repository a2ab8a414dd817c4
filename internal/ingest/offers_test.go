package ingest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/websession"
)

// oneCampaign returns the engine of an account with one campaign (ID 2,
// its goal a purchase) of one chat engagement (ID 3, revision 4) in zone 1,
// shown when agents are online, which they are.
func oneCampaign(t *testing.T) *campaign.Engine {
	t.Helper()
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
	return engine
}

// TestCampaignDecisions checks what the collector does with an account's
// campaigns: the answer to a page view lists the engagement to show and
// the visit's signed state; the assessment is stored beside the batch,
// once even when the batch is sent again; the state sent back carries the
// visit on, unless it was changed or is another visitor's; an account
// without campaigns gets neither.
func TestCampaignDecisions(t *testing.T) {
	e := newEnvWith(t, DefaultConfig(), engines{"shop": oneCampaign(t)})

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

// TestCampaignStateKeptAcrossBadEvents sends a visit's second page with
// the state the first answered and events whose values are out of bounds
// (a number beyond a float64, a negative count, a nesting 10,000 deep):
// they are rejected, and the state answered carries the visit on: its
// pages, its cart, the engagement shown and the campaign it is eligible for.
func TestCampaignStateKeptAcrossBadEvents(t *testing.T) {
	e := newEnvWith(t, DefaultConfig(), engines{"shop": oneCampaign(t)})
	now := time.Now().UnixMilli()
	sde := func(id string, at int64, data string) string {
		return fmt.Sprintf(`{"id":%q,"time":%d,"appName":"lp_sdes","eventName":"VAR_ADDED","data":%s}`, id, at, data)
	}
	post := func(body []byte) (Answer, campaign.State) {
		t.Helper()
		code, _, b := e.post("shop", body, nil)
		var a struct {
			Answer
			State json.RawMessage `json:"state"`
		}
		if code != 200 || json.Unmarshal(b, &a) != nil {
			t.Fatalf("%d %.300s", code, b)
		}
		return a.Answer, campaign.ReadState(a.State)
	}
	_, first := post(batch(pageView("p1", now), sde("c1", now+1, `{"type":"cart","total":50,"numItems":2}`),
		fmt.Sprintf(`{"id":"d1","time":%d,"appName":"LP_OFFERS","eventName":"OFFER_DISPLAY","data":{"campaignId":2,"engagementId":3}}`, now+2)))
	if first.Pages != 1 || first.CartItems != 2 || first.Shown["3"] != 1 {
		t.Fatalf("first page's state %+v", first)
	}
	raw, _ := json.Marshal(first)
	second := []byte(strings.Replace(string(batch(
		pageView("p2", now+10),
		sde("b1", now+11, `{"type":"cart","total":1e309,"numItems":3}`),
		sde("b2", now+12, `{"type":"cart","total":-1e400,"numItems":3}`),
		sde("b3", now+13, `{"type":"cart","total":5,"numItems":-5}`),
		`{"id":"b4","time":`+fmt.Sprint(now+14)+`,"appName":"CHAT","eventName":"my_event","data":{"a":`+strings.Repeat(`[`, 10_000)+strings.Repeat(`]`, 10_000)+`}}`,
	)), `"events"`, `"state":`+string(raw)+`,"events"`, 1))
	a, st := post(second)
	if a.Accepted != 1 || len(a.Rejected) != 4 {
		t.Errorf("answer %+v, want the page view accepted, the rest rejected", a)
	}
	if st.Pages != 2 || st.CartTotal != 50 || st.CartItems != 2 || st.Shown["3"] != 1 || !slices.Equal(st.Campaigns, []int64{2}) {
		t.Errorf("state %+v: want 2 pages, the cart of 2 items for 50, engagement 3 shown once, campaign 2", st)
	}
}

// TestAnswerState checks the answer's "state" member: the signed state, or
// none when it could not be written, so that the tag keeps its own.
func TestAnswerState(t *testing.T) {
	for _, tc := range []struct {
		state string
		want  string
	}{
		{`{"p":1,"sig":"s"}`, `{"accepted":1,"duplicates":0,"rejected":[],"state":{"p":1,"sig":"s"}}` + "\n"},
		{"", `{"accepted":1,"duplicates":0,"rejected":[]}` + "\n"},
	} {
		if got := string(appendResult(nil, 1, 0, nil, &campaign.Decision{}, []byte(tc.state))); got != tc.want {
			t.Errorf("state %q: answer %s, want %s", tc.state, got, tc.want)
		}
	}
}
