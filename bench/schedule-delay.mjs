// Scheduling latency on the embedded backend: N jobs scheduled on the same minute.
// Measures, per job, tick → dispatch (message sent) and tick → job start (handler entered),
// with the built-in dispatcher and one worker in this process. Usage: node bench/schedule-delay.mjs [N] [threads]
import { lava, saveResult, summary, tempDir } from './lib.mjs';

const N = Number(process.argv[2] ?? 1000);
const THREADS = Number(process.argv[3] ?? 8);
const L = await lava();
const dir = tempDir('lava-bench-sched-');
const { backendUrl } = await L.initEmbeddedRealm(dir, 'bench');
const backend = await L.openBackend(backendUrl);
await backend.config.putRealm({
  ...(await backend.config.getRealm('bench')),
  config: { TMPDIR: `${dir}/scratch`, EVENT_TTL: '1h' },
  on_fail: [],
});
for (let i = 0; i < N; i++) {
  await backend.config.put('bench', 'jobs', {
    job_id: `job${i}`,
    type: 'noop',
    worker: 'w',
    enabled: true,
    payload: null,
    dispatcher: 'bench',
    schedule: '* * * * *',
  });
}

const started = new Map();
const noop = {
  type: 'noop',
  async run(ctx) {
    started.set(ctx.job.job_id, Date.now());
    return { exit_status: 0 };
  },
};
const handlers = new Map([['noop', noop]]);
// Intercept sends to learn when each message was dispatched.
const queue = backend.queue('bench', 'w');
const sent = new Map();
const send = queue.send.bind(queue);
queue.send = async (body, o) => {
  const id = await send(body, o);
  sent.set(JSON.parse(body).job_id, Date.now());
  return id;
};

const dispatcher = await L.Dispatcher.create({ backend, realm: 'bench', name: 'bench', tz: 'UTC', reloadSeconds: 3600 });
const worker = await L.Worker.create({ backend, realm: 'bench', worker: 'w', threads: THREADS, handlers, waitSeconds: 1 });
const fire = Math.ceil((Date.now() + 2000) / 60000) * 60000;
console.error(`waiting ${Math.round((fire - Date.now()) / 1000)}s for the minute…`);
void dispatcher.run();
void worker.run();
while (started.size < N) await new Promise((r) => setTimeout(r, 100));
await dispatcher.stop();
await worker.stop(5);
await backend.close();

const toDispatch = summary([...sent.values()].map((t) => t - fire));
const toStart = summary([...started.values()].map((t) => t - fire));
const result = {
  method: `${N} no-op jobs with schedule "* * * * *" on one built-in dispatcher (tick period 1 s) and one worker (${THREADS} threads) in one process, embedded SQLite backend. Delay = time after the fire minute; dispatch = message sent, start = handler entered.`,
  n: N,
  threads: THREADS,
  tick_to_dispatch_ms: toDispatch,
  tick_to_start_ms: toStart,
};
console.log(JSON.stringify(result, null, 2));
console.error(`saved ${saveResult('schedule-delay', result)}`);
