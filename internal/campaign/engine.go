package campaign

// Engine decides, from a visit's facts, which engagements the visitor
// sees: compiled from an account's definitions.
type Engine struct {
	defs *Definitions
}

// Compile compiles the decisions of d, which must be valid.
func Compile(d *Definitions) (*Engine, error) {
	return &Engine{defs: d}, nil
}
