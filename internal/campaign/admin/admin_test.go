package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/campaign/admin"
	"github.com/sightline/sightline/internal/campaign/boltstore"
)

// tokens are the admin tokens of the test accounts.
type tokens map[string]string

func (t tokens) CheckAdminToken(account, token string) (exists, ok bool) {
	want, exists := t[account]
	return exists, exists && token == want
}

var testTokens = tokens{"demo": "tok-demo", "other": "tok-other"}

// newServer serves the admin API over a new store.
func newServer(t testing.TB, defs admin.Definitions) *httptest.Server {
	t.Helper()
	if defs == nil {
		store, err := boltstore.Open(filepath.Join(t.TempDir(), "campaigns.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		defs = campaign.NewService(store)
	}
	mux := http.NewServeMux()
	admin.New(defs, testTokens, nil).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// step is one request and what it must answer.
type step struct {
	name    string
	method  string
	path    string // below /api/account/
	token   string // "" for demo's, "-" for none
	ifMatch string
	body    string
	status  int
	// want are substrings of the body, compacted JSON on success, the
	// error message on failure.
	want      []string
	field     string            // of a 422
	etag      string            // ETag, unless empty
	header    map[string]string // other headers
	noHeaders []string          // headers that must be absent
}

// do sends s's request and checks the answer; it returns the body.
func (s step) do(t *testing.T, srv *httptest.Server) []byte {
	t.Helper()
	req, err := http.NewRequest(s.method, srv.URL+"/api/account/"+s.path, strings.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	switch s.token {
	case "":
		req.Header.Set("Authorization", "Bearer tok-demo")
	case "-":
	default:
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if s.ifMatch != "" {
		req.Header.Set("If-Match", s.ifMatch)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != s.status {
		t.Fatalf("%s %s: status %d, want %d\n%s", s.method, s.path, resp.StatusCode, s.status, body)
	}
	text := ""
	if resp.StatusCode == http.StatusMethodNotAllowed { // answered by the mux
		return body
	}
	if resp.StatusCode >= 400 {
		var e struct{ Error, Field string }
		if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
			t.Fatalf("error body %q: want {\"error\": ...}", body)
		}
		text = e.Error
		if e.Field != s.field {
			t.Errorf("field %q, want %q (error %q)", e.Field, s.field, e.Error)
		}
	} else if len(body) > 0 {
		var b bytes.Buffer
		if err := json.Compact(&b, body); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		text = b.String()
	}
	for _, w := range s.want {
		if !strings.Contains(text, w) {
			t.Errorf("body %s\nwant it to contain %s", text, w)
		}
	}
	if got := resp.Header.Get("ETag"); s.etag != "" && got != s.etag {
		t.Errorf("ETag %s, want %s", got, s.etag)
	}
	for k, v := range s.header {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	for _, k := range s.noHeaders {
		if got := resp.Header.Get(k); got != "" {
			t.Errorf("%s: %q, want none", k, got)
		}
	}
	return body
}

// run runs steps in order, on one server.
func run(t *testing.T, srv *httptest.Server, steps []step) {
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.do(t, srv) }) {
			t.FailNow() // later steps depend on this one
		}
	}
}

const (
	engagement = `{"name":"Offer","type":1,"interactionType":"content","availabilityPolicy":"always","content":{"title":"10% off","button":"Shop"},"zoneId":0,"visitorBehaviorIds":[12]}`
	campaign13 = `{"name":"Spring","status":"active","priority":1,"goalId":1,"visitorProfileIds":[11],"engagements":[` + engagement + `]}`
)

func TestAuth(t *testing.T) {
	srv := newServer(t, nil)
	run(t, srv, []step{
		{name: "no token", method: "GET", path: "demo/definitions", token: "-", status: 401, want: []string{"missing admin token"},
			header: map[string]string{"WWW-Authenticate": `Bearer realm="sightline"`}},
		{name: "not bearer", method: "GET", path: "demo/definitions", token: "-", status: 401},
		{name: "wrong token", method: "GET", path: "demo/definitions", token: "nope", status: 401,
			want: []string{`not the admin token of account "demo"`}, header: map[string]string{"WWW-Authenticate": `Bearer realm="sightline", error="invalid_token"`}},
		{name: "another account's token", method: "GET", path: "demo/campaigns", token: "tok-other", status: 401},
		{name: "another account's token, write", method: "POST", path: "demo/goals", token: "tok-other", body: `{"name":"x","type":"lead"}`, status: 401},
		{name: "unknown account", method: "GET", path: "nobody/definitions", status: 404, want: []string{`no account "nobody"`}},
		{name: "empty definitions", method: "GET", path: "demo/definitions", status: 200, etag: `"0"`,
			want: []string{`"version":0`, `"campaigns":[]`, `"goals":[]`}, header: map[string]string{"Cache-Control": "no-store"}},
		{name: "own token", method: "POST", path: "other/goals", token: "tok-other", body: `{"name":"x","type":"lead"}`, status: 201},
		{name: "accounts apart", method: "GET", path: "demo/goals", status: 200, want: []string{`[]`}},
	})
}

func TestCRUD(t *testing.T) {
	srv := newServer(t, nil)
	run(t, srv, []step{
		// Goals: IDs, revisions, If-Match.
		{name: "create goal", method: "POST", path: "demo/goals", body: `{"name":"Buy","type":"purchase"}`, status: 201,
			want: []string{`"id":1,"revision":1,"name":"Buy"`}, etag: `"1"`, header: map[string]string{"Location": "/api/account/demo/goals/1"}},
		{name: "create goal with id", method: "POST", path: "demo/goals", body: `{"id":10,"name":"Lead","type":"lead"}`, status: 201,
			want: []string{`"id":10,"revision":1`}, header: map[string]string{"Location": "/api/account/demo/goals/10"}},
		{name: "create goal with a used id", method: "POST", path: "demo/goals", body: `{"id":10,"name":"Again","type":"lead"}`, status: 422,
			want: []string{"goals[2].id: 10 is also the id of goals[1]"}, field: "goals[2].id"},
		{name: "create goal with a negative id", method: "POST", path: "demo/goals", body: `{"id":-1,"name":"Again","type":"lead"}`, status: 422,
			want: []string{"-1 is not positive"}, field: "goals[2].id"},
		{name: "typo in a field", method: "POST", path: "demo/goals", body: `{"nmae":"Buy","type":"purchase"}`, status: 400, want: []string{`unknown field "nmae"`}},
		{name: "truncated", method: "POST", path: "demo/goals", body: `{"name":`, status: 400, want: []string{"truncated JSON"}},
		{name: "wrong type", method: "POST", path: "demo/goals", body: `{"name":1}`, status: 400, want: []string{"field name: number is not a string"}},
		{name: "syntax", method: "POST", path: "demo/goals", body: `{"name" "x"}`, status: 400, want: []string{"invalid JSON at byte"}},
		{name: "not an object", method: "POST", path: "demo/goals", body: `[]`, status: 400, want: []string{"want a JSON object"}},
		{name: "two objects", method: "POST", path: "demo/goals", body: `{"name":"a","type":"lead"} {}`, status: 400, want: []string{"data after the JSON object"}},
		{name: "not valid", method: "POST", path: "demo/goals", body: `{"name":"x","type":"bogus"}`, status: 422,
			want: []string{`goals[2].type: "bogus" is not one of`}, field: "goals[2].type"},
		{name: "list goals", method: "GET", path: "demo/goals", status: 200, want: []string{`[{"id":1,`, `{"id":10,`}, noHeaders: []string{"ETag"}},
		{name: "get goal", method: "GET", path: "demo/goals/1", status: 200, etag: `"1"`, want: []string{`{"id":1,"revision":1,"name":"Buy","type":"purchase"}`}},
		{name: "unknown goal", method: "GET", path: "demo/goals/99", status: 404, want: []string{"no goal 99"}},
		{name: "goal id not a number", method: "GET", path: "demo/goals/abc", status: 404, want: []string{"no goal abc"}},
		{name: "identical put", method: "PUT", path: "demo/goals/1", body: `{"name":"Buy","type":"purchase","revision":7}`, status: 200, etag: `"1"`, want: []string{`"revision":1`}},
		{name: "changing put", method: "PUT", path: "demo/goals/1", body: `{"name":"Buy now","type":"purchase"}`, status: 200, etag: `"2"`, want: []string{`"revision":2,"name":"Buy now"`}},
		{name: "stale If-Match", method: "PUT", path: "demo/goals/1", ifMatch: `"1"`, body: `{"name":"Buy","type":"purchase"}`, status: 412,
			want: []string{`goal 1 is at "2", not If-Match "1"`}},
		{name: "bad If-Match", method: "PUT", path: "demo/goals/1", ifMatch: `W/x`, body: `{"name":"Buy","type":"purchase"}`, status: 400, want: []string{"If-Match"}},
		{name: "bare If-Match", method: "PUT", path: "demo/goals/1", ifMatch: `2`, body: `{"id":1,"name":"Buy","type":"purchase"}`, status: 200, etag: `"3"`},
		{name: "If-Match list", method: "PUT", path: "demo/goals/1", ifMatch: `"1", "3"`, body: `{"name":"Buy","type":"purchase"}`, status: 200, etag: `"3"`},
		{name: "other id in body", method: "PUT", path: "demo/goals/1", body: `{"id":2,"name":"Buy","type":"purchase"}`, status: 422, field: "id",
			want: []string{"2 is not the goal's id 1 in the path"}},
		{name: "put unknown", method: "PUT", path: "demo/goals/99", body: `{"name":"Buy","type":"purchase"}`, status: 404, want: []string{"no goal 99"}},

		// Profiles, behaviors, campaigns: IDs follow the highest.
		{name: "create profile", method: "POST", path: "demo/visitorProfiles", body: `{"name":"France","rules":[{"kind":"country","values":["FR"]}]}`, status: 201,
			want: []string{`"id":11,"revision":1`}},
		{name: "create behavior", method: "POST", path: "demo/visitorBehaviors", body: `{"name":"Two pages","rules":[{"kind":"pagesViewed","min":2}]}`, status: 201,
			want: []string{`"id":12,"revision":1`}},
		{name: "create campaign", method: "POST", path: "demo/campaigns", body: campaign13, status: 201,
			want: []string{`"id":13,"revision":1`, `"engagements":[{"id":14,"revision":1,"name":"Offer"`}, header: map[string]string{"Location": "/api/account/demo/campaigns/13"}},
		{name: "campaign of an unknown goal", method: "POST", path: "demo/campaigns", body: strings.Replace(campaign13, `"goalId":1`, `"goalId":99`, 1), status: 422,
			want: []string{"campaigns[1].goalId: 99 is not a goal of the account"}, field: "campaigns[1].goalId"},

		// Engagements, nested in their campaign.
		{name: "list engagements", method: "GET", path: "demo/campaigns/13/engagements", status: 200, want: []string{`[{"id":14,`}},
		{name: "add engagement", method: "POST", path: "demo/campaigns/13/engagements", body: engagement, status: 201,
			want: []string{`"id":15,"revision":1`}, header: map[string]string{"Location": "/api/account/demo/campaigns/13/engagements/15"}},
		{name: "campaign revised", method: "GET", path: "demo/campaigns/13", status: 200, etag: `"2"`, want: []string{`{"id":15,`}},
		{name: "change engagement", method: "PUT", path: "demo/campaigns/13/engagements/15", body: strings.Replace(engagement, "10% off", "20% off", 1), status: 200,
			etag: `"2"`, want: []string{`"title":"20% off"`}},
		{name: "get engagement", method: "GET", path: "demo/campaigns/13/engagements/15", status: 200, etag: `"2"`},
		{name: "engagement of an unknown campaign", method: "GET", path: "demo/campaigns/99/engagements", status: 404, want: []string{"no campaign 99"}},
		{name: "unknown engagement", method: "GET", path: "demo/campaigns/13/engagements/99", status: 404, want: []string{"no engagement 99"}},
		{name: "engagement of another campaign", method: "GET", path: "demo/campaigns/13/engagements/1", status: 404, want: []string{"no engagement 1"}},
		{name: "stale delete", method: "DELETE", path: "demo/campaigns/13/engagements/15", ifMatch: `"1"`, status: 412, want: []string{`engagement 15 is at "2"`}},
		{name: "delete engagement", method: "DELETE", path: "demo/campaigns/13/engagements/15", ifMatch: `"2"`, status: 204},
		{name: "deleted engagement", method: "GET", path: "demo/campaigns/13/engagements/15", status: 404},
		{name: "delete last engagement", method: "DELETE", path: "demo/campaigns/13/engagements/14", status: 422, field: "campaigns[0].engagements"},

		// References keep what they refer to.
		{name: "delete goal in use", method: "DELETE", path: "demo/goals/1", status: 422,
			want: []string{"campaigns[0].goalId: 1 is not a goal of the account"}, field: "campaigns[0].goalId"},
		{name: "delete profile in use", method: "DELETE", path: "demo/visitorProfiles/11", status: 422, field: "campaigns[0].visitorProfileIds[0]"},
		{name: "delete behavior in use", method: "DELETE", path: "demo/visitorBehaviors/12", status: 422, field: "campaigns[0].engagements[0].visitorBehaviorIds[0]"},
		{name: "delete goal", method: "DELETE", path: "demo/goals/10", status: 204},
		{name: "delete deleted goal", method: "DELETE", path: "demo/goals/10", status: 404, want: []string{"no goal 10"}},
		{name: "delete campaign", method: "DELETE", path: "demo/campaigns/13", ifMatch: `"4"`, status: 204},
		{name: "delete goal no longer in use", method: "DELETE", path: "demo/goals/1", status: 204},
		{name: "ids are not reused", method: "POST", path: "demo/goals", body: `{"name":"Buy","type":"purchase"}`, status: 201, want: []string{`"id":16,`}},
		{name: "list campaigns", method: "GET", path: "demo/campaigns", status: 200, want: []string{`[]`}},
	})
}

func TestSettingsAndAvailability(t *testing.T) {
	srv := newServer(t, nil)
	run(t, srv, []step{
		{name: "get settings", method: "GET", path: "demo/settings", status: 200, etag: `"0"`, want: []string{`{"siteControlGroupPercent":0}`}},
		{name: "invalid settings", method: "PUT", path: "demo/settings", body: `{"siteControlGroupPercent":101}`, status: 422,
			field: "settings.siteControlGroupPercent", want: []string{"101 is not between 0 and 100"}},
		{name: "put settings", method: "PUT", path: "demo/settings", ifMatch: `"0"`, body: `{"siteControlGroupPercent":10}`, status: 200, etag: `"1"`},
		{name: "stale settings", method: "PUT", path: "demo/settings", ifMatch: `"0"`, body: `{"siteControlGroupPercent":20}`, status: 412,
			want: []string{`the campaign definitions of demo is at "1"`}},
		{name: "empty availability", method: "GET", path: "demo/availability", status: 200, want: []string{`{}`}},
		{name: "put availability", method: "PUT", path: "demo/availability", body: `{"sales":"online","support":"busy"}`, status: 200, etag: `"2"`},
		{name: "invalid state", method: "PUT", path: "demo/availability/sales", body: `{"state":"away"}`, status: 422,
			field: "availability.sales", want: []string{`"away" is not one of online, offline, busy`}},
		{name: "no state", method: "PUT", path: "demo/availability/sales", body: `{}`, status: 422,
			field: "availability.sales", want: []string{`"" is not one of online, offline, busy`}},
		{name: "long skill name", method: "PUT", path: "demo/availability", body: `{"` + strings.Repeat("s", 201) + `":"online"}`, status: 422,
			field: "availability", want: []string{"1 to 200 bytes"}},
		{name: "put skill", method: "PUT", path: "demo/availability/sales", body: `{"state":"offline"}`, status: 200, want: []string{`{"state":"offline"}`}},
		{name: "get availability", method: "GET", path: "demo/availability", status: 200, etag: `"3"`, want: []string{`{"sales":"offline","support":"busy"}`}},
		{name: "delete skill", method: "DELETE", path: "demo/availability/support", status: 204},
		{name: "delete unknown skill", method: "DELETE", path: "demo/availability/support", status: 404},
		{name: "settings kept", method: "GET", path: "demo/definitions", status: 200, etag: `"4"`,
			want: []string{`"siteControlGroupPercent":10`, `"availability":{"sales":"offline"}`}},
	})
}

const fullDefinitions = `{
  "settings": {"siteControlGroupPercent": 5},
  "availability": {"sales": "online"},
  "goals": [{"id": 1, "name": "Buy", "type": "purchase"}, {"name": "Checkout page", "type": "url", "url": {"kind": "url", "match": "prefix", "values": ["https://shop.example/checkout"]}}],
  "visitorProfiles": [{"id": 2, "name": "France", "rules": [{"kind": "country", "values": ["FR"]}]}],
  "visitorBehaviors": [{"id": 3, "name": "Two pages", "rules": [{"kind": "pagesViewed", "min": 2}]}],
  "campaigns": [{"name": "Spring", "status": "active", "goalId": 1, "visitorProfileIds": [2],
    "engagements": [{"name": "Chat", "type": 2, "skillName": "sales", "interactionType": "chat", "availabilityPolicy": "online",
      "content": {"title": "Questions?", "button": "Chat"}, "zoneId": 1, "visitorBehaviorIds": [3]}]}]
}`

func TestPutDefinitions(t *testing.T) {
	srv := newServer(t, nil)
	run(t, srv, []step{
		{name: "first", method: "PUT", path: "demo/definitions", ifMatch: `"0"`, body: fullDefinitions, status: 200, etag: `"1"`,
			want: []string{`"version":1,"nextId":7`, `"goals":[{"id":1,"revision":1,`, `{"id":6,"revision":1,"name":"Checkout page"`, `"campaigns":[{"id":4,"revision":1,`, `"engagements":[{"id":5,"revision":1,`}},
		{name: "stale", method: "PUT", path: "demo/definitions", ifMatch: `"0"`, body: fullDefinitions, status: 412,
			want: []string{`the campaign definitions of demo is at "1", not If-Match "0"`}},
		{name: "null", method: "PUT", path: "demo/definitions", body: `null`, status: 400},
		{name: "unknown field", method: "PUT", path: "demo/definitions", body: `{"campaings": []}`, status: 400, want: []string{`unknown field "campaings"`}},
		{name: "nested unknown field", method: "PUT", path: "demo/definitions", body: `{"goals": [{"nam": "x"}]}`, status: 400, want: []string{`unknown field "nam"`}},
		{name: "invalid", method: "PUT", path: "demo/definitions", body: strings.Replace(fullDefinitions, `"online"}`, `"away"}`, 1), status: 422, field: "availability.sales"},
		{name: "too large", method: "PUT", path: "demo/definitions", body: `{"goals": [{"name": "` + strings.Repeat("x", admin.MaxBody) + `"}]}`, status: 413,
			want: []string{"larger than 16777216 bytes"}},
		{name: "unchanged", method: "GET", path: "demo/definitions", status: 200, etag: `"1"`},
		{name: "drop a campaign", method: "PUT", path: "demo/definitions", body: `{"goals": [{"id": 1, "name": "Buy", "type": "purchase"}]}`, status: 200, etag: `"2"`,
			want: []string{`"version":2,"nextId":7`, `"campaigns":[]`, `"goals":[{"id":1,"revision":1,`}},
		{name: "ids are not reused", method: "POST", path: "demo/goals", body: `{"name":"Lead","type":"lead"}`, status: 201, want: []string{`"id":7,`}},
	})
}

// TestPutBack puts what GET returns back: no revision changes, and no new
// version.
func TestPutBack(t *testing.T) {
	srv := newServer(t, nil)
	step{name: "first", method: "PUT", path: "demo/definitions", body: fullDefinitions, status: 200}.do(t, srv)
	body := step{method: "GET", path: "demo/definitions", status: 200}.do(t, srv)
	step{method: "PUT", path: "demo/definitions", ifMatch: "1", body: string(body), status: 200, etag: `"1"`,
		want: []string{`"revision":1`}}.do(t, srv)
	after := step{method: "GET", path: "demo/definitions", status: 200}.do(t, srv)
	if strings.Contains(string(after), `"revision": 2`) {
		t.Errorf("putting the definitions back changed revisions:\n%s", after)
	}
}

// conflicting is a service whose every update loses to another process.
type conflicting struct{}

func (conflicting) Definitions(context.Context, string) (*campaign.Definitions, error) {
	return &campaign.Definitions{}, nil
}

func (conflicting) Update(context.Context, string, func(*campaign.Definitions) error) (*campaign.Definitions, error) {
	return nil, campaign.ErrConflict
}

func TestConflict(t *testing.T) {
	srv := newServer(t, conflicting{})
	run(t, srv, []step{
		{name: "put", method: "PUT", path: "demo/settings", body: `{"siteControlGroupPercent":10}`, status: 409, want: []string{"changed meanwhile"}},
		{name: "delete", method: "DELETE", path: "demo/goals/1", status: 409},
	})
}

func TestMethodNotAllowed(t *testing.T) {
	srv := newServer(t, nil)
	step{method: "PATCH", path: "demo/goals/1", body: `{}`, status: 405}.do(t, srv)
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{fullDefinitions, `{}`, `null`, `[]`, `{"campaigns":[{}]}`, `{"availability":{"":""}}`,
		`{"goals":[{"id":9223372036854775807,"name":"x","type":"lead"},{"name":"y","type":"lead"}]}`, "{\"settings\":{\"siteControlGroupPercent\":1e400}}", "\xff"} {
		f.Add(s)
	}
	srv := newServer(f, nil)
	client := srv.Client()
	client.Timeout = 10 * time.Second
	f.Fuzz(func(t *testing.T, body string) {
		req, err := http.NewRequest("PUT", srv.URL+"/api/account/demo/definitions", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer tok-demo")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 || resp.StatusCode == 412 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		if !json.Valid(b) {
			t.Fatalf("answer is not JSON: %q", b)
		}
	})
}
