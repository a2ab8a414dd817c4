// Package conversation holds what a conversation between a site's visitor
// and a brand's agents and bots is made of (participants, messages, their
// delivery statuses, transfers, surveys and the engagement attributes
// attached to it), and the Store that keeps conversations durably.
//
// The model follows the conversation record of LivePerson's Messaging
// Interactions API (spec/engagement-attributes.txt), which a conversation
// must be able to become: names and enum values are the record's. Times are
// Unix milliseconds.
//
// The messaging service (internal/messaging) is the only writer: it changes
// conversations through the Store and tells connected visitors, agents and
// bots. Store implementations: boltstore (the embedded default, in the data
// directory); storetest is the conformance suite every implementation runs.
package conversation

import (
	"encoding/json"
	"errors"
	"fmt"
)

// State is a conversation's state.
type State string

// States of a conversation.
const (
	Open   State = "OPEN"
	Closed State = "CLOSE"
)

// CloseReason says who closed a conversation.
type CloseReason string

// Close reasons, as the record names them.
const (
	ClosedByAgent    CloseReason = "AGENT"
	ClosedByConsumer CloseReason = "CONSUMER"
	ClosedBySystem   CloseReason = "SYSTEM"
)

// Role is a participant's role in a conversation, as LivePerson's
// messaging protocol names them.
type Role string

// Roles of participants.
const (
	Consumer      Role = "CONSUMER"
	AssignedAgent Role = "ASSIGNED_AGENT"
	Agent         Role = "AGENT"
	Manager       Role = "MANAGER"
	Reader        Role = "READER"
	Controller    Role = "CONTROLLER"
)

// Participant is someone who is or was in a conversation.
type Participant struct {
	// ID is the consumer's id (the visitor id) or the agent's user id.
	ID   string `json:"id"`
	Role Role   `json:"role"`
	// Name is the agent's nickname or the consumer's name, when known.
	Name string `json:"name,omitempty"`
	// LoginName is an agent's login name.
	LoginName string `json:"loginName,omitempty"`
	// Bot is set for a bot's user.
	Bot    bool  `json:"bot,omitempty"`
	Joined int64 `json:"joined"`
	// Left is when the participant left; 0 while they are in.
	Left int64 `json:"left,omitempty"`
}

// In reports whether the participant is in the conversation.
func (p Participant) In() bool { return p.Left == 0 }

// ContentType is the type of a message's content.
type ContentType string

// Content types of messages.
const (
	TextPlain   ContentType = "text/plain"
	RichContent ContentType = "rich-content"
)

// MaxTextLen is the longest text of a message, in bytes.
const MaxTextLen = 10000

// MaxRichContentLen is the longest rich content of a message, in bytes of
// JSON.
const MaxRichContentLen = 50000

// Message is one message of a conversation.
type Message struct {
	// Seq is the message's sequence number in its conversation, from 0;
	// the store assigns it.
	Seq int `json:"seq"`
	// ID is the id the sender gave the message; a message sent again with
	// an id the conversation has is not stored twice. Empty ids are never
	// taken for duplicates.
	ID string `json:"id,omitempty"`
	// From is the participant id of the sender, Role its role then.
	From string      `json:"from"`
	Role Role        `json:"role"`
	Time int64       `json:"time"`
	Type ContentType `json:"type"`
	// Text is a text/plain message's text.
	Text string `json:"text,omitempty"`
	// Rich is a rich-content message's structured content (JSON).
	Rich json.RawMessage `json:"rich,omitempty"`
	// Metadata is the sender's metadata of the message, as the protocol
	// passes it (a JSON array), when there is some.
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// Delivery is a message delivery status.
type Delivery string

// Delivery statuses, in the order they are reached.
const (
	Accepted Delivery = "ACCEPT"
	Read     Delivery = "READ"
)

// Status is one participant's delivery status of one message.
type Status struct {
	Seq         int      `json:"seq"`
	Participant string   `json:"participant"`
	Role        Role     `json:"role"`
	Status      Delivery `json:"status"`
	Time        int64    `json:"time"`
}

// Transfer is a move of a conversation to another skill or agent.
type Transfer struct {
	Time int64 `json:"time"`
	// By is the user id of who transferred.
	By              string `json:"by"`
	Reason          string `json:"reason"` // "Skill" or "Agent"
	SourceSkillID   int64  `json:"sourceSkillId"`
	SourceSkillName string `json:"sourceSkillName,omitempty"`
	SourceAgentID   string `json:"sourceAgentId,omitempty"`
	TargetSkillID   int64  `json:"targetSkillId"`
	TargetSkillName string `json:"targetSkillName,omitempty"`
	// TargetAgentID is the agent the conversation was transferred to, for
	// a transfer to an agent.
	TargetAgentID string `json:"targetAgentId,omitempty"`
}

// Survey is a survey the consumer answered after the conversation.
type Survey struct {
	Type   string         `json:"surveyType"`   // "Satisfaction"
	Status string         `json:"surveyStatus"` // "FILLED"
	Data   []SurveyAnswer `json:"surveyData"`
	Time   int64          `json:"time"`
}

// SurveyAnswer is one answered question.
type SurveyAnswer struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Attribute is an engagement attribute attached to a conversation: one
// attribute event as the page (or the brand's server, or the visitor's
// proven identity) sent it.
type Attribute struct {
	// Type is the record's sdeType: CART_STATUS, CUSTOMER_INFO, ...
	Type string `json:"sdeType"`
	// Authenticated attributes go to the record's sdes, the others to
	// unAuthSdes.
	Authenticated bool `json:"authenticated,omitempty"`
	// ServerTime is when Sightline received it; OriginalTime when the
	// page (or server) says it was set.
	ServerTime   int64 `json:"serverTimeStamp"`
	OriginalTime int64 `json:"originalTimeStamp"`
	// Data is the attribute in the page's push shape ({"type":"cart",...}).
	Data json.RawMessage `json:"data"`
}

// sdeTypes maps the attribute types a page pushes to the record's sdeType.
var sdeTypes = map[string]string{
	"cart": "CART_STATUS", "purchase": "PURCHASE", "prodView": "VIEWED_PRODUCT", "ctmrinfo": "CUSTOMER_INFO",
	"personal": "PERSONAL_INFO", "mrktInfo": "MARKETING_CAMPAIGN_INFO", "lead": "LEAD", "service": "SERVICE_ACTIVITY",
	"error": "VISITOR_ERROR", "searchInfo": "SEARCH_CONTENT",
}

// ErrAttributeType is the error of an attribute whose type is none of the
// ten a page pushes.
var ErrAttributeType = errors.New("not an attribute type")

// NewAttribute returns the unauthenticated attribute of data, an attribute
// in the page's push shape ({"type": "cart", ...}), received at now and set
// at at (Unix ms; 0 or later than now is now). It keeps data, not a copy.
// An error wraps ErrAttributeType when data is an object whose type is none
// of the ten.
func NewAttribute(data json.RawMessage, at, now int64) (Attribute, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Attribute{}, fmt.Errorf("not an attribute object: %w", err)
	}
	t, ok := sdeTypes[head.Type]
	if !ok {
		return Attribute{}, fmt.Errorf("%.40q: %w", head.Type, ErrAttributeType)
	}
	if at <= 0 || at > now {
		at = now
	}
	return Attribute{Type: t, ServerTime: now, OriginalTime: at, Data: data}, nil
}

// Campaign is what the engagement that started a conversation was.
type Campaign struct {
	CampaignID     string `json:"campaignId,omitempty"`
	CampaignName   string `json:"campaignName,omitempty"`
	EngagementID   string `json:"engagementId,omitempty"`
	EngagementName string `json:"engagementName,omitempty"`
	GoalID         string `json:"goalId,omitempty"`
	GoalName       string `json:"goalName,omitempty"`
	// Source is where the engagement was: "WEB_SITE".
	Source string `json:"engagementSource,omitempty"`
}

// Context is where the consumer was when the conversation started.
type Context struct {
	VisitID   string `json:"visitId,omitempty"`
	PageURL   string `json:"pageUrl,omitempty"`
	PageTitle string `json:"pageTitle,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	// Device is DESKTOP, TABLET, MOBILE or empty; Browser and OS as the
	// user agent names them.
	Device   string `json:"device,omitempty"`
	Browser  string `json:"browser,omitempty"`
	OS       string `json:"os,omitempty"`
	IP       string `json:"ip,omitempty"`
	Language string `json:"language,omitempty"`
}

// Identity is a consumer's proven identity (an authenticated visitor's
// JWT claims).
type Identity struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	ACR     string `json:"acr,omitempty"`
}

// Conversation is a conversation without its messages and statuses, which
// the store keeps apart (Store.Messages, Store.Statuses).
type Conversation struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
	// ConsumerID is the visitor id of the consumer.
	ConsumerID string `json:"consumerId"`
	// Identity is the consumer's proven identity, when they are
	// authenticated.
	Identity *Identity `json:"identity,omitempty"`
	State    State     `json:"state"`
	// Start and End are Unix milliseconds; End is 0 while open.
	Start       int64       `json:"start"`
	End         int64       `json:"end,omitempty"`
	CloseReason CloseReason `json:"closeReason,omitempty"`
	// SkillID and SkillName are the conversation's current skill (-1 and
	// "" when it has none).
	SkillID   int64    `json:"skillId"`
	SkillName string   `json:"skillName,omitempty"`
	Campaign  Campaign `json:"campaign"`
	Context   Context  `json:"context"`
	// Participants in the order they joined, those who left included.
	Participants []Participant `json:"participants"`
	Transfers    []Transfer    `json:"transfers,omitempty"`
	Surveys      []Survey      `json:"surveys,omitempty"`
	// CSAT is the consumer's satisfaction score 1-5; 0 when not given.
	CSAT       int         `json:"csat,omitempty"`
	Attributes []Attribute `json:"attributes,omitempty"`
	// Messages is how many messages the conversation has: the next
	// message's Seq.
	Messages int `json:"messages"`
	// Updated is when the conversation last changed (a message included).
	Updated int64 `json:"updated"`
}

// Participant returns the participant id is, and whether they are or
// were in the conversation.
func (c *Conversation) Participant(id string) (Participant, bool) {
	for i := len(c.Participants) - 1; i >= 0; i-- {
		if c.Participants[i].ID == id {
			return c.Participants[i], true
		}
	}
	return Participant{}, false
}

// Errors of stores.
var (
	ErrNotFound = errors.New("conversation not found")
	ErrExists   = errors.New("conversation exists")
	// ErrClosed is returned for a message or a change to a closed
	// conversation that only open ones take.
	ErrClosed = errors.New("conversation is closed")
)
