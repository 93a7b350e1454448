/**
 * The dashboard: one self-contained page (inline CSS and JS, no external
 * requests) that reads the admin API with the bearer token the user enters
 * once per browser tab (sessionStorage). Every value from the API goes into the
 * page as text (textContent), never as HTML. The Content-Security-Policy allows
 * exactly this script and this style, by hash.
 *
 * The charts are the report module's sections (inline SVG rendered on the
 * server, every value escaped there), fetched once per store version and
 * inserted as markup: the CSP lets no script in them run.
 */
import { createHash } from 'node:crypto';
import { REPORT_CSS } from '../report/index.js';

const DASHBOARD_STYLE = `
:root { --fg:#1d2330; --muted:#5b6475; --line:#d9dee7; --bg:#f6f7fa; --card:#fff; --accent:#2456d6;
  --ok:#1e7b45; --okbg:#e3f4ea; --bad:#b3261e; --badbg:#fbe6e4; --warn:#8a5a00; --warnbg:#fff1d6; --run:#2456d6; --runbg:#e5edff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; gap:16px; padding:12px 24px; background:#141b2d; color:#fff; }
header h1 { font-size:18px; margin:0; letter-spacing:.02em; }
header .sub { color:#aab4c8; font-size:13px; flex:1; }
header button { background:transparent; color:#cfd6e4; border:1px solid #3a4560; }
main { max-width:1200px; margin:0 auto; padding:16px 24px 48px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px 16px; margin:14px 0; }
h2 { font-size:15px; margin:0 0 10px; display:flex; gap:10px; align-items:baseline; }
h2 small { color:var(--muted); font-weight:normal; font-size:12px; }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.nowrap { white-space:nowrap; }
button { font:inherit; padding:5px 12px; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; }
button.secondary { background:#fff; color:var(--accent); }
button:disabled { opacity:.5; cursor:default; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
.st-succeeded { color:var(--ok); background:var(--okbg); }
.st-failed { color:var(--bad); background:var(--badbg); }
.st-held, .st-interrupted { color:var(--warn); background:var(--warnbg); }
.st-running { color:var(--run); background:var(--runbg); }
.st-skipped { color:var(--muted); background:#eef0f4; }
.muted { color:var(--muted); }
.err { color:var(--bad); }
.bar { height:8px; background:#e8ecf3; border-radius:4px; min-width:80px; }
.bar > span { display:block; height:8px; border-radius:4px; background:var(--accent); }
.bar.rev > span { background:#1e9e6a; }
#login { max-width:420px; margin:80px auto; }
#login input { width:100%; padding:8px; font:inherit; border:1px solid var(--line); border-radius:6px; margin:8px 0 12px; }
#notice { min-height:20px; margin:8px 0 0; }
.held { border-left:4px solid #e0a100; padding-left:10px; }
label.full { color:var(--muted); margin-right:8px; font-size:13px; }
.hidden { display:none; }
#report-box .segsync-report { padding:0; max-width:none; font-size:14px; }
#report-box .segsync-report .ss-section:first-child { border-top:0; margin-top:0; padding-top:4px; }
`;
const STYLE = DASHBOARD_STYLE + REPORT_CSS;

const SCRIPT = `
'use strict';
const KEY = 'segsync.adminToken';
const $ = (id) => document.getElementById(id);
let timer = null;
let lastRunsJson = '';
let reportKey = '';
let reportBusy = false;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (k.startsWith('data-') || k === 'type' || k === 'title' || k === 'id' || k === 'disabled' || k === 'aria-label') e.setAttribute(k, v === true ? '' : String(v));
    else e[k] = v;
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const fmtNum = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '-');
const pct = (x) => (typeof x === 'number' ? (x * 100).toFixed(1) + '%' : '-');
function when(iso) {
  if (!iso) return '-';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}
function dur(a, b) {
  if (!a) return '';
  const ms = (b ? new Date(b) : new Date()) - new Date(a);
  return ms < 1000 ? ms + ' ms' : ms < 120000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms / 60000) + ' min';
}
function notice(text, bad) {
  const n = $('notice');
  n.textContent = text || '';
  n.className = bad ? 'err' : 'muted';
}

async function api(path, opts) {
  const token = sessionStorage.getItem(KEY);
  if (!token) { showLogin(); throw new Error('signed out'); }
  const init = { method: 'GET', ...(opts || {}), headers: { authorization: 'Bearer ' + token } };
  if (init.body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(init.body); }
  const res = await fetch(path, init);
  if (res.status === 401) {
    sessionStorage.removeItem(KEY);
    showLogin('That token was not accepted.');
    throw new Error('unauthorized');
  }
  const body = await res.json().catch(() => ({}));
  return { status: res.status, body };
}

function showLogin(msg) {
  if (timer) { clearTimeout(timer); timer = null; }
  $('app').classList.add('hidden');
  $('login').classList.remove('hidden');
  $('login-msg').textContent = msg || '';
  $('token').focus();
}
function showApp() {
  $('login').classList.add('hidden');
  $('app').classList.remove('hidden');
  refresh();
}

function statusBadge(s) { return el('span', { class: 'badge st-' + s }, s); }

function renderConnectors(st) {
  const body = $('connectors-body');
  body.replaceChildren();
  const busy = !!st.running;
  for (const c of st.connectors) {
    const full = el('input', { type: 'checkbox', 'aria-label': 'full resync of ' + c.name });
    const btn = el('button', { 'data-connector': c.name, disabled: busy, title: busy ? 'a job is running' : '', on: { click: () => resync(c.name, full.checked, btn) } }, 'Resync now');
    const streams = c.streams.length
      ? c.streams.map((s) => el('div', {}, s.stream + ': ' + when(s.lastSyncAt) + (s.complete ? '' : ' (partial, resumes)')))
      : [el('span', { class: 'muted' }, 'never synced')];
    body.append(el('tr', { 'data-connector-row': c.name },
      el('td', {}, el('strong', {}, c.name)),
      el('td', {}, c.type + (c.pushTarget ? ' (push target)' : '')),
      el('td', {}, streams),
      el('td', {}, el('label', { class: 'full' }, full, ' full'), btn)));
  }
  const q = st.quarantine;
  const more = q.reasons.length - 4 + q.moreReasons;
  $('quarantine').textContent = q.total
    ? fmtNum(q.total) + ' quarantined records (' + q.reasons.slice(0, 4).map((g) => g.reason + ': ' + fmtNum(g.count)).join(', ') + (more > 0 ? ' and ' + more + ' more reasons' : '') + ')'
    : 'no quarantined records';
}

function renderHeader(st) {
  const parts = [];
  parts.push(fmtNum(st.counts.customers) + ' customers, ' + fmtNum(st.counts.transactions) + ' transactions');
  if (st.model) parts.push('model #' + st.model.id + ' (' + st.model.algorithm + ', k=' + st.model.k + ')');
  else parts.push('no model yet');
  if (st.running) parts.push('running: #' + st.running.runId + ' ' + (st.running.kind || ''));
  if (st.schedule) for (const j of st.schedule.jobs) parts.push(j.job + ' ' + (j.next ? 'next ' + when(j.next) : j.cron));
  $('sub').textContent = parts.join(' \\u00b7 ');
}

function countsText(r) {
  const c = r.counts || {};
  if (r.kind === 'run') return ['sync', 'segment', 'push'].filter((k) => c[k]).map((k) => countsText({ kind: k, counts: c[k] })).join('; ');
  if (r.kind === 'sync') return c.read !== undefined ? fmtNum(c.read) + ' read, ' + fmtNum(c.upserted) + ' upserted, ' + fmtNum(c.quarantined) + ' quarantined' : '';
  if (r.kind === 'segment') return c.k !== undefined ? 'k=' + c.k + ', ' + fmtNum(c.customers) + ' customers' + (c.churn !== null && c.churn !== undefined ? ', churn ' + pct(c.churn) : '') : '';
  if (r.kind === 'push') return c.adds !== undefined ? fmtNum(c.adds) + ' adds, ' + fmtNum(c.removes) + ' removes' + (c.dryRun ? ' (dry run)' : ', ' + fmtNum(c.written) + ' written, ' + fmtNum(c.failed) + ' failed' + (c.rejected ? ', ' + fmtNum(c.rejected) + ' rejected (deleted in the CRM)' : '')) : '';
  if (r.kind === 'realtime') {
    const what = c.events !== undefined ? fmtNum(c.events) + ' events' : c.read !== undefined ? fmtNum(c.read) + ' read' : '';
    return what ? what + ', ' + fmtNum(c.customers || 0) + ' customers, ' + fmtNum(c.moved || 0) + ' moved' + (c.push ? ', ' + fmtNum(c.push.written) + ' written' : '') : '';
  }
  return '';
}

function renderRuns(items) {
  const json = JSON.stringify(items);
  if (json === lastRunsJson) return;
  lastRunsJson = json;
  const body = $('runs-body');
  body.replaceChildren();
  for (const r of items) {
    body.append(el('tr', { 'data-run-id': r.id, 'data-status': r.status, 'data-kind': r.kind },
      el('td', {}, '#' + r.id), el('td', {}, r.kind), el('td', {}, r.trigger), el('td', { class: 'nowrap' }, when(r.startedAt)),
      el('td', { class: 'num' }, dur(r.startedAt, r.finishedAt)), el('td', {}, statusBadge(r.status)),
      el('td', {}, countsText(r)), el('td', { class: 'err' }, r.error ? r.error.slice(0, 160) : '')));
  }
  if (!items.length) body.append(el('tr', {}, el('td', { colSpan: 8, class: 'muted' }, 'no runs yet')));
}

function bar(x, cls) {
  const s = el('span');
  s.style.width = Math.max(0, Math.min(100, x * 100)).toFixed(1) + '%';
  return el('div', { class: 'bar ' + (cls || '') }, s);
}

function renderSegments(seg) {
  const body = $('segments-body');
  body.replaceChildren();
  $('segments-sub').textContent = seg.modelId ? 'model #' + seg.modelId + ', ' + fmtNum(seg.total) + ' customers' : '';
  if (!seg.items.length) { body.append(el('tr', {}, el('td', { colSpan: 6, class: 'muted' }, 'no segments yet'))); return; }
  for (const s of seg.items) {
    body.append(el('tr', { 'data-segment-id': s.id },
      el('td', {}, el('strong', {}, s.name), el('div', { class: 'muted' }, s.id)),
      el('td', { class: 'num' }, fmtNum(s.size)),
      el('td', {}, pct(s.share), bar(s.share)),
      el('td', {}, pct(s.revenueShare), bar(s.revenueShare, 'rev')),
      el('td', {}, s.description)));
  }
}

function renderPlan(status, plan) {
  const box = $('plan');
  box.replaceChildren();
  if (status !== 200) { box.append(el('p', { class: 'muted' }, (plan.error && plan.error.message) || 'no plan')); return; }
  const head = el('p', { class: plan.held ? 'held' : '' });
  if (plan.held) {
    head.append('Push held: ' + pct(plan.churn) + ' of customers changed segment, above push.maxChurn (' + pct(plan.maxChurn) + '). Review the plan, then approve. ');
    head.append(el('button', { id: 'approve', on: { click: () => push({ approve: true }, 'Approve and push ' + fmtNum(plan.adds) + ' adds and ' + fmtNum(plan.removes) + ' removes?') } }, 'Approve'));
  } else if (plan.adds + plan.removes === 0) {
    head.append('Nothing to push: the targets match model #' + plan.modelId + '.');
  } else {
    head.append(fmtNum(plan.adds) + ' adds and ' + fmtNum(plan.removes) + ' removes pending' + (plan.churn !== null ? ' (churn ' + pct(plan.churn) + ')' : '') + '. ');
    head.append(el('button', { class: 'secondary', on: { click: () => push({}, null) } }, 'Push now'));
  }
  box.append(head);
  const rows = [];
  for (const t of plan.targets) for (const s of t.segments) rows.push(el('tr', {}, el('td', {}, t.target), el('td', {}, s.name, ' ', el('span', { class: 'muted' }, s.segmentId)), el('td', { class: 'num' }, fmtNum(s.adds)), el('td', { class: 'num' }, fmtNum(s.removes))));
  if (rows.length) box.append(el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'target'), el('th', {}, 'segment'), el('th', { class: 'num' }, 'adds'), el('th', { class: 'num' }, 'removes'))), el('tbody', {}, rows)));
}

// The charts change only when a run finishes: ask with the key we have, re-render only on a new one.
async function refreshReport() {
  if (reportBusy) return;
  reportBusy = true;
  try {
    const r = await api('/api/report' + (reportKey ? '?known=' + encodeURIComponent(reportKey) : ''));
    if (r.status !== 200) { $('report-sub').textContent = (r.body.error && r.body.error.message) || 'charts unavailable'; return; }
    if (r.body.unchanged) return;
    reportKey = r.body.key;
    const box = $('report');
    box.replaceChildren();
    for (const s of r.body.sections) {
      const sec = document.createElement('section');
      sec.className = 'ss-section';
      sec.id = 'report-' + s.id;
      sec.setAttribute('data-section', s.id);
      const h = document.createElement('h2');
      h.textContent = s.title;
      const body = document.createElement('div');
      // server-rendered markup with every value escaped there; the CSP blocks any script in it
      body.innerHTML = s.html;
      sec.append(h, body);
      box.append(sec);
    }
    $('report-sub').textContent = r.body.modelId ? 'model #' + r.body.modelId : '';
  } catch (e) {
    if (e.message !== 'signed out' && e.message !== 'unauthorized') $('report-sub').textContent = 'charts unavailable: ' + e.message;
  } finally {
    reportBusy = false;
  }
}

async function start(path, body, what) {
  const r = await api(path, { method: 'POST', body });
  if (r.status === 202) { notice(what + ' started: run #' + r.body.runId); lastRunsJson = ''; }
  else if (r.status === 409) notice('Not started: run #' + (r.body.heldBy ? r.body.heldBy.runId : '?') + ' is running.', true);
  else notice((r.body.error && r.body.error.message) || 'failed with HTTP ' + r.status, true);
  refresh();
}
function resync(connector, full, btn) {
  btn.disabled = true;
  start('/api/sync', { connector, full }, (full ? 'Full resync' : 'Resync') + ' of ' + connector).catch((e) => notice(e.message, true));
}
function push(body, question) {
  if (question && !confirm(question)) return;
  start('/api/push', body, 'Push').catch((e) => notice(e.message, true));
}

async function refresh() {
  if (timer) { clearTimeout(timer); timer = null; }
  let busy = false;
  try {
    const [st, runs, seg, plan] = await Promise.all([api('/api/status'), api('/api/runs?limit=25'), api('/api/segments'), api('/api/push/plan')]);
    if (st.status === 200) { renderHeader(st.body); renderConnectors(st.body); busy = !!st.body.running; }
    if (runs.status === 200) renderRuns(runs.body.items);
    if (seg.status === 200) renderSegments(seg.body);
    renderPlan(plan.status, plan.body);
    if (!busy) refreshReport();
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    if (e.message === 'signed out' || e.message === 'unauthorized') return;
    notice('Cannot reach segsync: ' + e.message, true);
  }
  timer = setTimeout(refresh, busy ? 1500 : 5000);
}

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const t = $('token').value.trim();
  if (!t) return;
  sessionStorage.setItem(KEY, t);
  $('token').value = '';
  showApp();
});
$('signout').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  reportKey = '';
  $('report').replaceChildren();
  showLogin();
});
if (sessionStorage.getItem(KEY)) showApp(); else showLogin();
`;

const BODY = `
<header><h1>segsync</h1><div class="sub" id="sub"></div><button id="signout" type="button">Sign out</button></header>
<div id="login" class="hidden"><section>
  <h2>Admin token</h2>
  <form id="login-form">
    <label for="token">Enter the admin API token (server.token). It is kept in this browser tab only.</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
    <p id="login-msg" class="err"></p>
  </form>
</section></div>
<main id="app" class="hidden">
  <p id="notice" class="muted"></p>
  <section><h2>Connectors <small id="quarantine"></small></h2>
    <table><thead><tr><th>connector</th><th>type</th><th>last sync</th><th></th></tr></thead><tbody id="connectors-body"></tbody></table>
  </section>
  <section><h2>Runs <small id="updated"></small></h2>
    <table><thead><tr><th>run</th><th>kind</th><th>trigger</th><th>started</th><th class="num">took</th><th>status</th><th>counts</th><th>error</th></tr></thead><tbody id="runs-body"></tbody></table>
  </section>
  <section><h2>Segments <small id="segments-sub"></small></h2>
    <table><thead><tr><th>segment</th><th class="num">customers</th><th>share</th><th>revenue share</th><th>description</th></tr></thead><tbody id="segments-body"></tbody></table>
  </section>
  <section><h2>Push plan</h2><div id="plan"></div></section>
  <section id="report-box"><h2>Charts <small id="report-sub">loading…</small></h2><div id="report" class="segsync-report"></div></section>
</main>`;

const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>segsync</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body>${BODY}
<script>${SCRIPT}</script>
</body></html>
`;

/** CSP sources for exactly the inline style and script above. */
export const DASHBOARD_CSP = { script: sha256(SCRIPT), style: sha256(STYLE) } as const;
