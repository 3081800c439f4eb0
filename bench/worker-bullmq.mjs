// A BullMQ process for the benchmarks: one Worker with concurrency C; a job counts as finished at
// the 'completed' event (after it is moved to the completed set in Redis).
import { Worker } from 'bullmq';
import { childProcess } from './lib.mjs';

const child = childProcess();
const { cfg } = child;
const queue = cfg.mode === 'latency' ? 'lat' : 'noop';
const worker = new Worker(
  queue,
  async (job) => {
    if (cfg.mode === 'latency') child.handlerEntered(job.data.i);
  },
  {
    connection: { host: '127.0.0.1', port: cfg.redisPort, maxRetriesPerRequest: null },
    concurrency: cfg.threads,
    autorun: false,
  },
);
worker.on('active', () => child.started());
worker.on('completed', () => child.finished());
worker.on('error', (err) => process.stderr.write(`bullmq: ${err.message}\n`));
await worker.waitUntilReady();
child.onGo(() => void worker.run().catch(child.fail));
child.onStop(() => worker.close());
child.ready();
