// Workload A on the embedded backend: enqueue N no-op `log` jobs, then drain with one worker
// process (C concurrent runs); jobs/s = N / drain time. Every run goes through the full lifecycle
// (starting, running, complete events written). Usage: node bench/embedded-throughput.mjs [N] [C]
import { lava, saveResult, tempDir } from './lib.mjs';

const N = Number(process.argv[2] ?? 5000);
const C = Number(process.argv[3] ?? 8);
const L = await lava();
const dir = tempDir('lava-bench-tp-');
const { backendUrl } = await L.initEmbeddedRealm(dir, 'bench');
const backend = await L.openBackend(backendUrl);
await backend.config.putRealm({ ...(await backend.config.getRealm('bench')), config: { TMPDIR: `${dir}/scratch` }, on_fail: [] });
await backend.config.put('bench', 'jobs', { job_id: 'noop', type: 'log', worker: 'w', enabled: true, payload: null });
const t0 = Date.now();
for (let i = 0; i < N; i++) await L.dispatch(backend, { realm: 'bench', jobId: 'noop', worker: 'w' });
const enqueueMs = Date.now() - t0;
const worker = await L.Worker.create({ backend, realm: 'bench', worker: 'w', threads: C, batch: true, waitSeconds: 0 });
const t1 = Date.now();
await worker.run();
const drainMs = Date.now() - t1;
const complete = (await backend.events.query('bench', { status: 'complete', limit: N + 10 })).length;
await backend.close();
const result = {
  n: N,
  concurrency: C,
  enqueue_per_s: Math.round(N / (enqueueMs / 1000)),
  drain_per_s: Math.round(N / (drainMs / 1000)),
  complete,
};
console.log(JSON.stringify(result));
if (process.env.SAVE) saveResult('embedded-throughput', result);
