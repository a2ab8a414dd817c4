package tag_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/identity/identitytest"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/server"
)

// The chat window in the page, and expressions that read it.
const (
	chatRoot = `document.querySelector("lpsl-chat").shadowRoot`
	// chatLines lists the lines of the window's log, "v:", "a:" or "s:"
	// (visitor, agent, system) and their text.
	chatLines  = `Array.prototype.map.call(` + chatRoot + `.querySelectorAll(".log .m"), function (e) { return e.classList[1] + ":" + e.querySelector(".x").textContent; })`
	chatStatus = chatRoot + `.querySelector(".st").textContent`
)

// desktopChrome is the User-Agent of Chrome on Windows.
const desktopChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// bindWindowEvents is put in every page before its scripts: it records
// the lpUnifiedWindow events the page hears on lpTag.events in
// window.heard, binding through the snippet's stub as soon as there is one.
const bindWindowEvents = `window.heard = []; window.errs = []; window.addEventListener("error", function (e) { errs.push(e.message); });
(function bind() {
  if (window.lpTag && lpTag.events && lpTag.events.bind) {
    lpTag.events.bind("lpUnifiedWindow", "*", function (d, info) { heard.push({name: info.eventName, data: d}); });
  } else {
    setTimeout(bind, 2);
  }
})();`

// cutProxy passes TCP connections to a server, until cut: then it closes
// those open and refuses new ones until it is restored, as a visitor's
// network going away and back does.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
	return p
}

func (p *cutProxy) Addr() string { return p.ln.Addr().String() }

// track keeps c to close on a cut; it reports false, having closed c,
// while the proxy is down.
func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *cutProxy) pipe(c net.Conn) {
	if !p.track(c) {
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(s) {
		c.Close()
		return
	}
	go func() {
		io.Copy(s, c)
		s.Close()
	}()
	io.Copy(c, s)
	c.Close()
}

// cut takes the network down (true) or brings it back (false).
func (p *cutProxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// agent is the agent's side of the test: a messaging.Sink that keeps
// what the service tells it.
type agent struct {
	mu     sync.Mutex
	events []messaging.Event
}

func (a *agent) Notify(e messaging.Event) {
	a.mu.Lock()
	a.events = append(a.events, e)
	a.mu.Unlock()
}

// waitFor waits up to 15 s for an event that match accepts.
func (a *agent) waitFor(t *testing.T, what string, match func(messaging.Event) bool) messaging.Event {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		a.mu.Lock()
		for _, e := range a.events {
			if match(e) {
				a.mu.Unlock()
				return e
			}
		}
		a.mu.Unlock()
	}
	t.Fatalf("the agent was not told %s", what)
	return messaging.Event{}
}

// count returns how many events match accepts.
func (a *agent) count(match func(messaging.Event) bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.events {
		if match(e) {
			n++
		}
	}
	return n
}

// visitorMessage matches the visitor's message text.
func visitorMessage(text string) func(messaging.Event) bool {
	return func(e messaging.Event) bool {
		return e.Kind == messaging.MessageAdded && e.Message.Role == conversation.Consumer && e.Message.Text == text
	}
}

// chatBrowser is the visitor's tab, with the helpers of the chat tests.
type chatBrowser struct {
	t   *testing.T
	ctx context.Context
}

func (b chatBrowser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// wait polls cond, a JavaScript expression, until it is true.
func (b chatBrowser) wait(what, cond string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		lines, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(function () { try { return JSON.stringify(`+chatLines+`) + " / " + `+chatStatus+`; } catch (e) {
  return String(e) + " " + JSON.stringify({chat: lpTag._chat && Object.keys(lpTag._chat), scripts: Array.prototype.map.call(document.scripts, function (s) { return s.src; }), errors: window.errs, clicks: lpTag.events.hasFired("LP_OFFERS", "OFFER_CLICK").length, key: localStorage.getItem("lpsl_chat_demo")}); } })()`))
		b.t.Fatalf("%s: %v (window: %s)", what, err, lines)
	}
}

// eval returns what expression js is, decoded from JSON into v.
func (b chatBrowser) eval(js string, v any) {
	b.t.Helper()
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`JSON.stringify(`+js+`)`))
	if err == nil {
		err = json.Unmarshal([]byte(out), v)
	}
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
}

func (b chatBrowser) lines() []string {
	b.t.Helper()
	var l []string
	b.eval(chatLines, &l)
	return l
}

// click clicks the element of the chat window's shadow root that selector
// finds.
func (b chatBrowser) click(selector string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.JSPath(chatRoot + `.querySelector(` + strconv.Quote(selector) + `)`)))
}

// connectAnna connects Anna, an agent of the demo's skill, offline, until
// the test ends.
func connectAnna(t *testing.T, svc *messaging.Service) (*messaging.AgentSession, *agent) {
	anna := &agent{}
	session := svc.Connect("demo", messaging.Agent{ID: "agent-anna", Name: "Anna", Skills: []string{"tv-experts"}}, anna)
	t.Cleanup(session.Close)
	return session, anna
}

// annaSays sends m (text/plain unless it says) from Anna in the
// conversation convID of the demo account.
func annaSays(t *testing.T, svc *messaging.Service, convID string, m conversation.Message) conversation.Message {
	t.Helper()
	m.From = "agent-anna"
	if m.Type == "" {
		m.Type = conversation.TextPlain
	}
	stored, _, err := svc.Send(context.Background(), "demo", convID, m)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// openWindow clicks the chat slide-out and waits for the window, the
// focus in its message box.
func (b chatBrowser) openWindow() {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.JSPath(`document.querySelector('[data-lpsl-engagement="1001_2001_1"]').shadowRoot.querySelector(".accept")`)))
	b.wait("the window, the focus in its message box", `!!document.querySelector("lpsl-chat") && document.activeElement === document.querySelector("lpsl-chat") && `+
		chatRoot+`.activeElement && `+chatRoot+`.activeElement.tagName === "TEXTAREA"`)
}

// take has the agent of session, online, accept the ring of the
// conversation the window waits in, and waits until the window says so.
func (b chatBrowser) take(session *messaging.AgentSession, a *agent) {
	b.t.Helper()
	ring := a.waitFor(b.t, "the ring", func(e messaging.Event) bool { return e.Kind == messaging.Ring })
	if _, err := session.Accept(context.Background(), ring.RingID); err != nil {
		b.t.Fatal(err)
	}
	b.wait("the agent's name", chatStatus+` === "You are chatting with `+session.Agent().Name+`."`)
}

// openDemoChat starts the demo server (startDemo, with opts) behind a
// proxy that can cut the visitor's network, opens the demo shop in
// Chromium, puts an OLED TV in the cart and goes on browsing, so that the
// cart-abandonment slide-out (a chat engagement) shows, and returns what
// the test needs.
func openDemoChat(t *testing.T, opts ...func(*server.Config)) (*server.Server, string, *cutProxy, chatBrowser) {
	t.Helper()
	srv, dir := startDemo(t, opts...)
	proxy := newCutProxy(t, srv.Addr())
	// Long enough for the agent workspace's test, whose agents share
	// the browser.
	b := chatBrowser{t: t, ctx: newBrowserFor(t, 4*time.Minute)}
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: bindWindowEvents}); err != nil {
		t.Fatal(err)
	}
	// A desktop Chrome's User-Agent: headless Chromium's says it is a bot.
	if _, err := chromedp.Call(b.ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: desktopChrome}); err != nil {
		t.Fatal(err)
	}
	shop := "http://" + proxy.Addr() + "/demo"
	b.do(chromedp.Navigate(shop + "/tv/oled"))
	b.wait("the tag", `window.lpTag && lpTag._sightline === true`)
	var state string
	b.eval(`localStorage.getItem("lpsl_state_demo") || ""`, &state)
	b.do(chromedp.Click(chromedp.CSS(`button[data-add="AUR-OLED55"]`)))
	// The cart's batch answered, its campaign state kept: the next page's
	// decision knows the cart. (A beacon on the way out would take it,
	// but not bring the state back.)
	b.wait("the cart badge, the cart sent", `document.querySelector("[data-cart-count]").textContent === "1" && `+
		`(localStorage.getItem("lpsl_state_demo") || "") !== `+jsonOf(t, state)+` && (localStorage.getItem("lpsl_outbox_demo") || "[]") === "[]"`)
	b.do(chromedp.Navigate(shop + "/tv"))
	// Shown, and done sliding in.
	b.wait("the chat slide-out", `(function (h) { return !!h && !!h.shadowRoot.querySelector(".accept") && h.shadowRoot.querySelector(".box").getAnimations().length === 0; })(`+
		`document.querySelector('[data-lpsl-engagement="1001_2001_1"]'))`)
	return srv, dir, proxy, b
}

// TestChatWindow is a conversation from the demo shop's chat slide-out to
// its end, with the agent's side driven through the server's messaging
// service: the window opens on the click (focus in it, roles and labels),
// shows the queue, then the agent's name, messages both ways once each and
// in order, typing both ways, delivered and read marks; it comes back with
// its history on the next page and after a reload, sends a message typed
// while the network is down once it is back, shows the agent's close and
// sends the survey. The page hears the lpUnifiedWindow events, and the log
// holds the CHAT events.
func TestChatWindow(t *testing.T) {
	srv, dir, proxy, b := openDemoChat(t)
	svc := srv.Messaging()
	ctx := context.Background()
	session, anna := connectAnna(t, svc)

	// The click opens the window, the focus in its message box.
	b.openWindow()
	var a11y []string
	b.eval(`(function (r) { var w = r.querySelector(".w"); return [w.getAttribute("role"), r.getElementById(w.getAttribute("aria-labelledby")).textContent,
  r.querySelector(".log").getAttribute("role"), r.querySelector(".log").getAttribute("aria-label"), r.querySelector(".st").getAttribute("role"),
  r.querySelector("textarea").getAttribute("aria-label"), r.querySelector("header button").getAttribute("aria-label"),
  r.querySelector("header button + button").getAttribute("aria-label")]; })(`+chatRoot+`)`, &a11y)
	if strings.Join(a11y, "|") != "dialog|Chat with us|log|Messages|status|Type your message|Minimize chat|End chat" {
		t.Errorf("roles and labels: %q", a11y)
	}

	// No agent online: the visitor waits in the queue.
	b.wait("the queue", chatStatus+`.indexOf("You are number 1 in line") === 0`)
	convs := svc.Conversations("demo")
	if len(convs) != 1 {
		t.Fatalf("%d open conversations, want 1", len(convs))
	}
	conv := convs[0]
	if conv.Campaign.CampaignID != "1001" || conv.Campaign.EngagementID != "2001" || conv.SkillName != "tv-experts" ||
		!strings.HasSuffix(conv.Context.PageURL, "/demo/tv") || conv.Context.PageTitle == "" || conv.Context.Device != "DESKTOP" || conv.Context.OS != "WINDOWS" ||
		conv.Context.Browser != "Chrome" || conv.Context.Language == "" || conv.Context.VisitID == "" {
		t.Errorf("the conversation's start: campaign %+v skill %q context %+v", conv.Campaign, conv.SkillName, conv.Context)
	}
	var types []string
	for _, a := range conv.Attributes {
		types = append(types, a.Type)
	}
	if !strings.Contains(strings.Join(types, " "), "CART_STATUS") {
		t.Errorf("the conversation's attributes: %v, want the cart the page pushed", types)
	}
	cancel := svc.Watch("demo", conv.ID, anna)
	defer cancel()

	// Anna comes online and takes the conversation.
	session.SetState(messaging.Online)
	b.take(session, anna)

	// The visitor types (Anna sees it), then sends.
	b.do(chromedp.KeyEvent("Hello, which OLED is brightest?"))
	anna.waitFor(t, "that the visitor types", func(e messaging.Event) bool {
		return e.Kind == messaging.ChatStateChanged && e.ChatState == "COMPOSING"
	})
	b.do(chromedp.KeyEvent("\r"))
	hello := anna.waitFor(t, "the visitor's message", visitorMessage("Hello, which OLED is brightest?")).Message
	b.wait("the message sent", chatRoot+`.querySelector(".log .v .k").textContent === "Sent"`)

	// Anna types, then answers with a link.
	if err := svc.SetChatState("demo", conv.ID, "agent-anna", "COMPOSING"); err != nil {
		t.Fatal(err)
	}
	b.wait("Anna typing", chatRoot+`.querySelector(".ty").textContent === "Anna is typing\u2026"`)
	if err := svc.SetStatus(ctx, "demo", conv.ID, "agent-anna", conversation.Read, []int{hello.Seq}); err != nil {
		t.Fatal(err)
	}
	b.wait("the read mark", chatRoot+`.querySelector(".log .v .k").textContent === "Read"`)
	answer := annaSays(t, svc, conv.ID, conversation.Message{Text: "The Aurora OLED 55: https://example.com/aurora. <b>Bright</b>!"})
	b.wait("Anna's answer", chatRoot+`.querySelectorAll(".log .a").length === 1 && `+chatRoot+`.querySelector(".ty").textContent === ""`)
	var link []string
	b.eval(`(function (a) { return [a.href, a.rel, a.target, a.parentNode.textContent, String(!!a.parentNode.querySelector("b"))]; })(`+chatRoot+`.querySelector(".log .a a"))`, &link)
	if strings.Join(link, "|") != "https://example.com/aurora|noopener noreferrer|_blank|The Aurora OLED 55: https://example.com/aurora. <b>Bright</b>!|false" {
		t.Errorf("Anna's message with its link: %q", link)
	}
	anna.waitFor(t, "that the visitor read the answer", func(e messaging.Event) bool {
		for _, st := range e.Statuses {
			if e.Kind == messaging.StatusesAdded && st.Seq == answer.Seq && st.Status == conversation.Read && st.Role == conversation.Consumer {
				return true
			}
		}
		return false
	})

	// Minimized, the window is a button that counts Anna's new messages;
	// they are read once the visitor opens it again.
	b.click("header button")
	b.wait("the minimized window", chatRoot+`.querySelector(".w").hidden && `+chatRoot+`.activeElement === `+chatRoot+`.querySelector(".pill")`)
	later := annaSays(t, svc, conv.ID, conversation.Message{Text: "Take your time."})
	b.wait("the new message counted", chatRoot+`.querySelector(".pill").getAttribute("aria-label") === "Open chat, 1 new message"`)
	readLater := func(e messaging.Event) bool {
		for _, st := range e.Statuses {
			if e.Kind == messaging.StatusesAdded && st.Seq == later.Seq && st.Status == conversation.Read {
				return true
			}
		}
		return false
	}
	anna.waitFor(t, "that the message reached the visitor", func(e messaging.Event) bool {
		return e.Kind == messaging.StatusesAdded && len(e.Statuses) > 0 && e.Statuses[0].Seq == later.Seq && e.Statuses[0].Status == conversation.Accepted
	})
	if anna.count(readLater) != 0 {
		t.Error("a message was marked read while the window was minimized")
	}
	b.click(".pill")
	b.wait("the window again, the focus in its message box", `!`+chatRoot+`.querySelector(".w").hidden && `+chatRoot+`.activeElement.tagName === "TEXTAREA"`)
	anna.waitFor(t, "that the visitor read the message", readLater)

	// A structured content card: its button publishes its text
	// (TestChatRichContent shows the rest).
	annaSays(t, svc, conv.ID, conversation.Message{Type: conversation.RichContent, Rich: json.RawMessage(`{"type":"vertical","elements":[
  {"type":"text","text":"Which size?"},
  {"type":"button","title":"55 inch","click":{"actions":[{"type":"publishText","text":"55 inch, please"}]}}]}`)})
	card := chatRoot + `.querySelector(".log .m.r")`
	b.wait("the structured content", `!!`+card)
	b.do(chromedp.Click(chromedp.JSPath(card + `.querySelector("button")`)))
	anna.waitFor(t, "the button's text", visitorMessage("55 inch, please"))

	// The visitor leaves the site; Anna writes; the visitor comes back on
	// another page: the window is there, with its history, and what Anna
	// wrote meanwhile, once.
	heard := b.heard(nil)
	before := b.lines()
	b.do(chromedp.Navigate("about:blank"))
	annaSays(t, svc, conv.ID, conversation.Message{Text: "Still there?"})
	b.do(chromedp.Navigate("http://" + proxy.Addr() + "/demo/cart"))
	b.wait("the window back with what Anna wrote", `!!document.querySelector("lpsl-chat") && `+chatLines+`.slice(-1)[0] === "a:Still there?"`)
	if got := b.lines(); strings.Join(got[:len(got)-1], "\n") != strings.Join(before, "\n") {
		t.Errorf("on the next page the window shows\n%q\nwant\n%q and Anna's new message", got, before)
	}
	var focus string
	b.eval(`document.activeElement.tagName`, &focus)
	if focus == "LPSL-CHAT" {
		t.Error("the window took the focus on the next page")
	}

	// A reload: the same, nothing twice.
	heard = b.heard(heard)
	before = b.lines()
	b.do(chromedp.Reload())
	b.wait("the window after the reload", `!!document.querySelector("lpsl-chat") && `+chatLines+`.length === `+strconv.Itoa(len(before))+` && `+
		chatStatus+` === "You are chatting with Anna."`)
	if got := b.lines(); strings.Join(got, "\n") != strings.Join(before, "\n") {
		t.Errorf("after the reload the window shows\n%q\nwant\n%q", got, before)
	}

	// The network goes: what the visitor writes waits, kept, and goes once
	// it is back; what Anna writes meanwhile comes then, once.
	proxy.cut(true)
	b.wait("the window reconnecting", chatStatus+` === "Reconnecting\u2026"`)
	b.do(chromedp.Focus(chromedp.JSPath(chatRoot+`.querySelector("textarea")`)), chromedp.KeyEvent("Are you there?\r"))
	b.wait("the message waiting", chatRoot+`.querySelector(".log .v:last-child .k").textContent === "Sending\u2026"`)
	var kept bool
	b.eval(`JSON.parse(localStorage.getItem("lpsl_chat_demo")).msgs.some(function (m) { return m.t === "Are you there?" && m.s === null; })`, &kept)
	if !kept {
		t.Error("the message waiting is not kept in localStorage")
	}
	annaSays(t, svc, conv.ID, conversation.Message{Text: "Yes, still here."})
	time.Sleep(1500 * time.Millisecond) // a few reconnects fail
	if n := anna.count(visitorMessage("Are you there?")); n != 0 {
		t.Fatalf("the message sent while offline reached the agent %d times", n)
	}
	proxy.cut(false)
	anna.waitFor(t, "the message sent while offline", visitorMessage("Are you there?"))
	b.wait("the message sent, Anna's shown", chatRoot+`.querySelector(".log .v:last-of-type .k").textContent !== "Sending\u2026" && `+chatLines+`.indexOf("a:Yes, still here.") >= 0`)

	// Every message once, in the conversation's order.
	msgs, err := svc.Messages(ctx, "demo", conv.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range msgs {
		line := "v:" + m.Text
		if m.Role != conversation.Consumer {
			line = "a:" + m.Text
		}
		if m.Type == conversation.RichContent {
			line = "a:Which size?"
		}
		want = append(want, line)
	}
	var got []string
	for _, l := range b.lines() {
		if strings.HasPrefix(l, "a:Which size?") {
			l = "a:Which size?"
		}
		if !strings.HasPrefix(l, "s:") {
			got = append(got, l)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the window shows\n%q\nthe conversation holds\n%q", got, want)
	}
	if n := anna.count(visitorMessage("Are you there?")); n != 1 {
		t.Errorf("the message sent while offline reached the agent %d times", n)
	}

	// Anna closes; the visitor answers the survey and closes the window.
	if _, err := svc.CloseConversation(ctx, "demo", conv.ID, conversation.ClosedByAgent); err != nil {
		t.Fatal(err)
	}
	b.wait("the survey, the focus on it", `!!`+chatRoot+`.querySelector("form.sv") && `+chatLines+`.slice(-1)[0] === "s:Anna ended the conversation." && `+
		chatRoot+`.activeElement.textContent === "How did we do?"`)
	surveyed := b.answerSurvey(svc, conv.ID)
	if surveyed.CSAT != 4 || len(surveyed.Surveys) != 1 || len(surveyed.Surveys[0].Data) != 2 ||
		surveyed.Surveys[0].Data[1] != (conversation.SurveyAnswer{Question: "Confirm Resolution", Answer: "Yes"}) {
		t.Errorf("stored: csat %d, surveys %+v; want 4 and Confirm Resolution Yes", surveyed.CSAT, surveyed.Surveys)
	}
	b.click(`header button + button`)
	b.wait("the window gone", `!document.querySelector("lpsl-chat") && localStorage.getItem("lpsl_chat_demo") === null`)
	heard = b.heard(heard)

	// What the pages heard on lpTag.events.
	var states []string
	names := map[string]int{}
	for _, h := range heard {
		names[h.Name]++
		switch h.Name {
		case "state":
			if n := len(states); n == 0 || states[n-1] != h.Data["state"] {
				states = append(states, h.Data["state"].(string))
			}
		case "conversationInfo":
			if h.Data["agentName"] == "Anna" && (h.Data["conversationId"] != conv.ID || h.Data["engagementId"] != 2001.0 ||
				h.Data["campaignId"] != 1001.0 || h.Data["engagementName"] != "Slide-out chat button" || h.Data["skill"] != "tv-experts" ||
				h.Data["agentId"] != "agent-anna" || h.Data["visitorId"] != conv.ConsumerID || h.Data["language"] == "") {
				t.Errorf("conversationInfo %v", h.Data)
			}
		}
	}
	wantStates := "initialised waiting chatting interactive resume interactive resume interactive ended postChat ended"
	if strings.Join(states, " ") != wantStates {
		t.Errorf("states heard:\n%s\nwant\n%s", strings.Join(states, " "), wantStates)
	}
	if names["minimized"] != 1 || names["maximized"] != 1 || names["windowClosed"] != 1 || names["conversationInfo"] < 5 {
		t.Errorf("events heard: %v", names)
	}

	// The CHAT events in the log.
	// Those fired before the conversation started (the click's open, load
	// and show) have no conversation id yet.
	chat := map[string]int{}
	stored := waitForChatEvent(t, dir, "close")
	for _, s := range stored {
		if s.AppName != "CHAT" {
			continue
		}
		chat[s.EventName]++
		var d struct {
			Conversation string `json:"conversation_id"`
			Engagement   int64  `json:"engagement_id"`
		}
		json.Unmarshal(s.Data, &d)
		if d.Engagement != 2001 || d.Conversation != conv.ID && (d.Conversation != "" || chat[s.EventName] > 1) {
			t.Errorf("CHAT %s %s", s.EventName, s.Data)
		}
	}
	for name, n := range map[string]int{"load": 3, "open": 1, "show": 4, "hide": 1, "close": 1, "session_started": 1, "session_interacted": 1,
		"live_chat_started": 1, "live_chat_ended": 1, "platform_rest": 1, "user_agent_desktop": 1} {
		if chat[name] != n {
			t.Errorf("CHAT %s stored %d times, want %d (all: %v)", name, chat[name], n, chat)
		}
	}
}

// answerSurvey answers the survey the window shows (CSAT 4, resolved),
// waits for the thanks, and returns the conversation once it keeps the
// survey.
func (b chatBrowser) answerSurvey(svc *messaging.Service, convID string) *conversation.Conversation {
	b.t.Helper()
	b.click(`input[name=csat][value="4"]`)
	b.click(`input[name=resolved][value="Yes"]`)
	b.click(`form.sv button[type=submit]`)
	b.wait("the thanks", chatRoot+`.querySelector(".ft").textContent === "Thank you for your feedback."`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := svc.Get(context.Background(), "demo", convID)
		if err != nil {
			b.t.Fatal(err)
		}
		if len(c.Surveys) > 0 || time.Now().After(deadline) {
			return c
		}
	}
}

// waitForChatEvent waits until the log in dir holds the CHAT event
// called name, and returns the log's events.
func waitForChatEvent(t *testing.T, dir, name string) []event.Stored {
	t.Helper()
	return waitForStored(t, dir, func(got []event.Stored) bool {
		return slices.ContainsFunc(got, func(s event.Stored) bool { return s.AppName == "CHAT" && s.EventName == name })
	})
}

// heardEvent is an lpUnifiedWindow event a page heard.
type heardEvent struct {
	Name string
	Data map[string]any
}

// heard returns the events the page heard, after those of earlier pages.
func (b chatBrowser) heard(earlier []heardEvent) []heardEvent {
	b.t.Helper()
	var h []heardEvent
	b.eval(`window.heard || []`, &h)
	return append(earlier, h...)
}

// iPhone is the User-Agent of Safari on an iPhone.
const iPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"

// TestChatWindowPhone opens the window on a phone's screen, 390 px wide:
// it takes the screen, and nothing in it is wider. The visitor writes
// (the CHAT events say mobile), then ends the conversation from the
// keyboard, confirming, and skips the survey.
func TestChatWindowPhone(t *testing.T) {
	srv, dir, _, b := openDemoChat(t)
	if _, err := chromedp.Call(b.ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: iPhone}); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Reload())
	b.wait("the chat slide-out", `(function (h) { return !!h && h.shadowRoot.querySelector(".box").getAnimations().length === 0; })(`+
		`document.querySelector('[data-lpsl-engagement="1001_2001_1"]'))`)
	b.openWindow()
	var box []float64
	b.eval(`(function (w) { var r = w.getBoundingClientRect(); return [r.left, r.top, r.width, r.height, window.innerWidth, window.innerHeight,
  w.scrollWidth - w.clientWidth, w.querySelector("textarea").getBoundingClientRect().right]; })(`+chatRoot+`.querySelector(".w"))`, &box)
	if len(box) != 8 || box[0] != 0 || box[1] != 0 || box[2] != box[4] || box[3] != box[5] || box[4] != 390 || box[6] != 0 || box[7] > 390 {
		t.Errorf("on a phone the window is at %v (left, top, width, height, the viewport's width and height, overflow, the message box's right): want the screen", box)
	}

	b.do(chromedp.KeyEvent("Is the 55 inch in stock?\r"))
	b.wait("the message sent", chatRoot+`.querySelector(".log .v .k").textContent === "Sent"`)
	convs := srv.Messaging().Conversations("demo")
	if len(convs) != 1 || convs[0].Context.Device != "MOBILE" || convs[0].Context.OS != "IOS" {
		t.Fatalf("open conversations %+v, want one from an iPhone", convs)
	}
	// Escape minimizes the window, the focus on the button that opens it
	// again, from the keyboard.
	b.do(chromedp.KeyEvent(kb.Escape))
	b.wait("the minimized window", chatRoot+`.querySelector(".w").hidden && `+chatRoot+`.activeElement === `+chatRoot+`.querySelector(".pill")`)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the window again", `!`+chatRoot+`.querySelector(".w").hidden && `+chatRoot+`.activeElement.tagName === "TEXTAREA"`)

	// Ending it takes a confirmation; the survey can be skipped.
	b.click("header button + button")
	b.wait("the confirmation, the focus on it", chatRoot+`.activeElement && `+chatRoot+`.activeElement.textContent === "End chat"`)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the survey", `!!`+chatRoot+`.querySelector("form.sv") && `+chatLines+`.slice(-1)[0] === "s:You ended the conversation."`)
	c, err := srv.Messaging().Get(context.Background(), "demo", convs[0].ID)
	if err != nil || c.State != conversation.Closed || c.CloseReason != conversation.ClosedByConsumer {
		t.Fatalf("the conversation after the visitor ended it: %+v (%v)", c, err)
	}
	b.click("form.sv .b2")
	b.wait("the end", chatRoot+`.querySelector(".ft").textContent === "The conversation has ended." && `+
		chatRoot+`.querySelector("header button + button").getAttribute("aria-label") === "Close chat"`)
	if c, _ := srv.Messaging().Get(context.Background(), "demo", c.ID); len(c.Surveys) != 0 {
		t.Errorf("a skipped survey stored %+v", c.Surveys)
	}
	got := waitForChatEvent(t, dir, "user_agent_mobile")
	for _, s := range got {
		if s.AppName == "CHAT" && (s.EventName == "user_agent_desktop" || s.EventName == "live_chat_ended") {
			t.Errorf("CHAT %s stored: the visitor is on a phone, and no agent joined", s.EventName)
		}
	}
}

// TestChatRichContent has the agent send structured content: its layouts
// and elements are drawn with the DOM, never as markup; a button publishes
// its text as the visitor's message, or opens an http(s) link in a new
// tab without a handle on the page; javascript: and data: URLs, unknown
// elements and nesting past 8 levels are left out; a link in a text
// message opens as one, and the click is a CHAT link_clicked event.
func TestChatRichContent(t *testing.T) {
	srv, dir, _, b := openDemoChat(t)
	svc := srv.Messaging()
	session, anna := connectAnna(t, svc)
	session.SetState(messaging.Online)
	b.openWindow()
	b.take(session, anna)
	conv := svc.Conversations("demo")[0]
	cancel := svc.Watch("demo", conv.ID, anna)
	defer cancel()
	// window.open records what it is asked to open.
	b.eval(`(function () { window.opened = []; window.open = function (u, n, f) { opened.push([u, n, f].join(" ")); }; return true; })()`, new(bool))

	deep := `{"type":"text","text":"too deep"}`
	for range 9 {
		deep = `{"type":"vertical","elements":[` + deep + `]}`
	}
	rich := `{"type":"vertical","elements":[
  {"type":"text","text":"Pick one","style":{"bold":true,"italic":true}},
  {"type":"carousel","padding":10,"elements":[
    {"type":"vertical","elements":[{"type":"image","url":"http://127.0.0.1:1/a.png","tooltip":"Aurora"},{"type":"text","text":"Aurora OLED"},
      {"type":"button","title":"Aurora","tooltip":"Choose the Aurora","click":{"actions":[{"type":"publishText","text":"The Aurora"}]}}]},
    {"type":"vertical","elements":[{"type":"image","url":"data:image/png;base64,AAAA"},{"type":"text","text":"Nova QLED"},
      {"type":"button","title":"Specs","click":{"actions":[{"type":"link","uri":"https://example.com/nova"}]}}]}]},
  {"type":"button","title":"Evil","click":{"actions":[{"type":"link","uri":"javascript:window.pwned=1"},{"type":"link","uri":"data:text/html,<script>1</script>"}]}},
  {"type":"iframe","src":"https://example.com"},
  {"type":"text","text":"<script>window.pwned=1</script> javascript:window.pwned=1"},
  ` + deep + `]}`
	annaSays(t, svc, conv.ID, conversation.Message{Type: conversation.RichContent, Rich: json.RawMessage(rich)})
	card := chatRoot + `.querySelector(".log .m.r .x")`
	b.wait("the structured content", `!!`+card)
	var shown struct {
		HTML    string
		Style   string
		Classes string
		Images  []string
		Buttons []string
		Tooltip string
	}
	b.eval(`(function (c) { var p = c.querySelector("p"); return {html: c.innerHTML, style: p.style.fontWeight + " " + p.style.fontStyle,
  classes: Array.prototype.map.call(c.querySelectorAll("div"), function (d) { return d.className; }).join(" "),
  images: Array.prototype.map.call(c.querySelectorAll("img"), function (i) { return i.getAttribute("src") + " " + i.alt + " " + i.getAttribute("referrerpolicy"); }),
  buttons: Array.prototype.map.call(c.querySelectorAll("button"), function (x) { return x.textContent; }), tooltip: c.querySelector("button").title}; })(`+card+`)`, &shown)
	if shown.Style != "700 italic" || strings.Join(shown.Images, "|") != "http://127.0.0.1:1/a.png Aurora no-referrer" ||
		strings.Join(shown.Buttons, "|") != "Aurora|Specs|Evil" || shown.Tooltip != "Choose the Aurora" ||
		!strings.HasPrefix(shown.Classes, "rv rc rv rv") || strings.Contains(shown.HTML, "too deep") ||
		strings.Contains(shown.HTML, "<script") || strings.Contains(shown.HTML, "<iframe") || !strings.Contains(shown.HTML, "&lt;script&gt;") ||
		strings.Contains(shown.HTML, `href="javascript`) {
		t.Errorf("structured content shown as %+v", shown)
	}
	button := func(i int) {
		b.do(chromedp.Click(chromedp.JSPath(card + `.querySelectorAll("button")[` + strconv.Itoa(i) + `]`)))
	}
	button(2) // Evil
	button(1) // Specs
	button(0) // Aurora
	anna.waitFor(t, "the button's text", visitorMessage("The Aurora"))
	b.wait("the visitor's message", chatLines+`.slice(-1)[0] === "v:The Aurora"`)
	var opened []string
	b.eval(`window.opened`, &opened)
	var pwned bool
	b.eval(`!!window.pwned`, &pwned)
	if strings.Join(opened, "|") != "https://example.com/nova _blank noopener,noreferrer" || pwned {
		t.Errorf("the buttons opened %q (a javascript: URL ran: %v); want the https link only", opened, pwned)
	}

	// A text message's link.
	annaSays(t, svc, conv.ID, conversation.Message{Text: "Compare them (https://example.com/compare?a=1&b=2), or javascript:alert(1)."})
	link := chatRoot + `.querySelector(".log .m.a:last-child a")`
	b.wait("the link", `!!`+link)
	var links []string
	b.eval(`Array.prototype.map.call(`+chatRoot+`.querySelectorAll(".log .m.a:last-child a"), function (a) { return a.href + " " + a.rel + " " + a.target; })`, &links)
	if strings.Join(links, "|") != "https://example.com/compare?a=1&b=2 noopener noreferrer _blank" {
		t.Errorf("links of the text: %q", links)
	}
	// The click goes nowhere here (no network): the event is what counts.
	b.eval(`(function (a) { a.addEventListener("click", function (e) { e.preventDefault(); }); a.click(); return true; })(`+link+`)`, new(bool))
	for _, s := range waitForChatEvent(t, dir, "link_clicked") {
		if s.EventName == "link_clicked" && !strings.Contains(string(s.Data), `"url":"https://example.com/compare?a=1&b=2"`) &&
			!strings.Contains(string(s.Data), `"url":"https://example.com/nova"`) {
			t.Errorf("link_clicked %s", s.Data)
		}
	}
}

// TestChatAuthenticated is an authenticated visitor's chat: the page
// defines lpGetAuthenticationToken, as LivePerson's authenticated chat
// asks, and calls back with the brand's JWT; the conversation keeps the
// visitor's identity and the token's customer info as an authenticated
// attribute, and is found by the token's subject.
func TestChatAuthenticated(t *testing.T) {
	srv, _, _, b := openDemoChat(t)
	brand := identitytest.NewBrand(t)
	if err := srv.Accounts().SetVisitorAuth("demo", &account.VisitorAuth{Issuer: "https://login.lumen.example", Keys: brand.Keys()}); err != nil {
		t.Fatal(err)
	}
	token := brand.Sign(map[string]any{"iss": "https://login.lumen.example", "sub": "member-7", "acr": "loa1",
		"exp":     time.Now().Add(time.Hour).Unix(),
		"lp_sdes": []any{map[string]any{"type": "ctmrinfo", "info": map[string]any{"customerId": "member-7", "ctype": "vip"}}}})
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.lpGetAuthenticationToken = function (callback) { setTimeout(function () { callback(` + strconv.Quote(token) + `); }, 10); };`}); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Reload())
	b.wait("the chat slide-out", `(function (h) { return !!h && h.shadowRoot.querySelector(".box").getAnimations().length === 0; })(`+
		`document.querySelector('[data-lpsl-engagement="1001_2001_1"]'))`)
	b.openWindow()
	b.do(chromedp.KeyEvent("Where is my order?\r"))
	b.wait("the message sent", chatRoot+`.querySelector(".log .v .k").textContent === "Sent"`)
	found, err := srv.Messaging().Store().List(context.Background(), "demo", conversation.Query{Subject: "member-7"})
	if err != nil || len(found) != 1 {
		t.Fatalf("conversations of member-7: %+v (%v), want one", found, err)
	}
	c := found[0]
	if c.Identity == nil || c.Identity.Issuer != "https://login.lumen.example" || c.Identity.ACR != "loa1" {
		t.Errorf("identity %+v", c.Identity)
	}
	auth := 0
	for _, a := range c.Attributes {
		if a.Authenticated {
			auth++
			if a.Type != "CUSTOMER_INFO" || !strings.Contains(string(a.Data), `"ctype":"vip"`) {
				t.Errorf("authenticated attribute %s %s, want the token's customer info", a.Type, a.Data)
			}
		}
	}
	if auth != 1 {
		t.Errorf("%d authenticated attributes, want the token's one (of %+v)", auth, c.Attributes)
	}
}
