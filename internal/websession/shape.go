package websession

import (
	"encoding/json"
	"fmt"
)

// Shape is how a document writes its metaData and recordCollection. The
// Data Access API's example shows them plain (Plain, the default); the
// live service writes them as Avro-JSON unions, {"com.liveperson.
// dataaccess.MetaData": {...}} and {"array": [...]} (Wrapped), which the
// open-source clients data teams run (the Singer tap for LivePerson) read.
// Each shape has its schema (Shape.Schema).
type Shape uint8

// The shapes of a document.
const (
	Plain Shape = iota
	Wrapped
)

// ParseShape reads a shape's name: "" or "plain", or "wrapped".
func ParseShape(name string) (Shape, error) {
	switch name {
	case "", "plain":
		return Plain, nil
	case "wrapped":
		return Wrapped, nil
	}
	return Plain, fmt.Errorf("document shape %q is not plain or wrapped", name)
}

// String returns the shape's name.
func (sh Shape) String() string {
	if sh == Wrapped {
		return "wrapped"
	}
	return "plain"
}

// MarshalText writes the shape's name.
func (sh Shape) MarshalText() ([]byte, error) { return []byte(sh.String()), nil }

// UnmarshalText reads a shape's name (ParseShape).
func (sh *Shape) UnmarshalText(b []byte) error {
	v, err := ParseShape(string(b))
	if err == nil {
		*sh = v
	}
	return err
}

// Schema returns the Avro schema of the shape's documents.
func (sh Shape) Schema() []byte {
	if sh == Wrapped {
		return wrappedSchema
	}
	return Schema
}

// wrappedSchema is Schema with metaData and recordCollection made unions
// of null and their type, defaulting to null.
var wrappedSchema = func() []byte {
	var doc map[string]any
	if err := json.Unmarshal(Schema, &doc); err != nil {
		panic("websession.avsc: " + err.Error())
	}
	for _, f := range doc["fields"].([]any) {
		field := f.(map[string]any)
		if name := field["name"]; name == "metaData" || name == "recordCollection" {
			field["type"] = []any{"null", field["type"]}
			field["default"] = nil
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic("websession.avsc: " + err.Error())
	}
	return b
}()

// AppendDocument appends the web-session document of v in this shape; see
// the function AppendDocument, which writes Plain.
func (sh Shape) AppendDocument(dst []byte, v *Visit, en Enricher) []byte {
	return appendDocument(dst, v, en, sh)
}
