package lpagent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/conversation"
)

// These tests run bots written with LivePerson's node-agent-sdk 1.2.0
// (testdata/*.js) against the server, as a brand would: only csdsDomain
// and the credentials point them at Sightline. The visitor's side is a Go
// client of the chat window's protocol.

// repoRoot returns the repository's root: the nearest directory up from
// the test's with a go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// sdkPath returns the NODE_PATH where node-agent-sdk is installed.
func sdkPath(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), ".cache", "agent-sdk", "node_modules")
	if _, err := os.Stat(filepath.Join(dir, "node-agent-sdk", "package.json")); err != nil {
		t.Fatalf("LivePerson's node-agent-sdk 1.2.0 is not installed in %s: run `make agent-sdk` (scripts/agent-sdk.sh) first", dir)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not installed: run `make agent-sdk` (scripts/agent-sdk.sh) first: %v", err)
	}
	return dir
}

// bot is a running bot process.
type bot struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	lines  chan map[string]any // the JSON lines, as they come
	mu     sync.Mutex
	seen   []string         // every line, for the failure message
	events []map[string]any // every JSON line
	more   chan struct{}    // receives when events grows
	stderr bytes.Buffer
	done   chan struct{}
}

// startBot runs testdata/script with node against the server; env adds
// LP_* variables.
func (e *env) startBot(script string, vars ...string) *bot {
	t := e.t
	t.Helper()
	nodePath := sdkPath(t)
	cmd := exec.Command("node", filepath.Join("testdata", script))
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "NODE_PATH", "NODE_EXTRA_CA_CERTS", "NO_PROXY", "NODE_TLS_REJECT_UNAUTHORIZED":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "NODE_PATH="+nodePath, "NODE_EXTRA_CA_CERTS="+e.caFile, "NO_PROXY=127.0.0.1,localhost",
		"no_proxy=127.0.0.1,localhost", "LP_CSDS="+e.host)
	cmd.Env = append(cmd.Env, vars...)
	b := &bot{t: t, name: script, cmd: cmd, lines: make(chan map[string]any, 10000), more: make(chan struct{}, 1), done: make(chan struct{})}
	cmd.Stderr = &b.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node %s: %v", script, err)
	}
	go func() {
		defer close(b.done)
		defer close(b.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			b.mu.Lock()
			b.seen = append(b.seen, line)
			b.mu.Unlock()
			var v map[string]any
			if json.Unmarshal([]byte(line), &v) != nil {
				continue // the SDK's own console output
			}
			if v["event"] == "error" {
				t.Errorf("%s: error event: %s", script, line)
			}
			b.mu.Lock()
			b.events = append(b.events, v)
			b.mu.Unlock()
			select {
			case b.more <- struct{}{}:
			default:
			}
			select {
			case b.lines <- v:
			default: // a test that reads events with wait
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-b.done
		}
		cmd.Wait()
		if t.Failed() {
			b.mu.Lock()
			t.Logf("%s printed:\n%s\nstderr:\n%s", script, strings.Join(b.seen, "\n"), b.stderr.String())
			b.mu.Unlock()
		}
	})
	return b
}

// wait returns the first line the bot printed with event name (and, if
// match is not nil, for which match is true), waiting for it if needed.
// (Responses and notifications have no order between them: neither have
// the lines of their callbacks.)
func (b *bot) wait(name string, match func(map[string]any) bool) map[string]any {
	b.t.Helper()
	timeout := time.After(20 * time.Second)
	ended := false
	for {
		b.mu.Lock()
		for _, v := range b.events {
			if v["event"] == name && (match == nil || match(v)) {
				b.mu.Unlock()
				return v
			}
		}
		b.mu.Unlock()
		if ended {
			b.t.Fatalf("%s ended waiting for %s; stderr:\n%s", b.name, name, b.stderr.String())
		}
		select {
		case <-b.more:
		case <-b.done:
			ended = true // one more look
		case <-timeout:
			b.t.Fatalf("%s: no %s in 20s", b.name, name)
		}
	}
}

// str returns v's field as a string.
func str(v map[string]any, k string) string {
	s, _ := v[k].(string)
	return s
}

// TestEchoBot runs the agent-bot example's echo bot (API keys login): it
// takes the visitor's conversation by its ring, marks each message READ
// and echoes it, in order and once, and closes the conversation on #close.
func TestEchoBot(t *testing.T) {
	e := newEnv(t)
	u, keys := e.addUser(acme, "echo", 0, "sales")
	b := e.startBot("echo-bot.js", "LP_ACCOUNT="+acme, "LP_USER=echo", "LP_APP_KEY="+keys.AppKey, "LP_SECRET="+keys.Secret,
		"LP_ACCESS_TOKEN="+keys.AccessToken, "LP_ACCESS_TOKEN_SECRET="+keys.AccessTokenSecret)
	if v := b.wait("connected", nil); str(v, "agentId") != u.PID || str(v, "userId") != u.ID {
		t.Errorf("bot's agentId %v userId %v, want the user's PID %s and id %s", v["agentId"], v["userId"], u.PID, u.ID)
	}
	b.wait("routing", func(v map[string]any) bool { return v["error"] == nil })

	c := e.startConversation(acme, "visitor-1", 1)
	texts := []string{"hello 1", "hello 2", "hello 3", "hello 4"}
	var seqs []int
	seqs = append(seqs, c.say(texts[0]))
	b.wait("ring", func(v map[string]any) bool {
		return str(v, "ringState") == "WAITING" && str(v, "conversationId") == c.conv
	})
	if v := b.wait("accepted", nil); v["error"] != nil {
		t.Fatalf("accept: %v", v)
	}
	change := b.wait("change", func(v map[string]any) bool { return str(v, "type") == "UPSERT" && str(v, "myRole") == "ASSIGNED_AGENT" })
	if str(change, "convId") != c.conv || str(change, "skillId") != "11" {
		t.Errorf("UPSERT %v: want conversation %s of skill 11", change, c.conv)
	}
	profile := b.wait("profile", nil)
	if p, _ := json.Marshal(profile["profile"]); !strings.Contains(string(p), `"firstname":"Ann"`) || !strings.Contains(string(p), `"customerId":"c-77"`) {
		t.Errorf("profile %s: want Ann's personal and customer info", p)
	}
	// The first echo, from the history, before the others are sent.
	c.waitAgentText("echo : hello 1")
	for _, text := range texts[1:] {
		seqs = append(seqs, c.say(text))
	}
	closeSeq := c.say("#close")
	c.until("the close", func() bool { return c.state == "CLOSE" })
	if c.closeReason != "AGENT" {
		t.Errorf("close reason %q, want AGENT", c.closeReason)
	}
	var echoes []string
	for _, text := range c.agentTexts {
		if !strings.HasPrefix(text, "Just joined to conversation with ") {
			echoes = append(echoes, text)
		}
	}
	if want := []string{"echo : hello 1", "echo : hello 2", "echo : hello 3", "echo : hello 4"}; !slices.Equal(echoes, want) ||
		len(c.agentTexts) != len(want)+1 {
		t.Errorf("the bot said %q, want a greeting and %q", c.agentTexts, want)
	}
	for _, s := range append(seqs, closeSeq) {
		if !c.read[s] {
			t.Errorf("message %d: no READ from the bot (read: %v)", s, c.read)
		}
	}
	del := b.wait("change", func(v map[string]any) bool { return str(v, "type") == "DELETE" })
	if str(del, "state") != "CLOSE" || str(del, "closeReason") != "AGENT" {
		t.Errorf("DELETE %v: want state CLOSE, closeReason AGENT", del)
	}

	// The stored conversation: every echo once, in order.
	msgs, err := e.store.Messages(t.Context(), acme, c.conv, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	joined := 0
	for _, m := range msgs {
		switch {
		case strings.HasPrefix(m.Text, "echo : "):
			stored = append(stored, m.Text)
		case strings.HasPrefix(m.Text, "Just joined to conversation with "):
			joined++
		}
		if m.Role != conversation.Consumer && (m.From != u.ID || m.Role != conversation.AssignedAgent) {
			t.Errorf("message %d from %s as %s, want the bot as ASSIGNED_AGENT", m.Seq, m.From, m.Role)
		}
	}
	if want := []string{"echo : hello 1", "echo : hello 2", "echo : hello 3", "echo : hello 4"}; !slices.Equal(stored, want) || joined != 1 {
		t.Errorf("stored echoes %q and %d greetings, want %q and 1", stored, joined, want)
	}
}

// TestGreetingBot runs the greeting-bot example (password login): it sees
// every open conversation of the account, joins a new one as MANAGER and
// greets, and is told when it closes. Its session is refreshed meanwhile.
func TestGreetingBot(t *testing.T) {
	e := newEnv(t)
	u, _ := e.addUser(acme, "greeter", 0)
	b := e.startBot("greeting-bot.js", "LP_ACCOUNT="+acme, "LP_USER=greeter", "LP_PASS="+testPassword, "LP_REFRESH_MS=200")
	b.wait("connected", nil)
	if v := b.wait("subscribed", nil); v["error"] != nil {
		t.Fatalf("subscribe: %v", v)
	}
	c := e.startConversation(acme, "visitor-2", 1)
	first := b.wait("change", func(v map[string]any) bool { return str(v, "convId") == c.conv })
	if str(first, "type") != "UPSERT" || first["myRole"] != nil || str(first, "state") != "OPEN" {
		t.Errorf("first change %v: want an UPSERT of the open conversation, bot not in it", first)
	}
	if p, _ := json.Marshal(first["participants"]); string(p) != fmt.Sprintf(`[{"id":%q,"role":"CONSUMER"}]`, c.visitor) {
		t.Errorf("participants %s: want the consumer alone", p)
	}
	if v := b.wait("joined", nil); v["error"] != nil || str(v, "resp") != "OK Agent added successfully" {
		t.Errorf("join: %v", v)
	}
	manager := b.wait("change", func(v map[string]any) bool { return str(v, "myRole") == "MANAGER" })
	if p, _ := json.Marshal(manager["participants"]); !strings.Contains(string(p), fmt.Sprintf(`{"id":%q,"role":"MANAGER"}`, u.PID)) {
		t.Errorf("participants after the join %s: want the bot's PID as MANAGER", p)
	}
	if v := b.wait("greeted", nil); v["error"] != nil {
		t.Errorf("greet: %v", v)
	}
	c.waitAgentText("welcome from bot")

	// The visitor closes: the bot gets a DELETE.
	if f := c.request("cm.UpdateConversationField", map[string]any{"conversationId": c.conv,
		"conversationField": []any{map[string]any{"field": "ConversationStateField", "conversationState": "CLOSE"}}}); f.Code != 200 {
		t.Fatalf("close: %s", f.raw)
	}
	del := b.wait("change", func(v map[string]any) bool { return str(v, "type") == "DELETE" })
	if str(del, "convId") != c.conv || str(del, "closeReason") != "CONSUMER" {
		t.Errorf("DELETE %v", del)
	}
	// A second conversation: the bot joins it too.
	c2 := e.startConversation(acme, "visitor-3", 2)
	c2.waitAgentText("welcome from bot")

	// The SDK refreshed its session (cookie and csrf) without an error.
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, e, "sightline_lpagent_http_requests_total", map[string]string{"endpoint": "refresh", "code": "200"}) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the SDK did not refresh its session twice (refused: %v)",
				metricValue(t, e, "sightline_lpagent_http_requests_total", map[string]string{"endpoint": "refresh", "code": "401"}))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSDKRequests calls every request of the SDK with a callback (probe.js):
// each is answered (none times out), with the code expected, and nothing
// makes the SDK's transformers fail.
func TestSDKRequests(t *testing.T) {
	e := newEnv(t)
	e.addUser(acme, "probe", 0, "sales")
	e.addUser(other, "intruder", 0)
	victim := e.startConversation(other, "victim", 1)
	b := e.startBot("probe.js", "LP_ACCOUNT="+acme, "LP_USER=probe", "LP_PASS="+testPassword, "OTHER_CONVERSATION="+victim.conv)
	b.wait("connected", nil)
	want := []struct {
		call string
		code any
	}{
		{"getClock", 200.0},
		{"setAgentState", 200.0},
		{"setAgentState", 400.0},
		{"subscribeExConversations", 200.0},
		{"subscribeExConversations", 400.0},
		{"subscribeRoutingTasks", 200.0},
		{"updateRoutingTaskSubscription", 200.0},
		{"subscribeAgentsState", 200.0},
		{"getUserProfile", 404.0},
		{"updateRingState", 404.0},
		{"subscribeMessagingEvents", 404.0},
		{"publishEvent", 404.0},
		{"updateConversationField", 404.0},
		{"agentRequestConversation", 200.0},
		{"subscribeMessagingEvents", 200.0},
		{"publishEvent", 200.0},
		{"publishEvent", 200.0},
		{"publishEvent", 200.0},
		{"publishEvent", 200.0},
		{"publishEvent", 400.0},
		{"getUserProfile", 200.0},
		{"updateConversationField", 501.0},
		{"generateURLForUploadFile", 501.0},
		{"generateURLForDownloadFile", 501.0},
		{"updateConversationField", 200.0},
		{"unsubscribeExConversations", 200.0},
		{"unsubscribeExConversations", 400.0},
	}
	var metadata, rich bool
	for i := 0; i < len(want); {
		var v map[string]any
		select {
		case v = <-b.lines:
		case <-time.After(30 * time.Second):
			t.Fatalf("probe stopped before %s", want[i].call)
		}
		if v == nil {
			t.Fatalf("probe ended before %s", want[i].call)
		}
		if n := str(v, "notification"); n == "ms.MessagingEventNotification" {
			body, _ := json.Marshal(v["body"])
			metadata = metadata || strings.Contains(string(body), `"metadata":[{"id":"X-1","type":"ExternalId"}]`)
			rich = rich || strings.Contains(string(body), `"type":"RichContentEvent"`)
		}
		if str(v, "call") == "" {
			continue
		}
		if str(v, "call") != want[i].call || v["code"] != want[i].code {
			body, _ := json.Marshal(v["body"])
			t.Errorf("call %d: %s answered %v (%s), want %s %v", i, str(v, "call"), v["code"], body, want[i].call, want[i].code)
		}
		if str(v, "call") == "getUserProfile" {
			if _, ok := v["body"].([]any); !ok {
				t.Errorf("profile %v: want an array", v["body"])
			}
		}
		i++
	}
	b.wait("done", nil)
	if !metadata || !rich {
		t.Errorf("the bot's own events came back with metadata %v, rich content %v; want both", metadata, rich)
	}
	// The other account's conversation is untouched.
	msgs, err := e.store.Messages(t.Context(), other, victim.conv, 0, 0)
	if err != nil || len(msgs) != 0 {
		t.Errorf("the other account's conversation has %d messages (%v), want none", len(msgs), err)
	}
}
