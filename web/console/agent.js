// The agent workspace: an agent of an account signs in and serves
// conversations, speaking LivePerson's agent protocol as the Messaging
// Agent SDK does (internal/messaging/lpagent):
//
//   POST /api/account/{id}/login?v=1.3      sign in: bearer and csrf kept in sessionStorage
//   POST /api/account/{id}/refresh?v=1.3    every 10 minutes, with the bearer (the SDK's interval)
//   POST /api/account/{id}/logout           sign out
//   GET  /ws_api/account/{id}/messaging/brand/{bearer}?v=2.1   the socket:
//     .ams.routing.SetAgentState            the availability selector (sent again on every connection)
//     .ams.aam.SubscribeExConversations     the account's open conversations: the queues (per skill,
//                                           no assigned agent) and "My conversations" (a participant)
//     .ams.routing.SubscribeRoutingTasks    rings, answered with .ams.routing.UpdateRingState
//     .ams.ms.QueryMessages                 a conversation's messages from a sequence on, then its
//                                           events (.ams.ms.OnlineEventDistribution)
//     .ams.ms.PublishEvent                  replies, typing (ChatStateEvent), READ of the visitor's messages
//     .ams.cm.UpdateConversationField       transfer to a skill, close
//   GET  /api/account/{id}/agent/skills, .../agent/conversations/{c}/journey   with the bearer
//
// Messages are kept by sequence: a reconnect subscribes again and asks
// each followed conversation from the first sequence it may lack (the
// first of the agent's messages not yet read, or the one after the last
// shown), and what comes twice is shown once. A socket closed with 4401
// (session over) signs out; any other close reconnects with backoff
// (1 s doubling to 30 s), checking the session once the first retry fails.
(function () {
  "use strict";
  var d = document;
  var $ = function (id) { return d.getElementById(id); };
  var KEY = "lpsl_agent";
  var REFRESH_EVERY = 10 * 60 * 1000;
  var REQUEST_TIMEOUT = 15000;
  var MAX_HISTORY = 1000;

  var auth = loadAuth();
  var ws = null, wsOpen = false, nextId = 1, pending = {}, failures = 0, retryTimer = 0, refreshTimer = 0;
  var convs = {};   // open conversations by id: {id, skillId, skillName, consumerId, mine, waiting, lastSeq, startTs}
  var rings = {};   // rings waiting, by ring id: {ringId, convId, skillId, until}
  var dialogs = {}; // what is known of conversations' messages, by id
  var selected = null, skills = [], journeyTimer = 0, composing = false, pauseTimer = 0;
  var focusWhenMine = null; // the conversation just accepted: its reply box takes the focus once it is the agent's

  // ---- storage ----

  function loadAuth() {
    try { return JSON.parse(sessionStorage.getItem(KEY)); } catch (e) { return null; }
  }

  function saveAuth() {
    if (auth) { sessionStorage.setItem(KEY, JSON.stringify(auth)); } else { sessionStorage.removeItem(KEY); }
  }

  function myOldId() { return auth.account + "." + auth.userId; }

  function api(path) { return "/api/account/" + encodeURIComponent(auth.account) + path; }

  // ---- announcements ----

  function announce(text, urgent) {
    var el = $(urgent ? "alert" : "announce");
    if (urgent) { el.textContent = ""; }
    var p = d.createElement("p");
    p.textContent = text;
    el.appendChild(p);
    while (el.childNodes.length > 5) { el.removeChild(el.firstChild); }
  }

  // ---- signing in and out ----

  function showSignIn(message) {
    $("workspace").hidden = true;
    $("signin").hidden = false;
    var params = new URLSearchParams(location.search);
    var acct = $("si-account");
    if (!acct.value) { acct.value = params.get("account") || localStorage.getItem(KEY + "_account") || ""; }
    $("si-error").textContent = message || "";
    (acct.value ? $("si-login") : acct).focus();
  }

  $("signin-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var acct = $("si-account").value.trim(), login = $("si-login").value.trim(), pw = $("si-password").value;
    if (!acct || !login || !pw) {
      $("si-error").textContent = "Account, login and password are required.";
      return;
    }
    $("si-submit").disabled = true;
    $("si-error").textContent = "";
    fetch("/api/account/" + encodeURIComponent(acct) + "/login?v=1.3", {
      method: "POST", headers: {"Content-Type": "application/json"}, credentials: "same-origin",
      body: JSON.stringify({username: login, password: pw})
    }).then(function (r) {
      return r.json().catch(function () { return {error: "The server answered " + r.status + "."}; });
    }).then(function (b) {
      if (b.error || !b.bearer || !b.config || !b.config.userId) {
        throw new Error(b.error || "The server did not sign you in.");
      }
      auth = {account: acct, login: login, bearer: b.bearer, csrf: b.csrf, userId: b.config.userId, userPid: b.config.userPid,
        name: b.config.loginName || login, availability: "OFFLINE"};
      saveAuth();
      localStorage.setItem(KEY + "_account", acct);
      $("si-password").value = "";
      startWorkspace();
    }).catch(function (e) {
      $("si-error").textContent = e.message === "Failed to fetch" ? "The server cannot be reached." : e.message;
      $("si-password").focus();
    }).finally(function () {
      $("si-submit").disabled = false;
    });
  });

  $("signout").addEventListener("click", function () {
    var a = auth;
    fetch(api("/logout"), {method: "POST", headers: {"Content-Type": "application/json", "Authorization": "Bearer " + a.bearer},
      credentials: "same-origin", body: JSON.stringify({csrf: a.csrf})}).catch(function () {});
    signOut("You signed out.");
  });

  function signOut(message) {
    auth = null;
    saveAuth();
    clearTimeout(retryTimer);
    clearInterval(refreshTimer);
    if (ws) {
      var old = ws;
      ws = null;
      old.close(1000, "signed out");
    }
    wsOpen = false;
    convs = {};
    rings = {};
    dialogs = {};
    selected = null;
    showSignIn(message);
  }

  // refresh extends the session; it reports false once the session is
  // over (and signs out), true otherwise (a network failure included).
  function refresh() {
    if (!auth) { return Promise.resolve(false); }
    return fetch(api("/refresh?v=1.3"), {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Authorization": "Bearer " + auth.bearer}, body: JSON.stringify({csrf: auth.csrf})
    }).then(function (r) {
      if (r.status === 401) {
        signOut("Your session has ended. Sign in again.");
        return false;
      }
      return true;
    }, function () { return true; });
  }

  function startWorkspace() {
    $("signin").hidden = true;
    $("workspace").hidden = false;
    $("me").textContent = auth.name;
    $("me-account").textContent = "account " + auth.account;
    $("availability").value = auth.availability || "OFFLINE";
    clearInterval(refreshTimer);
    refreshTimer = setInterval(refresh, REFRESH_EVERY);
    render();
    connect();
    $("availability").focus();
  }

  // ---- the socket ----

  function setConn(text, up) {
    var c = $("conn");
    c.textContent = text;
    c.classList.toggle("up", !!up);
  }

  function connect() {
    if (!auth) { return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var sock = new WebSocket(scheme + location.host + "/ws_api/account/" + encodeURIComponent(auth.account) + "/messaging/brand/" +
      auth.bearer + "?v=2.1");
    ws = sock;
    setConn(failures ? "Reconnecting…" : "Connecting…");
    sock.onopen = function () {
      if (ws !== sock) { return; }
      wsOpen = true;
      failures = 0;
      setConn("Connected", true);
      opened();
    };
    sock.onmessage = function (ev) {
      if (ws !== sock) { return; }
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.kind === "resp") {
        answered(f);
      } else if (f.kind === "notification") {
        notified(f);
      }
    };
    sock.onclose = function (ev) {
      if (ws !== sock) { return; }
      ws = null;
      wsOpen = false;
      Object.keys(pending).forEach(function (id) {
        clearTimeout(pending[id].timer);
        pending[id].reject(new Error("the connection closed"));
      });
      pending = {};
      if (ev.code === 4401) {
        signOut("Your session has ended. Sign in again.");
        return;
      }
      failures++;
      var delay = Math.min(30000, 1000 * Math.pow(2, failures - 1));
      setConn("Reconnecting…");
      clearTimeout(retryTimer);
      retryTimer = setTimeout(function () {
        // After a failed retry, make sure the session is still good: a
        // refused socket tells the page nothing.
        (failures > 1 ? refresh() : Promise.resolve(true)).then(function (ok) {
          if (ok && auth && !ws) { connect(); }
        });
      }, delay);
    };
  }

  function request(type, body) {
    return new Promise(function (resolve, reject) {
      if (!ws || !wsOpen) {
        reject(new Error("not connected"));
        return;
      }
      var id = "c" + nextId++;
      var timer = setTimeout(function () {
        delete pending[id];
        reject(new Error("no answer in time"));
      }, REQUEST_TIMEOUT);
      pending[id] = {resolve: resolve, reject: reject, timer: timer};
      ws.send(JSON.stringify({kind: "req", id: id, type: type, body: body}));
    });
  }

  function answered(f) {
    var p = pending[f.reqId];
    if (!p) { return; }
    delete pending[f.reqId];
    clearTimeout(p.timer);
    if (f.code > 399) {
      p.reject(new Error((f.body && f.body.msg) || "error " + f.code));
    } else {
      p.resolve(f.body);
    }
  }

  // opened sets the agent's state and subscribes: the server keeps no
  // subscription across sockets.
  function opened() {
    convs = {};
    rings = {};
    Object.keys(dialogs).forEach(function (id) { dialogs[id].followed = false; });
    render();
    request(".ams.routing.SetAgentState", {availability: auth.availability || "OFFLINE"}).catch(function (e) {
      announce("Your availability was not set: " + e.message, true);
    });
    request(".ams.aam.SubscribeExConversations", {convState: ["OPEN"]}).catch(function (e) {
      setConn("Cannot list conversations: " + e.message);
    });
    request(".ams.routing.SubscribeRoutingTasks", {}).catch(function () {});
    if (selected) { follow(selected); }
    loadSkills();
  }

  function notified(f) {
    var b = f.body || {};
    switch (f.type) {
    case ".ams.aam.ExConversationChangeNotification":
      (b.changes || []).forEach(conversationChanged);
      render();
      break;
    case ".ams.routing.RoutingTaskNotification":
      (b.changes || []).forEach(taskChanged);
      renderRings();
      break;
    case ".ams.ms.OnlineEventDistribution":
      eventOf(b, true);
      break;
    }
  }

  // ---- conversations ----

  function conversationChanged(ch) {
    var r = ch.result || {}, det = r.conversationDetails || {}, id = r.convId;
    if (!id) { return; }
    if (ch.type === "DELETE" || det.state === "CLOSE") {
      ended(id);
      return;
    }
    var parts = det.participants || {}, me = myOldId(), mine = false;
    Object.keys(parts).forEach(function (role) {
      if (role !== "CONSUMER" && (parts[role] || []).indexOf(me) >= 0) { mine = true; }
    });
    var last = r.lastContentEventNotification;
    var was = convs[id];
    convs[id] = {id: id, skillId: String(det.skillId), skillName: det.skillName || skillName(det.skillId),
      consumerId: (parts.CONSUMER || [])[0] || "", mine: mine, waiting: !(parts.ASSIGNED_AGENT || []).length,
      lastSeq: last && typeof last.sequence === "number" ? last.sequence : -1, startTs: det.startTs || 0};
    if (mine && (!was || !was.mine || !dialogOf(id).followed)) {
      follow(id);
    }
    if (id === selected) {
      if (was && was.mine && !mine && !dialogOf(id).leaving) { system(id, "You are no longer in this conversation."); }
      renderConversation();
      scheduleJourney();
      if (mine && focusWhenMine === id) {
        focusWhenMine = null;
        $("reply").focus();
      }
    }
  }

  function ended(id) {
    var c = convs[id];
    delete convs[id];
    Object.keys(rings).forEach(function (r) { if (rings[r].convId === id) { delete rings[r]; } });
    if (id === selected) {
      system(id, "The conversation ended.");
      renderConversation();
    } else if (c && c.mine) {
      announce("A conversation ended.");
    }
    renderRings();
  }

  function dialogOf(id) {
    var g = dialogs[id];
    if (!g) {
      g = dialogs[id] = {msgs: {}, maxSeq: -1, readByMe: {}, delivered: {}, read: {}, followed: false, typing: false,
        pendingOut: [], system: [], typingTimer: 0};
    }
    return g;
  }

  // follow asks for a conversation's messages from the first one it may
  // lack, and its events from then on.
  function follow(id) {
    var g = dialogOf(id), from = g.maxSeq + 1;
    Object.keys(g.msgs).forEach(function (s) {
      var m = g.msgs[s];
      if (!m.consumer && !g.read[s] && m.seq < from) { from = m.seq; }
    });
    var c = convs[id];
    if (g.maxSeq < 0 && c && c.lastSeq >= MAX_HISTORY) { from = c.lastSeq - MAX_HISTORY + 1; }
    g.followed = true;
    request(".ams.ms.QueryMessages", {dialogId: id, newerThanSequence: from, maxQuantity: MAX_HISTORY}).then(function (events) {
      (events || []).forEach(function (e) { eventOf(e, false); });
      if (id === selected) { renderLog(); markRead(); }
      renderLists();
    }, function (e) {
      g.followed = false;
      if (id === selected) { system(id, "The messages could not be loaded: " + e.message); renderLog(); }
    });
  }

  // eventOf takes a messaging event, from the history (live false) or as
  // it happens.
  function eventOf(e, live) {
    var id = e.dialogId || e.conversationId;
    if (!id || !e.event) { return; }
    var g = dialogOf(id), ev = e.event, meta = e.originatorMetadata || {};
    var consumer = meta.role === "CONSUMER", me = e.originatorId === myOldId();
    switch (ev.type) {
    case "ContentEvent":
    case "RichContentEvent":
      if (typeof e.sequence !== "number" || g.msgs[e.sequence]) { return; }
      g.msgs[e.sequence] = {seq: e.sequence, consumer: consumer, me: me, name: meta.name || "", time: e.serverTimestamp,
        text: ev.type === "ContentEvent" ? String(ev.message) : richText(ev.content)};
      g.maxSeq = Math.max(g.maxSeq, e.sequence);
      if (consumer) {
        g.typing = false;
        if (live && convs[id] && convs[id].mine) { announce("Visitor: " + g.msgs[e.sequence].text); }
      }
      break;
    case "AcceptStatusEvent":
      (ev.sequenceList || []).forEach(function (s) {
        if (consumer && ev.status === "READ") { g.read[s] = true; }
        if (consumer && ev.status === "ACCEPT") { g.delivered[s] = true; }
        if (me && ev.status === "READ") { g.readByMe[s] = true; }
      });
      break;
    case "ChatStateEvent":
      if (!consumer) { return; }
      g.typing = ev.chatState === "COMPOSING";
      clearTimeout(g.typingTimer);
      if (g.typing) {
        g.typingTimer = setTimeout(function () { g.typing = false; if (id === selected) { renderTyping(); } }, 30000);
      }
      if (id === selected) { renderTyping(); }
      return;
    default:
      return;
    }
    if (!live) { return; }
    if (id === selected) {
      renderLog();
      markRead();
    }
    renderLists();
  }

  // richText is what structured content says, as text.
  function richText(c) {
    var out = [];
    (function walk(x) {
      if (!x || typeof x !== "object") { return; }
      if (typeof x.text === "string") { out.push(x.text); }
      if (typeof x.title === "string") { out.push("[" + x.title + "]"); }
      (x.elements || []).forEach(walk);
    })(c);
    return out.join(" ") || "(structured content)";
  }

  function system(id, text) {
    dialogOf(id).system.push({after: dialogOf(id).maxSeq, text: text});
  }

  function unread(id) {
    var g = dialogs[id], n = 0;
    if (!g) { return 0; }
    Object.keys(g.msgs).forEach(function (s) { if (g.msgs[s].consumer && !g.readByMe[s]) { n++; } });
    return n;
  }

  // markRead sends READ for the visitor's messages of the selected
  // conversation once they are shown to the agent.
  function markRead() {
    var c = convs[selected];
    if (!c || !c.mine || d.visibilityState !== "visible" || !wsOpen) { return; }
    var g = dialogOf(selected), seqs = [];
    Object.keys(g.msgs).forEach(function (s) {
      if (g.msgs[s].consumer && !g.readByMe[s] && !g.msgs[s].reading) { seqs.push(Number(s)); }
    });
    if (!seqs.length) { return; }
    seqs.forEach(function (s) { g.msgs[s].reading = true; });
    var id = selected;
    request(".ams.ms.PublishEvent", {dialogId: id, event: {type: "AcceptStatusEvent", status: "READ", sequenceList: seqs}}).then(function () {
      seqs.forEach(function (s) { g.readByMe[s] = true; });
      renderLists();
    }, function () {
      seqs.forEach(function (s) { g.msgs[s].reading = false; });
    });
  }

  d.addEventListener("visibilitychange", markRead);

  // ---- rings ----

  function taskChanged(ch) {
    var t = ch.result || {};
    (t.ringsDetails || []).forEach(function (r) {
      if (r.ringState === "WAITING") {
        if (!rings[r.ringId]) {
          announce("Incoming conversation" + (skillName(t.skillId) ? " for " + skillName(t.skillId) : "") + ".", true);
        }
        rings[r.ringId] = {ringId: r.ringId, convId: t.conversationId, skillId: String(t.skillId), until: r.ringExpirationTs};
      } else {
        delete rings[r.ringId];
      }
    });
  }

  function answerRing(ringId, accept) {
    var r = rings[ringId];
    if (!r) { return; }
    delete rings[ringId];
    renderRings();
    request(".ams.routing.UpdateRingState", {ringId: ringId, ringState: accept ? "ACCEPTED" : "REJECTED"}).then(function () {
      if (accept) {
        focusWhenMine = r.convId;
        select(r.convId);
        if (convs[r.convId] && convs[r.convId].mine) {
          focusWhenMine = null;
          $("reply").focus();
        }
      }
    }, function (e) {
      announce("The conversation was not " + (accept ? "accepted" : "declined") + ": " + e.message, true);
    });
  }

  // ---- the selected conversation ----

  function select(id) {
    if (selected !== id) {
      stopComposing();
      selected = id;
      $("reply").value = "";
      $("send-error").textContent = "";
      $("action-error").textContent = "";
      hideCloseConfirm();
    }
    var g = dialogOf(id);
    if (!g.followed && wsOpen) { follow(id); }
    render();
    markRead();
    loadJourney();
  }

  function visitorName(c) {
    return "Visitor " + (c.consumerId || "").slice(0, 6);
  }

  $("composer").addEventListener("submit", function (ev) {
    ev.preventDefault();
    send();
  });

  $("reply").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      send();
    }
  });
  // A keypress of that Enter (which some input methods send even so)
  // puts no line break in the emptied box.
  $("reply").addEventListener("keypress", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); }
  });

  $("reply").addEventListener("input", function () {
    var c = convs[selected];
    if (!c || !c.mine) { return; }
    if (!composing && $("reply").value) {
      composing = true;
      chatState("COMPOSING");
    }
    clearTimeout(pauseTimer);
    pauseTimer = setTimeout(stopComposing, 3000);
  });

  $("reply").addEventListener("blur", stopComposing);

  function stopComposing() {
    clearTimeout(pauseTimer);
    if (composing) {
      composing = false;
      chatState("PAUSE");
    }
  }

  function chatState(state) {
    if (!selected || !wsOpen) { return; }
    request(".ams.ms.PublishEvent", {dialogId: selected, event: {type: "ChatStateEvent", chatState: state}}).catch(function () {});
  }

  function send() {
    var text = $("reply").value.trim(), id = selected, c = convs[id];
    if (!text || !c || !c.mine) { return; }
    stopComposing();
    $("reply").value = "";
    $("send-error").textContent = "";
    var g = dialogOf(id), out = {text: text};
    g.pendingOut.push(out);
    renderLog();
    request(".ams.ms.PublishEvent", {dialogId: id, event: {type: "ContentEvent", contentType: "text/plain", message: text}}).then(function (b) {
      g.pendingOut.splice(g.pendingOut.indexOf(out), 1);
      if (b && typeof b.sequence === "number" && !g.msgs[b.sequence]) {
        g.msgs[b.sequence] = {seq: b.sequence, consumer: false, me: true, name: auth.name, time: Date.now(), text: text};
        g.maxSeq = Math.max(g.maxSeq, b.sequence);
      }
      if (id === selected) { renderLog(); }
    }, function (e) {
      g.pendingOut.splice(g.pendingOut.indexOf(out), 1);
      if (id === selected) {
        renderLog();
        $("send-error").textContent = "Not sent: " + e.message + ".";
        if (!$("reply").value) { $("reply").value = text; }
      }
    });
  }

  $("transfer").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var id = selected, opt = $("transfer-skill").selectedOptions[0];
    if (!id || !opt) { return; }
    var skill = opt.dataset.id !== "-1" ? opt.dataset.id : opt.value, name = opt.value;
    $("action-error").textContent = "";
    var g = dialogOf(id);
    g.leaving = true;
    request(".ams.cm.UpdateConversationField", {conversationId: id, conversationField: [
      {field: "ParticipantsChange", type: "REMOVE", role: "ASSIGNED_AGENT"},
      {field: "Skill", type: "UPDATE", skill: skill}
    ]}).then(function () {
      system(id, "You transferred the conversation to " + name + ".");
      announce("Transferred to " + name + ".");
      renderConversation();
    }, function (e) {
      g.leaving = false;
      $("action-error").textContent = "Not transferred: " + e.message + ".";
    });
  });

  $("close").addEventListener("click", function () {
    $("close").hidden = true;
    $("close-confirm").hidden = false;
    $("close-no").focus();
  });

  $("close-no").addEventListener("click", function () {
    hideCloseConfirm();
    $("close").focus();
  });

  function hideCloseConfirm() {
    $("close").hidden = false;
    $("close-confirm").hidden = true;
  }

  $("close-yes").addEventListener("click", function () {
    var id = selected;
    hideCloseConfirm();
    $("action-error").textContent = "";
    request(".ams.cm.UpdateConversationField", {conversationId: id, conversationField: [
      {field: "ConversationStateField", conversationState: "CLOSE"}
    ]}).then(function () {
      announce("The conversation is closed.");
    }, function (e) {
      $("action-error").textContent = "Not closed: " + e.message + ".";
    });
  });

  $("availability").addEventListener("change", function () {
    auth.availability = $("availability").value;
    saveAuth();
    request(".ams.routing.SetAgentState", {availability: auth.availability}).then(function () {
      announce("You are " + $("availability").selectedOptions[0].textContent + ".");
    }, function (e) {
      announce("Your availability was not set: " + e.message + ". It is set when the connection is back.", true);
    });
  });

  // ---- skills and journeys ----

  function authorized(path) {
    return fetch(api(path), {headers: {"Authorization": "Bearer " + auth.bearer}, credentials: "same-origin"}).then(function (r) {
      if (r.status === 401) {
        return refresh().then(function (ok) { throw new Error(ok ? "the server refused it" : "not signed in"); });
      }
      if (!r.ok) { throw new Error("the server answered " + r.status); }
      return r.json();
    });
  }

  function loadSkills() {
    authorized("/agent/skills").then(function (list) {
      skills = list || [];
      render();
    }, function () {});
  }

  function skillName(id) {
    for (var i = 0; i < skills.length; i++) {
      if (String(skills[i].id) === String(id)) { return skills[i].name; }
    }
    return "";
  }

  function scheduleJourney() {
    clearTimeout(journeyTimer);
    journeyTimer = setTimeout(loadJourney, 1000);
  }

  function loadJourney() {
    clearTimeout(journeyTimer);
    var id = selected;
    if (!id || !auth) { return; }
    authorized("/agent/conversations/" + encodeURIComponent(id) + "/journey").then(function (j) {
      if (id === selected) { renderJourney(j); }
    }, function (e) {
      if (id === selected) {
        $("journey-body").textContent = "";
        $("journey-empty").hidden = false;
        $("journey-empty").textContent = "The journey could not be loaded: " + e.message + ".";
      }
    });
  }

  // ---- rendering ----

  function el(tag, cls, text) {
    var e = d.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function render() {
    renderRings();
    renderLists();
    renderConversation();
  }

  function renderRings() {
    var ul = $("ring-list"), ids = Object.keys(rings);
    ul.textContent = "";
    $("rings").hidden = !ids.length;
    ids.forEach(function (rid) {
      var r = rings[rid], li = el("li", "ring");
      li.setAttribute("aria-label", "Incoming conversation");
      li.appendChild(el("p", null, "Incoming conversation" + (skillName(r.skillId) ? " · " + skillName(r.skillId) : "")));
      var b = el("p", "buttons");
      var yes = el("button", "primary", "Accept"), no = el("button", null, "Decline");
      yes.type = no.type = "button";
      yes.addEventListener("click", function () { answerRing(rid, true); });
      no.addEventListener("click", function () { answerRing(rid, false); });
      b.appendChild(yes);
      b.appendChild(no);
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  function pick(c) {
    var li = el("li"), b = el("button", "pick");
    b.type = "button";
    b.dataset.conv = c.id;
    b.setAttribute("aria-current", c.id === selected ? "true" : "false");
    b.appendChild(el("span", "name", visitorName(c)));
    var n = c.mine ? unread(c.id) : 0;
    var badge = el("span", "badge", n ? String(n) : "");
    if (n) { badge.setAttribute("aria-label", n + " unread"); }
    b.appendChild(badge);
    b.addEventListener("click", function () { select(c.id); });
    li.appendChild(b);
    return li;
  }

  function sortedConvs(filter) {
    return Object.keys(convs).map(function (k) { return convs[k]; }).filter(filter).sort(function (a, b) {
      return a.startTs - b.startTs || (a.id < b.id ? -1 : 1);
    });
  }

  function renderLists() {
    var focusedConv = d.activeElement && d.activeElement.dataset ? d.activeElement.dataset.conv : null;
    var mine = $("mine");
    mine.textContent = "";
    var my = sortedConvs(function (c) { return c.mine; });
    my.forEach(function (c) { mine.appendChild(pick(c)); });
    $("mine-empty").hidden = my.length > 0;

    var q = $("queues"), bySkill = {}, names = [];
    q.textContent = "";
    sortedConvs(function (c) { return c.waiting && !c.mine; }).forEach(function (c) {
      var name = c.skillName || "No skill";
      if (!bySkill[name]) {
        bySkill[name] = [];
        names.push(name);
      }
      bySkill[name].push(c);
    });
    names.sort().forEach(function (name, i) {
      var sec = el("section", "queue"), h = el("h3", null, name + " (" + bySkill[name].length + ")"), ul = el("ul", "list");
      h.id = "queue-h-" + i;
      sec.setAttribute("aria-labelledby", h.id);
      bySkill[name].forEach(function (c) { ul.appendChild(pick(c)); });
      sec.appendChild(h);
      sec.appendChild(ul);
      q.appendChild(sec);
    });
    $("queues-empty").hidden = names.length > 0;
    if (focusedConv) {
      var again = d.querySelector('.pick[data-conv="' + focusedConv.replace(/["\\]/g, "") + '"]');
      if (again) { again.focus(); }
    }
  }

  function renderConversation() {
    var c = convs[selected], has = !!selected;
    $("conv-hint").hidden = has;
    $("log").hidden = !has;
    if (!has) {
      $("conv-h").textContent = "No conversation selected";
      $("conv-sub").textContent = "";
      $("composer").hidden = $("actions").hidden = true;
      return;
    }
    $("conv-h").textContent = c ? visitorName(c) : "Conversation";
    $("conv-sub").textContent = !c ? "Ended." : (c.skillName || "No skill") + " · " +
      (c.mine ? "You are in this conversation." : c.waiting ? "Waiting for an agent." : "With another agent.");
    var active = !!(c && c.mine);
    $("composer").hidden = !active;
    $("actions").hidden = !active;
    if (active) { renderTransferSkills(c); }
    renderLog();
    renderTyping();
  }

  function renderTransferSkills(c) {
    var sel = $("transfer-skill"), keep = sel.value;
    sel.textContent = "";
    skills.forEach(function (s) {
      if (s.name === c.skillName) { return; }
      var o = el("option", null, s.name);
      o.value = s.name;
      o.dataset.id = String(s.id);
      sel.appendChild(o);
    });
    if (keep) { sel.value = keep; }
    $("transfer-go").disabled = !sel.options.length;
  }

  function renderLog() {
    var log = $("log"), g = dialogOf(selected);
    var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 20;
    log.textContent = "";
    var seqs = Object.keys(g.msgs).map(Number).sort(function (a, b) { return a - b; });
    var sys = g.system.slice(), si = 0;
    function systemUpTo(seq) {
      for (; si < sys.length && sys[si].after < seq; si++) {
        log.appendChild(el("li", "m s", null)).appendChild(el("span", "x", sys[si].text));
      }
    }
    seqs.forEach(function (s) {
      systemUpTo(s);
      var m = g.msgs[s], li = el("li", "m " + (m.consumer ? "c" : "a"));
      li.dataset.seq = String(s);
      li.appendChild(el("span", "who", (m.consumer ? "Visitor" : m.me ? "You" : m.name || "Agent") +
        (m.time ? " · " + new Date(m.time).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) : "")));
      li.appendChild(el("span", "x", m.text));
      if (!m.consumer) { li.appendChild(el("span", "k", g.read[s] ? "Read" : g.delivered[s] ? "Delivered" : "Sent")); }
      log.appendChild(li);
    });
    systemUpTo(Infinity);
    g.pendingOut.forEach(function (p) {
      var li = el("li", "m a pending");
      li.appendChild(el("span", "who", "You"));
      li.appendChild(el("span", "x", p.text));
      li.appendChild(el("span", "k", "Sending…"));
      log.appendChild(li);
    });
    if (atEnd) { log.scrollTop = log.scrollHeight; }
  }

  function renderTyping() {
    var g = selected && dialogs[selected];
    $("typing").textContent = g && g.typing && convs[selected] ? "The visitor is typing…" : "";
  }

  function renderJourney(j) {
    var body = $("journey-body");
    body.textContent = "";
    $("journey-empty").hidden = true;
    function section(title) {
      var s = el("section");
      s.appendChild(el("h3", null, title));
      body.appendChild(s);
      return s;
    }
    function pairs(parent, list) {
      var dl = el("dl");
      list.forEach(function (p) {
        if (p[1] === undefined || p[1] === null || p[1] === "") { return; }
        dl.appendChild(el("dt", null, p[0]));
        dl.appendChild(el("dd", null, String(p[1])));
      });
      if (dl.childNodes.length) { parent.appendChild(dl); }
      return dl;
    }
    var ctx = j.context || {}, camp = j.campaign || {};
    pairs(section("Context"), [
      ["Page", ctx.pageTitle ? ctx.pageTitle + " (" + ctx.pageUrl + ")" : ctx.pageUrl],
      ["Device", [ctx.device, ctx.os, ctx.browser].filter(Boolean).join(" · ")],
      ["Language", ctx.language],
      ["Campaign", camp.campaignName || camp.campaignId],
      ["Engagement", camp.engagementName || camp.engagementId],
      ["Goal", camp.goalName],
      ["Skill", j.skill && j.skill.name],
      ["Started", j.startTs ? new Date(j.startTs).toLocaleString() : ""],
      ["Visitor", j.consumerId],
      ["Verified as", j.identity ? j.identity.sub + " (" + j.identity.iss + ")" : ""]
    ]);
    if (j.transfers && j.transfers.length) {
      var ts = el("ol");
      j.transfers.forEach(function (t) {
        ts.appendChild(el("li", null, (t.sourceSkillName || "no skill") + " → " + (t.targetSkillName || "no skill")));
      });
      section("Transfers").appendChild(ts);
    }
    attributes(j, section, pairs);
    var pages = section("Pages of the visit");
    if (!j.pagesKnown || !j.pages.length) {
      pages.appendChild(el("p", "empty", j.pagesKnown ? "No page views yet." : "The visit's pages are not known."));
    } else {
      var ol = el("ol", "pages");
      j.pages.forEach(function (p) {
        var li = el("li"), t = el("time", null, new Date(p.time).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}));
        t.dateTime = new Date(p.time).toISOString();
        li.appendChild(t);
        li.appendChild(d.createTextNode(p.title || p.url));
        if (p.title) { li.title = p.url; }
        ol.appendChild(li);
      });
      pages.appendChild(ol);
    }
  }

  // attributes shows the engagement attributes: the latest cart, every
  // purchase, the merged customer, personal and marketing info, and the
  // others as they came.
  function attributes(j, section, pairs) {
    var all = [];
    (j.unAuthSdes || []).forEach(function (a) { all.push({a: a, verified: false}); });
    (j.sdes || []).forEach(function (a) { all.push({a: a, verified: true}); });
    all.sort(function (x, y) { return x.a.serverTimeStamp - y.a.serverTimeStamp; });
    var cart = null, purchases = [], merged = {}, others = [];
    all.forEach(function (x) {
      var data = x.a.data || {};
      switch (data.type) {
      case "cart": cart = x; break;
      case "purchase": purchases.push(x); break;
      case "ctmrinfo": case "personal": case "mrktInfo":
        var key = data.type, inner = data.info || data.personal || {};
        merged[key] = merged[key] || {verified: false, v: {}};
        Object.keys(inner).forEach(function (k) { merged[key].v[k] = inner[k]; });
        merged[key].verified = merged[key].verified || x.verified;
        break;
      default: others.push(x);
      }
    });
    if (cart) {
      var s = section("Cart");
      mark(s, cart.verified);
      var c = cart.a.data;
      var ul = el("ul", "lines");
      (c.products || []).forEach(function (p) {
        var pr = p.product || {};
        ul.appendChild(el("li", null, (p.quantity || 1) + " × " + (pr.name || pr.sku || "item") +
          (pr.price !== undefined ? " · " + money(pr.price, c.currency) : "")));
      });
      if (ul.childNodes.length) { s.appendChild(ul); }
      s.appendChild(el("p", "total", "Total " + money(c.total, c.currency) +
        (typeof c.numItems === "number" ? " · " + c.numItems + (c.numItems === 1 ? " item" : " items") : "")));
    }
    if (purchases.length) {
      var ps = section("Purchases"), pl = el("ul");
      purchases.forEach(function (x) {
        var p = x.a.data;
        pl.appendChild(el("li", null, (p.orderId ? "Order " + p.orderId + " · " : "") + money(p.total, p.currency)));
      });
      ps.appendChild(pl);
    }
    [["ctmrinfo", "Customer info"], ["personal", "Personal info"], ["mrktInfo", "Marketing"]].forEach(function (t) {
      if (!merged[t[0]]) { return; }
      var sec = section(t[1]);
      mark(sec, merged[t[0]].verified);
      pairs(sec, flatten(merged[t[0]].v, ""));
    });
    // Viewed products and searches as lists, the others as they came.
    var viewed = [], searches = [];
    others = others.filter(function (x) {
      var data = x.a.data || {};
      if (data.type === "prodView") {
        (data.products || []).forEach(function (p) {
          var pr = p.product || {};
          viewed.push((pr.name || pr.sku || "product") + (pr.price !== undefined ? " · " + money(pr.price, data.currency) : ""));
        });
        return false;
      }
      if (data.type === "searchInfo") {
        searches.push((data.keywords || []).join(" "));
        return false;
      }
      return true;
    });
    [["Viewed products", viewed], ["Searches", searches]].forEach(function (l) {
      if (!l[1].length) { return; }
      var ul = el("ul");
      l[1].forEach(function (t) { ul.appendChild(el("li", null, t)); });
      section(l[0]).appendChild(ul);
    });
    var names = {lead: "Leads", service: "Service", error: "Errors"};
    others.forEach(function (x) {
      var data = x.a.data || {}, sec = section(names[data.type] || data.type || x.a.sdeType);
      mark(sec, x.verified);
      var copy = {};
      Object.keys(data).forEach(function (k) { if (k !== "type") { copy[k] = data[k]; } });
      pairs(sec, flatten(copy, ""));
    });
  }

  function mark(sec, verified) {
    if (verified) { sec.firstChild.appendChild(el("span", "verified", "verified")); }
  }

  // flatten lists an object's values under dotted names, a few levels deep.
  function flatten(v, prefix, depth) {
    var out = [];
    depth = depth || 0;
    if (v === null || typeof v !== "object" || depth > 3) {
      out.push([prefix || "value", typeof v === "object" ? JSON.stringify(v) : v]);
      return out;
    }
    Object.keys(v).forEach(function (k) {
      var name = prefix ? prefix + (Array.isArray(v) ? "[" + k + "]" : "." + k) : k;
      out = out.concat(flatten(v[k], name, depth + 1));
    });
    return out;
  }

  function money(n, currency) {
    if (typeof n !== "number") { return ""; }
    try {
      return new Intl.NumberFormat(undefined, {style: "currency", currency: currency || "USD"}).format(n);
    } catch (e) {
      return n.toFixed(2) + (currency ? " " + currency : "");
    }
  }

  // ---- start ----

  if (auth && auth.bearer) {
    startWorkspace();
  } else {
    showSignIn("");
  }
})();
