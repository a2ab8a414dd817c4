package campaign

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/websession"
)

// Engine decides, from a visit's facts, which engagements the visitor
// sees: compiled from an account's definitions, immutable, safe for
// concurrent use.
type Engine struct {
	siteControl int
	campaigns   []compiledCampaign // active ones, highest priority first
	byID        map[int64]*compiledCampaign
	profiles    []compiledRules // campaigns and engagements refer to them by index
	behaviors   []compiledRules
	memo        sync.Pool // *memo
}

type compiledCampaign struct {
	c           *Campaign
	goal        *Goal
	goalType    int32
	goalURL     *compiledRule // a url goal's
	salt        string        // its control group's hash salt: its ID
	profiles    []int         // none: every visitor
	engagements []compiledEngagement
	ref         websession.CampaignRef
	// recordHead and recordGoal are the JSON of its eligibility record (a
	// websession.CampaignEligible) before its engagements and from its goal
	// to its control group's value.
	recordHead, recordGoal []byte
}

type compiledEngagement struct {
	e          *Engagement
	id         string // e.ID in decimal: State.Shown's key
	behaviors  []int
	confKey    string
	ref        websession.EngagementRef
	recordJSON []byte // ref's JSON
	state      int    // the agents' state the events carry
	available  bool   // whether the availability policy lets it show
	// live is set when the agents' state is not set in the definitions'
	// availability: it is then the Request's Presence of the skill.
	live bool
}

type compiledRules struct {
	revision int64
	rules    []compiledRule
}

type compiledRule struct {
	Rule
	lower []string         // Values in lower case, for matching
	re    []*regexp.Regexp // for Match regex
}

// Empty reports whether the engine has no active campaign: nothing to
// decide or record.
func (e *Engine) Empty() bool { return e == nil || len(e.campaigns) == 0 }

// Compile compiles the decisions of d, which must be valid (see
// Definitions.Validate).
func Compile(d *Definitions) (*Engine, error) {
	e := &Engine{siteControl: d.Settings.SiteControlGroup}
	profileIx, err := compileSets(d.Profiles, &e.profiles)
	if err != nil {
		return nil, err
	}
	behaviorIx, err := compileSets(d.Behaviors, &e.behaviors)
	if err != nil {
		return nil, err
	}
	goals := map[int64]*Goal{}
	for i := range d.Goals {
		goals[d.Goals[i].ID] = &d.Goals[i]
	}
	for i := range d.Campaigns {
		c := &d.Campaigns[i]
		if c.Status != "active" {
			continue
		}
		cc := compiledCampaign{c: c, goal: goals[c.GoalID], salt: strconv.FormatInt(c.ID, 10), ref: websession.CampaignRef{ID: c.ID}}
		if cc.goal == nil {
			return nil, fmt.Errorf("campaign %d: goal %d missing", c.ID, c.GoalID)
		}
		if cc.profiles, cc.ref.Profiles, err = resolve(c.ProfileIDs, profileIx, e.profiles); err != nil {
			return nil, fmt.Errorf("campaign %d: visitor profile %w", c.ID, err)
		}
		for j := range c.Engagements {
			en := &c.Engagements[j]
			ce := compiledEngagement{e: en, id: strconv.FormatInt(en.ID, 10), confKey: ConfKey(c.ID, en), ref: engagementRef(en)}
			_, set := d.Availability[en.SkillName]
			ce.live = !set && en.SkillName != ""
			ce.state, ce.available = agentState(d.Availability[en.SkillName], en)
			if ce.behaviors, ce.ref.Behaviors, err = resolve(en.BehaviorIDs, behaviorIx, e.behaviors); err != nil {
				return nil, fmt.Errorf("engagement %d: visitor behavior %w", en.ID, err)
			}
			ce.recordJSON, _ = json.Marshal(ce.ref)
			cc.engagements = append(cc.engagements, ce)
		}
		gt := goalTypes[cc.goal.Type]
		cc.goalType = gt.code
		campaignJSON, _ := json.Marshal(cc.ref)
		goalJSON, _ := json.Marshal(websession.GoalRef{ID: cc.goal.ID, Type: gt.code, IndicatorType: gt.indicator})
		cc.recordHead = append(append([]byte(`{"campaign":`), campaignJSON...), `,"engagements":[`...)
		cc.recordGoal = append(append([]byte(`],"goal":`), goalJSON...), `,"controlGroupType":"`...)
		if cc.goal.URL != nil {
			u, err := compileRule(*cc.goal.URL)
			if err != nil {
				return nil, fmt.Errorf("goal %d: %w", cc.goal.ID, err)
			}
			cc.goalURL = &u
		}
		e.campaigns = append(e.campaigns, cc)
	}
	slices.SortStableFunc(e.campaigns, func(a, b compiledCampaign) int {
		return cmp.Or(cmp.Compare(b.c.Priority, a.c.Priority), cmp.Compare(a.c.ID, b.c.ID))
	})
	e.byID = make(map[int64]*compiledCampaign, len(e.campaigns))
	for i := range e.campaigns {
		e.byID[e.campaigns[i].c.ID] = &e.campaigns[i]
	}
	e.memo.New = func() any {
		return &memo{profiles: make([]int8, len(e.profiles)), behaviors: make([]int8, len(e.behaviors)), delays: make([]int64, len(e.behaviors))}
	}
	return e, nil
}

// resolve returns the indexes in sets of the rule sets ids (index maps
// IDs to them) and their references in records.
func resolve(ids []int64, index map[int64]int, sets []compiledRules) ([]int, []websession.IDRevs, error) {
	var ixs []int
	var refs []websession.IDRevs
	for _, id := range ids {
		ix, ok := index[id]
		if !ok {
			return nil, nil, fmt.Errorf("%d missing", id)
		}
		ixs = append(ixs, ix)
		refs = append(refs, websession.IDRevs{ID: id, Revision: sets[ix].revision})
	}
	return ixs, refs, nil
}

// compileSets compiles the rule sets to *out and returns the index of each
// in it by ID.
func compileSets(sets []RuleSet, out *[]compiledRules) (map[int64]int, error) {
	index := make(map[int64]int, len(sets))
	for i := range sets {
		rs := &sets[i]
		cr := compiledRules{revision: rs.Revision}
		for _, r := range rs.Rules {
			c, err := compileRule(r)
			if err != nil {
				return nil, fmt.Errorf("rules of %d: %w", rs.ID, err)
			}
			cr.rules = append(cr.rules, c)
		}
		index[rs.ID] = len(*out)
		*out = append(*out, cr)
	}
	return index, nil
}

// Record codes of an engagement's interaction type and availability
// policy (the Data Access API leaves their values out).
var (
	interactionCodes  = map[string]int32{"content": 0, "chat": 1, "messaging": 5}
	availabilityCodes = map[string]string{"online": "0", "always": "1", "offline": "2"}
)

func engagementRef(en *Engagement) websession.EngagementRef {
	r := websession.EngagementRef{ID: en.ID, Channel: cmp.Or(en.Channel, "1"), Type: strconv.Itoa(en.Type),
		SkillName: en.SkillName, AvailabilityPolicy: availabilityCodes[en.Availability]}
	code := interactionCodes[en.Interaction]
	r.InteractionType = &code
	if en.SkillID != 0 {
		id := en.SkillID
		r.SkillID = &id
	}
	return r
}

func compileRule(r Rule) (compiledRule, error) {
	c := compiledRule{Rule: r}
	for _, v := range r.Values {
		c.lower = append(c.lower, strings.ToLower(v))
		if r.Match == "regex" {
			re, err := regexp.Compile(v)
			if err != nil {
				return c, fmt.Errorf("%s: %w", r.Kind, err)
			}
			c.re = append(c.re, re)
		}
	}
	return c, nil
}

// Request is what a decision reads: a batch of a visit, with the state the
// tag sent back and what the server knows of the request.
type Request struct {
	VisitorID, VisitID string
	State              State // as the tag sent it back (ReadState)
	Events             []event.Event
	IP, UserAgent      string
	Now                time.Time
	// Presence returns the agents' state of a skill as the connected
	// agents make it: "online", "busy" or "offline". It decides for the
	// skills the definitions' Availability does not set (that is a manual
	// override); nil takes them for offline.
	Presence func(skill string) string
}

// Enricher looks up what a request's IP address, User-Agent and referrer
// imply (package enrich).
type Enricher interface {
	Geo(ip string) enrich.Geo
	Device(userAgent string) enrich.Device
	Search(referrer string) enrich.Search
}

// Offer is an engagement to show, as the tag renders it.
type Offer struct {
	CampaignID    int64  `json:"campaignId"`
	EngagementID  int64  `json:"engagementId"`
	Revision      int64  `json:"engagementRevision"`
	Name          string `json:"engagementName"`
	Type          int    `json:"engagementType"`
	ConfKey       string `json:"confKey"`
	TglName       string `json:"tglName"`
	Zone          int64  `json:"zoneId"`
	State         int    `json:"state"` // agents of its skill: 1 online, 2 offline, 4 busy
	PageContextID string `json:"pageContextId"`
	Duration      int    `json:"duration,omitempty"`
	Delay         int64  `json:"delay,omitempty"` // ms the tag waits before showing it (time rules)
	Title         string `json:"title"`
	Text          string `json:"text,omitempty"`
	Button        string `json:"button"`
	ElementID     string `json:"elementId,omitempty"`
	Background    string `json:"background,omitempty"`
	Color         string `json:"color,omitempty"`
	ButtonColor   string `json:"buttonColor,omitempty"`
	// Interaction is the engagement's interactionType: a click on a chat
	// or messaging one opens the chat window.
	Interaction string `json:"interactionType"`
}

// Record is an event the decision records in the visit (appName
// websession.AppCampaigns).
type Record struct {
	EventName string
	Time      int64 // epoch ms
	Data      []byte
}

// Decision is the outcome of a batch.
type Decision struct {
	State   State
	Offers  []Offer  // by zone; none when nothing shows
	Records []Record // eligibility assessments and achieved goals
}

// memo caches, for one decision, the outcome of each profile and behavior:
// 0 not evaluated, 1 true, -1 false; and the delay of each behavior.
type memo struct {
	profiles, behaviors []int8
	delays              []int64
	record              []byte  // the eligibility record being written
	zones               []int64 // the zones taken
}

// Decide folds the request's events into its state, decides what the
// visitor sees on the current page when the batch has a page view or an
// attribute, records the assessment when campaigns are eligible, and
// records the goals the batch reaches.
func (e *Engine) Decide(r *Request, en Enricher) Decision {
	d := Decision{State: r.State}
	st := &d.State
	facts := st.fold(r.VisitID, r.Events)
	now := r.Now.UnixMilli()
	if facts.decide && st.Pages > 0 {
		v := visitFacts{st: st, now: now, clientNow: st.PageAt, geo: en.Geo(r.IP), device: en.Device(r.UserAgent), presence: r.Presence}
		for i := range r.Events {
			v.clientNow = max(v.clientNow, r.Events[i].Time)
		}
		if st.Referrer != "" {
			v.search = en.Search(st.Referrer)
		}
		v.url, v.referrer, v.keywords = strings.ToLower(st.URL), strings.ToLower(st.Referrer), strings.ToLower(v.search.Keywords)
		e.decide(r.VisitorID, &v, &d)
	}
	e.reachGoals(&facts, st, &d)
	return d
}

// controlGroup returns CONTROL for pct percent of visitors, by a hash of
// the visitor and salt, else TEST; NA when pct is 0.
func controlGroup(visitorID, salt string, pct int) string {
	if pct <= 0 {
		return "NA"
	}
	h := fnv.New64a()
	h.Write([]byte(visitorID))
	h.Write([]byte{0})
	h.Write([]byte(salt))
	if h.Sum64()%100 < uint64(pct) {
		return "CONTROL"
	}
	return "TEST"
}

// agentState returns the agents' state of the engagement's skill given
// its availability ("online", "busy", "offline" or ""), 1
// online, 2 offline (also when it has no skill), 4 busy, and whether its
// availability policy lets it show. A content engagement reports the state
// too, as the tag's events carry it, but shows whatever it is.
func agentState(availability string, en *Engagement) (int, bool) {
	state := 2
	switch availability {
	case "online":
		state = 1
	case "busy":
		state = 4
	}
	switch {
	case en.Interaction == "content":
		return state, true
	case en.Availability == "online":
		return state, state == 1
	case en.Availability == "offline":
		return state, state != 1
	}
	return state, true
}

func (e *Engine) decide(visitorID string, v *visitFacts, d *Decision) {
	m := e.memo.Get().(*memo)
	defer func() {
		clear(m.profiles)
		clear(m.behaviors)
		e.memo.Put(m)
	}()
	site := controlGroup(visitorID, "site", e.siteControl)
	record := append(m.record[:0], `{"siteControlGroup":"`+site+`","campaigns":[`...)
	eligible := 0
	zones := m.zones[:0] // taken
	for i := range e.campaigns {
		cc := &e.campaigns[i]
		if c := cc.c; c.StartTime != 0 && v.now < c.StartTime || c.EndTime != 0 && v.now >= c.EndTime || !e.targeted(cc, v, m) {
			continue
		}
		group := controlGroup(visitorID, cc.salt, cc.c.ControlGroup)
		engs := 0
		for j := range cc.engagements {
			ce := &cc.engagements[j]
			en := ce.e
			state, available := ce.state, ce.available
			if ce.live && v.presence != nil {
				state, available = agentState(v.presence(en.SkillName), en)
			}
			if !available || en.FrequencyCap > 0 && v.st.Shown[ce.id] >= en.FrequencyCap {
				continue
			}
			delay, ok := e.behaves(ce, v, m)
			if !ok {
				continue
			}
			if engs == 0 {
				if eligible > 0 {
					record = append(record, ',')
				}
				record = append(record, cc.recordHead...)
			} else {
				record = append(record, ',')
			}
			record = append(record, ce.recordJSON...)
			engs++
			if site == "CONTROL" || group == "CONTROL" || slices.Contains(zones, en.Zone) {
				continue
			}
			zones = append(zones, en.Zone)
			d.Offers = append(d.Offers, Offer{
				CampaignID: cc.c.ID, EngagementID: en.ID, Revision: en.Revision, Name: en.Name, Type: en.Type,
				ConfKey: ce.confKey, TglName: displayTypes[en.Type], Zone: en.Zone, State: state,
				PageContextID: v.st.PageContext, Duration: en.Duration, Delay: delay,
				Title: en.Content.Title, Text: en.Content.Text, Button: en.Content.Button, ElementID: en.Content.ElementID,
				Background: en.Content.Background, Color: en.Content.Color, ButtonColor: en.Content.ButtonColor,
				Interaction: en.Interaction,
			})
		}
		if engs == 0 {
			continue
		}
		record = append(append(append(record, cc.recordGoal...), group...), `"}`...)
		eligible++
		if !slices.Contains(v.st.Campaigns, cc.c.ID) && len(v.st.Campaigns) < maxStateIDs {
			v.st.Campaigns = append(v.st.Campaigns, cc.c.ID)
		}
	}
	m.record, m.zones = record, zones
	if eligible == 0 {
		return
	}
	// The assessment is timed on the client's clock, as the visit's events
	// it sits among (a document orders them by time).
	data := append(slices.Clip(record), "]}"...) // a copy: the memo's buffer is reused
	d.Records = append(d.Records, Record{EventName: websession.EventEligibility, Time: v.clientNow, Data: data})
}

// targeted reports whether the visitor is in one of the campaign's
// profiles (or it has none).
func (e *Engine) targeted(cc *compiledCampaign, v *visitFacts, m *memo) bool {
	if len(cc.profiles) == 0 {
		return true
	}
	for _, ix := range cc.profiles {
		if m.profiles[ix] == 0 {
			m.profiles[ix] = -1
			if _, ok := v.all(e.profiles[ix].rules); ok {
				m.profiles[ix] = 1
			}
		}
		if m.profiles[ix] == 1 {
			return true
		}
	}
	return false
}

// behaves reports whether the visit meets all the engagement's behaviors,
// and in how many ms at the latest (time rules).
func (e *Engine) behaves(ce *compiledEngagement, v *visitFacts, m *memo) (int64, bool) {
	var delay int64
	for _, ix := range ce.behaviors {
		if m.behaviors[ix] == 0 {
			m.behaviors[ix] = -1
			if wait, ok := v.all(e.behaviors[ix].rules); ok {
				m.behaviors[ix], m.delays[ix] = 1, wait
			}
		}
		if m.behaviors[ix] != 1 {
			return 0, false
		}
		delay = max(delay, m.delays[ix])
	}
	return delay, true
}

// reachGoals records the goals of the visit's campaigns that the batch
// reaches, once per goal and visit.
func (e *Engine) reachGoals(f *batchFacts, st *State, d *Decision) {
	for _, cid := range st.Campaigns {
		cc := e.byID[cid]
		if cc == nil || slices.Contains(st.Goals, cc.goal.ID) {
			continue
		}
		at, meta, ok := cc.reached(f, st)
		if !ok {
			continue
		}
		st.Goals = append(st.Goals, cc.goal.ID)
		data, _ := json.Marshal(websession.GoalEvent{ID: uuid.NewString(), Goal: cc.goal.ID, Revision: cc.goal.Revision, Type: cc.goalType, Metadata: meta})
		d.Records = append(d.Records, Record{EventName: websession.EventGoalAchieved, Time: at, Data: data})
	}
}

// reached reports whether the batch (with the state) reaches the
// campaign's goal, when, and with which metadata.
func (cc *compiledCampaign) reached(f *batchFacts, st *State) (int64, *websession.GoalMetaData, bool) {
	switch cc.goal.Type {
	case "url":
		for _, u := range f.urls {
			if cc.goalURL.text(strings.ToLower(u.v), u.v) {
				return u.at, &websession.GoalMetaData{Kind: "UrlGoalMetadata", URL: u.v}, true
			}
		}
	case "purchase":
		if p := f.purchase; p != nil {
			return p.at, &websession.GoalMetaData{Kind: "PurchaseMetadata", OrderID: string(p.v.OrderID), Cart: p.v.Cart, Total: p.v.Total.ptr()}, true
		}
	case "reduceAbandonment":
		if st.Pages >= cc.goal.Pages {
			n := int32(min(st.Pages, 1<<30))
			return st.PageAt, &websession.GoalMetaData{Kind: "ReduceAbandonmentGoalMetadata", Pages: &n}, true
		}
	case "lead":
		if l := f.lead; l != nil {
			return l.at, &websession.GoalMetaData{Kind: "LeadMetaData", Topic: string(l.v.Topic), LeadID: string(l.v.LeadID), Total: l.v.Value.ptr()}, true
		}
	case "serviceActivity":
		if s := f.service; s != nil {
			m := &websession.GoalMetaData{Kind: "ServiceActivityMetaData", Topic: string(s.v.Topic), Category: string(s.v.Category), ServiceID: string(s.v.ServiceID)}
			if s.v.Status.Valid {
				n := int32(s.v.Status.V)
				m.Status = &n
			}
			return s.at, m, true
		}
	case "increaseInteraction":
		for _, c := range f.clicks {
			if string(c.v.Campaign) != cc.salt {
				continue
			}
			for j := range cc.engagements {
				if ce := &cc.engagements[j]; ce.id == string(c.v.Engagement) {
					eng, camp := ce.ref, cc.ref
					return c.at, &websession.GoalMetaData{Kind: "IncreaseInteractionGoalMetadata", Engagement: &eng, Campaign: &camp}, true
				}
			}
		}
	}
	return 0, nil, false
}
