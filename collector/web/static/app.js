// Outflow web UI: one page, routed on the path, reading the JSON API with
// the token kept in localStorage. Every value from the API goes through
// esc() before it reaches innerHTML.
"use strict";

const TOKEN_KEY = "outflow.token";
const POLL_MS = 5000;
let token = localStorage.getItem(TOKEN_KEY) || "";
let me = null; // {name, role, tokens, detectors}
let timer = null;

const main = () => document.getElementById("main");

function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function fmtTime(t) {
  if (!t || t.startsWith("0001")) return "–";
  return t.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
}

function ago(t) {
  const s = Math.round((Date.now() - Date.parse(t)) / 1000);
  if (!t || t.startsWith("0001") || isNaN(s)) return "never";
  if (s < 90) return s + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  if (s < 172800) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " days ago";
}

const bytes = (n) => window.humanBytes(n);
const num = (n) => esc(Number(n || 0).toLocaleString("en-US"));
const sev = (s) => `<span class="sev sev-${esc(s)}">${esc(s)}</span>`;
const triageStatus = (t) => `<span class="st-${esc(t.status)}">${esc(t.status)}</span>`;
const hostLink = (host, name) => `<a href="/ui/hosts/${encodeURIComponent(host)}" data-link>${esc(host)}</a>${name ? ` <span class="muted">${esc(name)}</span>` : ""}`;
const isAdmin = () => me && me.role === "admin";

// --- API -----------------------------------------------------------------

async function api(path, method, body) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method: method || "GET", headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.error || res.statusText);
    err.status = res.status;
    if (res.status === 401) showLogin(token ? "That token was not accepted: " + err.message : "");
    throw err;
  }
  return data;
}

function showLogin(msg) {
  clearInterval(timer);
  me = null;
  document.getElementById("who").textContent = "";
  main().innerHTML = `<div class="card login"><h1>Sign in</h1>
    <p class="muted">Enter your Outflow API token (collector.api.tokens). It is kept in this browser only.</p>
    ${msg ? `<div class="error">${esc(msg)}</div>` : ""}
    <form id="login"><input id="token" type="password" autocomplete="current-password" placeholder="token" required>
    <button type="submit">Sign in</button></form></div>`;
  document.getElementById("login").onsubmit = (e) => {
    e.preventDefault();
    token = document.getElementById("token").value.trim();
    localStorage.setItem(TOKEN_KEY, token);
    route();
  };
}

function renderWho() {
  const el = document.getElementById("who");
  if (!me.tokens) {
    el.textContent = "read-only (no tokens configured)";
    return;
  }
  el.innerHTML = `${esc(me.name)} (${esc(me.role)}) <button class="secondary" id="logout">Sign out</button>`;
  document.getElementById("logout").onclick = () => {
    localStorage.removeItem(TOKEN_KEY);
    token = "";
    showLogin("");
  };
}

// --- routing -------------------------------------------------------------

async function route() {
  clearInterval(timer);
  const path = location.pathname.replace(/\/+$/, "");
  try {
    if (!me) {
      me = await api("/api/v1/whoami");
      renderWho();
    }
    let m;
    if ((m = path.match(/^\/ui\/alerts\/([^/]+)$/))) await alertPage(decodeURIComponent(m[1]));
    else if ((m = path.match(/^\/ui\/hosts\/([^/]+)$/))) await hostPage(decodeURIComponent(m[1]));
    else if (path === "/ui/sensors") await sensorsPage();
    else if (path === "/ui/actions") await actionsPage();
    else await alertsPage();
  } catch (e) {
    if (e.status !== 401) main().innerHTML = `<div class="error">${esc(e.message)}</div>`;
  }
}

function go(href) {
  history.pushState(null, "", href);
  route();
}

document.addEventListener("click", (e) => {
  if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
  const a = e.target.closest("a[data-link]");
  if (a) {
    e.preventDefault();
    go(a.getAttribute("href"));
    return;
  }
  const row = e.target.closest("tr[data-href]");
  if (row && !e.target.closest("a")) go(row.dataset.href);
});
window.addEventListener("popstate", route);
document.addEventListener("DOMContentLoaded", route);

// --- alert list ----------------------------------------------------------

const FILTERS = ["severity", "detector", "host", "status", "triage"];

function options(values, selected, anyLabel) {
  return [`<option value="">${esc(anyLabel)}</option>`]
    .concat(values.map(([v, label]) => `<option value="${esc(v)}"${v === selected ? " selected" : ""}>${esc(label)}</option>`))
    .join("");
}

async function alertsPage() {
  const q = new URLSearchParams(location.search);
  const pairs = (vs) => vs.map((v) => [v, v]);
  main().innerHTML = `<h1>Alerts</h1>
    <form class="filters" id="filters">
      <label>Severity<select name="severity">${options(pairs(["critical", "warning", "info"]), q.get("severity"), "any")}</select></label>
      <label>Detector<select name="detector">${options(pairs(me.detectors || []), q.get("detector"), "any")}</select></label>
      <label>Host<input name="host" value="${esc(q.get("host") || "")}" placeholder="10.0.0.1" size="14"></label>
      <label>Alert<select name="status">${options(pairs(["firing", "resolved"]), q.get("status"), "firing or resolved")}</select></label>
      <label>Triage<select name="triage">${options([["open", "unacknowledged"], ["acknowledged", "acknowledged"], ["resolved", "resolved"]], q.get("triage"), "any")}</select></label>
      <span class="updated" id="updated"></span>
    </form>
    <div id="list"></div>`;
  const form = document.getElementById("filters");
  const params = () => {
    const p = new URLSearchParams();
    for (const f of FILTERS) if (form.elements[f].value) p.set(f, form.elements[f].value.trim());
    return p;
  };
  const load = async () => {
    const data = await api("/api/v1/alerts?" + params());
    renderAlertTable(document.getElementById("list"), data.alerts);
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  };
  form.onchange = form.onsubmit = (e) => {
    e.preventDefault();
    const p = params().toString();
    history.replaceState(null, "", "/ui/" + (p ? "?" + p : ""));
    load().catch(() => {});
  };
  await load();
  timer = setInterval(() => load().catch(() => {}), POLL_MS);
}

function renderAlertTable(el, alerts) {
  if (!alerts.length) {
    el.innerHTML = `<p class="muted">No alerts match.</p>`;
    return;
  }
  el.innerHTML = `<table id="alerts"><thead><tr><th>Severity</th><th>Started</th><th>Host</th><th>Detectors</th>
    <th>Summary</th><th class="num">Bytes out</th><th>Alert</th><th>Triage</th></tr></thead><tbody>${alerts
      .map((a) => `<tr class="row" data-href="/ui/alerts/${encodeURIComponent(a.id)}" data-id="${esc(a.id)}">
        <td>${sev(a.severity)}</td><td>${esc(fmtTime(a.start))}</td><td>${hostLink(a.host, a.host_name)}</td>
        <td>${a.detectors.map((d) => `<span class="tag">${esc(d)}</span>`).join("")}</td>
        <td><a href="/ui/alerts/${encodeURIComponent(a.id)}" data-link>${esc(a.summary)}</a></td>
        <td class="num">${bytes(a.bytes_out)}</td><td>${esc(a.status)}</td><td>${triageStatus(a.triage)}</td></tr>`)
      .join("")}</tbody></table>`;
}

// --- alert detail --------------------------------------------------------

async function alertPage(id) {
  const a = await api("/api/v1/alerts/" + encodeURIComponent(id));
  const t = a.triage;
  const remotes = a.remotes.map((r, i) => `${esc(r)}${a.remote_names[i] ? ` <span class="muted">${esc(a.remote_names[i])}</span>` : ""}`);
  main().innerHTML = `<p><a href="/ui/" data-link>← Alerts</a></p>
    <h1>${sev(a.severity)} ${esc(a.summary)}</h1>
    <div class="card"><dl class="facts">
      <dt>Host</dt><dd>${hostLink(a.host, a.host_name)}</dd>
      <dt>Remotes</dt><dd>${remotes.join("<br>") || "–"}</dd>
      <dt>Detectors</dt><dd>${a.detectors.map((d) => `<span class="tag">${esc(d)}</span>`).join("")}</dd>
      <dt>When</dt><dd>${esc(fmtTime(a.start))} → ${esc(fmtTime(a.end))}</dd>
      <dt>Bytes out</dt><dd>${bytes(a.bytes_out)} (score ${esc(a.score.toFixed(0))})</dd>
      <dt>Alert</dt><dd>${esc(a.status)}${a.update ? ` (update ${esc(a.update)})` : ""}${a.sensors ? `, sensors ${esc(a.sensors.join(", "))}` : ""} · id <code>${esc(a.id)}</code></dd>
      <dt>Triage</dt><dd id="triage-status">${triageStatus(t)}${t.by ? ` by ${esc(t.by)} at ${esc(fmtTime(t.at))}` : ""}${t.note ? ` — “${esc(t.note)}”` : ""}</dd>
    </dl></div>
    <h2>Evidence</h2>
    <table id="evidence"><thead><tr><th>Detector</th><th>Remote</th><th class="num">Bytes out</th><th class="num">Baseline</th>
      <th class="num">Threshold</th><th>First seen</th><th class="num">Hosts</th><th>Reason</th></tr></thead><tbody>${a.evidence
        .map((e) => `<tr><td><span class="tag">${esc(e.detector)}</span></td>
          <td>${esc(e.remote || "–")}${e.remote_name ? `<br><span class="muted">${esc(e.remote_name)}</span>` : ""}</td>
          <td class="num">${bytes(e.bytes_out)}</td><td class="num">${e.baseline ? bytes(e.baseline) : "–"}</td>
          <td class="num">${e.threshold ? bytes(e.threshold) : "–"}</td><td>${esc(fmtTime(e.first_seen))}</td>
          <td class="num">${esc(e.prevalence || "–")}</td><td>${esc(e.reason)}</td></tr>`)
        .join("")}</tbody></table>
    <h2>Triage</h2>
    <div id="act-msg"></div>
    ${isAdmin() ? actionForms(a) : `<p class="muted">${me.tokens ? "Your token is read-only." : "Actions need an admin token (collector.api.tokens)."}</p>`}
    <h2>Rules for this host</h2>${rulesTable(a.rules)}
    <h2>Actions</h2>${actionsTable(a.actions)}`;
  if (isAdmin()) wireActions(a);
}

function actionForms(a) {
  const remoteOpts = a.remotes.map((r, i) => [r, r + (a.remote_names[i] ? " (" + a.remote_names[i] + ")" : "")]);
  const domains = [...new Set(a.remote_names.filter(Boolean))].map((n) => [n, n]);
  return `<div class="actions">
    <div class="card"><b>Status</b>
      <div class="row-inline"><label class="field">Note<input id="note" size="28" placeholder="optional"></label></div>
      <div class="row-inline"><button id="ack">Acknowledge</button><button id="resolve" class="secondary">Resolve</button>
      <button id="reopen" class="secondary">Reopen</button></div></div>
    <div class="card"><b>Suppress</b> <span class="muted">for this host</span>
      <div class="row-inline">
        <label class="field">Remote<select id="sup-remote">${options(remoteOpts, "", "every remote")}</select></label>
        <label class="field">Detector<select id="sup-detector">${options(a.detectors.map((d) => [d, d]), "", "every detector")}</select></label>
        <label class="field">For<select id="sup-duration">${options([["1h", "1 hour"], ["4h", "4 hours"], ["24h", "1 day"], ["168h", "7 days"]], "4h", "")}</select></label>
        <button id="suppress">Suppress</button></div></div>
    <div class="card"><b>Allowlist a destination</b> <span class="muted">for this host, permanently</span>
      <div class="row-inline">
        <label class="field">Destination<select id="allow-dest">${options(remoteOpts.map(([v, l]) => ["remote:" + v, l]).concat(domains.map(([v]) => ["domain:" + v, "*." + v])), "", "choose…")}</select></label>
        <button id="allowlist">Allowlist</button></div></div>
  </div>`;
}

function wireActions(a) {
  const path = "/api/v1/alerts/" + encodeURIComponent(a.id) + "/";
  const msg = document.getElementById("act-msg");
  const act = async (name, body) => {
    try {
      await api(path + name, "POST", body);
      await alertPage(a.id);
      document.getElementById("act-msg").innerHTML = `<span class="notice">${esc(name)}: done</span>`;
    } catch (e) {
      if (e.status !== 401) msg.innerHTML = `<div class="error">${esc(e.message)}</div>`;
    }
  };
  const note = () => document.getElementById("note").value;
  document.getElementById("ack").onclick = () => act("acknowledge", { note: note() });
  document.getElementById("resolve").onclick = () => act("resolve", { note: note() });
  document.getElementById("reopen").onclick = () => act("reopen", { note: note() });
  document.getElementById("suppress").onclick = () =>
    act("suppress", {
      remote: document.getElementById("sup-remote").value,
      detector: document.getElementById("sup-detector").value,
      duration: document.getElementById("sup-duration").value,
      note: note(),
    });
  document.getElementById("allowlist").onclick = () => {
    const [kind, value] = document.getElementById("allow-dest").value.split(/:(.*)/s);
    if (!value) return;
    act("allowlist", { [kind]: value, note: note() });
  };
}

function rulesTable(rules) {
  if (!rules.length) return `<p class="muted">None.</p>`;
  return `<table id="rules"><thead><tr><th>Kind</th><th>Host</th><th>Destination</th><th>Detector</th><th>Until</th><th>By</th><th>Note</th></tr></thead><tbody>${rules
    .map((r) => `<tr><td>${esc(r.kind)}</td><td>${esc(r.host)}</td><td>${esc(r.remote || r.domain || "every remote")}</td>
      <td>${esc(r.detector || "every")}</td><td>${r.expires ? esc(fmtTime(r.expires)) : "permanent"}</td>
      <td>${esc(r.by)} <span class="muted">${esc(fmtTime(r.at))}</span></td><td>${esc(r.note)}</td></tr>`)
    .join("")}</tbody></table>`;
}

function actionsTable(actions, withAlert) {
  if (!actions.length) return `<p class="muted">None yet.</p>`;
  return `<table id="actions"><thead><tr><th>When</th><th>Who</th><th>Action</th>${withAlert ? "<th>Alert</th>" : ""}<th>Parameters</th></tr></thead><tbody>${actions
    .map((x) => `<tr><td>${esc(fmtTime(x.at))}</td><td>${esc(x.by)}</td><td>${esc(x.action)}</td>
      ${withAlert ? `<td>${x.alert ? `<a href="/ui/alerts/${encodeURIComponent(x.alert)}" data-link>${esc(x.alert)}</a>` : ""}</td>` : ""}
      <td>${Object.entries(x.params || {}).map(([k, v]) => `${esc(k)}=${esc(v)}`).join(", ")}</td></tr>`)
    .join("")}</tbody></table>`;
}

async function actionsPage() {
  const data = await api("/api/v1/actions?limit=500");
  main().innerHTML = `<h1>Action log</h1>${actionsTable(data.actions, true)}`;
}

// --- host ----------------------------------------------------------------

async function hostPage(host) {
  const q = new URLSearchParams(location.search);
  const days = q.get("days") || "7";
  const log = q.get("scale") !== "linear";
  const r = await api(`/api/v1/hosts/${encodeURIComponent(host)}?days=${encodeURIComponent(days)}&remotes=20`);
  const link = (d, s) => `/ui/hosts/${encodeURIComponent(host)}?days=${d}&scale=${s}`;
  main().innerHTML = `<h1>Host ${esc(r.host)}${r.name ? ` <span class="muted">${esc(r.name)}</span>` : ""}</h1>
    <div class="card"><dl class="facts">
      <dt>Seen</dt><dd>${esc(fmtTime(r.first_seen))} → ${esc(fmtTime(r.last_seen))}</dd>
      <dt>History</dt><dd>${esc(r.history_windows)} windows of ${esc(r.window_seconds / 60)} min${r.history_windows < r.learning_windows ? " (learning)" : ""}</dd>
      <dt>Alerts</dt><dd>${r.alerts.map((id) => `<a href="/ui/alerts/${encodeURIComponent(id)}" data-link>${esc(id)}</a>`).join(", ") || "none recent"}</dd>
    </dl></div>
    <h2>Outbound bytes per window against the baseline band</h2>
    <div class="card chart" id="chart"></div>
    <div class="legend"><span><i style="background:#64748b"></i>bytes out</span><span><i style="background:#c62828"></i>over its limit</span>
      <span><i style="background:rgba(37,99,235,.16)"></i>typical … limit</span>
      <span>Days: ${[1, 3, 7, 14, 28].map((d) => `<a href="${link(d, log ? "log" : "linear")}" data-link>${d}</a>`).join(" ")}</span>
      <span>Scale: <a href="${link(days, "log")}" data-link>log</a> <a href="${link(days, "linear")}" data-link>linear</a></span></div>
    <h2>Top remotes</h2>
    <table id="remotes"><thead><tr><th>Remote</th><th>Name</th><th>First seen</th><th>Last seen</th><th class="num">Bytes out</th><th class="num">Hosts</th></tr></thead><tbody>${r.remotes
      .map((x) => `<tr><td>${esc(x.remote)}</td><td>${esc(x.name || "–")}</td><td>${esc(fmtTime(x.first_seen))}</td>
        <td>${esc(fmtTime(x.last_seen))}</td><td class="num">${bytes(x.bytes_out)}</td><td class="num">${esc(x.prevalence)}</td></tr>`)
      .join("")}</tbody></table>`;
  document.getElementById("chart").appendChild(window.hostChart(r.windows, r.window_seconds, { log }));
}

// --- sensors -------------------------------------------------------------

async function sensorsPage() {
  const load = async () => {
    const data = await api("/api/v1/sensors");
    const rows = data.sensors.map((s) => {
      const h = s.health, fill = h.TableCapacity ? h.TableEntries / h.TableCapacity : 0;
      return `<tr><td>${esc(s.id)}</td><td>${esc(h.Source || s.source || "–")}</td>
        <td title="${esc(fmtTime(s.last_batch))}">${esc(ago(s.last_batch))}</td><td>${esc(fmtTime(s.clock))}</td>
        <td class="num">${num(h.Packets)}</td><td class="num">${bytes(h.Bytes)}</td>
        <td class="num">${num(h.Drops)}</td><td class="num">${num(h.DecodeErrors)}</td>
        <td><span class="meter"><b class="${fill > 0.9 ? "high" : ""}" style="width:${Math.round(fill * 100)}%"></b></span>${num(h.TableEntries)} / ${num(h.TableCapacity)}</td>
        <td class="num">${num(h.Evictions)}</td><td class="num">${num(s.batches)}</td><td class="num">${num(s.flows)}</td></tr>`;
    });
    main().innerHTML = `<h1>Sensors</h1>${rows.length ? `<table id="sensors"><thead><tr><th>Sensor</th><th>Mode</th><th>Last batch</th><th>Clock (event time)</th>
      <th class="num">Packets</th><th class="num">Bytes</th><th class="num">Drops</th><th class="num">Decode errors</th><th>Flow table</th>
      <th class="num">Evictions</th><th class="num">Batches</th><th class="num">Flows</th></tr></thead><tbody>${rows.join("")}</tbody></table>` : `<p class="muted">No sensor has reported yet.</p>`}`;
  };
  await load();
  timer = setInterval(() => load().catch(() => {}), POLL_MS);
}
