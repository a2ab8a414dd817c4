package ingest

import (
	"encoding/json"
	"strings"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/event"
)

// offer is an engagement as the answer to a page view gives it to the tag:
// what to render, and the properties of its LP_OFFERS events.
type offer struct {
	*account.Engagement
	ConfKey       string `json:"confKey"`
	TglName       string `json:"tglName"`
	PageContextID string `json:"pageContextId"`
}

// offers returns, as a JSON array, the engagements of acct to show on the
// page of the batch's page view, or nil when there is none. Until
// campaigns decide (issue 5), those are the account's engagements whose
// sections match the page's.
func offers(acct *account.Account, b *event.Batch) []byte {
	if len(acct.Engagements) == 0 {
		return nil
	}
	var page struct {
		Sections  []string        `json:"sections"`
		ContextID json.RawMessage `json:"contextId"` // a string or a number
	}
	found := false
	for i := range b.Events {
		if e := &b.Events[i]; e.AppName == "LP_MONITORING" && e.EventName == "PAGE_VIEW" {
			found = json.Unmarshal(e.Data, &page) == nil // the last page view of the batch
		}
	}
	if !found {
		return nil
	}
	contextID := strings.Trim(string(page.ContextID), `"`) // id characters need no escapes
	var out []offer
	for i := range acct.Engagements {
		if e := &acct.Engagements[i]; e.ShownOn(page.Sections) {
			out = append(out, offer{Engagement: e, ConfKey: e.ConfKey(), TglName: e.TglName(), PageContextID: contextID})
		}
	}
	if len(out) == 0 {
		return nil
	}
	res, _ := json.Marshal(out)
	return res
}
