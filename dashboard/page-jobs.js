// #/jobs — every job with its next fire and last run; #/jobs/{job_id} — the spec, schedule, history and dispatch.

import { showError } from './api.js';
import {
  badge,
  h,
  jobLink,
  jsonBlock,
  liveTable,
  patch,
  replace,
  runDuration,
  runHref,
  runLink,
  section,
  timeEl,
} from './dom.js';

export async function renderJobs(ctx) {
  document.title = 'Jobs · Lava';
  const filter = h('input', {
    id: 'f-jobs',
    type: 'search',
    placeholder: 'job id, type or worker',
    value: ctx.query.get('q') ?? '',
  });
  const jobs = liveTable(['Job', 'Type', 'Worker', 'Schedule', 'Next fire', 'Last run', 'Description'], { testid: 'jobs-table' });
  let all = [];
  const show = () => {
    const q = filter.value.trim().toLowerCase();
    const rows = all.filter(
      (j) =>
        !q ||
        [j.job_id, j.type, j.worker].some((v) =>
          String(v ?? '')
            .toLowerCase()
            .includes(q),
        ),
    );
    jobs.update(
      rows.map((j) => [
        h('span', null, jobLink(j.job_id), j.enabled ? null : h('span', { class: 'tag' }, 'disabled')),
        j.type,
        j.worker,
        j.schedule ? h('code', null, typeof j.schedule === 'string' ? j.schedule : JSON.stringify(j.schedule)) : '—',
        timeEl(j.next_fire),
        j.last_run
          ? h(
              'a',
              { href: runHref(j.last_run.run_id), class: 'nowrap' },
              badge(j.last_run.status),
              ' ',
              timeEl(j.last_run.ts_event),
            )
          : '—',
        j.description ? h('span', { class: 'wrap' }, j.description) : '',
      ]),
    );
  };
  filter.addEventListener('input', show);
  replace(
    ctx.main,
    h('h1', null, 'Jobs'),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() }, h('label', null, 'Filter ', filter)),
    jobs.el,
  );
  await ctx.every(10000, async () => {
    ({ jobs: all } = await ctx.api('/api/jobs'));
    show();
  });
}

export async function renderJob(ctx, jobId) {
  document.title = `Job ${jobId} · Lava`;
  const head = h('div', { class: 'page-head' }, h('h1', null, 'Job ', h('span', { class: 'mono' }, jobId)));
  const dispatchSlot = h('div');
  const schedule = h('div');
  const history = liveTable(['Run', 'Status', 'Worker', 'Started', 'Duration', 'Last event'], { testid: 'job-runs-table' });
  const spec = h('div');
  replace(
    ctx.main,
    head,
    dispatchSlot,
    h('div', { class: 'two' }, section('Schedule', schedule), section('Specification', spec)),
    section(
      'Recent runs',
      history.el,
      h('p', null, h('a', { href: `#/runs?job=${encodeURIComponent(jobId)}` }, 'All runs of this job')),
    ),
  );
  if (ctx.canOperate) {
    head.append(
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          testid: 'dispatch-button',
          'aria-expanded': 'false',
          onclick: (e) => toggleDispatch(ctx, jobId, dispatchSlot, e.currentTarget),
        },
        'Dispatch…',
      ),
    );
  }
  await ctx.every(5000, async () => {
    const data = await ctx.api(`/api/jobs/${encodeURIComponent(jobId)}`);
    patch(spec, data.job, jsonBlock);
    patch(schedule, [data.job?.schedule ?? null, data.next_fires ?? []], ([sched, fires]) => scheduleBlock(sched, fires));
    history.update(
      (data.runs ?? []).map((r) => [
        runLink(r.run_id),
        badge(r.status),
        r.worker ?? '—',
        timeEl(r.started),
        runDuration(r),
        timeEl(r.ts_event),
      ]),
    );
  });
}

function scheduleBlock(sched, fires) {
  return [
    typeof sched === 'string'
      ? h('p', null, h('code', null, sched))
      : sched
        ? jsonBlock(sched)
        : h('p', { class: 'sub' }, 'Not scheduled: runs only when dispatched.'),
    fires.length ? h('h3', null, 'Next fire times') : null,
    fires.length
      ? h(
          'ol',
          { class: 'fires' },
          fires.map((t) => h('li', null, timeEl(t))),
        )
      : null,
  ];
}

/** Show or hide the dispatch form under the page heading. */
function toggleDispatch(ctx, jobId, slot, button) {
  if (slot.firstChild) {
    replace(slot);
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  button.setAttribute('aria-expanded', 'true');
  const params = h('textarea', {
    id: 'd-parameters',
    testid: 'dispatch-parameters',
    rows: 4,
    placeholder: '{"key": "value"}',
    spellcheck: 'false',
    'aria-describedby': 'd-help',
  });
  const globals = h('textarea', { id: 'd-globals', testid: 'dispatch-globals', rows: 3, placeholder: '{}', spellcheck: 'false' });
  const delay = h('input', {
    id: 'd-delay',
    testid: 'dispatch-delay',
    type: 'number',
    min: '0',
    step: '1',
    inputmode: 'numeric',
  });
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'dispatch-submit' }, 'Dispatch now');
  const form = h(
    'form',
    {
      class: 'card dispatch',
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { job_id: jobId };
        try {
          const p = parseObject(params.value, 'parameters');
          const g = parseObject(globals.value, 'globals');
          if (p) body.parameters = p;
          if (g) body.globals = g;
          if (delay.value !== '') body.delay = Number(delay.value);
        } catch (err) {
          showError(err);
          return;
        }
        submit.disabled = true;
        try {
          const res = await ctx.api('/api/dispatch', { method: 'POST', body });
          ctx.navigate(runHref(res.run_id), res.warning ? `Dispatched to ${res.worker}. Warning: ${res.warning}` : undefined);
        } catch (err) {
          submit.disabled = false;
          showError(err);
        }
      },
    },
    h('h2', null, 'Dispatch a run'),
    h('label', { for: 'd-parameters' }, 'Parameters (JSON object, optional)'),
    params,
    h('p', { id: 'd-help', class: 'hint' }, 'Given parameters override the job spec’s.'),
    h('label', { for: 'd-globals' }, 'Globals (JSON object, optional)'),
    globals,
    h('label', { for: 'd-delay' }, 'Delay in seconds (optional)'),
    delay,
    h(
      'div',
      { class: 'row' },
      submit,
      h('button', { type: 'button', onclick: () => toggleDispatch(ctx, jobId, slot, button) }, 'Cancel'),
    ),
  );
  replace(slot, form);
  params.focus();
}

/** Parse an optional JSON object typed by the user; errors look like the API's. */
function parseObject(text, field) {
  if (!text.trim()) return undefined;
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw Object.assign(new Error(`${field} is not valid JSON: ${err.message}`), { code: 'INVALID_JSON', field });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw Object.assign(new Error(`${field} must be a JSON object`), { code: 'INVALID_JSON', field });
  }
  return value;
}
