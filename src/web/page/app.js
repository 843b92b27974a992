// teachcam status page: reads GET /api/state, the event stream GET /api/events and the live
// view GET /api/stream.mjpg; the controls POST to /api/capture/<label>, /api/train, /api/undo
// with the token. Plain DOM, no framework; every text goes in through textContent.
'use strict';

const NOTHING = '(nothing known)';
const PALETTE = ['#2563eb', '#db2777', '#0d9488', '#d97706', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];
const TOKEN_KEY = 'teachcam.token';
const UNREACHABLE = 'The daemon is unreachable — reconnecting…';
const $ = (id) => document.getElementById(id);

let state = null;       // the last /api/state
let lastDetection = null;
let streamRetry = null;
let lastCaptureAsked = 0;
let ledRefresh = null;

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'style') Object.assign(e.style, v);
    else if (k.startsWith('--')) e.style.setProperty(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function colour(label) {
  const i = state ? state.labels.indexOf(label) : -1;
  return i < 0 ? '#8a94a6' : PALETTE[i % PALETTE.length];
}

const pct = (p) => `${Math.round(p * 100)}%`;
const pct1 = (p) => `${(p * 100).toFixed(1)}%`;

function ago(unix) {
  const s = Math.max(0, Date.now() / 1000 - unix);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(unix * 1000).toLocaleString();
}

function uptime(unix) {
  const s = Math.max(0, Math.floor(Date.now() / 1000 - unix));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

// ---- connection -------------------------------------------------------------------------

function setLink(s, text) {
  $('link').dataset.state = s;
  $('link-text').textContent = text;
  document.body.dataset.link = s;
  const msg = $('frame-msg');
  if (s === 'lost') msg.textContent = UNREACHABLE;
  else if (msg.textContent === UNREACHABLE) msg.textContent = 'Waiting for the camera…';
}

async function refresh() {
  try {
    const r = await fetch('/api/state', { cache: 'no-store' });
    if (!r.ok) throw new Error(r.statusText);
    state = await r.json();
    render();
  } catch (e) {
    setLink('lost', 'daemon unreachable, retrying…');
  }
}

function connect() {
  const es = new EventSource('/api/events');
  let wasLost = false;
  es.onopen = () => {
    setLink('live', 'live');
    refresh();
    if (wasLost) startStream();
    wasLost = false;
  };
  es.onerror = () => {
    wasLost = true;
    setLink('lost', 'reconnecting…');
  };
  es.onmessage = (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    if (ev.type === 'detection') {
      // The LEDs follow the label: fetch them soon after it changes.
      if (!lastDetection || lastDetection.label !== ev.label) {
        clearTimeout(ledRefresh);
        ledRefresh = setTimeout(refresh, 150);
      }
      drawDetection(ev);
      return;
    }
    if (ev.type === 'capture' && Date.now() - lastCaptureAsked < 5000) say(`Captured ${ev.label} (now ${ev.count}).`, 'ok');
    if (ev.type === 'trained') say('Trained: ' + ev.summary, 'ok');
    if (ev.type === 'training_failed') say('Training failed: ' + ev.reason, 'err');
    refresh();
  };
}

// ---- live view ----------------------------------------------------------------------------

function startStream() {
  clearTimeout(streamRetry);
  const img = $('live');
  if (document.hidden) { img.removeAttribute('src'); return; }
  img.src = '/api/stream.mjpg?t=' + Date.now();
}

function setupStream() {
  const img = $('live');
  img.addEventListener('load', () => { $('frame-msg').textContent = ''; });
  img.addEventListener('error', () => {
    $('frame-msg').textContent = 'No picture — retrying…';
    clearTimeout(streamRetry);
    streamRetry = setTimeout(startStream, 2000);
  });
  document.addEventListener('visibilitychange', startStream);
  startStream();
}

// ---- rendering ----------------------------------------------------------------------------

function render() {
  const s = state;
  $('version').textContent = `teachcam ${s.version} · up ${uptime(s.started_at)}`;
  drawLeds(s);
  drawDetection(s.detection);
  drawExamples(s);
  drawTraining(s.training);
  drawHealth(s);
}

function drawLeds(s) {
  const box = $('leds');
  box.replaceChildren(
    ...s.labels.map((l, i) => el('span', { class: 'led' + (s.leds.labels[i] ? ' on' : ''), '--c': colour(l), title: `LED ${l}` }, el('i'), l)),
    el('span', { class: 'led' + (s.leds.status ? ' on' : ''), title: 'status LED' }, el('i'), 'status'),
  );
}

function drawDetection(d) {
  lastDetection = d;
  const big = $('detected'), hint = $('detected-hint'), verdict = $('verdict');
  if (!state) return;
  if (!d) {
    big.textContent = '—';
    big.className = 'detected unknown';
    hint.textContent = state.training.ready ? 'Waiting for frames…' : 'Nothing trained yet: capture examples of each label, then train.';
    verdict.hidden = true;
    $('bars').replaceChildren();
    return;
  }
  let text, cls = 'detected', c = colour(d.label);
  if (d.label) { text = d.label; hint.textContent = `${pct(d.confidence)} sure${d.reused ? ' · scene unchanged' : ''}`; }
  else if (d.nothing_known) { text = 'nothing known'; cls += ' unknown'; hint.textContent = 'Nothing it was taught is in view.'; }
  else { text = 'not sure'; cls += ' unknown'; hint.textContent = `Best guess ${d.top} at ${pct(d.confidence)}, below its threshold.`; }
  big.textContent = text;
  big.className = cls;
  verdict.hidden = false;
  verdict.replaceChildren(el('span', { class: 'swatch', style: { background: d.label ? c : '#8a94a6' } }), d.label ? `${text} · ${pct(d.confidence)}` : text);

  const bars = $('bars');
  const rows = new Map([...bars.children].map((r) => [r.dataset.label, r]));
  const want = d.confidences.map((x) => x.label);
  if (want.join('\n') !== [...rows.keys()].join('\n')) {
    bars.replaceChildren(...want.map((l) => {
      const none = l === NOTHING;
      const row = el('div', { class: 'bar' + (none ? ' none' : ''), '--c': colour(l) },
        el('span', { class: 'name', title: l }, none ? 'nothing known' : l),
        el('div', { class: 'track' }, el('div', { class: 'fill' })),
        el('span', { class: 'pct' }));
      row.dataset.label = l;
      return row;
    }));
  }
  for (const x of d.confidences) {
    const row = [...bars.children].find((r) => r.dataset.label === x.label);
    row.querySelector('.fill').style.width = pct1(Math.min(1, Math.max(0, x.p)));
    row.querySelector('.pct').textContent = pct(x.p);
  }
}

function drawExamples(s) {
  const [enough, ideal] = s.suggested;
  const labels = [...s.labels, ...Object.keys(s.counts).filter((l) => !s.labels.includes(l))];
  $('suggest').textContent = `${enough} per label to start, ${ideal} or more is better.`;
  $('examples').replaceChildren(...labels.map((l) => {
    const n = s.counts[l] || 0;
    const fill = el('div', { class: 'fill', style: { width: pct1(Math.min(n, ideal) / ideal) } });
    const bar = el('div', { class: 'progress' + (n >= ideal ? ' ideal' : n >= enough ? ' enough' : '') },
      fill, el('div', { class: 'mark', style: { left: pct1(enough / ideal) }, title: `${enough}: enough to start` }));
    const count = n >= ideal ? `${n} ✓` : n >= enough ? `${n} of ${ideal} ideal` : `${n} of ${enough} to start`;
    const row = el('div', { class: 'example' },
      el('div', { class: 'name', '--c': colour(l) }, el('span', { class: 'swatch' }), l, el('span', { class: 'count' }, count)),
      bar);
    if (s.controls && s.labels.includes(l)) {
      const b = el('button', { type: 'button', textContent: `Capture ${l}` });
      b.dataset.label = l;
      b.addEventListener('click', () => { lastCaptureAsked = Date.now(); control(`/api/capture/${encodeURIComponent(l)}`, b); });
      row.append(b);
    }
    return row;
  }));

  const thumbs = $('thumbs');
  const have = new Map([...thumbs.children].map((t) => [t.dataset.id, t]));
  thumbs.replaceChildren(...s.recent_captures.map((c) => {
    const old = have.get(c.id);
    if (old) return old;
    const t = el('figure', { class: 'thumb', title: `${c.label}, ${ago(c.at)}` },
      el('img', { src: `/api/thumb/${encodeURIComponent(c.id)}.jpg`, alt: `capture of ${c.label}`, loading: 'lazy' }),
      el('span', {}, c.label));
    t.dataset.id = c.id;
    return t;
  }));

  $('controls').hidden = !s.controls;
  $('readonly').hidden = s.controls;
  $('train').disabled = s.training.running;
  $('train').textContent = s.training.running ? 'Training…' : 'Train';
}

function drawTraining(t) {
  const box = $('training');
  const parts = [];
  if (t.running) parts.push(el('p', { class: 'running' }, 'Training now…'));
  if (t.failed) parts.push(el('p', { class: 'failed' }, 'Last training failed: ' + t.failed));
  const r = t.report;
  if (!r) {
    if (!t.running) parts.push(el('p', { class: 'hint' }, 'Not trained yet.'));
    box.replaceChildren(...parts);
    return;
  }
  const m = r.holdout;
  const when = t.trained_at ? `trained ${ago(t.trained_at)} on ${r.n_train + r.n_holdout} examples` : '';
  if (m) {
    const head = el('div', { class: 'headline' },
      el('span', {}, el('span', { class: 'big' }, pct1(m.accuracy)), el('span', { class: 'hint' }, ` accuracy on ${m.n} held-out examples`)));
    if (r.baseline) {
      const d = (m.accuracy - r.baseline.accuracy) * 100;
      head.append(el('span', {},
        el('span', { class: 'gain' + (d < 0 ? ' neg' : '') }, `${d >= 0 ? '+' : ''}${d.toFixed(1)} points`),
        el('span', { class: 'hint' }, ` over the original model (${pct1(r.baseline.accuracy)})`)));
    }
    parts.push(head, el('p', { class: 'hint' }, when));
    parts.push(el('div', { class: 'tables' }, el('div', {}, labelTable(m)), el('div', {}, confusion(m))));
  } else {
    parts.push(el('p', {}, r.note || 'Too few examples to hold some out for measuring.'), el('p', { class: 'hint' }, when));
  }
  if (r.rejected_rate != null || r.background_lit_rate != null) {
    const bits = [];
    if (r.rejected_rate != null) bits.push(`${pct1(r.rejected_rate)} of held-out examples rejected`);
    if (r.background_lit_rate != null) bits.push(`${pct1(r.background_lit_rate)} of background photos would light an LED`);
    parts.push(el('p', { class: 'caption' }, 'Nothing known: ' + bits.join(', ') + '.'));
  }
  box.replaceChildren(...parts);
}

function labelTable(m) {
  return el('table', {},
    el('thead', {}, el('tr', {}, ...['label', 'precision', 'recall', 'F1', 'n'].map((h) => el('th', {}, h)))),
    el('tbody', {}, ...m.per_label.map((x) => el('tr', {},
      el('td', {}, x.label), el('td', {}, pct(x.precision)), el('td', {}, pct(x.recall)), el('td', {}, x.f1.toFixed(2)), el('td', {}, String(x.support))))));
}

function confusion(m) {
  const labels = m.per_label.map((x) => x.label);
  const max = Math.max(1, ...m.confusion.flat());
  return el('table', { class: 'confusion', title: 'rows: true label, columns: predicted' },
    el('thead', {}, el('tr', {}, el('th', {}, 'true ↓ / said →'), ...labels.map((l) => el('th', {}, l)))),
    el('tbody', {}, ...m.confusion.map((row, i) => el('tr', {}, el('th', {}, labels[i]), ...row.map((n, j) => {
      const alpha = n === 0 ? 0 : 0.12 + 0.6 * (n / max);
      const tint = i === j ? '21, 128, 61' : '194, 65, 12';
      return el('td', { class: 'cell' + (i === j ? ' diag' : ''), style: { background: `rgba(${tint}, ${alpha})` } }, String(n));
    })))));
}

function drawHealth(s) {
  const stat = (k, v) => el('div', {}, el('dt', {}, k), el('dd', {}, v));
  $('stats').replaceChildren(
    stat('frames/s', s.speed.fps.toFixed(1)),
    stat('embed', `${s.speed.embed_ms.toFixed(1)} ms`),
    stat('unchanged', pct(s.speed.reused)),
    stat('up', uptime(s.started_at)));
  $('problems').replaceChildren(...(s.problems.length
    ? s.problems.map((p) => el('li', {}, el('b', {}, p.area + ': '), p.message))
    : [el('li', { class: 'okay' }, 'No problems.')]));
  const w = s.warnings.slice().reverse();
  $('warn-count').textContent = `(${w.length})`;
  $('warnings').replaceChildren(...w.map((x) => el('li', { class: x.level === 'ERROR' ? 'error' : '' },
    el('b', {}, `${new Date(x.at * 1000).toLocaleTimeString()} ${x.level} `), x.message)));
}

// ---- controls -----------------------------------------------------------------------------

function say(text, kind) {
  const m = $('msg');
  m.textContent = text;
  m.className = 'msg ' + (kind || '');
}

async function control(path, button) {
  const token = $('token').value.trim();
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  if (button) button.disabled = true;
  try {
    const r = await fetch(path, { method: 'POST', headers });
    let body = {};
    try { body = await r.json(); } catch { /* not JSON */ }
    if (r.status === 403) say(token ? 'Refused: the token is wrong.' : 'Refused: enter the token first.', 'err');
    else if (!r.ok) say(`Refused: ${body.error || r.statusText}`, 'err');
    else say(body.message ? body.message[0].toUpperCase() + body.message.slice(1) + '…' : 'Done.', 'ok');
  } catch (e) {
    say('The daemon cannot be reached.', 'err');
  } finally {
    if (button) setTimeout(() => { button.disabled = false; }, 300);
  }
}

function setupControls() {
  const input = $('token');
  try { input.value = localStorage.getItem(TOKEN_KEY) || ''; } catch { /* storage off */ }
  input.addEventListener('input', () => {
    try { localStorage.setItem(TOKEN_KEY, input.value.trim()); } catch { /* storage off */ }
  });
  $('train').addEventListener('click', (e) => control('/api/train', e.target));
  $('undo').addEventListener('click', (e) => control('/api/undo', e.target));
}

setupControls();
setupStream();
connect();
setInterval(() => { if (!document.hidden) refresh(); }, 2000);
