package lpagent

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/sessionizer"
)

// fakeVisits is a Visits with one account's visit, that notes what it
// was asked.
type fakeVisits struct {
	mu    sync.Mutex
	asked []string
	key   string // account/visitor/visit of the open visit
}

func (f *fakeVisits) VisitPages(_ context.Context, account, visitor, visit string, limit int) ([]sessionizer.Page, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := account + "/" + visitor + "/" + visit
	f.asked = append(f.asked, key)
	if key != f.key || limit != sessionizer.MaxPages {
		return nil, false, nil
	}
	return []sessionizer.Page{{Time: 1, URL: "https://shop.example/", Title: "Home"}, {Time: 2, URL: "https://shop.example/tv"}}, true, nil
}

// get sends a GET with a bearer ("" none) and returns the status, the
// body and the response.
func (e *env) get(path, bearer string) (int, []byte, *http.Response) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b json.RawMessage
	json.NewDecoder(resp.Body).Decode(&b)
	return resp.StatusCode, b, resp
}

// startVisit starts a conversation of a visitor of account acct in its
// visit visit, with a cart and a personal attribute, and returns its id.
func (e *env) startVisit(acct, visitor, visit string) string {
	e.t.Helper()
	w, _, err := e.dial("/messaging/account/" + acct + "/consumer")
	if err != nil {
		e.t.Fatal(err)
	}
	if f := w.request("InitConnection", map[string]any{"visitorId": visitor, "visitId": visit}); f.Code != 200 {
		e.t.Fatalf("InitConnection: %s", f.raw)
	}
	f := w.request("cm.ConsumerRequestConversation", map[string]any{
		"campaignInfo": map[string]any{"campaignId": 1, "engagementId": 1},
		"context":      map[string]any{"pageUrl": "https://shop.example/tv", "pageTitle": "TVs", "device": "DESKTOP", "os": "WINDOWS", "visitId": visit},
		"attributes": []any{
			map[string]any{"type": "cart", "total": 1299.5, "currency": "USD", "numItems": 1,
				"products": []any{map[string]any{"product": map[string]any{"name": "Aurora OLED 55", "sku": "AUR-OLED55", "price": 1299.5}, "quantity": 1}}},
			map[string]any{"type": "personal", "personal": map[string]any{"firstname": "Ann"}},
		},
	})
	var started struct {
		ConversationID string `json:"conversationId"`
	}
	decode(e.t, f, &started)
	if f.Code != 200 {
		e.t.Fatalf("ConsumerRequestConversation: %s", f.raw)
	}
	return started.ConversationID
}

// TestJourney reads a conversation's journey with agents' bearers: its
// context, attributes and pages for an agent of its account; 401 for no
// bearer, a bad one, one of another account or of a session logged out;
// 404 for another account's conversation, whose visit is never looked up.
func TestJourney(t *testing.T) {
	e := newEnv(t)
	visits := &fakeVisits{key: "acme/visitor-1/visit-1"}
	e.h.UseVisits(visits)
	e.addUser(acme, "ann", 0, "sales")
	e.addUser(other, "olga", 0, "sales")
	conv := e.startVisit(acme, "visitor-1", "visit-1")
	otherConv := e.startVisit(other, "visitor-1", "visit-1")
	ann, _, _ := e.login(acme, "ann")
	olga, _, _ := e.login(other, "olga")
	path := func(acct, id string) string {
		return "/api/account/" + acct + "/agent/conversations/" + id + "/journey"
	}

	code, body, resp := e.get(path(acme, conv), ann)
	if code != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("journey: %d %s %v", code, body, resp.Header)
	}
	var j journey
	if err := json.Unmarshal(body, &j); err != nil {
		t.Fatal(err)
	}
	var cart struct {
		Total    float64 `json:"total"`
		Products []struct {
			Product struct {
				Name string `json:"name"`
			} `json:"product"`
		} `json:"products"`
	}
	if len(j.UnAuthSdes) == 2 {
		json.Unmarshal(j.UnAuthSdes[0].Data, &cart)
	}
	if j.ConversationID != conv || j.ConsumerID != "visitor-1" || j.State != "OPEN" || j.Skill.Name != "sales" || j.Campaign.EngagementID != "1" ||
		j.Context.PageURL != "https://shop.example/tv" || j.Context.OS != "WINDOWS" || j.Context.VisitID != "visit-1" ||
		len(j.UnAuthSdes) != 2 || j.UnAuthSdes[0].Type != "CART_STATUS" || j.UnAuthSdes[1].Type != "PERSONAL_INFO" || cart.Total != 1299.5 ||
		len(cart.Products) != 1 || cart.Products[0].Product.Name != "Aurora OLED 55" || len(j.Sdes) != 0 || !j.PagesKnown ||
		len(j.Pages) != 2 || j.Pages[1].URL != "https://shop.example/tv" {
		t.Errorf("journey %s", body)
	}
	if !strings.Contains(string(body), `"transfers":[]`) || !strings.Contains(string(body), `"sdes":[]`) {
		t.Errorf("empty lists are not [] in %s", body)
	}

	// The other account's agent reads its own visitor's journey, whose
	// visit (same ids, another account) is not acme's.
	if code, body, _ := e.get(path(other, otherConv), olga); code != 200 || !strings.Contains(string(body), `"pagesKnown":false`) {
		t.Errorf("other's journey: %d %s", code, body)
	}
	for _, tc := range []struct {
		name, path, bearer string
		code               int
	}{
		{"no bearer", path(acme, conv), "", 401},
		{"not a bearer", path(acme, conv), "not-a-token", 401},
		{"another account's bearer", path(acme, conv), olga, 401},
		{"a bearer on another account's path", path(other, otherConv), ann, 401},
		{"another account's conversation", path(other, conv), olga, 404},
		{"another account's conversation, by id on one's own path", path(acme, otherConv), ann, 404},
		{"no such account", path("nobody", conv), ann, 404},
	} {
		code, body, resp := e.get(tc.path, tc.bearer)
		if code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.code)
		}
		if code == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, resp.Header.Get("WWW-Authenticate"))
		}
		if strings.Contains(string(body), "visitor-1") {
			t.Errorf("%s: the answer names the visitor: %s", tc.name, body)
		}
	}
	visits.mu.Lock()
	asked := strings.Join(visits.asked, " ")
	visits.mu.Unlock()
	if asked != "acme/visitor-1/visit-1 other/visitor-1/visit-1" {
		t.Errorf("visits looked up: %s", asked)
	}

	// Logged out, the bearer reads nothing.
	if code, _, _ := e.postWith("/api/account/acme/logout", nil, ann); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	if code, _, _ := e.get(path(acme, conv), ann); code != 401 {
		t.Errorf("journey after logout: %d", code)
	}
}

// TestSkills lists the account's skills: the engagements' with their ids,
// then those only agents serve; another account's bearer gets 401.
func TestSkills(t *testing.T) {
	e := newEnv(t)
	e.addUser(acme, "ann", 0, "sales", "billing")
	e.addUser(acme, "bob", 0, "returns", "support")
	e.addUser(other, "olga", 0, "secret-skill")
	ann, _, _ := e.login(acme, "ann")
	olga, _, _ := e.login(other, "olga")
	code, body, _ := e.get("/api/account/acme/agent/skills", ann)
	if want := `[{"id":11,"name":"sales"},{"id":12,"name":"support"},{"id":-1,"name":"billing"},{"id":-1,"name":"returns"}]`; code != 200 || string(body) != want {
		t.Errorf("skills: %d %s, want %s", code, body, want)
	}
	if code, _, _ := e.get("/api/account/acme/agent/skills", olga); code != 401 {
		t.Errorf("skills with another account's bearer: %d", code)
	}
}

// TestRefreshWithBearer refreshes a session with its bearer, as the agent
// workspace does: the session goes on past the login's TTL, no cookie is
// set; another account's path refuses it.
func TestRefreshWithBearer(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *messagingConfig) { c.SessionTTL = time.Hour })
	e.addUser(acme, "ann", 0, "sales")
	ann, _, _ := e.login(acme, "ann")
	e.clock.add(50 * time.Minute)
	code, _, resp := e.postWith("/api/account/acme/refresh?v=1.3", nil, ann)
	if code != 200 || len(resp.Cookies()) != 0 {
		t.Fatalf("refresh with the bearer: %d, cookies %v", code, resp.Cookies())
	}
	if code, _, _ := e.postWith("/api/account/other/refresh?v=1.3", nil, ann); code != 401 {
		t.Errorf("refresh on another account's path: %d", code)
	}
	e.clock.add(50 * time.Minute) // past the login's hour, within the refresh's
	if code, _, _ := e.get("/api/account/acme/agent/skills", ann); code != 200 {
		t.Errorf("bearer after a refresh: %d, want it good", code)
	}
	e.clock.add(15 * time.Minute)
	if code, _, _ := e.get("/api/account/acme/agent/skills", ann); code != 401 {
		t.Errorf("bearer past its refresh: %d, want 401", code)
	}
}
