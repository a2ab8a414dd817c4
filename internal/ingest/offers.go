package ingest

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/websession"
)

// Campaigns gives the campaign decision engine of an account.
type Campaigns interface {
	Engine(ctx context.Context, account string) (*campaign.Engine, error)
}

// UseCampaigns has the collector decide, for every batch of an account
// with active campaigns, which engagements the page shows (package
// campaign), answer them with the visit's state signed with key, and store
// the assessments and goals the decision records beside the batch's
// events. Call it before serving.
func (h *Handler) UseCampaigns(c Campaigns, en campaign.Enricher, key *campaign.StateKey) {
	h.campaigns, h.enricher, h.stateKey = c, en, key
}

// UsePresence makes the connected agents decide the agents' state of the
// skills an account's availability does not set (see
// campaign.Request.Presence): presence returns "online", "busy" or
// "offline" for a skill of an account. Call it before serving.
func (h *Handler) UsePresence(presence func(account, skill string) string) {
	h.presence = presence
}

// decide runs the campaign engine of the account on batch b, and returns
// the decision, or nil when the account has no active campaign. The state
// the batch brings back counts only when this server's key signed it for
// the visitor. k.state gets the state to answer, signed, or nothing when
// it cannot be written: the tag then keeps the state it has.
func (h *Handler) decide(ctx context.Context, accountID string, b *event.Batch, rec *event.Stored, k *work) *campaign.Decision {
	if h.campaigns == nil {
		return nil
	}
	eng, err := h.campaigns.Engine(ctx, accountID)
	if err != nil {
		h.logger.Error("cannot load campaigns", "account", accountID, "err", err)
		return nil
	}
	if eng.Empty() {
		return nil
	}
	st, refused := h.stateKey.Read(b.State, accountID, b.VisitorID)
	if refused {
		h.metrics.statesRefused.Inc()
	}
	req := &campaign.Request{
		VisitorID: b.VisitorID, VisitID: b.VisitID, State: st, Events: b.Events,
		IP: rec.IP, UserAgent: rec.UserAgent, Now: h.now(),
	}
	if h.presence != nil {
		req.Presence = func(skill string) string { return h.presence(accountID, skill) }
	}
	d := eng.Decide(req, h.enricher)
	if k.state, err = h.stateKey.AppendJSON(k.state[:0], &d.State, accountID, b.VisitorID); err != nil {
		h.logger.Error("campaign state not answered", "account", accountID, "err", err)
	}
	return &d
}

// appendRecords appends to k.records the events decision d records, as
// stored events of rec's visit.
func appendRecords(k *work, rec *event.Stored, d *campaign.Decision) {
	for _, r := range d.Records {
		rec.ID, rec.Time, rec.AppName, rec.EventName, rec.Data = uuid.NewString(), r.Time, websession.AppCampaigns, r.EventName, r.Data
		k.records = k.writer.Append(k.records, rec)
		k.ends = append(k.ends, len(k.records))
	}
}

// appendDecision appends the answer's "engagements" (when the decision
// shows any) and "state" members: state is d's state, signed, left out
// when empty.
func appendDecision(dst []byte, d *campaign.Decision, state []byte) []byte {
	if d == nil {
		return dst
	}
	if len(d.Offers) > 0 {
		offers, _ := json.Marshal(d.Offers)
		dst = append(append(dst, `,"engagements":`...), offers...)
	}
	if len(state) == 0 {
		return dst
	}
	return append(append(dst, `,"state":`...), state...)
}
