package admin

import (
	"fmt"
	"net/http"

	"github.com/sightline/sightline/internal/campaign"
)

// update applies change to the definitions of account, logging the new
// version.
func (h *Handler) update(r *http.Request, account string, change func(d *campaign.Definitions) error) (*campaign.Definitions, error) {
	d, err := h.defs.Update(r.Context(), account, change)
	if err != nil {
		return nil, err
	}
	h.logger.Info("campaign definitions updated", "account", account, "version", d.Version, "method", r.Method, "path", r.URL.Path)
	return d, nil
}

// updateWhole is update for a change of what is versioned with the
// definitions as a whole (all of them, settings, availability): an
// If-Match names their version.
func (h *Handler) updateWhole(r *http.Request, account string, change func(d *campaign.Definitions) error) (*campaign.Definitions, error) {
	return h.update(r, account, func(d *campaign.Definitions) error {
		if err := checkIfMatch(r, d.Version, versionOf(account)); err != nil {
			return err
		}
		return change(d)
	})
}

// versionOf names the definitions of account for If-Match errors.
func versionOf(account string) string {
	return fmt.Sprintf("the campaign definitions of %s", account)
}

// whole serves a part of the definitions versioned with them as a whole,
// of type T: all of them, the settings, the availability. GET reads it,
// PUT replaces it; both answer it with the definitions' ETag.
type whole[T any] struct {
	h *Handler
	// view returns the part of d, as answered (empty lists, not null).
	view func(d *campaign.Definitions) T
	// set replaces the part of d with t.
	set func(d *campaign.Definitions, t T)
}

// registerWhole adds the routes of part at path.
func registerWhole[T any](route func(string, handlerFunc), path string, part whole[T]) {
	route("GET "+path, part.get)
	route("PUT "+path, part.put)
}

func (p whole[T]) get(w http.ResponseWriter, r *http.Request, account string) error {
	d, err := p.h.defs.Definitions(r.Context(), account)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, etag(d.Version), p.view(d))
	return nil
}

func (p whole[T]) put(w http.ResponseWriter, r *http.Request, account string) error {
	var t T
	if err := decode(w, r, &t); err != nil {
		return err
	}
	d, err := p.h.updateWhole(r, account, func(d *campaign.Definitions) error {
		p.set(d, t)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, etag(d.Version), p.view(d))
	return nil
}

// withLists returns d with empty lists rather than null ones. A PUT of the
// whole replaces all but version and nextId, which are the server's.
func withLists(d *campaign.Definitions) *campaign.Definitions {
	c := *d
	c.Campaigns = nonNil(c.Campaigns)
	c.Profiles = nonNil(c.Profiles)
	c.Behaviors = nonNil(c.Behaviors)
	c.Goals = nonNil(c.Goals)
	return &c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// availability returns the availability of d, empty rather than null.
func availability(d *campaign.Definitions) campaign.Availability {
	if d.Availability == nil {
		return campaign.Availability{}
	}
	return d.Availability
}

// skillState is the body of PUT availability/{skill}.
type skillState struct {
	State string `json:"state"`
}

// putSkill sets the state of one skill.
func (h *Handler) putSkill(w http.ResponseWriter, r *http.Request, account string) error {
	skill := r.PathValue("skill")
	var s skillState
	if err := decode(w, r, &s); err != nil {
		return err
	}
	d, err := h.updateWhole(r, account, func(d *campaign.Definitions) error {
		if d.Availability == nil {
			d.Availability = campaign.Availability{}
		}
		d.Availability[skill] = s.State
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, etag(d.Version), skillState{State: d.Availability[skill]})
	return nil
}

// deleteSkill removes a skill's state: it is offline.
func (h *Handler) deleteSkill(w http.ResponseWriter, r *http.Request, account string) error {
	skill := r.PathValue("skill")
	_, err := h.updateWhole(r, account, func(d *campaign.Definitions) error {
		if _, ok := d.Availability[skill]; !ok {
			return notFound("no state of skill %q", skill)
		}
		delete(d.Availability, skill)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
