package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/dataaccess"
	"github.com/sightline/sightline/internal/server"
)

// runInProcess runs the command in this process.
func runInProcess(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// addAccount creates an account in a data directory.
func addAccount(t *testing.T, data, id string) {
	t.Helper()
	store, err := account.OpenStore(nil, server.AccountsDir(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Add(account.Account{ID: id}); err != nil {
		t.Fatal(err)
	}
}

// parseKeyOutput reads the NAME=value lines `keys add` prints.
func parseKeyOutput(t *testing.T, out string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("keys add printed %q", line)
		}
		vars[name] = value
	}
	for _, name := range []string{envConsumerKey, envConsumerSecret, envToken, envTokenSecret} {
		if len(vars[name]) < 32 {
			t.Errorf("keys add: %s=%q, want 32+ characters", name, vars[name])
		}
	}
	return vars
}

func TestKeysCommands(t *testing.T) {
	data := t.TempDir()
	addAccount(t, data, "75555851")
	addAccount(t, data, "other")

	out, errOut, err := runInProcess(t, "keys", "add", "--account", "75555851", "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	vars := parseKeyOutput(t, out)
	ck := vars[envConsumerKey]
	path := filepath.Join(dataaccess.KeysDir(data), ck+".json")
	if !strings.Contains(errOut, path) || !strings.Contains(errOut, "mode 0600") {
		t.Errorf("stderr %q does not say where the secrets are", errOut)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", fi, err)
	}
	out2, _, err := runInProcess(t, "--data", data, "keys", "add", "--account", "other")
	if err == nil {
		t.Fatalf("flags before the command were accepted: %s", out2)
	}
	out2, _, err = runInProcess(t, "keys", "add", "--data", data, "--account", "other")
	if err != nil {
		t.Fatal(err)
	}
	other := parseKeyOutput(t, out2)

	tests := []struct {
		name    string
		args    []string
		wantOut []string // each in stdout
		wantNot []string // none in stdout
		wantErr string
	}{
		{name: "list", args: []string{"keys", "list", "--data", data},
			wantOut: []string{"CONSUMER KEY", ck + "  75555851", other[envConsumerKey] + "  other"},
			wantNot: []string{vars[envConsumerSecret], vars[envTokenSecret], other[envConsumerSecret]}},
		{name: "list one account", args: []string{"keys", "list", "--account", "other", "--data", data},
			wantOut: []string{other[envConsumerKey]}, wantNot: []string{ck}},
		{name: "list an account without keys", args: []string{"keys", "list", "--account", "none", "--data", data},
			wantOut: []string{"CONSUMER KEY"}, wantNot: []string{ck, other[envConsumerKey]}},
		{name: "add for a missing account", args: []string{"keys", "add", "--account", "nope", "--data", data}, wantErr: `no account "nope"`},
		{name: "add without account", args: []string{"keys", "add", "--data", data}, wantErr: "missing --account"},
		{name: "add with an argument", args: []string{"keys", "add", "x", "--account", "other", "--data", data}, wantErr: `unexpected argument "x"`},
		{name: "remove", args: []string{"keys", "remove", ck, "--data", data}, wantOut: []string{"removed key " + ck + " of account 75555851"}},
		{name: "removed", args: []string{"keys", "list", "--data", data}, wantNot: []string{ck}},
		{name: "remove again", args: []string{"keys", "remove", "--data", data, ck}, wantErr: "key not found"},
		{name: "remove without key", args: []string{"keys", "remove", "--data", data}, wantErr: "missing consumer key"},
		{name: "remove a path", args: []string{"keys", "remove", "../accounts/other", "--data", data}, wantErr: "key not found"},
		{name: "unknown subcommand", args: []string{"keys", "rotate"}, wantErr: `unknown command "keys rotate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runInProcess(t, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.wantOut {
				if !strings.Contains(out, s) {
					t.Errorf("stdout %q lacks %q", out, s)
				}
			}
			for _, s := range tt.wantNot {
				if strings.Contains(out, s) {
					t.Errorf("stdout %q holds %q", out, s)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(data, "accounts", "other.json")); err != nil {
		t.Errorf("an account file went missing: %v", err)
	}
}
