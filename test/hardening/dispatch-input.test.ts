/**
 * What dispatch accepts: reserved `lava*` globals and prototype names are refused the same way by
 * every way in (the API, `lava dispatch`, the dispatch action and job type), and the delay limit is
 * the queue's own (15 minutes on SQS only).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config } from '../../src/core/config.js';
import { ValidationError } from '../../src/core/errors.js';
import { checkDelay, delayOptions, dispatch, maxDelay } from '../../src/dispatch/dispatch.js';
import { encodeMessage } from '../../src/dispatch/message.js';
import { expandPairs } from '../../src/dispatch/params.js';
import { makeCliRealm, type CliRealm } from '../e2e/cli-helpers.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
  await t.putJob({ job_id: 'in/t', type: 'cmd', payload: 'true' });
});
afterEach(async () => {
  await t.close();
  // Nothing here may have reached Object.prototype.
  expect(Object.prototype).not.toHaveProperty('polluted');
});

async function lastInfo(jobId: string, runId: string): Promise<Record<string, unknown>> {
  const rec = await t.backend.events.get('test', jobId, runId);
  return (rec?.log.at(-1)?.info ?? {}) as Record<string, unknown>;
}

describe('reserved globals', () => {
  it.each(['lava_x', 'lava', 'LAVAish', 'Lava.x'])('the API refuses the global "%s" with upstream\'s rule', async (name) => {
    const globals = name.includes('.') ? expandPairs([`${name}=1`], '-g') : { [name]: '1' };
    const err = await t.dispatch('in/t', { globals }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const top = name.split('.')[0];
    expect(String((err as Error).message)).toContain(
      `Reserved global "${top}": global names starting with "lava" (any case) are reserved for Lava's own globals; rename it`,
    );
    expect(await t.backend.queue('test', 'w').counts()).toMatchObject({ visible: 0, delayed: 0 });
  });

  it('accepts other globals, and the lava map a dispatching job hands down', async () => {
    const runId = await t.dispatch('in/t', { globals: { la: '1', my_lava: '2' }, lavaGlobals: { master_job_id: 'x' } });
    await t.drain();
    expect(await t.statuses(runId, 'in/t')).toEqual(['queued', 'starting', 'running', 'complete']);
  });

  it('the dispatch job type and the dispatch action refuse a reserved global they would pass on', async () => {
    await t.putJob({ job_id: 'in/job', type: 'dispatch', payload: 'in/t' });
    await t.putJob({
      job_id: 'in/act',
      type: 'cmd',
      payload: 'true',
      on_success: [{ action: 'dispatch', job_id: 'in/t' }],
    });
    // A queue writer's message is the only way a run gets such a global: specs refuse them.
    const queue = t.backend.queue('test', 'w');
    const send = (jobId: string, runId: string) =>
      queue.send(
        encodeMessage({
          realm: 'test',
          worker: 'w',
          job_id: jobId,
          run_id: runId,
          ts_dispatch: '2026-01-01T00:00:00+00:00',
          globals: { lava_x: '1' },
        }),
      );
    const jobRun = '11111111-1111-4111-8111-111111111111';
    const actRun = '22222222-2222-4222-8222-222222222222';
    await send('in/job', jobRun);
    await send('in/act', actRun);
    await t.drain();
    expect((await t.statuses(jobRun, 'in/job')).at(-1)).toBe('failed');
    expect(String((await lastInfo('in/job', jobRun)).error)).toMatch(/Reserved global "lava_x"/);
    expect((await t.statuses(actRun, 'in/act')).at(-1)).toBe('action_failed');
    expect(JSON.stringify(await lastInfo('in/act', actRun))).toMatch(/Reserved global \\"lava_x\\"/);
  });
});

describe('prototype names in parameters and globals', () => {
  it.each(['__proto__.polluted=1', 'vars.__proto__.polluted=1', 'constructor.prototype.polluted=1', 'a.prototype=1'])(
    '-p %s is refused, naming the segment',
    (pair) => {
      expect(() => expandPairs([pair], '-p')).toThrow(
        /cannot be a name \(__proto__, constructor and prototype are not allowed\)/,
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it('the API refuses them at any depth (as JSON.parse makes them)', async () => {
    const parameters = JSON.parse('{"vars": {"__proto__": {"polluted": 1}}}') as Record<string, unknown>;
    await expect(t.dispatch('in/t', { parameters })).rejects.toThrow(
      /parameter "vars.__proto__": __proto__, constructor and prototype cannot be names/,
    );
    const globals = JSON.parse('{"constructor": {"prototype": {"polluted": 1}}}') as Record<string, unknown>;
    await expect(t.dispatch('in/t', { globals })).rejects.toThrow(/global "constructor"/);
  });

  it('a queue message carrying them runs without reaching Object.prototype', async () => {
    await t.putJob({ job_id: 'in/echo', type: 'cmd', payload: 'echo {{ vars.a }}', parameters: { vars: { a: 'ok' } } });
    const runId = '33333333-3333-4333-8333-333333333333';
    await t.backend
      .queue('test', 'w')
      .send(
        `{"realm":"test","worker":"w","job_id":"in/echo","run_id":"${runId}","ts_dispatch":"2026-01-01T00:00:00+00:00",` +
          '"parameters":{"__proto__":{"polluted":1}},"globals":{"__proto__":{"polluted":2}}}',
      );
    await t.drain();
    expect((await t.statuses(runId, 'in/echo')).length).toBeGreaterThan(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('dispatch delay limits', () => {
  it('SQLite queues take delays beyond 15 minutes, up to DISPATCH_MAX_DELAY (7d)', async () => {
    const opts = delayOptions(new Config({}));
    const runId = await dispatch(t.backend, { realm: 'test', jobId: 'in/t', delay: '16m' }, opts);
    expect(await t.backend.queue('test', 'w').counts()).toMatchObject({ delayed: 1 });
    expect(runId).toBeTruthy();
    await expect(dispatch(t.backend, { realm: 'test', jobId: 'in/t', delay: '7d' }, opts)).resolves.toBeTruthy();
    await expect(dispatch(t.backend, { realm: 'test', jobId: 'in/t', delay: '8d' }, opts)).rejects.toThrow(
      'delay "8d" is out of range: use 0 to 7d (the limit is DISPATCH_MAX_DELAY)',
    );
  });

  it('DISPATCH_MAX_DELAY is a realm setting', async () => {
    const opts = delayOptions(new Config({ DISPATCH_MAX_DELAY: '2h' }));
    await expect(dispatch(t.backend, { realm: 'test', jobId: 'in/t', delay: '3h' }, opts)).rejects.toThrow(
      /use 0 to 2h \(the limit is DISPATCH_MAX_DELAY\)/,
    );
  });

  it('a queue with a limit of its own (SQS) keeps SQS_MAX_DELAY_MINS', () => {
    const sqs = { maxDelaySeconds: 900 };
    const opts = delayOptions(new Config({}));
    expect(checkDelay('15m', maxDelay(sqs, opts))).toBe(900);
    expect(() => checkDelay('16m', maxDelay(sqs, opts))).toThrow(
      'delay "16m" is out of range: use 0 to 15m (the limit is SQS_MAX_DELAY_MINS)',
    );
    expect(() => checkDelay('6m', maxDelay(sqs, delayOptions(new Config({ SQS_MAX_DELAY_MINS: 5 }))))).toThrow(/use 0 to 5m/);
  });

  it('the dispatch job type takes an hour-long delay on SQLite', async () => {
    await t.putJob({ job_id: 'in/later', type: 'dispatch', payload: 'in/t', parameters: { delay: '1h' } });
    const runId = await t.dispatch('in/later');
    await t.drain({ once: true });
    expect((await t.statuses(runId, 'in/later')).at(-1)).toBe('complete');
  });
});

describe('lava dispatch (the CLI)', () => {
  let r: CliRealm;
  beforeEach(async () => {
    r = await makeCliRealm();
    r.write('j.yaml', 'job_id: cli/t\ntype: cmd\nworker: w\nenabled: true\nowner: o\ndescription: d\npayload: "true"\n');
    await r.lavaOk(['job', 'put', 'j.yaml']);
  });
  afterEach(() => r.cleanup());

  it('refuses -g lava_x=1, -g lava.x=1 and -p __proto__.x=1 with the reason, and queues nothing', async () => {
    for (const [flag, pair, msg] of [
      ['-g', 'lava_x=1', /Reserved global "lava_x"/],
      ['-g', 'lava.x=1', /Reserved global "lava"/],
      ['-g', 'Lava=1', /Reserved global "Lava"/],
      ['-p', '__proto__.x=1', /"__proto__" cannot be a name/],
    ] as const) {
      const res = await r.lava(['dispatch', 'cli/t', flag, pair]);
      expect(res.code, `${flag} ${pair}`).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(msg);
    }
    const events = await r.lavaOk(['events', '--json']);
    expect(JSON.parse(events.stdout)).toEqual([]);
  });

  it('accepts -d 1h on the embedded backend', async () => {
    const res = await r.lavaOk(['dispatch', 'cli/t', '-d', '1h']);
    expect(res.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
  });
});
