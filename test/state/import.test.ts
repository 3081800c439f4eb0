/** A job's `state` map: defaults replaced by stored values at run start, visible as state.x and job.state.x. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config } from '../../src/core/config.js';
import { putState } from '../../src/state/state.js';
import { makeRealm, type Ran, type TestRealm } from '../helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
});
afterEach(async () => {
  await t.close();
});

const config = () => new Config({}, {});

/** The stdout a cmd job stored, from its `complete` result. */
function stdoutOf(ran: Ran): string {
  const result = ran.info('complete') as { output: { stdout: string }[] } | undefined;
  if (!result) throw new Error(`the run did not complete: ${JSON.stringify(ran.log)}`);
  const uri = result.output[0]?.stdout;
  if (!uri) throw new Error(`no stdout in ${JSON.stringify(result)}`);
  return fs.readFileSync(fileURLToPath(uri), 'utf8');
}

describe('job state import', () => {
  it('replaces defaults with stored values (any type) and keeps defaults for missing ids', async () => {
    await putState(t.backend, 'test', config(), 'cutoff', '2026-11-01');
    await putState(t.backend, 'test', config(), 'limits', { rows: 500 }, { type: 'raw' });
    await putState(t.backend, 'test', config(), 'token', 'tok-123', { type: 'secure' });
    const ran = await t.runOnce({
      job_id: 'reader',
      type: 'cmd',
      // Quoted: cmd payloads are split like a shell line before rendering (upstream quirk A9).
      payload:
        'echo "{{ state.cutoff }} {{ job.state.cutoff }} {{ state.limits.rows }} {{ job.state.token }} {{ state.missing }} {{ job.state.missing }}"',
      state: { cutoff: '1970-01-01', limits: { rows: 1 }, token: 'none', missing: 'dflt' },
    });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(stdoutOf(ran)).toBe('2026-11-01 2026-11-01 500 tok-123 dflt dflt\n');
  });

  it('does not import an expired item: the default stays', async () => {
    const longAgo = { now: () => new Date(Date.now() - 2 * 86400_000) };
    await putState(t.backend, 'test', config(), 'cutoff', 'stale', { ttl: '1d' }, longAgo);
    const ran = await t.runOnce({
      job_id: 'reader2',
      type: 'cmd',
      payload: 'echo "{{ state.cutoff }}"',
      state: { cutoff: 'default' },
    });
    expect(stdoutOf(ran)).toBe('default\n');
  });

  it('fails the run with a clear event when a stored item cannot be decoded', async () => {
    await t.backend.state.put('test', {
      state_id: 'broken',
      type: 'json',
      value: '{not json',
      timestamp: '2026-01-01T00:00:00+00:00',
      ttl: Math.floor(Date.now() / 1000) + 3600,
    });
    const ran = await t.runOnce({ job_id: 'reader3', type: 'cmd', payload: 'true', state: { broken: 1 } });
    expect(ran.statuses).toEqual(['queued', 'starting', 'failed']);
    expect(JSON.stringify(ran.info('failed'))).toMatch(/state item \\"broken\\" cannot be decoded as json/);
  });
});
