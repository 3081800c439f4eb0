// DOM building and formatting helpers. Text always goes in through text nodes, never innerHTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Statuses after which a run does not change any more. */
export const FINAL = ['complete', 'failed', 'skipped', 'rejected', 'action_failed'];
export const STATUSES = ['queued', 'starting', 'logging', 'running', 'retrying', ...FINAL];

export const isFinal = (status) => FINAL.includes(status);

function applyAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'testid') el.setAttribute('data-testid', value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h('a', {href: '#/', class: 'x'}, 'text', otherNode): an element with attributes and children. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  return append(el, children);
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  return append(el, children);
}

/** Replace all children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A table inside its own horizontally scrolling container. rows: arrays of cells (nodes or text). */
export function table(headers, rows, attrs = {}) {
  const t = liveTable(headers, attrs);
  t.update(rows);
  return t.el;
}

/**
 * A table whose rows are replaced on each update while the table itself (and its scroll position) stays.
 * Returns {el, update(rows)}.
 */
export function liveTable(headers, attrs = {}) {
  const tbody = h('tbody');
  const el = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      attrs,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          headers.map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      tbody,
    ),
  );
  const update = (rows) =>
    replace(
      tbody,
      rows.length === 0
        ? h('tr', null, h('td', { colspan: headers.length, class: 'empty' }, 'Nothing to show.'))
        : rows.map((cells) =>
            h(
              'tr',
              null,
              cells.map((c) => h('td', null, c)),
            ),
          ),
    );
  return { el, update };
}

/** Rebuild el's content with build(data) only when data changed since the last call for el. */
const lastData = new WeakMap();
export function patch(el, data, build) {
  const key = JSON.stringify(data) ?? 'undefined';
  if (lastData.get(el) === key) return;
  lastData.set(el, key);
  replace(el, build(data));
}

/** A status badge; its text is the status itself. */
export function badge(status, attrs = {}) {
  const known = STATUSES.includes(status) ? status : 'unknown';
  return h('span', { ...attrs, class: `badge st-${known}` }, status ?? '—');
}

export const runHref = (runId) => `#/runs/${encodeURIComponent(runId)}`;
export const jobHref = (jobId) => `#/jobs/${encodeURIComponent(jobId)}`;
export const runLink = (runId) => h('a', { href: runHref(runId), class: 'mono' }, runId);
export const jobLink = (jobId) => h('a', { href: jobHref(jobId) }, jobId);

/** Pretty JSON in a <pre>. */
export const jsonBlock = (value) => h('pre', { class: 'json' }, value === undefined ? '—' : JSON.stringify(value, null, 2));

const pad = (n) => String(n).padStart(2, '0');

/** A local date-time "2025-01-31 14:05:09", or — when missing. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A duration in seconds as "850 ms", "12.3 s", "4 min 5 s", "2 h 7 min", "3 d 4 h". */
export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const sec = Math.max(0, seconds);
  if (sec < 1) return `${Math.round(sec * 1000)} ms`;
  if (sec < 60) return `${sec < 10 ? sec.toFixed(1) : Math.round(sec)} s`;
  const two = (a, ua, b, ub) => (b ? `${a} ${ua} ${b} ${ub}` : `${a} ${ua}`);
  const m = Math.floor(sec / 60);
  if (m < 60) return two(m, 'min', Math.floor(sec % 60), 's');
  const hrs = Math.floor(m / 60);
  if (hrs < 24) return two(hrs, 'h', m % 60, 'min');
  return two(Math.floor(hrs / 24), 'd', hrs % 24, 'h');
}

/** "5 min ago" / "in 3 h" relative to now. */
export function fmtRelative(iso) {
  if (!iso) return '';
  const diff = (new Date(iso).getTime() - Date.now()) / 1000;
  if (Number.isNaN(diff)) return '';
  if (Math.abs(diff) < 5) return 'now';
  const text = fmtDuration(Math.abs(diff)).replace(/ \d+ (s|min|h)$/, '');
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

/** A <time> element showing local time, with the relative time as a tooltip. */
export const timeEl = (iso) => (iso ? h('time', { datetime: iso, title: fmtRelative(iso) }, fmtTime(iso)) : '—');

/** A run's duration: the recorded one, or the time so far while it runs. */
export function runDuration(run) {
  if (run.duration !== null && run.duration !== undefined) return fmtDuration(run.duration);
  if (run.started && run.ended) return fmtDuration((new Date(run.ended).getTime() - new Date(run.started).getTime()) / 1000);
  if (run.started && !isFinal(run.status)) return `${fmtDuration((Date.now() - new Date(run.started).getTime()) / 1000)} so far`;
  return '—';
}

/** A labelled section with a heading. */
export const section = (title, ...children) => h('section', { class: 'card' }, h('h2', null, title), ...children);

/** A definition list from [label, value] pairs (each pair in a div, so pairs lay out as grid cells). */
export const facts = (pairs) =>
  h(
    'dl',
    { class: 'facts' },
    pairs.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v ?? '—'))),
  );
