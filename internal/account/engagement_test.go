package account

import (
	"strings"
	"testing"
)

func TestEngagementValidate(t *testing.T) {
	ok := Engagement{CampaignID: 1, EngagementID: 2, Revision: 3, Type: 3, State: 1, Title: "t", Button: "b"}
	tests := []struct {
		name    string
		change  func(e *Engagement)
		wantErr string
	}{
		{"valid", func(e *Engagement) {}, ""},
		{"type 4", func(e *Engagement) { e.Type = 4 }, "engagementType: 4 is not one of 0,1,2,3,5,6"},
		{"state 3", func(e *Engagement) { e.State = 3 }, "state: 3 is not one of 1,2,4"},
		{"embedded without element", func(e *Engagement) { e.Type = 5 }, "elementId: required"},
		{"no revision", func(e *Engagement) { e.Revision = 0 }, "must be positive"},
		{"no button", func(e *Engagement) { e.Button = "" }, "title and button required"},
		{"negative duration", func(e *Engagement) { e.Duration = -1 }, "duration: -1 is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := ok
			tc.change(&e)
			err := e.Validate(0)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate = %v, want %q", err, tc.wantErr)
			}
		})
	}
	if ok.ConfKey() != "1_2_3" || ok.TglName() != "slider" {
		t.Errorf("confKey %s tglName %s", ok.ConfKey(), ok.TglName())
	}
	if !ok.ShownOn(nil) {
		t.Error("an engagement without sections is not shown everywhere")
	}
	ok.Sections = []string{"tv"}
	if ok.ShownOn([]string{"shoes"}) || !ok.ShownOn([]string{"shoes", "tv"}) {
		t.Error("sections not matched")
	}
}
