// A pg-boss process for the benchmarks: C workers per process (`work()` called C times, the v10 way
// to get local concurrency), each fetching one job at a time (batchSize 1) and polling at the
// shortest interval pg-boss allows (0.5 s). A job counts as finished when its handler returns
// (pg-boss completes it in the background).
import PgBoss from 'pg-boss';
import { childProcess } from './lib.mjs';

const child = childProcess();
const { cfg } = child;
const boss = new PgBoss({ connectionString: cfg.connectionString, max: Math.max(10, cfg.threads + 2) });
boss.on('error', (err) => process.stderr.write(`pg-boss: ${err.message}\n`));
await boss.start();
const queue = cfg.mode === 'latency' ? 'lat' : 'noop';
child.onGo(() => {
  void (async () => {
    for (let k = 0; k < cfg.threads; k++) {
      await boss.work(queue, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
        child.started();
        if (cfg.mode === 'latency') child.handlerEntered(job.data.i);
        queueMicrotask(() => child.finished());
      });
    }
  })().catch(child.fail);
});
child.onStop(async () => {
  await Promise.race([boss.stop({ graceful: true, wait: true, timeout: 3000 }), new Promise((r) => setTimeout(r, 4000))]);
});
child.ready();
