/**
 * Replay of the upstream user guide's only `log` example (test/fixtures/upstream-guide/log.yaml, the
 * 18-Samples template) on the embedded backend: the spec is stored unchanged and run by a worker
 * named as the spec's `worker` ("<{ worker.main }>", a framework placeholder the worker never renders).
 * The guide (JT/log.md) says the job writes its job spec to syslog; ours writes it to the worker log
 * (docs/job-types/log.md). Payload and parameters are ignored, and dev mode makes no difference.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { example } from './guide.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
});
afterEach(async () => {
  await t.close();
});

describe('log.yaml replays (upstream guide, 18-Samples "log" and JT/log.md)', () => {
  for (const dev of [false, true]) {
    it(`#1 writes its job spec to the worker log, ignoring payload "--" and parameters null${dev ? ' (dev mode: no difference)' : ''}`, async () => {
      const spec = example('log', 1);
      expect(spec.parameters).toBeNull(); // as the guide's YAML has it: every child is commented out
      const lines: Record<string, unknown>[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString('utf8').split('\n'))
            if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      });
      await t.putJob(spec);
      const runId = await t.dispatch(String(spec.job_id));
      await t.drain({ worker: String(spec.worker), dev, logger: createLogger({ level: 'info', json: true, destination: sink }) });
      expect(await t.statuses(runId, '<{ prefix.job }>/demo')).toEqual(['queued', 'starting', 'running', 'complete']);
      const logged = lines.filter((l) => l.job_spec !== undefined);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({
        level: 30,
        msg: `job <{ prefix.job }>/demo (run ${runId})`,
        job_spec: {
          job_id: '<{ prefix.job }>/demo',
          worker: '<{ worker.main }>',
          type: 'log',
          payload: '--',
          description: 'What does this job do?',
          owner: '<{ owner }>',
          enabled: true,
          realm: 'test',
          run_id: runId,
        },
      });
    });
  }
});
