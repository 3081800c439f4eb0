// #/runs — the runs list with filters; #/runs/{run_id} — one run: summary, timeline, data, outputs, children.

import { query, showError, showNotice } from './api.js';
import {
  STATUSES,
  badge,
  facts,
  fmtTime,
  h,
  isFinal,
  jobLink,
  jsonBlock,
  liveTable,
  patch,
  replace,
  runDuration,
  runLink,
  section,
  timeEl,
} from './dom.js';
import { outputViewer } from './output-viewer.js';

const LIMITS = ['50', '100', '200', '500'];

export async function renderRuns(ctx) {
  document.title = 'Runs · Lava';
  const filters = {
    job: ctx.query.get('job') ?? '',
    status: ctx.query.get('status') ?? '',
    limit: ctx.query.get('limit') ?? '50',
  };
  const jobs = h('datalist', { id: 'job-ids' });
  const jobInput = h('input', { id: 'f-job', type: 'search', list: 'job-ids', value: filters.job, placeholder: 'any job' });
  const statusSelect = h(
    'select',
    { id: 'f-status' },
    h('option', { value: '' }, 'any status'),
    STATUSES.map((st) => h('option', { value: st, selected: st === filters.status }, st)),
  );
  const limitSelect = h(
    'select',
    { id: 'f-limit' },
    LIMITS.map((n) => h('option', { value: n, selected: n === filters.limit }, n)),
  );
  const live = h('input', { id: 'f-live', type: 'checkbox', checked: true });
  const updated = h('span', { class: 'sub', 'aria-live': 'off' });
  const runs = liveTable(['Run', 'Job', 'Status', 'Worker', 'Started', 'Duration', 'Last event'], { testid: 'runs-table' });

  const load = async () => {
    const data = await ctx.api(`/api/runs${query(filters)}`);
    runs.update(
      data.runs.map((r) => [
        runLink(r.run_id),
        jobLink(r.job_id),
        badge(r.status),
        r.worker ?? '—',
        timeEl(r.started),
        runDuration(r),
        timeEl(r.ts_event),
      ]),
    );
    updated.textContent = `Updated ${fmtTime(new Date().toISOString()).slice(11)}`;
  };
  // Filters live in the URL (replaceState: no re-render, the inputs keep focus).
  let debounce;
  const onFilter = () => {
    filters.job = jobInput.value.trim();
    filters.status = statusSelect.value;
    filters.limit = limitSelect.value;
    history.replaceState(null, '', `#/runs${query({ ...filters, limit: filters.limit === '50' ? '' : filters.limit })}`);
    clearTimeout(debounce);
    debounce = setTimeout(() => load().catch(showError), 250);
  };
  for (const el of [jobInput, statusSelect, limitSelect]) el.addEventListener(el === jobInput ? 'input' : 'change', onFilter);

  replace(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', null, 'Runs'), updated),
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('label', null, 'Job ', jobInput),
      jobs,
      h('label', null, 'Status ', statusSelect),
      h('label', null, 'Show ', limitSelect),
      h('label', { class: 'check' }, live, ' Live'),
    ),
    runs.el,
  );
  ctx
    .api('/api/jobs')
    .then((d) =>
      replace(
        jobs,
        d.jobs.map((j) => h('option', { value: j.job_id })),
      ),
    )
    .catch(() => {});
  await ctx.every(2000, () => (live.checked ? load() : undefined));
}

export async function renderRun(ctx, runId) {
  document.title = `Run ${runId} · Lava`;
  const status = h('span');
  const actions = h('span', { class: 'actions' });
  const summary = h('div');
  const timeline = h('div');
  const params = h('div');
  const outputs = h('div');
  const children = h('div');
  const viewerSlot = h('div');
  let run = null;
  let viewer = null;

  const stop = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      testid: 'stop-button',
      onclick: async () => {
        stop.disabled = true;
        try {
          await ctx.api(`/api/runs/${encodeURIComponent(runId)}/stop`, { method: 'POST' });
          stop.textContent = 'Stop requested';
          showNotice(`Stop requested for run ${runId}.`);
        } catch (err) {
          stop.disabled = false;
          showError(err);
        }
      },
    },
    'Stop',
  );

  const openOutput = (name, jobId) => {
    viewer?.close();
    viewer = outputViewer(ctx, runId, name, jobId, () => run && !isFinal(run.status));
    replace(viewerSlot, viewer.el);
    viewer.el.scrollIntoView({ block: 'nearest' });
  };

  replace(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', null, 'Run ', h('span', { class: 'mono' }, runId)), status, actions),
    h('section', { class: 'card' }, summary),
    section('Timeline', timeline),
    params,
    section('Outputs', outputs, viewerSlot),
    children,
  );

  const load = async () => {
    try {
      ({ run } = await ctx.api(`/api/runs/${encodeURIComponent(runId)}`));
    } catch (err) {
      // A run just dispatched has no events yet: wait for it rather than fail.
      if (err.status !== 404 || run) throw err;
      replace(
        summary,
        h('p', { class: 'sub' }, 'No events for this run yet: waiting for it to be picked up (or there is no run with this id)…'),
      );
      return true;
    }
    replace(status, badge(run.status, { testid: 'run-status', 'aria-label': `Status: ${run.status}` }));
    replace(actions, ctx.canOperate && !isFinal(run.status) ? stop : null);
    replace(
      summary,
      facts([
        ['Job', jobLink(run.job_id)],
        ['Worker', run.worker],
        ['Dispatched', timeEl(run.ts_dispatch)],
        ['Started', timeEl(run.started)],
        ['Ended', timeEl(run.ended)],
        ['Duration', runDuration(run)],
        ['Last event', timeEl(run.ts_event)],
      ]),
    );
    patch(timeline, run.log ?? [], timelineList);
    patch(params, [run.parameters, run.globals], ([p, g]) =>
      h(
        'div',
        { class: 'two' },
        section('Parameters', p ? jsonBlock(p) : h('p', { class: 'sub' }, 'None.')),
        section('Globals', g ? jsonBlock(g) : h('p', { class: 'sub' }, 'None.')),
      ),
    );
    patch(outputs, run.outputs ?? [], (list) => outputList(list, run.job_id, openOutput));
    patch(children, run.children ?? [], (list) => (list.length ? section('Children', childTree(list)) : null));
    return !isFinal(run.status); // once final, polling stops (an open output viewer does its last read itself)
  };
  await ctx.every(2000, load);
}

function timelineList(log) {
  if (log.length === 0) return h('p', { class: 'sub' }, 'No events yet.');
  return h(
    'ol',
    { class: 'timeline' },
    log.map((e) =>
      h(
        'li',
        null,
        h('span', { class: 'when' }, timeEl(e.ts_event)),
        badge(e.status),
        e.info === null || e.info === undefined || e.info === ''
          ? null
          : h('span', { class: 'info' }, typeof e.info === 'string' ? e.info : JSON.stringify(e.info)),
      ),
    ),
  );
}

// Outputs of the dispatched job show their name; a child job's show `job_id: name`.
function outputList(list, rootJob, open) {
  if (list.length === 0) return h('p', { class: 'sub' }, 'No outputs.');
  return h(
    'ul',
    { class: 'outputs' },
    list.map((o) =>
      h(
        'li',
        null,
        h(
          'button',
          {
            type: 'button',
            class: 'link mono',
            testid: o.job_id === rootJob ? `output-link-${o.name}` : `output-link-${o.job_id}:${o.name}`,
            onclick: () => open(o.name, o.job_id),
          },
          o.job_id === rootJob ? o.name : `${o.job_id}: ${o.name}`,
        ),
        h('span', { class: 'sub' }, ` ${fmtBytes(o.size)} · ${fmtTime(o.modified)}`),
      ),
    ),
  );
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** The chain/dag/foreach tree of child jobs under this run. */
function childTree(nodes) {
  return h(
    'ul',
    { class: 'tree' },
    nodes.map((c) =>
      h(
        'li',
        null,
        h(
          'div',
          { class: 'node' },
          badge(c.status),
          jobLink(c.job_id),
          c.type ? h('span', { class: 'tag' }, c.type) : null,
          h('span', { class: 'sub' }, c.started ? `${fmtTime(c.started)} · ${runDuration(c)}` : 'not started'),
        ),
        c.children?.length ? childTree(c.children) : null,
      ),
    ),
  );
}
