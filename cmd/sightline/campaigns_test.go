package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/campaign/admin"
	"github.com/sightline/sightline/internal/campaign/boltstore"
	"github.com/sightline/sightline/internal/server"
)

// adminServer serves the campaign admin API of the accounts in data, in
// this process; before, when set, sees every request first.
type adminServer struct {
	*httptest.Server
	campaigns *campaign.Service
	before    atomic.Pointer[func(r *http.Request)]
}

func newAdminServer(t *testing.T, data string) *adminServer {
	t.Helper()
	accounts, err := account.OpenStore(nil, server.AccountsDir(data))
	if err != nil {
		t.Fatal(err)
	}
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "campaigns.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s := &adminServer{campaigns: campaign.NewService(store)}
	mux := http.NewServeMux()
	admin.New(s.campaigns, accounts, nil).Register(mux)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := s.before.Load(); f != nil {
			(*f)(r)
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// newToken runs `accounts token` and returns the token it prints.
func newToken(t *testing.T, data, id string) string {
	t.Helper()
	out, errOut, err := runInProcess(t, "accounts", "token", id, "--data", data)
	if err != nil {
		t.Fatalf("accounts token %s: %v\n%s", id, err, errOut)
	}
	token, ok := strings.CutPrefix(strings.TrimSpace(out), envAdminToken+"=")
	if !ok || !strings.HasPrefix(token, account.AdminTokenPrefix) {
		t.Fatalf("accounts token printed %q", out)
	}
	return token
}

const definitionsYAML = `# The shop's campaigns.
settings:
  siteControlGroupPercent: 5
availability:
  sales: online
goals:
  - id: 1
    name: Buy
    type: purchase
  - name: Checkout
    type: url
    url: {kind: url, match: prefix, values: ["https://shop.example/checkout"]}
visitorProfiles:
  - id: 2
    name: France
    rules: [{kind: country, values: [FR]}]
visitorBehaviors:
  - id: 3
    name: Two pages
    rules: [{kind: pagesViewed, min: 2}]
campaigns:
  - name: Spring
    status: active
    goalId: 1
    visitorProfileIds: [2]
    engagements:
      - name: Chat
        type: 2
        skillName: sales
        interactionType: chat
        availabilityPolicy: online
        content: {title: "Questions?", button: Chat}
        zoneId: 1
        visitorBehaviorIds: [3]
      - name: Offer
        type: 1
        interactionType: content
        availabilityPolicy: always
        content: {title: "10% off", button: Shop}
        zoneId: 2
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCampaignsApplyExport(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	addAccount(t, data, "demo")
	addAccount(t, data, "other")
	token := newToken(t, data, "demo")
	otherToken := newToken(t, data, "other")
	srv := newAdminServer(t, data)

	valid := writeFile(t, dir, "shop.yaml", definitionsYAML)
	asJSON := writeFile(t, dir, "shop.json", `{"goals": [{"id": 1, "name": "Buy", "type": "purchase"}]}`)
	exported := filepath.Join(dir, "exported.yaml")
	tests := []struct {
		name     string
		args     []string // after "campaigns"; --server and --token added unless set
		env      map[string]string
		wantOut  string // in stdout
		wantErr  string // in the error
		wantCode int    // exit code of the error, 2 unless set
	}{
		{name: "apply", args: []string{"apply", "-f", valid, "--account", "demo"},
			wantOut: "applied definitions of demo: version 1, 1 campaigns, 2 engagements, 1 profiles, 1 behaviors, 2 goals\n"},
		{name: "export", args: []string{"export", "--account", "demo"},
			wantOut: "# Campaign definitions of account demo, version 1, exported from http://"},
		{name: "export to a file", args: []string{"export", "--account", "demo", "-o", exported}},
		{name: "apply what export wrote", args: []string{"apply", "-f", exported, "--account", "demo"},
			wantOut: "applied definitions of demo: version 1, 1 campaigns, 2 engagements, 1 profiles, 1 behaviors, 2 goals\n"},
		{name: "server and token from the environment", args: []string{"apply", "-f", valid, "--account", "demo"},
			env:     map[string]string{envServer: srv.URL, envAdminToken: token},
			wantOut: "applied definitions of demo: version 2,"},
		{name: "not valid", args: []string{"apply", "-f", writeFile(t, dir, "bad.yaml", strings.Replace(definitionsYAML, "goalId: 1", "goalId: 9", 1)), "--account", "demo"},
			wantErr: "bad.yaml is not valid: campaigns[0].goalId: 9 is not a goal of the account", wantCode: 1},
		{name: "typo", args: []string{"apply", "-f", writeFile(t, dir, "typo.yaml", strings.Replace(definitionsYAML, "zoneId: 2", "zone: 2", 1)), "--account", "demo"},
			wantErr: `unknown field "zone" (400 Bad Request)`},
		{name: "not YAML", args: []string{"apply", "-f", writeFile(t, dir, "broken.yaml", "goals: [\n"), "--account", "demo"},
			wantErr: "broken.yaml: yaml: line 1"},
		{name: "empty file", args: []string{"apply", "-f", writeFile(t, dir, "empty.yaml", "# nothing\n"), "--account", "demo"},
			wantErr: "empty.yaml: want a mapping"},
		{name: "JSON", args: []string{"apply", "-f", asJSON, "--account", "demo"},
			wantOut: "applied definitions of demo: version 3, 0 campaigns, 0 engagements, 0 profiles, 0 behaviors, 1 goals\n"},
		{name: "no file", args: []string{"apply", "-f", filepath.Join(dir, "missing.yaml"), "--account", "demo"}, wantErr: "no such file"},
		{name: "no -f", args: []string{"apply", "--account", "demo"}, wantErr: "missing -f FILE"},
		{name: "no account", args: []string{"export"}, wantErr: "missing --account"},
		{name: "no token", args: []string{"export", "--account", "demo", "--token="}, env: map[string]string{envAdminToken: ""},
			wantErr: "missing --token (or env SIGHTLINE_ADMIN_TOKEN): 'sightline accounts token demo' creates one"},
		{name: "bad server", args: []string{"export", "--account", "demo", "--server", "localhost:8080"}, wantErr: `--server "localhost:8080": want http[s]://host[:port]`},
		{name: "wrong token", args: []string{"export", "--account", "demo", "--token", "slat_nope"},
			wantErr: `the token is not the admin token of account "demo" (401 Unauthorized)`},
		{name: "another account's token", args: []string{"apply", "-f", valid, "--account", "demo", "--token", otherToken}, wantErr: "401"},
		{name: "unknown account", args: []string{"export", "--account", "nobody"}, wantErr: `no account "nobody" (404 Not Found)`},
		{name: "other account apart", args: []string{"export", "--account", "other", "--token", otherToken}, wantOut: "campaigns: []\n"},
		{name: "unexpected argument", args: []string{"export", "--account", "demo", "extra"}, wantErr: `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{"campaigns"}, tt.args...)
			if tt.env == nil { // flags given last win
				args = append([]string{"campaigns", tt.args[0], "--server", srv.URL, "--token", token}, tt.args[1:]...)
			}
			out, errOut, err := runInProcess(t, args...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("%v\n%s", err, errOut)
				}
				if !strings.Contains(out, tt.wantOut) {
					t.Errorf("stdout %q, want %q", out, tt.wantOut)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			code, want := 2, tt.wantCode
			if ee, ok := errors.AsType[*exitError](err); ok {
				code = ee.code
			}
			if want == 0 {
				want = 2
			}
			if code != want {
				t.Errorf("exit code %d, want %d", code, want)
			}
		})
	}

	// The process: a validation error exits with 1, others with 2.
	for _, tc := range []struct {
		file string
		code int
		want string
	}{
		{filepath.Join(dir, "bad.yaml"), 1, "sightline: campaigns apply: " + filepath.Join(dir, "bad.yaml") + " is not valid: campaigns[0].goalId: 9"},
		{filepath.Join(dir, "missing.yaml"), 2, "no such file"},
	} {
		_, stderr, code := runSightline(t, "campaigns", "apply", "-f", tc.file, "--account", "demo", "--server", srv.URL, "--token", token)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("sightline campaigns apply -f %s: exit status %d, stderr %q; want %d, %q", tc.file, code, stderr, tc.code, tc.want)
		}
	}

	// What export wrote applies to the same definitions: no revision
	// changed.
	b, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	var d campaign.Definitions
	if err := yaml.UnmarshalStrict(b, &d); err != nil {
		t.Fatalf("exported file: %v\n%s", err, b)
	}
	if d.Version != 1 || len(d.Campaigns) != 1 || d.Campaigns[0].ID != 4 || d.Campaigns[0].Engagements[1].Content.Title != "10% off" || d.Goals[1].URL == nil {
		t.Errorf("exported %+v", d)
	}
	if !strings.HasPrefix(string(b), "# Campaign definitions of account demo, version 1") {
		t.Errorf("exported file starts %.80q", b)
	}
}

// TestCampaignsApplyRetry changes the definitions between apply's read of
// their version and its update: apply sees it and applies again, once.
func TestCampaignsApplyRetry(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	addAccount(t, data, "demo")
	token := newToken(t, data, "demo")
	srv := newAdminServer(t, data)
	file := writeFile(t, dir, "shop.yaml", definitionsYAML)
	tests := []struct {
		name    string
		changes int // concurrent changes, one before each PUT
		wantOut string
		wantErr string
	}{
		{name: "one change", changes: 1, wantOut: "applied definitions of demo: version 2,"},
		{name: "two changes", changes: 2, wantErr: "the campaign definitions of demo is at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var left atomic.Int32
			left.Store(int32(tt.changes))
			before := func(r *http.Request) {
				if r.Method == http.MethodPut && left.Add(-1) >= 0 {
					_, err := srv.campaigns.Update(r.Context(), "demo", func(d *campaign.Definitions) error {
						d.Settings.SiteControlGroup++
						return nil
					})
					if err != nil {
						t.Error(err)
					}
				}
			}
			srv.before.Store(&before)
			defer srv.before.Store(nil)
			before0, _ := srv.campaigns.Definitions(t.Context(), "demo")
			out, errOut, err := runInProcess(t, "campaigns", "apply", "-f", file, "--account", "demo", "--server", srv.URL, "--token", token)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "412") {
					t.Fatalf("error %v, want %q (412)", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			want := strings.Replace(tt.wantOut, "version 2", "version "+strconv.FormatInt(before0.Version+2, 10), 1)
			if !strings.Contains(out, want) || !strings.Contains(errOut, "changed meanwhile; applying again") {
				t.Errorf("stdout %q, stderr %q, want %q and a retry", out, errOut, want)
			}
		})
	}
}

// TestAccountsToken creates and replaces an account's admin token while a
// server runs: the server takes the new one, and no longer the old one,
// without a restart.
func TestAccountsToken(t *testing.T) {
	data := t.TempDir()
	addAccount(t, data, "demo")
	first := newToken(t, data, "demo")
	srv := newAdminServer(t, data)
	export := func(token string) error {
		_, _, err := runInProcess(t, "campaigns", "export", "--account", "demo", "--server", srv.URL, "--token", token)
		return err
	}
	if err := export(first); err != nil {
		t.Fatalf("export with the token: %v", err)
	}
	_, errOut, err := runInProcess(t, "accounts", "token", "demo", "--data", data)
	if err != nil || !strings.Contains(errOut, "replaced (the previous one no longer works)") {
		t.Fatalf("accounts token again: %v, stderr %q", err, errOut)
	}
	second := newToken(t, data, "demo") // a third, in fact
	deadline := time.Now().Add(pollTimeout)
	for export(second) != nil || export(first) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the server still takes the old token or not the new one after %v", pollTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	file, err := os.ReadFile(filepath.Join(server.AccountsDir(data), "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(file), second) || !strings.Contains(string(file), `"adminTokenHash"`) {
		t.Errorf("account file holds the token or no hash:\n%s", file)
	}

	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown account", []string{"nobody", "--data", data}, `accounts token: no account "nobody" in ` + data},
		{"no id", []string{"--data", data}, "missing account ID"},
		{"two ids", []string{"demo", "other", "--data", data}, `unexpected argument "other"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runInProcess(t, append([]string{"accounts", "token"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || out != "" {
				t.Errorf("error %v, stdout %q, want %q and nothing printed", err, out, tc.wantErr)
			}
		})
	}
}
