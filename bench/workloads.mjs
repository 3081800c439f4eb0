// The workloads, parent side. Each takes a system adapter (systems.mjs) and a context
// { pg, redis, log, profileDir } and returns a plain result object.
import path from 'node:path';
import { CHAIN_STEPS } from './systems.mjs';
import { BENCH, WorkerGroup, now, resetStatementStats, sleep, statementStats, summary } from './lib.mjs';

function execArgvFor(ctx, system, label) {
  if (!ctx.profileDir || system.family !== 'lava') return [];
  return ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.profileDir, label)}`];
}

/**
 * A: enqueue n jobs one at a time, then start W worker processes × C concurrency and drain.
 * jobs/s = jobs finished ÷ (last finish − first start). A drain that would pass capMs is cut
 * there, and counted as jobs finished by then ÷ elapsed time (pg-boss at batchSize 1 needs it).
 */
export async function throughput(
  system,
  ctx,
  { n, workers, threads, kind = 'noop', capMs = 60_000, label, afterDrain, history = 0 },
) {
  const store = await system.fresh(ctx);
  let group;
  try {
    if (history > 0) await store.seedHistory(history);
    const t0 = now();
    for (let i = 0; i < n; i++) await store.enqueue(kind, i);
    const enqueueMs = now() - t0;
    const mode = kind === 'bare' ? 'bare' : 'drain';
    group = new WorkerGroup(system.script, { ...store.workerCfg, threads, mode }, workers, {
      execArgv: execArgvFor(ctx, system, label ?? `${system.name}-${kind}`),
    });
    await group.ready();
    // Statements per run on PostgreSQL: counted from here (workers ready, jobs enqueued) to the drain's end.
    const countStatements = ctx.pgStats && store.pgDatabase;
    if (countStatements) await resetStatementStats(ctx.pg);
    const go = group.go();
    const finished = await group.waitFor(() => group.done >= n, capMs + 1000, { soft: true });
    const cut = now();
    const done = group.done;
    const statements = countStatements ? await statementStats(ctx.pg, store.pgDatabase) : undefined;
    const first = group.first ?? go;
    const end = finished ? group.last : cut;
    const extra = afterDrain ? await afterDrain(group) : {};
    await group.stop();
    group = undefined;
    // Peers acknowledge in the background: give the store a moment to catch up before checking.
    let check = await store.verify(kind);
    for (let k = 0; k < 50 && finished && check.left > 0; k++) {
      await sleep(100);
      check = await store.verify(kind);
    }
    return {
      n,
      workers,
      threads,
      kind,
      enqueue_per_s: n / (enqueueMs / 1000),
      done,
      capped: !finished,
      drain_ms: end - first,
      startup_ms: first - go,
      jobs_per_s: done / ((end - first) / 1000),
      /** The drain window on the CLOCK_MONOTONIC ms clock (bench/profile.mjs keeps only its samples). */
      window: [first, end],
      check,
      ...(statements ? { statements_per_run: statements.calls / done, top_statements: statements.top } : {}),
      ...extra,
    };
  } finally {
    if (group) await group.stop();
    await store.close();
  }
}

/**
 * B: idle worker processes (one, or `workers`, each with C concurrency); jobs enqueued one at a time, each only after the
 * previous one started, after a random pause of 0..jitterMs (so that a polling worker is met at
 * a random point of its poll period, not always at the same one). Latency = enqueue call →
 * handler entered. Warm-up samples are dropped, then 1 s idle; sampling stops at n samples or
 * capMs. For Lava the receive of the message is recorded too (pickup vs the run lifecycle).
 */
export async function latency(system, ctx, { n, threads, workers = 1, warmup = 20, capMs = 30_000, jitterMs = 20 }) {
  const store = await system.fresh(ctx);
  const group = new WorkerGroup(system.script, { ...store.workerCfg, threads, mode: 'latency', eager: true }, workers);
  try {
    await group.ready();
    group.go();
    const starts = new Map();
    const receives = new Map();
    group.onStart((m) => (m.type === 'recv' ? receives : starts).set(m.i, m.t));
    const sample = async (i) => {
      await sleep(Math.random() * jitterMs);
      const t0 = now();
      await store.enqueue('lat', i);
      // Rejects if the worker dies, or if the job has not started within 30 s.
      await group.waitFor(() => starts.has(i), 30_000);
      return [starts.get(i) - t0, receives.has(i) ? receives.get(i) - t0 : undefined];
    };
    for (let i = 0; i < warmup; i++) await sample(-1 - i);
    await sleep(1000);
    const toStart = [];
    const toReceive = [];
    const tEnd = now() + capMs;
    for (let i = 0; i < n && now() < tEnd; i++) {
      const [s, r] = await sample(i);
      toStart.push(s);
      if (r !== undefined) toReceive.push(r);
    }
    return {
      requested: n,
      capped: toStart.length < n,
      workers,
      threads,
      jitter_ms: jitterMs,
      ...summary(toStart),
      ...(toReceive.length ? { to_receive: summary(toReceive) } : {}),
    };
  } finally {
    await group.stop();
    await store.close();
  }
}

/** The cost of spawning `true` from a Node process that loads nothing else (bench/spawn-floor.mjs). */
export async function spawnFloor(m) {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(process.execPath, [path.join(BENCH, 'spawn-floor.mjs'), String(m)], { encoding: 'utf8' });
  return summary(JSON.parse(out));
}

/**
 * C: `cmd` jobs running `true`. Throughput with W=1 × C; then the wall time per run with C=1
 * (m jobs), after which the same worker process spawns `true` m times itself. Overhead = per run
 * − the floor (a bare spawn from a minimal Node process, measured right after); the split shows
 * how much of it is the worker's own, slower, spawn (a bigger process forks more slowly).
 */
export async function processJobs(system, ctx, { n, m, threads }) {
  const tp = await throughput(system, ctx, { n, workers: 1, threads, kind: 'cmd' });
  const serial = await throughput(system, ctx, {
    n: m,
    workers: 1,
    threads: 1,
    kind: 'cmd',
    label: `${system.name}-cmd-c1`,
    afterDrain: async (group) => ({ worker_spawn: summary((await group.request(0, { type: 'spawn', m })).value) }),
  });
  const floor = await spawnFloor(m);
  const perRun = serial.drain_ms / m;
  return {
    n,
    m,
    threads,
    jobs_per_s: tp.jobs_per_s,
    throughput: tp,
    serial,
    per_run_ms: perRun,
    bare_spawn_ms: floor.mean,
    bare_spawn: floor,
    worker_spawn_ms: serial.worker_spawn.mean,
    overhead_ms: perRun - floor.mean,
  };
}

/** D: a chain of 40 no-op `log` children; wall time from dispatch to the chain run finished. */
export async function chain(system, ctx, { runs, threads }) {
  const store = await system.fresh(ctx);
  const group = new WorkerGroup(system.script, { ...store.workerCfg, threads, mode: 'drain', eager: true }, 1);
  try {
    await group.ready();
    group.go();
    const times = [];
    for (let k = 0; k < runs + 1; k++) {
      const before = group.done;
      const t0 = now();
      await store.enqueue('chain', k);
      await group.waitFor(() => group.done > before, 120_000);
      if (k > 0) times.push(group.last - t0); // the first run warms up
    }
    const check = await store.verify('chain');
    const s = summary(times);
    return { steps: CHAIN_STEPS, runs, ...s, per_step_ms: s.p50 / CHAIN_STEPS, check };
  } finally {
    await group.stop();
    await store.close();
  }
}
