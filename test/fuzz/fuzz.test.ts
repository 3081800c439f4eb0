/**
 * Bounded fuzzing of everything that arrives from outside: spec files (as YAML text and as
 * objects), templates, and queue messages read by a real worker on a real embedded realm.
 *
 * Each block runs twice: with a fixed seed, and with a random seed that is printed when a case
 * fails. Replay a failure with LAVA_FUZZ_SEED=N; LAVA_FUZZ_SCALE=K multiplies the case counts.
 *
 * A case passes when it ends in time with a result or a LavaError (a typed, explained refusal):
 * any other exception is a crash, a case over its time bound is a hang, and a file named with
 * ESCAPE_MARK anywhere we look is an escape.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { LavaError } from '../../src/core/errors.js';
import { checkFiles } from '../../src/cli/check.js';
import { loadSpecFile } from '../../src/cli/specs.js';
import { buildTemplateContext, renderTemplate } from '../../src/template/index.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { ESCAPE_MARK, Rng, clone, hostilePaths, hostileValues, mutateObject, mutateText, randomTemplate } from './mutate.js';

const FIXED_SEED = 20261203;
/** Small bounds keep thousands of hostile renders fast; test/template/limits.test.ts covers the defaults. */
const FUZZ_LIMITS = { maxRange: 20_000, maxIterations: 50_000, maxOutput: 200_000, timeout: 0.3 };
const replay = process.env.LAVA_FUZZ_SEED ? Number(process.env.LAVA_FUZZ_SEED) : undefined;
const seeds = replay !== undefined ? [replay] : [FIXED_SEED, Math.floor(Math.random() * 2 ** 31)];
const scale = Number(process.env.LAVA_FUZZ_SCALE ?? 1);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-fuzz-'));
/** The realm lives deep inside `root`, so that short `../` chains land inside it, where we look. */
const deep = path.join(root, 'l1', 'l2', 'l3', 'l4', 'l5', 'l6');
fs.mkdirSync(deep, { recursive: true });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Valid specs to mutate: the quick start's jobs and the upstream guide's examples. */
function baseSpecs(): Record<string, unknown>[] {
  const files = [
    'examples/jobs/demo.yaml',
    ...['chain', 'dag', 'foreach', 'cmd', 'exe', 'dispatch'].map((t) => `test/fixtures/upstream-guide/${t}.yaml`),
  ];
  return files.flatMap((f) => loadSpecFile(f).map((s) => s.spec));
}

/** Run one case; a non-Lava exception or an over-time case fails with the seed and the input. */
function expectHandled(seed: number, label: string, input: unknown, limitMs: number, fn: () => unknown): void {
  const t0 = performance.now();
  try {
    fn();
  } catch (err) {
    if (!(err instanceof LavaError)) {
      throw new Error(`seed ${seed}: ${label} crashed with ${String(err)}\ninput: ${show(input)}`, { cause: err });
    }
  }
  const ms = performance.now() - t0;
  if (ms > limitMs) throw new Error(`seed ${seed}: ${label} took ${ms.toFixed(0)} ms (limit ${limitMs})\ninput: ${show(input)}`);
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return (s ?? String(v)).slice(0, 400);
}

/** Files or directories named with the escape mark in the places an escape would land. */
function escapes(): string[] {
  const found: string[] = [];
  const look = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.includes(ESCAPE_MARK)) found.push(path.join(dir, e.name));
      else if (depth > 0 && e.isDirectory() && !e.isSymbolicLink()) look(path.join(dir, e.name), depth - 1);
    }
  };
  look(root, 12);
  look(os.tmpdir(), 0);
  look('/', 0);
  look(process.cwd(), 0);
  return found;
}

for (const seed of seeds) {
  describe(`fuzz (seed ${seed})`, () => {
    it('spec files: mutated YAML text and mutated spec objects are checked or refused with a reason', () => {
      const rng = new Rng(seed);
      const bases = baseSpecs();
      expect(bases.length).toBeGreaterThan(10);
      const dir = fs.mkdtempSync(path.join(deep, 'specs-'));
      const cases = 1500 * scale;
      let refused = 0;
      for (let i = 0; i < cases; i++) {
        const base = rng.pick(bases);
        const tag = `s${seed}-${i}`;
        // Half mutate the spec as an object (written as JSON), half damage its YAML text.
        const asObject = rng.chance(0.5);
        const text = asObject ? JSON.stringify([mutateObject(rng, base, tag)]) : mutateText(rng, stringify([clone(base)]));
        const file = path.join(dir, `case-${i}.${asObject ? 'json' : 'yaml'}`);
        fs.writeFileSync(file, text);
        expectHandled(seed, `lava check #${i}`, text, 2000, () => {
          const report = checkFiles([file]);
          if (report.errors.length) refused++;
          for (const e of report.errors) expect(typeof e).toBe('string');
        });
      }
      // The mutations are hostile enough that many are refused, and mild enough that some pass.
      expect(refused).toBeGreaterThan(cases / 10);
      expect(refused).toBeLessThan(cases);
      expect(escapes()).toEqual([]);
    });

    it('templates: hostile and damaged templates render or fail with a reason, in bounded time', () => {
      const rng = new Rng(seed ^ 0x5bd1e995);
      const start = new Date();
      const job = { job_id: 'fuzz/t', worker: 'w', type: 'cmd', run_id: 'r', globals: {}, parameters: {}, state: {} };
      const context = buildTemplateContext({
        job: job,
        realm: { realm: 'fuzz', s3_payloads: 'file:///p', s3_temp: 'file:///t' },
        globals: { x: 1 },
        state: {},
        start,
      });
      const cases = 1500 * scale;
      let failed = 0;
      for (let i = 0; i < cases; i++) {
        const template = randomTemplate(rng);
        expectHandled(seed, `template #${i}`, template, 1500, () => {
          try {
            const out = renderTemplate(template, context, { limits: FUZZ_LIMITS });
            expect(typeof out).toBe('string');
          } catch (err) {
            failed++;
            throw err;
          }
        });
      }
      expect(failed).toBeGreaterThan(0);
      expect(failed).toBeLessThan(cases);
      expect(escapes()).toEqual([]);
    }, 600_000);

    describe('queue messages', () => {
      let t: TestRealm;
      const sentinel = path.join(deep, 'sentinel');
      beforeAll(async () => {
        const saved = process.env.TMPDIR;
        process.env.TMPDIR = deep;
        try {
          t = await makeRealm({ TEMPLATE_TIMEOUT: '2s' });
        } finally {
          if (saved === undefined) delete process.env.TMPDIR;
          else process.env.TMPDIR = saved;
        }
        fs.mkdirSync(sentinel, { recursive: true });
        fs.writeFileSync(path.join(sentinel, 'keep'), 'x');
        await t.putJob({ job_id: 'f/log', type: 'log', payload: 'hello {{ globals.x|default(1) }}' });
        await t.putJob({ job_id: 'f/cmd', type: 'cmd', payload: 'echo "$LAVA_RUN_ID" > out.txt', parameters: { timeout: 5 } });
        await t.putJob({ job_id: 'f/chain', type: 'chain', payload: ['f/log', 'f/cmd'] });
      });
      afterAll(async () => t?.close());

      it('a worker handles every mutated message: run, or discarded with a recorded reason; nothing escapes', async () => {
        const rng = new Rng(seed ^ 0x27d4eb2f);
        const queue = t.backend.queue('test', 'w');
        const cases = 600 * scale;
        const ids = ['f/log', 'f/cmd', 'f/chain', 'f/missing'];
        /** Messages whose run must leave a record: well-formed ids of existing jobs, whatever their parameters or globals. */
        const traced: { run_id: string; job_id: string; body: string }[] = [];
        for (let i = 0; i < cases; i++) {
          const tag = `m${seed}-${i}`;
          const msg: Record<string, unknown> = {
            realm: 'test',
            worker: 'w',
            job_id: rng.pick(ids),
            run_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
            ts_dispatch: new Date().toISOString(),
          };
          const r = rng.next();
          if (r < 0.3) msg.run_id = rng.pick(hostilePaths(tag));
          else if (r < 0.45) msg.job_id = rng.pick(hostilePaths(tag));
          else if (r < 0.6)
            msg.parameters = { [rng.pick(['timeout', 'args', 'env', 'vars', '__proto__', 'x'])]: rng.pick(hostileValues(tag)) };
          else if (r < 0.75)
            msg.globals = { [rng.pick(['x', 'lava', 'lava_x', '__proto__', 'y'])]: rng.pick(hostileValues(tag)) };
          else if (r < 0.85) msg[rng.pick(Object.keys(msg))] = rng.pick(hostileValues(tag));
          const junk = rng.chance(0.05);
          const body = junk
            ? rng.pick(['', 'not json', '{', '[]', 'null', '"x"', '{"__proto__":{"x":1}}', '\u0000'])
            : JSON.stringify(msg);
          if (!junk && (r >= 0.85 || (r >= 0.45 && r < 0.75)) && msg.job_id !== 'f/missing') {
            traced.push({ run_id: msg.run_id as string, job_id: msg.job_id as string, body });
          }
          await queue.send(body, { delaySeconds: 0 });
        }
        const worker = await t.drain({ threads: 8, retries: 0 });
        expect(worker.state).toBe('stopped');
        // Every message left the queue: run, or discarded with an event.
        const left = await queue.receive({ max: 10, visibilitySeconds: 1, waitSeconds: 0 });
        expect(left).toEqual([]);
        expect(fs.readFileSync(path.join(sentinel, 'keep'), 'utf8')).toBe('x');
        expect(escapes()).toEqual([]);
        // Runs with well-formed ids of existing jobs left a record, whatever their parameters or globals.
        expect(traced.length).toBeGreaterThan(cases / 5);
        for (const s of traced) {
          const statuses = await t.statuses(s.run_id, s.job_id);
          expect(
            statuses.length,
            `seed ${seed}: run ${s.run_id} of ${s.job_id} has no events; message: ${show(s.body)}`,
          ).toBeGreaterThan(0);
        }
        // No process of any job outlived its run.
        const stray = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
          .split('\n')
          .filter((l) => l.includes(ESCAPE_MARK));
        expect(stray).toEqual([]);
      }, 300_000);
    });
  });
}
