package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/user"
)

// runSightlineInput runs the binary with args, stdin and, besides the
// environment without SIGHTLINE_AGENT_PASSWORD, env.
func runSightlineInput(t *testing.T, stdin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Dir = workDir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envAgentPassword+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("sightline %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), 0
}

func TestAgentsCommands(t *testing.T) {
	data := t.TempDir()
	addAccount(t, data, "acme")
	addAccount(t, data, "other")
	pw := envAgentPassword + "=correct horse"
	tests := []struct {
		name    string
		stdin   string
		env     []string
		args    []string // after "agents", with --data
		wantOut string   // in stdout
		wantErr string   // in stderr, with a non-zero exit
	}{
		{name: "password from the environment", env: []string{pw},
			args:    []string{"add", "--account", "acme", "--login", "ann", "--skill", "sales", "--skill", "support", "--max-chats", "3", "--nickname", "Ann"},
			wantOut: "added agent ann to account acme: user id "},
		{name: "password from stdin", stdin: "battery staple\nrest is ignored\n",
			args:    []string{"add", "--account", "acme", "--login", "echo-bot", "--skill", "sales", "--bot", "--password-stdin"},
			wantOut: ", skills sales\n"},
		{name: "api keys", args: []string{"add", "--account", "acme", "--login", "keys-bot", "--bot", "--api-keys"},
			wantOut: "appKey="},
		{name: "the same login in another account", env: []string{pw}, args: []string{"add", "--account", "other", "--login", "ann"},
			wantOut: "added agent ann to account other"},
		{name: "no password", args: []string{"add", "--account", "acme", "--login", "bob"},
			wantErr: "no password: set SIGHTLINE_AGENT_PASSWORD, pass --password-stdin, run on a terminal, or use --api-keys"},
		{name: "short password", env: []string{envAgentPassword + "=short"}, args: []string{"add", "--account", "acme", "--login", "bob"},
			wantErr: "password: 5 bytes, must be 8 to 1024"},
		{name: "empty stdin", args: []string{"add", "--account", "acme", "--login", "bob", "--password-stdin"},
			wantErr: "password: 0 bytes"},
		{name: "login taken", env: []string{pw}, args: []string{"add", "--account", "acme", "--login", "ann"},
			wantErr: `account acme has an agent "ann" already`},
		{name: "unknown account", env: []string{pw}, args: []string{"add", "--account", "nope", "--login", "bob"},
			wantErr: `no account "nope"`},
		{name: "no account", env: []string{pw}, args: []string{"add", "--login", "bob"}, wantErr: "missing --account"},
		{name: "no login", env: []string{pw}, args: []string{"add", "--account", "acme"}, wantErr: "missing --login"},
		{name: "login with a space", env: []string{pw}, args: []string{"add", "--account", "acme", "--login", "a b"}, wantErr: "no spaces"},
		{name: "negative max chats", env: []string{pw}, args: []string{"add", "--account", "acme", "--login", "bob", "--max-chats", "-1"},
			wantErr: "--max-chats -1"},
		{name: "list without account", args: []string{"list"}, wantErr: "missing --account"},
		{name: "argument", args: []string{"list", "acme"}, wantErr: `unexpected argument "acme"`},
		{name: "unknown subcommand", args: []string{"remove"}, wantErr: `unknown command "agents remove"`},
	}
	var keysOut string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runSightlineInput(t, tt.stdin, tt.env, append(append([]string{"agents"}, tt.args...), "--data", data)...)
			if tt.wantErr != "" {
				if code == 0 || !strings.Contains(stderr, tt.wantErr) {
					t.Errorf("exit %d, stderr %q; want an error with %q", code, stderr, tt.wantErr)
				}
				return
			}
			if code != 0 || !strings.Contains(stdout, tt.wantOut) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %q in stdout", code, stdout, stderr, tt.wantOut)
			}
			if tt.name == "api keys" {
				keysOut = stdout
				if !strings.Contains(stderr, "shown once") || !strings.Contains(stderr, "added agent keys-bot") {
					t.Errorf("stderr %q", stderr)
				}
			}
		})
	}

	users, err := user.OpenStore(nil, server.UsersDir(data))
	if err != nil {
		t.Fatal(err)
	}
	ann, ok := users.ByLogin("acme", "ann")
	if !ok || !ann.CheckPassword("correct horse") || ann.MaxChats != 3 || ann.Nickname != "Ann" || ann.Bot ||
		strings.Join(ann.Skills, ",") != "sales,support" || ann.PID == "" || len(ann.Keys) != 0 {
		t.Errorf("ann %+v", ann)
	}
	if bot, _ := users.ByLogin("acme", "echo-bot"); !bot.Bot || !bot.CheckPassword("battery staple") {
		t.Errorf("echo-bot %+v: want a bot with the password of stdin's first line", bot)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(keysOut), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	kb, _ := users.ByLogin("acme", "keys-bot")
	if len(vars) != 4 || !kb.CheckKey(user.Secrets{AppKey: vars["appKey"], Secret: vars["secret"], AccessToken: vars["accessToken"],
		AccessTokenSecret: vars["accessTokenSecret"]}) || kb.PasswordHash != "" {
		t.Errorf("api keys printed %q do not sign keys-bot in (%+v)", keysOut, kb)
	}
	if _, ok := users.ByLogin("acme", "bob"); ok {
		t.Error("bob was added by a failed command")
	}

	stdout, stderr, code := runSightlineInput(t, "", nil, "agents", "list", "--account", "acme", "--data", data)
	if code != 0 {
		t.Fatalf("list: %s", stderr)
	}
	for _, want := range []string{"USER ID", ann.ID + "  ann ", "Ann", "sales,support", "password", "1 API keys", "no limit", ann.PID} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list %q lacks %q", stdout, want)
		}
	}
	for _, secret := range []string{vars["secret"], vars["accessTokenSecret"], "argon2id"} {
		if strings.Contains(stdout, secret) {
			t.Errorf("list shows a secret: %q", stdout)
		}
	}
	if other, _, _ := runSightlineInput(t, "", nil, "agents", "list", "--account", "other", "--data", data); strings.Contains(other, "echo-bot") {
		t.Errorf("list of account other %q shows acme's agents", other)
	}
}
