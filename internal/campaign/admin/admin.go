// Package admin is the REST API through which an account's admins manage
// its campaign definitions: settings, the agents' availability, campaigns
// and their engagements, visitor profiles, visitor behaviors and goals.
// Every route is below /api/account/{accountId}/ and needs the account's
// admin token (Authorization: Bearer slat_...).
//
// Objects answer with ETag "<revision>" (settings, availability and the
// whole definitions: "<version>"); PUT and DELETE honour If-Match with
// such a value. Errors are JSON {"error": "..."} (with "field" for a
// definition that is not valid), their status mapped in one place
// (writeError).
package admin

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/campaign"
)

// Prefix is the path of every route, below which each names what it
// manages.
const Prefix = "/api/account/{accountId}/"

// MaxBody is the largest request body, in bytes.
const MaxBody = 16 << 20

// Definitions keeps the accounts' campaign definitions: *campaign.Service.
type Definitions interface {
	// Definitions returns the definitions of account.
	Definitions(ctx context.Context, account string) (*campaign.Definitions, error)
	// Update applies change to the definitions of account and stores them
	// once valid, returning them.
	Update(ctx context.Context, account string, change func(d *campaign.Definitions) error) (*campaign.Definitions, error)
}

// Tokens authenticates admin requests: *account.Store.
type Tokens interface {
	// CheckAdminToken reports whether account exists and, if so, whether
	// token is its admin token.
	CheckAdminToken(account, token string) (exists, ok bool)
}

// Handler serves the admin API.
type Handler struct {
	defs   Definitions
	tokens Tokens
	logger *slog.Logger
	shapes DocumentShapes // nil: no dataAccess routes
}

// New returns the admin API over defs, authenticated by tokens. logger
// (nil: none) gets every change and every internal error.
func New(defs Definitions, tokens Tokens, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{defs: defs, tokens: tokens, logger: logger.With("component", "campaign-admin")}
}

// Register adds the API's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	route := func(pattern string, fn handlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+Prefix+path, h.api(fn))
	}
	registerWhole(route, "definitions", whole[*campaign.Definitions]{
		h: h, view: withLists,
		set: func(d *campaign.Definitions, body *campaign.Definitions) { *d = *body },
	})
	registerWhole(route, "settings", whole[campaign.Settings]{
		h: h, view: func(d *campaign.Definitions) campaign.Settings { return d.Settings },
		set: func(d *campaign.Definitions, s campaign.Settings) { d.Settings = s },
	})
	registerWhole(route, "availability", whole[campaign.Availability]{
		h: h, view: availability,
		set: func(d *campaign.Definitions, a campaign.Availability) { d.Availability = a },
	})
	route("PUT availability/{skill}", h.putSkill)
	if h.shapes != nil {
		route("GET dataAccess", h.getDataAccess)
		route("PUT dataAccess", h.putDataAccess)
	}
	route("DELETE availability/{skill}", h.deleteSkill)

	registerCollection(route, "campaigns", "id", collection[campaign.Campaign]{
		h: h, what: "campaign",
		items: func(d *campaign.Definitions, _ *http.Request) (*[]campaign.Campaign, error) { return &d.Campaigns, nil },
		meta:  func(c *campaign.Campaign) (*int64, int64) { return &c.ID, c.Revision },
	})
	registerCollection(route, "campaigns/{id}/engagements", "eid", collection[campaign.Engagement]{
		h: h, what: "engagement",
		items: campaignEngagements,
		meta:  func(e *campaign.Engagement) (*int64, int64) { return &e.ID, e.Revision },
	})
	registerCollection(route, "visitorProfiles", "id", collection[campaign.Profile]{
		h: h, what: "visitor profile",
		items: func(d *campaign.Definitions, _ *http.Request) (*[]campaign.Profile, error) { return &d.Profiles, nil },
		meta:  func(p *campaign.Profile) (*int64, int64) { return &p.ID, p.Revision },
	})
	registerCollection(route, "visitorBehaviors", "id", collection[campaign.Behavior]{
		h: h, what: "visitor behavior",
		items: func(d *campaign.Definitions, _ *http.Request) (*[]campaign.Behavior, error) { return &d.Behaviors, nil },
		meta:  func(b *campaign.Behavior) (*int64, int64) { return &b.ID, b.Revision },
	})
	registerCollection(route, "goals", "id", collection[campaign.Goal]{
		h: h, what: "goal",
		items: func(d *campaign.Definitions, _ *http.Request) (*[]campaign.Goal, error) { return &d.Goals, nil },
		meta:  func(g *campaign.Goal) (*int64, int64) { return &g.ID, g.Revision },
	})
}

// campaignEngagements returns the engagements of the request's campaign.
func campaignEngagements(d *campaign.Definitions, r *http.Request) (*[]campaign.Engagement, error) {
	id, err := pathID(r, "id", "campaign")
	if err != nil {
		return nil, err
	}
	for i := range d.Campaigns {
		if d.Campaigns[i].ID == id {
			return &d.Campaigns[i].Engagements, nil
		}
	}
	return nil, notFound("no campaign %d", id)
}
