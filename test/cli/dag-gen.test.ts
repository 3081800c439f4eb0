/**
 * lava dag-gen: the page's examples as written, upstream's matrix and table rules, SQLite files and a
 * lava sqlite3 connection as sources, and the errors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dagBatches, dagPayload, matrixToDag, rowsToDag } from '../../src/cli/dag-gen.js';
import { initEmbeddedRealm } from '../../src/cli/init.js';
import { consoleExamples, runCli, shown } from './run-cli.js';

const DEPS = path.resolve(import.meta.dirname, '../../examples/docs/dag-gen/deps.csv');

describe('lava dag-gen (docs/cli/dag-gen.md)', () => {
  let cwd: string;
  let backendUrl: string;
  const lava = (...args: string[]) => runCli(args, { cwd, env: { LAVA_BACKEND: backendUrl, LAVA_REALM: 'default' } });

  beforeAll(async () => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-dag-gen-'));
    fs.copyFileSync(DEPS, path.join(cwd, 'deps.csv'));
    backendUrl = (await initEmbeddedRealm(path.join(cwd, '.lava'), 'default')).backendUrl;
    const db = new Database(path.join(cwd, 'deps.sqlite3'));
    db.exec('CREATE TABLE dag (job_group TEXT, job TEXT NOT NULL, depends_on TEXT)');
    const put = db.prepare('INSERT INTO dag VALUES (?, ?, ?)');
    for (const row of [
      ['etl', 'extract_a', null],
      ['etl', 'extract_b', ''],
      ['etl', 'load', 'extract_a'],
      ['etl', 'load', ' extract_b '],
      ['etl', 'report', 'load'],
      ['etl', 'report', 'report'],
      ['ops', 'cleanup', null],
    ]) {
      put.run(...row);
    }
    db.close();
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('prints what the page shows', async () => {
    const examples = consoleExamples('cli/dag-gen.md');
    expect(examples).toHaveLength(3);
    for (const ex of examples) {
      const r = await lava(...ex.args);
      expect(r.code, r.stderr).toBe(0);
      expect(shown(r.stdout), ex.args.join(' ')).toBe(ex.expected);
    }
  });

  it('reads a matrix as upstream: row jobs are keys, column-only jobs are predecessors, self-marks ignored', () => {
    const dag = matrixToDag(',a,b,"odd, name"\nb,x,,\n"odd, name",,yes,\nc,,,x\nc,,x,\n\nb,,x,\n');
    expect(Object.fromEntries([...dag].map(([k, v]) => [k, [...v]]))).toEqual({
      b: ['a'],
      'odd, name': ['b'],
      c: ['odd, name', 'b'],
    });
    expect(dagPayload(dag, { compact: true })).toEqual({ b: 'a', c: ['b', 'odd, name'], 'odd, name': 'b' });
    expect(dagBatches(dag)).toEqual([['a'], ['b'], ['odd, name'], ['c']]);
  });

  it('reads a SQLite table by group, and through a lava sqlite3 connection', async () => {
    const want =
      '{\n    "extract_a": [],\n    "extract_b": [],\n    "load": [\n        "extract_a",\n        "extract_b"\n    ],\n    "report": [\n        "load"\n    ]\n}\n';
    const file = await lava('dag-gen', 'deps.sqlite3', '-g', 'etl');
    expect(file.stdout).toBe(want);
    expect((await lava('dag-gen', 'deps.sqlite3', '-c')).stdout).toBe(
      '{\n    "cleanup": null,\n    "load": [\n        "extract_a",\n        "extract_b"\n    ],\n    "report": "load"\n}\n',
    );
    fs.writeFileSync(
      path.join(cwd, 'conn.json'),
      JSON.stringify({ conn_id: 'deps-db', type: 'sqlite3', enabled: true, host: path.join(cwd, 'deps.sqlite3') }),
    );
    expect((await lava('conn', 'put', 'conn.json')).code).toBe(0);
    const conn = await lava('dag-gen', 'deps-db', '-g', 'etl');
    expect(conn.stderr).toBe('');
    expect(conn.stdout).toBe(want);
    expect(rowsToDag([{ job: 'a', depends_on: null }]).get('a')?.size).toBe(0);
  });

  it('fails clearly: xlsx, a cycle, an empty source, bad table or group names, a missing file', async () => {
    const fail = async (args: string[], re: RegExp) => {
      const r = await lava('dag-gen', ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(re);
    };
    fs.writeFileSync(path.join(cwd, 'book.xlsx'), 'PK');
    await fail(['book.xlsx'], /XLSX workbooks are not read by this build .*save the worksheet as CSV/);
    fs.writeFileSync(path.join(cwd, 'cycle.csv'), ',a,b\na,,x\nb,x,\n');
    await fail(['cycle.csv'], /dependency cycle: a → b → a/);
    await fail(['cycle.csv', '-o'], /dependency cycle/);
    fs.writeFileSync(path.join(cwd, 'empty.csv'), ',a\n');
    await fail(['empty.csv'], /DAG is empty/);
    await fail(['deps.sqlite3', '--table', 'dag; drop table dag'], /--table dag; drop table dag: use a table name/);
    await fail(['deps.sqlite3', '-g', "x' or '1"], /-g x' or '1: only letters, digits and _/);
    await fail(['nope.csv'], /cannot read nope\.csv/);
    await fail(['no-such-conn'], /no-such-conn/);
    expect(() => matrixToDag('only\n')).toThrow(/first row must be a blank cell followed by the predecessor job names/);
    expect(() => matrixToDag(',a\n,x\n')).toThrow(/row 2 has dependencies but no job name/);
    expect(() => matrixToDag(',a\nb,x,y\n')).toThrow(/row 2 \(b\) has more cells than there are predecessor columns/);
  });
});
