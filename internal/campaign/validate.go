package campaign

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// FieldError is a definition that is not valid: Field is its path, like
// "campaigns[2].engagements[0].type".
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Limits of a definition's values.
const (
	MaxNameLen    = 200
	MaxContentLen = 5000 // title, text, button
	MaxValues     = 1000 // values of a rule
	MaxValueLen   = 2000
	MaxRules      = 100
	MaxIDs        = 100 // profiles of a campaign, behaviors of an engagement
	MaxCampaigns  = 5000
	MaxDefs       = 10000 // profiles, behaviors, goals
	MaxEngs       = 50    // engagements of a campaign
)

// displayTypes are the display types and their tglName, the taglet that
// renders them: engagement-events.md shows a slide-out (3) with "slider"
// and a sticky (6) with "overlay".
var displayTypes = map[int]string{0: "peeling", 1: "overlay", 2: "toaster", 3: "slider", 5: "embedded", 6: "overlay"}

// Validate checks every definition and the references between them.
func (d *Definitions) Validate() error {
	switch {
	case d.Settings.SiteControlGroup < 0 || d.Settings.SiteControlGroup > 100:
		return &FieldError{"settings.siteControlGroupPercent", fmt.Sprintf("%d is not between 0 and 100", d.Settings.SiteControlGroup)}
	case len(d.Campaigns) > MaxCampaigns:
		return &FieldError{"campaigns", fmt.Sprintf("%d campaigns, limit %d", len(d.Campaigns), MaxCampaigns)}
	case len(d.Profiles) > MaxDefs:
		return &FieldError{"visitorProfiles", fmt.Sprintf("%d profiles, limit %d", len(d.Profiles), MaxDefs)}
	case len(d.Behaviors) > MaxDefs:
		return &FieldError{"visitorBehaviors", fmt.Sprintf("%d behaviors, limit %d", len(d.Behaviors), MaxDefs)}
	case len(d.Goals) > MaxDefs:
		return &FieldError{"goals", fmt.Sprintf("%d goals, limit %d", len(d.Goals), MaxDefs)}
	}
	if len(d.Availability) > MaxDefs {
		return &FieldError{"availability", fmt.Sprintf("%d skills, limit %d", len(d.Availability), MaxDefs)}
	}
	for skill, state := range d.Availability {
		if skill == "" || len(skill) > MaxNameLen {
			return &FieldError{"availability", fmt.Sprintf("skill name %.40q: 1 to %d bytes", skill, MaxNameLen)}
		}
		if !slices.Contains([]string{"online", "offline", "busy"}, state) {
			return &FieldError{"availability." + skill, fmt.Sprintf("%q is not one of online, offline, busy", state)}
		}
	}
	ids := map[int64]string{} // every ID of the account, and where it is
	claim := func(field string, id int64) error {
		if id <= 0 {
			return &FieldError{field + ".id", fmt.Sprintf("%d is not positive", id)}
		}
		if other, ok := ids[id]; ok {
			return &FieldError{field + ".id", fmt.Sprintf("%d is also the id of %s", id, other)}
		}
		ids[id] = field
		return nil
	}
	ruleSets := func(list string, sets []RuleSet, kinds map[string]operands) (map[int64]bool, error) {
		known := map[int64]bool{}
		for i := range sets {
			rs, field := &sets[i], fmt.Sprintf("%s[%d]", list, i)
			if err := claim(field, rs.ID); err != nil {
				return nil, err
			}
			if err := checkRules(field, rs.Name, rs.Rules, kinds); err != nil {
				return nil, err
			}
			known[rs.ID] = true
		}
		return known, nil
	}
	profiles, err := ruleSets("visitorProfiles", d.Profiles, profileRule)
	if err != nil {
		return err
	}
	behaviors, err := ruleSets("visitorBehaviors", d.Behaviors, behaviorRule)
	if err != nil {
		return err
	}
	goals := map[int64]bool{}
	for i := range d.Goals {
		g, field := &d.Goals[i], fmt.Sprintf("goals[%d]", i)
		if err := claim(field, g.ID); err != nil {
			return err
		}
		if err := g.validate(field); err != nil {
			return err
		}
		goals[g.ID] = true
	}
	for i := range d.Campaigns {
		c, field := &d.Campaigns[i], fmt.Sprintf("campaigns[%d]", i)
		if err := claim(field, c.ID); err != nil {
			return err
		}
		if err := c.validate(field, goals, profiles); err != nil {
			return err
		}
		for j := range c.Engagements {
			e, field := &c.Engagements[j], fmt.Sprintf("%s.engagements[%d]", field, j)
			if err := claim(field, e.ID); err != nil {
				return err
			}
			if err := e.validate(field, behaviors); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkName(field, name string) error {
	if name == "" || len(name) > MaxNameLen {
		return &FieldError{field + ".name", fmt.Sprintf("required, at most %d bytes", MaxNameLen)}
	}
	return nil
}

func (c *Campaign) validate(field string, goals, profiles map[int64]bool) error {
	if err := checkName(field, c.Name); err != nil {
		return err
	}
	switch {
	case c.Status != "active" && c.Status != "inactive":
		return &FieldError{field + ".status", fmt.Sprintf("%q is not one of active, inactive", c.Status)}
	case c.StartTime < 0 || c.EndTime < 0 || c.EndTime != 0 && c.EndTime <= c.StartTime:
		return &FieldError{field + ".endTime", "startTime and endTime must be epoch ms, endTime after startTime (0: unbounded)"}
	case !goals[c.GoalID]:
		return &FieldError{field + ".goalId", fmt.Sprintf("%d is not a goal of the account", c.GoalID)}
	case c.ControlGroup < 0 || c.ControlGroup > 100:
		return &FieldError{field + ".controlGroupPercent", fmt.Sprintf("%d is not between 0 and 100", c.ControlGroup)}
	case len(c.ProfileIDs) > MaxIDs:
		return &FieldError{field + ".visitorProfileIds", fmt.Sprintf("%d profiles, limit %d", len(c.ProfileIDs), MaxIDs)}
	case len(c.Engagements) == 0 || len(c.Engagements) > MaxEngs:
		return &FieldError{field + ".engagements", fmt.Sprintf("%d engagements: 1 to %d", len(c.Engagements), MaxEngs)}
	}
	for k, id := range c.ProfileIDs {
		if !profiles[id] {
			return &FieldError{fmt.Sprintf("%s.visitorProfileIds[%d]", field, k), fmt.Sprintf("%d is not a visitor profile of the account", id)}
		}
	}
	return nil
}

func (e *Engagement) validate(field string, behaviors map[int64]bool) error {
	if err := checkName(field, e.Name); err != nil {
		return err
	}
	ct := &e.Content
	switch {
	case displayTypes[e.Type] == "":
		return &FieldError{field + ".type", fmt.Sprintf("%d is not one of 0,1,2,3,5,6", e.Type)}
	case !slices.Contains([]string{"chat", "messaging", "content"}, e.Interaction):
		return &FieldError{field + ".interactionType", fmt.Sprintf("%q is not one of chat, messaging, content", e.Interaction)}
	case !slices.Contains([]string{"online", "always", "offline"}, e.Availability):
		return &FieldError{field + ".availabilityPolicy", fmt.Sprintf("%q is not one of online, always, offline", e.Availability)}
	case e.Interaction != "content" && e.SkillName == "":
		return &FieldError{field + ".skillName", "required for a chat or messaging engagement: its agents' state decides"}
	case len(e.SkillName) > MaxNameLen || len(e.Channel) > 20:
		return &FieldError{field + ".skillName", fmt.Sprintf("at most %d bytes (channel: 20)", MaxNameLen)}
	case ct.Title == "" || ct.Button == "":
		return &FieldError{field + ".content", "title and button required"}
	case len(ct.Title) > MaxContentLen || len(ct.Text) > MaxContentLen || len(ct.Button) > MaxContentLen:
		return &FieldError{field + ".content", fmt.Sprintf("title, text and button: at most %d bytes each", MaxContentLen)}
	case e.Type == 5 && ct.ElementID == "":
		return &FieldError{field + ".content.elementId", "required for an embedded engagement (type 5)"}
	case len(ct.ElementID) > MaxNameLen:
		return &FieldError{field + ".content.elementId", fmt.Sprintf("at most %d bytes", MaxNameLen)}
	case e.Duration < 0 || e.Duration > 86400:
		return &FieldError{field + ".displayDuration", fmt.Sprintf("%d is not between 0 and 86400 seconds", e.Duration)}
	case e.FrequencyCap < 0:
		return &FieldError{field + ".frequencyCap", fmt.Sprintf("%d is negative", e.FrequencyCap)}
	case e.Zone < 0:
		return &FieldError{field + ".zoneId", fmt.Sprintf("%d is negative", e.Zone)}
	case len(e.BehaviorIDs) > MaxIDs:
		return &FieldError{field + ".visitorBehaviorIds", fmt.Sprintf("%d behaviors, limit %d", len(e.BehaviorIDs), MaxIDs)}
	}
	for _, c := range []struct{ name, v string }{{"background", ct.Background}, {"color", ct.Color}, {"buttonColor", ct.ButtonColor}} {
		if !cssColor(c.v) {
			return &FieldError{field + ".content." + c.name, fmt.Sprintf("%q is not a CSS colour (#rgb, #rrggbb or a name)", c.v)}
		}
	}
	for k, id := range e.BehaviorIDs {
		if !behaviors[id] {
			return &FieldError{fmt.Sprintf("%s.visitorBehaviorIds[%d]", field, k), fmt.Sprintf("%d is not a visitor behavior of the account", id)}
		}
	}
	return nil
}

// cssColor reports whether s is empty, #rgb, #rrggbb or a colour name:
// values the tag puts in a style attribute, where nothing else may go.
func cssColor(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == '#' {
		_, err := strconv.ParseUint(s[1:], 16, 32)
		return err == nil && (len(s) == 4 || len(s) == 7)
	}
	if len(s) > 30 {
		return false
	}
	for _, c := range s {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// goalTypes are the goal types, by name: their campaignGoalType and
// indicatorType in web sessions.
var goalTypes = map[string]struct{ code, indicator int32 }{
	"purchase":            {0, 1},
	"reduceAbandonment":   {1, 2},
	"lead":                {2, 4},
	"serviceActivity":     {3, 5},
	"increaseInteraction": {4, 3},
	"url":                 {5, 0},
}

func (g *Goal) validate(field string) error {
	if err := checkName(field, g.Name); err != nil {
		return err
	}
	if _, ok := goalTypes[g.Type]; !ok {
		return &FieldError{field + ".type", fmt.Sprintf("%q is not one of url, purchase, reduceAbandonment, lead, serviceActivity, increaseInteraction", g.Type)}
	}
	switch {
	case g.Type == "url" && g.URL == nil:
		return &FieldError{field + ".url", "required for a url goal: a rule {match, values}"}
	case g.Type != "url" && g.URL != nil:
		return &FieldError{field + ".url", "only for a url goal"}
	case g.Type == "reduceAbandonment" && (g.Pages < 1 || g.Pages > 1000):
		return &FieldError{field + ".pages", fmt.Sprintf("%d is not between 1 and 1000 (required for a reduceAbandonment goal)", g.Pages)}
	case g.Type != "reduceAbandonment" && g.Pages != 0:
		return &FieldError{field + ".pages", "only for a reduceAbandonment goal"}
	}
	if g.URL != nil {
		r := *g.URL
		r.Kind = "url"
		return r.check(field+".url", behaviorRule)
	}
	return nil
}

// Rule kinds and the operands they take.
type operands int

const (
	opValues  operands = 1 << iota // Values, matched exactly (case-insensitive)
	opText                         // Values, matched by Match
	opRange                        // Min and/or Max
	opOptRng                       // Min and Max optional
	opPages                        // Pages
	opAny                          // Values optional
	opSeconds                      // Min only
)

var profileRule = map[string]operands{
	"customerType": opValues, "customerStatus": opValues,
	"cartTotal": opRange, "cartItems": opRange, "purchased": opOptRng,
	"lead": opAny, "service": opAny, "error": opAny,
	"country": opValues, "city": opValues, "deviceFamily": opValues, "deviceOS": opValues,
	"marketingChannel": opValues, "visitorType": opValues,
}

var behaviorRule = map[string]operands{
	"url": opText, "referrer": opText, "searchKeywords": opText,
	"section": opValues, "pagesViewed": opRange,
	"timeOnSite": opSeconds, "timeOnPage": opSeconds, "abandoningCart": opPages,
}

// enumValues are the values of the rule kinds that have a fixed set.
var enumValues = map[string][]string{
	"deviceFamily":     {"DESKTOP", "TABLET", "MOBILE", "NA"},
	"deviceOS":         {"WINDOWS", "MAC_OS", "LINUX", "IOS", "ANDROID", "NA"},
	"marketingChannel": {"direct", "search", "social", "email", "referral"},
	"visitorType":      {"new", "returning"},
}

func checkRules(field, name string, rules []Rule, kinds map[string]operands) error {
	if err := checkName(field, name); err != nil {
		return err
	}
	if len(rules) == 0 || len(rules) > MaxRules {
		return &FieldError{field + ".rules", fmt.Sprintf("%d rules: 1 to %d", len(rules), MaxRules)}
	}
	for i := range rules {
		if err := rules[i].check(fmt.Sprintf("%s.rules[%d]", field, i), kinds); err != nil {
			return err
		}
	}
	return nil
}

func (r *Rule) check(field string, kinds map[string]operands) error {
	ops, ok := kinds[r.Kind]
	if !ok {
		return &FieldError{field + ".kind", fmt.Sprintf("%q is not one of %s", r.Kind, strings.Join(sortedKeys(kinds), ", "))}
	}
	if len(r.Values) > MaxValues {
		return &FieldError{field + ".values", fmt.Sprintf("%d values, limit %d", len(r.Values), MaxValues)}
	}
	for i, v := range r.Values {
		if v == "" || len(v) > MaxValueLen {
			return &FieldError{fmt.Sprintf("%s.values[%d]", field, i), fmt.Sprintf("must be 1 to %d bytes", MaxValueLen)}
		}
		if allowed := enumValues[r.Kind]; allowed != nil && !slices.Contains(allowed, v) {
			return &FieldError{fmt.Sprintf("%s.values[%d]", field, i), fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))}
		}
		if ops == opText && r.Match == "regex" {
			if _, err := regexp.Compile(v); err != nil {
				return &FieldError{fmt.Sprintf("%s.values[%d]", field, i), "not a regular expression: " + err.Error()}
			}
		}
	}
	needValues := ops&(opValues|opText) != 0
	switch {
	case needValues && len(r.Values) == 0:
		return &FieldError{field + ".values", "required for " + r.Kind}
	case !needValues && ops != opAny && len(r.Values) > 0:
		return &FieldError{field + ".values", "not an operand of " + r.Kind}
	case ops == opText && !slices.Contains([]string{"", "contains", "exact", "prefix", "regex"}, r.Match):
		return &FieldError{field + ".match", fmt.Sprintf("%q is not one of contains, exact, prefix, regex", r.Match)}
	case ops != opText && r.Match != "":
		return &FieldError{field + ".match", "not an operand of " + r.Kind}
	case ops == opRange && r.Min == nil && r.Max == nil:
		return &FieldError{field, "min or max required for " + r.Kind}
	case ops&(opRange|opOptRng|opSeconds) == 0 && (r.Min != nil || r.Max != nil):
		return &FieldError{field + ".min", "not an operand of " + r.Kind}
	case ops == opSeconds && (r.Min == nil || *r.Min < 0 || r.Max != nil):
		return &FieldError{field + ".min", "seconds (0 or more) required for " + r.Kind + "; max is not an operand"}
	case r.Min != nil && r.Max != nil && *r.Max < *r.Min:
		return &FieldError{field + ".max", "less than min"}
	case ops == opPages && (r.Pages < 1 || r.Pages > 1000):
		return &FieldError{field + ".pages", fmt.Sprintf("%d is not between 1 and 1000 (required for %s)", r.Pages, r.Kind)}
	case ops != opPages && r.Pages != 0:
		return &FieldError{field + ".pages", "not an operand of " + r.Kind}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
