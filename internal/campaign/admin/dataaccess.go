package admin

import (
	"net/http"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/websession"
)

// DocumentShapes keeps how each account's web-session documents are
// written and served (account.Account.DocumentShape): *account.Store.
type DocumentShapes interface {
	Get(id string) (*account.Account, bool)
	SetDocumentShape(id string, shape websession.Shape) error
}

// dataAccess is the body of GET and PUT dataAccess.
type dataAccess struct {
	// DocumentShape is "plain" or "wrapped" (websession.ParseShape).
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
	writeJSON(w, http.StatusOK, "", dataAccess{DocumentShape: a.DocumentShape.String()})
	return nil
}

func (h *Handler) putDataAccess(w http.ResponseWriter, r *http.Request, id string) error {
	var body dataAccess
	if err := decode(w, r, &body); err != nil {
		return err
	}
	shape, err := websession.ParseShape(body.DocumentShape)
	if err != nil {
		return &campaign.FieldError{Field: "documentShape", Msg: err.Error()}
	}
	if err := h.shapes.SetDocumentShape(id, shape); err != nil {
		return err
	}
	h.logger.Info("data access settings changed", "account", id, "documentShape", shape)
	writeJSON(w, http.StatusOK, "", dataAccess{DocumentShape: shape.String()})
	return nil
}
