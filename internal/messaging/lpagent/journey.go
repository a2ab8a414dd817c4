package lpagent

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/sessionizer"
	"github.com/sightline/sightline/internal/user"
)

// The agent workspace (web/console) speaks the protocol above, and reads
// two things the protocol does not carry, with its bearer in an
// Authorization header:
//
//	GET /api/account/{id}/agent/skills                            the account's skills, for transfers
//	GET /api/account/{id}/agent/conversations/{convId}/journey    the visitor's journey: the conversation's
//	                                                              context, engagement attributes and the pages
//	                                                              of the visit so far
//
// A bearer is good for its own account only (401 on another's path), and
// a conversation is looked up in the path's account only (404 for
// another account's), so an agent of one account never reads another's.

// Paths of the agent workspace's reads.
const (
	SkillsPath  = "GET /api/account/{accountId}/agent/skills"
	JourneyPath = "GET /api/account/{accountId}/agent/conversations/{conversationId}/journey"
)

// Visits finds the pages of a visitor's open visit: the sessionizer's
// VisitPages.
type Visits interface {
	VisitPages(ctx context.Context, account, visitor, visit string, limit int) ([]sessionizer.Page, bool, error)
}

var _ Visits = (*sessionizer.Sessionizer)(nil)

// UseVisits makes the journeys carry the pages of the visitor's visit.
// Without it (a server without web sessions) they carry none.
func (h *Handler) UseVisits(v Visits) { h.visits = v }

// pagesTimeout bounds the lookup of a visit's pages: a journey without
// them is better than a late one.
const pagesTimeout = 3 * time.Second

// maxJourneyAttributes is the most engagement attributes a journey
// lists: the newest.
const maxJourneyAttributes = 500

// agentOfRequest returns the agent whose bearer the request carries, or
// answers 401 (404 for an unknown account) and returns false.
func (h *Handler) agentOfRequest(w http.ResponseWriter, r *http.Request, endpoint string) (user.User, bool) {
	acct := r.PathValue("accountId")
	if _, ok := h.accounts.Get(acct); !ok {
		h.metrics.http(endpoint, http.StatusNotFound)
		writeJSON(w, http.StatusNotFound, loginError{Error: "no account " + strconv.Quote(acct), InternalCode: http.StatusNotFound})
		return user.User{}, false
	}
	refuse := func(msg string) (user.User, bool) {
		h.metrics.http(endpoint, http.StatusUnauthorized)
		w.Header().Set("WWW-Authenticate", `Bearer realm="sightline", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, loginError{Error: msg, InternalCode: CodeUnauthorized})
		return user.User{}, false
	}
	b, ok := bearerOf(r)
	if !ok {
		return refuse("the login's bearer is required: Authorization: Bearer ...")
	}
	t, err := h.tokens.decode(b)
	switch {
	case err != nil || t.kind != kindBearer:
		return refuse("bearer is not one of this server's")
	case t.account != acct:
		return refuse("the bearer is of another account")
	}
	if _, err := h.sessions.until(t, h.now()); err != nil {
		return refuse("session: " + err.Error())
	}
	u, ok := h.users.ByID(acct, t.user)
	if !ok {
		return refuse("the bearer's user is gone")
	}
	return u, true
}

// skillInfo is a skill of the account, as the workspace's transfer lists
// it: id -1 for a skill that agents serve and no engagement names.
type skillInfo struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// serveSkills answers the account's skills: those its engagements name,
// then those its agents serve, by name.
func (h *Handler) serveSkills(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.agentOfRequest(w, r, "skills"); !ok {
		return
	}
	acct := r.PathValue("accountId")
	out := []skillInfo{}
	seen := map[string]bool{}
	for _, s := range h.svc.Skills(acct) {
		if s.Name != "" && !seen[s.Name] {
			seen[s.Name] = true
			out = append(out, skillInfo{ID: s.ID, Name: s.Name})
		}
	}
	var more []string
	for _, u := range h.users.List(acct) {
		for _, s := range u.Skills {
			if !seen[s] {
				seen[s] = true
				more = append(more, s)
			}
		}
	}
	slices.Sort(more)
	for _, s := range more {
		out = append(out, skillInfo{ID: -1, Name: s})
	}
	h.metrics.http("skills", http.StatusOK)
	writeJSON(w, http.StatusOK, out)
}

// journey is the visitor's journey beside a conversation.
type journey struct {
	ConversationID string                  `json:"conversationId"`
	ConsumerID     string                  `json:"consumerId"`
	State          string                  `json:"state"`
	StartTs        int64                   `json:"startTs"`
	Skill          skillInfo               `json:"skill"`
	Campaign       conversation.Campaign   `json:"campaign"`
	Context        conversation.Context    `json:"context"`
	Identity       *conversation.Identity  `json:"identity,omitempty"`
	Transfers      []conversation.Transfer `json:"transfers"`
	// UnAuthSdes and Sdes are the conversation's engagement attributes
	// as the page pushed them (unauthenticated) and as the visitor's
	// proven identity or the brand's server gave them (authenticated), in
	// the order they came.
	UnAuthSdes []conversation.Attribute `json:"unAuthSdes"`
	Sdes       []conversation.Attribute `json:"sdes"`
	// Pages are the pages of the visit so far; PagesKnown says whether
	// the visit was found open (a server without web sessions, or a
	// visit that has ended, has none).
	Pages      []sessionizer.Page `json:"pages"`
	PagesKnown bool               `json:"pagesKnown"`
}

// serveJourney answers the journey of a conversation of the account.
func (h *Handler) serveJourney(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.agentOfRequest(w, r, "journey"); !ok {
		return
	}
	acct, id := r.PathValue("accountId"), r.PathValue("conversationId")
	c, err := h.svc.Get(r.Context(), acct, id)
	if errors.Is(err, conversation.ErrNotFound) {
		h.metrics.http("journey", http.StatusNotFound)
		writeJSON(w, http.StatusNotFound, loginError{Error: "no conversation " + strconv.Quote(id) + " in account " + acct,
			InternalCode: http.StatusNotFound})
		return
	}
	if err != nil {
		h.logger.Error("cannot read a conversation", "account", acct, "conversation", id, "err", err)
		h.metrics.http("journey", http.StatusInternalServerError)
		writeJSON(w, http.StatusInternalServerError, loginError{Error: "cannot read the conversation", InternalCode: http.StatusInternalServerError})
		return
	}
	j := journey{ConversationID: c.ID, ConsumerID: c.ConsumerID, State: string(c.State), StartTs: c.Start,
		Skill: skillInfo{ID: c.SkillID, Name: c.SkillName}, Campaign: c.Campaign, Context: c.Context, Identity: c.Identity,
		Transfers: c.Transfers, UnAuthSdes: []conversation.Attribute{}, Sdes: []conversation.Attribute{}, Pages: []sessionizer.Page{}}
	attrs := c.Attributes
	if len(attrs) > maxJourneyAttributes {
		attrs = attrs[len(attrs)-maxJourneyAttributes:]
	}
	for _, a := range attrs {
		if a.Authenticated {
			j.Sdes = append(j.Sdes, a)
		} else {
			j.UnAuthSdes = append(j.UnAuthSdes, a)
		}
	}
	if j.Transfers == nil {
		j.Transfers = []conversation.Transfer{}
	}
	if h.visits != nil {
		ctx, cancel := context.WithTimeout(r.Context(), pagesTimeout)
		pages, open, err := h.visits.VisitPages(ctx, acct, c.ConsumerID, c.Context.VisitID, sessionizer.MaxPages)
		cancel()
		if err != nil && r.Context().Err() == nil {
			h.logger.Warn("cannot read the pages of a visit", "account", acct, "conversation", id, "err", err)
		}
		if pages != nil {
			j.Pages = pages
		}
		j.PagesKnown = open && err == nil
	}
	h.metrics.http("journey", http.StatusOK)
	writeJSON(w, http.StatusOK, j)
}
