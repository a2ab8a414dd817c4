/*
 * Sightline chat window: the conversation a visitor starts by clicking a
 * chat engagement, in the page, spoken over the consumer WebSocket
 * (/messaging/account/{site}/consumer; internal/messaging/consumer).
 *
 * The tag (tag.js) loads this script only on the click of a chat or
 * messaging engagement, or on a page of a visitor whose chat is going on
 * (kept under lpTag._chat.key in localStorage), and hands it, as
 * lpTag._chat: base (the server), site, key, visitorId, visitId() (the
 * visit's id, kept alive), emit(app, name, data) (the tag's event
 * pipeline to ingest), attributes() (what the visit's pages pushed into
 * lpTag.sdes), engagement (the clicked engagement's LP_OFFERS payload);
 * the window sets open(engagement), which the tag calls on the next click.
 *
 * The window lives in a shadow root; it is a non-modal dialog with a log
 * (a live region) of the messages, a status line (queue, agent, connection,
 * also live) and a composer; Escape minimizes it, focus moves into it on
 * open and back where it was on close. On a phone (480px wide or less) it
 * takes the screen.
 *
 * Nothing is lost: what the window shows, the conversation id and the
 * messages not yet acknowledged by the server are kept in localStorage.
 * Each visitor message has an id and is sent again, with it, after every
 * reconnect until a response gives its sequence (the server stores it
 * once); messages are shown once each, by sequence, and the history is
 * asked from the first sequence not yet known (fromSeq). Reconnects back
 * off from 1 s to 30 s.
 *
 * An authenticated visitor: when the page defines
 * window.lpGetAuthenticationToken(callback), as LivePerson's authenticated
 * chat asks, each connection asks it for the brand's JWT and sends it with
 * InitConnection; the server verifies it with the account's keys
 * (internal/identity). A token it refuses leaves the chat unauthenticated.
 *
 * lpTag.events, app lpUnifiedWindow: state {state} (initialised on the
 * click, resume when a page takes the window up, waiting without an agent,
 * chatting once one joined, interactive once the visitor and an agent both
 * wrote, ended, postChat while the survey shows, then ended again once it
 * is answered or skipped), conversationInfo
 * {agentName, agentId, conversationId, state, visitorId, skill,
 * engagementId, campaignId, engagementName, language} with each state and
 * agent change, maximized, minimized, windowClosed.
 *
 * CHAT events, sent through the tag to ingest (and triggered on
 * lpTag.events as app CHAT), data {conversation_id, campaign_id,
 * engagement_id}:
 *   load                 the window is built on a page (the click's, each next one)
 *   open                 a click opens the window for a new conversation
 *   show / hide          the window is shown (built open, maximized) / hidden (minimized, built minimized)
 *   close                the visitor closes the window (after the conversation ended)
 *   session_started      the first message (either side) of a chat session; a session ends after 30 minutes without messages
 *   session_interacted   the visitor's first message (typed or a button) in a session
 *   live_chat_started    an agent joins the conversation (first time)
 *   live_chat_ended      a conversation an agent joined ends
 *   platform_rest, user_agent_desktop | user_agent_mobile   the visitor's first message in the conversation (tablets count as mobile)
 *   link_clicked         a link in a message is clicked {url}
 */
(function (w, d) {
  "use strict";
  var lp = w.lpTag || {}, tag = lp._chat;
  if (!tag || tag.open) {
    return; // not loaded by the tag, or loaded twice
  }
  var KEY = tag.key, PENDING = 1e15, SESSION = 30 * 6e4;
  var TYPES = ["cart", "purchase", "prodView", "ctmrinfo", "personal", "mrktInfo", "lead", "service", "error", "searchInfo"];
  var st = read(); // the stored state; null without a conversation

  // ---- storage ----

  function read() {
    try {
      var s = JSON.parse(w.localStorage.getItem(KEY));
      return s && s.v === 1 ? s : null;
    } catch (e) {
      return null;
    }
  }

  function save() {
    try {
      w.localStorage.setItem(KEY, JSON.stringify(st, function (k, v) { return k === "el" ? undefined : v; }));
    } catch (e) {
      // full or blocked: the window goes on, without coming back
    }
  }

  function fresh(e) {
    e = e || {};
    return {v: 1, eng: {campaignId: e.campaignId, engagementId: e.engagementId, engagementName: e.engagementName || ""},
      conv: "", msgs: [], next: 0, min: false, state: "", agent: null, skill: "", ended: false, survey: 0, f: {}, sess: {}, unread: 0};
  }

  // ---- lpTag.events and CHAT events ----

  function fire(name, data) {
    if (lp.events && lp.events.trigger) {
      lp.events.trigger("lpUnifiedWindow", name, data || {});
    }
  }

  function chatEvent(name, extra) {
    var data = {conversation_id: st.conv || undefined, campaign_id: st.eng.campaignId, engagement_id: st.eng.engagementId};
    for (var k in extra) {
      data[k] = extra[k];
    }
    tag.emit("CHAT", name, data);
    if (lp.events && lp.events.trigger) {
      lp.events.trigger("CHAT", name, data);
    }
  }

  function info() {
    fire("conversationInfo", {agentName: st.agent ? st.agent.name : "", agentId: st.agent ? st.agent.id : "", conversationId: st.conv,
      state: st.state, visitorId: tag.visitorId, skill: st.skill, engagementId: st.eng.engagementId, campaignId: st.eng.campaignId,
      engagementName: st.eng.engagementName, language: w.navigator.language || ""});
  }

  function setState(s) {
    if (st.state !== s) {
      st.state = s;
      save();
      fire("state", {state: s});
      info();
    }
  }

  // progress sets the state the conversation is in.
  function progress() {
    var v = 0, a = 0;
    st.msgs.forEach(function (m) {
      v |= m.o === "v";
      a |= m.o === "a";
    });
    setState(st.ended ? (st.survey === 1 ? "postChat" : "ended") : !st.conv ? "initialised" : !st.agent ? "waiting" : v && a ? "interactive" : "chatting");
  }

  // activity notes a message at time at (epoch ms), the visitor's when
  // mine: chat sessions and the conversation's first visitor message.
  function activity(mine, at) {
    var s = st.sess;
    if (!s.at || at - s.at > SESSION) {
      st.sess = s = {at: at};
      chatEvent("session_started");
    }
    s.at = Math.max(s.at, at);
    if (mine && !s.i) {
      s.i = 1;
      chatEvent("session_interacted");
    }
    if (mine && !st.f.rest) {
      st.f.rest = 1;
      chatEvent("platform_rest");
      chatEvent(device() === "DESKTOP" ? "user_agent_desktop" : "user_agent_mobile");
    }
  }

  // ---- the visitor's context ----

  function pick(list) {
    var ua = w.navigator.userAgent;
    for (var i = 0; i < list.length; i += 2) {
      if (list[i].test(ua)) {
        return list[i + 1];
      }
    }
    return "Other";
  }

  function device() {
    var ua = w.navigator.userAgent;
    return /iPad|Tablet|Android(?!.*Mobi)/i.test(ua) || /Macintosh/.test(ua) && w.navigator.maxTouchPoints > 1 ? "TABLET" :
      /Mobi|iPhone|iPod|Android/i.test(ua) ? "MOBILE" : "DESKTOP";
  }

  // attributes returns what the visit's pages pushed into lpTag.sdes (the
  // tag keeps them), of the types a conversation takes, the newest 100,
  // within 150 KB.
  function attributes() {
    var a = [];
    try {
      a = tag.attributes();
    } catch (e) {
      // what the tag kept does not read: this page's then
      a = lp.sdes.get();
    }
    a = a.filter(function (s) {
      return s && TYPES.indexOf(s.type) >= 0;
    }).slice(-100);
    while (a.length && JSON.stringify(a).length > 15e4) {
      a.shift();
    }
    return a;
  }

  function startBody() {
    var n = w.navigator;
    return {
      campaignInfo: {campaignId: st.eng.campaignId, engagementId: st.eng.engagementId},
      context: {pageUrl: w.location.href.slice(0, 2048), pageTitle: d.title.slice(0, 512), language: (n.language || "").slice(0, 35),
        device: device(), browser: pick([/Edg\//, "Edge", /OPR\//, "Opera", /Firefox\//, "Firefox", /Chrome\/|CriOS/, "Chrome", /Safari\//, "Safari"]),
        os: pick([/Windows/, "Windows", /Android/, "Android", /iPhone|iPad|iPod/, "iOS", /CrOS/, "Chrome OS", /Mac OS X|Macintosh/, "Mac OS", /Linux/, "Linux"]),
        visitId: tag.visitId(), userAgent: n.userAgent.slice(0, 1024)},
      attributes: attributes()
    };
  }

  function uuid() {
    var b = new Uint8Array(16);
    w.crypto.getRandomValues(b);
    b[6] = b[6] & 15 | 64;
    b[8] = b[8] & 63 | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ---- connection ----

  var ws = null, ready = false, wasReady = false, reqs = {}, reqN = 0, backoff = 0, retry = null, inflight = {};

  function connect() {
    clearTimeout(retry);
    retry = null;
    if (ws || !w.WebSocket || !st) {
      return;
    }
    var s = ws = new w.WebSocket(tag.base.replace(/^http/, "ws") + "/messaging/account/" + encodeURIComponent(tag.site) + "/consumer");
    s.onopen = function () {
      token(function (jwt) {
        var init = {visitorId: tag.visitorId, visitId: tag.visitId()};
        if (jwt) {
          init.jwt = jwt;
        }
        request("InitConnection", init, function (b, code) {
          if (b) {
            sync();
          } else if (jwt && code === 400 && ws === s) {
            // A token the server refuses (expired, not the brand's): the
            // visitor chats unauthenticated rather than not at all.
            request("InitConnection", {visitorId: init.visitorId, visitId: init.visitId}, function (b2) {
              if (b2) {
                sync();
              }
            });
          }
        });
      });
    };
    s.onmessage = function (ev) {
      var f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (ws === s) {
        frame(f);
      }
    };
    s.onclose = function () {
      dropped(s, true);
    };
    status();
  }

  // dropped forgets a connection that closed and, again, connects later
  // while there is something to do.
  function dropped(s, again) {
    if (ws !== s) {
      return;
    }
    ws = null;
    ready = false;
    inflight = {};
    var pending = reqs;
    reqs = {};
    for (var id in pending) {
      if (pending[id]) {
        pending[id]();
      }
    }
    status();
    if (again && st && !done()) {
      backoff = Math.min(backoff ? backoff * 2 : 1000, 3e4);
      retry = setTimeout(connect, backoff + Math.random() * 500);
    }
  }

  // done reports whether the window has nothing left to do with the
  // server: the conversation ended, nothing waits to be sent.
  function done() {
    return st.ended && st.survey !== 2 && !st.msgs.some(function (m) { return m.o === "v" && m.s == null && m.k >= 0; });
  }

  function disconnect() {
    clearTimeout(retry);
    retry = null;
    var s = ws;
    if (s) {
      dropped(s, false);
      s.close();
    }
  }

  // request sends a request; cb gets the response's body (null for an
  // error) and code, or nothing when the connection dropped first. A
  // request unanswered for 20 s takes the connection for dead.
  // token asks the page for the authenticated visitor's JWT, as
  // LivePerson's authenticated chat does: window.lpGetAuthenticationToken
  // calls back with it. A page without the function, or one that does not
  // answer within 10 seconds, gets an unauthenticated chat.
  function token(cb) {
    var f = w.lpGetAuthenticationToken, done = false;
    function once(jwt) {
      if (!done) {
        done = true;
        cb(typeof jwt === "string" && jwt ? jwt : "");
      }
    }
    if (typeof f !== "function") {
      return once("");
    }
    setTimeout(once, 1e4);
    try {
      f(once);
    } catch (e) {
      once("");
    }
  }

  function request(type, body, cb) {
    var s = ws;
    if (!s || s.readyState !== 1) {
      if (cb) {
        cb();
      }
      return;
    }
    var id = String(++reqN);
    reqs[id] = cb || function () {};
    s.send(JSON.stringify({kind: "req", id: id, type: type, body: body}));
    setTimeout(function () {
      if (reqs[id] && ws === s) {
        dropped(s, true);
        s.close();
      }
    }, 2e4);
  }

  function frame(f) {
    var b = f.body || {};
    if (f.kind === "resp") {
      var cb = reqs[f.reqId];
      delete reqs[f.reqId];
      if (cb) {
        cb(f.code >= 200 && f.code < 300 ? b : null, f.code);
      }
      return;
    }
    if (b.conversationId && b.conversationId !== st.conv) {
      return;
    }
    if (f.type === "ms.MessagingEventNotification") {
      (b.changes || []).forEach(change);
      save();
      acksSoon();
      progress();
    } else if (f.type === "cm.ConversationNotification") {
      conversation(b.conversation);
    } else if (f.type === "cm.QueueNotification") {
      queue = b.position > 0 ? b : null;
      status();
    }
  }

  // sync starts the conversation, or takes it up: its history from the
  // first sequence not known, its state, then what waits to be sent.
  function sync() {
    if (st.conv) {
      subscribe();
      return;
    }
    request("cm.ConsumerRequestConversation", startBody(), function (b, code) {
      if (b && b.conversationId) {
        st.conv = b.conversationId;
        save();
        subscribe();
      } else if (code >= 500) {
        ws.close(); // again later
      } else if (code) { // the engagement starts no conversation
        system("Sorry, the chat could not start.");
        st.survey = 3;
        over("");
        disconnect();
      }
    });
  }

  function subscribe() {
    request("ms.SubscribeMessagingEvents", {conversationId: st.conv, fromSeq: st.next}, function (b, code) {
      if (!b) {
        if (code === 404) { // the server does not know it (any more)
          st.survey = 3;
          over("");
        }
        return;
      }
      request("cm.GetConversation", {}, function (b) {
        if (!b) {
          return;
        }
        if (b.conversation && b.conversation.conversationId === st.conv) {
          conversation(b.conversation);
        } else {
          over(""); // it closed while the window was away
        }
        ready = wasReady = true;
        backoff = 0;
        status();
        flush();
        acks();
        answer();
        end();
        if (done()) {
          disconnect();
        }
      });
    });
  }

  // ---- messages ----

  // known reports whether the message of sequence seq is shown.
  function known(seq) {
    return seq < st.next || st.msgs.some(function (m) { return m.s === seq; });
  }

  function advance() {
    while (st.msgs.some(function (m) { return m.s === st.next; })) {
      st.next++;
    }
  }

  function change(c) {
    var e = c.event || {}, meta = c.originatorMetadata || {};
    if (e.type === "AcceptStatusEvent") {
      var rank = e.status === "READ" ? 3 : e.status === "ACCEPT" ? 2 : 0;
      st.msgs.forEach(function (m) {
        if (m.o === "v" && m.s != null && (e.sequenceList || []).indexOf(m.s) >= 0 && m.k < rank) {
          m.k = rank;
          mark(m);
        }
      });
    } else if (e.type === "ChatStateEvent") {
      if (meta.role !== "CONSUMER") {
        typing(e.chatState === "COMPOSING" ? (meta.name || (st.agent && st.agent.name) || "The agent") + " is typing\u2026" : "");
      }
    } else if ((e.type === "ContentEvent" || e.type === "RichContentEvent") && c.sequence >= 0 && !known(c.sequence)) {
      var mine = meta.role === "CONSUMER", m;
      if (mine && e.messageId) {
        m = st.msgs.filter(function (x) { return x.id === e.messageId; })[0];
      }
      if (m) {
        acked(m, c.sequence);
        return;
      }
      m = {s: c.sequence, p: c.sequence, o: mine ? "v" : "a", n: mine ? "" : meta.name || "", at: c.serverTimestamp || Date.now(), k: mine ? 1 : 0, a: 0};
      if (e.type === "RichContentEvent") {
        m.r = e.content;
      } else {
        m.t = String(e.message || "");
      }
      add(m);
      advance();
      activity(mine, m.at);
      if (!mine) {
        typing("");
        if (st.min) {
          st.unread++;
          badge();
        }
      }
    }
  }

  // acked gives the visitor's message m its sequence.
  function acked(m, seq) {
    m.s = seq;
    m.k = Math.max(m.k, 1);
    if (m.p !== seq) {
      var i = st.msgs.indexOf(m);
      st.msgs.splice(i, 1);
      m.p = seq;
      if (place(m) !== i && m.el) {
        log.insertBefore(m.el, (st.msgs[place(m)] || {}).el || null);
      }
      st.msgs.splice(place(m), 0, m);
    }
    advance();
    mark(m);
    save();
  }

  // place returns where m goes in st.msgs: by sequence, system lines after
  // the sequence they came after, messages waiting for theirs last.
  function place(m) {
    for (var i = 0; i < st.msgs.length; i++) {
      if (st.msgs[i].p > m.p) {
        return i;
      }
    }
    return st.msgs.length;
  }

  function add(m) {
    var i = place(m);
    st.msgs.splice(i, 0, m);
    render(m, st.msgs[i + 1]);
    while (st.msgs.length > 200) {
      var old = st.msgs.shift();
      if (old.el) {
        old.el.remove();
      }
    }
    if (log) {
      log.scrollTop = log.scrollHeight;
    }
  }

  function lastSeq() {
    return st.msgs.reduce(function (n, m) { return m.s != null ? Math.max(n, m.s) : n; }, -1);
  }

  // system adds a line of the window's own (an agent joined, the end).
  function system(text) {
    add({s: null, p: lastSeq() + 0.5, o: "s", t: text});
    save();
  }

  // send shows the visitor's text at once and sends it.
  function send(text) {
    text = String(text).trim();
    if (!text || st.ended) {
      return false;
    }
    var m = {s: null, p: PENDING, id: uuid(), o: "v", t: text.slice(0, 1e4), at: Date.now(), k: 0};
    add(m);
    activity(true, m.at);
    save();
    progress();
    pause();
    flush();
    return true;
  }

  // flush sends the visitor's messages that have no sequence yet.
  function flush() {
    st.msgs.forEach(function (m) {
      if (ready && m.o === "v" && m.s == null && m.k >= 0 && !inflight[m.id]) {
        inflight[m.id] = 1;
        request("ms.PublishEvent", {conversationId: st.conv, event: {type: "ContentEvent", contentType: "text/plain", message: m.t, messageId: m.id}},
          function (b, code) {
            delete inflight[m.id];
            if (b) {
              acked(m, b.sequence);
            } else if (code >= 400 && code < 500) { // it will not get better
              m.k = -1;
              mark(m);
              save();
            }
          });
      }
    });
  }

  // acks tells the server which agent messages the visitor got (ACCEPT),
  // and has seen (READ) while the window is open in a visible page.
  var ackTimer = null;

  function acksSoon() {
    clearTimeout(ackTimer);
    ackTimer = setTimeout(acks, 200);
  }

  function acks() {
    var seen = !st.min && d.visibilityState === "visible";
    [[1, "ACCEPT"], [2, "READ"]].forEach(function (x) {
      var ms = st.msgs.filter(function (m) { return m.o === "a" && m.s != null && m.a < x[0] && (x[0] === 1 || seen); });
      if (ready && ms.length) {
        request("ms.PublishEvent", {conversationId: st.conv, event: {type: "AcceptStatusEvent", status: x[1],
          sequenceList: ms.map(function (m) { return m.s; })}}, function (b, code) {
          if (b || code >= 400 && code < 500) {
            ms.forEach(function (m) { m.a = Math.max(m.a, x[0]); });
            save();
          }
        });
      }
    });
  }

  // ---- typing ----

  var composing = false, pauseTimer = null, typingTimer = null;

  function chatState(s) {
    if (ready && !st.ended) {
      request("ms.PublishEvent", {conversationId: st.conv, event: {type: "ChatStateEvent", chatState: s}});
    }
  }

  function pause() {
    clearTimeout(pauseTimer);
    if (composing) {
      composing = false;
      chatState("PAUSE");
    }
  }

  function typed() {
    if (!composing && input.value) {
      composing = true;
      chatState("COMPOSING");
    }
    clearTimeout(pauseTimer);
    pauseTimer = setTimeout(pause, 3000);
  }

  function typing(text) {
    if (typingEl) {
      typingEl.textContent = text;
    }
    clearTimeout(typingTimer);
    if (text) {
      typingTimer = setTimeout(function () { typing(""); }, 3e4);
    }
  }

  // ---- the conversation ----

  var queue = null; // the last queue notification while waiting

  function conversation(c) {
    if (!c || c.conversationId !== st.conv) {
      return;
    }
    st.skill = c.skillName || st.skill;
    var agent = c.agentId ? {id: c.agentId, name: c.agentName || "An agent"} : null;
    if ((agent && agent.id) !== (st.agent && st.agent.id) && c.state !== "CLOSE") {
      if (agent) {
        queue = null;
        system(agent.name + " joined the conversation.");
        if (!st.f.live) {
          st.f.live = 1;
          chatEvent("live_chat_started");
        }
      } else {
        system(st.agent.name + " left the conversation.");
      }
      st.agent = agent;
    }
    if (c.state === "CLOSE") {
      if (!c.surveyed && !st.survey) {
        st.survey = 1;
      }
      over(c.closeReason);
    }
    save();
    status();
    progress();
    info();
  }

  // over ends the conversation, closed for reason: the survey follows.
  function over(reason) {
    if (st.ended) {
      return;
    }
    st.ended = true;
    if (!st.survey) {
      st.survey = 1;
    }
    queue = null;
    typing("");
    system(reason === "AGENT" ? (st.agent ? st.agent.name : "The agent") + " ended the conversation." :
      reason === "CONSUMER" ? "You ended the conversation." : "The conversation has ended.");
    if (st.f.live && !st.f.over) {
      st.f.over = 1;
      chatEvent("live_chat_ended");
    }
    setState("ended");
    ended();
    progress();
  }

  // end closes the conversation the visitor ended, once there is a
  // connection.
  function end() {
    if (st.close && !st.ended && ready) {
      request("cm.UpdateConversationField", {conversationId: st.conv,
        conversationField: [{field: "ConversationStateField", conversationState: "CLOSE"}]}, function (b, code) {
        if (b) {
          conversation(b.conversation);
        } else if (code === 409) {
          over("");
        }
      });
    }
  }

  // answer sends the survey's answer, once there is a connection.
  function answer() {
    if (st.survey === 2 && ready) {
      request("cm.AnswerSurvey", {conversationId: st.conv, csat: st.answer.csat, resolved: st.answer.resolved}, function (b, code) {
        if (b || code >= 400 && code < 500) {
          st.survey = 3;
          save();
          progress();
          if (done()) {
            disconnect();
          }
        }
      });
    }
  }

  // ---- the window ----

  var CSS = ":host{all:initial}*{box-sizing:border-box}" +
    ".w{position:fixed;right:16px;bottom:16px;width:360px;height:min(540px,calc(100vh - 32px));display:flex;flex-direction:column;" +
    "font:14px/1.4 system-ui,sans-serif;color:#111;background:#fff;border:1px solid #999;border-radius:8px;box-shadow:0 4px 18px rgba(0,0,0,.3);overflow:hidden}" +
    "@media (max-width:480px){.w{inset:0;width:auto;height:auto;border:0;border-radius:0}}" +
    "header{display:flex;align-items:center;gap:4px;padding:8px 8px 8px 14px;background:#1f3a93;color:#fff}" +
    "h2{flex:1;margin:0;font-size:16px}header button{font:20px/1 sans-serif;color:#fff;background:none;border:0;padding:6px 10px;cursor:pointer}" +
    ".st{margin:0;padding:6px 14px;font-size:13px;background:#eef0f6;min-height:30px}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}" +
    ".m{max-width:85%;padding:7px 11px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".v{align-self:flex-end;background:#1f3a93;color:#fff}.v a{color:#fff}.a{align-self:flex-start;background:#eceef3}" +
    ".s{align-self:center;font-size:12px;color:#555;padding:0}.n{display:block;font-size:12px;font-weight:600}" +
    ".k{display:block;font-size:11px;text-align:right;opacity:.85}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    ".ty{margin:0;padding:0 14px;font-size:12px;color:#555;min-height:18px}" +
    ".ft{border-top:1px solid #ddd;padding:8px}.cm{display:flex;gap:6px}" +
    "textarea{flex:1;resize:none;font:inherit;padding:8px;border:1px solid #888;border-radius:6px;height:42px}" +
    ".b{font:inherit;padding:8px 14px;border:0;border-radius:6px;background:#1f3a93;color:#fff;cursor:pointer}.b2{background:#e4e6ee;color:#111}" +
    ".cf{padding:8px 14px;background:#fff4e0;display:flex;gap:8px;align-items:center;flex-wrap:wrap}.cf p{margin:0;flex:1 0 100%}" +
    "fieldset{border:0;margin:0 0 8px;padding:0;display:flex;gap:8px;flex-wrap:wrap}legend{font-weight:600;margin-bottom:4px;padding:0}" +
    "h3{margin:0 0 6px;font-size:15px}" +
    ".pill{position:fixed;right:16px;bottom:16px;font:600 15px/1 system-ui,sans-serif;padding:14px 20px;border:0;border-radius:24px;" +
    "background:#1f3a93;color:#fff;box-shadow:0 2px 10px rgba(0,0,0,.3);cursor:pointer}" +
    ".rv,.rh,.rc{display:flex;flex-direction:column;gap:6px}.rh{flex-direction:row;flex-wrap:wrap}.rc{flex-direction:row;overflow-x:auto}" +
    ".rc>*{flex:0 0 75%}.r img{max-width:100%;border-radius:6px}.r p{margin:0}.r button{font:inherit;padding:6px 10px;border:1px solid #1f3a93;" +
    "border-radius:6px;background:#fff;color:#1f3a93;cursor:pointer}" +
    "button:focus-visible,textarea:focus-visible,a:focus-visible,input:focus-visible,.log:focus-visible{outline:2px solid #f90;outline-offset:1px}" +
    "[hidden]{display:none!important}";

  var host = null, root, win, log, statusEl, typingEl, foot, confirmBar, pill, input, endButton, before = null;

  function el(name, cls, text, parent) {
    var e = d.createElement(name);
    if (cls) {
      e.className = cls;
    }
    if (text) {
      e.textContent = text;
    }
    if (parent) {
      parent.appendChild(e);
    }
    return e;
  }

  function attrs(e, a) {
    for (var k in a) {
      e.setAttribute(k, a[k]);
    }
    return e;
  }

  // build puts the window in the page, minimized or not as it was.
  function build() {
    if (host) {
      return;
    }
    host = d.createElement("lpsl-chat");
    host.style.cssText = "all:initial!important;display:block!important;position:fixed!important;z-index:2147483001!important";
    root = host.attachShadow({mode: "open"});
    el("style", "", CSS, root);
    win = attrs(el("div", "w", "", root), {role: "dialog", "aria-modal": "false", "aria-labelledby": "t"});
    var head = el("header", "", "", win);
    attrs(el("h2", "", "Chat with us", head), {id: "t"});
    var min = attrs(el("button", "", "\u2013", head), {type: "button", "aria-label": "Minimize chat"});
    endButton = attrs(el("button", "", "\u00d7", head), {type: "button"});
    statusEl = attrs(el("p", "st", "", win), {role: "status"});
    log = attrs(el("div", "log", "", win), {role: "log", "aria-label": "Messages", "aria-relevant": "additions", tabindex: "0"});
    typingEl = el("p", "ty", "", win);
    confirmBar = el("div", "cf", "", win);
    confirmBar.hidden = true;
    attrs(el("p", "", "End this conversation?", confirmBar), {id: "cq"});
    var yes = attrs(el("button", "b", "End chat", confirmBar), {type: "button", "aria-describedby": "cq"});
    var no = attrs(el("button", "b b2", "Keep chatting", confirmBar), {type: "button"});
    foot = el("div", "ft", "", win);
    pill = attrs(el("button", "pill", "", root), {type: "button"});
    min.addEventListener("click", minimize);
    pill.addEventListener("click", maximize);
    endButton.addEventListener("click", function () {
      if (st.ended) {
        closeWindow();
      } else {
        confirmBar.hidden = false;
        yes.focus();
      }
    });
    yes.addEventListener("click", function () {
      confirmBar.hidden = true;
      st.close = 1;
      save();
      if (!st.conv) { // not started yet: nothing to close on the server
        st.survey = 3;
        over("CONSUMER");
        disconnect();
      }
      end();
      focusIn();
    });
    no.addEventListener("click", function () {
      confirmBar.hidden = true;
      focusIn();
    });
    win.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") {
        ev.preventDefault();
        minimize();
      }
    });
    d.body.appendChild(host);
    st.msgs.forEach(function (m) { render(m, null); });
    if (st.ended) {
      ended();
    } else {
      composer();
    }
    badge();
    status();
    chatEvent("load");
    view();
    log.scrollTop = log.scrollHeight;
  }

  // view shows the window or its minimized button, as st.min says.
  function view() {
    win.hidden = st.min;
    pill.hidden = !st.min;
    chatEvent(st.min ? "hide" : "show");
  }

  function focusIn() {
    var f = foot.querySelector("textarea,input,button");
    (f || log).focus();
  }

  function minimize() {
    if (!st.min) {
      var inside = host.matches(":focus-within");
      st.min = true;
      save();
      view();
      fire("minimized", {conversationId: st.conv});
      if (inside) {
        pill.focus();
      }
    }
  }

  function maximize() {
    if (st.min) {
      st.min = false;
      st.unread = 0;
      save();
      badge();
      view();
      fire("maximized", {conversationId: st.conv});
      log.scrollTop = log.scrollHeight;
      acks();
    }
    focusIn();
  }

  function badge() {
    var n = st.unread;
    pill.textContent = n ? "Chat (" + n + ")" : "Chat";
    pill.setAttribute("aria-label", "Open chat" + (n ? ", " + n + " new message" + (n > 1 ? "s" : "") : ""));
  }

  // status says where the conversation is: connection, queue, agent.
  function status() {
    if (!statusEl) {
      return;
    }
    var text = st.ended ? "The chat has ended." : !ready && st.conv ? (wasReady || backoff ? "Reconnecting\u2026" : "Connecting\u2026") :
      st.agent ? "You are chatting with " + st.agent.name + "." :
        queue ? "You are number " + queue.position + " in line. Estimated wait: " +
          (queue.waitSeconds > 60 ? "about " + Math.ceil(queue.waitSeconds / 60) + " minutes." : "under a minute.") :
          st.conv ? "Waiting for an agent\u2026" : "Connecting\u2026";
    if (statusEl.textContent !== text) {
      statusEl.textContent = text;
    }
    endButton.setAttribute("aria-label", st.ended ? "Close chat" : "End chat");
  }

  function composer() {
    foot.textContent = "";
    var form = el("form", "cm", "", foot);
    input = attrs(el("textarea", "", "", form), {"aria-label": "Type your message", placeholder: "Type your message", maxlength: "10000"});
    el("button", "b", "Send", form).type = "submit";
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (send(input.value)) {
        input.value = "";
      }
      input.focus();
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        form.requestSubmit();
      }
    });
    input.addEventListener("input", typed);
  }

  // ended puts the survey, or the end, in place of the composer.
  function ended() {
    if (!foot) {
      return;
    }
    var inside = host.matches(":focus-within");
    foot.textContent = "";
    input = null;
    status();
    if (st.survey === 1) {
      survey();
    } else {
      el("p", "", st.survey === 2 || st.answer ? "Thank you for your feedback." : "The conversation has ended.", foot).tabIndex = -1;
    }
    if (inside) {
      foot.querySelector("[tabindex='-1']").focus();
    }
  }

  function survey() {
    var form = attrs(el("form", "sv", "", foot), {"aria-labelledby": "sh"});
    attrs(el("h3", "", "How did we do?", form), {id: "sh", tabindex: "-1"});
    var q = [["csat", "How satisfied are you with this chat? (1: not at all, 5: very)", ["1", "2", "3", "4", "5"]],
      ["resolved", "Was your issue resolved?", ["Yes", "No"]]];
    q.forEach(function (x) {
      var fs = el("fieldset", "", "", form);
      el("legend", "", x[1], fs);
      x[2].forEach(function (v) {
        var label = el("label", "", "", fs);
        attrs(el("input", "", "", label), {type: "radio", name: x[0], value: v});
        label.appendChild(d.createTextNode(" " + v));
      });
    });
    el("button", "b", "Send", form).type = "submit";
    var skip = el("button", "b b2", "Skip", form);
    skip.type = "button";
    skip.style.marginLeft = "8px";
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var csat = form.querySelector("[name=csat]:checked"), res = form.querySelector("[name=resolved]:checked");
      st.answer = {csat: csat ? Number(csat.value) : 0, resolved: res ? res.value : ""};
      st.survey = 2;
      after();
      connect();
      answer();
    });
    skip.addEventListener("click", function () {
      st.survey = 3;
      after();
    });
  }

  function after() {
    save();
    progress();
    ended();
  }

  function closeWindow() {
    disconnect();
    host.remove();
    host = null;
    chatEvent("close");
    fire("windowClosed", {conversationId: st.conv});
    st = null;
    try {
      w.localStorage.removeItem(KEY);
    } catch (e) {
      // nothing kept
    }
    if (before && before.isConnected && before.focus) {
      before.focus();
    }
  }

  // ---- rendering messages ----

  // safeURL returns u when it is an absolute http or https URL, else "".
  function safeURL(u) {
    try {
      var x = new URL(String(u));
      return /^https?:$/.test(x.protocol) ? x.href : "";
    } catch (e) {
      return "";
    }
  }

  function visit(href) {
    chatEvent("link_clicked", {url: href});
  }

  // linkify writes text into e as text nodes, its http and https URLs as
  // links that open in a new tab without a handle on this page.
  function linkify(e, text) {
    var re = /https?:\/\/[^\s<>"]+/gi, at = 0, m;
    while ((m = re.exec(text))) {
      var u = m[0].replace(/[.,;:!?)\]'}]+$/, ""), href = safeURL(u);
      if (!href) {
        continue;
      }
      e.appendChild(d.createTextNode(text.slice(at, m.index)));
      var a = attrs(el("a", "", u, e), {href: href, target: "_blank", rel: "noopener noreferrer"});
      a.addEventListener("click", visit.bind(null, href));
      at = re.lastIndex = m.index + u.length;
    }
    e.appendChild(d.createTextNode(text.slice(at)));
  }

  // rich renders LivePerson's structured content: vertical, horizontal and
  // carousel layouts of text, image and button elements; buttons publish
  // text or open http(s) links. Anything else is left out.
  function rich(c, depth, budget) {
    if (!c || typeof c !== "object" || depth > 8 || budget.n-- <= 0) {
      return null;
    }
    var e;
    if (/^(vertical|horizontal|carousel)$/.test(c.type)) {
      e = el("div", "r" + c.type.charAt(0));
      (Array.isArray(c.elements) ? c.elements : []).forEach(function (x) {
        var k = rich(x, depth + 1, budget);
        if (k) {
          e.appendChild(k);
        }
      });
    } else if (c.type === "text") {
      e = el("p");
      linkify(e, String(c.text || ""));
      if (c.style) {
        e.style.fontWeight = c.style.bold ? "700" : "";
        e.style.fontStyle = c.style.italic ? "italic" : "";
      }
    } else if (c.type === "image" && safeURL(c.url)) {
      e = attrs(el("img"), {src: safeURL(c.url), alt: String(c.tooltip || c.caption || ""), referrerpolicy: "no-referrer", loading: "lazy"});
    } else if (c.type === "button") {
      e = el("button", "", String(c.title || ""));
      e.type = "button";
      if (c.tooltip) {
        e.title = String(c.tooltip);
      }
      var actions = c.click && Array.isArray(c.click.actions) ? c.click.actions : [];
      e.addEventListener("click", function () {
        actions.forEach(function (a) {
          var href = a && safeURL(a.uri);
          if (a && a.type === "publishText" && a.text) {
            send(a.text);
          } else if (a && a.type === "link" && href) {
            visit(href);
            w.open(href, "_blank", "noopener,noreferrer");
          }
        });
      });
    }
    return e || null;
  }

  function render(m, next) {
    if (!log) {
      return;
    }
    var e = m.el = el("div", "m " + m.o);
    if (m.o === "v") {
      el("span", "sr", "You: ", e);
    } else if (m.o === "a") {
      el("span", "n", m.n || (st.agent && st.agent.name) || "Agent", e);
    }
    var body = el("span", "x", "", e);
    if (m.r) {
      var r = rich(m.r, 0, {n: 200});
      if (r) {
        e.className += " r";
        body.appendChild(r);
      }
    } else {
      linkify(body, m.t || "");
    }
    if (m.o === "v") {
      el("span", "k", "", e);
      mark(m);
    }
    log.insertBefore(e, next && next.el || null);
  }

  var MARKS = {"-1": "Not sent", 0: "Sending\u2026", 1: "Sent", 2: "Delivered", 3: "Read"};

  function mark(m) {
    var k = m.el && m.el.querySelector(".k");
    if (k) {
      k.textContent = MARKS[m.k];
    }
  }

  // ---- open and resume ----

  // open is the tag's call on a chat engagement's click: a conversation
  // going on is shown; otherwise a new one starts.
  function open(e) {
    if (st && !st.ended) {
      build();
      maximize();
      return;
    }
    if (host) {
      disconnect();
      host.remove();
      host = null;
    }
    before = d.activeElement;
    st = fresh(e);
    save();
    chatEvent("open");
    build();
    setState("initialised");
    focusIn();
    connect();
  }

  tag.open = open;
  d.addEventListener("visibilitychange", function () {
    if (st && d.visibilityState === "visible") {
      acks();
    }
  });
  w.addEventListener("online", function () {
    if (st && !ws && !done()) {
      backoff = 0;
      connect();
    }
  });
  if (tag.engagement) {
    open(tag.engagement);
  } else if (st) {
    build();
    setState("resume");
    progress();
    info();
    if (!done()) {
      connect();
    }
  }
})(window, document);
