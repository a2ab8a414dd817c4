package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/linkedin/goavro/v2"

	"github.com/sightline/sightline/internal/account"
)

// TestDocumentShapes sets one account's web-session documents to the
// wrapped shape through the admin API, leaves another's plain, and reads
// each account's file as its clients do: decoded with the schema the API
// serves for the account, and by hand, the wrapped one as the Singer tap
// for LivePerson reads it (record['metaData']['com.liveperson.dataaccess.
// MetaData'], record['recordCollection']['array']).
func TestDocumentShapes(t *testing.T) {
	cfg, offset := aheadConfig(t.TempDir())
	s := start(t, cfg)
	token, hash := account.NewAdminToken()
	for _, a := range []account.Account{{ID: "plainco"}, {ID: "wrapco", AdminTokenHash: hash}} {
		if err := s.Accounts().Add(a); err != nil {
			t.Fatal(err)
		}
	}
	admin := func(method, body string) (int, string) {
		req, _ := http.NewRequest(method, s.url("/api/account/wrapco/dataAccess"), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		method, body string
		code         int
		want         string
	}{
		{"GET", "", 200, `"documentShape": "plain"`},
		{"PUT", `{"documentShape": "boxed"}`, 422, `"field": "documentShape"`},
		{"PUT", `{"documentShape": "wrapped"}`, 200, `"documentShape": "wrapped"`},
		{"GET", "", 200, `"documentShape": "wrapped"`},
	} {
		if code, body := admin(tc.method, tc.body); code != tc.code || !strings.Contains(body, tc.want) {
			t.Fatalf("%s dataAccess %s: %d %s, want %d with %s", tc.method, tc.body, code, body, tc.code, tc.want)
		}
	}
	sent := time.Now()
	for _, id := range []string{"plainco", "wrapco"} {
		s.mustPost(t, id, fmt.Appendf(nil, `{"visitorId":"u1","visitId":"v1","events":[
			{"id":"e1","time":%d,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/"}}]}`, sent.UnixMilli()))
	}
	offset.Store(int64(2 * time.Hour))
	for _, tc := range []struct {
		account string
		meta    func(d map[string]any) any
		records func(d map[string]any) any
	}{
		{"plainco", func(d map[string]any) any { return d["metaData"] }, func(d map[string]any) any { return d["recordCollection"] }},
		{"wrapco",
			func(d map[string]any) any {
				m, _ := d["metaData"].(map[string]any)
				return m["com.liveperson.dataaccess.MetaData"]
			},
			func(d map[string]any) any { r, _ := d["recordCollection"].(map[string]any); return r["array"] }},
	} {
		creds := dataAccessKey(t, cfg.DataDir, tc.account)
		resp := signedGet(t, s, creds, s.url("/data_access_le/account/"+tc.account+"/le/schema?schemaId=latest"))
		schema, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		codec, err := goavro.NewCodec(string(schema))
		if err != nil {
			t.Fatalf("%s: the schema served does not parse: %v", tc.account, err)
		}
		listing := waitForFiles(t, s, tc.account, creds, sent.Add(-time.Hour), sent.Add(3*time.Hour))
		if len(listing.DataAccessFiles.File) != 1 {
			t.Fatalf("%s: listing %+v, want one file", tc.account, listing)
		}
		resp = signedGet(t, s, creds, listing.DataAccessFiles.File[0].Href)
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := io.ReadAll(gz)
		resp.Body.Close()
		doc = bytes.TrimSpace(doc)
		if _, _, err := codec.NativeFromTextual(doc); err != nil {
			t.Errorf("%s: the document does not decode with the schema served: %v\n%s", tc.account, err, doc)
		}
		var d map[string]any
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		meta, _ := tc.meta(d).(map[string]any)
		records, _ := tc.records(d).([]any)
		if id, _ := meta["accountId"].(map[string]any); id["string"] != tc.account || len(records) == 0 {
			t.Errorf("%s: read as its clients read it: metaData %v, %d records\n%s", tc.account, meta, len(records), doc)
		}
	}
}
