// #/queues (queues and live workers), #/dispatchers and #/state.

import { fmtDuration, h, jobLink, liveTable, replace, runLink, section, timeEl } from './dom.js';

const num = (n) => (n === null || n === undefined ? '—' : String(n));

export async function renderQueues(ctx) {
  document.title = 'Queues · Lava';
  const queues = liveTable(['Worker', 'Visible', 'In flight', 'Delayed', 'Oldest waiting', 'Live workers', 'Busy / slots'], {
    testid: 'queues-table',
  });
  const workers = liveTable(['Worker', 'Id', 'Host', 'PID', 'Started', 'Last seen', 'Busy / threads', 'Current runs'], {
    testid: 'workers-table',
  });
  replace(ctx.main, h('h1', null, 'Queues'), section('Queues', queues.el), section('Workers', workers.el));
  await ctx.every(3000, async () => {
    const [q, w] = await Promise.all([ctx.api('/api/queues'), ctx.api('/api/workers')]);
    queues.update(
      q.queues.map((x) => [
        h('strong', null, x.worker),
        num(x.visible),
        num(x.inflight),
        num(x.delayed),
        x.oldest_age_seconds === null || x.oldest_age_seconds === undefined ? '—' : fmtDuration(x.oldest_age_seconds),
        x.workers === 0 ? h('span', { class: 'warn' }, '0 (none live)') : num(x.workers),
        `${num(x.busy)} / ${num(x.slots)}`,
      ]),
    );
    workers.update(
      w.workers.map((x) => [
        h('strong', null, x.worker),
        h('span', { class: 'mono' }, x.id),
        x.host,
        num(x.pid),
        timeEl(x.started),
        timeEl(x.seen),
        `${num(x.busy)} / ${num(x.threads)}`,
        x.runs?.length
          ? h(
              'ul',
              { class: 'plain' },
              x.runs.map((r) => h('li', null, jobLink(r.job_id), ' ', runLink(r.run_id), ' ', timeEl(r.started))),
            )
          : h('span', { class: 'sub' }, 'idle'),
      ]),
    );
  });
}

export async function renderDispatchers(ctx) {
  document.title = 'Dispatchers · Lava';
  const list = h('div');
  replace(ctx.main, h('h1', null, 'Dispatchers'), list);
  let key = '';
  let heads = [];
  let tables = [];
  await ctx.every(5000, async () => {
    const { dispatchers } = await ctx.api('/api/dispatchers');
    if (dispatchers.length === 0) {
      key = '';
      replace(list, h('p', { class: 'card sub' }, 'No dispatchers have run in this realm.'));
      return;
    }
    // Rebuild only when the set of dispatchers changes; tables update in place.
    const names = dispatchers.map((d) => d.name).join('\n');
    if (names !== key) {
      key = names;
      tables = dispatchers.map(() =>
        liveTable(['Replica', 'Host', 'PID', 'Started', 'Last seen', 'Ticks', 'Last tick', 'Lag', 'Dispatched']),
      );
      heads = dispatchers.map(() => h('p', { class: 'sub' }));
      replace(
        list,
        dispatchers.map((d, i) => section(d.name, heads[i], tables[i].el)),
      );
    }
    dispatchers.forEach((d, i) => {
      heads[i].textContent =
        `${d.jobs} scheduled job${d.jobs === 1 ? '' : 's'} · ${d.replicas.length} replica${d.replicas.length === 1 ? '' : 's'}`;
      tables[i].update(
        d.replicas.map((r) => [
          h('span', { class: 'mono' }, r.id),
          r.host,
          num(r.pid),
          timeEl(r.started),
          timeEl(r.seen),
          num(r.ticks),
          timeEl(r.last_tick),
          r.lag_seconds === null || r.lag_seconds === undefined ? '—' : fmtDuration(r.lag_seconds),
          num(r.dispatched),
        ]),
      );
    });
  });
}

export async function renderState(ctx) {
  document.title = 'State · Lava';
  const items = liveTable(['State id', 'Type', 'Value', 'Publisher', 'Updated', 'TTL'], { testid: 'state-table' });
  replace(ctx.main, h('h1', null, 'State'), h('p', { class: 'sub' }, 'Small named values jobs share across runs.'), items.el);
  await ctx.every(5000, async () => {
    const { items: list } = await ctx.api('/api/state');
    items.update(
      list.map((x) => [
        h('span', { class: 'mono' }, x.state_id),
        x.type,
        x.secure ? h('span', { class: 'tag secure', title: 'Encrypted: the value is not shown' }, 'secure') : stateValue(x.value),
        x.publisher ?? '—',
        timeEl(x.timestamp),
        x.ttl === null || x.ttl === undefined ? '—' : typeof x.ttl === 'number' ? fmtDuration(x.ttl) : timeEl(x.ttl),
      ]),
    );
  });
}

function stateValue(v) {
  if (v === undefined) return '—';
  const text = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  return h(text.includes('\n') || text.length > 60 ? 'pre' : 'code', { class: 'value' }, text);
}
