package dataaccess

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
)

var fuzzSeeds = []string{
	"startTime=1464778800000&endTime=1467043200000",
	"startTime=0&endTime=2592000000",
	"startTime=0&endTime=2592000001",
	"startTime=-1&endTime=5",
	"startTime=1&startTime=2&endTime=3",
	"startTime=99999999999999999999&endTime=1",
	"startTime=%zz&endTime=1",
	"endTime=1&startTime=1",
	"startTime=1e3&endTime=2000",
	"startTime=0x10&endTime=20",
	"startTime= 1&endTime=2",
	"startTime=1&endTime=2&oauth_token=x",
	"startTime=1;endTime=2",
	"",
}

// FuzzListingQuery checks the listing's query parameters: a range is
// accepted only if it is well formed, and then every file listed is in it.
func FuzzListingQuery(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	var infos []FileInfo
	h0 := int64(1464778800000)
	for i := range int64(48) {
		infos = append(infos, FileInfo{Name: fmt.Sprintf("WebSession.%d.%d.part-00000-%d.gz", h0+i*3600_000, h0+(i+1)*3600_000, i%3)})
	}
	f.Fuzz(func(t *testing.T, raw string) {
		start, end, err := parseRange(raw, DefaultRetention)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest || ae.message == "" {
				t.Fatalf("error %v, want a 400 apiError", err)
			}
			return
		}
		q, _ := url.ParseQuery(raw)
		s, _ := strconv.ParseInt(q.Get("startTime"), 10, 64)
		e, _ := strconv.ParseInt(q.Get("endTime"), 10, 64)
		if s != start || e != end {
			t.Fatalf("range %d-%d from %q", start, end, raw)
		}
		if start < 0 || end < start || end-start > DefaultRetention.Milliseconds() {
			t.Fatalf("accepted range %d-%d", start, end)
		}
		for _, f := range inRange(infos, start, end) {
			if s := f.ScopeStart.UnixMilli(); s < start || s > end {
				t.Fatalf("listed %s outside %d-%d", f, start, end)
			}
		}
	})
}

// FuzzListingRequest sends signed listing requests with any query through
// the handler: the answer is a listing or a 400, never anything else.
func FuzzListingRequest(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	fx := newFixture(f, specConfig())
	fx.files.put(specAccount, specFile1, []byte("x"), fileMod)
	f.Fuzz(func(t *testing.T, raw string) {
		const path = "/data_access_le/account/75555851/le/webSession"
		r := httptest.NewRequest("GET", path, nil)
		r.URL.RawQuery = raw
		r.RequestURI = path + "?" + raw
		nonce := fmt.Sprint("fuzz-", nonceSeq.Add(1))
		if err := creds(fx.key).Sign(r, fx.now, nonce); err != nil {
			return // not a query a client can sign
		}
		w := serve(fx.h, r)
		switch w.Code {
		case http.StatusOK:
			var l Listing
			if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil || l.DataAccessFiles.ID != specAccount {
				t.Fatalf("listing %s: %v", w.Body, err)
			}
		case http.StatusBadRequest:
			var fl Failure
			if err := json.Unmarshal(w.Body.Bytes(), &fl); err != nil || fl.Error.Message == "" {
				t.Fatalf("400 body %s: %v", w.Body, err)
			}
		default:
			t.Fatalf("status %d for %q: %s", w.Code, raw, w.Body)
		}
	})
}
