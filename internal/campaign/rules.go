package campaign

import (
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/enrich"
)

// visitFacts are what rules read: the state and what the server knows of
// the request, with the texts rules match in lower case.
type visitFacts struct {
	st                      *State
	now                     int64 // server clock, epoch ms: campaigns' start and end
	clientNow               int64 // the batch's latest event time: time rules, on the client's clock as the state's times
	geo                     enrich.Geo
	device                  enrich.Device
	search                  enrich.Search
	url, referrer, keywords string                    // lower case
	presence                func(skill string) string // Request.Presence
}

// all reports whether the visit meets every rule, and after how many ms
// at the latest (time rules: the tag waits).
func (v *visitFacts) all(rules []compiledRule) (int64, bool) {
	var delay int64
	for i := range rules {
		wait, ok := v.meets(&rules[i])
		if !ok {
			return 0, false
		}
		delay = max(delay, wait)
	}
	return delay, true
}

// meets reports whether the visit meets r, now or after the delay it
// returns.
func (v *visitFacts) meets(r *compiledRule) (int64, bool) {
	st := v.st
	switch r.Kind {
	case "customerType":
		return 0, r.oneOf(st.CType)
	case "customerStatus":
		return 0, r.oneOf(st.CStatus)
	case "cartTotal":
		return 0, st.CartItems > 0 && r.within(st.CartTotal)
	case "cartItems":
		return 0, r.within(float64(st.CartItems))
	case "purchased":
		return 0, st.Purchases > 0 && r.within(st.Spent)
	case "lead":
		return 0, r.anyOf(st.Leads)
	case "service":
		return 0, r.anyOf(st.Services)
	case "error":
		return 0, r.anyOf(st.Errors)
	case "country":
		return 0, r.oneOf(v.geo.CountryCode) || r.oneOf(v.geo.Country)
	case "city":
		return 0, r.oneOf(v.geo.City)
	case "deviceFamily":
		return 0, r.oneOf(v.device.Family)
	case "deviceOS":
		return 0, r.oneOf(v.device.OS)
	case "marketingChannel":
		return 0, r.oneOf(st.Channel)
	case "visitorType":
		return 0, r.oneOf(map[bool]string{false: "new", true: "returning"}[st.Returning])
	case "url":
		return 0, r.text(v.url, st.URL)
	case "referrer":
		return 0, r.text(v.referrer, st.Referrer)
	case "searchKeywords":
		return 0, v.keywords != "" && r.text(v.keywords, v.search.Keywords)
	case "section":
		return 0, slices.ContainsFunc(st.Sections, r.oneOf)
	case "pagesViewed":
		return 0, r.within(float64(st.Pages))
	case "timeOnSite":
		return wait(int64(*r.Min*1000) - (v.clientNow - st.Start)), true
	case "timeOnPage":
		return wait(int64(*r.Min*1000) - (v.clientNow - st.PageAt)), true
	case "abandoningCart":
		return 0, st.CartItems > 0 && st.CartPage > 0 && st.Pages-st.CartPage >= r.Pages
	}
	return 0, false
}

// wait is the delay of a time rule: what remains of ms, none if past.
func wait(ms int64) int64 { return max(ms, 0) }

// oneOf reports whether s is one of the rule's values, ignoring case.
func (r *compiledRule) oneOf(s string) bool {
	if s == "" {
		return false
	}
	for _, v := range r.Values {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// anyOf reports whether list has an item, and one of the rule's values
// when it has values.
func (r *compiledRule) anyOf(list []string) bool {
	if len(r.Values) == 0 {
		return len(list) > 0
	}
	return slices.ContainsFunc(list, r.oneOf)
}

// within reports whether n is within the rule's min and max.
func (r *compiledRule) within(n float64) bool {
	return (r.Min == nil || n >= *r.Min) && (r.Max == nil || n <= *r.Max)
}

// text reports whether a text matches one of the rule's values by its
// Match: lower is the text in lower case (contains, exact, prefix ignore
// case), raw as it is (regular expressions decide for themselves).
func (r *compiledRule) text(lower, raw string) bool {
	for i, v := range r.lower {
		var ok bool
		switch r.Match {
		case "exact":
			ok = lower == v
		case "prefix":
			ok = strings.HasPrefix(lower, v)
		case "regex":
			ok = r.re[i].MatchString(raw)
		default:
			ok = strings.Contains(lower, v)
		}
		if ok {
			return true
		}
	}
	return false
}
