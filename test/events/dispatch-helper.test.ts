/** The dispatch helper (spec §2.6): JSON and text bodies, envelopes, and errors per request. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helperBodies, parseHelperBody, runDispatchHelper } from '../../src/events/dispatch-helper.js';
import { makeRealm, type TestRealm } from '../helpers.js';

describe('parseHelperBody', () => {
  it('reads a JSON object or list, ignoring x-* keys and refusing others', () => {
    expect(parseHelperBody('{"job_id": "a", "parameters": {"p": 1}, "globals": {"g": 2}, "delay": "5m", "x-note": 1}')).toEqual({
      requests: [{ label: 'request', request: { job_id: 'a', parameters: { p: 1 }, globals: { g: 2 }, delay: '5m' } }],
      errors: [],
    });
    const r = parseHelperBody('[{"job_id": "a"}, {"job": "b"}, {"job_id": "c", "colour": 1}, 3]');
    expect(r.requests.map((q) => q.request.job_id)).toEqual(['a']);
    expect(r.errors).toEqual([
      { request: 'request 2', error: expect.stringMatching(/unknown field "job"/) },
      { request: 'request 3', error: expect.stringMatching(/unknown field "colour"/) },
      { request: 'request 4', error: expect.stringMatching(/is an object/) },
    ]);
    expect(parseHelperBody('{"parameters": {}}').errors[0]?.error).toMatch(/job_id is required/);
    expect(parseHelperBody('{"job_id": "a", "parameters": []}').errors[0]?.error).toMatch(/parameters must be an object/);
  });

  it('reads text: one shell-lexed request per line, dotted names nested, comments and blanks skipped', () => {
    const r = parseHelperBody(
      [
        '# nightly loads',
        '',
        "demo/load -d 5m -p vars.day='Monday 1' -p vars.n=2 -g owner.team=data",
        '  demo/other --delay=30 --param=a=b',
        'demo/bad -x',
        'demo/two demo/three',
        '-p a=b',
        'demo/quote "unclosed',
      ].join('\n'),
    );
    expect(r.requests).toEqual([
      {
        label: 'line 3',
        request: {
          job_id: 'demo/load',
          delay: '5m',
          parameters: { vars: { day: 'Monday 1', n: '2' } },
          globals: { owner: { team: 'data' } },
        },
      },
      { label: 'line 4', request: { job_id: 'demo/other', delay: '30', parameters: { a: 'b' } } },
    ]);
    expect(r.errors.map((e) => e.request)).toEqual(['line 5', 'line 6', 'line 7', 'line 8']);
    expect(r.errors[0]?.error).toMatch(/unknown option "-x"/);
    expect(r.errors[3]?.error).toMatch(/no closing quotation/);
  });

  it('unwraps SNS and SQS records and raw requests', () => {
    expect(helperBodies({ Records: [{ Sns: { Message: 'a' } }, { body: 'b' }] })).toEqual(['a', 'b']);
    expect(helperBodies({ job_id: 'x' })).toEqual(['{"job_id":"x"}']);
    expect(() => helperBodies({ other: 1 })).toThrow(/Records/);
  });
});

describe('runDispatchHelper', () => {
  let t: TestRealm;
  beforeAll(async () => {
    t = await makeRealm();
    await t.putJob({ job_id: 'h/one', type: 'log', payload: null });
  });
  afterAll(async () => t?.close());

  it('dispatches each request and collects the errors of the others', async () => {
    const r = await runDispatchHelper(t.backend, 'test', 'h/one -p x=1\nh/missing\nh/one -d 99d\nh/one -g lava_x=1');
    expect(r.dispatched).toEqual([{ job_id: 'h/one', run_id: expect.any(String) }]);
    expect(r.errors).toEqual([
      { request: 'line 2', job_id: 'h/missing', error: expect.stringMatching(/h\/missing/) },
      { request: 'line 3', job_id: 'h/one', error: expect.stringMatching(/out of range/) },
      { request: 'line 4', job_id: 'h/one', error: expect.stringMatching(/Reserved global/) },
    ]);
    const rec = await t.backend.events.get('test', 'h/one', r.dispatched[0]!.run_id);
    expect(rec?.status).toBe('queued');
  });

  it('says so when a body has no requests', async () => {
    expect((await runDispatchHelper(t.backend, 'test', '# nothing\n\n')).errors).toEqual([
      { request: 'body', error: expect.stringMatching(/no requests/) },
    ]);
  });
});
