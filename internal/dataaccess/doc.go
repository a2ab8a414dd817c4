// Package dataaccess serves the Data Access API for web sessions: the
// hourly web-session files of an account, listed by time range and
// downloaded one by one, and the Avro schema of their records, behind OAuth
// 1.0a. A client written for the LivePerson Data Access API works against
// it by changing the host name.
//
// # Endpoints
//
// NewHandler serves, under PathPrefix (/data_access_le/):
//
//	GET .../account/{id}/le                          links to the data types
//	GET .../account/{id}/le/webSession?startTime=&endTime=   the file listing
//	GET .../account/{id}/le/webSession/{fileName}    one file (application/gzip)
//	GET .../account/{id}/le/schema?schemaId=latest   the Avro schema (application/json)
//
// HEAD works wherever GET does. Every request is authenticated (package
// oauth1: HMAC-SHA1 or HMAC-SHA256, timestamps within 5 minutes, nonces
// used once) and its key must be the account's: one account never sees
// another's files.
//
// The data types document, which the spec names but does not show, uses
// the spec's link objects:
//
//	{"dataAccessDataTypes": {"@id": "75555851", "link": [
//	  {"@href": "https://da.example.com/data_access_le/account/75555851/le", "@rel": "self"},
//	  {"@href": ".../le/webSession", "@rel": "webSession"},
//	  {"@href": ".../le/schema", "@rel": "schema"}]}}
//
// The listing is the spec's dataAccessFiles document, @href links absolute
// from Config.PublicURL, dates in Config.Location with a numeric offset
// (2016-06-01T07:00:00-04:00). startTime and endTime (epoch ms, both
// required, endTime not before startTime, at most the retention apart)
// select the files whose scope starts within [startTime, endTime]; of each
// hour only the newest complete generation (the last number of the name; see package hourfiles) is listed,
// all its parts, sorted by scope start and part. The self link has no
// query, as in the spec. When no file matches, the answer is still 200 with
// the same document, an empty "file" array (so that clients iterating it
// need no special case) and "message": "No Available Files".
//
// Files are served with http.ServeContent: Range and conditional requests,
// Last-Modified, and an ETag made of the name, size and modification time.
// A download outlasts the server's write timeout as long as the client
// takes bytes at least once per WriteIdleTimeout. A malformed or unknown
// name is 404. The schema is served as configured
// for schemaId=latest or no schemaId; any other schemaId is 404.
//
// Errors are JSON, {"error": {"status": 401, "code": "signature_invalid",
// "message": "bad signature: ..."}}, the code being the OAuth Problem
// Reporting name for authentication failures (parameter_absent,
// consumer_key_unknown, token_rejected, signature_invalid,
// timestamp_refused, nonce_used, signature_method_rejected,
// version_rejected, parameter_rejected) and otherwise bad_request (400),
// forbidden (403: a valid key of another account), not_found (404),
// temporarily_unavailable (503: the nonce store is full; Retry-After: 1) or
// internal_error (500). A 401 carries `WWW-Authenticate: OAuth
// realm="<public URL>", oauth_problem="<code>"`.
//
// # Signed scheme and host
//
// A signature covers the scheme and host the client used. The host is
// X-Forwarded-Host if present, else the Host header. The scheme is https
// over TLS, else the one X-Forwarded-Proto names; on plain HTTP without
// that header the scheme cannot be told (a proxy may have terminated TLS),
// and a signature over either https or http is accepted. A reverse proxy
// should keep the Host header or set X-Forwarded-Host. A client setting
// these headers itself gains nothing: they only change what its signature
// must cover.
//
// # Keys
//
// Keys are the OAuth credentials: a consumer key and secret and an access
// token and secret per key, each key for one account. They live in
// <data>/keys/ (KeysDir), one <consumer key>.json file each, written with
// atomicfile in mode 0600 in a directory of mode 0700. The secrets are
// stored in clear because HMAC verification needs them: protect the data
// directory and its backups accordingly. `sightline keys add|list|remove`
// manage them; a running server picks changes up within a second (Keys).
package dataaccess
