package event

// MaxEvents is the largest number of events a batch may hold.
const MaxEvents = 1000

// Batch is one decoded request body: the visitor and visit it is about, the
// events that passed validation and those that did not.
//
// Strings in a Batch are ordinary immutable strings and may be kept. Each
// Event's Data aliases the Decoder's memory and is valid only until the next
// Decode with the same Decoder.
type Batch struct {
	VisitorID, VisitID string
	Events             []Event     // valid events in body order
	Rejected           []Rejection // invalid events in body order
	// State is the body's "state" object as it is (the campaign engine's
	// state the tag sends back), nil when absent or not an object; valid
	// until the next Decode, like Data.
	State []byte
	// InvalidUTF8 counts the bytes of Events' data that were not valid
	// UTF-8, each written to Data as U+FFFD.
	InvalidUTF8 int
}

// Reset empties b, keeping the capacity of its slices.
func (b *Batch) Reset() {
	b.VisitorID, b.VisitID, b.State, b.InvalidUTF8 = "", "", nil, 0
	clear(b.Events)
	b.Events = b.Events[:0]
	clear(b.Rejected)
	b.Rejected = b.Rejected[:0]
}

// Event is one valid event of a batch.
type Event struct {
	Index              int    // position in the body's events array
	ID                 string // "" when the event had no id (the server assigns one)
	Time               int64  // client time, epoch milliseconds
	AppName, EventName string
	Data               []byte // the event's data as compact JSON (`{}` when absent); valid until the next Decode
}

// Rejection is one invalid event of a batch.
type Rejection struct {
	Index int         // position in the body's events array
	ID    string      // the event's id when it had a string id, else ""
	Err   *FieldError // why the event was rejected
}
