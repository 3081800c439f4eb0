import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCsv, parseCsvObjects } from '../../src/handlers/foreach/csv.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
let out: string;
beforeEach(async () => {
  t = await makeRealm();
  out = path.join(t.dir, 'out.txt');
});
afterEach(async () => {
  await t.close();
});

/**
 * The child appends "<foreach_index>-<text>" to out.txt; the text is passed to sh as an argument,
 * so values with quotes or commas arrive unchanged.
 */
async function putChild(text = '{{ globals.x }}', extra: Record<string, unknown> = {}): Promise<void> {
  await t.putJob({
    job_id: 'fe/child',
    type: 'cmd',
    payload: `sh -c 'printf "%s\\n" "$1" >> ${out}; test "$1" != "$2"' sh '{{ globals.lava.foreach_index }}-${text}' '{{ globals.fail_on }}'`,
    ...extra,
  });
}

async function run(spec: Record<string, unknown>) {
  await t.putJob({ type: 'foreach', payload: 'fe/child', ...spec });
  const runId = await t.dispatch(String(spec.job_id));
  await t.drain();
  const rec = await t.backend.events.get('test', String(spec.job_id), runId);
  return { runId, statuses: rec?.log.map((e) => e.status) ?? [], last: rec?.log.at(-1)?.info as Record<string, unknown> };
}

function lines(): string[] {
  return fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n') : [];
}

describe('foreach CSV reader', () => {
  it('handles quoted commas, doubled quotes, newlines in quotes, CRLF, a BOM and blank lines', () => {
    expect(parseCsv('\ufeffa,b\r\n"x,1","say ""hi"""\n\n"multi\nline",\n')).toEqual([
      ['a', 'b'],
      ['x,1', 'say "hi"'],
      ['multi\nline', ''],
    ]);
    expect(parseCsvObjects('k,v\n1,"2,3"')).toEqual([{ k: '1', v: '2,3' }]);
  });

  it('names the problem: unclosed quote, ragged row, no header, duplicate column', () => {
    expect(() => parseCsv('a\n"open\n')).toThrow(/quoted field opened on line 2 is never closed/);
    expect(() => parseCsvObjects('a,b\n1,2,3\n')).toThrow(/data row 1 has 3 field\(s\) but the header has 2/);
    expect(() => parseCsvObjects('')).toThrow(/empty: it needs a header row/);
    expect(() => parseCsvObjects('a,a\n1,2')).toThrow(/names column "a" twice/);
  });
});

describe('foreach job type', () => {
  it('runs the child once per inline value, with foreach_index and generator values in its globals', async () => {
    await putChild();
    const r = await run({
      job_id: 'fe/inline',
      parameters: { foreach: { type: 'inline', values: [{ x: 'a' }, { x: 'b' }] } },
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(lines()).toEqual(['0-a', '1-b']);
    expect(r.last).toMatchObject({ exit_status: 0, limit: 10, foreach_len: 2, jobs_completed: 2, failed_indexes: [] });
    // Each iteration is a run of the child under the parent's run id.
    expect(await t.statuses(r.runId, 'fe/child')).toEqual(['starting', 'running', 'complete', 'starting', 'running', 'complete']);
  });

  it('range: start, stop, step and name; without a name the parent globals show through', async () => {
    await putChild();
    await run({ job_id: 'fe/range', parameters: { foreach: { type: 'range', start: 1, stop: 7, step: 2, name: 'x' } } });
    expect(lines()).toEqual(['0-1', '1-3', '2-5']);
    fs.rmSync(out);
    await run({ job_id: 'fe/range2', globals: { x: 'P' }, parameters: { foreach: { type: 'range', stop: '2' } } });
    expect(lines()).toEqual(['0-P', '1-P']);
    fs.rmSync(out);
    await run({ job_id: 'fe/range3', parameters: { foreach: { type: 'range', start: 3, stop: 0, step: -1, name: 'x' } } });
    expect(lines()).toEqual(['0-3', '1-2', '2-1']);
  });

  it('csv: a header row and quoted values with commas and quotes; filename rendered', async () => {
    fs.writeFileSync(path.join(t.dir, 'rows.csv'), 'x,y\n"a,1",2\n"b ""q""",3\n');
    await putChild('{{ globals.x }}|{{ globals.y }}');
    const r = await run({
      job_id: 'fe/csv',
      globals: { data: t.dir },
      parameters: { foreach: { type: 'csv', filename: '{{ globals.data }}/rows.csv' } },
    });
    expect(r.statuses.at(-1)).toBe('complete');
    expect(lines()).toEqual(['0-a,1|2', '1-b "q"|3']);
  });

  it('jsonl: a local path or a file:// URI, blank lines skipped, non-objects refused', async () => {
    const file = path.join(t.dir, 'rows.jsonl');
    fs.writeFileSync(file, '{"x": "j1"}\n\n{"x": "j2", "n": 1}\n');
    await putChild();
    await run({ job_id: 'fe/jsonl', parameters: { foreach: { type: 'jsonl', filename: file } } });
    await run({ job_id: 'fe/jsonl2', parameters: { foreach: { type: 'jsonl', filename: pathToFileURL(file).href } } });
    expect(lines()).toEqual(['0-j1', '1-j2', '0-j1', '1-j2']);
    fs.writeFileSync(file, '{"x": 1}\n[1]\n');
    const bad = await run({ job_id: 'fe/jsonl3', parameters: { foreach: { type: 'jsonl', filename: file } } });
    expect(String(bad.last.error)).toMatch(/line 2 must be a JSON object/);
  });

  it('jsonl: a relative filename is read from the run scratch dir, where an earlier chain step wrote it', async () => {
    await putChild();
    await t.putJob({
      job_id: 'fe/write',
      type: 'cmd',
      payload: `sh -c "printf '%s\\n' '{\\"x\\":\\"s1\\"}' '{\\"x\\":\\"s2\\"}' > list.jsonl"`,
    });
    await t.putJob({
      job_id: 'fe/loop',
      type: 'foreach',
      payload: 'fe/child',
      parameters: { foreach: { type: 'jsonl', filename: 'list.jsonl' } },
    });
    await t.putJob({ job_id: 'fe/chain', type: 'chain', payload: 'fe/write, fe/loop' });
    const runId = await t.dispatch('fe/chain');
    await t.drain();
    expect(await t.statuses(runId, 'fe/chain')).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(lines()).toEqual(['0-s1', '1-s2']);
  });

  it('s3list: every object under the prefix at any depth, filtered by glob on the key', async () => {
    t.writePayload('s3l/a.csv', 'aaa');
    t.writePayload('s3l/sub/b.csv', 'b');
    t.writePayload('s3l/c.txt', 'c');
    t.writePayload('other/d.csv', 'd');
    await putChild('{{ globals.s3obj.Key }}:{{ globals.s3obj.Size }}:{{ globals.s3obj.StorageClass }}');
    const r = await run({
      job_id: 'fe/s3',
      parameters: { foreach: { type: 's3list', bucket: '{{ realm.s3_payloads }}', prefix: 's3l/', glob: '*.csv' } },
    });
    expect(r.statuses.at(-1)).toBe('complete');
    expect(lines()).toEqual(['0-s3l/a.csv:3:STANDARD', '1-s3l/sub/b.csv:1:STANDARD']);
    fs.rmSync(out);
    await run({
      job_id: 'fe/s3b',
      parameters: { foreach: { type: 's3list', bucket: t.realm.s3_payloads, prefix: 'oth', glob: ['*.nope', 'other/*'] } },
    });
    expect(lines()).toEqual(['0-other/d.csv:1:STANDARD']);
  });

  it('fails before running anything when the generator yields more than limit values', async () => {
    await putChild();
    const r = await run({ job_id: 'fe/over', parameters: { limit: 3, foreach: { type: 'range', stop: 4, name: 'x' } } });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'failed']);
    expect(String(r.last.error)).toMatch(/more than limit \(3\) values; nothing was run/);
    expect(lines()).toEqual([]);
    expect(await t.statuses(r.runId, 'fe/child')).toEqual([]);
    const atLimit = await run({ job_id: 'fe/at', parameters: { limit: 3, foreach: { type: 'range', stop: 3, name: 'x' } } });
    expect(atLimit.last).toMatchObject({ exit_status: 0, limit: 3, foreach_len: 3, jobs_completed: 3 });
    const tooBig = await run({ job_id: 'fe/big', parameters: { limit: 26, foreach: { type: 'range', stop: 1 } } });
    expect(String(tooBig.last.error)).toMatch(/parameters\.limit 26 is over FOREACH_MAX_LIMIT \(25\)/);
  });

  it('refuses yielded keys starting with "lava", and unknown generator fields and types', async () => {
    await putChild();
    const lava = await run({ job_id: 'fe/lava', parameters: { foreach: { type: 'inline', values: [{ x: 1 }, { lavax: 2 }] } } });
    expect(String(lava.last.error)).toMatch(/value 2 has key "lavax": keys starting with "lava" are reserved/);
    expect(lines()).toEqual([]);
    const field = await run({ job_id: 'fe/field', parameters: { foreach: { type: 'range', stop: 2, stpe: 1 } } });
    expect(String(field.last.error)).toMatch(
      /unexpected field\(s\) stpe for generator type range: it takes type, stop, start, step, name/,
    );
    const type = await run({ job_id: 'fe/type', parameters: { foreach: { type: 'list', values: [] } } });
    expect(String(type.last.error)).toMatch(/is not a generator type: use one of range, inline, jsonl, csv, s3list, query/);
    const query = await run({
      job_id: 'fe/query',
      parameters: { foreach: { type: 'query', conn_id: 'nodb', query: 'select 1' } },
    });
    expect(String(query.last.error)).toMatch(/nodb/);
    const missing = await run({ job_id: 'fe/missing', parameters: {} });
    expect(String(missing.last.error)).toMatch(/Missing keys foreach/);
  });

  it('query: one child per row of a query over a connection, keyed by column name (never rendered)', async () => {
    const dbFile = path.join(t.dir, 'rows.db');
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(dbFile);
    db.exec("create table todo (x text, n integer); insert into todo values ('a', 1), ('b', 2), ('c''d', 3)");
    db.close();
    await t.backend.config.put('test', 'connections', { conn_id: 'rows', type: 'sqlite3', enabled: true, host: dbFile });
    await putChild('{{ globals.x }}{{ globals.n }}');
    const r = await run({
      job_id: 'fe/rows',
      parameters: {
        foreach: { type: 'query', conn_id: 'rows', query: "select x, n from todo where x <> '{{ nope }}' order by n" },
      },
    });
    expect(r.last).toMatchObject({ exit_status: 0, foreach_len: 3, jobs_completed: 3 });
    expect(lines()).toEqual(['0-a1', '1-b2', "2-c'd3"]);
  });

  it('does not render generator fields with jinja: false', async () => {
    await putChild();
    const r = await run({
      job_id: 'fe/nojinja',
      globals: { data: t.dir },
      parameters: { jinja: false, foreach: { type: 'csv', filename: '{{ globals.data }}/rows.csv' } },
    });
    expect(String(r.last.error)).toMatch(/cannot read \{\{ globals\.data \}\}\/rows\.csv/);
  });

  it('can_fail: true records failed indexes and continues; false stops at the first failure', async () => {
    await putChild();
    const values = [{ x: 'a' }, { x: 'b', fail_on: '1-b' }, { x: 'c' }];
    const ok = await run({ job_id: 'fe/cf', parameters: { can_fail: true, foreach: { type: 'inline', values } } });
    expect(ok.statuses.at(-1)).toBe('complete');
    expect(ok.last).toMatchObject({ exit_status: 0, foreach_len: 3, jobs_completed: 2, failed_indexes: [1] });
    expect(lines()).toEqual(['0-a', '1-b', '2-c']);
    fs.rmSync(out);
    const stop = await run({ job_id: 'fe/nocf', parameters: { foreach: { type: 'inline', values } } });
    expect(stop.statuses.at(-1)).toBe('failed');
    expect(String(stop.last.error)).toMatch(/foreach stopped at index 1: job "fe\/child" failed/);
    expect(stop.last.error_data).toEqual({ exit_status: 1, limit: 10, foreach_len: 3, jobs_completed: 1, failed_indexes: [1] });
    expect(lines()).toEqual(['0-a', '1-b']);
  });
});

describe('examples/docs/foreach.yaml (docs/job-types/foreach.md)', () => {
  const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/docs');

  async function runExample(jobId: string) {
    const runId = await t.dispatch(jobId);
    await t.drain();
    const rec = await t.backend.events.get('test', jobId, runId);
    return { runId, statuses: rec?.log.map((e) => e.status) ?? [], last: rec?.log.at(-1)?.info as Record<string, unknown> };
  }

  /** The stdout of a child's latest iteration (every iteration writes the same place). */
  async function childStdout(runId: string, jobId: string): Promise<string> {
    const rec = await t.backend.events.get('test', jobId, runId);
    const uri = (rec?.log.at(-1)?.info as { output: { stdout: string }[] }).output[0]!.stdout;
    return fs.readFileSync(fileURLToPath(uri), 'utf8');
  }

  beforeEach(async () => {
    for (const spec of parseYaml(fs.readFileSync(path.join(examples, 'foreach.yaml'), 'utf8')) as Record<string, unknown>[]) {
      await t.putJob({ ...spec, worker: 'w' });
    }
    for (const name of fs.readdirSync(path.join(examples, 'payloads/steps'))) {
      t.writePayload(`docs/steps/${name}`, fs.readFileSync(path.join(examples, 'payloads/steps', name), 'utf8'));
    }
  });

  it('days runs print for day 1, 2, 3 (nine events); the last output remains', async () => {
    const r = await runExample('docs/foreach/days');
    expect(r.last).toEqual({ exit_status: 0, limit: 10, foreach_len: 3, jobs_completed: 3, failed_indexes: [], error: null });
    expect(await t.statuses(r.runId, 'docs/foreach/print')).toHaveLength(9);
    expect(await childStdout(r.runId, 'docs/foreach/print')).toBe('item 2: day=3 region=any\n');
  });

  it('regions overrides the child region; limit 5', async () => {
    const r = await runExample('docs/foreach/regions');
    expect(r.last).toEqual({ exit_status: 0, limit: 5, foreach_len: 2, jobs_completed: 2, failed_indexes: [], error: null });
    expect(await childStdout(r.runId, 'docs/foreach/print')).toBe('item 1: day=2 region=us\n');
  });

  it('files lists the .sh files under docs/steps/', async () => {
    const r = await runExample('docs/foreach/files');
    expect(r.last).toMatchObject({ foreach_len: 2, jobs_completed: 2 });
    const size = fs.statSync(path.join(examples, 'payloads/steps/02-load.sh')).size;
    expect(await childStdout(r.runId, 'docs/foreach/show-file')).toBe(`docs/steps/02-load.sh ${size}\n`);
  });

  it('from-csv writes regions.csv in the scratch dir, then runs print-row per row', async () => {
    const r = await runExample('docs/foreach/from-csv');
    expect(r.last).toEqual({
      exit_status: 0,
      jobs: ['docs/foreach/make-csv', 'docs/foreach/each-row'],
      failed_jobs: [],
      error: null,
    });
    const each = await t.backend.events.get('test', 'docs/foreach/each-row', r.runId);
    expect(each?.log.at(-1)?.info).toMatchObject({ foreach_len: 2, jobs_completed: 2 });
    expect(await t.statuses(r.runId, 'docs/foreach/print-row')).toHaveLength(6);
    expect(await childStdout(r.runId, 'docs/foreach/print-row')).toBe('us: Ops US\n');
  });
});
