/*
 * Sightline web tag: the lpTag API for pages written against it.
 *
 * It holds the page's event bus (lpTag.events), the engagement attributes
 * the page pushes (lpTag.sdes), the visitor's identity, page views
 * (lpTag.section, lpTag.newPage), the engagements the server sends back for
 * a page view, which it renders and reports (LP_OFFERS events), and the
 * transport that sends every event to Sightline's ingest endpoint in
 * batches, keeping what could not be sent in localStorage to retry. It
 * replays the calls the snippet queued before it loaded. A click on a chat
 * engagement loads the chat window (/chat/chat.js), only then.
 */
(function (w, d) {
  "use strict";
  var lp = w.lpTag = w.lpTag || {};
  if (lp._sightline) {
    return; // the tag loaded twice: the first one stays
  }
  lp._sightline = true;
  var script = d.currentScript;
  var src = script && script.src || "";
  var base = src.replace(/\/tag\/[^\/]*$/, "");
  // Sightline's snippet loads /tag/{site}.js; LivePerson's, /tag/tag.js?site={site}.
  var site = String(lp.site || (src.match(/[?&]site=([^&#]+)/) || src.match(/\/tag\/([^\/?#]+)\.js/) || [])[1] || "");
  var consented = true;
  // started is false while a page that set lpTag.autoStart = false has not
  // called lpTag.start(): nothing is sent until it does.
  var started = lp.autoStart !== false;

  // ---- lpTag.events ----

  var listeners = []; // {id, app, name, func, context, async, once}
  var fired = []; // {eventName, appName, data}, in order
  var seq = 0;

  function matches(pattern, value) {
    return pattern === "*" || pattern === value;
  }

  // bind(appName, eventName, func) or bind({appName, eventName, func,
  // context, async, triggerOnce}); appName defaults to "*". It returns the
  // listener's id, or null when eventName or func is missing.
  function bind(app, name, func, id) {
    var o = app !== null && typeof app === "object" ? app : {appName: app, eventName: name, func: func};
    if (!o.eventName || typeof o.func !== "function") {
      return null;
    }
    var l = {
      id: id || "evId_" + ++seq,
      app: o.appName || "*",
      name: o.eventName,
      func: o.func,
      context: o.context,
      async: !!o.async,
      once: !!o.triggerOnce
    };
    listeners.push(l);
    return l.id;
  }

  // unbind(listenerId) or unbind({appName, eventName, func, context}): every
  // property given must match. It reports whether a listener was removed.
  function unbind(q) {
    var before = listeners.length;
    listeners = listeners.filter(function (l) {
      if (typeof q === "string") {
        return l.id !== q;
      }
      if (!q || typeof q !== "object" || !(q.eventName || q.appName || q.func)) {
        return true;
      }
      var same = (!q.eventName || q.eventName === l.name) &&
        (!q.appName || q.appName === l.app) &&
        (!q.func || q.func === l.func) &&
        (q.context === undefined || q.context === l.context);
      return !same;
    });
    return listeners.length < before;
  }

  function call(l, data, info) {
    try {
      l.func.call(l.context, data, info);
    } catch (e) {
      // A listener that throws stops neither the others nor the tag.
      if (w.console && w.console.error) {
        w.console.error("lpTag listener " + l.id + " failed:", e);
      }
    }
  }

  // trigger(appName, eventName, data) or trigger({appName, eventName,
  // data}). It reports whether a listener ran (or was scheduled, for async
  // ones).
  function trigger(app, name, data) {
    if (app !== null && typeof app === "object") {
      data = app.data;
      name = app.eventName;
      app = app.appName;
    }
    if (!name) {
      return false;
    }
    app = app || "*";
    fired.push({eventName: name, appName: app, data: data});
    var info = {eventName: name, appName: app};
    var ran = false;
    listeners.slice().forEach(function (l) {
      if (!matches(l.app, app) || !matches(l.name, name) || listeners.indexOf(l) < 0) {
        return;
      }
      if (l.once) {
        unbind(l.id);
      }
      ran = true;
      if (l.async) {
        setTimeout(function () { call(l, data, info); }, 0);
      } else {
        call(l, data, info);
      }
    });
    return ran;
  }

  // hasFired(appName, eventName): the events fired so far that match, "*"
  // matching any.
  function hasFired(app, name) {
    return fired.filter(function (e) {
      return matches(app || "*", e.appName) && matches(name || "*", e.eventName);
    }).map(function (e) {
      return {eventName: e.eventName, appName: e.appName, data: e.data};
    });
  }

  // ---- lpTag.sdes ----

  // The page's current attributes by type, as get returns them. personal,
  // ctmrinfo and mrktInfo merge into one (their inner object property by
  // property), cart replaces the cart before it, the other types append.
  var current = {}, order = [];
  var MERGED = {personal: "personal", ctmrinfo: "info", mrktInfo: "info"};

  function remember(s) {
    var t = s.type, inner = MERGED[t];
    if (!current[t]) {
      order.push(t);
    }
    if (inner) {
      var prev = current[t] ? current[t][0] : {};
      var merged = Object.assign({}, prev, s);
      merged[inner] = Object.assign({}, prev[inner], s[inner]);
      current[t] = [merged];
    } else if (t === "cart") {
      current[t] = [s];
    } else {
      (current[t] = current[t] || []).push(s);
    }
  }

  function push(sde) {
    (Array.isArray(sde) ? sde : [sde]).forEach(function (s) {
      if (s && typeof s === "object" && typeof s.type === "string") {
        remember(s);
        try {
          var kept = visitAttributes();
          kept.push(JSON.stringify(s));
          kept.splice(1, kept.length - 101); // the newest 100
          sdesDirty = true;
        } catch (e) {
          // a payload JSON cannot write: emit says so
        }
        emit("lp_sdes", "VAR_ADDED", s);
        trigger("lp_sdes", "VAR_ADDED", s);
      }
    });
  }

  // The visit's attributes as pushed (JSON, after the visit's id), kept
  // in localStorage on flush for a chat window opened later in the visit.
  var SDES = "lpsl_sdes_" + site, visitSdes = null, sdesDirty = false;

  function visitAttributes() {
    var v = touch();
    if (!visitSdes || visitSdes[0] !== v) {
      visitSdes = (load(SDES) || "").split("\n");
      if (visitSdes[0] !== v) {
        visitSdes = [v];
      }
    }
    return visitSdes;
  }

  // send(sde, callback): pushed like push, then sent at once; callback
  // gets whether the server stored it.
  function sendNow(sde, callback) {
    push(sde);
    flush(false, callback);
  }

  // ---- identity ----

  var DAY = 864e5;
  var VISITOR_AGE = 730 * DAY, VISIT_IDLE = 30 * 6e4;

  function load(key) {
    try {
      return w.localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function save(key, value) {
    if (!consented) {
      return;
    }
    try {
      w.localStorage.setItem(key, value);
    } catch (e) {
      // storage full or blocked: the ids still live in the cookie
    }
  }

  function cookie(name) {
    var m = d.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : null;
  }

  function setCookie(name, value, ageMs) {
    if (consented) {
      d.cookie = name + "=" + encodeURIComponent(value) + "; path=/; max-age=" + Math.floor(ageMs / 1000) +
        "; SameSite=Lax" + (lp.cookieDomain ? "; domain=" + lp.cookieDomain : "");
    }
  }

  function randomBytes(n) {
    var b = new Uint8Array(n);
    w.crypto.getRandomValues(b);
    return b;
  }

  // newId returns 16 random bytes in base64url, as visitor and visit ids
  // are written (22 characters).
  function newId() {
    return btoa(String.fromCharCode.apply(null, randomBytes(16))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // uuid returns a random (version 4) UUID, an event's id, which it keeps
  // across retries so that the server stores it once.
  function uuid() {
    var b = randomBytes(16);
    b[6] = b[6] & 15 | 64;
    b[8] = b[8] & 63 | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  var visitorId = cookie("lpsl_vid") || load("lpsl_vid") || newId();
  var visit = (load("lpsl_visit") || cookie("lpsl_visit") || "").split("|"); // id|last activity (ms)

  var stored = 0; // when the ids were last written

  // touch returns the visit id, renewed after VISIT_IDLE without activity,
  // and records the activity: in the cookies and localStorage at most once
  // a second, since writing a cookie is slow.
  function touch() {
    var now = Date.now();
    // Another tab of the site may have been active since: its visit is ours.
    var saved = (load("lpsl_visit") || "").split("|");
    if (saved[0] && Number(saved[1]) > Number(visit[1] || 0)) {
      visit = saved;
    }
    if (!visit[0] || now - Number(visit[1]) > VISIT_IDLE) {
      visit = [newId(), now];
      stored = 0;
    }
    visit[1] = now;
    if (now - stored < 1000) {
      return visit[0];
    }
    stored = now;
    setCookie("lpsl_vid", visitorId, VISITOR_AGE);
    save("lpsl_vid", visitorId);
    setCookie("lpsl_visit", visit.join("|"), VISIT_IDLE);
    save("lpsl_visit", visit.join("|"));
    return visit[0];
  }

  // ---- transport ----

  var BATCH = 25, MERGE = 250, DELAY = 500, MAX_KEPT = 1000, OUTBOX = "lpsl_outbox_" + site;
  var pending = []; // events not yet in a batch
  var outbox = []; // batches to send, oldest first, kept in localStorage
  var timer = null, retry = null, backoff = 0, sending = false;
  // state is the campaign engine's state of the visit: the server answers
  // it, the tag sends it back with the next batch.
  var STATE = "lpsl_state_" + site, state = null;
  // IDENTITY keeps the identity lpTag.identities gave for the visit.
  var IDENTITY = "lpsl_identity";
  try {
    outbox = JSON.parse(load(OUTBOX) || "[]");
    state = JSON.parse(load(STATE) || "null");
  } catch (e) {
    outbox = [];
  }

  function emit(app, name, data) {
    if (!consented || !site) {
      return;
    }
    var visitId = touch();
    if (pending.length && pending.visitId !== visitId) {
      flush();
    }
    // A copy: what listeners do to the payload afterwards is not sent. A
    // payload JSON cannot write (a cycle) is left out, not thrown at the page.
    try {
      data = JSON.parse(JSON.stringify(data));
    } catch (e) {
      if (w.console && w.console.error) {
        w.console.error("lpTag: " + app + " " + name + " not sent:", e);
      }
      return;
    }
    pending.visitId = visitId;
    pending.push({id: uuid(), time: Date.now(), appName: app, eventName: name, data: data});
    if (pending.length >= BATCH) {
      flush();
    } else if (!timer) {
      timer = setTimeout(flush, DELAY);
    }
  }

  function keep() {
    var n = 0;
    for (var i = outbox.length - 1; i >= 0; i--) {
      n += outbox[i].events.length;
      if (n > MAX_KEPT) {
        outbox = outbox.slice(i + 1); // the oldest go first
        break;
      }
    }
    save(OUTBOX, JSON.stringify(outbox));
  }

  // flush moves the pending events into a batch and sends what waits;
  // beacon sends with navigator.sendBeacon, for a page going away. callback,
  // if any, learns whether the server stored the new batch (a batch's cb is
  // not kept in localStorage: JSON leaves functions out).
  function flush(beacon, callback) {
    clearTimeout(timer);
    timer = null;
    if (sdesDirty) {
      sdesDirty = false;
      save(SDES, visitSdes.join("\n"));
    }
    if (pending.length) {
      outbox.push({visitorId: visitorId, visitId: pending.visitId, events: pending, cb: callback});
      pending = [];
      keep();
    } else if (callback) {
      callback(true);
    }
    drain(beacon === true);
  }

  function endpoint() {
    return base + "/api/account/" + encodeURIComponent(site) + "/events";
  }

  function body(b, events) {
    return JSON.stringify({visitorId: b.visitorId, visitId: b.visitId, events: events, state: state || undefined});
  }

  // drain sends the oldest batch, one at a time so that a visitor's events
  // arrive in order, and goes on with the next once it is answered. A page
  // going away (beacon) hands each batch to sendBeacon once, when online,
  // but keeps it: a beacon's fate is unknown, so the batch is sent again by
  // the next drain, here or on the next page, and the server, which knows
  // the events' ids, stores it once.
  function drain(beacon) {
    if (!started) {
      keep();
      return;
    }
    if (beacon) {
      if (w.navigator.onLine !== false && w.navigator.sendBeacon) {
        outbox.forEach(function (b) {
          b.beaconed = b.beaconed || w.navigator.sendBeacon(endpoint(), body(b, b.events));
        });
      }
      keep();
      return;
    }
    if (sending || !outbox.length) {
      return;
    }
    sending = true;
    // The batches waiting of the same visit go in one request, up to
    // MERGE events: a busy page is not held to one batch a round trip.
    var sent = [outbox[0]], events = outbox[0].events;
    for (var i = 1; i < outbox.length && outbox[i].visitId === outbox[0].visitId && outbox[i].visitorId === outbox[0].visitorId &&
      events.length + outbox[i].events.length <= MERGE; i++) {
      sent.push(outbox[i]);
      events = events.concat(outbox[i].events);
    }
    var text = body(outbox[0], events);
    // keepalive (the request outlives the page) only for small bodies:
    // Chromium refuses keepalive requests beyond a shared 64 KB quota.
    w.fetch(endpoint(), {method: "POST", body: text, keepalive: text.length < 16384, credentials: "omit",
      headers: {"Content-Type": "text/plain;charset=UTF-8"}}).then(function (r) {
      if (r.ok) {
        r.json().then(function (res) {
          if (res && res.state) {
            state = res.state;
            save(STATE, JSON.stringify(state));
          }
          if (res && Array.isArray(res.engagements)) {
            res.engagements.forEach(function (o) {
              if (o.delay > 0) {
                setTimeout(function () { show(o); }, o.delay); // time rules: show checks the page is the same
              } else {
                show(o);
              }
            });
          }
        }, function () {});
        return "stored";
      }
      // 4xx other than 408 and 429 will not get better: drop the batch.
      return r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429 ? "dropped" : "";
    }, function () {
      return "";
    }).then(function (outcome) {
      sending = false;
      if (!outcome) {
        backoff = Math.min(backoff ? backoff * 2 : 1000, 30000);
        clearTimeout(retry);
        retry = setTimeout(drain, backoff);
        return;
      }
      outbox = outbox.filter(function (b) { return sent.indexOf(b) < 0; });
      keep();
      backoff = 0;
      sent.forEach(function (b) {
        if (b.cb) {
          b.cb(outcome === "stored");
        }
      });
      drain();
    });
  }

  // ---- engagements ----

  // Where each display type sits, inside its shadow root: the page's CSS
  // does not reach it, and it inherits nothing (all: initial).
  var PLACE = {
    0: "position:fixed;top:0;right:0;width:220px",
    1: "position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center",
    2: "position:fixed;right:16px;bottom:16px;width:300px",
    3: "position:fixed;right:0;top:40%;width:260px",
    5: "position:relative",
    6: "position:fixed;left:0;right:0;bottom:0"
  };
  var CSS = ":host{all:initial}.box{font:14px/1.4 system-ui,sans-serif;color:#111;background:#fff;border:1px solid #999;" +
    "border-radius:6px;padding:12px 36px 12px 12px;box-shadow:0 2px 10px rgba(0,0,0,.25);position:relative;max-width:420px}" +
    ".title{font-weight:600;margin:0 0 6px}.text{margin:0 0 10px}.accept{font:inherit;padding:6px 12px;cursor:pointer}" +
    ".close{position:absolute;top:4px;right:4px;font:18px/1 sans-serif;background:none;border:0;cursor:pointer;padding:4px}" +
    "button:focus{outline:2px solid #15c}" +
    // The peeling corner unfolds from its corner, with a folded tip; the
    // slide-out slides in from the edge; neither moves for visitors who
    // asked for less motion.
    ".t0{border-radius:0 0 0 0;transform-origin:top right;animation:lpsl-peel .4s ease-out}" +
    ".t0:before{content:'';position:absolute;left:-1px;bottom:-1px;border:9px solid;border-color:transparent transparent #ccc #ccc}" +
    ".t3{border-radius:6px 0 0 6px;animation:lpsl-slide .4s ease-out}" +
    "@keyframes lpsl-peel{from{transform:scale(.1)}}@keyframes lpsl-slide{from{transform:translateX(100%)}}" +
    "@media (prefers-reduced-motion:reduce){.box{animation:none}}";
  var shown = []; // the engagements on the page: {o, host, payload, removed, before}
  var CONTEXTS = "lpsl_ctx", contexts = ["", 0]; // visit id|engagement contexts numbered in it

  // nextContext numbers an engagement's context (its impression) in the
  // visit: "1", "2"..., counted across the visit's pages and tabs.
  function nextContext() {
    var v = touch(), saved = (load(CONTEXTS) || "").split("|");
    var n = Math.max(saved[0] === v ? Number(saved[1]) || 0 : 0, contexts[0] === v ? contexts[1] : 0) + 1;
    contexts = [v, n];
    save(CONTEXTS, v + "|" + n);
    return String(n);
  }

  function offerEvent(e, name) {
    emit("LP_OFFERS", name, e.payload);
    trigger("LP_OFFERS", name, e.payload);
  }

  // show renders an engagement the server sent for the current page.
  function show(o) {
    if (o.pageContextId !== lp.pageContextId || shown.some(function (e) { return !e.removed && e.o.confKey === o.confKey; })) {
      return;
    }
    var parent = o.engagementType === 5 ? d.getElementById(o.elementId) : d.body;
    if (!parent || !PLACE[o.engagementType]) {
      return;
    }
    var ctx = nextContext();
    var e = {o: o, removed: false, payload: {
      contexts: [{EngagementContext: {id: ctx}}, {pageContext: {id: o.pageContextId}}],
      campaignId: o.campaignId, engagementId: o.engagementId, engagementRevision: o.engagementRevision,
      engagementType: o.engagementType, contextId: ctx, zoneId: o.zoneId, state: o.state, confKey: o.confKey,
      tglName: o.tglName, done: true, engagementName: o.engagementName
    }};
    offerEvent(e, "START");
    // A custom element the page's selectors do not expect, whose inline
    // !important style beats theirs.
    var host = e.host = d.createElement("lpsl-engagement");
    host.setAttribute("data-lpsl-engagement", o.confKey);
    host.style.cssText = ("all:initial;display:block;" + PLACE[o.engagementType] + ";z-index:2147483000").replace(/;/g, "!important;") + "!important";
    var root = host.attachShadow({mode: "open"});
    var style = d.createElement("style");
    style.textContent = CSS;
    var box = d.createElement("div");
    box.className = "box t" + o.engagementType;
    box.setAttribute("role", o.engagementType === 1 ? "dialog" : "region");
    if (o.engagementType === 1) {
      box.setAttribute("aria-modal", "true");
    }
    box.setAttribute("aria-label", o.title);
    [["p", "title", o.title], ["p", "text", o.text || ""], ["button", "accept", o.button], ["button", "close", "\u00d7"]].forEach(function (c) {
      var el = d.createElement(c[0]);
      el.className = c[1];
      el.textContent = c[2];
      box.appendChild(el);
    });
    var accept = box.querySelector(".accept"), close = box.querySelector(".close");
    // Colours go through style properties: a value is a colour or nothing.
    box.style.background = o.background || "";
    box.style.color = o.color || "";
    accept.style.background = o.buttonColor || "";
    close.setAttribute("aria-label", "Close");
    root.appendChild(style);
    root.appendChild(box);
    accept.addEventListener("click", function () {
      if (!e.removed) {
        offerEvent(e, "OFFER_CLICK");
        remove(e);
        if (o.interactionType === "chat" || o.interactionType === "messaging") {
          chat(e.payload);
        }
      }
    });
    close.addEventListener("click", function () { decline(e); });
    if (o.engagementType === 1) {
      // A modal dialog: Tab and Shift+Tab stay in it.
      box.addEventListener("keydown", function (ev) {
        var at = root.activeElement;
        if (ev.key === "Tab" && (ev.shiftKey ? at === accept : at === close)) {
          ev.preventDefault();
          (ev.shiftKey ? close : accept).focus();
        }
      });
    }
    parent.appendChild(host);
    shown.push(e);
    offerEvent(e, "OFFER_DISPLAY");
    if (o.engagementType === 1) {
      e.before = d.activeElement; // focus goes back there when it closes
      accept.focus();
    }
    if (w.IntersectionObserver) {
      var seen = new IntersectionObserver(function (entries) {
        if (entries.some(function (x) { return x.isIntersecting; })) {
          seen.disconnect();
          if (!e.removed) {
            offerEvent(e, "OFFER_IMPRESSION");
          }
        }
      });
      seen.observe(box);
    }
    if (o.duration > 0) {
      setTimeout(function () {
        if (!e.removed) {
          offerEvent(e, "OFFER_TIMEOUT");
          remove(e);
        }
      }, o.duration * 1000);
    }
  }

  function decline(e) {
    if (!e.removed) {
      offerEvent(e, "OFFER_DECLINED");
      remove(e);
    }
  }

  // remove takes e off the page, or notes that the page did: OFFER_REMOVE.
  function remove(e) {
    if (e.removed) {
      return;
    }
    e.removed = true;
    if (e.host.parentNode) {
      e.host.parentNode.removeChild(e.host);
    }
    if (e.before && e.before.isConnected && e.before.focus) {
      e.before.focus();
    }
    offerEvent(e, "OFFER_REMOVE");
  }

  // Escape closes the engagement the focus is in or, from anywhere on the
  // page, the modal overlay shown last.
  d.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") {
      return;
    }
    var path = ev.composedPath ? ev.composedPath() : [];
    var open = shown.filter(function (e) { return !e.removed; });
    var hit = open.filter(function (e) { return path.indexOf(e.host) >= 0; })[0] ||
      open.filter(function (e) { return e.o.engagementType === 1; }).pop();
    if (hit) {
      decline(hit);
    }
  });

  if (w.MutationObserver) {
    new MutationObserver(function () {
      shown.forEach(function (e) {
        if (!e.removed && !e.host.isConnected) {
          remove(e);
        }
      });
    }).observe(d.documentElement, {childList: true, subtree: true});
  }

  // ---- chat window ----

  // chat loads the chat window (/chat/chat.js) once, and hands it the
  // payload of the chat engagement clicked, if any. lpTag._chat is what the
  // window takes from the tag; it keeps its conversation under CHAT in
  // localStorage, and a page that finds it there loads the window at once.
  var CHAT = "lpsl_chat_" + site;

  function chat(engagement) {
    var c = lp._chat;
    if (!c) {
      c = lp._chat = {base: base, site: site, key: CHAT, visitorId: visitorId, visitId: touch, emit: emit,
        attributes: function () { return visitAttributes().slice(1).map(JSON.parse); }};
      var s = d.createElement("script");
      s.src = base + "/chat/chat.js";
      s.onerror = function () {
        lp._chat = null; // the next click tries again
      };
      d.head.appendChild(s);
    }
    c.engagement = engagement;
    if (c.open) {
      c.open(engagement);
    }
  }

  // ---- page views ----

  function contextId() {
    return String(Math.floor(Math.random() * 9e9) + 1e9);
  }

  var unsentView = null; // the page's URL while its view waits for consent

  function pageView(url) {
    shown.forEach(remove); // a new page: the last page's engagements go
    lp.pageContextId = contextId();
    unsentView = consented ? null : url;
    emit("LP_MONITORING", "PAGE_VIEW", {
      url: url,
      referrer: d.referrer,
      title: d.title,
      sections: (Array.isArray(lp.section) ? lp.section : [lp.section]).filter(Boolean).map(String),
      contextId: lp.pageContextId
    });
    flush(); // at once: the answer lists the engagements to show
  }

  // newPage(url, {section, sdes}): a single-page app's new page.
  function newPage(url, opts) {
    opts = opts || {};
    if (opts.section !== undefined) {
      lp.section = opts.section;
    }
    var abs;
    try {
      abs = new URL(url || w.location.href, w.location.href).href;
    } catch (e) {
      abs = w.location.href;
    }
    pageView(abs);
    if (opts.sdes) {
      push(opts.sdes);
    }
  }

  // consent(false) stops storing ids and sending, and forgets what waits;
  // consent(true) starts again, with the view of the page it is on when
  // that was not sent. A page calls it on every page, before the tag loads
  // if it likes (the snippet queues it): the tag remembers no choice.
  function consent(on) {
    consented = on !== false;
    if (consented && unsentView) {
      pageView(unsentView);
    } else if (!consented) {
      pending = [];
      outbox = [];
      state = null;
      clearTimeout(timer);
      try {
        visitSdes = null;
        ["lpsl_vid", "lpsl_visit", CONTEXTS, OUTBOX, STATE, IDENTITY, SDES].forEach(function (k) { w.localStorage.removeItem(k); });
      } catch (e) {
        // blocked storage holds nothing either
      }
      ["lpsl_vid", "lpsl_visit"].forEach(function (k) {
        d.cookie = k + "=; path=/; max-age=0";
        if (lp.cookieDomain) {
          d.cookie = k + "=; path=/; max-age=0; domain=" + lp.cookieDomain;
        }
      });
    }
    return consented;
  }

  // get(type): the current attributes of type, or of every type.
  function get(type) {
    return (type ? [type] : order).reduce(function (all, t) { return all.concat(current[t] || []); }, []);
  }

  // ---- LivePerson's snippet ----

  // run calls fn, a function the page handed over, keeping its errors to
  // itself.
  function run(fn) {
    if (typeof fn !== "function") {
      return;
    }
    try {
      fn();
    } catch (e) {
      if (w.console && w.console.error) {
        w.console.error("lpTag: a deferred function failed:", e);
      }
    }
  }

  // identify calls f, a function of lpTag.identities, with a callback that
  // keeps the identity it gives ({iss, acr, sub}) for the visit.
  function identify(f) {
    if (typeof f !== "function") {
      return;
    }
    try {
      f(function (id) {
        if (id && typeof id === "object" && id.sub) {
          lp._identity = {iss: String(id.iss || ""), acr: String(id.acr || ""), sub: String(id.sub)};
          save(IDENTITY, JSON.stringify({visitId: touch(), iss: lp._identity.iss, acr: lp._identity.acr, sub: lp._identity.sub}));
        }
      });
    } catch (e) {
      if (w.console && w.console.error) {
        w.console.error("lpTag: an identity function failed:", e);
      }
    }
  }

  // ---- install, then replay what the snippet queued ----

  var queued = lp._q || [];
  var early = Array.isArray(lp.sdes) ? lp.sdes : []; // lpTag.sdes = lpTag.sdes || []; lpTag.sdes.push(...)
  // LivePerson's snippet queues lpTag.defer(fn, kind): binds in _defB,
  // triggers in _defT, the rest in _defL.
  var defB = lp._defB || [], defT = lp._defT || [], defL = lp._defL || [];
  var identities = Array.isArray(lp.identities) ? lp.identities : [];
  lp.events = {bind: bind, unbind: unbind, trigger: trigger, hasFired: hasFired};
  lp.sdes = {push: push, send: sendNow, get: get};
  lp.newPage = newPage;
  lp.consent = consent;
  lp.defer = run; // from now on at once
  lp.identities = {push: function () { Array.prototype.forEach.call(arguments, identify); }};
  lp._q = {push: function (c) { replay(c, 0); }};
  lp.start = function () {
    lp.autoStart = true;
    if (!started) {
      started = true;
      pageView(w.location.href);
    }
  };
  if (!Array.isArray(lp.section)) {
    lp.section = lp.section ? [String(lp.section)] : [];
  }

  // replay runs one queued call [object, method, arguments]; a bind queued
  // as the n-th call keeps the id "q<n>" the snippet's stub returned.
  // Queued consent calls run first, before the page view.
  function isConsent(c) {
    return !c[0] && c[1] === "consent";
  }

  function replay(c, n) {
    var api = c[0] ? lp[c[0]] : lp;
    var args = Array.prototype.slice.call(c[2] || []);
    if (c[0] === "events" && c[1] === "bind") {
      var o = args[0] !== null && typeof args[0] === "object" ? args[0] : {appName: args[0], eventName: args[1], func: args[2]};
      bind(o, undefined, undefined, n ? "q" + n : undefined);
    } else if (api && typeof api[c[1]] === "function") {
      api[c[1]].apply(api, args);
    }
  }
  queued.filter(isConsent).forEach(function (c) { replay(c, 0); });
  defB.forEach(run); // the listeners first, so that they hear what follows
  if (started) {
    pageView(w.location.href);
  }
  queued.forEach(function (c, i) {
    if (!isConsent(c)) {
      replay(c, i + 1);
    }
  });
  defT.forEach(run);
  defL.forEach(run);
  identities.forEach(identify);
  push(early);
  drain(); // what earlier pages could not send
  if (site && load(CHAT)) {
    chat(); // a chat going on earlier pages comes back
  }
  w.addEventListener("online", function () { drain(); });
  // Leaving the page takes its engagements with it (OFFER_REMOVE, sent with
  // the last beacon), unless the page goes into the back/forward cache
  // (persisted), where they stay on it for its return.
  w.addEventListener("pagehide", function (ev) {
    if (!ev.persisted) {
      shown.forEach(remove);
    }
    flush(true);
  });
  d.addEventListener("visibilitychange", function () {
    if (d.visibilityState === "hidden") {
      flush(true);
    }
  });
})(window, document);
