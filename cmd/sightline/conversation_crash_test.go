package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/chatload"
	"github.com/sightline/sightline/internal/conversation/boltstore"
	"github.com/sightline/sightline/internal/server"
)

// crashAccount is the account of TestCrashKeepsConversations.
const crashAccount = "chat"

// TestCrashKeepsConversations runs the real binary with visitors of the
// chat window's protocol and an echo bot of LivePerson's agent protocol
// exchanging messages, kill -9s the server several times while they do,
// restarting it on the same data directory and port, and then proves, from
// the store, that no acknowledged message was lost or stored twice and that
// each side saw each message of the other exactly once (by sequence). The
// clients reconnect as real ones do: a visitor resends its unacknowledged
// messages with their ids and subscribes from the first sequence it has not
// seen; the bot logs in again when its bearer is refused, subscribes to its
// conversations again, catches up on each from the first sequence it has
// not seen, and only then echoes what it has not echoed.
func TestCrashKeepsConversations(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server binary; skipped with -short")
	}
	data, dir := t.TempDir(), t.TempDir()
	sightline(t, "accounts", "add", crashAccount, "--data", data)
	token, ok := strings.CutPrefix(strings.TrimSpace(sightline(t, "accounts", "token", crashAccount, "--data", data)), envAdminToken+"=")
	if !ok {
		t.Fatal("accounts token printed no token")
	}
	keys := map[string]string{}
	for line := range strings.Lines(sightline(t, "agents", "add", "--account", crashAccount, "--login", "echo-bot", "--bot", "--skill", benchSkill,
		"--api-keys", "--data", data)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		keys[k] = v
	}
	defs := filepath.Join(dir, "definitions.yaml")
	if err := os.WriteFile(defs, []byte(benchDefinitions), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	base := "http://" + addr
	p := startServer(t, data, addr)
	sightline(t, "campaigns", "apply", "-f", defs, "--account", crashAccount, "--server", base, "--token", token)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sending, stopSending := context.WithCancel(ctx)
	bot := &echoBot{t: t, base: base, creds: chatload.Credentials{Login: "echo-bot", AppKey: keys["appKey"], Secret: keys["secret"],
		AccessToken: keys["accessToken"], AccessTokenSecret: keys["accessTokenSecret"]}, convs: map[string]*botConversation{}}
	var wg sync.WaitGroup
	wg.Go(func() { bot.run(ctx) })
	// The visitors come one after the other, while the server is killed:
	// conversations start and are accepted across crashes too.
	const visitors = 6
	vs := make([]*crashVisitor, visitors)
	for i := range vs {
		vs[i] = &crashVisitor{t: t, base: base, id: fmt.Sprintf("visitor-%d", i), acked: map[string]int{}, seen: map[int]chatload.Message{}}
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 400 * time.Millisecond)
			vs[i].run(ctx, sending)
		})
	}

	const kills = 10
	for range kills {
		time.Sleep(time.Duration(100+rand.IntN(700)) * time.Millisecond)
		p.kill()
		p = startServer(t, data, addr)
	}
	time.Sleep(time.Second)
	stopSending()
	// Let both sides catch up: every visitor's messages acknowledged and
	// echoed, and every echo seen by its visitor.
	settled := func() bool {
		for _, v := range vs {
			if !v.settled(bot) {
				return false
			}
		}
		return true
	}
	for end := time.Now().Add(30 * time.Second); !settled(); {
		if time.Now().After(end) {
			for _, v := range vs {
				v.mu.Lock()
				t.Logf("%s: conversation %s, %d acknowledged, %d pending, %d seen", v.id, v.conv, len(v.acked), len(v.pending), len(v.seen))
				v.mu.Unlock()
			}
			t.Fatal("the clients did not catch up within 30 s of the last restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	p.stop(t)

	store, err := boltstore.Open(server.ConversationsFile(data))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var sent, echoes int
	for _, v := range vs {
		stored, err := store.Messages(context.Background(), crashAccount, v.conv, 0, 0)
		if err != nil {
			t.Fatalf("%s: %v", v.id, err)
		}
		bc := bot.conversation(v.conv)
		if bc == nil {
			t.Errorf("%s: the bot never took conversation %s", v.id, v.conv)
			continue
		}
		// The connections' readers may still be closing.
		v.mu.Lock()
		visitorSeen, acked := maps.Clone(v.seen), maps.Clone(v.acked)
		v.mu.Unlock()
		bot.mu.Lock()
		botSeen, ackedEchoes := maps.Clone(bc.seen), maps.Clone(bc.ackedEchoes)
		bot.mu.Unlock()
		texts := map[string]int{}
		for i, m := range stored {
			texts[m.Text]++
			if m.Seq != i {
				t.Errorf("%s: stored message %d has sequence %d", v.id, i, m.Seq)
			}
			// Each side saw each message of the conversation, with the
			// sequence it is stored at.
			for _, side := range []struct {
				name string
				seen map[int]chatload.Message
			}{{v.id, visitorSeen}, {"the bot", botSeen}} {
				if got, ok := side.seen[m.Seq]; !ok || got.Text != m.Text {
					t.Errorf("%s: %s saw sequence %d as %q (seen: %v), stored %q", v.id, side.name, m.Seq, got.Text, ok, m.Text)
				}
			}
		}
		for _, side := range []struct {
			name string
			seen map[int]chatload.Message
		}{{v.id, visitorSeen}, {"the bot", botSeen}} {
			if len(side.seen) != len(stored) {
				t.Errorf("%s: %s saw %d sequences, %d are stored", v.id, side.name, len(side.seen), len(stored))
			}
		}
		for text, n := range texts {
			if n > 1 {
				t.Errorf("%s: %q stored %d times", v.id, text, n)
			}
		}
		// What the visitor got acknowledged is stored once, at its
		// sequence, with its id.
		for id, seq := range acked {
			if seq >= len(stored) || stored[seq].ID != id || stored[seq].Text != visitorText(id) {
				t.Errorf("%s: message %s acknowledged at %d, not stored there", v.id, id, seq)
			}
		}
		// Every message of the visitor's is echoed once, and every echo
		// the bot got acknowledged is stored.
		for _, m := range stored {
			if m.Role == "CONSUMER" {
				sent++
				if texts[echoText(m.Seq, m.Text)] != 1 {
					t.Errorf("%s: message %d (%q) echoed %d times", v.id, m.Seq, m.Text, texts[echoText(m.Seq, m.Text)])
				}
				if _, ok := acked[m.ID]; !ok {
					t.Errorf("%s: message %s stored but never acknowledged", v.id, m.ID)
				}
			}
		}
		for seq, text := range ackedEchoes {
			echoes++
			if seq >= len(stored) || stored[seq].Text != text {
				t.Errorf("%s: echo %q acknowledged at %d, not stored there", v.id, text, seq)
			}
		}
	}
	if sent < 50 || echoes < 20 {
		t.Errorf("only %d messages and %d echoes acknowledged: the test did not exercise the server", sent, echoes)
	}
	connects, resent, dups := reconnects(vs)
	t.Logf("%d visitor messages, %d echoes acknowledged across %d kill -9; visitors connected again %d times, resent %d messages, "+
		"%d of them stored already; the bot connected %d times, logged in %d times, found %d unacknowledged echoes stored",
		sent, echoes, kills, connects, resent, dups, bot.connects, bot.logins, bot.found)
}

// reconnects returns how many times the visitors connected again, sent a
// message again, and were answered that it was stored already.
func reconnects(vs []*crashVisitor) (connects, resent, dups int) {
	for _, v := range vs {
		v.mu.Lock()
		connects += v.connects - 1
		resent += v.resent
		dups += v.dups
		v.mu.Unlock()
	}
	return connects, resent, dups
}

// visitorText is the text of the visitor's message id.
func visitorText(id string) string { return "hello, this is " + id }

// echoText is the bot's echo of message seq.
func echoText(seq int, text string) string { return "echo " + strconv.Itoa(seq) + ": " + text }

// crashVisitor is a visitor that sends messages one at a time, and
// reconnects, resends and catches up after the server's crashes.
type crashVisitor struct {
	t    *testing.T
	base string
	id   string

	mu       sync.Mutex
	conv     string
	connects int
	resent   int // messages sent again after a failure
	dups     int // of them, those the server had stored already
	lastSent string
	next     int                      // the number of the next new message
	pending  []string                 // ids of messages sent, not acknowledged
	acked    map[string]int           // message id -> sequence
	seen     map[int]chatload.Message // by sequence, from notifications
}

// run connects and sends until sending ends, then keeps connected (to
// resend and catch up) until ctx ends.
func (v *crashVisitor) run(ctx, sending context.Context) {
	client := &http.Client{Timeout: 5 * time.Second}
	for ctx.Err() == nil {
		if err := v.session(ctx, sending, client); err != nil && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// session is one connection: it takes the conversation up, resends the
// unacknowledged messages and sends new ones until the connection fails.
func (v *crashVisitor) session(ctx, sending context.Context, client *http.Client) error {
	c, err := chatload.DialVisitor(ctx, client, v.base, crashAccount, v.id, v.see)
	if err != nil {
		return err
	}
	defer c.Close()
	v.mu.Lock()
	v.connects++
	v.mu.Unlock()
	conv, err := c.RequestConversation(ctx, benchCampaignID, benchEngagementID)
	if err != nil {
		return err
	}
	v.mu.Lock()
	if v.conv != "" && v.conv != conv {
		v.t.Errorf("%s: conversation %s after %s: the first was lost", v.id, conv, v.conv)
	}
	v.conv = conv
	from := v.firstUnseen()
	v.mu.Unlock()
	if err := c.Subscribe(ctx, from); err != nil {
		return err
	}
	for ctx.Err() == nil {
		v.mu.Lock()
		if len(v.pending) == 0 && sending.Err() == nil {
			v.pending = append(v.pending, fmt.Sprintf("%s-m%d", v.id, v.next))
			v.next++
		}
		var id string
		if len(v.pending) > 0 {
			id = v.pending[0]
		}
		if id != "" && id != v.lastSent {
			v.lastSent = id
		} else if id != "" {
			v.resent++
		}
		v.mu.Unlock()
		if id == "" {
			// Nothing to send: stay connected to catch up.
			select {
			case <-c.Done():
				return c.Err()
			case <-ctx.Done():
				return nil
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		ack, err := c.Send(ctx, id, visitorText(id))
		if err != nil {
			return err
		}
		v.mu.Lock()
		if seq, ok := v.acked[id]; ok && seq != ack.Seq {
			v.t.Errorf("%s: message %s acknowledged at %d, then at %d", v.id, id, seq, ack.Seq)
		}
		v.acked[id] = ack.Seq
		v.pending = v.pending[1:]
		if ack.Duplicate {
			v.dups++
		}
		v.mu.Unlock()
		time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
	}
	return nil
}

// see notes a message the visitor is told, in the connection's reader.
func (v *crashVisitor) see(m chatload.Message) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if old, ok := v.seen[m.Seq]; ok && old.Text != m.Text {
		v.t.Errorf("%s: sequence %d was %q, now %q", v.id, m.Seq, old.Text, m.Text)
	}
	v.seen[m.Seq] = m
}

// firstUnseen returns the first sequence the visitor has not seen. v.mu
// is held.
func (v *crashVisitor) firstUnseen() int {
	n := 0
	for {
		if _, ok := v.seen[n]; !ok {
			return n
		}
		n++
	}
}

// settled reports whether the visitor has nothing to send, the bot has
// seen and echoed every message the visitor got acknowledged and seen its
// echoes, and the visitor has seen them too.
func (v *crashVisitor) settled(bot *echoBot) bool {
	v.mu.Lock()
	conv, pending := v.conv, len(v.pending)
	acked := make(map[int]string, len(v.acked))
	for id, seq := range v.acked {
		acked[seq] = visitorText(id)
	}
	seenEchoes := 0
	for _, m := range v.seen {
		if m.Role != "CONSUMER" {
			seenEchoes++
		}
	}
	v.mu.Unlock()
	bc := bot.conversation(conv)
	if pending > 0 || conv == "" || bc == nil {
		return false
	}
	bot.mu.Lock()
	defer bot.mu.Unlock()
	for seq := range acked {
		if !bc.echoed[seq] {
			return false
		}
	}
	// The bot is told its own messages too.
	for seq := range bc.ackedEchoes {
		if _, ok := bc.seen[seq]; !ok {
			return false
		}
	}
	return seenEchoes == len(acked) && len(bc.pending) == 0
}

// echoBot is a bot of LivePerson's agent protocol that accepts every
// conversation offered and echoes every message of its visitor, once.
type echoBot struct {
	t     *testing.T
	base  string
	creds chatload.Credentials
	// Of run's goroutine: how many times the bot connected and logged in.
	connects, logins int

	// found counts echoes the bot had not got acknowledged that it found
	// stored when it caught up.
	found int

	mu    sync.Mutex
	convs map[string]*botConversation
}

// botConversation is what the bot knows of one of its conversations.
type botConversation struct {
	seen map[int]chatload.Message // by sequence
	// echoed are the visitor's messages whose echo is stored: the bot
	// got it acknowledged, or saw it.
	echoed map[int]bool
	// pending are the visitor's messages to echo, by sequence.
	pending map[int]string
	// ackedEchoes are the echoes the bot got acknowledged, by sequence.
	ackedEchoes map[int]string
}

// botEvent is a notification of the bot's connection, handled out of its
// reader (handling one makes requests).
type botEvent struct {
	ring *chatload.Ring
	conv string // a conversation the bot is in
	msg  *chatload.Message
}

func (b *echoBot) conversation(id string) *botConversation {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.convs[id]
}

// run connects the bot again and again until ctx ends.
func (b *echoBot) run(ctx context.Context) {
	client := &http.Client{Timeout: 5 * time.Second}
	var s chatload.Session
	for ctx.Err() == nil {
		if s.Bearer == "" {
			var err error
			if s, err = chatload.Login(ctx, client, b.base, crashAccount, b.creds); err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			b.logins++
		}
		b.connects++
		if err := b.session(ctx, client, s); err != nil && ctx.Err() == nil {
			// The bearer survives the server's restarts; the bot logs in
			// again when it is refused, and, to sign in after crashes
			// too, after every other connection.
			if errors.Is(err, errRefused) || b.connects%2 == 0 {
				s.Bearer = ""
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

var errRefused = errors.New("bearer refused")

// session is one connection of the bot.
func (b *echoBot) session(ctx context.Context, client *http.Client, s chatload.Session) error {
	events := make(chan botEvent, 10000)
	push := func(e botEvent) {
		select {
		case events <- e:
		default:
			b.t.Error("the bot's events overflowed")
		}
	}
	ag, err := chatload.DialAgent(ctx, client, b.base, crashAccount, s, chatload.AgentHandlers{
		Ring: func(r chatload.Ring) {
			if r.State == "WAITING" {
				push(botEvent{ring: &r})
			}
		},
		Conversation: func(c chatload.ConversationChange) {
			if c.Type == "UPSERT" && c.State == "OPEN" {
				push(botEvent{conv: c.Conversation})
			}
		},
		Message: func(m chatload.Message) { push(botEvent{msg: &m}) },
	})
	if err != nil {
		if strings.Contains(err.Error(), "401") {
			return fmt.Errorf("%w: %v", errRefused, err)
		}
		return err
	}
	defer ag.Close()
	for _, step := range []func() error{
		func() error { return ag.SetState(ctx, "ONLINE") },
		func() error { return ag.SubscribeRouting(ctx) },
		func() error { return ag.SubscribeConversations(ctx, s.PID) },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	// Catch up on the conversations known, then echo what is due.
	b.mu.Lock()
	known := slices.Collect(maps.Keys(b.convs))
	b.mu.Unlock()
	for _, id := range known {
		if err := b.catchUp(ctx, ag, id); err != nil {
			return err
		}
	}
	for {
		if err := b.echo(ctx, ag); err != nil {
			return err
		}
		var e botEvent
		select {
		case e = <-events:
		case <-ag.Done():
			return ag.Err()
		case <-ctx.Done():
			return nil
		}
		switch {
		case e.ring != nil:
			if err := ag.Accept(ctx, e.ring.ID); err != nil {
				var se *chatload.StatusError
				if errors.As(err, &se) && se.Code == http.StatusNotFound {
					continue // the ring went away: the conversation is offered again
				}
				return err
			}
			err = b.catchUp(ctx, ag, e.ring.Conversation)
		case e.conv != "":
			if b.conversation(e.conv) == nil {
				err = b.catchUp(ctx, ag, e.conv)
			}
		case e.msg != nil:
			b.see(e.msg.Conversation, *e.msg)
		}
		if err != nil {
			return err
		}
	}
}

// catchUp reads a conversation's messages from the first sequence the bot
// has not seen, and follows it from then on.
func (b *echoBot) catchUp(ctx context.Context, ag *chatload.Agent, id string) error {
	b.mu.Lock()
	bc := b.convs[id]
	if bc == nil {
		bc = &botConversation{seen: map[int]chatload.Message{}, echoed: map[int]bool{}, pending: map[int]string{}, ackedEchoes: map[int]string{}}
		b.convs[id] = bc
	}
	from := 0
	for _, ok := bc.seen[from]; ok; _, ok = bc.seen[from] {
		from++
	}
	b.mu.Unlock()
	for {
		msgs, err := ag.QueryMessages(ctx, id, from)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			b.see(id, m)
			from = m.Seq + 1
		}
		if len(msgs) < 1000 {
			return nil
		}
	}
}

// see notes a message of a conversation of the bot's.
func (b *echoBot) see(id string, m chatload.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bc := b.convs[id]
	if bc == nil {
		return // followed before the bot caught up on it: catchUp reads it
	}
	if old, ok := bc.seen[m.Seq]; ok && old.Text != m.Text {
		b.t.Errorf("bot: sequence %d of %s was %q, now %q", m.Seq, id, old.Text, m.Text)
	}
	bc.seen[m.Seq] = m
	if m.Role == "CONSUMER" {
		if !bc.echoed[m.Seq] {
			bc.pending[m.Seq] = m.Text
		}
		return
	}
	// One of its echoes: "echo SEQ: ..."
	var seq int
	if _, err := fmt.Sscanf(m.Text, "echo %d:", &seq); err == nil {
		if !bc.echoed[seq] {
			b.found++
		}
		bc.echoed[seq] = true
		delete(bc.pending, seq)
	}
}

// echo publishes the echoes due, in order of the conversations and
// sequences.
func (b *echoBot) echo(ctx context.Context, ag *chatload.Agent) error {
	type due struct {
		conv string
		seq  int
		text string
	}
	var todo []due
	b.mu.Lock()
	for id, bc := range b.convs {
		for seq, text := range bc.pending {
			todo = append(todo, due{id, seq, text})
		}
	}
	b.mu.Unlock()
	slices.SortFunc(todo, func(x, y due) int { return cmp.Or(strings.Compare(x.conv, y.conv), cmp.Compare(x.seq, y.seq)) })
	for _, d := range todo {
		text := echoText(d.seq, d.text)
		seq, err := ag.Publish(ctx, d.conv, text)
		if err != nil {
			return err
		}
		b.mu.Lock()
		bc := b.convs[d.conv]
		bc.echoed[d.seq] = true
		delete(bc.pending, d.seq)
		if old, ok := bc.ackedEchoes[seq]; ok {
			b.t.Errorf("bot: sequence %d of %s acknowledged for %q and %q", seq, d.conv, old, text)
		}
		bc.ackedEchoes[seq] = text
		b.mu.Unlock()
	}
	return nil
}
