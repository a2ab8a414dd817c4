package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/server"
)

// envAdminToken holds the admin token the campaigns commands send; envServer
// the server they talk to.
const (
	envAdminToken = "SIGHTLINE_ADMIN_TOKEN"
	envServer     = "SIGHTLINE_SERVER"
)

// exitError makes the command exit with code, not 2, after printing err.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// runAccountsToken creates, or replaces, the admin token of an account:
// it prints the token, once, on stdout; the account keeps its hash.
func runAccountsToken(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("accounts token", stderr)
	data := dataDirFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := oneArgument("accounts token", "account ID", pos); err != nil {
		return err
	}
	id := pos[0]
	store, err := account.OpenStore(nil, server.AccountsDir(*data))
	if err != nil {
		return err
	}
	a, ok := store.Get(id)
	if !ok {
		return fmt.Errorf("accounts token: no account %q in %s", id, *data)
	}
	token, hash := account.NewAdminToken()
	if err := store.SetAdminTokenHash(id, hash); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s=%s\n", envAdminToken, token)
	what := "created"
	if a.AdminTokenHash != "" {
		what = "replaced (the previous one no longer works)"
	}
	fmt.Fprintf(stderr, "admin token of account %s %s: only its hash is stored, keep the token now\n", id, what)
	return nil
}

// adminClient calls an account's campaign admin API.
type adminClient struct {
	server, account, token string
	client                 *http.Client
}

// adminFlags adds the flags that say which server and account to talk to,
// and returns the function that parses a command's arguments (flags only)
// and makes the client they name.
func adminFlags(fs *flag.FlagSet) func(args []string) (*adminClient, error) {
	acct := fs.String("account", "", "account whose campaigns to manage (required)")
	srv := fs.String("server", envOr(envServer, "http://127.0.0.1:8080"), "server URL (env "+envServer+")")
	token := fs.String("token", os.Getenv(envAdminToken), "the account's admin token, from 'sightline accounts token' (env "+envAdminToken+")")
	return func(args []string) (*adminClient, error) {
		pos, err := parseInterspersed(fs, args)
		if err != nil {
			return nil, err
		}
		switch {
		case len(pos) > 0:
			return nil, fmt.Errorf("unexpected argument %q", pos[0])
		case *acct == "":
			return nil, errors.New("missing --account")
		case *token == "":
			return nil, fmt.Errorf("missing --token (or env %s): 'sightline accounts token %s' creates one", envAdminToken, *acct)
		}
		u, err := url.Parse(*srv)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("--server %q: want http[s]://host[:port]", *srv)
		}
		return &adminClient{server: strings.TrimSuffix(*srv, "/"), account: *acct, token: *token, client: &http.Client{Timeout: time.Minute}}, nil
	}
}

// apiError is an error answer of the admin API.
type apiError struct {
	status int
	msg    string // its "error"
	field  string // the definition that is not valid, for a 422
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (%d %s)", e.msg, e.status, http.StatusText(e.status))
}

// definitions sends a request for the account's definitions, with body
// (nil: none) and If-Match ifMatch (unless empty). It returns the answer's
// body and ETag.
func (c *adminClient) definitions(ctx context.Context, method string, body []byte, ifMatch string) ([]byte, string, error) {
	u := c.server + "/api/account/" + url.PathEscape(c.account) + "/definitions"
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &apiError{status: resp.StatusCode}
		var eb struct{ Error, Field string }
		if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
			e.msg, e.field = eb.Error, eb.Field
		} else {
			e.msg = fmt.Sprintf("%s %s: %.200s", method, u, bytes.TrimSpace(b))
		}
		return nil, "", e
	}
	return b, resp.Header.Get("ETag"), nil
}

// runCampaignsExport writes an account's campaign definitions as YAML.
func runCampaignsExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("campaigns export", stderr)
	parse := adminFlags(fs)
	out := fs.String("o", "", "file to write (default: stdout)")
	c, err := parse(args)
	if err != nil {
		return fmt.Errorf("campaigns export: %w", err)
	}
	body, _, err := c.definitions(ctx, http.MethodGet, nil, "")
	if err != nil {
		return fmt.Errorf("campaigns export: %w", err)
	}
	var d campaign.Definitions
	if err := json.Unmarshal(body, &d); err != nil {
		return fmt.Errorf("campaigns export: the server answered: %w", err)
	}
	y, err := yaml.JSONToYAML(body)
	if err != nil {
		return fmt.Errorf("campaigns export: %w", err)
	}
	header := fmt.Sprintf("# Campaign definitions of account %s, version %d, exported from %s at %s.\n"+
		"# Edit and apply with: sightline campaigns apply -f FILE --account %s\n"+
		"# (version, nextId and revisions are the server's: apply ignores them).\n",
		c.account, d.Version, c.server, time.Now().UTC().Format(time.RFC3339), c.account)
	y = append([]byte(header), y...)
	if *out == "" {
		_, err := stdout.Write(y)
		return err
	}
	if err := os.WriteFile(*out, y, 0o644); err != nil {
		return fmt.Errorf("campaigns export: %w", err)
	}
	fmt.Fprintf(stderr, "exported the campaign definitions of %s, version %d, to %s\n", c.account, d.Version, *out)
	return nil
}

// runCampaignsApply replaces an account's campaign definitions with those
// of a YAML (or JSON) file: declaratively, whatever their version.
func runCampaignsApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("campaigns apply", stderr)
	parse := adminFlags(fs)
	file := fs.String("f", "", "YAML or JSON file of the definitions, as export writes it (required)")
	c, err := parse(args)
	if err != nil {
		return fmt.Errorf("campaigns apply: %w", err)
	}
	if *file == "" {
		return errors.New("campaigns apply: missing -f FILE")
	}
	y, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("campaigns apply: %w", err)
	}
	// The server checks the fields: it knows them all.
	body, err := yaml.YAMLToJSON(y)
	if err != nil {
		return fmt.Errorf("campaigns apply: %s: %w", *file, err)
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("campaigns apply: %s: want a mapping of settings, campaigns, visitorProfiles, visitorBehaviors, goals", *file)
	}
	// The version the file replaces is the server's current one: a change
	// between reading it and replacing it is seen (412) and applied over,
	// once.
	var applied []byte
	for attempt := 0; ; attempt++ {
		_, version, err := c.definitions(ctx, http.MethodGet, nil, "")
		if err != nil {
			return fmt.Errorf("campaigns apply: %w", err)
		}
		applied, _, err = c.definitions(ctx, http.MethodPut, body, version)
		ae, _ := errors.AsType[*apiError](err)
		if ae != nil && ae.status == http.StatusPreconditionFailed && attempt == 0 {
			fmt.Fprintf(stderr, "the campaign definitions of %s changed meanwhile; applying again\n", c.account)
			continue
		}
		if ae != nil && ae.status == http.StatusUnprocessableEntity {
			return &exitError{code: 1, err: fmt.Errorf("campaigns apply: %s is not valid: %s", *file, ae.msg)}
		}
		if err != nil {
			return fmt.Errorf("campaigns apply: %s: %w", *file, err)
		}
		break
	}
	var d campaign.Definitions
	if err := json.Unmarshal(applied, &d); err != nil {
		return fmt.Errorf("campaigns apply: the server answered: %w", err)
	}
	engagements := 0
	for _, c := range d.Campaigns {
		engagements += len(c.Engagements)
	}
	fmt.Fprintf(stdout, "applied definitions of %s: version %d, %d campaigns, %d engagements, %d profiles, %d behaviors, %d goals\n",
		c.account, d.Version, len(d.Campaigns), engagements, len(d.Profiles), len(d.Behaviors), len(d.Goals))
	return nil
}
