package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sightline/sightline/internal/campaign"
)

// handlerFunc serves an authenticated request of account; an error it
// returns is answered by writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request, account string) error

// api authenticates requests for fn.
func (h *Handler) api(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		account := r.PathValue("accountId")
		err := h.authenticate(r, account)
		if err == nil {
			err = fn(w, r, account)
		}
		if err != nil {
			h.writeError(w, r, account, err)
		}
	})
}

// authenticate checks the request's bearer token against account's.
func (h *Handler) authenticate(r *http.Request, account string) error {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return &apiError{status: http.StatusUnauthorized, wwwAuth: `Bearer realm="sightline"`,
			msg: "missing admin token: send Authorization: Bearer <token> (sightline accounts token ID creates one)"}
	}
	exists, ok := h.tokens.CheckAdminToken(account, token)
	switch {
	case !exists:
		return notFound("no account %q", account)
	case !ok:
		return &apiError{status: http.StatusUnauthorized, wwwAuth: `Bearer realm="sightline", error="invalid_token"`,
			msg: fmt.Sprintf("the token is not the admin token of account %q", account)}
	}
	return nil
}

// apiError is an error answered with status and msg.
type apiError struct {
	status  int
	msg     string
	wwwAuth string // WWW-Authenticate, for a 401
}

func (e *apiError) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// errorBody is the body of every error answer.
type errorBody struct {
	Error string `json:"error"`
	// Field is the path of the definition that is not valid, for a 422.
	Field string `json:"field,omitempty"`
}

// writeError answers err: the one place that maps errors to statuses.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, account string, err error) {
	ae, isAPI := errors.AsType[*apiError](err)
	fe, isField := errors.AsType[*campaign.FieldError](err)
	body := errorBody{Error: err.Error()}
	status := http.StatusInternalServerError
	switch {
	case isAPI:
		status = ae.status
		if ae.wwwAuth != "" {
			w.Header().Set("WWW-Authenticate", ae.wwwAuth)
		}
	case isField:
		status, body.Field = http.StatusUnprocessableEntity, fe.Field
	case errors.Is(err, campaign.ErrConflict):
		status = http.StatusConflict
		body.Error = fmt.Sprintf("the campaign definitions of %s changed meanwhile (updated by another process): try again", account)
	case r.Context().Err() != nil:
		return // the client is gone
	default:
		h.logger.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		body.Error = "internal error"
	}
	writeJSON(w, status, "", body)
}

// writeJSON answers v with status, and ETag etag unless empty.
func writeJSON(w http.ResponseWriter, status int, etag string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil { // the model always encodes
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// etag is the ETag of a revision or version.
func etag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

// checkIfMatch returns a 412 error when the request has an If-Match that
// current, the revision (or version) of what, does not match.
func checkIfMatch(r *http.Request, current int64, what string) error {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return nil
	}
	for _, v := range strings.Split(strings.Join(values, ","), ",") {
		v = strings.TrimSpace(v)
		if v == "*" {
			return nil
		}
		n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
		if err != nil {
			return badRequest(`If-Match: %q is not a revision ("3" or 3)`, v)
		}
		if n == current {
			return nil
		}
	}
	return &apiError{status: http.StatusPreconditionFailed,
		msg: fmt.Sprintf("%s is at %s, not If-Match %s", what, etag(current), strings.Join(values, ", "))}
}

// decode reads the request's body, a JSON object, into v: only fields v
// has, at most MaxBody bytes.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body larger than %d bytes", MaxBody)}
		}
		return badRequest("cannot read request body: %v", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return badRequest("request body: want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("request body: %s", jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("request body: data after the JSON object")
	}
	return nil
}

// jsonError describes a decoding error with where it is.
func jsonError(err error) string {
	se, isSyntax := errors.AsType[*json.SyntaxError](err)
	te, isType := errors.AsType[*json.UnmarshalTypeError](err)
	switch {
	case isSyntax:
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case isType && te.Field != "":
		return fmt.Sprintf("field %s: %s is not a %s", te.Field, te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// pathID is the positive ID in path parameter name, of an object of the
// kind what.
func pathID(r *http.Request, name, what string) (int64, error) {
	s := r.PathValue(name)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("no %s %s", what, s)
	}
	return id, nil
}
