package ingest

import (
	"net/http"
	"strconv"

	"github.com/sightline/sightline/internal/account"
)

// checkAccount finds the request's account and checks its Origin header.
// When it returns nil it has answered the request with the returned status.
func (h *Handler) checkAccount(w http.ResponseWriter, r *http.Request) (*account.Account, int) {
	id := r.PathValue("accountId")
	acct, ok := h.accounts.Get(id)
	if !ok {
		return nil, writeError(w, http.StatusNotFound, "unknown account "+strconv.Quote(id))
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return acct, 0 // a server, not a browser
	}
	if !acct.AllowsOrigin(origin) {
		h.metrics.forbiddenOrigin.Inc()
		return nil, writeError(w, http.StatusForbidden, "origin "+strconv.Quote(origin)+" is not allowed for account "+acct.ID)
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", origin)
	hd.Add("Vary", "Origin")
	return acct, 0
}

// servePreflight answers CORS preflight requests for allowed origins.
func (h *Handler) servePreflight(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") == "" {
		w.Header().Set("Allow", "POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if acct, _ := h.checkAccount(w, r); acct == nil {
		return
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Methods", "POST")
	hd.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding")
	hd.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
