package demo

import "github.com/sightline/sightline/internal/campaign"

// The OLED week campaign and its embedded offer, whose click the shop's
// pages hear on lpTag.events to keep the coupon.
const (
	oledCampaignID   = 1002
	oledEngagementID = 2002
	// offerElementID is the element of the TV pages the offer is embedded in.
	offerElementID = "demo-offer"
)

// ChatSkill is the skill of the demo's chat engagement: conversations
// started from its slide-out ring the agents who serve it.
const ChatSkill = "tv-experts"

// Definitions are the demo account's campaigns: a cart-abandonment
// slide-out chat button (visitors with a cart who browse on without buying,
// goal: a purchase), under a site control group of 10% that sees nothing,
// and an offer embedded in the TV pages (goal: reaching the cart), whose
// button gives the visitor 10% off the OLED TVs in the cart.
func Definitions() *campaign.Definitions {
	one := 1.0
	return &campaign.Definitions{
		Settings:     campaign.Settings{SiteControlGroup: 10},
		Availability: campaign.Availability{ChatSkill: "online"},
		Profiles: []campaign.Profile{
			{ID: 101, Name: "Cart holders", Rules: []campaign.Rule{{Kind: "cartItems", Min: &one}}},
		},
		Behaviors: []campaign.Behavior{
			{ID: 201, Name: "Abandoning the cart", Rules: []campaign.Rule{{Kind: "abandoningCart", Pages: 1}}},
			{ID: 202, Name: "Browsing TVs", Rules: []campaign.Rule{{Kind: "section", Values: []string{"tv"}}}},
		},
		Goals: []campaign.Goal{
			{ID: 301, Name: "Purchase", Type: "purchase"},
			{ID: 302, Name: "Reach the cart", Type: "url", URL: &campaign.Rule{Match: "contains", Values: []string{"/demo/cart"}}},
		},
		Campaigns: []campaign.Campaign{
			{ID: 1001, Name: "Cart abandonment", Status: "active", Priority: 10, GoalID: 301, ProfileIDs: []int64{101},
				Engagements: []campaign.Engagement{{ID: 2001, Name: "Slide-out chat button", Type: 3, Zone: 1,
					Interaction: "chat", SkillID: 11, SkillName: ChatSkill, Availability: "always", BehaviorIDs: []int64{201}, FrequencyCap: 3,
					Content: campaign.Content{Title: "Still thinking it over?", Text: "Our TV experts answer in a minute.", Button: "Chat now",
						Background: "#fffbe6", ButtonColor: "#ffd24d"}}}},
			{ID: oledCampaignID, Name: "OLED week", Status: "active", Priority: 5, GoalID: 302,
				Engagements: []campaign.Engagement{{ID: oledEngagementID, Name: "OLED offer", Type: 5, Zone: 2,
					Interaction: "content", Availability: "always", BehaviorIDs: []int64{202},
					Content: campaign.Content{Title: "10% off OLED TVs this week", Text: "The discount shows in your cart.", Button: "Get the offer",
						Background: "#eef3ff", ButtonColor: "#ffd24d", ElementID: offerElementID}}}},
		},
	}
}
