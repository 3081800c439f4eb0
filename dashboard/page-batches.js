// #/batches — orchestrated batches with their progress; #/batches/{batch_id} — one batch: tasks per
// state, its tasks by state in pages, and its dead tasks with Retry and Discard for operators.

import { query, showError, showNotice } from './api.js';
import { facts, h, jobLink, liveTable, patch, replace, runLink, section, timeEl } from './dom.js';

/** Task states in the order a task goes through them (docs/batches.md). */
const TASK_STATES = ['pending', 'queued', 'running', 'complete', 'failed', 'dead', 'discarded'];
const PAGE = 50;

export const batchHref = (id) => `#/batches/${encodeURIComponent(id)}`;

/** A task state badge (pending, dead and discarded have their own colours; the rest share the run statuses'). */
export const taskBadge = (state, attrs = {}) => h('span', { ...attrs, class: `badge st-${state}` }, state);

/** A progress bar and "done/total (pct)"; done counts complete, dead and discarded tasks. */
function progress(b, attrs = {}) {
  const pct = Math.floor((b.fraction ?? 0) * 100);
  return h(
    'span',
    { class: 'progress', ...attrs },
    h('progress', { max: String(Math.max(b.total, 1)), value: String(b.done), 'aria-label': `${pct}% done` }),
    h('span', { class: 'sub nowrap' }, `${b.done}/${b.total} (${pct}%)`),
  );
}

/** The non-zero counts, "pending 3 · dead 1". */
const countsText = (counts) =>
  TASK_STATES.filter((s) => counts[s])
    .map((s) => `${s} ${counts[s]}`)
    .join(' · ') || '—';

export async function renderBatches(ctx) {
  document.title = 'Batches · Lava';
  const batches = liveTable(['Batch', 'Job', 'Submitted', 'State', 'Progress', 'Tasks'], { testid: 'batches-table' });
  const more = h('p', { class: 'sub' });
  replace(ctx.main, h('h1', null, 'Batches'), batches.el, more);
  await ctx.every(5000, async () => {
    const data = await ctx.api('/api/batches');
    batches.update(
      data.batches.map((b) => [
        h('a', { href: batchHref(b.batch_id), class: 'mono' }, b.batch_id),
        jobLink(b.job_id),
        timeEl(b.submitted),
        h('span', { class: 'tag' }, b.state),
        progress(b),
        h('span', { class: 'wrap' }, countsText(b.counts)),
      ]),
    );
    more.textContent = data.more ? `${data.more} older batches not shown (lava batch ls lists them all).` : '';
  });
}

export async function renderBatch(ctx, batchId) {
  document.title = `Batch ${batchId} · Lava`;
  const api = (path, options) => ctx.api(`/api/batches/${encodeURIComponent(batchId)}${path}`, options);
  const state = h('span');
  const summary = h('div');
  const tiles = h('div', { class: 'batch-tiles' });
  const deadActions = h('div', { class: 'row' });
  const dead = liveTable(
    ctx.canOperate ? ['Key', 'Actions', 'Attempts', 'Died', 'Run', 'Error'] : ['Key', 'Attempts', 'Died', 'Run', 'Error'],
    { testid: 'dead-table' },
  );
  const deadMore = h('p', { class: 'sub' });
  const stateSelect = h(
    'select',
    { id: 'f-task-state', testid: 'task-state' },
    h('option', { value: '' }, 'closed (complete, dead, discarded)'),
    TASK_STATES.map((s) => h('option', { value: s, selected: s === ctx.query.get('state') }, s)),
  );
  const tasks = liveTable(['Key', 'State', 'Attempts', 'Run', 'Updated', 'Outcome'], { testid: 'tasks-table' });
  const pager = h('div', { class: 'row' });
  let cursors = [undefined]; // the cursor of each page shown so far; the last is the current page's
  let busy = false;

  const act = async (action, body) => {
    if (busy) return;
    busy = true;
    try {
      const r = await api(`/dead/${action}`, { method: 'POST', body });
      const verb = action === 'retry' ? 'retried (back to pending)' : 'discarded';
      const notes = [
        r.skipped.length ? `${r.skipped.length} no longer dead` : '',
        r.unknown.length ? `${r.unknown.length} unknown` : '',
      ].filter(Boolean);
      showNotice(`${r.moved} task${r.moved === 1 ? '' : 's'} ${verb}${notes.length ? ` (${notes.join(', ')})` : ''}.`);
      await load();
    } catch (err) {
      showError(err);
    } finally {
      busy = false;
    }
  };
  const button = (label, action, body, attrs = {}) =>
    h(
      'button',
      { type: 'button', class: action === 'discard' ? 'danger' : 'primary', ...attrs, onclick: () => act(action, body) },
      label,
    );

  const loadTasks = async () => {
    const cursor = cursors.at(-1);
    const page = await api(`/tasks${query({ state: stateSelect.value, limit: PAGE, cursor })}`);
    tasks.update(
      page.tasks.map((t) => [
        h('span', { class: 'mono' }, t.key),
        taskBadge(t.state),
        String((t.info.attempt ?? 0) - (t.info.attempts_from ?? 0)),
        t.info.run_id ? runLink(t.info.run_id) : '—',
        timeEl(t.updated),
        h('span', { class: 'wrap' }, t.info.error ?? t.info.run_status ?? (t.state === 'complete' ? 'complete' : '—')),
      ]),
    );
    replace(
      pager,
      cursors.length > 1
        ? h(
            'button',
            { type: 'button', testid: 'tasks-first', onclick: () => ((cursors = [undefined]), loadTasks().catch(showError)) },
            'First page',
          )
        : null,
      page.cursor
        ? h(
            'button',
            { type: 'button', testid: 'tasks-next', onclick: () => (cursors.push(page.cursor), loadTasks().catch(showError)) },
            'Next page',
          )
        : null,
    );
  };
  stateSelect.addEventListener('change', () => {
    cursors = [undefined];
    history.replaceState(null, '', `${batchHref(batchId)}${query({ state: stateSelect.value })}`);
    loadTasks().catch(showError);
  });

  const load = async () => {
    const [{ batch: b }, d] = await Promise.all([api(''), api(`/tasks${query({ state: 'dead', limit: 100 })}`)]);
    replace(state, h('span', { class: 'tag', testid: 'batch-state' }, b.state));
    patch(summary, b, () =>
      facts([
        ['Job', jobLink(b.job_id)],
        ['Submitted', timeEl(b.submitted)],
        ['Tasks', String(b.total)],
        ['Progress', progress(b, { testid: 'batch-progress' })],
      ]),
    );
    patch(tiles, b.counts, (counts) =>
      h(
        'ul',
        { class: 'tiles', 'aria-label': 'Tasks by state' },
        TASK_STATES.map((s) =>
          h(
            'li',
            { class: `tile st-${s}` },
            h('span', { class: 'num', testid: `batch-count-${s}` }, String(counts[s] ?? 0)),
            h('span', null, s),
          ),
        ),
      ),
    );
    dead.update(
      d.tasks.map((t) =>
        [
          h('span', { class: 'mono' }, t.key),
          ctx.canOperate
            ? h(
                'span',
                { class: 'cell-actions' },
                button('Retry', 'retry', { keys: [t.key] }, { testid: `retry-${t.key}` }),
                button('Discard', 'discard', { keys: [t.key] }, { testid: `discard-${t.key}` }),
              )
            : null,
          String((t.info.attempt ?? 0) - (t.info.attempts_from ?? 0)),
          timeEl(t.info.died_at ?? t.updated),
          t.info.run_id ? runLink(t.info.run_id) : '—',
          h('span', { class: 'wrap error-text' }, t.info.error ?? (t.info.run_status ? `run ${t.info.run_status}` : '—')),
        ].filter((cell) => cell !== null),
      ),
    );
    deadMore.textContent = d.cursor
      ? `Showing the first ${d.tasks.length} dead tasks; the buttons above act on all of them.`
      : '';
    replace(
      deadActions,
      ctx.canOperate && b.counts.dead > 0
        ? [
            button(`Retry all ${b.counts.dead}`, 'retry', { all: true }, { testid: 'retry-all' }),
            button(`Discard all ${b.counts.dead}`, 'discard', { all: true }, { testid: 'discard-all' }),
          ]
        : null,
    );
    await loadTasks();
  };

  replace(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', null, 'Batch ', h('span', { class: 'mono' }, batchId)), state),
    h('section', { class: 'card' }, summary, tiles),
    section(
      'Dead tasks',
      h(
        'p',
        { class: 'hint' },
        'Out of attempts. Retry puts a task back to pending with a fresh allowance of attempts; discard drops it for good.',
      ),
      deadActions,
      dead.el,
      deadMore,
    ),
    section(
      'Tasks',
      h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, h('label', null, 'State ', stateSelect)),
      tasks.el,
      pager,
    ),
  );
  await ctx.every(3000, load);
}
