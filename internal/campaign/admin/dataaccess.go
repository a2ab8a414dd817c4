package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/campaign"
)

// DocumentShapes keeps how each account's web-session documents are
// written and served (account.Account.DocumentShape): *account.Store.
type DocumentShapes interface {
	Get(id string) (*account.Account, bool)
	SetDocumentShape(id, shape string) error
}

// dataAccess is the body of GET and PUT dataAccess.
type dataAccess struct {
	// DocumentShape is "plain" or "wrapped" (account.DocumentShapes).
	DocumentShape string `json:"documentShape"`
}

// ServeDocumentShapes adds, at Register, GET and PUT dataAccess: the
// account's Data Access settings, {"documentShape": "plain"|"wrapped"}.
func (h *Handler) ServeDocumentShapes(s DocumentShapes) *Handler {
	h.shapes = s
	return h
}

func (h *Handler) getDataAccess(w http.ResponseWriter, r *http.Request, id string) error {
	a, ok := h.shapes.Get(id)
	if !ok {
		return notFound("no account %q", id)
	}
	writeJSON(w, http.StatusOK, "", dataAccess{DocumentShape: shapeName(a.DocumentShape)})
	return nil
}

func (h *Handler) putDataAccess(w http.ResponseWriter, r *http.Request, id string) error {
	var body dataAccess
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if !slices.Contains(account.DocumentShapes, body.DocumentShape) {
		return &campaign.FieldError{Field: "documentShape",
			Msg: fmt.Sprintf("%q is not one of %s", body.DocumentShape, strings.Join(account.DocumentShapes, ", "))}
	}
	if err := h.shapes.SetDocumentShape(id, body.DocumentShape); err != nil {
		return err
	}
	h.logger.Info("data access settings changed", "account", id, "documentShape", body.DocumentShape)
	writeJSON(w, http.StatusOK, "", body)
	return nil
}

// shapeName is the name of a stored shape, "" being plain.
func shapeName(shape string) string {
	if shape == "" {
		return "plain"
	}
	return shape
}
