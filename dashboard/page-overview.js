// #/ — the overview: recent failures first, then runs per final status over the last 24 hours.

import { badge, fmtTime, h, jobLink, replace, runDuration, runLink, s, section, timeEl } from './dom.js';

const HOURS = 24;
// Bottom to top in each stacked bar; failures on top where the eye lands.
const STACK = ['complete', 'skipped', 'rejected', 'action_failed', 'failed'];

export async function renderOverview(ctx) {
  document.title = 'Overview · Lava';
  const failed = h('div');
  const chart = h('div');
  replace(
    ctx.main,
    h('h1', null, 'Overview'),
    section('Recent failures', failed),
    section(`Runs in the last ${HOURS} hours`, chart),
  );
  let last = null;
  const draw = () => {
    if (!last) return;
    replace(chart, totals(last.totals));
    // Drawn at the container's width so labels keep their size on any screen.
    chart.append(barChart(last, chart.clientWidth), legend());
  };
  let resizing;
  const onResize = () => {
    clearTimeout(resizing);
    resizing = setTimeout(draw, 150);
  };
  window.addEventListener('resize', onResize);
  ctx.signal.addEventListener('abort', () => window.removeEventListener('resize', onResize));
  await ctx.every(10000, async () => {
    const [stats, f1, f2] = await Promise.all([
      ctx.api(`/api/stats?hours=${HOURS}`),
      ctx.api('/api/runs?status=failed&limit=10'),
      ctx.api('/api/runs?status=action_failed&limit=10'),
    ]);
    replace(failed, failedList([...f1.runs, ...f2.runs]));
    last = stats;
    draw();
  });
}

function failedList(runs) {
  runs.sort((a, b) => String(b.ts_event).localeCompare(String(a.ts_event)));
  const items = runs
    .slice(0, 10)
    .map((r) =>
      h(
        'li',
        null,
        badge(r.status),
        h('span', { class: 'grow' }, jobLink(r.job_id), h('span', { class: 'sub' }, ' run ', runLink(r.run_id))),
        h('span', { class: 'sub' }, timeEl(r.ended ?? r.ts_event), ' · ', runDuration(r)),
      ),
    );
  if (items.length === 0) return h('p', { class: 'ok', testid: 'failed-list' }, 'No failed runs recently.');
  return h('ul', { class: 'run-list', testid: 'failed-list' }, items);
}

function totals(counts = {}) {
  const keys = Object.keys(counts).sort((a, b) => rank(a) - rank(b));
  const all = keys.reduce((n, k) => n + (counts[k] ?? 0), 0);
  return h(
    'ul',
    { class: 'tiles', 'aria-label': 'Totals by status' },
    h('li', null, h('span', { class: 'num' }, String(all)), h('span', null, 'runs')),
    keys.map((k) =>
      h(
        'li',
        { class: `tile st-${k}` },
        h('span', { class: 'num' }, String(counts[k])),
        h('a', { href: `#/runs?status=${encodeURIComponent(k)}` }, k.replace('_', ' ')),
      ),
    ),
  );
}

const rank = (status) => {
  const i = ['failed', 'action_failed', 'rejected', 'complete', 'skipped'].indexOf(status);
  return i < 0 ? 10 : i;
};

/** The smallest of 1, 2, 5 × 10^k at or above n. */
function niceMax(n) {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= n);
}

const hhmm = (iso) => fmtTime(iso).slice(11, 16);

/** A stacked bar per time bucket, drawn as SVG. */
function barChart({ buckets = [], bucket_seconds: bucketSeconds }, width) {
  const W = Math.max(280, Math.round(width || 720));
  const H = W < 500 ? 180 : 240;
  const left = 40;
  const bottom = 24;
  const top = 10;
  const plotW = W - left - 8;
  const plotH = H - top - bottom;
  const sums = buckets.map((b) => STACK.reduce((n, k) => n + (b.counts?.[k] ?? 0), 0));
  const max = niceMax(Math.max(0, ...sums));
  const slot = plotW / Math.max(1, buckets.length);
  const barW = Math.max(2, slot * 0.75);
  const y = (v) => top + plotH - (v / max) * plotH;
  const all = sums.reduce((a, b) => a + b, 0);

  const grid = [0, max / 2, max].map((v) => [
    s('line', { x1: left, x2: W - 8, y1: y(v), y2: y(v), class: 'grid' }),
    s('text', { x: left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, Number.isInteger(v) ? String(v) : v.toFixed(1)),
  ]);
  const every = Math.max(1, Math.ceil(buckets.length / Math.floor(W / 64)));
  const bars = buckets.map((b, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let acc = 0;
    const label = `${fmtTime(b.start)}: ${sums[i]} finished`;
    const parts = STACK.filter((k) => b.counts?.[k]).map((k) => {
      const n = b.counts[k];
      const rect = s('rect', { x, width: barW, y: y(acc + n), height: Math.max(0.5, y(acc) - y(acc + n)), class: `bar st-${k}` });
      rect.append(s('title', null, `${label} — ${k}: ${n}`));
      acc += n;
      return rect;
    });
    const tick =
      i % every === 0 ? s('text', { x: x + barW / 2, y: H - 6, class: 'axis', 'text-anchor': 'middle' }, hhmm(b.start)) : null;
    return s('g', null, s('title', null, label), parts, tick);
  });
  const hours = bucketSeconds ? ` in buckets of ${Math.round(bucketSeconds / 60)} minutes` : '';
  return h(
    'figure',
    { class: 'chart' },
    s(
      'svg',
      { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Stacked bar chart: ${all} runs finished${hours}.` },
      grid,
      bars,
    ),
    h('figcaption', { class: 'sub' }, `Finished runs per status${hours}, local time.`),
  );
}

function legend() {
  return h(
    'ul',
    { class: 'legend' },
    [...STACK]
      .reverse()
      .map((k) => h('li', null, h('span', { class: `swatch st-${k}`, 'aria-hidden': 'true' }), k.replace('_', ' '))),
  );
}
