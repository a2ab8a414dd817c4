package ingest

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/dedup"
)

// FuzzHandler posts arbitrary bodies, plain or as gzip, to the collector:
// it never panics, answers only with the statuses of the contract, a 200
// answer accounts for every event it stored, and a body that is JSON is
// not refused as invalid JSON, however deeply it nests.
func FuzzHandler(f *testing.F) {
	now := time.Now().UnixMilli()
	f.Add(batch(pageView("a", now)), false)
	f.Add(batch(pageView("a", now), `{"time":1,"appName":"CHAT","eventName":"x","data":{"a":`+strings.Repeat("[", 9_000)+strings.Repeat("]", 9_000)+`}}`), false)
	f.Add(batch(`{"time":1,"appName":"lp_sdes","eventName":"VAR_ADDED","data":{"type":"cart","total":1e309,"numItems":-5}}`, pageView("b", now)), false)
	f.Add(batch(pageView("a", now), pageView("a", now), `{"time":1,"appName":"CHAT","eventName":"x"}`), false)
	f.Add(gz(batch(pageView("b", now))), true)
	f.Add([]byte(`{"visitorId":"v","visitId":"s","events":[null,1,"x",{}]}`), false)
	f.Add([]byte("\x1f\x8b\x08\x00"), true)
	accounts, err := account.OpenStore(nil, filepath.Join(f.TempDir(), "accounts"))
	if err != nil {
		f.Fatal(err)
	}
	accounts.Add(account.Account{ID: "shop"})
	log := &memLog{}
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 64 << 10
	mux := http.NewServeMux()
	New(cfg, nil, nil, accounts, log, dedup.New(time.Hour, time.Now())).Register(mux)
	f.Fuzz(func(t *testing.T, body []byte, gzipped bool) {
		req := httptest.NewRequest(http.MethodPost, "/api/account/shop/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		before := len(log.values)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		stored := len(log.values) - before
		switch rec.Code {
		case http.StatusOK:
			var a answer
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatalf("200 answer is not JSON: %q", rec.Body)
			}
			if a.Accepted != stored {
				t.Fatalf("answer says %d accepted, %d stored", a.Accepted, stored)
			}
			for _, v := range log.values[before:] {
				if !json.Valid(v) {
					t.Fatalf("stored record is not JSON: %q", v)
				}
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if stored != 0 {
				t.Fatalf("status %d but %d events stored", rec.Code, stored)
			}
			var a answer
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || a.Error == "" {
				t.Fatalf("error answer without error: %q", rec.Body)
			}
			if strings.Contains(a.Error, "invalid JSON") && !gzipped && json.Valid(body) {
				t.Fatalf("JSON refused as invalid: %s", a.Error)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzClientIP feeds arbitrary peers and X-Forwarded-For chains: the
// answer is always the peer or an address of the chain.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "198.51.100.1, 10.0.0.2")
	f.Add("[::1]:1", "2001:db8::1,,")
	f.Add("garbage", "1.1.1.1")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		ip := clientIP(r, trusted)
		if !ip.IsValid() {
			return
		}
		host, _, err := net.SplitHostPort(remote)
		if err != nil {
			host = remote
		}
		for _, c := range append(strings.Split(xff, ","), host) {
			if a, err := netip.ParseAddr(strings.TrimSpace(c)); err == nil && a.Unmap() == ip {
				return
			}
		}
		t.Fatalf("clientIP = %s, not an address of %q / %q", ip, remote, xff)
	})
}
