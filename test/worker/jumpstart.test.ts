import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/index.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm({ JUMPSTART_DELAY: 0 });
});
afterEach(async () => {
  await t.close();
});

describe('jump-start and dispatch suppression', () => {
  it("dispatches the worker's enabled lavasched jobs at start, and only those", async () => {
    const file = path.join(t.dir, 'crontab');
    await t.backend.config.putRealm({ ...t.realm, config: { ...t.realm.config, CRONTAB_FILE: file } });
    await t.putJob({ job_id: 'sched', type: 'lavasched', parameters: { dispatcher: 'd' } });
    await t.putJob({ job_id: 'sched-off', type: 'lavasched', enabled: false, parameters: { dispatcher: 'd' } });
    await t.putJob({ job_id: 'sched-str', type: 'lavasched', enabled: 'true', parameters: { dispatcher: 'd' } });
    await t.putJob({ job_id: 'nightly', type: 'log', dispatcher: 'd', schedule: '0 2 * * *' });
    await t.drain({ jumpStart: true });
    expect((await t.backend.events.query('test', { jobId: 'sched' })).map((r) => r.status)).toEqual(['complete']);
    expect(await t.backend.events.query('test', { jobId: 'sched-off' })).toEqual([]);
    expect(await t.backend.events.query('test', { jobId: 'sched-str' })).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^0 2 \* \* \* .* nightly$/m);
  });

  it('lava stop --no-dispatch makes `lava dispatch --check-dispatch` a no-op until --allow-dispatch', async () => {
    const flag = path.join(t.dir, 'nodispatch');
    process.env.LAVA_NO_DISPATCH = flag;
    process.env.LAVA_BACKEND = t.backendUrl;
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (s: string) => (out.push(String(s)), true);
    try {
      await t.putJob({ job_id: 'j', type: 'log' });
      await buildProgram().parseAsync(['node', 'lava', 'stop', '--no-dispatch']);
      expect(fs.existsSync(flag)).toBe(true);
      await buildProgram().parseAsync(['node', 'lava', 'dispatch', '--check-dispatch', 'j']);
      expect((await t.backend.queue('test', 'w').counts()).visible).toBe(0);
      await buildProgram().parseAsync(['node', 'lava', 'stop', '--allow-dispatch']);
      await buildProgram().parseAsync(['node', 'lava', 'dispatch', '--check-dispatch', 'j']);
      expect((await t.backend.queue('test', 'w').counts()).visible).toBe(1);
    } finally {
      process.stdout.write = write;
      delete process.env.LAVA_NO_DISPATCH;
      delete process.env.LAVA_BACKEND;
    }
    expect(out.join('')).toMatch(/dispatch suppressed/);
  });
});
