package websession

import (
	"encoding/json"
	"slices"
)

// The events the campaign engine records in a visit, beside the tag's:
// appName AppCampaigns, which no client may send (package event knows no
// such app). Their data is the JSON of EligibilityEvent and GoalEvent.
const (
	AppCampaigns      = "sightline"
	EventEligibility  = "ELIGIBILITY"
	EventGoalAchieved = "GOAL_ACHIEVED"
)

// EligibilityEvent is the data of an ELIGIBILITY event: one assessment of
// the campaigns a visitor is eligible for, made when the event was
// recorded (its time), with the visitor's site control group.
type EligibilityEvent struct {
	SiteControlGroup string             `json:"siteControlGroup"` // NA, TEST or CONTROL
	Campaigns        []CampaignEligible `json:"campaigns"`
}

// CampaignEligible is an eligible campaign of an EligibilityEvent.
type CampaignEligible struct {
	Campaign     CampaignRef     `json:"campaign"`
	Engagements  []EngagementRef `json:"engagements"`
	Goal         GoalRef         `json:"goal"`
	ControlGroup string          `json:"controlGroupType"` // NA, TEST or CONTROL
}

// CampaignRef is a campaign as records show it.
type CampaignRef struct {
	ID       int64    `json:"id"`
	Profiles []IDRevs `json:"visitorProfiles,omitempty"`
}

// IDRevs is the id and revision of a visitor profile or behavior.
type IDRevs struct {
	ID       int64 `json:"id"`
	Revision int64 `json:"revision"`
}

// EngagementRef is an engagement as records show it.
type EngagementRef struct {
	ID                 int64    `json:"id"`
	Channel            string   `json:"channel,omitempty"`
	Type               string   `json:"type"`
	Behaviors          []IDRevs `json:"visitorBehaviors,omitempty"`
	SkillID            *int32   `json:"skillId,omitempty"`
	SkillName          string   `json:"skillName,omitempty"`
	AvailabilityPolicy string   `json:"availabilityPolicy,omitempty"`
	InteractionType    *int32   `json:"interactionType,omitempty"`
}

// GoalRef is a goal as records show it.
type GoalRef struct {
	ID            int64 `json:"id"`
	Type          int32 `json:"type"`
	IndicatorType int32 `json:"indicatorType"`
}

// GoalEvent is the data of a GOAL_ACHIEVED event: a campaign goal the
// visitor reached, when the event was recorded (its time).
type GoalEvent struct {
	ID       string        `json:"id"`
	Goal     int64         `json:"campaignGoalId"`
	Revision int64         `json:"campaignGoalRevision"`
	Type     int32         `json:"campaignGoalType"`
	Metadata *GoalMetaData `json:"goalMetaData,omitempty"`
}

// GoalMetaData is the metadata of a GoalEvent: Kind names the record
// (UrlGoalMetadata, PurchaseMetadata, ReduceAbandonmentGoalMetadata,
// LeadMetaData, ServiceActivityMetaData, IncreaseInteractionGoalMetadata)
// and the fields of that record are set.
type GoalMetaData struct {
	Kind string `json:"kind"`
	// UrlGoalMetadata
	URL string `json:"url,omitempty"`
	// PurchaseMetadata (Total also LeadMetaData's value)
	Total   *float64        `json:"total,omitempty"`
	OrderID string          `json:"orderId,omitempty"`
	Cart    json.RawMessage `json:"cart,omitempty"` // the cart as the page pushed it
	// ReduceAbandonmentGoalMetadata
	Pages *int32 `json:"numberOfPages,omitempty"`
	// LeadMetaData and ServiceActivityMetaData
	Topic     string `json:"topic,omitempty"`
	LeadID    string `json:"leadId,omitempty"`
	Status    *int32 `json:"status,omitempty"`
	Category  string `json:"category,omitempty"`
	ServiceID string `json:"serviceId,omitempty"`
	// IncreaseInteractionGoalMetadata
	Engagement *EngagementRef `json:"engagement,omitempty"`
	Campaign   *CampaignRef   `json:"campaign,omitempty"`
}

// campaignRecords returns the eligibility assessments, achieved goals and
// site control group of v: its own (Visit.Eligibility, Goals and
// ControlGroup) with those its campaign events add. Goals repeated in a
// visit (a batch sent twice) count once; the latest site control group
// wins. Events whose data cannot be read are left out.
func (v *Visit) campaignRecords() (el []Eligibility, goals []GoalAchieved, control string) {
	el, goals, control = v.Eligibility, v.Goals, v.ControlGroup
	copied := false
	for i := range v.Events {
		e := &v.Events[i]
		if e.App != AppCampaigns {
			continue
		}
		if !copied {
			el, goals, copied = slices.Clip(el), slices.Clip(goals), true
		}
		switch e.Name {
		case EventEligibility:
			var ev EligibilityEvent
			if json.Unmarshal(e.Data, &ev) != nil {
				continue
			}
			control = ev.SiteControlGroup
			a := Eligibility{Time: e.Time}
			for _, c := range ev.Campaigns {
				a.Campaigns = append(a.Campaigns, c.eligible())
			}
			el = append(el, a)
		case EventGoalAchieved:
			var ev GoalEvent
			if json.Unmarshal(e.Data, &ev) != nil || slices.ContainsFunc(goals, func(g GoalAchieved) bool {
				return g.CampaignGoalID == Some(ev.Goal)
			}) {
				continue
			}
			goals = append(goals, GoalAchieved{
				ID: ev.ID, Time: e.Time, CampaignGoalID: Some(ev.Goal), CampaignGoalRevision: Some(ev.Revision),
				CampaignGoalType: Some(ev.Type), Metadata: ev.Metadata.metadata(),
			})
		}
	}
	return el, goals, control
}

func (c *CampaignEligible) eligible() EligibleCampaign {
	ec := EligibleCampaign{Campaign: c.Campaign.block(), ControlGroup: c.ControlGroup,
		Goal: &Goal{ID: Some(c.Goal.ID), Type: Some(c.Goal.Type), IndicatorType: Some(c.Goal.IndicatorType)}}
	for i := range c.Engagements {
		ec.Engagements = append(ec.Engagements, *c.Engagements[i].block())
	}
	return ec
}

func (c *CampaignRef) block() *Campaign {
	b := &Campaign{ID: Some(c.ID)}
	for _, p := range c.Profiles {
		b.VisitorProfiles = append(b.VisitorProfiles, VisitorProfile{ID: Some(p.ID), Revision: Some(p.Revision)})
	}
	return b
}

func (e *EngagementRef) block() *Engagement {
	b := &Engagement{ID: Some(e.ID), Channel: e.Channel, Type: e.Type, SkillName: e.SkillName,
		AvailabilityPolicy: e.AvailabilityPolicy, IsOffsiteEngagement: Some(false)}
	for _, r := range e.Behaviors {
		b.VisitorBehaviors = append(b.VisitorBehaviors, VisitorBehavior{ID: Some(r.ID), Revision: Some(r.Revision)})
	}
	if e.SkillID != nil {
		b.SkillID = Some(*e.SkillID)
	}
	if e.InteractionType != nil {
		b.InteractionType = Some(*e.InteractionType)
	}
	return b
}

func optPtr[T any](p *T) Opt[T] {
	if p == nil {
		return Opt[T]{}
	}
	return Some(*p)
}

// metadata returns the GoalMetadata m describes, nil for none or an
// unknown kind.
func (m *GoalMetaData) metadata() GoalMetadata {
	if m == nil {
		return nil
	}
	switch m.Kind {
	case "UrlGoalMetadata":
		return URLGoalMetadata{URL: m.URL}
	case "PurchaseMetadata":
		return PurchaseMetadata{Total: optPtr(m.Total), OrderID: m.OrderID, Cart: string(m.Cart)}
	case "ReduceAbandonmentGoalMetadata":
		return ReduceAbandonmentGoalMetadata{NumberOfPages: optPtr(m.Pages)}
	case "LeadMetaData":
		return LeadMetadata{Topic: m.Topic, LeadID: m.LeadID, Value: optPtr(m.Total)}
	case "ServiceActivityMetaData":
		return ServiceActivityMetadata{Topic: m.Topic, Status: optPtr(m.Status), Category: m.Category, ServiceID: m.ServiceID}
	case "IncreaseInteractionGoalMetadata":
		g := IncreaseInteractionGoalMetadata{}
		if m.Engagement != nil {
			g.Engagement = m.Engagement.block()
		}
		if m.Campaign != nil {
			g.Campaign = m.Campaign.block()
		}
		return g
	}
	return nil
}
