package oauth1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	dghubble "github.com/dghubble/oauth1"
)

var testCreds = Credentials{
	ConsumerKey:    "ck-1",
	ConsumerSecret: "consumer secret&+/=",
	Token:          "tok-1",
	TokenSecret:    "token~secret",
}

func testSecrets(consumerKey string) (string, string, string, bool) {
	if consumerKey != testCreds.ConsumerKey {
		return "", "", "", false
	}
	return testCreds.ConsumerSecret, testCreds.Token, testCreds.TokenSecret, true
}

// verifyServer answers 200 with the consumer key of a request that
// verifies, else the Error's status and problem as JSON.
func verifyServer(t *testing.T, v *Verifier) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) {
				t.Errorf("Verify returned %T %v, want *Error", err, err)
				return
			}
			w.WriteHeader(oe.Status)
			json.NewEncoder(w).Encode(map[string]string{"problem": oe.Problem, "message": oe.Message})
			return
		}
		fmt.Fprint(w, res.ConsumerKey)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestDghubbleClient signs real requests with an independent client
// library and checks that the verifier accepts every one of them, and
// rejects them once tampered with.
func TestDghubbleClient(t *testing.T) {
	v := &Verifier{Secrets: testSecrets, Nonces: NewNonceStore(0, 0)}
	srv := verifyServer(t, v)
	paths := []string{
		"/data_access_le/account/75555851/le",
		"/data_access_le/account/75555851/le/webSession?startTime=1464778800000&endTime=1467046800000",
		"/data_access_le/account/75555851/le/schema?schemaId=latest",
		"/data_access_le/account/75555851/le/webSession/WebSession.1464778800000.1464782400000.part-00000-0.gz",
		"/x?q=a%20b+c&plane=%E2%9C%88&empty=&flag&sym=%21%2A%27%28%29",
		"/a%20b/c~d/%C3%BC",
	}
	signers := []struct {
		name   string
		signer dghubble.Signer
	}{
		{"HMAC-SHA1", &dghubble.HMACSigner{ConsumerSecret: testCreds.ConsumerSecret}},
		{"HMAC-SHA256", &dghubble.HMAC256Signer{ConsumerSecret: testCreds.ConsumerSecret}},
	}
	for _, s := range signers {
		for _, realm := range []string{"", "Sightline"} {
			cfg := &dghubble.Config{ConsumerKey: testCreds.ConsumerKey, ConsumerSecret: testCreds.ConsumerSecret, Signer: s.signer, Realm: realm}
			client := cfg.Client(context.Background(), dghubble.NewToken(testCreds.Token, testCreds.TokenSecret))
			for _, p := range paths {
				t.Run(s.name+" realm="+realm+" "+p, func(t *testing.T) {
					status, body := get(t, client, srv.URL+p)
					if status != http.StatusOK || body != testCreds.ConsumerKey {
						t.Errorf("status %d, body %s", status, body)
					}
				})
			}
		}
	}

	// Credentials the server does not hold, from the same library.
	bad := []struct {
		name        string
		cfg         *dghubble.Config
		token       *dghubble.Token
		wantProblem string
	}{
		{"wrong consumer secret", dghubble.NewConfig(testCreds.ConsumerKey, "nope"), dghubble.NewToken(testCreds.Token, testCreds.TokenSecret), ProblemSignatureInvalid},
		{"wrong token secret", dghubble.NewConfig(testCreds.ConsumerKey, testCreds.ConsumerSecret), dghubble.NewToken(testCreds.Token, "nope"), ProblemSignatureInvalid},
		{"unknown consumer key", dghubble.NewConfig("ck-2", testCreds.ConsumerSecret), dghubble.NewToken(testCreds.Token, testCreds.TokenSecret), ProblemConsumerKeyUnknown},
		{"other token", dghubble.NewConfig(testCreds.ConsumerKey, testCreds.ConsumerSecret), dghubble.NewToken("tok-2", testCreds.TokenSecret), ProblemTokenRejected},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			status, body := get(t, b.cfg.Client(context.Background(), b.token), srv.URL+paths[1])
			if status != http.StatusUnauthorized || !strings.Contains(body, b.wantProblem) {
				t.Errorf("status %d, body %s; want 401 %s", status, body, b.wantProblem)
			}
		})
	}
}

// TestDghubbleReplayAndTamper captures a request dghubble signed and sends
// it again, as is and altered.
func TestDghubbleReplayAndTamper(t *testing.T) {
	var mu sync.Mutex
	var captured http.Header
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		captured = r.Header.Clone()
		mu.Unlock()
	}))
	defer capture.Close()
	v := &Verifier{Secrets: testSecrets, Nonces: NewNonceStore(0, 0)}
	srv := verifyServer(t, v)
	// Sign for the verifying server's address, deliver to the capturing one.
	target, _ := url.Parse(srv.URL)
	client := dghubble.NewConfig(testCreds.ConsumerKey, testCreds.ConsumerSecret).Client(context.Background(), dghubble.NewToken(testCreds.Token, testCreds.TokenSecret))
	req, _ := http.NewRequest("GET", srv.URL+"/le/webSession?startTime=1&endTime=2", nil)
	client.Transport.(*dghubble.Transport).Base = redirectTransport{to: capture.Listener.Addr().String()}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	auth := captured.Get("Authorization")

	tests := []struct {
		name        string
		path        string
		host        string
		wantStatus  int
		wantProblem string
	}{
		{"first use", "/le/webSession?startTime=1&endTime=2", target.Host, 200, ""},
		{"replay", "/le/webSession?startTime=1&endTime=2", target.Host, 401, ProblemNonceUsed},
		{"other query", "/le/webSession?startTime=1&endTime=3", target.Host, 401, ProblemSignatureInvalid},
		{"other path", "/le/schema?startTime=1&endTime=2", target.Host, 401, ProblemSignatureInvalid},
		{"other host", "/le/webSession?startTime=1&endTime=2", "da.example.com", 401, ProblemSignatureInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			req.Host = tt.host
			req.Header.Set("Authorization", auth)
			status, body := get2(t, http.DefaultClient, req)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantProblem) {
				t.Errorf("status %d, body %s; want %d %s", status, body, tt.wantStatus, tt.wantProblem)
			}
		})
	}
}

// TestSignMatchesDghubble signs a request with Credentials.Sign using the
// timestamp and nonce dghubble chose for the same request, and compares
// the signatures.
func TestSignMatchesDghubble(t *testing.T) {
	headers := make(chan string, 1)
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers <- r.Header.Get("Authorization")
	}))
	defer capture.Close()
	for _, m := range []struct {
		name   string
		signer dghubble.Signer
	}{
		{HMACSHA1, &dghubble.HMACSigner{ConsumerSecret: testCreds.ConsumerSecret}},
		{HMACSHA256, &dghubble.HMAC256Signer{ConsumerSecret: testCreds.ConsumerSecret}},
	} {
		u := capture.URL + "/data_access_le/account/a/le/webSession?startTime=0&endTime=99&x=%E2%9C%88+y"
		cfg := &dghubble.Config{ConsumerKey: testCreds.ConsumerKey, ConsumerSecret: testCreds.ConsumerSecret, Signer: m.signer}
		resp, err := cfg.Client(context.Background(), dghubble.NewToken(testCreds.Token, testCreds.TokenSecret)).Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		theirs, err := ParseAuthorization(<-headers)
		if err != nil {
			t.Fatal(err)
		}
		var ts int64
		fmt.Sscan(theirs[ParamTimestamp], &ts)
		req, _ := http.NewRequest("GET", u, nil)
		c := testCreds
		c.Method = m.name
		if err := c.Sign(req, time.Unix(ts, 0), theirs[ParamNonce]); err != nil {
			t.Fatal(err)
		}
		ours, _ := ParseAuthorization(req.Header.Get("Authorization"))
		if ours[ParamSignature] != theirs[ParamSignature] {
			t.Errorf("%s: our signature %s, dghubble's %s", m.name, ours[ParamSignature], theirs[ParamSignature])
		}
	}
}

// redirectTransport sends every request to another address, keeping its
// URL and Host header.
type redirectTransport struct{ to string }

func (rt redirectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Host = rt.to
	r2.Host = r.URL.Host
	return http.DefaultTransport.RoundTrip(r2)
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return get2(t, c, req)
}

func get2(t *testing.T, c *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestVerify covers each way a request can fail, with a fixed clock.
func TestVerify(t *testing.T) {
	now := time.Date(2016, 6, 1, 11, 0, 0, 0, time.UTC)
	const target = "http://da.example.com/data_access_le/account/75555851/le/webSession?startTime=1464778800000&endTime=1464782400000"
	signed := func(c Credentials, at time.Time, nonce string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("GET", target, nil)
			if err := c.Sign(r, at, nonce); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	// withHeader signs, then rewrites the protocol parameters.
	withHeader := func(edit func(map[string]string)) func() *http.Request {
		return func() *http.Request {
			r := signed(testCreds, now, "n-edit")()
			p, _ := ParseAuthorization(r.Header.Get("Authorization"))
			edit(p)
			r.Header.Set("Authorization", FormatAuthorization(p))
			return r
		}
	}
	// inQuery signs, then moves the protocol parameters to the query.
	inQuery := func(keepHeader bool) func() *http.Request {
		return func() *http.Request {
			r := signed(testCreds, now, "n-query")()
			p, _ := ParseAuthorization(r.Header.Get("Authorization"))
			q := r.URL.RawQuery
			for name, value := range p {
				q += "&" + url.QueryEscape(name) + "=" + url.QueryEscape(value)
			}
			r2 := httptest.NewRequest("GET", strings.Split(target, "?")[0]+"?"+q, nil)
			if keepHeader {
				r2.Header.Set("Authorization", r.Header.Get("Authorization"))
			}
			return r2
		}
	}
	sha256 := testCreds
	sha256.Method = HMACSHA256
	wrongSecret := testCreds
	wrongSecret.ConsumerSecret = "x"
	tests := []struct {
		name        string
		req         func() *http.Request
		repeat      bool // send twice; the second answer counts
		wantStatus  int  // 0: verified
		wantProblem string
		wantMsg     string
	}{
		{name: "HMAC-SHA1", req: signed(testCreds, now, "n1")},
		{name: "HMAC-SHA256", req: signed(sha256, now, "n2")},
		{name: "5 minutes early", req: signed(testCreds, now.Add(-5*time.Minute), "n3")},
		{name: "5 minutes late", req: signed(testCreds, now.Add(5*time.Minute), "n4")},
		{name: "in the query", req: inQuery(false)},
		{name: "in the query and the header", req: inQuery(true), wantStatus: 400, wantProblem: ProblemParameterRejected, wantMsg: "both in the Authorization header and in the query"},
		{name: "stale timestamp", req: signed(testCreds, now.Add(-5*time.Minute-time.Second), "n5"), wantStatus: 401, wantProblem: ProblemTimestampRefused, wantMsg: "stale timestamp"},
		{name: "future timestamp", req: signed(testCreds, now.Add(6*time.Minute), "n6"), wantStatus: 401, wantProblem: ProblemTimestampRefused},
		{name: "reused nonce", req: signed(testCreds, now, "n7"), repeat: true, wantStatus: 401, wantProblem: ProblemNonceUsed, wantMsg: "reused nonce"},
		{name: "bad signature", req: signed(wrongSecret, now, "n8"), wantStatus: 401, wantProblem: ProblemSignatureInvalid, wantMsg: "bad signature"},
		{name: "signature not base64", req: withHeader(func(p map[string]string) { p[ParamSignature] = "!!" }), wantStatus: 401, wantProblem: ProblemSignatureInvalid},
		{name: "unknown key", req: withHeader(func(p map[string]string) { p[ParamConsumerKey] = "other" }), wantStatus: 401, wantProblem: ProblemConsumerKeyUnknown, wantMsg: `unknown consumer key "other"`},
		{name: "other token", req: withHeader(func(p map[string]string) { p[ParamToken] = "tok-2" }), wantStatus: 401, wantProblem: ProblemTokenRejected},
		{name: "PLAINTEXT", req: withHeader(func(p map[string]string) { p[ParamSignatureMethod] = "PLAINTEXT" }), wantStatus: 401, wantProblem: ProblemMethodRejected, wantMsg: `unsupported signature method "PLAINTEXT"`},
		{name: "RSA-SHA1", req: withHeader(func(p map[string]string) { p[ParamSignatureMethod] = "RSA-SHA1" }), wantStatus: 401, wantProblem: ProblemMethodRejected},
		{name: "version 2.0", req: withHeader(func(p map[string]string) { p[ParamVersion] = "2.0" }), wantStatus: 401, wantProblem: ProblemVersionRejected},
		{name: "no nonce", req: withHeader(func(p map[string]string) { delete(p, ParamNonce) }), wantStatus: 401, wantProblem: ProblemParameterAbsent, wantMsg: "oauth_nonce"},
		{name: "long nonce", req: withHeader(func(p map[string]string) { p[ParamNonce] = strings.Repeat("n", MaxNonceLen+1) }), wantStatus: 401, wantProblem: ProblemParameterRejected},
		{name: "timestamp not a number", req: withHeader(func(p map[string]string) { p[ParamTimestamp] = "-5" }), wantStatus: 401, wantProblem: ProblemParameterRejected},
		{name: "missing header", req: func() *http.Request { return httptest.NewRequest("GET", target, nil) }, wantStatus: 401, wantProblem: ProblemParameterAbsent, wantMsg: "missing Authorization: OAuth header"},
		{name: "basic auth", req: func() *http.Request {
			r := httptest.NewRequest("GET", target, nil)
			r.SetBasicAuth("a", "b")
			return r
		}, wantStatus: 401, wantProblem: ProblemParameterAbsent},
		{name: "malformed header", req: func() *http.Request {
			r := httptest.NewRequest("GET", target, nil)
			r.Header.Set("Authorization", `OAuth oauth_token="x`)
			return r
		}, wantStatus: 400, wantProblem: ProblemParameterRejected},
		{name: "malformed query", req: func() *http.Request {
			r := signed(testCreds, now, "n9")()
			r.URL.RawQuery += "&bad=%zz"
			return r
		}, wantStatus: 400, wantProblem: ProblemParameterRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Secrets: testSecrets, Nonces: NewNonceStore(0, 0), Now: func() time.Time { return now }}
			res, err := v.Verify(tt.req())
			if tt.repeat {
				if err != nil {
					t.Fatalf("first request: %v", err)
				}
				res, err = v.Verify(tt.req())
			}
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.ConsumerKey != testCreds.ConsumerKey || res.Token != testCreds.Token {
					t.Errorf("result %+v", res)
				}
				return
			}
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("Verify error %v, want *Error", err)
			}
			if oe.Status != tt.wantStatus || oe.Problem != tt.wantProblem || !strings.Contains(oe.Message, tt.wantMsg) {
				t.Errorf("got %d %s %q, want %d %s %q", oe.Status, oe.Problem, oe.Message, tt.wantStatus, tt.wantProblem, tt.wantMsg)
			}
		})
	}
}

// TestVerifyUnknownScheme checks that when Origin cannot tell the scheme,
// signatures over https and http both verify, and when it can, only the
// one it names.
func TestVerifyUnknownScheme(t *testing.T) {
	for _, tt := range []struct {
		origin, signed string
		ok             bool
	}{
		{"", "https", true}, {"", "http", true},
		{"https", "https", true}, {"https", "http", false},
		{"http", "http", true}, {"http", "https", false},
	} {
		v := &Verifier{Secrets: testSecrets, Nonces: NewNonceStore(0, 0),
			Origin: func(r *http.Request) (string, string) { return tt.origin, r.Host }}
		r := httptest.NewRequest("GET", tt.signed+"://da.example.com/le?a=1", nil)
		if err := testCreds.Sign(r, time.Now(), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(r); (err == nil) != tt.ok {
			t.Errorf("origin scheme %q, signed for %s: %v", tt.origin, tt.signed, err)
		}
	}
}

// TestVerifyStripPrefix checks that the path signed is the one on the
// request line, also when a handler sees a stripped URL.
func TestVerifyStripPrefix(t *testing.T) {
	v := &Verifier{Secrets: testSecrets, Nonces: NewNonceStore(0, 0)}
	var got error
	h := http.StripPrefix("/data_access_le", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, got = v.Verify(r)
	}))
	r := httptest.NewRequest("GET", "http://da.example.com/data_access_le/account/1/le", nil)
	if err := testCreds.Sign(r, time.Now(), ""); err != nil {
		t.Fatal(err)
	}
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != nil {
		t.Error(got)
	}
}
