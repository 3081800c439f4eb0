/**
 * Orchestration inside orchestration: chain → dag → foreach → leaf, checking the globals every
 * level sees, that no child can change its parent's globals (upstream A6 fixed), and that a
 * failure is judged by the can_fail of the level that runs the failing job.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinHandlers } from '../../src/handlers/registry.js';
import type { Handler } from '../../src/run/handler.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
let seen: { job_id: string; run_id: string; globals: Record<string, unknown> }[];

/** Records a copy of the globals it runs with, then vandalises its own globals. */
const probe: Handler = {
  type: 'probe',
  async run(ctx) {
    seen.push({ job_id: ctx.job.job_id, run_id: ctx.job.run_id, globals: structuredClone(ctx.job.globals) });
    ctx.job.globals.x = 'mutated';
    ctx.job.globals.added = 'by-child';
    const lava = ctx.job.globals.lava as Record<string, unknown>;
    lava.master_job_id = 'hacked';
    lava.parent_job_id = 'hacked';
    if (ctx.job.parameters.fail) throw new Error(`probe ${ctx.job.job_id} failing on purpose`);
    return { exit_status: 0 };
  },
};

const handlers = new Map([...builtinHandlers(), [probe.type, probe]]);

beforeEach(async () => {
  t = await makeRealm();
  seen = [];
});
afterEach(async () => {
  await t.close();
});

function lava(entry: { globals: Record<string, unknown> }): Record<string, unknown> {
  return entry.globals.lava as Record<string, unknown>;
}

function seenOf(jobId: string) {
  return seen.filter((s) => s.job_id === jobId);
}

describe('nested orchestration', () => {
  it('chain → dag → foreach → leaf: globals at every level, isolated copies', async () => {
    await t.putJob({ job_id: 'n/top', type: 'chain', payload: 'n/p1, n/mid, n/p2', globals: { x: 'top', y: 'top-y' } });
    await t.putJob({ job_id: 'n/p1', type: 'probe' });
    await t.putJob({
      job_id: 'n/mid',
      type: 'dag',
      payload: { 'n/p3': 'n/fe', 'n/fe': null },
      globals: { x: 'mid-own', m: 'mid-own' },
    });
    await t.putJob({
      job_id: 'n/fe',
      type: 'foreach',
      payload: 'n/leaf',
      parameters: { foreach: { type: 'inline', values: [{ y: 'gen0' }, { y: 'gen1', x: 'gen-x' }] } },
    });
    await t.putJob({ job_id: 'n/leaf', type: 'probe', globals: { x: 'leaf-own', z: 'leaf-z' } });
    await t.putJob({ job_id: 'n/p3', type: 'probe' });
    await t.putJob({ job_id: 'n/p2', type: 'probe' });

    const runId = await t.dispatch('n/top', { globals: { d: 'dispatched' } });
    await t.drain({ handlers });
    expect(await t.statuses(runId, 'n/top')).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(seen.map((s) => s.job_id)).toEqual(['n/p1', 'n/leaf', 'n/leaf', 'n/p3', 'n/p2']);
    expect(new Set(seen.map((s) => s.run_id))).toEqual(new Set([runId]));

    const [p1] = seenOf('n/p1');
    expect(p1!.globals).toMatchObject({ x: 'top', y: 'top-y', d: 'dispatched' });
    expect(lava(p1!)).toMatchObject({ master_job_id: 'n/top', parent_job_id: 'n/top', iteration: 1 });

    const [leaf0, leaf1] = seenOf('n/leaf');
    // Parent chain wins over mid's and leaf's own values; generator values win over everything.
    expect(leaf0!.globals).toMatchObject({ x: 'top', y: 'gen0', m: 'mid-own', z: 'leaf-z', d: 'dispatched' });
    expect(leaf1!.globals).toMatchObject({ x: 'gen-x', y: 'gen1', m: 'mid-own', z: 'leaf-z' });
    expect(lava(leaf0!)).toMatchObject({ master_job_id: 'n/top', parent_job_id: 'n/fe', foreach_index: 0 });
    expect(lava(leaf1!)).toMatchObject({ master_job_id: 'n/top', parent_job_id: 'n/fe', foreach_index: 1 });
    expect(leaf1!.globals.added).toBeUndefined(); // leaf0's vandalism did not reach leaf1

    const [p3] = seenOf('n/p3');
    expect(p3!.globals).toMatchObject({ x: 'top', y: 'top-y', m: 'mid-own' });
    expect(p3!.globals.added).toBeUndefined();
    expect(lava(p3!)).toMatchObject({ master_job_id: 'n/top', parent_job_id: 'n/mid' });
    expect(lava(p3!).foreach_index).toBeUndefined(); // a sibling of the foreach does not see its index

    // p1 and the leaves mutated their own globals; the chain's were never touched.
    const [p2] = seenOf('n/p2');
    expect(p2!.globals).toMatchObject({ x: 'top', y: 'top-y', d: 'dispatched' });
    expect(p2!.globals.added).toBeUndefined();
    expect(p2!.globals.m).toBeUndefined(); // mid's own globals do not flow back up
    expect(lava(p2!)).toMatchObject({ master_job_id: 'n/top', parent_job_id: 'n/top' });

    // Every level's events are under its own job id and the top run id.
    for (const id of ['n/p1', 'n/mid', 'n/fe', 'n/p3', 'n/p2']) {
      expect((await t.statuses(runId, id)).at(-1)).toBe('complete');
    }
    expect(await t.statuses(runId, 'n/leaf')).toEqual(['starting', 'running', 'complete', 'starting', 'running', 'complete']);
  });

  it('a failing grandchild is tolerated only by the can_fail of the level that runs it', async () => {
    await t.putJob({ job_id: 'f/bad', type: 'probe', parameters: { fail: true } });
    await t.putJob({ job_id: 'f/next', type: 'probe' });
    await t.putJob({ job_id: 'f/after', type: 'probe' });
    // The dag names f/bad in can_fail: it tolerates it, and f/next still runs.
    await t.putJob({ job_id: 'f/dag-ok', type: 'dag', payload: { 'f/next': 'f/bad' }, parameters: { can_fail: 'f/bad' } });
    // This dag does not: it fails. The chain's can_fail names f/bad, but f/bad is not the chain's child.
    await t.putJob({ job_id: 'f/dag-strict', type: 'dag', payload: { 'f/next': 'f/bad' } });
    await t.putJob({ job_id: 'f/chain1', type: 'chain', payload: 'f/dag-ok, f/after' });
    await t.putJob({ job_id: 'f/chain2', type: 'chain', payload: 'f/dag-strict, f/after', parameters: { can_fail: 'f/bad' } });
    await t.putJob({ job_id: 'f/chain3', type: 'chain', payload: 'f/dag-strict, f/after', parameters: { can_fail: 'f/dag-*' } });

    const r1 = await t.dispatch('f/chain1');
    await t.drain({ handlers });
    expect(await t.statuses(r1, 'f/chain1')).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(await t.statuses(r1, 'f/dag-ok')).toEqual(['starting', 'running', 'complete']);
    expect(await t.statuses(r1, 'f/bad')).toEqual(['starting', 'running', 'failed']);
    expect(seen.map((s) => s.job_id)).toEqual(['f/bad', 'f/next', 'f/after']);
    const dagOk = (await t.backend.events.get('test', 'f/dag-ok', r1))!.log.at(-1)!.info;
    expect(dagOk).toMatchObject({ jobs: ['f/next'], failed_jobs: ['f/bad'] });

    seen = [];
    const r2 = await t.dispatch('f/chain2');
    await t.drain({ handlers });
    expect(await t.statuses(r2, 'f/dag-strict')).toEqual(['starting', 'running', 'failed']);
    expect(await t.statuses(r2, 'f/chain2')).toEqual(['queued', 'starting', 'running', 'failed']);
    const chain2 = (await t.backend.events.get('test', 'f/chain2', r2))!.log.at(-1)!.info as Record<string, unknown>;
    expect(String(chain2.error)).toMatch(/job "f\/dag-strict" failed: dag stopped: job "f\/bad" failed/);
    expect(seen.map((s) => s.job_id)).toEqual(['f/bad']);

    seen = [];
    const r3 = await t.dispatch('f/chain3');
    await t.drain({ handlers });
    expect(await t.statuses(r3, 'f/chain3')).toEqual(['queued', 'starting', 'running', 'complete']);
    const chain3 = (await t.backend.events.get('test', 'f/chain3', r3))!.log.at(-1)!.info;
    expect(chain3).toMatchObject({ jobs: ['f/after'], failed_jobs: ['f/dag-strict'] });
    expect(seen.map((s) => s.job_id)).toEqual(['f/bad', 'f/after']);
  });
});
