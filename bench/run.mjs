// The benchmark suite: `npm run bench` (builds, then runs this). Starts a throwaway PostgreSQL and
// Redis, runs workloads A–D against Lava (embedded and PostgreSQL backends) and the peers
// (graphile-worker, pg-boss, BullMQ) R times, prints medians with ratios and the goals, and writes
// bench/results/<timestamp>.json, latest.json and latest.md. Method: docs/performance.md.
//
// Environment (defaults in brackets):
//   BENCH_REPS [3]            repetitions; every figure is the median over them
//   BENCH_N [3000]            A: jobs enqueued then drained (same N for every system)
//   BENCH_W [1] BENCH_C [8]   A: worker processes × concurrency per process
//   BENCH_W_MULTI [4]         A and B: also run lava-postgres and graphile-worker with this many processes (0 = skip)
//   BENCH_DRAIN_CAP_S [12]    A: a drain still going after this long is cut and rated on what it did
//   BENCH_LAT_N [1000]        B: samples (after 20 warm-up ones); BENCH_LAT_CAP_S [30]: time cap per system and
//                             repetition; BENCH_LAT_CAP_PGBOSS_S [20] for pg-boss, whose polling makes samples slow
//   BENCH_LAT_JITTER_MS [20]  B: random pause before each sample (0..this; 0..500 ms for pg-boss, its poll period)
//   BENCH_CMD_N [200]         C: cmd jobs for throughput (C as above); BENCH_CMD_M [60]: jobs at C=1
//   BENCH_CHAIN_RUNS [5]      D: chains timed per repetition (after one warm-up chain)
//   BENCH_HISTORY [100000]    AH: the embedded drain on a realm already holding this many finished runs (0 = skip)
//   BENCH_SYSTEMS, BENCH_WORKLOADS   comma lists to run a subset (workloads: A,AH,A4,B,B4,C,D)
//   BENCH_BUDGET_S [840]      no new repetition is started if it would end after this (the report says so)
//   BENCH_PROFILE=DIR         write --cpu-prof profiles of the Lava worker processes under DIR
//   BENCH_PG_URL, BENCH_REDIS_PORT   use running servers instead of throwaway ones
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SYSTEMS } from './systems.mjs';
import { chain, latency, processJobs, throughput } from './workloads.mjs';
import { ROOT, enableStatementStats, machine, median, now, startPostgres, startRedis, stopPostgres, stopRedis } from './lib.mjs';

const env = (name, dflt) => (process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt);
const config = {
  reps: env('BENCH_REPS', 3),
  n: env('BENCH_N', 3000),
  workers: env('BENCH_W', 1),
  threads: env('BENCH_C', 8),
  workersMulti: env('BENCH_W_MULTI', 4),
  drainCapS: env('BENCH_DRAIN_CAP_S', 12),
  latN: env('BENCH_LAT_N', 1000),
  latCapS: env('BENCH_LAT_CAP_S', 30),
  latCapPollS: env('BENCH_LAT_CAP_PGBOSS_S', 20),
  latJitterMs: env('BENCH_LAT_JITTER_MS', 20),
  cmdN: env('BENCH_CMD_N', 200),
  cmdM: env('BENCH_CMD_M', 60),
  chainRuns: env('BENCH_CHAIN_RUNS', 5),
  budgetS: env('BENCH_BUDGET_S', 840),
  history: env('BENCH_HISTORY', 100_000),
};
const only = (name) => (process.env[name] ? new Set(process.env[name].split(',').map((s) => s.trim())) : undefined);
const onlySystems = only('BENCH_SYSTEMS');
const onlyWorkloads = only('BENCH_WORKLOADS');
const want = (workload, system) => (!onlyWorkloads || onlyWorkloads.has(workload)) && (!onlySystems || onlySystems.has(system));

const LAVA = ['lava-embedded', 'lava-postgres'];
const PEERS = ['graphile-worker', 'pg-boss', 'bullmq'];
// pg-boss is left out of the multi-process run: at batchSize 1 its rate is set by polling
// (W × C fetches per 0.5 s), so W=4 only multiplies its W=1 figure by 4 (measured: 62 vs 16).
const MULTI_SYSTEMS = ['lava-postgres', 'graphile-worker'];

/** Every measurement, in run order: key → one result per repetition. */
const runs = {};
const plan = [];
const add = (workload, system, variant, fn) =>
  want(workload, system) && plan.push({ key: `${workload}/${system}/${variant}`, workload, system, variant, fn });

const capMs = config.drainCapS * 1000;
const { n, workers: W, threads: C } = config;
for (const s of [...LAVA, ...PEERS]) {
  add('A', s, 'noop', (ctx) => throughput(SYSTEMS[s], ctx, { n, workers: W, threads: C, capMs }));
  if (LAVA.includes(s))
    add('A', s, 'bare', (ctx) => throughput(SYSTEMS[s], ctx, { n, workers: W, threads: C, kind: 'bare', capMs }));
}
// AH: the embedded drain again, on a realm that already holds BENCH_HISTORY finished runs.
if (config.history > 0) {
  add('AH', 'lava-embedded', 'noop', (ctx) =>
    throughput(SYSTEMS['lava-embedded'], ctx, { n, workers: W, threads: C, capMs, history: config.history }),
  );
}
if (config.workersMulti > 0) {
  for (const s of MULTI_SYSTEMS) {
    add('A4', s, 'noop', (ctx) => throughput(SYSTEMS[s], ctx, { n, workers: config.workersMulti, threads: C, capMs }));
  }
}
for (const s of [...LAVA, ...PEERS]) {
  add('B', s, 'lat', (ctx) =>
    latency(SYSTEMS[s], ctx, {
      n: config.latN,
      threads: C,
      // pg-boss polls every 0.5 s: its pause spans that period, or every sample would meet the
      // poll at the same phase (its C pollers start together and stay in step).
      capMs: (s === 'pg-boss' ? config.latCapPollS : config.latCapS) * 1000,
      jitterMs: s === 'pg-boss' ? Math.max(500, config.latJitterMs) : config.latJitterMs,
      warmup: s === 'pg-boss' ? 5 : 20,
    }),
  );
}
if (config.workersMulti > 0) {
  for (const s of MULTI_SYSTEMS) {
    add('B4', s, 'lat', (ctx) =>
      latency(SYSTEMS[s], ctx, {
        n: config.latN,
        threads: C,
        workers: config.workersMulti,
        capMs: config.latCapS * 1000,
        jitterMs: config.latJitterMs,
      }),
    );
  }
}
for (const s of LAVA) add('C', s, 'cmd', (ctx) => processJobs(SYSTEMS[s], ctx, { n: config.cmdN, m: config.cmdM, threads: C }));
for (const s of LAVA) add('D', s, 'chain40', (ctx) => chain(SYSTEMS[s], ctx, { runs: config.chainRuns, threads: C }));

const t0 = now();
let lastRepS = 0;
let repsDone = 0;
const loadBefore = os.loadavg();
const log = (msg) => process.stderr.write(`[${((now() - t0) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
const needPg = plan.some((p) => p.system !== 'lava-embedded' && p.system !== 'bullmq');
const needRedis = plan.some((p) => p.system === 'bullmq');
let pg;
let redis;
const cleanup = () => {
  if (pg) stopPostgres(pg);
  if (redis) stopRedis(redis);
  pg = redis = undefined;
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  if (needPg) {
    pg = startPostgres();
    log(`PostgreSQL ${pg.url}`);
  }
  if (needRedis) {
    redis = await startRedis();
    log(`Redis on port ${redis.port}`);
  }
  const profileDir = process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : undefined;
  // Statements per run on PostgreSQL come from pg_stat_statements (loaded into the throwaway server).
  const pgStats = pg ? await enableStatementStats(pg) : false;
  if (pg && !pgStats) log('pg_stat_statements is not available: statements per run are not counted');
  const ctx = { pg, redis, profileDir, pgStats };
  log(`plan: ${plan.length} measurements × ${config.reps} repetitions; ${JSON.stringify(config)}`);
  // Repetitions outermost, so slow drift of the machine spreads over every system alike.
  for (let rep = 1; rep <= config.reps; rep++) {
    const repStart = now();
    if (rep > 1 && (repStart - t0) / 1000 + lastRepS > config.budgetS) {
      log(`BUDGET: repetition ${rep} would end after ${config.budgetS} s; stopping at ${rep - 1} repetitions`);
      break;
    }
    repsDone = rep;
    for (const p of plan) {
      const started = now();
      let r;
      try {
        r = await p.fn(ctx);
      } catch (err) {
        r = { error: String(err?.message ?? err) };
      }
      (runs[p.key] ??= []).push(r);
      log(`rep ${rep}/${config.reps} ${p.key}: ${brief(p.workload, r)} (${((now() - started) / 1000).toFixed(1)} s)`);
    }
    lastRepS = (now() - repStart) / 1000;
  }
} finally {
  cleanup();
}

const wall = (now() - t0) / 1000;
const report = buildReport();
process.stdout.write(`\n${report.text}\n\nwall time ${wall.toFixed(0)} s\n`);
const result = {
  when: new Date().toISOString(),
  machine: { ...machine(), loadavg_before: loadBefore, loadavg_after: os.loadavg() },
  config,
  reps_done: repsDone,
  wall_s: wall,
  medians: report.medians,
  goals: report.goals,
  runs,
};
const dir = path.join(ROOT, 'bench', 'results');
fs.mkdirSync(dir, { recursive: true });
const stamp = result.when.replace(/[:.]/g, '-');
for (const f of [`${stamp}.json`, 'latest.json']) fs.writeFileSync(path.join(dir, f), JSON.stringify(result, null, 2) + '\n');
fs.writeFileSync(path.join(dir, 'latest.md'), `${report.markdown}\n\nWall time of the whole run: ${wall.toFixed(0)} s.\n`);
process.stderr.write(`results: bench/results/${stamp}.json, latest.json, latest.md\n`);
process.exitCode = Object.values(runs)
  .flat()
  .some((r) => r.error)
  ? 1
  : 0;

// ---------------------------------------------------------------------------------------------

function brief(workload, r) {
  if (r.error) return `ERROR ${r.error}`;
  if (workload === 'A' || workload === 'A4' || workload === 'AH') {
    const stmts = r.statements_per_run === undefined ? '' : `, ${r.statements_per_run.toFixed(2)} statements/run`;
    return `${r.jobs_per_s.toFixed(0)} jobs/s${r.capped ? ` (capped: ${r.done} done)` : ''}${stmts}, enqueue ${r.enqueue_per_s.toFixed(0)}/s, check ${JSON.stringify(r.check)}`;
  }
  if (workload === 'B' || workload === 'B4') return `p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms (n=${r.n})`;
  if (workload === 'C')
    return `${r.jobs_per_s.toFixed(0)} jobs/s, per run ${r.per_run_ms.toFixed(2)} ms, spawn ${r.bare_spawn_ms.toFixed(2)} ms`;
  if (workload === 'D') return `p50 ${r.p50.toFixed(0)} ms (${r.per_step_ms.toFixed(1)} ms/step)`;
  return JSON.stringify(r);
}

/** Median of one field over the repetitions that did not fail; with min and max. */
function med(key, pick) {
  const values = (runs[key] ?? []).filter((r) => !r.error).map(pick);
  if (!values.length) return undefined;
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), reps: values.length };
}

function buildReport() {
  const medians = {};
  const tables = [];
  const fmt = (v, digits = 0) =>
    v === undefined || !Number.isFinite(v)
      ? '–'
      : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const ratio = (a, b) => (a === undefined || b === undefined || !b ? '–' : `${(a / b).toFixed(2)}×`);
  const errOf = (key) => (runs[key] ?? []).find((r) => r.error)?.error;

  // A
  for (const [wl, w] of [
    ['A', config.workers],
    ['AH', config.workers],
    ['A4', config.workersMulti],
  ]) {
    const systems = [...LAVA, ...PEERS].filter((s) => runs[`${wl}/${s}/noop`]);
    if (!systems.length) continue;
    const peers = PEERS.filter((p) => systems.includes(p));
    const rows = [];
    const peerRate = Object.fromEntries(peers.map((p) => [p, med(`${wl}/${p}/noop`, (r) => r.jobs_per_s)?.median]));
    for (const s of systems) {
      for (const variant of ['noop', 'bare']) {
        const key = `${wl}/${s}/${variant}`;
        if (!runs[key]) continue;
        const rate = med(key, (r) => r.jobs_per_s);
        const enq = med(key, (r) => r.enqueue_per_s);
        const capped = (runs[key] ?? []).some((r) => r.capped);
        const stmts = med(key, (r) => r.statements_per_run);
        medians[key] = { jobs_per_s: rate, enqueue_per_s: enq, capped, ...(stmts ? { statements_per_run: stmts } : {}) };
        const label =
          variant === 'bare'
            ? `${s}, bare queue (send/receive/delete, no lifecycle)`
            : s.startsWith('lava')
              ? `${s}, \`log\` job, full lifecycle + events`
              : {
                  'graphile-worker': 'graphile-worker (unbatched)',
                  'pg-boss': 'pg-boss (batchSize 1, poll 0.5 s)',
                  bullmq: 'bullmq',
                }[s];
        rows.push([
          label,
          errOf(key) && !rate ? `ERROR: ${errOf(key)}` : `${fmt(rate?.median)}${capped ? ' (capped)' : ''}`,
          rate ? `${fmt(rate.min)}–${fmt(rate.max)}` : '–',
          fmt(enq?.median),
          fmt(stmts?.median, 2),
          ...peers.map((p) => (p === s ? '1.00×' : ratio(rate?.median, peerRate[p]))),
        ]);
      }
    }
    const onHistory = wl === 'AH' ? `, on a realm holding ${config.history.toLocaleString('en-US')} finished runs` : '';
    tables.push({
      title: `A. Throughput: ${config.n.toLocaleString('en-US')} no-op jobs enqueued one at a time, then drained by ${w} worker process${w > 1 ? 'es' : ''} × concurrency ${config.threads}${onHistory}`,
      head: [
        'system',
        'jobs/s (median)',
        'range',
        'enqueue jobs/s',
        'statements per run (PostgreSQL)',
        ...peers.map((p) => `× ${p}`),
      ],
      rows,
    });
  }

  // B
  for (const [wl, w] of [
    ['B', 1],
    ['B4', config.workersMulti],
  ]) {
    const systems = [...LAVA, ...PEERS].filter((s) => runs[`${wl}/${s}/lat`]);
    if (!systems.length) continue;
    const peers = PEERS.filter((p) => systems.includes(p));
    const peerP50 = Object.fromEntries(peers.map((p) => [p, med(`${wl}/${p}/lat`, (r) => r.p50)?.median]));
    const rows = systems.map((s) => {
      const key = `${wl}/${s}/lat`;
      const m = Object.fromEntries(['n', 'p50', 'p90', 'p99', 'max', 'mean'].map((f) => [f, med(key, (r) => r[f])]));
      const recv = med(key, (r) => r.to_receive?.p50);
      medians[key] = { ...m, receive_p50: recv };
      if (!m.p50) return [s, `ERROR: ${errOf(key)}`, '', '', '', '', '', ...peers.map(() => '–')];
      return [
        s,
        fmt(m.n?.median),
        fmt(m.p50.median, 2) + (recv ? ` (recv ${fmt(recv.median, 2)})` : ''),
        fmt(m.p90.median, 2),
        fmt(m.p99.median, 2),
        fmt(m.max.median, 1),
        `${fmt(m.p50.min, 2)}–${fmt(m.p50.max, 2)}`,
        ...peers.map((p) => (p === s ? '1.00×' : ratio(m.p50.median, peerP50[p]))),
      ];
    });
    const pause =
      wl === 'B'
        ? `random 0–${config.latJitterMs} ms pause before each job (0–500 ms for pg-boss, its poll period)`
        : `random 0–${config.latJitterMs} ms pause before each job`;
    tables.push({
      title: `B. Latency, enqueue → handler entered, ms: one job at a time to ${w === 1 ? 'an idle worker' : `${w} idle worker processes`} (concurrency ${config.threads}${w === 1 ? '' : ' each'}), ${pause}`,
      head: ['system', 'samples', 'p50', 'p90', 'p99', 'max', 'p50 range', ...peers.map((p) => `p50 × ${p}`)],
      rows,
    });
  }

  // C
  {
    const systems = LAVA.filter((s) => runs[`C/${s}/cmd`]);
    if (systems.length) {
      const rows = [];
      for (const s of systems) {
        const key = `C/${s}/cmd`;
        const m = {
          jobs_per_s: med(key, (r) => r.jobs_per_s),
          per_run_ms: med(key, (r) => r.per_run_ms),
          bare_spawn_ms: med(key, (r) => r.bare_spawn_ms),
          worker_spawn_ms: med(key, (r) => r.worker_spawn_ms),
          overhead_ms: med(key, (r) => r.overhead_ms),
        };
        medians[key] = m;
        if (!m.jobs_per_s) {
          rows.push([s, `ERROR: ${errOf(key)}`, '', '', '', '']);
          continue;
        }
        rows.push([
          `${s}, \`cmd\` job running \`true\``,
          fmt(m.jobs_per_s.median),
          fmt(m.per_run_ms.median, 2),
          fmt(m.bare_spawn_ms.median, 2),
          fmt(m.worker_spawn_ms.median, 2),
          `${fmt(m.overhead_ms.median, 2)} (${fmt(m.overhead_ms.min, 1)}–${fmt(m.overhead_ms.max, 1)})`,
        ]);
      }
      tables.push({
        title: `C. Process jobs: jobs/s with ${config.cmdN} jobs at concurrency ${config.threads}; wall time per run at concurrency 1 (${config.cmdM} jobs); floor = a bare spawn of \`true\` from a minimal Node process; overhead = median over repetitions of (per run − floor), each pair from the same repetition (peers have no process jobs)`,
        head: ['system', 'jobs/s', 'ms per run (C=1)', 'floor ms', 'spawn from the worker process, ms', 'overhead ms (range)'],
        rows,
      });
    }
  }

  // D
  {
    const systems = LAVA.filter((s) => runs[`D/${s}/chain40`]);
    if (systems.length) {
      const rows = systems.map((s) => {
        const key = `D/${s}/chain40`;
        const m = { p50: med(key, (r) => r.p50), per_step_ms: med(key, (r) => r.per_step_ms), max: med(key, (r) => r.max) };
        medians[key] = m;
        if (!m.p50) return [s, `ERROR: ${errOf(key)}`, '', ''];
        return [`${s} (measured)`, fmt(m.p50.median / 1000, 3), fmt(m.per_step_ms.median, 1), fmt(m.max.median / 1000, 3)];
      });
      rows.push(['Airflow 2.7.3 (published by Windmill; NOT measured here)', '116.2', '≈2,900', '–']);
      rows.push(['Windmill (published; NOT measured here; 2.09 s with a dedicated worker)', '4.38', '≈110', '–']);
      tables.push({
        title: `D. Orchestration: a chain of 40 no-op \`log\` children, dispatch → chain finished (${config.chainRuns} chains per repetition)`,
        head: ['system', 'wall s (median)', 'ms per step', 'slowest chain s'],
        rows,
      });
    }
  }

  // Goals
  const goals = [];
  const goal = (name, ok, detail) => goals.push({ goal: name, status: ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS', detail });
  const pgRate = medians['A/lava-postgres/noop']?.jobs_per_s?.median;
  const gwRate = medians['A/graphile-worker/noop']?.jobs_per_s?.median;
  const pgRate4 = medians['A4/lava-postgres/noop']?.jobs_per_s?.median;
  const gwRate4 = medians['A4/graphile-worker/noop']?.jobs_per_s?.median;
  const atLeast = (a, b, k) => (a && b ? a >= k * b : undefined);
  goal(
    'PostgreSQL full lifecycle ≥ 1.2 × graphile-worker (1 process)',
    atLeast(pgRate, gwRate, 1.2),
    `${fmt(pgRate)} vs ${fmt(gwRate)} jobs/s (${ratio(pgRate, gwRate)}) at W=${config.workers} × C=${config.threads}`,
  );
  goal(
    `PostgreSQL full lifecycle ≥ 1.2 × graphile-worker (${config.workersMulti} processes)`,
    atLeast(pgRate4, gwRate4, 1.2),
    `${fmt(pgRate4)} vs ${fmt(gwRate4)} jobs/s (${ratio(pgRate4, gwRate4)})`,
  );
  const pgP50 = medians['B/lava-postgres/lat']?.p50?.median;
  const gwP50 = medians['B/graphile-worker/lat']?.p50?.median;
  goal(
    'PostgreSQL p50 enqueue → start ≤ 1.2 × graphile-worker',
    pgP50 && gwP50 ? pgP50 <= 1.2 * gwP50 : undefined,
    `${fmt(pgP50, 2)} ms vs ${fmt(gwP50, 2)} ms (${ratio(pgP50, gwP50)})`,
  );
  const embRate = medians['A/lava-embedded/noop']?.jobs_per_s?.median;
  const bullRate = medians['A/bullmq/noop']?.jobs_per_s?.median;
  goal(
    'Embedded full lifecycle ≥ 1.0 × BullMQ',
    atLeast(embRate, bullRate, 1),
    `${fmt(embRate)} vs ${fmt(bullRate)} jobs/s (${ratio(embRate, bullRate)})`,
  );
  const histRate = medians['AH/lava-embedded/noop']?.jobs_per_s?.median;
  goal(
    `Embedded with ${config.history.toLocaleString('en-US')} runs of history ≤ 10 % slower`,
    histRate && embRate ? histRate >= 0.9 * embRate : undefined,
    `${fmt(histRate)} vs ${fmt(embRate)} jobs/s (${ratio(histRate, embRate)})`,
  );
  for (const [s, limit] of [
    ['lava-embedded', 1.5],
    ['lava-postgres', 2.5],
  ]) {
    const o = medians[`C/${s}/cmd`]?.overhead_ms?.median;
    goal(
      `\`cmd true\` overhead ≤ ${limit} ms beyond a bare spawn (${s})`,
      o === undefined ? undefined : o <= limit,
      `${fmt(o, 2)} ms`,
    );
  }
  const stmts = medians['A/lava-postgres/noop']?.statements_per_run?.median;
  goal(
    'PostgreSQL statements per run (pg_stat_statements, W=1 drain) ≤ 2.5',
    stmts === undefined ? undefined : stmts <= 2.5,
    `${fmt(stmts, 2)} (graphile-worker ${fmt(medians['A/graphile-worker/noop']?.statements_per_run?.median, 2)})`,
  );

  const text = [
    ...tables.map((t) => `${t.title}\n${textTable(t.head, t.rows)}`),
    `Goals\n${textTable(
      ['goal', 'status', 'measured'],
      goals.map((g) => [g.goal, g.status, g.detail]),
    )}`,
    `medians of ${repsDone} repetition(s)${repsDone < config.reps ? ` (${config.reps} asked; stopped by BENCH_BUDGET_S)` : ''}; ratios are Lava ÷ peer (for latency, lower is better); load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  ].join('\n\n');
  const markdown = [
    ...tables.map((t) => `**${t.title}**\n\n${mdTable(t.head, t.rows)}`),
    `**Goals**\n\n${mdTable(
      ['goal', 'status', 'measured'],
      goals.map((g) => [g.goal, `**${g.status}**`, g.detail]),
    )}`,
    `Medians of ${repsDone} repetition(s)${repsDone < config.reps ? ` (${config.reps} asked; stopped by BENCH_BUDGET_S)` : ''}; ratios are Lava ÷ peer (for latency, lower is better). Load average before the run: ${loadBefore.map((l) => l.toFixed(2)).join(', ')}.`,
  ].join('\n\n');
  return { text, markdown, medians, goals };
}

function textTable(head, rows) {
  const all = [head, ...rows].map((r) => r.map((c) => String(c).replace(/`/g, '')));
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r) => r.map((c, i) => (i === 0 ? (c ?? '').padEnd(widths[i]) : (c ?? '').padStart(widths[i]))).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

function mdTable(head, rows) {
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
