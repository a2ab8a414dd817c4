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
// Whatever a value of an event holds, the event is the most it can cost:
// a number beyond a float64, a negative amount or a value nested deeper
// than its event allows, at any depth, rejects that event. Bytes of event
// data that are not UTF-8 are no reason to reject: each is written as
// U+FFFD, as encoding/json does, and counted (Batch.InvalidUTF8).
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
// Decoding is on the ingest hot path, so it reads the body once and
// allocates nothing in steady state. A scanner (scan.go) reads the JSON value
// by value, without building a tree, and the validator checks each value
// against the schema as it is read and writes it to one reusable buffer of
// compact event data; the few strings a batch yields (ids) are carved out of
// large shared chunks. Records are written by appending to the caller's
// buffer, and ParseRecord reads them with the same scanner.
//
// The scanner is strict JSON (RFC 8259) but for numbers: a number token is
// read loosely and checked where it is used, so that a malformed number
// ("01", NaN) rejects its event with ReasonFormat, naming the field, instead
// of the whole batch. Everything Decode writes out is valid JSON. It sets no
// limit on nesting and skips what is not checked without recursing, so
// that a body is read in time and memory proportional to its size.
package event
