// Package event is Sightline's event vocabulary: the batch a browser tag
// posts to /api/account/{accountId}/events, the validation of every event
// against the specification in spec/, and the encoding of an event as it is
// stored in the event log.
//
// # Batches
//
// A Decoder turns a request body into a Batch. A body that is not a JSON
// object with a valid visitorId, visitId and events array is rejected as a
// whole (a *BatchError); otherwise every event is checked on its own and
// lands in Batch.Events or, with a *FieldError naming the offending path,
// in Batch.Rejected.
//
// # The vocabulary
//
// Each app's events and payloads are written once, as Go data in a small
// schema language (schema.go), and checked by one validator (validate.go):
//
//   - LP_OFFERS: the engagement lifecycle events of
//     spec/engagement-events.md (offers.go);
//   - LP_MONITORING PAGE_VIEW: page views (pageview.go);
//   - lp_sdes VAR_ADDED: the 10 engagement attribute types as pages push
//     them (spec/README.md, spec/engagement-attributes.txt; sdes.go);
//   - CHAT: the chat events catalog (spec/chat-events.txt, generated into
//     chat_catalog.go by go generate) and custom chat events (chat.go).
//
// # Records
//
// AppendRecord writes a Stored event as one line of JSON, the form the event
// log keeps and `sightline events tail` prints; ParseRecord reads it back.
//
// # Performance
//
// Decoding is on the ingest hot path, so it allocates nothing in steady
// state: the Decoder keeps its buffers between calls, validation walks the
// parsed tree without copying, event data is written into one reusable
// buffer, and the few strings a batch yields (ids) are carved out of large
// shared chunks. Records are written by appending to the caller's buffer.
//
// JSON is parsed with github.com/valyala/fastjson, the parser
// VictoriaMetrics uses on its ingestion paths: a fastjson.Parser is
// reusable, and once its internal buffers have grown it parses without
// allocating, giving a tree whose strings point into its own copy of the
// input. encoding/json would allocate for every value of every event.
//
// fastjson's parser checks a document's structure but is lenient inside
// strings and with numbers. Decode does not add fastjson.Validate, which
// costs a second parse (and, in v1.6.10, misses a control character that
// precedes an escape); it checks the strings of the body in two fast passes
// (strict.go), and a number where validation reads it: a malformed number
// ("01", NaN) rejects its event with ReasonFormat. Everything Decode writes
// out is valid JSON.
package event
