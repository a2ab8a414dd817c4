package tag_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/user"
)

// agentLines lists the lines of the agent workspace's conversation, "c:",
// "a:" or "s:" (the visitor, agents, the workspace) and their text.
const agentLines = `Array.prototype.map.call(document.querySelectorAll("#log .m:not(.pending)"), function (e) {
  return e.classList[1] + ":" + e.querySelector(".x").textContent; })`

// agentPage is an agent's tab of the agent workspace, in a browser
// context of its own: no cookie or storage shared with the visitor's or
// another agent's.
type agentPage struct {
	chatBrowser
	name string
}

// newAgentPage opens a tab in a new browser context of b's browser, with
// a screen width wide, that records the page's script errors.
func newAgentPage(b chatBrowser, name string, width int64) agentPage {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	a := agentPage{chatBrowser{t: b.t, ctx: ctx}, name}
	a.do()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.errs = []; window.addEventListener("error", function (e) { errs.push(e.message); });`}); err != nil {
		b.t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: width, Height: 860,
		DeviceScaleFactor: 1}); err != nil {
		b.t.Fatal(err)
	}
	return a
}

// wait polls cond until it is true, and fails the test with what the
// workspace shows if it does not become so.
func (a agentPage) wait(what, cond string) {
	a.t.Helper()
	if _, err := chromedp.Run(a.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		state, _ := chromedp.Run(a.ctx, chromedp.Evaluate[string](`JSON.stringify({conn: document.getElementById("conn").textContent,
  lines: `+agentLines+`, rings: document.querySelectorAll(".ring").length, signin: document.getElementById("si-error").textContent,
  marks: Array.prototype.map.call(document.querySelectorAll("#log .k"), function (e) { return e.textContent; }),
  reply: document.getElementById("reply").value, typing: document.getElementById("typing").textContent,
  conv: document.getElementById("conv-sub").textContent, errs: window.errs})`))
		a.t.Fatalf("%s's workspace: %s: %v (%s)", a.name, what, err, state)
	}
}

func (a agentPage) lines() []string {
	a.t.Helper()
	var l []string
	a.eval(agentLines, &l)
	return l
}

// signIn fills the sign-in form and sends it.
func (a agentPage) signIn(login, password string) {
	a.t.Helper()
	var cleared bool
	a.eval(`(function () { document.getElementById("si-login").value = ""; document.getElementById("si-password").value = ""; return true; })()`, &cleared)
	a.do(chromedp.SendKeys(chromedp.CSS("#si-login"), login), chromedp.SendKeys(chromedp.CSS("#si-password"), password+"\r"))
}

// open opens the workspace at base and signs in, then goes Online.
func (a agentPage) open(base, login, password string, svc *messaging.Service, skill string) {
	a.t.Helper()
	a.do(chromedp.Navigate(base + "/console/agent?account=demo"))
	a.wait("the sign-in form, the focus on the login", `document.activeElement === document.getElementById("si-login") && `+
		`document.getElementById("si-account").value === "demo"`)
	a.signIn(login, password)
	a.wait("the workspace, connected", `!document.getElementById("workspace").hidden && document.getElementById("conn").textContent === "Connected"`)
	a.setAvailability("ONLINE")
	for deadline := time.Now().Add(10 * time.Second); svc.SkillState("demo", skill) != messaging.SkillOnline; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			a.t.Fatalf("%s is not online on %s", a.name, skill)
		}
	}
}

// setAvailability picks an availability in the selector.
func (a agentPage) setAvailability(v string) {
	a.t.Helper()
	var ok bool
	a.eval(`(function (s) { s.focus(); s.value = "`+v+`"; s.dispatchEvent(new Event("change")); return s.value === "`+v+`"; })(document.getElementById("availability"))`, &ok)
	if !ok {
		a.t.Fatalf("no availability %s", v)
	}
}

// accept accepts the ring that the workspace shows, and waits until the
// conversation is the agent's, the focus in the reply box.
func (a agentPage) accept() {
	a.t.Helper()
	a.wait("the ring", `document.querySelectorAll("#ring-list .ring").length === 1 && !document.getElementById("rings").hidden`)
	a.do(chromedp.Click(chromedp.CSS("#ring-list .ring button.primary")))
	a.wait("the conversation, the focus in the reply box", `document.getElementById("conv-sub").textContent.indexOf("You are in this conversation.") > 0 && `+
		`document.activeElement === document.getElementById("reply") && document.querySelectorAll("#ring-list .ring").length === 0`)
}

// say types text into the reply box and sends it with Enter.
func (a agentPage) say(text string) {
	a.t.Helper()
	a.do(chromedp.Focus(chromedp.CSS("#reply")), chromedp.KeyEvent(text+"\r"))
}

// visitorSays types text into the chat window and sends it with Enter.
func (b chatBrowser) visitorSays(text string) {
	b.t.Helper()
	b.do(chromedp.Focus(chromedp.JSPath(chatRoot+`.querySelector("textarea")`)), chromedp.KeyEvent(text+"\r"))
}

// withoutSystem leaves out the lines of the chat window or the workspace
// that are not messages.
func withoutSystem(lines []string) []string {
	return slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.HasPrefix(l, "s:") })
}

// TestAgentWorkspace is the agent workspace's acceptance test: a visitor
// of the demo shop starts a chat from its slide-out; Ann, an agent of its
// skill, signs in on /console/agent in a browser context of her own (a
// wrong password first), goes Online, gets the ring and accepts it; they
// write to each other (typing and read marks shown on both sides, every
// message once and in order); Ann sees the visitor's journey (cart,
// context, the pages of the visit); her network goes away and comes back
// (she catches up, nothing twice); the visitor reloads and keeps the
// history; Ann transfers the conversation to another skill, whose agent
// Bob, in a third context and a narrow screen, accepts it, sees the
// history, writes and closes it; the visitor answers the survey. The
// visitor's page heard the lpUnifiedWindow events, the log holds the CHAT
// events, and the conversation keeps its transfer, close reason and survey.
func TestAgentWorkspace(t *testing.T) {
	srv, dir, _, b := openDemoChat(t, func(c *server.Config) { c.NoWebSessions = false })
	svc := srv.Messaging()
	ctx := context.Background()

	// A second skill, of an engagement no page shows, and an agent of each.
	if _, err := srv.Campaigns().Update(ctx, "demo", func(d *campaign.Definitions) error {
		d.Campaigns = append(d.Campaigns, campaign.Campaign{ID: 1003, Name: "Sound advice", Status: "inactive", Priority: 1, GoalID: 301,
			Engagements: []campaign.Engagement{{ID: 2003, Name: "Sound chat", Type: 3, Zone: 1, Interaction: "chat", SkillID: 12,
				SkillName: "sound-experts", Availability: "always", Content: campaign.Content{Title: "Sound?", Button: "Chat"}}}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	agents := map[string]user.User{}
	for _, a := range []struct{ login, name, skill string }{{"ann", "Ann", "tv-experts"}, {"bob", "Bob", "sound-experts"}} {
		hash, err := user.HashPassword(a.login + "'s password")
		if err != nil {
			t.Fatal(err)
		}
		if agents[a.login], err = srv.Users().Add("demo", user.User{Login: a.login, Nickname: a.name, Skills: []string{a.skill},
			PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}

	// Ann signs in, through a network that can go away, at 1280 px.
	annNet := newCutProxy(t, srv.Addr())
	ann := newAgentPage(b, "Ann", 1280)
	ann.do(chromedp.Navigate("http://" + annNet.Addr() + "/console/agent?account=demo"))
	ann.wait("the sign-in form", `document.activeElement === document.getElementById("si-login")`)
	ann.signIn("ann", "not her password")
	ann.wait("the refusal", `document.getElementById("si-error").textContent === "Bad credentials" && document.getElementById("workspace").hidden`)
	ann.open("http://"+annNet.Addr(), "ann", "ann's password", svc, "tv-experts")
	var a11y []string
	ann.eval(`[document.querySelector("label[for=availability]").textContent, document.querySelector("nav").getAttribute("aria-label"),
  document.getElementById("log").getAttribute("role"), document.getElementById("alert").getAttribute("aria-live"),
  document.getElementById("announce").getAttribute("aria-live"), document.querySelector("label[for=reply]").textContent,
  document.getElementById("journey").tagName, sessionStorage.getItem("lpsl_agent") ? "kept" : "lost"]`, &a11y)
	if strings.Join(a11y, "|") != "Availability|Conversations|log|assertive|polite|Reply|ASIDE|kept" {
		t.Errorf("labels, roles, live regions and the kept session: %q", a11y)
	}
	// At 1280 px: the conversations, the conversation and the journey side
	// by side, nothing wider than the screen.
	var layout [][]float64
	ann.eval(`["nav", "#conv", "#journey"].map(function (s) { var r = document.querySelector(s).getBoundingClientRect(); return [r.left, r.top, r.right]; })
  .concat([[document.documentElement.scrollWidth]])`, &layout)
	if len(layout) != 4 || layout[0][1] != layout[1][1] || layout[1][1] != layout[2][1] || !(layout[0][2] <= layout[1][0] && layout[1][2] <= layout[2][0]) ||
		layout[3][0] > 1280 {
		t.Errorf("at 1280 px: nav, conversation, journey at [left top right] %v, page width %v", layout[:3], layout[3])
	}

	// The visitor opens the chat: Ann is rung, sees the conversation wait
	// in its skill's queue, and accepts.
	b.openWindow()
	ann.wait("the conversation in the queue", `document.getElementById("queues").textContent.indexOf("tv-experts (1)") === 0`)
	var rang string
	ann.eval(`document.getElementById("alert").textContent`, &rang)
	if rang != "Incoming conversation for tv-experts." {
		t.Errorf("the ring was announced as %q", rang)
	}
	ann.accept()
	b.wait("Ann's name", chatStatus+` === "You are chatting with Ann."`)
	conv := svc.Conversations("demo")[0]

	// The visitor types (Ann sees it), sends; Ann reads it (the visitor
	// sees it read).
	b.do(chromedp.Focus(chromedp.JSPath(chatRoot+`.querySelector("textarea")`)), chromedp.KeyEvent("Hello, which OLED is brightest?"))
	ann.wait("the visitor typing", `document.getElementById("typing").textContent === "The visitor is typing\u2026"`)
	b.do(chromedp.KeyEvent("\r"))
	ann.wait("the visitor's message", agentLines+`.join("|") === "c:Hello, which OLED is brightest?" && document.getElementById("typing").textContent === ""`)
	var told string
	ann.eval(`document.getElementById("announce").lastChild.textContent`, &told)
	if told != "Visitor: Hello, which OLED is brightest?" {
		t.Errorf("the message was announced as %q", told)
	}
	b.wait("the visitor's message read", chatRoot+`.querySelector(".log .v .k").textContent === "Read"`)

	// Ann types (the visitor sees it), answers; the visitor reads it (Ann
	// sees it read).
	ann.do(chromedp.Focus(chromedp.CSS("#reply")), chromedp.KeyEvent("The Aurora OLED 55"))
	b.wait("Ann typing", chatRoot+`.querySelector(".ty").textContent === "Ann is typing\u2026"`)
	ann.do(chromedp.KeyEvent(", with 1,500 nits.\r"))
	b.wait("Ann's answer", chatLines+`.slice(-1)[0] === "a:The Aurora OLED 55, with 1,500 nits."`)
	ann.wait("Ann's answer read", agentLines+`.slice(-1)[0] === "a:The Aurora OLED 55, with 1,500 nits." && `+
		`document.querySelector("#log .m.a:last-child .k").textContent === "Read" && document.getElementById("reply").value === ""`)
	b.visitorSays("Does it fit a small room?")
	ann.wait("the visitor's second message", agentLines+`.slice(-1)[0] === "c:Does it fit a small room?"`)
	ann.say("Yes: it is 55 inches.")
	b.wait("Ann's second answer", chatLines+`.slice(-1)[0] === "a:Yes: it is 55 inches."`)

	// The visitor's journey beside the conversation: the cart, the
	// context, the pages of the visit.
	ann.wait("the journey", `document.querySelectorAll("#journey .pages li").length >= 2`)
	var journey struct {
		Sections []string
		Cart     string
		Pages    []string
		Text     string
	}
	ann.eval(`{sections: Array.prototype.map.call(document.querySelectorAll("#journey h3"), function (h) { return h.textContent; }),
  cart: document.querySelector("#journey .lines").textContent, text: document.getElementById("journey").textContent,
  pages: Array.prototype.map.call(document.querySelectorAll("#journey .pages li"), function (li) { return li.title; })}`, &journey)
	if !slices.Contains(journey.Sections, "Context") || !slices.Contains(journey.Sections, "Cart") || !strings.Contains(journey.Cart, "1 × Aurora 55-inch 4K OLED TV · $1,299.99") ||
		!strings.Contains(journey.Text, "Total $1,299.99 · 1 item") ||
		!strings.Contains(journey.Text, "Cart abandonment") || !strings.Contains(journey.Text, "Slide-out chat button") ||
		!strings.Contains(journey.Text, "DESKTOP · WINDOWS · Chrome") || len(journey.Pages) < 2 ||
		!strings.HasSuffix(journey.Pages[0], "/demo/tv/oled") || !strings.HasSuffix(journey.Pages[len(journey.Pages)-1], "/demo/tv") {
		t.Errorf("the journey: %+v", journey)
	}

	// Ann's network goes away and comes back: she catches up with what
	// the visitor wrote meanwhile, once, and is Online again.
	annNet.cut(true)
	ann.wait("the workspace reconnecting", `document.getElementById("conn").textContent === "Reconnecting\u2026"`)
	b.visitorSays("Are you still there?")
	time.Sleep(1500 * time.Millisecond)
	annNet.cut(false)
	ann.wait("the message written while Ann was away", `document.getElementById("conn").textContent === "Connected" && `+
		agentLines+`.slice(-1)[0] === "c:Are you still there?"`)
	for deadline := time.Now().Add(10 * time.Second); svc.SkillState("demo", "tv-experts") != messaging.SkillOnline; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Ann is not online again after her reconnect")
		}
	}
	ann.say("Still here.")
	b.wait("Ann's answer after her reconnect", chatLines+`.slice(-1)[0] === "a:Still here."`)

	// Every message once, in the conversation's order, on both sides.
	msgs, err := svc.Messages(ctx, "demo", conv.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range msgs {
		if m.Role == conversation.Consumer {
			want = append(want, "v:"+m.Text)
		} else {
			want = append(want, "a:"+m.Text)
		}
	}
	if got := withoutSystem(b.lines()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the chat window shows\n%q\nthe conversation holds\n%q", got, want)
	}
	wantAgent := strings.ReplaceAll(strings.Join(want, "\n"), "v:", "c:")
	if got := withoutSystem(ann.lines()); strings.Join(got, "\n") != wantAgent {
		t.Errorf("Ann's workspace shows\n%q\nthe conversation holds\n%q", got, want)
	}

	// The visitor reloads: the history stays.
	heard := b.heard(nil)
	before := b.lines()
	b.do(chromedp.Reload())
	b.wait("the window after the reload", `!!document.querySelector("lpsl-chat") && `+chatLines+`.length === `+
		jsonOf(t, len(before))+` && `+chatStatus+` === "You are chatting with Ann."`)
	if got := b.lines(); strings.Join(got, "\n") != strings.Join(before, "\n") {
		t.Errorf("after the reload the window shows\n%q\nwant\n%q", got, before)
	}

	// Ann transfers the conversation to the sound experts.
	var options []string
	ann.eval(`Array.prototype.map.call(document.getElementById("transfer-skill").options, function (o) { return o.value; })`, &options)
	if strings.Join(options, ",") != "sound-experts" {
		t.Errorf("transfer skills %v, want the other skill", options)
	}
	ann.do(chromedp.Click(chromedp.CSS("#transfer-go")))
	ann.wait("the transfer", agentLines+`.slice(-1)[0] === "s:You transferred the conversation to sound-experts." && `+
		`document.getElementById("composer").hidden && document.getElementById("conv-sub").textContent === "sound-experts · Waiting for an agent."`)

	// Bob, on a narrow screen, takes it: he sees the history, writes, and
	// closes the conversation.
	bob := newAgentPage(b, "Bob", 800)
	bob.open("http://"+srv.Addr(), "bob", "bob's password", svc, "sound-experts")
	bob.accept()
	bob.wait("the history", agentLines+`.join("\n") === `+jsonOf(t, wantAgent))
	var overflow int
	bob.eval(`document.documentElement.scrollWidth - document.documentElement.clientWidth`, &overflow)
	if overflow > 0 {
		t.Errorf("at 800 px the workspace is %d px too wide", overflow)
	}
	b.wait("Bob's name", chatStatus+` === "You are chatting with Bob."`)
	bob.say("Hi, Bob from sound here: anything else?")
	b.wait("Bob's message", chatLines+`.slice(-1)[0] === "a:Hi, Bob from sound here: anything else?"`)
	b.visitorSays("No, thanks!")
	bob.wait("the visitor's thanks", agentLines+`.slice(-1)[0] === "c:No, thanks!"`)
	bob.do(chromedp.Click(chromedp.CSS("#close")))
	bob.wait("the confirmation, the focus on Cancel", `!document.getElementById("close-confirm").hidden && document.activeElement === document.getElementById("close-no")`)
	bob.do(chromedp.Click(chromedp.CSS("#close-yes")))
	bob.wait("the end", agentLines+`.slice(-1)[0] === "s:The conversation ended." && document.getElementById("composer").hidden && `+
		`document.getElementById("mine").children.length === 0`)

	// The visitor answers the survey and closes the window.
	b.wait("the survey", `!!`+chatRoot+`.querySelector("form.sv") && `+chatLines+`.slice(-1)[0] === "s:Bob ended the conversation."`)
	stored := b.answerSurvey(svc, conv.ID)
	b.click(`header button + button`)
	b.wait("the window gone", `!document.querySelector("lpsl-chat")`)

	// The conversation as stored.
	tr := conversation.Transfer{}
	if len(stored.Transfers) == 1 {
		tr = stored.Transfers[0]
	}
	if len(stored.Transfers) != 1 || tr.SourceSkillID != 11 || tr.SourceSkillName != "tv-experts" || tr.TargetSkillID != 12 ||
		tr.TargetSkillName != "sound-experts" || tr.By != agents["ann"].ID || tr.SourceAgentID != agents["ann"].ID || tr.Reason != "Skill" {
		t.Errorf("transfers %+v", stored.Transfers)
	}
	if stored.State != conversation.Closed || stored.CloseReason != conversation.ClosedByAgent || stored.CSAT != 4 || len(stored.Surveys) != 1 ||
		!slices.Contains(stored.Surveys[0].Data, conversation.SurveyAnswer{Question: "Confirm Resolution", Answer: "Yes"}) {
		t.Errorf("stored: state %s, close reason %s, csat %d, surveys %+v", stored.State, stored.CloseReason, stored.CSAT, stored.Surveys)
	}
	var joined []string
	for _, p := range stored.Participants {
		joined = append(joined, string(p.Role)+":"+p.Name)
	}
	if strings.Join(joined, " ") != "CONSUMER: ASSIGNED_AGENT:Ann ASSIGNED_AGENT:Bob" {
		t.Errorf("participants %v", joined)
	}

	// What the visitor's pages heard: Ann, then the transfer to Bob, then
	// the end and the survey.
	heard = b.heard(heard)
	var states, agentNames []string
	for _, h := range heard {
		switch h.Name {
		case "state":
			if n := len(states); n == 0 || states[n-1] != h.Data["state"] {
				states = append(states, h.Data["state"].(string))
			}
		case "conversationInfo":
			if name, _ := h.Data["agentName"].(string); name != "" && (len(agentNames) == 0 || agentNames[len(agentNames)-1] != name) {
				agentNames = append(agentNames, name)
			}
		}
	}
	wantStates := "initialised waiting chatting interactive resume interactive waiting interactive ended postChat ended"
	if strings.Join(states, " ") != wantStates || strings.Join(agentNames, " ") != "Ann Bob" {
		t.Errorf("lpUnifiedWindow: states\n%s\nwant\n%s\nagents %v, want Ann then Bob", strings.Join(states, " "), wantStates, agentNames)
	}

	// The CHAT events in the log.
	chat := map[string]int{}
	for _, s := range waitForChatEvent(t, dir, "close") {
		if s.AppName != "CHAT" {
			continue
		}
		chat[s.EventName]++
		var d struct {
			Conversation string `json:"conversation_id"`
		}
		json.Unmarshal(s.Data, &d)
		if d.Conversation != conv.ID && d.Conversation != "" {
			t.Errorf("CHAT %s of another conversation: %s", s.EventName, s.Data)
		}
	}
	for name, n := range map[string]int{"open": 1, "close": 1, "session_started": 1, "session_interacted": 1, "live_chat_started": 1,
		"live_chat_ended": 1, "platform_rest": 1, "user_agent_desktop": 1} {
		if chat[name] != n {
			t.Errorf("CHAT %s stored %d times, want %d (all: %v)", name, chat[name], n, chat)
		}
	}

	// Bob's session ends elsewhere (a logout with his bearer): his
	// workspace is told (4401) and asks him to sign in again.
	var bearer string
	bob.eval(`JSON.parse(sessionStorage.getItem("lpsl_agent")).bearer`, &bearer)
	req, _ := http.NewRequest(http.MethodPost, "http://"+srv.Addr()+"/api/account/demo/logout", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("logout with Bob's bearer: %s", resp.Status)
	}
	bob.wait("the sign-in form after the session's end", `!document.getElementById("signin").hidden && `+
		`document.getElementById("si-error").textContent === "Your session has ended. Sign in again." && sessionStorage.getItem("lpsl_agent") === null`)

	// Nothing failed in the workspaces; signing out ends Ann's session.
	for _, a := range []agentPage{ann, bob} {
		var errs []string
		a.eval(`window.errs`, &errs)
		if len(errs) > 0 {
			t.Errorf("%s's workspace: script errors %q", a.name, errs)
		}
	}
	ann.do(chromedp.Click(chromedp.CSS("#signout")))
	ann.wait("the sign-in form again", `!document.getElementById("signin").hidden && document.getElementById("si-error").textContent === "You signed out." && `+
		`sessionStorage.getItem("lpsl_agent") === null`)
	for deadline := time.Now().Add(10 * time.Second); svc.SkillState("demo", "tv-experts") != messaging.SkillOffline; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Ann is still online after signing out")
		}
	}
}

// jsonOf returns v as JSON, for a JavaScript expression.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
