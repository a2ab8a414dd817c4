/*
 * Sightline web tag: the lpTag API for pages written against it.
 *
 * This first part is the page's event bus (lpTag.events), engagement
 * attributes kept by the page (lpTag.sdes) and the replay of the calls the
 * snippet queued before the tag loaded. Sending to the server and rendering
 * engagements come next (issue 4).
 */
(function (w) {
  "use strict";
  var lp = w.lpTag = w.lpTag || {};
  if (lp._sightline) {
    return; // the tag loaded twice: the first one stays
  }
  lp._sightline = true;

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

  var sdes = []; // every attribute the page pushed, in order

  function push(sde) {
    (Array.isArray(sde) ? sde : [sde]).forEach(function (s) {
      if (s && typeof s === "object" && typeof s.type === "string") {
        sdes.push(s);
        trigger("lp_sdes", "VAR_ADDED", s);
      }
    });
  }

  function get(type) {
    return sdes.filter(function (s) { return !type || s.type === type; });
  }

  // ---- install, then replay what the snippet queued ----

  var queued = lp._q || [];
  var early = Array.isArray(lp.sdes) ? lp.sdes : []; // lpTag.sdes = lpTag.sdes || []; lpTag.sdes.push(...)
  lp.events = {bind: bind, unbind: unbind, trigger: trigger, hasFired: hasFired};
  lp.sdes = {push: push, send: push, get: get};
  lp._q = {push: function (c) { replay(c, 0); }};
  if (!Array.isArray(lp.section)) {
    lp.section = lp.section ? [String(lp.section)] : [];
  }

  // replay runs one queued call [object, method, arguments]; a bind queued
  // as the n-th call keeps the id "q<n>" the snippet's stub returned.
  function replay(c, n) {
    var api = lp[c[0]];
    var args = Array.prototype.slice.call(c[2] || []);
    if (c[0] === "events" && c[1] === "bind") {
      var o = args[0] !== null && typeof args[0] === "object" ? args[0] : {appName: args[0], eventName: args[1], func: args[2]};
      bind(o, undefined, undefined, n ? "q" + n : undefined);
    } else if (api && typeof api[c[1]] === "function") {
      api[c[1]].apply(api, args);
    }
  }
  queued.forEach(function (c, i) { replay(c, i + 1); });
  push(early);
})(window);
