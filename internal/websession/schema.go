package websession

import _ "embed"

// Schema is the Avro schema (JSON) of a web-session document: the record
// com.liveperson.dataaccess.WebSessionDocument.
//
//go:embed websession.avsc
var Schema []byte

// SchemaVersion is the schema version documents name in
// metaData.schemaVersion: the Data Access API example's.
const SchemaVersion = "1.0.0.22"

// ns is the namespace of the schema's names, as union branches spell
// them.
const ns = "com.liveperson.dataaccess."
