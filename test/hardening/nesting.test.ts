/**
 * Orchestration that contains itself: `lava check` and `job put` reject a chain, dag or foreach
 * that names itself; at run time a job that is already one of its own parents, or nesting deeper
 * than NESTING_MAX_DEPTH, fails the run at once with the path, in a bounded number of events.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkJobType, builtinHandlers } from '../../src/handlers/registry.js';
import type { Handler } from '../../src/run/handler.js';
import { ensureBuilt, makeCliRealm, type CliRealm } from '../e2e/cli-helpers.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let leafRuns = 0;
const leaf: Handler = {
  type: 'leaf',
  async run() {
    leafRuns++;
    return { exit_status: 0 };
  },
};
const handlers = new Map([...builtinHandlers(), [leaf.type, leaf]]);

const selfReferencing: Record<string, unknown>[] = [
  { job_id: 'loop/chain', type: 'chain', payload: 'loop/chain' },
  { job_id: 'loop/dag', type: 'dag', payload: { 'loop/dag': null } },
  { job_id: 'loop/dag-pred', type: 'dag', payload: { other: 'loop/dag-pred' } },
  { job_id: 'loop/foreach', type: 'foreach', payload: 'loop/foreach', parameters: { foreach: { type: 'range', stop: 2 } } },
];

describe('direct self-reference is rejected before it is stored', () => {
  it('by the check the CLI runs', () => {
    for (const spec of selfReferencing) {
      const r = checkJobType({ worker: 'w', ...spec });
      expect(r.errors, String(spec.job_id)).toEqual([
        expect.stringMatching(new RegExp(`^payload: \\w+ "${String(spec.job_id)}" .*, so it would run itself without end: `)),
      ]);
    }
  });

  describe('by lava check and lava job put', () => {
    let realm: CliRealm;
    beforeAll(async () => {
      ensureBuilt();
      realm = await makeCliRealm({}, 'lava-nesting-cli-');
    }, 120_000);
    afterAll(() => realm?.cleanup());

    it('each of chain, dag (as job and as predecessor) and foreach', async () => {
      for (const spec of selfReferencing) {
        const f = realm.write(
          `${String(spec.job_id).replace('/', '-')}.json`,
          JSON.stringify({ worker: 'w', enabled: true, owner: 'o', description: 'd', ...spec }),
        );
        const check = await realm.lava(['check', f]);
        expect(check.code, String(spec.job_id)).toBe(1);
        expect(check.stderr).toMatch(new RegExp(`\\(${String(spec.job_id)}\\): payload: .*run itself without end`));
        const put = await realm.lava(['job', 'put', f]);
        expect(put.code).toBe(1);
        expect(put.stderr).toContain('nothing stored');
        expect(put.stdout).toBe('');
      }
      expect((await realm.lavaOk(['job', 'ls', '--json'])).stdout.trim()).toBe('[]');
    });
  });
});

describe('at run time', () => {
  let t: TestRealm;
  beforeEach(async () => {
    leafRuns = 0;
  });
  afterEach(async () => {
    await t?.close();
  });

  async function entries(runId: string): Promise<number> {
    return (await t.events(runId)).reduce((n, rec) => n + rec.log.length, 0);
  }

  it('a chain stored around the checks that lists itself fails at once', async () => {
    t = await makeRealm();
    await t.putJob({ job_id: 'loop/chain', type: 'chain', payload: 'loop/chain' });
    const runId = await t.dispatch('loop/chain');
    await t.drain({ handlers });
    expect(await t.statuses(runId, 'loop/chain')).toEqual(['queued', 'starting', 'running', 'failed']);
    const [rec] = await t.events(runId, 'loop/chain');
    expect(JSON.stringify(rec!.log.at(-1)!.info)).toContain(
      'child job \\"loop/chain\\" is already running in this run as one of its parents (loop/chain → loop/chain)',
    );
  });

  it('an indirect cycle a → b → a fails fast, in few events, naming the cycle', async () => {
    t = await makeRealm();
    await t.putJob({ job_id: 'a/chain', type: 'chain', payload: 'b/chain' });
    await t.putJob({ job_id: 'b/chain', type: 'chain', payload: 'a/chain' });
    const started = Date.now();
    const runId = await t.dispatch('a/chain');
    await t.drain({ handlers });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await entries(runId)).toBeLessThan(50);
    const top = await t.events(runId, 'a/chain');
    expect(top[0]!.status).toBe('failed');
    const info = JSON.stringify(top[0]!.log.at(-1)!.info);
    expect(info).toContain('(a/chain → b/chain → a/chain)');
    expect(info).toContain('nesting: a/chain → b/chain → a/chain');
  });

  it('a dag whose children fan back into it stops on the first level', async () => {
    t = await makeRealm();
    const kids = Array.from({ length: 6 }, (_, i) => `fan/c${i}`);
    await t.putJob({ job_id: 'fan/dag', type: 'dag', payload: Object.fromEntries(kids.map((k) => [k, null])) });
    for (const k of kids) await t.putJob({ job_id: k, type: 'chain', payload: 'fan/dag' });
    const runId = await t.dispatch('fan/dag');
    await t.drain({ handlers });
    expect((await t.events(runId, 'fan/dag'))[0]!.status).toBe('failed');
    // One dag start plus one start per child: no second level.
    expect(await entries(runId)).toBeLessThanOrEqual(3 + kids.length * 3);
  });

  it('nesting deeper than NESTING_MAX_DEPTH fails with the path; at the limit it runs', async () => {
    const specs = async () => {
      for (let i = 0; i < 4; i++) await t.putJob({ job_id: `deep/${i}`, type: 'chain', payload: `deep/${i + 1}` });
      await t.putJob({ job_id: 'deep/4', type: 'leaf' });
    };
    // deep/0 is the run; deep/4 is nested 4 deep.
    t = await makeRealm({ NESTING_MAX_DEPTH: 3 });
    await specs();
    const runId = await t.dispatch('deep/0');
    await t.drain({ handlers });
    expect(leafRuns).toBe(0);
    const [top] = await t.events(runId, 'deep/0');
    expect(top!.status).toBe('failed');
    expect(JSON.stringify(top!.log.at(-1)!.info)).toContain(
      'child job \\"deep/4\\" would be nested 4 deep, over NESTING_MAX_DEPTH (3): flatten the jobs or raise NESTING_MAX_DEPTH; nesting: deep/0 → deep/1 → deep/2 → deep/3 → deep/4',
    );
    await t.close();

    t = await makeRealm({ NESTING_MAX_DEPTH: 4 });
    await specs();
    const ok = await t.dispatch('deep/0');
    await t.drain({ handlers });
    expect(leafRuns).toBe(1);
    expect((await t.events(ok, 'deep/0'))[0]!.status).toBe('complete');
  });

  it('legitimate chain → dag → foreach nesting, reusing one job at several places, still runs', async () => {
    t = await makeRealm();
    await t.putJob({ job_id: 'ok/top', type: 'chain', payload: 'ok/leaf, ok/dag, ok/leaf' });
    await t.putJob({ job_id: 'ok/dag', type: 'dag', payload: { 'ok/fe': null, 'ok/leaf': 'ok/fe' } });
    await t.putJob({
      job_id: 'ok/fe',
      type: 'foreach',
      payload: 'ok/leaf',
      parameters: { foreach: { type: 'range', stop: 3 } },
    });
    await t.putJob({ job_id: 'ok/leaf', type: 'leaf' });
    const runId = await t.dispatch('ok/top');
    await t.drain({ handlers });
    expect(await t.statuses(runId, 'ok/top')).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(leafRuns).toBe(6);
  });
});
