package campaign

import "strconv"

// Campaign is what a brand's marketer defines: whom to engage (visitor
// profiles), with what (engagements), to reach which goal.
type Campaign struct {
	ID       int64  `json:"id"`
	Revision int64  `json:"revision"`
	Name     string `json:"name"`
	// Status is "active" or "inactive": only active campaigns decide.
	Status string `json:"status"`
	// Priority orders campaigns: the higher first. Ties go to the lower ID.
	Priority int `json:"priority"`
	// StartTime and EndTime, epoch ms, bound when the campaign decides; 0
	// is unbounded.
	StartTime int64 `json:"startTime,omitempty"`
	EndTime   int64 `json:"endTime,omitempty"`
	// GoalID is the campaign's one goal.
	GoalID int64 `json:"goalId"`
	// ProfileIDs are the campaign's target audiences: a visitor in any of
	// them is targeted; none targets every visitor.
	ProfileIDs []int64 `json:"visitorProfileIds,omitempty"`
	// ControlGroup is the share of targeted visitors, in percent, who are
	// eligible but shown nothing (controlGroupType CONTROL); the others are
	// TEST. 0 makes no control group (NA).
	ControlGroup int          `json:"controlGroupPercent,omitempty"`
	Engagements  []Engagement `json:"engagements"`
}

// Engagement is a version of one way a campaign engages visitors: what it
// renders and when. Its Revision grows on every change, so that ConfKey
// names exactly one version.
type Engagement struct {
	ID       int64  `json:"id"`
	Revision int64  `json:"revision"`
	Name     string `json:"name"`
	// Type is the display type: 0 peeling corner, 1 overlay, 2 toaster,
	// 3 slide-out, 5 embedded, 6 sticky.
	Type int `json:"type"`
	// Channel is the engagement's channel as web sessions record it ("1"
	// web when empty).
	Channel   string `json:"channel,omitempty"`
	SkillID   int32  `json:"skillId,omitempty"`
	SkillName string `json:"skillName,omitempty"`
	// Interaction is "chat", "messaging" or "content" (an offer without a
	// conversation: its events carry no agents' state).
	Interaction string `json:"interactionType"`
	// Availability says when it shows, by the agents' state of its skill:
	// "online" only when agents are online, "always" whatever their state,
	// "offline" only when none is (offline content).
	Availability string  `json:"availabilityPolicy"`
	Content      Content `json:"content"`
	// Duration is how long it stays on screen, in seconds, before
	// OFFER_TIMEOUT; 0 is until the visitor acts or leaves.
	Duration int `json:"displayDuration,omitempty"`
	// Zone is where it shows: one engagement per zone and page.
	Zone int64 `json:"zoneId"`
	// BehaviorIDs are the visitor behaviors it requires, all of them.
	BehaviorIDs []int64 `json:"visitorBehaviorIds,omitempty"`
	// FrequencyCap is how many times it may be displayed in one visit; 0
	// is no limit.
	FrequencyCap int `json:"frequencyCap,omitempty"`
}

// Content is what an engagement renders.
type Content struct {
	Title  string `json:"title"`
	Text   string `json:"text,omitempty"`
	Button string `json:"button"`
	// Colors are CSS colours: background, text and button.
	Background  string `json:"background,omitempty"`
	Color       string `json:"color,omitempty"`
	ButtonColor string `json:"buttonColor,omitempty"`
	// ElementID names the page element an embedded engagement goes into.
	ElementID string `json:"elementId,omitempty"`
}

// ConfKey is campaignId_engagementId_revision: the one version of the
// engagement of campaign c.
func ConfKey(campaignID int64, e *Engagement) string {
	return strconv.FormatInt(campaignID, 10) + "_" + strconv.FormatInt(e.ID, 10) + "_" + strconv.FormatInt(e.Revision, 10)
}

// RuleSet is a named set of rules that a visit meets when it meets them
// all: a visitor profile or a visitor behavior.
type RuleSet struct {
	ID       int64  `json:"id"`
	Revision int64  `json:"revision"`
	Name     string `json:"name"`
	Rules    []Rule `json:"rules"`
}

// Profile is a visitor profile (target audience): rules over the visitor
// (profileRule lists their kinds).
type Profile = RuleSet

// Behavior is a visitor behavior: rules over what the visit did
// (behaviorRule lists their kinds).
type Behavior = RuleSet

// Goal is what a campaign wants visitors to do.
type Goal struct {
	ID       int64  `json:"id"`
	Revision int64  `json:"revision"`
	Name     string `json:"name"`
	// Type is "url", "purchase", "reduceAbandonment", "lead",
	// "serviceActivity" or "increaseInteraction".
	Type string `json:"type"`
	// URL is, for a url goal, the page to reach.
	URL *Rule `json:"url,omitempty"`
	// Pages is, for a reduceAbandonment goal, the pages a visitor must view.
	Pages int `json:"pages,omitempty"`
}

// Availability is the agents' state of each skill: "online", "offline" or
// "busy". A skill not listed is offline.
type Availability map[string]string

// Settings are an account's campaign settings.
type Settings struct {
	// SiteControlGroup is the share of visitors, in percent, who see no
	// engagement at all (siteControlGroup CONTROL); the others are TEST.
	// 0 makes no site control group (NA).
	SiteControlGroup int `json:"siteControlGroupPercent"`
}

// Rule is one condition over a visit. Kind names what it reads; the other
// fields are its operands, as the kind needs:
//
//	Profiles (the visitor):
//	  customerType, customerStatus   Values: any of (ctmrinfo ctype, cstatus)
//	  cartTotal, cartItems           Min, Max: range (cart total, number of items)
//	  purchased                      a purchase in the visit; Min, Max: its total
//	  lead, service, error           such an attribute pushed in the visit; Values: any of its topics (error: messages)
//	  country, city                  Values: any of (country code or name, city)
//	  deviceFamily, deviceOS         Values: any of (DESKTOP, TABLET, MOBILE; WINDOWS, MAC_OS, LINUX, IOS, ANDROID)
//	  marketingChannel               Values: any of direct, search, social, email, referral (mrktInfo channel)
//	  visitorType                    Values: new or returning
//	Behaviors (the visit):
//	  url, referrer, searchKeywords  Match, Values: the page's URL, the visit's referrer, its search keywords
//	  section                        Values: any of the page's sections
//	  pagesViewed                    Min, Max: pages viewed in the visit
//	  timeOnSite, timeOnPage         Min: seconds (the tag waits until then)
//	  abandoningCart                 Pages: a cart with items, no purchase, Pages or more pages viewed since it was filled
type Rule struct {
	Kind string `json:"kind"`
	// Match is how Values match a text: "contains" (the default),
	// "exact", "prefix" or "regex".
	Match  string   `json:"match,omitempty"`
	Values []string `json:"values,omitempty"`
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Pages  int      `json:"pages,omitempty"`
}
