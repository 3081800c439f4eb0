// A graphile-worker process for the benchmarks: `run()` with its defaults (no local queue, no
// completion batching: the "unbatched" mode), concurrency C, tasks `noop` and `lat`.
import { EventEmitter } from 'node:events';
import gw from 'graphile-worker';
import { childProcess } from './lib.mjs';

const child = childProcess();
const { cfg } = child;
const events = new EventEmitter();
events.on('job:start', () => child.started());
events.on('job:complete', () => child.finished());
const silent = new gw.Logger(() => () => {});
let runner;
child.onGo(() => {
  void gw
    .run({
      connectionString: cfg.connectionString,
      concurrency: cfg.threads,
      noHandleSignals: true,
      logger: silent,
      events,
      taskList: {
        noop: async () => {},
        lat: async (payload) => child.handlerEntered(payload.i),
      },
    })
    .then((r) => (runner = r), child.fail);
});
child.onStop(async () => {
  await runner?.stop();
});
child.ready();
