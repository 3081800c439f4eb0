/**
 * The documentation's examples, run: every job spec shown on a job-type, action or concepts page is
 * in examples/docs/*.yaml (and the other way round), every one validates, and every one does on the
 * embedded backend what its page says. Also checks that every configuration parameter and error
 * code in the source is documented.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/backends/ports.js';
import { CONFIG_PARAMS } from '../../src/handlers/config-keys.js';
import { createLogger } from '../../src/core/logger.js';
import { checkSpec } from '../../src/core/validate.js';
import type { DispatchRequest } from '../../src/dispatch/dispatch.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLES = path.join(ROOT, 'examples/docs');
const DOCS = path.join(ROOT, 'docs');

type Spec = Record<string, unknown>;

function exampleFiles(): string[] {
  return fs
    .readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

function loadExamples(file: string): Spec[] {
  const v = YAML.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as unknown;
  expect(Array.isArray(v), `${file} holds a list of specs`).toBe(true);
  return v as Spec[];
}

const ALL_SPECS: Spec[] = exampleFiles().flatMap(loadExamples);

/** Example files whose outcomes this file tests; other files need a test of their own elsewhere in test/. */
const RUN_HERE = [
  'action-dispatch.yaml',
  'action-log.yaml',
  'actions.yaml',
  'cmd.yaml',
  'concepts.yaml',
  'exe.yaml',
  'log.yaml',
  'pkg.yaml',
];

/** Pages whose ```yaml blocks must match the examples. */
function checkedPages(): string[] {
  const pages = ['concepts.md', 'state.md'].filter((p) => fs.existsSync(path.join(DOCS, p)));
  for (const dir of ['job-types', 'actions']) {
    for (const f of fs.readdirSync(path.join(DOCS, dir)).sort()) if (f.endsWith('.md')) pages.push(`${dir}/${f}`);
  }
  return pages;
}

function yamlBlocks(page: string): unknown[] {
  const text = fs.readFileSync(path.join(DOCS, page), 'utf8');
  return [...text.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => YAML.parse(m[1] as string) as unknown);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `part` is `whole`, or is made of some of it: some of a map's keys, some of a list's items (in
 * order), recursively.
 */
function isSubset(part: unknown, whole: unknown): boolean {
  if (isPlainObject(part))
    return isPlainObject(whole) && Object.entries(part).every(([k, v]) => k in whole && isSubset(v, whole[k]));
  if (Array.isArray(part)) {
    if (!Array.isArray(whole)) return false;
    let i = 0;
    for (const item of part) {
      while (i < whole.length && !isSubset(item, whole[i])) i++;
      if (i++ >= whole.length) return false;
    }
    return true;
  }
  return Object.is(part, whole);
}

function blockItems(block: unknown): unknown[] {
  return Array.isArray(block) ? block : [block];
}

describe('examples/docs validate', () => {
  for (const file of exampleFiles()) {
    it(`${file}: every spec passes checkSpec('job') without errors or warnings`, () => {
      const specs = loadExamples(file);
      expect(specs.length).toBeGreaterThan(0);
      for (const spec of specs) {
        const r = checkSpec('job', spec);
        expect(r.errors, String(spec.job_id)).toEqual([]);
        expect(r.warnings, String(spec.job_id)).toEqual([]);
      }
    });
  }

  it('job ids are unique across the example files', () => {
    const ids = ALL_SPECS.map((s) => s.job_id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('docs show the examples', () => {
  for (const page of checkedPages()) {
    it(`${page}: every yaml block is (part of) a spec in examples/docs`, () => {
      for (const block of yamlBlocks(page)) {
        for (const item of blockItems(block)) {
          expect(
            ALL_SPECS.some((s) => isSubset(item, s)),
            `${page}: this block is not in examples/docs/*.yaml:\n${YAML.stringify(item)}`,
          ).toBe(true);
        }
      }
    });
  }

  it('every example spec is shown on a page', () => {
    const shown = checkedPages().flatMap((p) => yamlBlocks(p).flatMap(blockItems));
    for (const spec of ALL_SPECS) {
      expect(
        shown.some((item) => isPlainObject(item) && item.job_id === spec.job_id && isSubset(item, spec)),
        `${String(spec.job_id)} is not shown in docs/`,
      ).toBe(true);
    }
  });

  it('the pages of this file show their examples in full', () => {
    const shown = checkedPages().flatMap((p) => yamlBlocks(p).flatMap(blockItems));
    for (const spec of RUN_HERE.flatMap(loadExamples)) {
      expect(
        shown.some((item) => isSubset(item, spec) && isSubset(spec, item)),
        `${String(spec.job_id)} is not shown in full in docs/`,
      ).toBe(true);
    }
  });

  it('every example file is referenced by a page', () => {
    const text = checkedPages()
      .map((p) => fs.readFileSync(path.join(DOCS, p), 'utf8'))
      .join('\n');
    for (const file of exampleFiles()) expect(text, file).toContain(`examples/docs/${file}`);
  });
});

describe('reference pages are complete', () => {
  it('docs/configuration.md describes every configuration parameter', () => {
    const text = fs.readFileSync(path.join(DOCS, 'configuration.md'), 'utf8');
    for (const key of Object.keys(CONFIG_PARAMS)) expect(text, key).toContain(`| \`${key}\` |`);
  });

  it('docs/errors.md describes every error code used in src/', () => {
    const text = fs.readFileSync(path.join(DOCS, 'errors.md'), 'utf8');
    const codes = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) walk(full);
        else if (e.name.endsWith('.ts')) {
          for (const m of fs.readFileSync(full, 'utf8').matchAll(/(?:LavaError|super)\(\s*'(LAVA_[A-Z0-9_]+)'/g))
            codes.add(m[1] as string);
        }
      }
    };
    walk(path.join(ROOT, 'src'));
    expect(codes.size).toBeGreaterThan(5);
    for (const code of codes) expect(text, code).toContain(`| \`${code}\` |`);
  });
});

describe('the examples do what the docs say', () => {
  let t: TestRealm;
  const logLines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    json: true,
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n'))
          if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  });
  const exercised = new Set<string>();

  beforeAll(async () => {
    t = await makeRealm();
    // What `lava payload put examples/docs/payloads docs` does.
    const payloads = path.join(EXAMPLES, 'payloads');
    for (const rel of fs.readdirSync(payloads, { recursive: true }) as string[]) {
      const file = path.join(payloads, rel);
      if (fs.statSync(file).isFile()) t.writePayload(`docs/${rel.split(path.sep).join('/')}`, fs.readFileSync(file, 'utf8'));
    }
    // What `tar -czf greeter.tar.gz -C examples/docs/packages/greeter .` and `lava payload put` do.
    const pkgDir = path.join(EXAMPLES, 'packages/greeter');
    await tar.c({ gzip: true, file: path.join(t.dir, 'payloads/docs/greeter.tar.gz'), cwd: pkgDir, portable: true }, ['.']);
    for (const spec of ALL_SPECS) await t.putJob(spec);
  });

  afterAll(async () => {
    await t.close();
  });

  /** Dispatch, run worker "core" until the queue is empty, and return the run's record. */
  async function run(jobId: string, req: Partial<DispatchRequest> = {}): Promise<{ runId: string; rec: EventRecord }> {
    exercised.add(jobId);
    const runId = await t.dispatch(jobId, req);
    await t.drain({ worker: 'core', logger });
    const rec = await t.backend.events.get('test', jobId, runId);
    expect(rec, `${jobId} has an event record`).toBeDefined();
    return { runId, rec: rec as EventRecord };
  }

  const statuses = (rec: EventRecord): string[] => rec.log.map((e) => e.status);
  const last = (rec: EventRecord): Record<string, unknown> => rec.log.at(-1)?.info as Record<string, unknown>;
  const read = (uri: unknown): string => fs.readFileSync(fileURLToPath(String(uri)), 'utf8');
  const output = (info: Record<string, unknown>): Record<string, unknown>[] => info.output as Record<string, unknown>[];
  const messages = (runId: string): string[] => logLines.filter((l) => l.run_id === runId).map((l) => String(l.msg));
  const spec = (jobId: string): Spec => ALL_SPECS.find((s) => s.job_id === jobId) as Spec;

  describe('cmd (docs/job-types/cmd.md)', () => {
    it('docs/cmd/hello prints its job id', async () => {
      const { runId, rec } = await run('docs/cmd/hello');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'complete']);
      const result = last(rec);
      expect(result.exit_status).toBe(0);
      expect(result.error).toBeNull();
      const [out] = output(result);
      expect(out?.payload).toBe(spec('docs/cmd/hello').payload);
      expect(out?.stdout).toBe(`${t.realm.s3_temp}/docs/cmd/hello/${runId}/stdout`);
      expect(out && 'stderr' in out).toBe(false);
      expect(read(out?.stdout)).toBe('hello from docs/cmd/hello\n');
    });

    it('docs/cmd/env sets GREETING from vars, and -p vars.who=Ada changes it', async () => {
      const { rec } = await run('docs/cmd/env');
      expect(read(output(last(rec))[0]?.stdout)).toBe('hello world\ndocs/cmd/env\n');
      const again = await run('docs/cmd/env', { parameters: { vars: { who: 'Ada' } } });
      expect(read(output(last(again.rec))[0]?.stdout)).toBe('hello Ada\ndocs/cmd/env\n');
    });

    it('docs/cmd/args appends args rendered from globals', async () => {
      const { rec } = await run('docs/cmd/args');
      expect(read(output(last(rec))[0]?.stdout)).toBe('one two 3\n');
      const again = await run('docs/cmd/args', { globals: { three: 'drei' } });
      expect(read(output(last(again.rec))[0]?.stdout)).toBe('one two drei\n');
    });

    it('docs/cmd/fail fails with exit status 3 and the stderr excerpt', async () => {
      const { runId, rec } = await run('docs/cmd/fail');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'failed']);
      const failure = last(rec);
      expect(failure.error).toBe('Failed with exit status 3');
      const data = failure.error_data as Record<string, unknown>;
      expect(data.exit_status).toBe(3);
      expect(data.error).toBe('no such table');
      const [out] = output(data);
      expect(out?.exit_status).toBe(3);
      expect(out?.stderr).toBe(`${t.realm.s3_temp}/docs/cmd/fail/${runId}/stderr`);
      expect(read(out?.stderr)).toBe('no such table\n');
      expect(messages(runId)).toContain(`job docs/cmd/fail run ${runId} failed: ${String(failure.error)}`);
    });

    it('docs/cmd/timeout fails after one second with exit status 28', async () => {
      const { rec } = await run('docs/cmd/timeout');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'failed']);
      const failure = last(rec);
      expect(failure.error).toBe('Timed out after 1.0 seconds');
      expect((failure.error_data as Record<string, unknown>).exit_status).toBe(28);
    });
  });

  describe('exe (docs/job-types/exe.md)', () => {
    it('docs/exe/greet runs greet.sh with payload args, parameters.args and env', async () => {
      const { runId, rec } = await run('docs/exe/greet');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'complete']);
      const [out] = output(last(rec));
      expect(out?.payload).toBe('greet.sh');
      expect(out?.stdout).toBe(`${t.realm.s3_temp}/docs/exe/greet/${runId}/greet.sh.stdout`);
      expect(read(out?.stdout)).toBe('hello --loud Ada (job docs/exe/greet, payload greet.sh)\n');
    });

    it('docs/exe/steps runs every script under the prefix in name order', async () => {
      const { rec } = await run('docs/exe/steps');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'complete']);
      const outs = output(last(rec));
      expect(outs.map((o) => o.payload)).toEqual(['01-extract.sh', '02-load.sh']);
      expect(outs.map((o) => read(o.stdout))).toEqual(['extract 2024-01-31\n', 'load 2024-01-31\n']);
    });
  });

  describe('pkg (docs/job-types/pkg.md)', () => {
    it('docs/pkg/greeter unpacks the package and runs bin/run.sh in it', async () => {
      const { runId, rec } = await run('docs/pkg/greeter');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'complete']);
      const [out] = output(last(rec));
      expect(out?.payload).toBe('greeter.tar.gz');
      expect(out?.stdout).toBe(`${t.realm.s3_temp}/docs/pkg/greeter/${runId}/greeter.tar.gz.stdout`);
      expect(read(out?.stdout)).toBe('--who world: hello from the package\n');
    });
  });

  describe('log (docs/job-types/log.md)', () => {
    it('docs/log/smoke completes and logs its spec', async () => {
      const { runId, rec } = await run('docs/log/smoke');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'complete']);
      expect(last(rec)).toEqual({ exit_status: 0, error: null });
      const line = logLines.find((l) => l.msg === `job docs/log/smoke (run ${runId})`);
      expect(line).toBeDefined();
      const logged = line?.job_spec as Record<string, unknown>;
      expect(logged.parameters).toEqual({ anything: 'goes' });
      expect(logged.run_id).toBe(runId);
    });
  });

  describe('actions (docs/actions/*.md)', () => {
    it('docs/actions/notify runs on_retry after the first attempt and on_fail after the last', async () => {
      const { runId, rec } = await run('docs/actions/notify');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'retrying', 'running', 'failed']);
      const msgs = messages(runId);
      expect(msgs).toContain('docs/actions/notify attempt 1 failed: upstream not ready');
      expect(msgs).toContain('docs/actions/notify gave up after 2 attempts');
      expect(msgs).not.toContain('docs/actions/notify worked');
      expect(msgs.filter((m) => m.startsWith('job docs/actions/notify run'))).toEqual([]); // realm default replaced
    });

    it('docs/actions/stops records action_failed and skips the rest of the list', async () => {
      const { runId, rec } = await run('docs/actions/stops');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'complete', 'action_failed']);
      expect(String(rec.log.at(-1)?.info)).toMatch(/^on_success action: dispatch: job "docs\/no\/such\/job" not found: /);
      expect(messages(runId)).not.toContain('not reached');
    });

    it('docs/actions/log logs the rendered message', async () => {
      const { runId, rec } = await run('docs/actions/log');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'complete']);
      const line = logLines.find((l) => l.run_id === runId && l.action === 'log');
      expect(line?.msg).toBe(`docs/actions/log run ${runId} finished with exit status 0`);
      expect(line?.job_id).toBe('docs/actions/log');
    });

    it('docs/actions/extract dispatches docs/actions/load, which sees its globals and parameters', async () => {
      const { rec } = await run('docs/actions/extract');
      exercised.add('docs/actions/load');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'complete']);
      const loads = await t.backend.events.query('test', { jobId: 'docs/actions/load' });
      expect(loads).toHaveLength(1);
      const load = loads[0] as EventRecord;
      expect(statuses(load)).toEqual(['queued', 'starting', 'running', 'complete']);
      expect(read(output(last(load))[0]?.stdout)).toBe('load b42 from docs/actions/extract (parent docs/actions/extract)\n');
    });
  });

  describe('concepts (docs/concepts.md)', () => {
    it('docs/concepts/retry makes two attempts and logs nothing on failure', async () => {
      const { runId, rec } = await run('docs/concepts/retry');
      expect(statuses(rec)).toEqual(['queued', 'starting', 'running', 'retrying', 'running', 'failed']);
      expect(messages(runId).filter((m) => m.startsWith('job docs/concepts/retry run'))).toEqual([]);
    });

    it('docs/concepts/merge: dispatch parameters and globals override the spec', async () => {
      const plain = await run('docs/concepts/merge');
      expect(read(output(last(plain.rec))[0]?.stdout)).toBe('day=monday team=data\n');
      const over = await run('docs/concepts/merge', { parameters: { vars: { day: 'friday' } }, globals: { team: 'ops' } });
      expect(read(output(last(over.rec))[0]?.stdout)).toBe('day=friday team=ops\n');
    });

    it('docs/concepts/gated: enabled and event_log templates', async () => {
      const on = await run('docs/concepts/gated');
      expect(statuses(on.rec)).toEqual(['queued', 'starting', 'logging', 'running', 'complete']);
      expect(on.rec.log[2]?.info).toEqual({ asked_by: 'cron' });
      const off = await run('docs/concepts/gated', { globals: { run_it: 'false', who: 'me' } });
      expect(statuses(off.rec)).toEqual(['queued', 'starting', 'logging', 'skipped']);
      expect(off.rec.log[2]?.info).toEqual({ asked_by: 'me' });
      expect(off.rec.log[3]?.info).toBe('Job not enabled (enabled="false")');
    });
  });

  // Runs last (tests in a file run in order): adding an example means adding a test of it.
  it('every example has had its outcome checked, here or in another test file', () => {
    const missing = RUN_HERE.flatMap(loadExamples)
      .map((s) => String(s.job_id))
      .filter((id) => !exercised.has(id));
    expect(missing, 'examples without a test of their outcome').toEqual([]);
    const others = exampleFiles().filter((f) => !RUN_HERE.includes(f));
    const tests = (fs.readdirSync(path.join(ROOT, 'test'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.test.ts') && !f.startsWith(`docs${path.sep}`))
      .map((f) => fs.readFileSync(path.join(ROOT, 'test', f), 'utf8'))
      .join('\n');
    for (const file of others) expect(tests, `no test under test/ runs examples/docs/${file}`).toContain(file);
  });
});
