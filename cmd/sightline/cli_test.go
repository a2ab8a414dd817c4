package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/identity/identitytest"
	"github.com/sightline/sightline/internal/server"
)

// pollTimeout bounds the wait for a running server to pick up an account
// added by another process.
const pollTimeout = 5 * time.Second

func TestAccountsAddAndList(t *testing.T) {
	data := t.TempDir()
	long := strings.Repeat("x", 33)
	// The ID goes first or last: a flag after an ID that follows a flag is
	// ignored (see TestAccountsAddIDBetweenFlags).
	tests := []struct {
		name    string
		args    []string // after "accounts add"
		wantOut string   // on success, in stdout
		wantErr string   // on failure, in stderr
	}{
		{
			name:    "id before flags",
			args:    []string{"75555851", "--origin", "https://shop.example", "--origin", "https://WWW.Shop.example:443/", "--data", data},
			wantOut: "added account 75555851 (origins: https://shop.example https://www.shop.example)\n",
		},
		{
			name:    "id after flags",
			args:    []string{"--data", data, "--origin", "https://qa.example", "--origin", "http://localhost:8080", "qa51680169"},
			wantOut: "added account qa51680169 (origins: https://qa.example http://localhost:8080)\n",
		},
		{
			name:    "no origins",
			args:    []string{"servers_only-1", "--data", data},
			wantOut: "added account servers_only-1 (origins: none (servers only))\n",
		},
		{
			name:    "32 characters",
			args:    []string{"--data", data, "--origin", "*", strings.Repeat("y", 32)},
			wantOut: "added account " + strings.Repeat("y", 32) + " (origins: *)\n",
		},
		{name: "dot in id", args: []string{"a.b", "--data", data}, wantErr: `character '.' not allowed`},
		{name: "33 characters", args: []string{"--data", data, long}, wantErr: "33 characters, limit 32"},
		{name: "empty id", args: []string{"", "--data", data}, wantErr: "account id: required"},
		{name: "no id", args: []string{"--data", data, "--origin", "https://shop.example"}, wantErr: "missing account ID"},
		{name: "existing id", args: []string{"75555851", "--origin", "https://other.example", "--data", data}, wantErr: "account exists"},
		{name: "existing id after flags", args: []string{"--data", data, "qa51680169"}, wantErr: "account exists"},
		{name: "bad origin", args: []string{"badorigin", "--origin", "ftp://shop.example", "--data", data}, wantErr: "scheme must be http or https"},
		{name: "origin with a path", args: []string{"badorigin", "--origin", "https://shop.example/tv", "--data", data}, wantErr: "must be scheme://host[:port] only"},
		{name: "two ids", args: []string{"one", "two", "--data", data}, wantErr: `unexpected argument "two"`},
		{name: "wrapped documents", args: []string{"wrapco", "--document-shape", "wrapped", "--data", data}, wantOut: "added account wrapco (origins: none (servers only))\n"},
		{name: "unknown document shape", args: []string{"boxco", "--document-shape", "boxed", "--data", data}, wantErr: `document shape "boxed" is not plain or wrapped`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runSightline(t, append([]string{"accounts", "add"}, tt.args...)...)
			if tt.wantErr == "" {
				if code != 0 {
					t.Fatalf("exit status %d, want 0\n%s", code, stderr)
				}
				if stdout != tt.wantOut {
					t.Errorf("stdout %q, want %q", stdout, tt.wantOut)
				}
				return
			}
			if code == 0 {
				t.Fatalf("exit status 0, want failure; stdout %q", stdout)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.wantErr)
			}
		})
	}

	// The list holds the accounts added, and nothing the failures tried.
	want := map[string][]string{
		"75555851":              {"https://shop.example", "https://www.shop.example"},
		"qa51680169":            {"https://qa.example", "http://localhost:8080"},
		"servers_only-1":        {"none", "(servers", "only)"},
		"wrapco":                {"none", "(servers", "only)"},
		strings.Repeat("y", 32): {"*"},
	}
	got := listAccounts(t, data)
	for id, origins := range want {
		if !slices.Equal(got[id], origins) {
			t.Errorf("accounts list: %s has origins %q, want %q", id, got[id], origins)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("accounts list shows %q, which was not added", id)
		}
	}
}

// listAccounts runs `accounts list` and returns the origins column of each
// account, split on spaces.
func listAccounts(t *testing.T, data string) map[string][]string {
	t.Helper()
	out := sightline(t, "accounts", "list", "--data", data)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) == 0 || !slices.Equal(strings.Fields(lines[0]), []string{"ID", "CREATED", "ORIGINS"}) {
		t.Fatalf("accounts list: no header line:\n%s", out)
	}
	accounts := map[string][]string{}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < 3 {
			t.Fatalf("accounts list: line %q has no origins column", line)
		}
		if _, err := time.Parse(time.RFC3339, f[1]); err != nil {
			t.Errorf("accounts list: %s created %q: %v", f[0], f[1], err)
		}
		accounts[f[0]] = f[2:]
	}
	return accounts
}

// TestAccountsAddIDBetweenFlags adds an account with its ID between two
// flags. The flag package stops at the ID, so runAccountsAdd takes it from
// fs.Arg(0) and silently drops the flags after it.
func TestAccountsAddIDBetweenFlags(t *testing.T) {
	tests := []struct {
		name string
		args func(data string) []string
	}{
		{"origin after the id", func(data string) []string {
			return []string{"--data", data, "mid1", "--origin", "https://shop.example"}
		}},
		{"data after the id", func(data string) []string {
			return []string{"--origin", "https://shop.example", "mid1", "--data", data}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			stdout, stderr, code := runSightline(t, append([]string{"accounts", "add"}, tt.args(data)...)...)
			if code != 0 {
				// Refusing the arguments would do too; silently ignoring them does not.
				return
			}
			if got := listAccounts(t, data)["mid1"]; !slices.Equal(got, []string{"https://shop.example"}) {
				t.Errorf("printed %q %q, but %s lists mid1 with origins %q, want [https://shop.example]", stdout, stderr, data, got)
			}
		})
	}
}

func TestAccountsAddWhileServing(t *testing.T) {
	data := t.TempDir()
	p := startServer(t, data, "127.0.0.1:0")
	const id = "75555851"
	client := &http.Client{Timeout: 30 * time.Second}
	body := batchBody(1, 0, []string{"late-1"})

	_, err := postBatch(client, p.eventsURL(id), body)
	if se, ok := errors.AsType[*statusError](err); !ok || se.code != http.StatusNotFound {
		t.Fatalf("post before the account exists: %v, want status 404", err)
	}
	sightline(t, "accounts", "add", id, "--data", data)

	deadline := time.Now().Add(pollTimeout)
	for {
		a, err := postBatch(client, p.eventsURL(id), body)
		if err == nil {
			if a.Accepted != 1 {
				t.Errorf("answer %+v, want 1 accepted", a)
			}
			break
		}
		if se, ok := errors.AsType[*statusError](err); !ok || se.code != http.StatusNotFound || time.Now().After(deadline) {
			t.Fatalf("post to an account added %v ago: %v", pollTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop(t)
}

// tailed is one line `events tail` printed.
type tailed struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
}

// parseTail parses the lines of `events tail`: one JSON object a line, each
// with an id.
func parseTail(t *testing.T, line string) tailed {
	t.Helper()
	var e tailed
	if err := json.Unmarshal([]byte(line), &e); err != nil || e.ID == "" {
		t.Fatalf("events tail printed %q, not a JSON object with an id (%v)", line, err)
	}
	return e
}

// tailIDs runs `events tail` on account and returns the ids it printed, in
// order; it fails the test on a line of another account.
func tailIDs(t *testing.T, data, account string) []string {
	t.Helper()
	var ids []string
	for line := range strings.Lines(sightline(t, "events", "tail", "--account", account, "--data", data)) {
		e := parseTail(t, line)
		if e.AccountID != account {
			t.Errorf("events tail --account %s printed an event of %s: %q", account, e.AccountID, line)
		}
		ids = append(ids, e.ID)
	}
	return ids
}

// sameIDs reports whether got holds each of want once, in any order.
func sameIDs(got, want []string) bool {
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

func TestEventsTail(t *testing.T) {
	data := t.TempDir()
	for _, id := range []string{"tailA", "tailB", "quiet"} {
		sightline(t, "accounts", "add", id, "--data", data)
	}
	p := startServer(t, data, "127.0.0.1:0")
	client := &http.Client{Timeout: 30 * time.Second}

	// post stores one batch per visitor for account, so that its events land
	// in several partitions, and returns their ids.
	post := func(t *testing.T, account, prefix string) []string {
		t.Helper()
		var all []string
		for v := range 4 {
			ids := []string{fmt.Sprintf("%s-v%d-1", prefix, v), fmt.Sprintf("%s-v%d-2", prefix, v)}
			a, err := postBatch(client, p.eventsURL(account), batchBody(v, 0, ids))
			if err != nil || a.Accepted != len(ids) {
				t.Fatalf("post to %s: %+v, %v", account, a, err)
			}
			all = append(all, ids...)
		}
		return all
	}
	wantA := post(t, "tailA", "a")
	post(t, "tailB", "b")

	t.Run("server running", func(t *testing.T) {
		if got := tailIDs(t, data, "tailA"); !sameIDs(got, wantA) {
			t.Errorf("events tail --account tailA printed %q, want %q", got, wantA)
		}
		if got := tailIDs(t, data, "quiet"); len(got) != 0 {
			t.Errorf("events tail of an account without events printed %q", got)
		}
	})

	t.Run("follow", func(t *testing.T) {
		more := followUntil(t, data, "tailA", wantA, func() []string {
			post(t, "tailB", "b2")
			return post(t, "tailA", "a2")
		})
		wantA = append(wantA, more...)
	})

	p.stop(t)

	t.Run("server stopped", func(t *testing.T) {
		got := tailIDs(t, data, "tailA")
		if !sameIDs(got, wantA) {
			t.Errorf("events tail --account tailA printed %q, want %q", got, wantA)
		}
		// A visitor's events are in one partition, in the order stored.
		for v := range 4 {
			var order []string
			for _, id := range got {
				if strings.Contains(id, fmt.Sprintf("-v%d-", v)) {
					order = append(order, id)
				}
			}
			want := []string{fmt.Sprintf("a-v%d-1", v), fmt.Sprintf("a-v%d-2", v), fmt.Sprintf("a2-v%d-1", v), fmt.Sprintf("a2-v%d-2", v)}
			if !slices.Equal(order, want) {
				t.Errorf("events tail printed visitor %d's events as %q, want %q", v, order, want)
			}
		}
	})
}

// TestEventsTailFollowInterrupted interrupts `events tail --follow` while it
// reads (with --poll 0s it reads all the time): it must exit 0, as it does
// when interrupted between two polls.
func TestEventsTailFollowInterrupted(t *testing.T) {
	data := t.TempDir()
	sightline(t, "accounts", "add", "x", "--data", data)
	p := startServer(t, data, "127.0.0.1:0")
	defer p.stop(t)
	for i := range 3 {
		cmd := exec.Command(binary, "events", "tail", "--account", "x", "--data", data, "--follow", "--poll", "0s")
		cmd.Dir = workDir
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitOpened(t, cmd.Process.Pid, data)
		time.Sleep(50 * time.Millisecond) // let it get into its loop; any time will do
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("interrupt %d: %v\n%s", i, err, &stderr)
		}
	}
}

// waitOpened waits until process pid has a file of dir open: its main
// has run (and caught the interrupt), so that a signal sent after does not
// find it still starting on a loaded machine. Without /proc it returns.
func waitOpened(t *testing.T, pid int, dir string) {
	t.Helper()
	fds := fmt.Sprintf("/proc/%d/fd", pid)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		entries, err := os.ReadDir(fds)
		if err != nil {
			return
		}
		for _, e := range entries {
			if target, err := os.Readlink(filepath.Join(fds, e.Name())); err == nil && strings.HasPrefix(target, dir) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("process %d opened nothing in %s in 30 s", pid, dir)
}

// followUntil runs `events tail --follow` on account, waits for it to print
// the ids of before, calls post, which stores more events and returns the
// ids of account among them, and waits for those to be printed. It checks
// that nothing else is printed, interrupts the command, and returns what
// post returned.
func followUntil(t *testing.T, data, account string, before []string, post func() []string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "events", "tail", "--account", account, "--data", data, "--follow", "--poll", "50ms")
	cmd.Dir = workDir
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second // then it is killed
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	seen := map[string]int{}
	missing := func(want []string) bool {
		return slices.ContainsFunc(want, func(id string) bool { return seen[id] == 0 })
	}
	// waitFor reads lines until every id of want has been printed.
	waitFor := func(want []string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for missing(want) {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("events tail --follow ended before printing %q; stderr:\n%s", want, stderr)
				}
				e := parseTail(t, line)
				if e.AccountID != account {
					t.Errorf("events tail --follow --account %s printed an event of %s: %q", account, e.AccountID, line)
				}
				seen[e.ID]++
			case <-timeout:
				t.Fatalf("events tail --follow did not print %q; printed %v", want, seen)
			}
		}
	}
	waitFor(before)
	after := post()
	waitFor(after)

	cancel() // sends SIGINT
	for line := range lines {
		e := parseTail(t, line)
		seen[e.ID]++
		if e.AccountID != account {
			t.Errorf("events tail --follow --account %s printed an event of %s: %q", account, e.AccountID, line)
		}
	}
	// Wait returns ctx.Err() for a command that exits 0 once cancelled.
	err = cmd.Wait()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		// An interrupt that lands while a partition is read fails the read
		// with "context canceled" (tail.go): a known bug, not this test's subject.
		if !strings.Contains(stderr.String(), "context canceled") {
			t.Errorf("events tail --follow exited with %d on SIGINT; stderr:\n%s", ee.ExitCode(), stderr)
		}
	} else if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("events tail --follow: %v; stderr:\n%s", err, stderr)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("events tail --follow printed %s %d times", id, n)
		}
	}
	if want := len(before) + len(after); len(seen) != want {
		t.Errorf("events tail --follow printed %d events, want %d: %v", len(seen), want, seen)
	}
	return after
}

func TestServeOnNewDataDir(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := startServer(t, data, "127.0.0.1:0")
	p.stop(t) // exits 0 on SIGTERM; stdout is complete

	out := p.stdout.String()
	for _, want := range []string{
		`Created account "demo" in ` + data,
		"http://" + p.addr + "/api/account/demo/events",
		"sightline events tail --account demo --data " + data,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("serve on a new data directory printed\n%s\nwant it to contain %q", out, want)
		}
	}

	// The curl command it prints works.
	p = startServer(t, data, "127.0.0.1:0")
	url, body := hintRequest(t, out, p.addr)
	a, err := postBatch(&http.Client{Timeout: 30 * time.Second}, url, body)
	if err != nil || a.Accepted != 1 {
		t.Errorf("the printed curl command: %+v, %v; want 1 accepted", a, err)
	}
	p.stop(t)
	// A restart prints where things are again, but not the first start's
	// account and token.
	again := p.stdout.String()
	for _, want := range []string{"http://" + p.addr + "/ ", "http://" + p.addr + "/demo/", "events tail --account demo --data " + data} {
		if !strings.Contains(again, want) {
			t.Errorf("serve on a data directory that is not new printed\n%s\nwant it to contain %q", again, want)
		}
	}
	if strings.Contains(again, "Created account") || strings.Contains(again, "SIGHTLINE_ADMIN_TOKEN") {
		t.Errorf("serve on a data directory that is not new printed the first start's hints:\n%s", again)
	}
	if ids := tailIDs(t, data, "demo"); len(ids) != 2 {
		t.Errorf("events tail --account demo printed %q, want the one event sent and the demo campaigns' eligibility", ids)
	}
}

// hintRequest finds the curl command in the hint serve printed and returns
// its URL, with the address replaced by addr, and body, with the shell's
// $(date +%s000) replaced by the current time in milliseconds.
func hintRequest(t *testing.T, hint, addr string) (string, []byte) {
	t.Helper()
	var curl string
	for line := range strings.Lines(hint) {
		if strings.Contains(line, "curl ") {
			curl = strings.TrimSpace(line)
		}
	}
	start := strings.Index(curl, "http://")
	body := strings.Index(curl, " -d '")
	if curl == "" || start < 0 || body < start || !strings.HasSuffix(curl, "'") {
		t.Fatalf("no curl command to read in:\n%s", hint)
	}
	url := curl[start:body]
	rest := url[len("http://"):]
	url = "http://" + addr + rest[strings.Index(rest, "/"):]
	b := curl[body+len(" -d '") : len(curl)-1]
	b = strings.ReplaceAll(b, "'$(date +%s000)'", strconv.FormatInt(time.Now().UnixMilli(), 10))
	return url, []byte(b)
}

// TestAccountsSet changes an account's document shape, and refuses what
// is not one.
func TestAccountsSet(t *testing.T) {
	data := t.TempDir()
	if _, stderr, code := runSightline(t, "accounts", "add", "acme", "--data", data); code != 0 {
		t.Fatal(stderr)
	}
	for _, tc := range []struct {
		args    []string // after "accounts set"
		wantErr string
		shape   string // stored after
	}{
		{[]string{"acme", "--document-shape", "wrapped"}, "", "wrapped"},
		{[]string{"acme", "--document-shape", "boxed"}, `document shape "boxed" is not plain or wrapped`, "wrapped"},
		{[]string{"acme"}, "nothing to set", "wrapped"},
		{[]string{"nobody", "--document-shape", "plain"}, `no account "nobody"`, "wrapped"},
		{[]string{"acme", "--document-shape", "plain"}, "", "plain"},
	} {
		_, stderr, code := runSightline(t, append(append([]string{"accounts", "set"}, tc.args...), "--data", data)...)
		if (code != 0) != (tc.wantErr != "") || !strings.Contains(stderr, tc.wantErr) {
			t.Errorf("accounts set %v: exit %d, stderr %q; want error %q", tc.args, code, stderr, tc.wantErr)
		}
		store, err := account.OpenStore(nil, server.AccountsDir(data))
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := store.Get("acme"); a.DocumentShape.String() != tc.shape {
			t.Errorf("after accounts set %v: shape %v, want %s", tc.args, a.DocumentShape, tc.shape)
		}
	}
}

// TestAccountsSetVisitorAuth sets and removes the keys that authenticate
// an account's visitors.
func TestAccountsSetVisitorAuth(t *testing.T) {
	data := t.TempDir()
	if _, stderr, code := runSightline(t, "accounts", "add", "acme", "--data", data); code != 0 {
		t.Fatal(stderr)
	}
	pemFile := filepath.Join(t.TempDir(), "brand.pem")
	os.WriteFile(pemFile, identitytest.NewBrand(t).PEM(), 0o600)
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	for _, tc := range []struct {
		args    []string // after "accounts set acme"
		wantErr string
		issuer  string // stored after; "" none
	}{
		{[]string{"--visitor-issuer", "https://idp.example"}, "go together", ""},
		{[]string{"--visitor-issuer", "https://idp.example", "--visitor-keys", bad}, "neither a PEM public key nor a JSON Web Key Set", ""},
		{[]string{"--visitor-issuer", "https://idp.example", "--visitor-keys", pemFile}, "", "https://idp.example"},
		{[]string{"--no-visitor-auth"}, "", ""},
	} {
		_, stderr, code := runSightline(t, append(append([]string{"accounts", "set", "acme"}, tc.args...), "--data", data)...)
		if (code != 0) != (tc.wantErr != "") || !strings.Contains(stderr, tc.wantErr) {
			t.Errorf("accounts set %v: exit %d, stderr %q; want error %q", tc.args, code, stderr, tc.wantErr)
		}
		store, err := account.OpenStore(nil, server.AccountsDir(data))
		if err != nil {
			t.Fatal(err)
		}
		a, _ := store.Get("acme")
		if got := ""; a.VisitorAuth != nil {
			got = a.VisitorAuth.Issuer
			if got != tc.issuer {
				t.Errorf("after %v: issuer %q, want %q", tc.args, got, tc.issuer)
			}
		} else if tc.issuer != "" {
			t.Errorf("after %v: no visitor auth, want issuer %q", tc.args, tc.issuer)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	data := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown subcommand", []string{"accounts", "remove", "x"}, `unknown command "accounts remove"`},
		{"missing subcommand", []string{"events"}, "events: missing subcommand"},
		{"tail without account", []string{"events", "tail", "--data", data}, "--account is required"},
		{"tail of an invalid account", []string{"events", "tail", "--account", "a.b", "--data", data}, "not allowed"},
		{"unknown flag", []string{"accounts", "list", "--colour", "--data", data}, "flag provided but not defined: -colour"},
		{"serve on a busy address", []string{"serve", "--addr", busy.Addr().String(), "--data", filepath.Join(data, "busy")}, "cannot listen"},
		{"serve with a bad log format", []string{"serve", "--log-format", "xml", "--data", filepath.Join(data, "xml")}, `--log-format: "xml" is not text or json`},
		{"serve with a bad trusted proxy", []string{"serve", "--trusted-proxy", "10.0.0.0/99", "--data", filepath.Join(data, "proxy")}, "--trusted-proxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runSightline(t, tt.args...)
			if code == 0 {
				t.Fatalf("sightline %q: exit status 0, want failure; stdout %q", tt.args, stdout)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("sightline %q: stderr %q, want it to contain %q", tt.args, stderr, tt.wantErr)
			}
		})
	}
}

// TestServeStopsOnInterrupt checks that SIGINT, like SIGTERM, stops the
// server cleanly.
func TestServeStopsOnInterrupt(t *testing.T) {
	data := t.TempDir()
	p := startServer(t, data, "127.0.0.1:0")
	a, err := postBatch(&http.Client{Timeout: 30 * time.Second}, p.eventsURL("demo"), batchBody(1, 0, []string{"int-1"}))
	if err != nil || a.Accepted != 1 {
		t.Fatalf("post: %+v, %v", a, err)
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not stop on SIGINT:\n%s", p.stderr)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("server exited with %d after SIGINT:\n%s", code, p.stderr)
	}
	if ids := tailIDs(t, data, "demo"); !slices.Equal(ids, []string{"int-1"}) {
		t.Errorf("events tail printed %q, want [int-1]", ids)
	}
}
