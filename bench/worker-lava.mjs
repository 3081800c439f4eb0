// A Lava worker process for the benchmarks (see lib.mjs WorkerGroup).
// cfg: { backendUrl, realm, worker, threads, mode: 'drain' | 'bare' | 'latency' }
//  drain/latency: a real Worker (full run lifecycle, events written); a job counts as finished
//                 when its run ends (outcome recorded, claim finished, message deleted: one step).
//  bare:          the queue alone: receive up to `threads` messages, delete each; no lifecycle.
import { childProcess, lava, spawnTimes } from './lib.mjs';

const child = childProcess();
const { cfg } = child;
const L = await lava();
const backend = await L.openBackend(cfg.backendUrl);
const queue = backend.queue(cfg.realm, cfg.worker);

// The backends cache one Queue per name, so the Worker below gets this patched instance.
const receive = queue.receive.bind(queue);
const del = queue.delete.bind(queue);
queue.receive = async (o) => {
  const got = await receive(o);
  if (got.length) child.started();
  if (cfg.mode === 'latency') for (const m of got) child.received(JSON.parse(m.body).parameters?.i);
  return got;
};
queue.delete = async (receipt) => {
  const ok = await del(receipt);
  if (cfg.mode === 'bare') child.finished();
  return ok;
};
const finish = backend.runs.finish.bind(backend.runs);
backend.runs.finish = async (...args) => {
  const ok = await finish(...args);
  if (args[3]?.delivery) child.finished();
  return ok;
};

// The latency probe's job type: records the moment the handler is entered.
const handlers = L.builtinHandlers();
handlers.set('noop', {
  type: 'noop',
  async run(ctx) {
    child.handlerEntered(ctx.job.parameters.i);
    return { exit_status: 0 };
  },
});

let stop = async () => {};
if (cfg.mode === 'bare') {
  const ac = new AbortController();
  let running = true;
  const active = new Set();
  const loop = async () => {
    while (running) {
      const free = cfg.threads - active.size;
      if (free <= 0) {
        await Promise.race(active);
        continue;
      }
      const got = await queue.receive({ max: free, visibilitySeconds: 300, waitSeconds: 10, signal: ac.signal });
      for (const m of got) {
        const p = queue.delete(m.receipt).finally(() => active.delete(p));
        active.add(p);
      }
    }
    await Promise.allSettled([...active]);
  };
  let done;
  child.onGo(() => (done = loop()));
  stop = async () => {
    running = false;
    ac.abort();
    await done;
  };
} else {
  const worker = await L.Worker.create({ backend, realm: cfg.realm, worker: cfg.worker, threads: cfg.threads, handlers });
  child.onGo(() => void worker.run().catch(child.fail));
  stop = () => worker.stop(10);
}
// Workload C: the cost of a bare spawn from this very process (same modules loaded, same memory).
child.onCommand('spawn', (m) => spawnTimes(m.m));
child.onStop(async () => {
  await stop();
  await backend.close();
});
child.ready();
