package campaign

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/sightline/sightline/internal/event"
)

// State is what decisions know of a visit: the facts its events so far
// establish. The server does not keep it: it answers each batch with the
// state folded with the batch's events, signed (StateKey), and the tag
// sends it back with the next batch, so that any server decides for any
// visitor with only the request in hand. Keys are short, since it travels
// with every batch.
type State struct {
	Visit       string   `json:"v,omitempty"`  // the visit it is of
	Start       int64    `json:"s,omitempty"`  // first event's time, epoch ms (client clock)
	Pages       int      `json:"p,omitempty"`  // pages viewed
	PageAt      int64    `json:"pt,omitempty"` // the current page's view time
	PageContext string   `json:"pc,omitempty"` // the current page's context id
	URL         string   `json:"u,omitempty"`  // the current page's URL
	Sections    []string `json:"sc,omitempty"` // the current page's sections
	Referrer    string   `json:"r,omitempty"`  // the visit's first referrer
	Returning   bool     `json:"rt,omitempty"` // the visitor had visits before
	CartTotal   float64  `json:"ct,omitempty"`
	CartItems   int      `json:"ci,omitempty"`
	CartPage    int      `json:"cp,omitempty"` // Pages when the cart got its items; 0 when empty
	Purchases   int      `json:"pu,omitempty"`
	Spent       float64  `json:"sp,omitempty"` // total of the purchases
	CType       string   `json:"cy,omitempty"` // ctmrinfo ctype
	CStatus     string   `json:"cs,omitempty"` // ctmrinfo cstatus
	Channel     string   `json:"mc,omitempty"` // mrktInfo channel: direct, search, social, email, referral
	Leads       []string `json:"ld,omitempty"` // lead topics
	Services    []string `json:"sv,omitempty"` // service topics
	Errors      []string `json:"er,omitempty"` // error messages
	// Shown counts OFFER_DISPLAY events by engagement ID, for frequency
	// caps.
	Shown map[string]int `json:"sh,omitempty"`
	// Campaigns are the campaigns the visit has been eligible for, whose
	// goals count; Goals the goals it reached.
	Campaigns []int64 `json:"c,omitempty"`
	Goals     []int64 `json:"g,omitempty"`
	// Sig is the server's signature of the rest (StateKey); it must stay
	// the last field.
	Sig string `json:"sig,omitempty"`
}

// Caps keep a state small whatever a page sends.
const (
	maxStateBytes = 64 << 10 // above what the caps below let a state grow to
	maxStateList  = 20
	maxStateText  = 1000
	maxStateIDs   = 200
)

// ReadState decodes the state a tag sent back; a state that is missing,
// unreadable or too large is an empty one: state is advice, never a reason
// to refuse a batch.
func ReadState(raw []byte) State {
	var s State
	if len(raw) == 0 || len(raw) > maxStateBytes || json.Unmarshal(raw, &s) != nil {
		return State{}
	}
	return s
}

// batchFacts are what one batch tells beyond the state: the events goals
// are reached by.
type batchFacts struct {
	decide   bool // a page view or an attribute: decisions are due
	urls     []timed[string]
	purchase *timed[purchase] // the batch's first
	lead     *timed[leadInfo]
	service  *timed[serviceInfo]
	clicks   []timed[offerRef]
}

type timed[T any] struct {
	at int64
	v  T
}

type purchase struct {
	Total   flexNum         `json:"total"`
	OrderID flexText        `json:"orderId"`
	Cart    json.RawMessage `json:"cart"`
}

type leadInfo struct {
	Topic  flexText `json:"topic"`
	Value  flexNum  `json:"value"`
	LeadID flexText `json:"leadId"`
}

type serviceInfo struct {
	Topic     flexText `json:"topic"`
	Status    flexNum  `json:"status"`
	Category  flexText `json:"category"`
	ServiceID flexText `json:"serviceId"`
}

type offerRef struct {
	Campaign   flexText `json:"campaignId"`
	Engagement flexText `json:"engagementId"`
}

// flexNum is a number a page may send as a string ("11.7"). Only a finite
// one is Valid; otherwise V is 0, so that no event can put into a state
// a number JSON cannot write (an Inf would make the whole state
// unwritable).
type flexNum struct {
	V     float64
	Valid bool
}

// count returns the number as a count: a whole number from 0 to 2^53;
// false when it is none.
func (n flexNum) count() (int, bool) {
	if !n.Valid || n.V < 0 || n.V > 1<<53 || n.V != math.Trunc(n.V) {
		return 0, false
	}
	return int(n.V), true
}

// ptr returns the number, nil when there is none.
func (n flexNum) ptr() *float64 {
	if !n.Valid {
		return nil
	}
	return &n.V
}

func (n *flexNum) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	*n = flexNum{}
	if f, err := strconv.ParseFloat(string(b), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		*n = flexNum{V: f, Valid: true}
	}
	return nil
}

// flexText is a text a page may send as a number.
type flexText string

func (t *flexText) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = flexText(s)
	} else if b[0] != '{' && b[0] != '[' && string(b) != "null" {
		*t = flexText(b)
	}
	return nil
}

// channels are the names of mrktInfo's channel codes.
var channels = []string{"direct", "search", "social", "email", "referral"}

// fold brings s up to date with a batch's events of visit visitID, and
// returns what the batch tells of goals.
func (s *State) fold(visitID string, events []event.Event) batchFacts {
	if s.Visit != visitID {
		returning := s.Visit != "" || s.Returning
		*s = State{Visit: visitID, Returning: returning}
	}
	var f batchFacts
	for i := range events {
		e := &events[i]
		if s.Start == 0 || e.Time < s.Start {
			s.Start = e.Time
		}
		switch {
		case e.AppName == "LP_MONITORING" && e.EventName == "PAGE_VIEW":
			var pv struct {
				URL       flexText   `json:"url"`
				Referrer  flexText   `json:"referrer"`
				Sections  []flexText `json:"sections"`
				ContextID flexText   `json:"contextId"`
			}
			json.Unmarshal(e.Data, &pv)
			s.Pages++
			s.PageAt, s.PageContext, s.URL = e.Time, capText(string(pv.ContextID)), capText(string(pv.URL))
			s.Sections = s.Sections[:0]
			for _, sec := range pv.Sections {
				if len(s.Sections) < maxStateList {
					s.Sections = append(s.Sections, capText(string(sec)))
				}
			}
			if s.Pages == 1 {
				s.Referrer = capText(string(pv.Referrer))
			}
			f.decide = true
			f.urls = append(f.urls, timed[string]{e.Time, s.URL})
		case e.AppName == "lp_sdes" && e.EventName == "VAR_ADDED":
			f.decide = true
			s.attribute(e, &f)
		case e.AppName == "LP_OFFERS" && (e.EventName == "OFFER_DISPLAY" || e.EventName == "OFFER_CLICK"):
			var o offerRef
			json.Unmarshal(e.Data, &o)
			if e.EventName == "OFFER_CLICK" {
				f.clicks = append(f.clicks, timed[offerRef]{e.Time, o})
			} else if id := string(o.Engagement); id != "" && (s.Shown[id] > 0 || len(s.Shown) < maxStateIDs) {
				if s.Shown == nil {
					s.Shown = map[string]int{}
				}
				s.Shown[id]++
			}
		}
	}
	return f
}

// attribute folds an engagement attribute into s.
func (s *State) attribute(e *event.Event, f *batchFacts) {
	var a struct {
		Type     string  `json:"type"`
		Total    flexNum `json:"total"`
		NumItems flexNum `json:"numItems"`
		Products []struct {
			Quantity flexNum `json:"quantity"`
		} `json:"products"`
		Info struct {
			CType   flexText `json:"ctype"`
			CStatus flexText `json:"cstatus"`
			Channel flexNum  `json:"channel"`
		} `json:"info"`
		Lead    leadInfo    `json:"lead"`
		Service serviceInfo `json:"service"`
		Error   struct {
			Message flexText `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(e.Data, &a) != nil {
		return
	}
	switch a.Type {
	case "cart":
		items, ok := a.NumItems.count()
		if !ok {
			items = 0
			for _, p := range a.Products {
				q, _ := p.Quantity.count()
				items = min(items+max(1, q), 1<<53)
			}
		}
		s.CartTotal, s.CartItems = a.Total.V, items
		switch {
		case items == 0:
			s.CartPage = 0
		case s.CartPage == 0:
			s.CartPage = max(s.Pages, 1)
		}
	case "purchase":
		var p purchase
		json.Unmarshal(e.Data, &p)
		s.Purchases++
		// Saturated, so that totals near the largest float64 cannot add up
		// to an Inf.
		s.Spent = max(-math.MaxFloat64, min(s.Spent+p.Total.V, math.MaxFloat64))
		s.CartTotal, s.CartItems, s.CartPage = 0, 0, 0
		if f.purchase == nil {
			f.purchase = &timed[purchase]{e.Time, p}
		}
	case "ctmrinfo":
		if a.Info.CType != "" {
			s.CType = capText(string(a.Info.CType))
		}
		if a.Info.CStatus != "" {
			s.CStatus = capText(string(a.Info.CStatus))
		}
	case "mrktInfo":
		if c := int(a.Info.Channel.V); a.Info.Channel.Valid && c >= 0 && c < len(channels) {
			s.Channel = channels[c]
		}
	case "lead":
		s.Leads = appendCapped(s.Leads, string(a.Lead.Topic))
		if f.lead == nil {
			f.lead = &timed[leadInfo]{e.Time, a.Lead}
		}
	case "service":
		s.Services = appendCapped(s.Services, string(a.Service.Topic))
		if f.service == nil {
			f.service = &timed[serviceInfo]{e.Time, a.Service}
		}
	case "error":
		s.Errors = appendCapped(s.Errors, string(a.Error.Message))
	}
}

func capText(s string) string {
	if len(s) > maxStateText {
		return s[:maxStateText]
	}
	return s
}

// appendCapped appends v to list unless it is there or list is full; the
// empty text stands for "one without a topic".
func appendCapped(list []string, v string) []string {
	v = capText(v)
	if len(list) >= maxStateList || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
