package websession

import "github.com/sightline/sightline/internal/enrich"

// Event is one event of a visit, without what is the same for the whole visit.
type Event struct {
	Time       int64  // client time, epoch ms: events are ordered by it
	ServerTime int64  // server receive time, epoch ms
	App, Name  string // appName, eventName
	Data       []byte // compact JSON, as event.Stored.Data
}

// Visit is a closed visit (or a continuation of one) to be written as one document.
type Visit struct {
	AccountID, VisitorID, VisitID string
	Continuation                  int            // 0 for a visit's first document; n for its n-th continuation (late events after it was written)
	IP, UserAgent                 string         // of the visit's first event
	Events                        []Event        // sorted by Time, then ServerTime
	Eligibility                   []Eligibility  // filled by the campaign engine later; empty now; sorted by Time
	Goals                         []GoalAchieved // idem
	ControlGroup                  string         // siteControlGroup: "", "CONTROL" or "TEST" ("" is written as NA)
}

// Enricher looks up what the visit's raw facts imply (implemented by package enrich).
type Enricher interface {
	Geo(ip string) enrich.Geo
	Device(userAgent string) enrich.Device
	Search(referrer string) enrich.Search
}

// The blocks below are what the campaign engine knows of a visit: the
// eligibility assessments and achieved goals of the Data Access API's
// EligibilityData and GoalAchieved tables, and the Campaign, Engagement
// and Goal blocks they (and impressions) carry. Every field is optional in
// the document: a string is written null when empty, an Opt when not
// Valid, a slice when empty and a pointer when nil.

// Opt is an optional number or boolean.
type Opt[T any] struct {
	V     T
	Valid bool // false: null
}

// Some returns v as a present Opt.
func Some[T any](v T) Opt[T] { return Opt[T]{V: v, Valid: true} }

// Eligibility is one assessment of the campaigns a visitor is eligible for.
type Eligibility struct {
	Time      int64 // timestamp: when the assessment was made, epoch ms
	Campaigns []EligibleCampaign
}

// EligibleCampaign is a campaign the visitor is eligible for.
type EligibleCampaign struct {
	Campaign    *Campaign
	Engagements []Engagement
	Goal        *Goal
	// ControlGroup is controlGroupType: NA, TEST or CONTROL (anything
	// else, "" included, is written as NA).
	ControlGroup string
}

// Campaign is a campaign block.
type Campaign struct {
	ID              Opt[int64]
	VisitorProfiles []VisitorProfile // target audiences
}

// VisitorProfile is a target audience of a campaign.
type VisitorProfile struct {
	ID, Revision Opt[int64]
}

// Engagement is an engagement block.
type Engagement struct {
	ID                  Opt[int64]
	Channel             string
	Type                string // 0 peeling corner, 1 overlay, 2 toaster, 3 slide-out, 5 embedded, 6 sticky
	VisitorBehaviors    []VisitorBehavior
	SkillID             Opt[int32]
	SkillName           string
	SurveySkills        []Skill
	IsOffsiteEngagement Opt[bool]
	AvailabilityPolicy  string
	InteractionType     Opt[int32] // chat or messaging
	RenderingType       Opt[int32]
}

// VisitorBehavior is a behavioral targeting rule of an engagement.
type VisitorBehavior struct {
	ID, Revision Opt[int64]
}

// Skill is a skill defined for an engagement's survey.
type Skill struct {
	ID   Opt[int64]
	Name string
}

// Goal is a goal block.
type Goal struct {
	ID            Opt[int64]
	Type          Opt[int32]
	IndicatorType Opt[int32]
}

// GoalAchieved is a goal the visitor achieved.
type GoalAchieved struct {
	ID                   string // unique ID of the achievement
	Time                 int64  // timestamp, epoch ms
	CampaignGoalRevision Opt[int64]
	CampaignGoalID       Opt[int64]
	CampaignGoalType     Opt[int32]
	Metadata             GoalMetadata // nil: null
}

// GoalMetadata is the goalMetaData of an achieved goal: a
// URLGoalMetadata, PurchaseMetadata, ReduceAbandonmentGoalMetadata,
// LeadMetadata, ServiceActivityMetadata or IncreaseInteractionGoalMetadata.
type GoalMetadata interface {
	// appendGoalMetadata appends the metadata as a value of the
	// goalMetaData union.
	appendGoalMetadata(dst []byte) []byte
}

// URLGoalMetadata is the metadata of a URL goal (UrlGoalMetadata).
type URLGoalMetadata struct {
	URL string
}

// PurchaseMetadata is the metadata of a purchase goal.
type PurchaseMetadata struct {
	Total   Opt[float64]
	OrderID string
	// Cart is the purchase's cart as the page pushed it, a JSON object
	// ({total, currency, numItems, products: [{product, quantity}]}),
	// written as the CartStatus attribute is; "" for none.
	Cart string
}

// ReduceAbandonmentGoalMetadata is the metadata of a reduce-abandonment
// goal.
type ReduceAbandonmentGoalMetadata struct {
	NumberOfPages Opt[int32] // pages viewed
}

// LeadMetadata is the metadata of a lead goal (LeadMetaData).
type LeadMetadata struct {
	Topic, LeadID string
	Value         Opt[float64]
}

// ServiceActivityMetadata is the metadata of a service-activity goal
// (ServiceActivityMetaData).
type ServiceActivityMetadata struct {
	Topic     string
	Status    Opt[int32]
	Category  string
	ServiceID string
}

// IncreaseInteractionGoalMetadata is the metadata of an
// increase-interaction goal: the engagement interacted with.
type IncreaseInteractionGoalMetadata struct {
	Engagement *Engagement
	Campaign   *Campaign
}
