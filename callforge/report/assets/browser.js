/* callforge report: the sample browser. Data arrives as JSON through sidecar scripts (samples/*.js call
   CF.index / CF.chunk / CF.tools); every string from the data enters the page through textContent or
   createTextNode only, never as markup. */
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("cf-settings").textContent);
  var CF = window.CF = {};
  var IX = null, chunks = {}, tools = {}, waiting = {};
  var state = { matches: [], page: 0, open: -1 };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function $(id) { return document.getElementById(id); }

  function load(kind, n, store) {
    if (store[n]) return Promise.resolve(store[n]);
    var key = kind + n;
    if (!waiting[key]) {
      waiting[key] = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = "samples/" + kind + "-" + String(n).padStart(5, "0") + ".js";
        s.onerror = function () { reject(new Error("cannot read " + s.src)); };
        CF["_" + key] = resolve;
        document.body.appendChild(s);
      });
    }
    return waiting[key];
  }
  CF.chunk = function (n, cards) { chunks[n] = cards; if (CF["_s" + n]) CF["_s" + n](cards); };
  CF.tools = function (n, list) { tools[n] = list; if (CF["_t" + n]) CF["_t" + n](list); };
  CF.index = function (ix) { IX = ix; init(); };

  function fill(select, labels, counts) {
    select.appendChild(el("option", null, "any")).value = "";
    labels.forEach(function (label, i) {
      if (counts && !counts[i]) return;
      var o = el("option", null, (label || "(none)") + (counts ? " (" + counts[i] + ")" : ""));
      o.value = String(i);
      select.appendChild(o);
    });
  }

  function init() {
    var n = IX.rows.length, tc = IX.types.map(function () { return 0; }), dc = IX.domains.map(function () { return 0; });
    var sc = IX.subsets.map(function () { return 0; }), vc = IX.verdicts.map(function () { return 0; });
    var rc = IX.reasons.map(function () { return 0; });
    IX.rows.forEach(function (r) {
      vc[r[1]]++; tc[r[2]]++; dc[r[3]]++;
      for (var b = 0; b < sc.length; b++) if (r[4] >> b & 1) sc[b]++;
      r[5].forEach(function (k) { rc[k]++; });
    });
    fill($("cf-f-type"), IX.types, tc);
    fill($("cf-f-domain"), IX.domains, dc);
    fill($("cf-f-subset"), IX.subsets, sc);
    fill($("cf-f-verdict"), IX.verdicts, vc);
    fill($("cf-f-reason"), IX.reasons, rc);
    var quick = $("cf-quick");
    [["all samples", ""], ["verified", "0"], ["rejected", "1"], ["dropped", "2"]].forEach(function (q) {
      var b = el("button", null, q[0] + (q[1] ? " (" + vc[+q[1]] + ")" : " (" + n + ")"));
      b.type = "button";
      b.dataset.verdict = q[1];
      b.addEventListener("click", function () { $("cf-f-verdict").value = q[1]; apply(); });
      quick.appendChild(b);
    });
    ["cf-f-type", "cf-f-domain", "cf-f-subset", "cf-f-verdict", "cf-f-reason"].forEach(function (id) {
      $(id).addEventListener("change", apply);
    });
    var timer = null;
    $("cf-f-text").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
    $("cf-prev").addEventListener("click", function () { if (state.page > 0) { state.page--; render(); } });
    $("cf-next").addEventListener("click", function () {
      if ((state.page + 1) * S.page_size < state.matches.length) { state.page++; render(); }
    });
    apply();
  }

  function apply() {
    var f = function (id) { var v = $(id).value; return v === "" ? -1 : +v; };
    var t = f("cf-f-type"), d = f("cf-f-domain"), s = f("cf-f-subset"), v = f("cf-f-verdict"), r = f("cf-f-reason");
    var q = $("cf-f-text").value.trim().toLowerCase();
    var out = [];
    for (var i = 0; i < IX.rows.length; i++) {
      var row = IX.rows[i];
      if ((t >= 0 && row[2] !== t) || (d >= 0 && row[3] !== d) || (v >= 0 && row[1] !== v)) continue;
      if (s >= 0 && !(row[4] >> s & 1)) continue;
      if (r >= 0 && row[5].indexOf(r) < 0) continue;
      if (q && row[7].indexOf(q) < 0) continue;
      out.push(i);
    }
    state.matches = out;
    state.page = 0;
    Array.prototype.forEach.call($("cf-quick").children, function (b) {
      b.classList.toggle("cf-on", b.dataset.verdict === $("cf-f-verdict").value);
    });
    render();
  }

  function tag(text, cls) { return el("span", "cf-tag" + (cls ? " " + cls : ""), text); }

  function render() {
    var m = state.matches, from = state.page * S.page_size, list = $("cf-list");
    $("cf-count").textContent = m.length + " of " + IX.rows.length + " samples";
    $("cf-page").textContent = m.length ? "page " + (state.page + 1) + " of " + Math.ceil(m.length / S.page_size) : "";
    list.replaceChildren();
    m.slice(from, from + S.page_size).forEach(function (i) {
      var r = IX.rows[i], li = el("li", "cf-row");
      li.dataset.index = String(i);
      li.dataset.id = r[0];
      li.dataset.verdict = IX.verdicts[r[1]];
      li.appendChild(el("span", "cf-id", r[0]));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(tag(IX.verdicts[r[1]], "cf-" + IX.verdicts[r[1]]));
      li.appendChild(tag(IX.types[r[2]]));
      if (IX.domains[r[3]]) li.appendChild(tag(IX.domains[r[3]]));
      if (r[6] !== null) li.appendChild(tag("loss " + r[6].toFixed(3)));
      r[5].forEach(function (k) { li.appendChild(tag(IX.reasons[k], "cf-rejected")); });
      if (i === state.open) li.classList.add("cf-open");
      li.addEventListener("click", function () { open(i); });
      list.appendChild(li);
    });
  }

  function open(i) {
    state.open = i;
    Array.prototype.forEach.call($("cf-list").children, function (li) {
      li.classList.toggle("cf-open", +li.dataset.index === i);
    });
    var box = $("cf-dialog");
    box.replaceChildren(el("p", "cf-note", "loading…"));
    var n = Math.floor(i / S.chunk_samples);
    load("s", n, chunks).then(function (cards) {
      var card = cards[i % S.chunk_samples];
      var need = {};
      card.tools.forEach(function (t) { need[Math.floor(t / S.tool_chunk)] = 1; });
      return Promise.all(Object.keys(need).map(function (k) { return load("t", +k, tools); })).then(function () {
        if (state.open === i) show(card);
      });
    }).catch(function (e) { box.replaceChildren(el("p", "cf-note", e.message)); });
  }

  function meta(dl, name, value) {
    dl.appendChild(el("dt", null, name));
    var dd = dl.appendChild(el("dd"));
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
  }

  function pretty(v) { return typeof v === "string" ? v : JSON.stringify(v, null, 2); }

  function show(card) {
    var box = $("cf-dialog");
    box.replaceChildren();
    box.dataset.id = card.id;
    box.appendChild(el("h3", "cf-id", card.id));
    var dl = box.appendChild(el("dl", "cf-meta"));
    var v = el("span");
    v.appendChild(tag(card.verdict, "cf-" + card.verdict));
    meta(dl, "verdict", v);
    meta(dl, "data type", card.data_type || "—");
    meta(dl, "domain", card.domain || "—");
    meta(dl, "loss", card.loss === null ? "not scored" : card.loss);
    meta(dl, "subsets", card.subsets.length ? card.subsets.join(", ") : "none");
    if (card.apis_used.length) meta(dl, "APIs called", card.apis_used.join(", "));
    if (card.verdict === "verified") {
      meta(dl, "checks passed", S.checks.length ? S.checks.join(", ") : "—");
    } else if (card.verdict === "rejected") {
      meta(dl, "checks failed", card.reasons.join(", ") || "—");
    }
    if (S.model_layer) meta(dl, "model judges", S.model_layer);
    if (card.reasons.length) {
      var ul = el("ul", "cf-reasons");
      card.reasons.forEach(function (code) {
        var li = ul.appendChild(el("li"));
        li.appendChild(el("code", null, code));
        if (S.reason_text[code]) li.appendChild(document.createTextNode(" — " + S.reason_text[code]));
      });
      card.details.forEach(function (d) { ul.appendChild(el("li", "cf-detail", d)); });
      meta(dl, "reasons", ul);
    }
    if (card.steering) {
      var st = el("details");
      st.appendChild(el("summary", null, "steering"));
      st.appendChild(el("pre", null, pretty(card.steering)));
      box.appendChild(st);
    }
    if (!card.messages.length) box.appendChild(el("p", "cf-note", "No dialog: the sample was dropped before one was written."));
    card.messages.forEach(function (msg) {
      var role = String(msg.role || "");
      var turn = box.appendChild(el("div", "cf-turn cf-turn-" + role.replace(/[^a-z]/g, "")));
      var label = role + (msg.name ? " · " + msg.name : "") + (msg.tool_call_id ? " · " + msg.tool_call_id : "");
      turn.appendChild(el("span", "cf-role", label));
      if (msg.thinking) {
        var th = turn.appendChild(el("details", "cf-thinking"));
        th.appendChild(el("summary", null, "thinking"));
        th.appendChild(el("div", null, msg.thinking));
      }
      if (msg.content !== undefined && msg.content !== null) turn.appendChild(el("div", "cf-content", pretty(msg.content)));
      (msg.tool_calls || []).forEach(function (c) {
        turn.appendChild(el("pre", "cf-call", String(c.name) + "(" + JSON.stringify(c.arguments, null, 2) + ")"));
      });
    });
    var offered = box.appendChild(el("details", "cf-tools"));
    offered.appendChild(el("summary", null, "tools offered (" + card.tools.length + ")"));
    card.tools.forEach(function (t) {
      var tool = tools[Math.floor(t / S.tool_chunk)][t % S.tool_chunk] || {};
      var d = offered.appendChild(el("details", "cf-tool"));
      var sum = d.appendChild(el("summary"));
      sum.appendChild(el("code", null, tool.name));
      sum.appendChild(document.createTextNode(" — " + (tool.description || "")));
      d.appendChild(el("pre", null, pretty(tool.parameters || {})));
      if (tool.returns) {
        d.appendChild(el("div", "cf-role", "returns"));
        d.appendChild(el("pre", null, pretty(tool.returns)));
      }
    });
  }
})();
