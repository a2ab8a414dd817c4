package event

// Reason classifies why an event was rejected. The set is small and fixed so
// that it can be used as a metric label.
type Reason string

// The reasons an event can be rejected for.
const (
	ReasonMissing      Reason = "missing"       // a required property is absent or null
	ReasonType         Reason = "type"          // a value has the wrong JSON type
	ReasonEnum         Reason = "enum"          // a value is not one of a fixed set
	ReasonRange        Reason = "range"         // a number is outside its allowed range
	ReasonTooLong      Reason = "too_long"      // a string or a nesting exceeds its limit
	ReasonUnknownField Reason = "unknown_field" // a property the schema does not define
	ReasonUnknownApp   Reason = "unknown_app"   // appName is not part of the vocabulary
	ReasonUnknownEvent Reason = "unknown_event" // eventName is not an event of its app
	ReasonFutureTime   Reason = "future_time"   // time is too far after the server's clock
	ReasonMismatch     Reason = "mismatch"      // a value disagrees with the values it derives from
	ReasonFormat       Reason = "format"        // a string or key is malformed (characters, URL, duplicate key)
)

// Reasons returns every Reason, so that a metric can be initialised with all
// its label values.
func Reasons() []Reason {
	return []Reason{
		ReasonMissing, ReasonType, ReasonEnum, ReasonRange, ReasonTooLong, ReasonUnknownField,
		ReasonUnknownApp, ReasonUnknownEvent, ReasonFutureTime, ReasonMismatch, ReasonFormat,
	}
}

// FieldError says why one event is invalid: Path locates the offending value
// inside the event (e.g. "time", "data.products[0].product.price", or
// "event" when the event is not an object), Reason classifies the problem
// and Msg describes it. Keys that are not plain identifiers are quoted in
// paths, and values quoted in messages are cut to 64 bytes.
type FieldError struct {
	Path   string
	Reason Reason
	Msg    string
}

// Error returns Path + ": " + Msg.
func (e *FieldError) Error() string {
	return e.Path + ": " + e.Msg
}

// BatchError means the batch as a whole is unusable: the body is not a JSON
// object, or its visitorId, visitId or events are missing or invalid. Msg
// starts with the name of the offending field, e.g. "visitorId: required".
type BatchError struct {
	Msg string
}

// Error returns Msg.
func (e *BatchError) Error() string {
	return e.Msg
}
