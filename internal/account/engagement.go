package account

import (
	"fmt"
	"slices"
	"strconv"
)

// Engagement is an engagement (a chat button, an offer) the tag shows on an
// account's pages. Until campaigns decide what each visitor sees (issue 5),
// an account lists them in its file, and every page view gets those whose
// sections match.
type Engagement struct {
	CampaignID   int64  `json:"campaignId"`
	EngagementID int64  `json:"engagementId"`
	Revision     int64  `json:"engagementRevision"`
	Name         string `json:"engagementName"`
	// Type is the display type: 0 peeling corner, 1 overlay, 2 toaster,
	// 3 slide-out, 5 embedded, 6 sticky.
	Type   int   `json:"engagementType"`
	ZoneID int64 `json:"zoneId"`
	// State is the agents' state the engagement shows: 1 online, 2
	// offline, 4 busy.
	State int `json:"state"`
	// ElementID names the page element an embedded engagement goes into.
	ElementID string `json:"elementId,omitempty"`
	Title     string `json:"title"`
	Text      string `json:"text,omitempty"`
	Button    string `json:"button"`
	// Duration is how long it stays, in seconds, before OFFER_TIMEOUT;
	// 0 is until the visitor acts or leaves.
	Duration int `json:"duration,omitempty"`
	// Sections, when set, limits it to pages with one of these sections.
	Sections []string `json:"sections,omitempty"`
}

// tglNames are the display types' names (the events' tglName).
var tglNames = map[int]string{0: "peeling", 1: "overlay", 2: "toaster", 3: "slider", 5: "embedded", 6: "sticky"}

// TglName is the name of e's display type.
func (e *Engagement) TglName() string { return tglNames[e.Type] }

// ConfKey is campaignId_engagementId_revision: the one version of the
// engagement.
func (e *Engagement) ConfKey() string {
	return strconv.FormatInt(e.CampaignID, 10) + "_" + strconv.FormatInt(e.EngagementID, 10) + "_" + strconv.FormatInt(e.Revision, 10)
}

// Validate checks e, the i-th engagement of an account.
func (e *Engagement) Validate(i int) error {
	switch {
	case e.CampaignID <= 0 || e.EngagementID <= 0 || e.Revision <= 0:
		return fmt.Errorf("engagements[%d]: campaignId, engagementId and engagementRevision must be positive", i)
	case tglNames[e.Type] == "":
		return fmt.Errorf("engagements[%d].engagementType: %d is not one of 0,1,2,3,5,6", i, e.Type)
	case !slices.Contains([]int{1, 2, 4}, e.State):
		return fmt.Errorf("engagements[%d].state: %d is not one of 1,2,4", i, e.State)
	case e.Type == 5 && e.ElementID == "":
		return fmt.Errorf("engagements[%d].elementId: required for an embedded engagement", i)
	case e.Title == "" || e.Button == "":
		return fmt.Errorf("engagements[%d]: title and button required", i)
	case e.Duration < 0:
		return fmt.Errorf("engagements[%d].duration: %d is negative", i, e.Duration)
	}
	return nil
}

// ShownOn reports whether e shows on a page with sections.
func (e *Engagement) ShownOn(sections []string) bool {
	if len(e.Sections) == 0 {
		return true
	}
	for _, s := range sections {
		if slices.Contains(e.Sections, s) {
			return true
		}
	}
	return false
}
