package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sightline/sightline/internal/chatload"
	"github.com/sightline/sightline/internal/loadtest"
)

// The targets bench messaging checks.
const (
	targetConversations = 10_000
	targetMemory        = 1 << 30 // bytes of RSS for targetConversations
	targetMessageRate   = 5_000   // durable messages a second
	targetDeliveryP99   = 50 * time.Millisecond
)

// goMemoryMetrics are the Go memory figures of the server bench
// messaging reports: its heap and its goroutines' stacks in use.
var goMemoryMetrics = []string{"go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes"}

// The bench account's campaign: one chat engagement of skill benchSkill.
const (
	benchSkill        = "bench"
	benchCampaignID   = 1
	benchEngagementID = 2
	benchDefinitions  = `# bench messaging's account: one chat engagement, of skill ` + benchSkill + `.
goals:
  - id: 3
    name: Talk
    type: increaseInteraction
campaigns:
  - id: 1
    name: Bench chat
    status: active
    goalId: 3
    engagements:
      - id: 2
        name: Chat
        type: 3
        skillId: 7
        skillName: ` + benchSkill + `
        interactionType: chat
        availabilityPolicy: always
        content: {title: "Questions?", button: Chat}
        zoneId: 1
`
)

// runBenchMessaging measures conversations: how many a server holds open
// and the memory each takes, how many durable messages a second its
// visitors send, and how long a message takes from a visitor to its agent.
// It runs `BINARY serve` as a child process on a new data directory, sets
// an account up with a chat engagement and agents through the commands an
// operator uses, and talks to the server over loopback as the chat window
// and LivePerson's agent SDK do. The child's memory and CPU time are read
// from /proc: Linux only.
func runBenchMessaging(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench messaging", stderr)
	binaryFlag := fs.String("binary", "", "sightline binary to run as the server, optionally with serve flags after it (\"bin/sightline --ring-timeout 1m\"; default: this one)")
	visitors := fs.Int("visitors", targetConversations, "visitors, each with its WebSocket of the chat window's protocol and its open conversation")
	agents := fs.Int("agents", 10, "agents, each with its WebSocket of LivePerson's agent protocol; they accept every conversation offered")
	maxChats := fs.Int("max-chats", 0, "the most conversations an agent is assigned at once (0: no limit)")
	senders := fs.Int("senders", 0, "visitors who send at full load, each a message at a time (0: all of them)")
	openConcurrency := fs.Int("open-concurrency", 64, "visitors connecting and asking for a conversation at once")
	openTimeout := fs.Duration("open-timeout", 5*time.Minute, "time the conversations have to open and be accepted")
	duration := fs.Duration("duration", 5*time.Second, "measured time of each full-load run")
	warmup := fs.Duration("warmup", 500*time.Millisecond, "unmeasured time before each run")
	rounds := fs.Int("rounds", 3, "full-load runs; their median is reported, and half of it is the paced load")
	halfDuration := fs.Duration("half-duration", 10*time.Second, "measured time of the run at half the full load, on a fixed schedule (its delivery p99 is the latency figure)")
	pacedRate := fs.Float64("paced-rate", 0, "messages a second of the paced run (0: half the median of the full-load runs)")
	textBytes := fs.Int("text-bytes", 64, "bytes of each message's text")
	data := fs.String("data", "", "directory for the server's data directory and the campaign definitions (default: a new directory in the working one, removed after)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the clients) during the message runs to this file (the server's: --binary \"PATH --cpuprofile FILE\")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("bench messaging: unexpected argument %q", fs.Arg(0))
	case *visitors < 1 || *agents < 1 || *rounds < 1:
		return errors.New("bench messaging: --visitors, --agents and --rounds must be 1 or more")
	case *textBytes < 32 || *textBytes > 10_000:
		return errors.New("bench messaging: --text-bytes must be 32 to 10000")
	}
	serveFlags := strings.Fields(*binaryFlag)
	if len(serveFlags) == 0 {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		serveFlags = []string{self}
	}
	binary, serveFlags := serveFlags[0], serveFlags[1:]

	// Each side holds a descriptor per visitor, and some more.
	needFiles := uint64(*visitors + *agents + 100)
	soft, hard, err := raiseFileLimit()
	if err != nil {
		return fmt.Errorf("bench messaging: cannot raise the limit of open files: %w", err)
	}
	if soft < needFiles {
		fmt.Fprintf(stdout, "open files: the limit is %d (hard %d), too low for %d visitors, which need about %d in this process and in the server: "+
			"raise the hard limit (ulimit -Hn as root, LimitNOFILE in systemd) or give fewer --visitors\n", soft, hard, *visitors, needFiles)
		return fmt.Errorf("bench messaging: open-file limit %d too low for %d visitors", soft, *visitors)
	}
	root, cleanup, err := dirOrTemp(*data, "bench-messaging-")
	if err != nil {
		return err
	}
	defer cleanup()
	dataDir := filepath.Join(root, "data")
	defsFile := filepath.Join(root, "definitions.yaml")
	if err := os.WriteFile(defsFile, []byte(benchDefinitions), 0o644); err != nil {
		return err
	}
	token, creds, err := setUpMessaging(ctx, binary, dataDir, *agents, *maxChats)
	if err != nil {
		return fmt.Errorf("bench messaging: %w", err)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	srv, err := startChild(ctx, binary, serveFlags, dataDir, addr, stderr)
	if err != nil {
		return fmt.Errorf("bench messaging: %w", err)
	}
	defer srv.kill()
	if _, err := command(ctx, binary, "campaigns", "apply", "-f", defsFile, "--account", benchAccount, "--server", "http://"+addr, "--token", token); err != nil {
		return fmt.Errorf("bench messaging: %w", err)
	}
	serverFiles, err := srv.openFiles()
	if err != nil {
		return fmt.Errorf("bench messaging: %w", err)
	}

	chats := "no limit"
	if *maxChats > 0 {
		chats = fmt.Sprintf("at most %d chats each", *maxChats)
	}
	fmt.Fprintf(stdout, "bench messaging: %d visitors, %d agents (%s), %d rounds of %s at full load, then %s at half of it; %d-byte texts; GOMAXPROCS=%d\n",
		*visitors, *agents, chats, *rounds, *duration, *halfDuration, *textBytes, runtime.GOMAXPROCS(0))
	fmt.Fprintf(stdout, "server: %s serve%s (a child process), over loopback\n", binary, strings.TrimRight(" "+strings.Join(serveFlags, " "), " "))
	fmt.Fprintf(stdout, "open files: limit %d in this process (hard %d), %d in the server; %d visitors need about %d in each\n",
		soft, hard, serverFiles, *visitors, needFiles)
	fmt.Fprintf(stdout, "load average at the start: %s (other jobs may share the machine)\n\n", loadAverage())
	if serverFiles >= 0 && uint64(serverFiles) < needFiles {
		return fmt.Errorf("bench messaging: the server's open-file limit %d is too low for %d visitors", serverFiles, *visitors)
	}

	b := &messagingBench{base: "http://" + addr, client: &http.Client{Timeout: time.Minute}, textBytes: *textBytes,
		byConv: make(map[string]*benchVisitor, *visitors), stderr: stderr}
	b.phases = make([]*phaseStats, *rounds+1)
	for i := range b.phases {
		b.phases[i] = &phaseStats{paced: i == *rounds}
	}
	defer func() {
		// Clients first: the server closes faster without them.
		b.close()
		srv.shutdown(30 * time.Second)
	}()
	if err := b.connectAgents(ctx, creds); err != nil {
		return fmt.Errorf("bench messaging: %w", err)
	}
	time.Sleep(time.Second) // let the server settle before measuring it
	rssBefore, _, err := srv.memory()
	if err != nil {
		return err
	}
	goBefore, err := srv.metricValues(ctx, goMemoryMetrics...)
	if err != nil {
		return err
	}

	start := time.Now()
	if err := b.openConversations(ctx, *visitors, *openConcurrency, *openTimeout); err != nil {
		return fmt.Errorf("bench messaging: %w", err)
	}
	opened := time.Since(start)
	time.Sleep(time.Second)
	rssAfter, _, err := srv.memory()
	if err != nil {
		return err
	}
	goAfter, err := srv.metricValues(ctx, goMemoryMetrics...)
	if err != nil {
		return err
	}
	n := float64(*visitors)
	perConv := float64(rssAfter-rssBefore) / n
	fmt.Fprintf(stdout, "conversations (MiB are 2^20 bytes, KiB 2^10)\n")
	fmt.Fprintf(stdout, "  opened and accepted              %d in %.1f s (%.0f/s), each followed by its agent\n", *visitors, opened.Seconds(), n/opened.Seconds())
	fmt.Fprintf(stdout, "  server RSS before the visitors   %.1f MiB (Go heap in use %.1f MiB, stacks %.1f MiB)\n",
		mb(rssBefore), goBefore[0]/(1<<20), goBefore[1]/(1<<20))
	fmt.Fprintf(stdout, "  server RSS with them open        %.1f MiB (Go heap in use %.1f MiB, stacks %.1f MiB)\n",
		mb(rssAfter), goAfter[0]/(1<<20), goAfter[1]/(1<<20))
	fmt.Fprintf(stdout, "  per open conversation            %.1f KiB of RSS, %.1f KiB of Go heap and stacks in use (its visitor's connection included;\n"+
		"                                   the heap holds garbage not yet collected too)\n\n",
		perConv/(1<<10), (goAfter[0]+goAfter[1]-goBefore[0]-goBefore[1])/n/(1<<10))

	sending := b.visitors
	if *senders > 0 && *senders < len(sending) {
		sending = sending[:*senders]
	}
	fmt.Fprintf(stdout, "%-12s %11s %9s %9s %9s %9s %7s %11s %11s %6s\n", "load", "messages/s", "ack p50", "ack p99", "deliv p50", "deliv p99",
		"errors", "server cpu", "bench cpu", "server")
	fmt.Fprintf(stdout, "%-12s %11s %9s %9s %9s %9s %7s %11s %11s %6s\n", "", "", "", "", "", "", "", "a message", "a message", "busy")
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	for r := range *rounds {
		ph := b.phases[r]
		if err := b.runFull(ctx, srv, r, sending, *warmup, *duration); err != nil {
			return fmt.Errorf("bench messaging: %w", err)
		}
		printPhase(stdout, fmt.Sprintf("max #%d", r+1), ph)
	}
	med := slices.Clone(b.phases[:*rounds])
	slices.SortFunc(med, func(x, y *phaseStats) int { return cmp.Compare(x.rate(), y.rate()) })
	maxRate := med[len(med)/2]
	printPhase(stdout, "max median", maxRate)
	half := b.phases[*rounds]
	rate, halfName := maxRate.rate()/2, "50% of max"
	if *pacedRate > 0 {
		rate, halfName = *pacedRate, "paced"
	}
	if err := b.runPaced(ctx, srv, *rounds, rate, *warmup, *halfDuration); err != nil {
		return fmt.Errorf("bench messaging: %w", err)
	}
	check := b.check(ctx)
	printPhase(stdout, halfName, half)
	fmt.Fprintf(stdout, "  (%s: %.0f messages/s scheduled; latencies from each message's scheduled time; %d sent late)\n",
		halfName, rate, half.late.Load())
	fmt.Fprintf(stdout, "\ndelivery: %d messages acknowledged; the agents received each once: %d missing, %d received twice, %d not acknowledged, %d acknowledged twice\n",
		check.acked, check.missing, check.twice, check.unacked, check.ackedTwice)
	fmt.Fprintf(stdout, "load average at the end: %s\n", loadAverage())

	// The memory target is of targetConversations: a run of another size
	// is scaled to it.
	memNote := fmt.Sprintf("%.0f MiB", mb(rssAfter))
	memFor := float64(rssAfter)
	if *visitors != targetConversations {
		memFor = float64(rssBefore) + perConv*targetConversations
		memNote = fmt.Sprintf("%.0f MiB scaled from %d", memFor/(1<<20), *visitors)
	}
	fmt.Fprintf(stdout, "targets: %d open conversations in under 1 GiB: %s (%s); >= %d durable messages/s: %s (%.0f); delivery p99 < %s at half load: %s (%s)\n",
		targetConversations, met(memFor < targetMemory), memNote, targetMessageRate, met(maxRate.rate() >= targetMessageRate), maxRate.rate(),
		targetDeliveryP99, met(half.quantile(half.deliveryLat, 0.99) < targetDeliveryP99), half.quantile(half.deliveryLat, 0.99).Round(10*time.Microsecond))
	if check.missing+check.twice+check.unacked+check.ackedTwice > 0 {
		return errors.New("bench messaging: messages were lost or doubled")
	}
	return nil
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// loadAverage returns the machine's load averages of 1, 5 and 15 minutes
// (Linux only; "unknown" elsewhere).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// command runs binary with args and returns its stdout.
func command(ctx context.Context, binary string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", filepath.Base(binary), strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.String(), nil
}

// setUpMessaging makes the bench account in the new data directory
// dataDir with binary's commands, as an operator does: the account, its
// admin token, and agents of the skill with API keys. It returns the
// token and the agents' credentials.
func setUpMessaging(ctx context.Context, binary, dataDir string, agents, maxChats int) (string, []chatload.Credentials, error) {
	if _, err := command(ctx, binary, "accounts", "add", benchAccount, "--data", dataDir); err != nil {
		return "", nil, err
	}
	out, err := command(ctx, binary, "accounts", "token", benchAccount, "--data", dataDir)
	if err != nil {
		return "", nil, err
	}
	token, ok := strings.CutPrefix(strings.TrimSpace(out), envAdminToken+"=")
	if !ok {
		return "", nil, fmt.Errorf("accounts token printed %q", out)
	}
	creds := make([]chatload.Credentials, agents)
	for i := range creds {
		login := fmt.Sprintf("agent-%d", i+1)
		out, err := command(ctx, binary, "agents", "add", "--account", benchAccount, "--login", login, "--skill", benchSkill,
			"--max-chats", strconv.Itoa(maxChats), "--api-keys", "--data", dataDir)
		if err != nil {
			return "", nil, err
		}
		keys := map[string]string{}
		for line := range strings.Lines(out) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
			keys[k] = v
		}
		creds[i] = chatload.Credentials{Login: login, AppKey: keys["appKey"], Secret: keys["secret"], AccessToken: keys["accessToken"],
			AccessTokenSecret: keys["accessTokenSecret"]}
		if creds[i].AppKey == "" || creds[i].AccessTokenSecret == "" {
			return "", nil, fmt.Errorf("agents add printed no API key set: %q", out)
		}
	}
	return token, creds, nil
}

// messagingBench is the clients of bench messaging and what they saw.
type messagingBench struct {
	base      string // http://host:port of the server
	client    *http.Client
	textBytes int
	stderr    io.Writer
	agents    []*benchAgent
	visitors  []*benchVisitor
	// phases are the runs; a message's text names its run.
	phases []*phaseStats

	convMu sync.RWMutex
	byConv map[string]*benchVisitor

	ready        atomic.Int64 // conversations accepted, whose messages their agent follows
	acceptErrors atomic.Int64
	delivered    atomic.Int64 // visitors' messages the agents received
	strays       atomic.Int64 // messages of conversations of no visitor's
	acked        atomic.Int64
}

// benchVisitor is a visitor and the messages of its conversation.
type benchVisitor struct {
	*chatload.Visitor
	mu       sync.Mutex
	sent     int   // messages sent: the next one's id
	acked    []int // sequences the server answered
	received []int // sequences the conversation's agent received
}

// benchAgent is an agent who accepts every conversation offered.
type benchAgent struct {
	*chatload.Agent
	rings chan chatload.Ring
}

// acceptWorkers is how many rings an agent accepts at once.
const acceptWorkers = 8

// connectAgents logs the agents in, opens their sockets and makes them
// ONLINE and subscribed to their rings: each accepts every ring and then
// follows its conversation's messages (QueryMessages).
func (b *messagingBench) connectAgents(ctx context.Context, creds []chatload.Credentials) error {
	for _, cr := range creds {
		s, err := chatload.Login(ctx, b.client, b.base, benchAccount, cr)
		if err != nil {
			return err
		}
		ag := &benchAgent{rings: make(chan chatload.Ring, 1<<16)}
		ag.Agent, err = chatload.DialAgent(ctx, b.client, b.base, benchAccount, s, chatload.AgentHandlers{
			Ring: func(r chatload.Ring) {
				if r.State == "WAITING" {
					select {
					case ag.rings <- r:
					default:
						b.acceptErrors.Add(1)
					}
				}
			},
			Message: b.receive,
		})
		if err != nil {
			return err
		}
		b.agents = append(b.agents, ag)
		for range acceptWorkers {
			go b.accept(ctx, ag)
		}
		if err := ag.SetState(ctx, "ONLINE"); err != nil {
			return err
		}
		if err := ag.SubscribeRouting(ctx); err != nil {
			return err
		}
	}
	return nil
}

// accept accepts the agent's rings and follows their conversations until
// the agent's connection closes.
func (b *messagingBench) accept(ctx context.Context, ag *benchAgent) {
	for {
		var r chatload.Ring
		select {
		case r = <-ag.rings:
		case <-ag.Done():
			return
		}
		err := ag.Accept(ctx, r.ID)
		if err == nil {
			_, err = ag.QueryMessages(ctx, r.Conversation, 0)
		}
		if err != nil {
			// A ring may time out or go to another agent: the
			// conversation is offered again.
			if b.acceptErrors.Add(1) <= 3 {
				fmt.Fprintf(b.stderr, "bench messaging: %s cannot take conversation %s: %v\n", ag.Session.UserID, r.Conversation, err)
			}
			continue
		}
		b.ready.Add(1)
	}
}

// openConversations connects n visitors, concurrency at a time: each asks
// for a conversation of the bench engagement and subscribes to its
// messages. It returns once every conversation is accepted and followed
// by an agent.
func (b *messagingBench) openConversations(ctx context.Context, n, concurrency int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	b.visitors = make([]*benchVisitor, n)
	sem := make(chan struct{}, max(concurrency, 1))
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case err := <-errs:
			cancel()
			wg.Wait()
			return err
		}
		wg.Go(func() {
			defer func() { <-sem }()
			v, err := b.openConversation(ctx, i)
			if err != nil {
				select {
				case errs <- fmt.Errorf("visitor %d: %w", i, err):
				default:
				}
				return
			}
			b.visitors[i] = v
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	for b.ready.Load() < int64(n) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d conversations accepted in %s (%d failed accepts)", b.ready.Load(), n, timeout, b.acceptErrors.Load())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

func (b *messagingBench) openConversation(ctx context.Context, i int) (*benchVisitor, error) {
	v, err := chatload.DialVisitor(ctx, b.client, b.base, benchAccount, fmt.Sprintf("bench-visitor-%d", i), nil)
	if err != nil {
		return nil, err
	}
	bv := &benchVisitor{Visitor: v}
	conv, err := v.RequestConversation(ctx, benchCampaignID, benchEngagementID)
	if err == nil {
		b.convMu.Lock()
		b.byConv[conv] = bv
		b.convMu.Unlock()
		err = v.Subscribe(ctx, 0)
	}
	if err != nil {
		v.Close()
		return nil, err
	}
	return bv, nil
}

// close closes every connection.
func (b *messagingBench) close() {
	for _, v := range b.visitors {
		if v != nil {
			v.Close()
		}
	}
	for _, ag := range b.agents {
		ag.Close()
	}
}

// text returns a message's text: its run, the time it was due to be sent,
// and filler up to b.textBytes.
func (b *messagingBench) text(phase int, due time.Time) string {
	t := fmt.Sprintf("p%d %d ", phase, due.UnixNano())
	const filler = "Hello, is the blue one in stock in a medium size? I would like it before Friday. "
	for len(t) < b.textBytes {
		t += filler[:min(len(filler), b.textBytes-len(t))]
	}
	return t
}

// parseText returns the run and the due time a message's text names (see
// text).
func parseText(text string) (phase int, due time.Time, ok bool) {
	p, rest, _ := strings.Cut(strings.TrimPrefix(text, "p"), " ")
	t, _, _ := strings.Cut(rest, " ")
	phase, err1 := strconv.Atoi(p)
	ns, err2 := strconv.ParseInt(t, 10, 64)
	return phase, time.Unix(0, ns), err1 == nil && err2 == nil && phase >= 0
}

// receive is the agents' message handler: it notes which conversation's
// message came, and the time it took from its visitor.
func (b *messagingBench) receive(m chatload.Message) {
	now := time.Now()
	if m.Role != "CONSUMER" {
		return
	}
	b.convMu.RLock()
	v := b.byConv[m.Conversation]
	b.convMu.RUnlock()
	if v == nil {
		b.strays.Add(1)
		return
	}
	v.mu.Lock()
	v.received = append(v.received, m.Seq)
	v.mu.Unlock()
	b.delivered.Add(1)
	if phase, due, ok := parseText(m.Text); ok && phase < len(b.phases) {
		b.phases[phase].delivery(due, now)
	}
}

// send sends one message of visitor v in run phase, due at due, and
// records it. It reports false once v's connection has failed.
func (b *messagingBench) send(ctx context.Context, v *benchVisitor, phase int, due time.Time) bool {
	ph := b.phases[phase]
	v.mu.Lock()
	id := "m" + strconv.Itoa(v.sent)
	v.sent++
	v.mu.Unlock()
	ack, err := v.Send(ctx, id, b.text(phase, due))
	done := time.Now()
	if err != nil {
		ph.fail()
		return !errors.Is(err, chatload.ErrClosed) && ctx.Err() == nil
	}
	v.mu.Lock()
	v.acked = append(v.acked, ack.Seq)
	v.mu.Unlock()
	b.acked.Add(1)
	ph.ack(due, done)
	return true
}

// runFull has senders send as fast as they are answered, each a message
// at a time, for warmup and then d, measured.
func (b *messagingBench) runFull(ctx context.Context, srv *child, phase int, senders []*benchVisitor, warmup, d time.Duration) error {
	ph := b.phases[phase]
	ph.begin = time.Now().Add(warmup)
	ph.end = ph.begin.Add(d)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, v := range senders {
		wg.Go(func() {
			for !stop.Load() && b.send(ctx, v, phase, time.Now()) {
			}
		})
	}
	err := ph.measure(ctx, srv)
	stop.Store(true)
	wg.Wait()
	return err
}

// runPaced sends rate messages a second on a fixed schedule, each by a
// visitor who is not waiting for an answer, for warmup and then d,
// measured.
func (b *messagingBench) runPaced(ctx context.Context, srv *child, phase int, rate float64, warmup, d time.Duration) error {
	ph := b.phases[phase]
	ph.begin = time.Now().Add(warmup)
	ph.end = ph.begin.Add(d)
	due := make(chan time.Time, len(b.visitors))
	var wg sync.WaitGroup
	for _, v := range b.visitors {
		wg.Go(func() {
			for t := range due {
				if late := time.Since(t); late > time.Millisecond && !t.Before(ph.begin) {
					ph.late.Add(1)
				}
				b.send(ctx, v, phase, t)
			}
		})
	}
	var err error
	wg.Go(func() { err = ph.measure(ctx, srv) })
	interval := time.Duration(float64(time.Second) / max(rate, 1))
	for next := time.Now(); next.Before(ph.end) && ctx.Err() == nil; next = next.Add(interval) {
		if w := time.Until(next); w > 0 {
			time.Sleep(w)
		}
		due <- next
	}
	close(due)
	wg.Wait()
	return err
}

// phaseStats is what one run measured. A full-load run counts the answers
// that came within its window, a paced one the messages due within it.
type phaseStats struct {
	paced      bool
	begin, end time.Time

	mu          sync.Mutex
	acked       int
	errors      int
	ackLat      []time.Duration // from the send (the due time, paced) to the answer
	deliveryLat []time.Duration // from the send to the agent's receipt
	serverCPU   time.Duration
	benchCPU    time.Duration

	late atomic.Int64 // paced messages sent more than a millisecond after they were due
}

func (p *phaseStats) in(sent, answered time.Time) bool {
	t := answered
	if p.paced {
		t = sent
	}
	return !t.Before(p.begin) && t.Before(p.end)
}

func (p *phaseStats) ack(sent, answered time.Time) {
	if !p.in(sent, answered) {
		return
	}
	p.mu.Lock()
	p.acked++
	p.ackLat = append(p.ackLat, answered.Sub(sent))
	p.mu.Unlock()
}

func (p *phaseStats) fail() {
	p.mu.Lock()
	p.errors++
	p.mu.Unlock()
}

// delivery records a message that an agent received at received.
func (p *phaseStats) delivery(sent, received time.Time) {
	if sent.Before(p.begin) || !sent.Before(p.end) {
		return
	}
	p.mu.Lock()
	p.deliveryLat = append(p.deliveryLat, received.Sub(sent))
	p.mu.Unlock()
}

// measure waits for the run's window and takes the CPU time of the
// server and of this process meanwhile.
func (p *phaseStats) measure(ctx context.Context, srv *child) error {
	wait := func(t time.Time) error {
		select {
		case <-time.After(time.Until(t)):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := wait(p.begin); err != nil {
		return err
	}
	server0, err := srv.cpu()
	if err != nil {
		return err
	}
	bench0 := loadtest.ProcessCPU()
	if err := wait(p.end); err != nil {
		return err
	}
	server1, err := srv.cpu()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.serverCPU, p.benchCPU = server1-server0, loadtest.ProcessCPU()-bench0
	p.mu.Unlock()
	return nil
}

// rate is the run's durable messages a second.
func (p *phaseStats) rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return float64(p.acked) / p.end.Sub(p.begin).Seconds()
}

// quantile returns the q-quantile of lat, which it sorts.
func (p *phaseStats) quantile(lat []time.Duration, q float64) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[min(int(q*float64(len(lat))), len(lat)-1)]
}

func printPhase(w io.Writer, load string, p *phaseStats) {
	r := func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
	rate := p.rate()
	p.mu.Lock()
	acked, errs, serverCPU, benchCPU := p.acked, p.errors, p.serverCPU, p.benchCPU
	p.mu.Unlock()
	perMsg := func(cpu time.Duration) string {
		if acked == 0 {
			return "-"
		}
		return (cpu / time.Duration(acked)).Round(100 * time.Nanosecond).String()
	}
	busy := 100 * float64(serverCPU) / float64(p.end.Sub(p.begin)) / float64(runtime.NumCPU())
	fmt.Fprintf(w, "%-12s %11.0f %9s %9s %9s %9s %7d %11s %11s %5.0f%%\n", load, rate,
		r(p.quantile(p.ackLat, 0.5)), r(p.quantile(p.ackLat, 0.99)), r(p.quantile(p.deliveryLat, 0.5)), r(p.quantile(p.deliveryLat, 0.99)),
		errs, perMsg(serverCPU), perMsg(benchCPU), busy)
}

// deliveryCheck is what the agents received of what the visitors sent.
type deliveryCheck struct {
	acked      int // messages the server acknowledged
	missing    int // acknowledged, not received
	twice      int // received more than once (counted once a message)
	unacked    int // received, not acknowledged
	ackedTwice int // one sequence acknowledged for two messages
}

// check waits until the agents have received as many messages as were
// acknowledged (or 30 s), then compares them conversation by
// conversation.
func (b *messagingBench) check(ctx context.Context) deliveryCheck {
	for end := time.Now().Add(30 * time.Second); b.delivered.Load() < b.acked.Load() && time.Now().Before(end) && ctx.Err() == nil; {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // any late doubles
	var c deliveryCheck
	for _, v := range b.visitors {
		v.mu.Lock()
		acked, received := slices.Clone(v.acked), slices.Clone(v.received)
		v.mu.Unlock()
		slices.Sort(acked)
		slices.Sort(received)
		c.acked += len(acked)
		c.ackedTwice += len(acked) - len(slices.Compact(slices.Clone(acked)))
		acked = slices.Compact(acked)
		count := map[int]int{}
		for _, seq := range received {
			count[seq]++
		}
		for _, seq := range acked {
			if count[seq] == 0 {
				c.missing++
			}
		}
		for seq, n := range count {
			if n > 1 {
				c.twice++
			}
			if _, ok := slices.BinarySearch(acked, seq); !ok {
				c.unacked++
			}
		}
	}
	c.unacked += int(b.strays.Load())
	return c
}
