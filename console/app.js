/* global document, window, EventSource, fetch, requestAnimationFrame, uPlot */
// The console's page: no framework, no build. Updates arrive by server-sent events at a fixed
// beat with a bounded number of alerts each; the page keeps the latest rows per topic and redraws
// at most once a frame.
'use strict';

const ROWS = 50;
const rowsByTopic = new Map();
let current = null;
// Until the user picks a topic, the page shows the one that gets every alert: the service lists it
// first. The first rows to arrive may be another topic's (the topics are read side by side).
let picked = false;
let openId = null;
let dirty = false;
let ratesPlot = null;
let curvePlot = null;

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof window.Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return node;
};
const fixed = (v, n) => (typeof v === 'number' ? v.toFixed(n) : '');
// Julian date (ZTF) and MJD (Rubin) as UTC text.
const isoOf = (row) => {
  if (typeof row.time !== 'number') return '';
  const ms = row.survey === 'rubin' ? (row.time - 40587) * 86400000 : (row.time - 2440587.5) * 86400000;
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
};

const COLUMNS = {
  ztf: [['committed', (r) => new Date(r.timeMs).toISOString().slice(11, 19)], ['objectId', (r) => r.object], ['candid', (r) => r.source], ['time (UTC)', (r) => isoOf(r)], ['ra', (r) => fixed(r.ra, 5)], ['dec', (r) => fixed(r.dec, 5)], ['magpsf', (r) => fixed(r.brightness, 3)], ['band', (r) => r.band]],
  rubin: [['committed', (r) => new Date(r.timeMs).toISOString().slice(11, 19)], ['diaObjectId', (r) => r.object], ['diaSourceId', (r) => r.source], ['midpointMjdTai (UTC)', (r) => isoOf(r)], ['ra', (r) => fixed(r.ra, 5)], ['dec', (r) => fixed(r.dec, 5)], ['psfFlux (nJy)', (r) => fixed(r.brightness, 1)], ['band', (r) => r.band]],
};

function table(rows, fresh) {
  const box = el('div');
  for (const survey of ['ztf', 'rubin']) {
    const mine = rows.filter((r) => r.survey === survey);
    if (mine.length === 0) continue;
    const cols = COLUMNS[survey];
    const body = el('tbody');
    for (const r of mine) {
      const tr = el('tr', { 'data-id': r.id, class: `${fresh.has(r.id) ? 'fresh' : ''} ${r.id === openId ? 'selected' : ''}` }, ...cols.map(([, f]) => el('td', {}, f(r))));
      tr.addEventListener('click', () => openAlert(r.id));
      body.append(tr);
    }
    box.append(el('table', { class: `alerts ${survey}` }, el('thead', {}, el('tr', {}, ...cols.map(([h]) => el('th', {}, h)))), body));
  }
  if (rows.length === 0) box.append(el('p', {}, 'No alert yet: the latest appear here as they are committed.'));
  return box;
}

let freshIds = new Set();
function render() {
  dirty = false;
  const nav = $('#topics');
  nav.replaceChildren(...[...rowsByTopic.keys()].map((topic) => {
    const b = el('button', { class: topic === current ? 'active' : '', 'data-topic': topic }, `${topic} (${rowsByTopic.get(topic).count})`);
    b.addEventListener('click', () => { current = topic; picked = true; render(); });
    return b;
  }));
  $('#rows').replaceChildren(table(current === null ? [] : rowsByTopic.get(current).rows, freshIds));
  freshIds = new Set();
}
const schedule = () => { if (!dirty) { dirty = true; requestAnimationFrame(render); } };

function topicEntry(topic) {
  let entry = rowsByTopic.get(topic);
  if (entry === undefined) rowsByTopic.set(topic, (entry = { rows: [], count: 0 }));
  if (current === null) current = topic;
  return entry;
}

function onAlerts(rows) {
  for (const row of rows) {
    const entry = topicEntry(row.topic);
    entry.rows.unshift(row);
    entry.count++;
    freshIds.add(row.id);
    if (entry.rows.length > ROWS) entry.rows.length = ROWS;
  }
  schedule();
}

function facts(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([k, v, cls]) => [el('dt', {}, k), el('dd', cls ? { class: cls } : {}, v)]));
}

function onService({ panel, topics }) {
  for (const t of topics) topicEntry(t.topic);
  if (!picked && topics.length > 0 && current !== topics[0].topic) {
    current = topics[0].topic;
    schedule();
  }
  const s = panel.service;
  const state = $('#service-state');
  state.textContent = s.running ? `service running (pid ${s.pid})` : 'service not running';
  state.className = `badge ${s.running ? 'ok' : 'bad'}`;
  facts($('#service-facts'), [['id', s.id], ['state', s.running ? `running, pid ${s.pid}` : 'not running', s.running ? 'up' : 'away'], ['Kafka', panel.kafka.up ? 'answering' : `not answering: ${panel.kafka.message}`, panel.kafka.up ? 'up' : 'away']]);
  $('#rate-source').textContent = panel.rateSource === 'end offsets' ? '(end offsets: transaction markers included)' : `(${panel.rateSource})`;
  const last = panel.rates.at(-1)?.topics ?? {};
  const read = new Map(topics.map((t) => [t.topic, t]));
  const names = [...new Set([...Object.keys(last), ...read.keys()])].sort();
  const peak = (n) => Math.max(0, ...panel.rates.map((r) => r.topics[n]?.[0] ?? 0));
  $('#rates tbody').replaceChildren(...names.map((n) => el('tr', { 'data-topic': n, 'data-peak': peak(n) }, el('td', {}, n), el('td', {}, fixed(last[n]?.[0] ?? 0, 1)), el('td', {}, fixed(peak(n), 1)), el('td', {}, fixed(last[n]?.[1] ?? 0, 2)), el('td', { title: read.get(n)?.lastError ?? '' }, read.get(n) ? `${read.get(n).messages}${read.get(n).reading === 'ok' ? '' : ' (retrying)'}` : ''))));
  scienceLog(panel);
  userFilters(panel.userFilters);
  $('#lag tbody').replaceChildren(...panel.lag.map((l) => el('tr', { 'data-night': l.night, 'data-behind': l.behind }, el('td', {}, l.night), el('td', {}, l.stored), el('td', {}, l.committed), el('td', {}, l.behind))));
  $('#errors').replaceChildren(...(panel.errors.length === 0 ? [el('li', {}, 'none')] : panel.errors.map((e) => el('li', {}, `${e.kind}: ${e.count}`))));
  $('#brokers').replaceChildren(...(panel.kafka.brokers.length === 0 ? [el('li', { class: 'away' }, 'none answering')] : panel.kafka.brokers.map((b) => el('li', { class: b.up ? 'up' : 'away', 'data-broker': b.id }, `broker ${b.id} ${b.address}: ${b.up ? 'up' : 'away'}`))));
  drawRates(panel.rates, names);
}

// With the science log (SCIENCE_STORE=kafka): its topics' write rates and the group's lag replace
// the lag per night, and search, which needs the SQLite store, says so before anyone tries.
function scienceLog(panel) {
  const onLog = panel.store === 'kafka' && panel.log !== null;
  $('#science-log').hidden = !onLog;
  $('#night-lag').hidden = onLog;
  const input = $('#search input');
  input.placeholder = onLog ? 'search needs SCIENCE_STORE=sqlite' : 'objectId or candid';
  input.title = onLog ? 'The science log (SCIENCE_STORE=kafka) is not indexed by objectId or candid: search needs the SQLite science database.' : '';
  if (!onLog) return;
  const log = panel.log;
  $('#log-group').textContent = `(group ${log.group})`;
  $('#log tbody').replaceChildren(...log.topics.map((t) => el('tr', { 'data-topic': t.topic, 'data-rate': t.rate ?? '', 'data-lag': t.lag }, el('td', {}, t.topic), el('td', {}, t.rate === null ? '…' : fixed(t.rate, 1)), el('td', {}, t.offsets), el('td', {}, t.lag))));
  $('#log-note').textContent = log.error !== null ? `not read: ${log.error}` : log.topics.length === 0 ? 'no science topic yet: the first write creates it' : 'rates from end offsets (transaction markers included); lag: records not yet committed by the group';
}

// The user filters (fink filter add) with their rates now. Their conditions are user text: set as
// text nodes (el), never as markup. Counts over quota and errors come from the metrics endpoint.
const count = (n) => (n === null ? '–' : String(n));
function userFilters(list) {
  const section = $('#user-filters');
  section.hidden = list === null;
  if (list === null) return;
  const note = $('#user-filters-note');
  note.hidden = list.problem === null;
  note.textContent = list.problem ?? '';
  $('#user-filters-count').textContent = list.version === null ? `(${list.topic} not read yet)` : `(${list.filters.length} in ${list.topic})`;
  const quota = (f) => (f.quotaMb === null ? 'none' : `${f.quotaMb}${f.quotaFrom === 'default' ? ' (default)' : ''}`);
  const rate = (v, n) => (v === null ? '…' : fixed(v, n));
  const rows = list.filters.map((f) => el('tr', { 'data-filter': `${f.owner}/${f.name}/${f.survey}`, 'data-rate': f.alertsPerSecond ?? '' },
    el('td', {}, f.owner), el('td', {}, f.name), el('td', {}, f.survey), el('td', { class: 'where' }, f.where), el('td', {}, f.topic), el('td', {}, f.content),
    el('td', {}, quota(f)), el('td', {}, rate(f.alertsPerSecond, 1)), el('td', {}, rate(f.bytesPerSecond, 0)), el('td', {}, count(f.overQuota)), el('td', {}, count(f.errors))));
  const none = list.version !== null && list.problem === null && rows.length === 0;
  $('#user-filters-table tbody').replaceChildren(...(none ? [el('tr', {}, el('td', { colspan: '11' }, 'No user filter registered: fink filter add NAME --survey ztf|lsst --where "CONDITION".'))] : rows));
}

// A single sample gets an empty one a minute before it: alone, uPlot stretches its time axis over years.
function drawRates(rates, names) {
  const box = $('#rates-chart');
  const padded = rates.length === 1 ? [{ t: rates[0].t - 60_000, topics: {} }, rates[0]] : rates;
  const data = [padded.map((r) => r.t / 1000), ...names.map((n) => padded.map((r) => r.topics[n]?.[0] ?? null))];
  if (ratesPlot === null || ratesPlot.series.length !== names.length + 1) {
    ratesPlot?.destroy();
    const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
    ratesPlot = new uPlot({ width: 290, height: 160, legend: { show: false }, scales: { x: { time: true } }, axes: [{}, { label: 'msg/s', size: 50 }], series: [{}, ...names.map((n, i) => ({ label: n, stroke: palette[i % palette.length], width: 1.5 }))] }, data, box);
  } else {
    ratesPlot.setData(data);
  }
}

const BAND_COLOURS = { g: '#2ca02c', r: '#d62728', i: '#8c564b', u: '#9467bd', z: '#7f7f7f', y: '#e377c2' };

function drawCurve(curve) {
  curvePlot?.destroy();
  curvePlot = null;
  const box = $('#curve');
  box.replaceChildren();
  const all = [...new Set(curve.bands.flatMap((b) => [...b.points.map((p) => p.t), ...b.limits.map((p) => p.t)]))].sort((a, b) => a - b);
  // Days since a round origin: full Julian dates make unreadable ticks.
  const origin = all.length === 0 ? 0 : Math.floor(all[0]);
  const times = all.map((t) => t - origin);
  const at = new Map(all.map((t, i) => [t, i]));
  const series = [{ label: curve.timeLabel }];
  const data = [times];
  const errors = [];
  for (const band of curve.bands) {
    const colour = BAND_COLOURS[band.band] ?? '#1f77b4';
    const ys = times.map(() => null);
    const errs = times.map(() => null);
    for (const p of band.points) { ys[at.get(p.t)] = p.y; errs[at.get(p.t)] = p.err; }
    series.push({ label: `${band.band}`, stroke: colour, width: 0, paths: () => null, points: { show: true, size: 7, fill: colour, stroke: colour } });
    data.push(ys);
    errors.push(errs);
    if (band.limits.length > 0) {
      const ls = times.map(() => null);
      for (const p of band.limits) ls[at.get(p.t)] = p.y;
      series.push({ label: `${band.band} upper limit`, stroke: colour, width: 0, paths: () => null, points: { show: true, size: 8, fill: '#fff', stroke: colour, width: 1.5 } });
      data.push(ls);
      errors.push(null);
    }
  }
  const errorBars = (u) => {
    const ctx = u.ctx;
    errors.forEach((errs, k) => {
      if (errs === null) return;
      const s = k + 1;
      ctx.strokeStyle = u.series[s].stroke();
      ctx.lineWidth = 1;
      for (let i = 0; i < times.length; i++) {
        const y = u.data[s][i];
        if (y == null || errs[i] == null) continue;
        const x = u.valToPos(times[i], 'x', true);
        ctx.beginPath();
        ctx.moveTo(x, u.valToPos(y - errs[i], 'y', true));
        ctx.lineTo(x, u.valToPos(y + errs[i], 'y', true));
        ctx.stroke();
      }
    });
  };
  curvePlot = new uPlot({ width: 460, height: 240, legend: { live: false }, scales: { x: { time: false }, y: { dir: curve.inverted ? -1 : 1 } }, axes: [{ label: `${curve.timeLabel} − ${origin}` }, { label: curve.valueLabel, size: 60 }], series, hooks: { draw: [errorBars] } }, data, box);
  $('#curve-bands').replaceChildren(...curve.bands.map((b) => el('li', { 'data-band': b.band, 'data-points': b.points.length, 'data-limits': b.limits.length }, `${b.band}: ${b.points.length} detection${b.points.length === 1 ? '' : 's'}${b.limits.length > 0 ? `, ${b.limits.length} upper limit${b.limits.length === 1 ? '' : 's'} (hollow)` : ''}`)));
}

// A console with a token whose cookie is gone (restarted with another token): back to its login form.
function loggedOut(response) {
  if (response.status !== 401) return false;
  window.location.assign('/');
  return true;
}

async function openAlert(id) {
  openId = id;
  schedule();
  const base = `/api/alert/${encodeURIComponent(id)}`;
  const response = await fetch(base);
  if (loggedOut(response)) return;
  const detail = await response.json();
  const pane = $('#alert');
  pane.hidden = false;
  if (!response.ok) {
    $('#alert-title').textContent = detail.error;
    return;
  }
  const r = detail.row;
  $('#alert-title').textContent = `${r.object} / ${r.source}`;
  $('#alert-origin').textContent = `${detail.origin} · ${detail.schema}`;
  $('#cutouts').replaceChildren(...detail.cutouts.map((kind) => el('figure', {}, el('img', { src: `${base}/cutout/${kind}.png`, alt: `${kind} cutout`, 'data-kind': kind }), el('figcaption', {}, kind))));
  drawCurve(detail.lightCurve);
  $('#alert-download').href = `${base}/alert.avro`;
  $('#alert-fields').textContent = JSON.stringify(detail.fields, null, 1);
  pane.dataset.id = id;
}

async function search(q) {
  const response = await fetch(`/api/search?q=${encodeURIComponent(q)}`);
  if (loggedOut(response)) return;
  const result = await response.json();
  const box = $('#search-results');
  box.hidden = false;
  $('#search-query').textContent = response.ok ? `${result.query}: ${result.rows.length} alert${result.rows.length === 1 ? '' : 's'}` : result.error;
  box.querySelector('.rows').replaceChildren(table(response.ok ? result.rows : [], new Set()));
}

function connect() {
  const source = new EventSource('/events');
  const badge = $('#connection');
  source.onopen = () => { badge.textContent = 'live'; badge.className = 'badge ok'; };
  source.onerror = () => { badge.textContent = 'reconnecting…'; badge.className = 'badge bad'; };
  source.addEventListener('alerts', (e) => onAlerts(JSON.parse(e.data).rows));
  source.addEventListener('service', (e) => onService(JSON.parse(e.data)));
}

$('#search').addEventListener('submit', (e) => { e.preventDefault(); void search(new window.FormData(e.target).get('q')); });
$('#search-close').addEventListener('click', () => { $('#search-results').hidden = true; });
connect();
