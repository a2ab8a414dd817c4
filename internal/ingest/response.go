package ingest

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/event"
)

// Answer is the body of a 200 answer to a batch, as clients decode it.
// appendResult writes it.
type Answer struct {
	Accepted   int             `json:"accepted"`
	Duplicates int             `json:"duplicates"`
	Rejected   []RejectedEvent `json:"rejected"`
}

// RejectedEvent is an event of a batch that failed validation.
type RejectedEvent struct {
	Index int    `json:"index"`
	ID    string `json:"id,omitempty"`
	Error string `json:"error"`
}

// Failure is the body of every answer other than 200.
type Failure struct {
	Error string `json:"error"`
}

// writeError answers with code and {"error": msg}, and returns code.
func writeError(w http.ResponseWriter, code int, msg string) int {
	b, _ := json.Marshal(Failure{msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
	return code
}

// appendResult appends the answer to a stored batch:
// {"accepted": N, "duplicates": D, "rejected": [{"index": i, "id": "...", "error": "..."}]},
// with the "engagements" and "state" of the campaign decision d, if any
// (state signed).
func appendResult(dst []byte, accepted, duplicates int, rejected []event.Rejection, d *campaign.Decision, state []byte) []byte {
	dst = append(dst, `{"accepted":`...)
	dst = strconv.AppendInt(dst, int64(accepted), 10)
	dst = append(dst, `,"duplicates":`...)
	dst = strconv.AppendInt(dst, int64(duplicates), 10)
	dst = append(dst, `,"rejected":[`...)
	for i, r := range rejected {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"index":`...)
		dst = strconv.AppendInt(dst, int64(r.Index), 10)
		if r.ID != "" {
			dst = append(dst, `,"id":`...)
			dst = appendJSONString(dst, r.ID)
		}
		dst = append(dst, `,"error":`...)
		dst = appendJSONString(dst, r.Err.Error())
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	return append(appendDecision(dst, d, state), "}\n"...)
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}
