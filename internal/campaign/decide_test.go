package campaign

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/websession"
)

// goalsOf returns the GOAL_ACHIEVED records of the decisions.
func goalsOf(t *testing.T, ds []Decision) []websession.GoalEvent {
	t.Helper()
	var out []websession.GoalEvent
	for _, d := range ds {
		for _, r := range d.Records {
			if r.EventName == websession.EventGoalAchieved {
				var g websession.GoalEvent
				if err := json.Unmarshal(r.Data, &g); err != nil {
					t.Fatal(err)
				}
				out = append(out, g)
			}
		}
	}
	return out
}

func TestGoals(t *testing.T) {
	en := newEnricher(t)
	home := []event.Event{pv(ms0, "https://shop.example/", "home")}
	click := []event.Event{ev(ms0+5, "LP_OFFERS", "OFFER_CLICK", `{"campaignId":1,"engagementId":"2","confKey":"1_2_1"}`)}
	tests := []struct {
		goal    Goal
		batches [][]event.Event
		want    string // the metadata's JSON, "" for no goal
	}{
		{Goal{Type: "url", URL: &Rule{Match: "prefix", Values: []string{"https://shop.example/thanks"}}},
			[][]event.Event{home, {pv(ms0+1, "https://shop.example/thanks?o=1")}},
			`{"kind":"UrlGoalMetadata","url":"https://shop.example/thanks?o=1"}`},
		{Goal{Type: "url", URL: &Rule{Values: []string{"/thanks"}}}, [][]event.Event{home, home}, ""},
		{Goal{Type: "purchase"},
			[][]event.Event{home, {sde(ms0+1, `{"type":"purchase","total":"11.7","orderId":"DEMO-1","cart":{"numItems":1,"products":[{"product":{"name":"tv","price":11.7},"quantity":1}]}}`)}},
			`{"kind":"PurchaseMetadata","total":11.7,"orderId":"DEMO-1","cart":{"numItems":1,"products":[{"product":{"name":"tv","price":11.7},"quantity":1}]}}`},
		{Goal{Type: "reduceAbandonment", Pages: 3}, [][]event.Event{home, home, home}, `{"kind":"ReduceAbandonmentGoalMetadata","numberOfPages":3}`},
		{Goal{Type: "reduceAbandonment", Pages: 4}, [][]event.Event{home, home}, ""}, // 3 pages with the one sent again
		{Goal{Type: "lead"}, [][]event.Event{home, {sde(ms0+1, `{"type":"lead","lead":{"topic":"loan","value":"1000","leadId":"L1"}}`)}},
			`{"kind":"LeadMetaData","total":1000,"topic":"loan","leadId":"L1"}`},
		{Goal{Type: "serviceActivity"}, [][]event.Event{home, {sde(ms0+1, `{"type":"service","service":{"topic":"repair","status":2,"category":"tv","serviceId":"S1"}}`)}},
			`{"kind":"ServiceActivityMetaData","topic":"repair","status":2,"category":"tv","serviceId":"S1"}`},
		{Goal{Type: "increaseInteraction"}, [][]event.Event{home, click},
			`{"kind":"IncreaseInteractionGoalMetadata","engagement":{"id":2,"channel":"1","type":"3","visitorBehaviors":[{"id":5,"revision":1}],"skillName":"sales","availabilityPolicy":"0","interactionType":1},"campaign":{"id":1}}`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s", tt.goal.Type, tt.want), func(t *testing.T) {
			d := oneRule(Rule{Kind: "pagesViewed", Min: f(1)})
			g := tt.goal
			g.ID, g.Revision, g.Name = 3, 7, "goal"
			d.Goals = []Goal{g}
			e := mustCompile(t, d)
			batches := append(tt.batches, tt.batches[len(tt.batches)-1]) // sent again: the goal counts once
			goals := goalsOf(t, visit(t, en, e, "visitor-1", false, batches...))
			if tt.want == "" {
				if len(goals) != 0 {
					t.Fatalf("goals %+v, want none", goals)
				}
				return
			}
			if len(goals) != 1 {
				t.Fatalf("%d goals, want 1: %+v", len(goals), goals)
			}
			meta, _ := json.Marshal(goals[0].Metadata)
			if g := goals[0]; g.Goal != 3 || g.Revision != 7 || g.Type != goalTypes[tt.goal.Type].code || g.ID == "" || string(meta) != tt.want {
				t.Errorf("goal %+v, metadata %s; want %s", g, meta, tt.want)
			}
		})
	}
}

// TestDecisions checks priorities, zones, frequency caps, availability and
// control groups.
func TestDecisions(t *testing.T) {
	en := newEnricher(t)
	eng := func(id, zone int64, availability string) Engagement {
		return Engagement{ID: id, Name: "e", Type: 2, Zone: zone, Interaction: "chat", SkillName: "sales", Availability: availability,
			FrequencyCap: 1, Content: Content{Title: "t", Button: "b"}}
	}
	defs := func() *Definitions {
		return &Definitions{
			Availability: Availability{"sales": "busy"},
			Goals:        []Goal{{ID: 9, Name: "g", Type: "purchase"}},
			Campaigns: []Campaign{
				{ID: 1, Name: "low", Status: "active", Priority: 1, GoalID: 9, Engagements: []Engagement{eng(11, 1, "always"), eng(12, 2, "always")}},
				{ID: 2, Name: "high", Status: "active", Priority: 5, GoalID: 9, Engagements: []Engagement{eng(21, 1, "always"), eng(22, 3, "online")}},
				{ID: 3, Name: "off", Status: "inactive", Priority: 9, GoalID: 9, Engagements: []Engagement{eng(31, 4, "always")}},
				{ID: 4, Name: "over", Status: "active", Priority: 9, GoalID: 9, EndTime: ms0, Engagements: []Engagement{eng(41, 5, "always")}},
			},
		}
	}
	shown := func(d Decision) string {
		var s []string
		for _, o := range d.Offers {
			s = append(s, fmt.Sprintf("%d@%d/%d", o.EngagementID, o.Zone, o.State))
		}
		return strings.Join(s, " ")
	}
	home := []event.Event{pv(ms0, "https://shop.example/")}
	e := mustCompile(t, defs())
	ds := visit(t, en, e, "visitor-1", false, home)
	if got := shown(ds[0]); got != "21@1/4 12@2/4" {
		t.Errorf("shown %q, want the high campaign's zone 1 then the low one's zone 2, agents busy (4)", got)
	}
	// Displayed once each: the frequency cap of 1 leaves nothing.
	display := []event.Event{pv(ms0+1, "https://shop.example/")}
	for _, id := range []int{21, 12} {
		display = append(display, ev(ms0+1, "LP_OFFERS", "OFFER_DISPLAY", fmt.Sprintf(`{"campaignId":1,"engagementId":%d}`, id)))
	}
	ds = visit(t, en, e, "visitor-1", false, home, display)
	if got := shown(ds[1]); got != "11@1/4" {
		t.Errorf("after displays: shown %q, want 11@1/4", got)
	}

	// Agents online: the online-only engagement shows too.
	d := defs()
	d.Availability["sales"] = "online"
	ds = visit(t, en, mustCompile(t, d), "visitor-1", false, home)
	if got := shown(ds[0]); got != "21@1/1 22@3/1 12@2/1" {
		t.Errorf("agents online: shown %q", got)
	}

	// A content engagement with an online-only policy shows whatever the
	// agents' state, which it still reports: busy (4), or offline (2) when
	// it has no skill. A sticky engagement's taglet is the overlay's.
	for _, c := range []struct {
		skill string
		want  string
	}{{"sales", "22@3/4"}, {"", "22@3/2"}} {
		d = defs()
		content := &d.Campaigns[1].Engagements[1]
		content.Interaction, content.SkillName, content.Type = "content", c.skill, 6
		ds = visit(t, en, mustCompile(t, d), "visitor-1", false, home)
		if got := shown(ds[0]); !strings.Contains(got, c.want) {
			t.Errorf("content engagement of skill %q: shown %q, want %s among them", c.skill, got, c.want)
		}
		for _, o := range ds[0].Offers {
			if o.EngagementID == 22 && o.TglName != "overlay" {
				t.Errorf("sticky engagement: tglName %q, want overlay", o.TglName)
			}
		}
	}

	// Control groups: stable per visitor; CONTROL sees nothing but is
	// recorded eligible.
	d = defs()
	d.Settings.SiteControlGroup = 50
	e = mustCompile(t, d)
	counts := map[string]int{}
	for i := range 1000 {
		visitor := fmt.Sprintf("visitor-%d", i)
		first := visit(t, en, e, visitor, false, home)[0]
		var rec websession.EligibilityEvent
		if err := json.Unmarshal(first.Records[0].Data, &rec); err != nil {
			t.Fatal(err)
		}
		counts[rec.SiteControlGroup]++
		if (rec.SiteControlGroup == "CONTROL") != (len(first.Offers) == 0) {
			t.Fatalf("%s: group %s, offers %d", visitor, rec.SiteControlGroup, len(first.Offers))
		}
		again := visit(t, en, e, visitor, true, home)[0]
		json.Unmarshal(again.Records[0].Data, &rec)
		if rec.SiteControlGroup != map[bool]string{true: "CONTROL", false: "TEST"}[len(first.Offers) == 0] {
			t.Fatalf("%s: group changed in a later visit", visitor)
		}
	}
	if counts["CONTROL"] < 430 || counts["CONTROL"] > 570 {
		t.Errorf("site control group of 50%%: %v", counts)
	}
	d = defs()
	d.Campaigns[1].ControlGroup = 100
	ds = visit(t, en, mustCompile(t, d), "visitor-1", false, home)
	var rec websession.EligibilityEvent
	json.Unmarshal(ds[0].Records[0].Data, &rec)
	if got := shown(ds[0]); got != "11@1/4 12@2/4" || rec.Campaigns[0].ControlGroup != "CONTROL" || rec.Campaigns[1].ControlGroup != "NA" {
		t.Errorf("campaign control group: shown %q, eligibility %+v", got, rec.Campaigns)
	}
}

// TestRecordsInDocument writes a visit's decisions as web-session records.
func TestRecordsInDocument(t *testing.T) {
	en := newEnricher(t)
	d := oneRule(Rule{Kind: "pagesViewed", Min: f(1)})
	d.Profiles = []Profile{{ID: 4, Revision: 2, Name: "p", Rules: []Rule{{Kind: "deviceFamily", Values: []string{"MOBILE"}}}}}
	d.Campaigns[0].ProfileIDs = []int64{4}
	e := mustCompile(t, d)
	buy := []event.Event{sde(ms0+2, `{"type":"purchase","total":11.7,"orderId":"o1"}`)}
	ds := visit(t, en, e, "visitor-1", false, []event.Event{pv(ms0, "https://shop.example/")}, buy)
	v := websession.Visit{AccountID: "a", VisitorID: "visitor-1", VisitID: "v1"}
	v.Events = append(v.Events, websession.Event{Time: ms0, App: "LP_MONITORING", Name: "PAGE_VIEW", Data: []byte(`{"url":"https://shop.example/"}`)})
	for _, dec := range ds {
		for _, r := range dec.Records {
			v.Events = append(v.Events, websession.Event{Time: r.Time, App: websession.AppCampaigns, Name: r.EventName, Data: r.Data})
		}
	}
	v.Events = append(v.Events, websession.Event{Time: ms0 + 3, App: "LP_OFFERS", Name: "OFFER_CLICK", Data: []byte(`{"campaignId":1,"engagementId":2,"state":1,"contextId":"c1"}`)})
	doc := string(websession.AppendDocument(nil, &v, en))
	for _, want := range []string{
		`"visitorProfiles":{"array":[{"id":{"long":4},"revision":{"long":2}}]}`,
		`"goal":{"com.liveperson.dataaccess.Goal":{"id":{"long":3},"type":{"int":0},"indicatorType":{"int":1}}}`,
		`"controlGroupType":{"com.liveperson.dataaccess.ControlGroupEnum":"NA"}`,
		`"campaignGoalId":{"long":3}`,
		`"com.liveperson.dataaccess.PurchaseMetadata":{"total":{"double":11.7},"orderId":{"string":"o1"}`,
		`"impressionType":{"string":"Accept"}`,
		`"skillName":{"string":"sales"}`,
		`"siteControlGroup":{"string":"NA"}`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %s:\n%s", want, doc)
		}
	}
}

// TestLivePresence checks that the connected agents' state of a skill
// decides an engagement's state and whether it shows, unless the
// definitions' availability sets the skill (a manual override).
func TestLivePresence(t *testing.T) {
	en := newEnricher(t)
	tests := []struct {
		name     string
		manual   string // the definitions' availability of the skill; "" not set
		presence string // what the connected agents make it; "" no presence at all
		want     int    // the offer's state; 0: no offer
	}{
		{"no presence, no override", "", "", 0},
		{"agents online", "", "online", 1},
		{"agents busy", "", "busy", 0},
		{"no agent", "", "offline", 0},
		{"override online, no agent", "online", "offline", 1},
		{"override offline, agents online", "offline", "online", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := oneRule(Rule{Kind: "pagesViewed", Min: f(1)})
			d.Availability = nil
			if tt.manual != "" {
				d.Availability = Availability{"sales": tt.manual}
			}
			e := mustCompile(t, d)
			r := &Request{VisitorID: "visitor-1", VisitID: "v1", Events: []event.Event{pv(ms0, "https://shop.example/", "home")},
				IP: visitorIP, UserAgent: visitorUA, Now: time.UnixMilli(ms0)}
			if tt.presence != "" {
				r.Presence = func(skill string) string {
					if skill != "sales" {
						t.Errorf("presence asked for skill %q", skill)
					}
					return tt.presence
				}
			}
			dec := e.Decide(r, en)
			got := 0
			if len(dec.Offers) == 1 {
				got = dec.Offers[0].State
			}
			if got != tt.want {
				t.Errorf("offer state %d, want %d (offers %+v)", got, tt.want, dec.Offers)
			}
		})
	}
}
