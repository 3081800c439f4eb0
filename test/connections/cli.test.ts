/** `lava conn test`, `lava secret …` and `lava sql` (in-process, and as a real process for stdin). */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerConnections } from '../../src/cli/connections.js';
import type { GlobalOptions } from '../../src/cli/context.js';
import { lavaCommand, setLavaCommand } from '../../src/connections/cli-dir.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { useLavaSqlCli } from './helpers.js';

let t: TestRealm;

beforeAll(async () => {
  t = await makeRealm();
  const put = (spec: Record<string, unknown>) => t.backend.config.put('test', 'connections', { enabled: true, ...spec });
  await put({ conn_id: 'lite', type: 'sqlite3', host: path.join(t.dir, 'cli.db') });
  await put({ conn_id: 'gen', type: 'generic', attributes: { a: 1, token: { type: 'ssm', parameter: '/lava/test/tok' } } });
  await t.backend.secrets.put('test', '/lava/test/tok', 'tok-value-123');
});

afterAll(async () => {
  setLavaCommand(undefined);
  await t.close();
});

/** Run `lava ARGS` in-process; returns what went to process.stdout/stderr, and the error if it failed. */
async function lava(...args: string[]): Promise<{ out: string; err: string; error?: Error }> {
  const program = new Command('lava').option('--backend <url>').option('--realm <name>').exitOverride();
  registerConnections(program, () => program.opts<GlobalOptions>());
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    await program.parseAsync(['node', 'lava', '--backend', t.backendUrl, '--realm', 'test', ...args]);
    return { out, err };
  } catch (error) {
    return { out, err, error: error as Error };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('lava secret', () => {
  it('put, get (hidden unless --show), ls, rm', async () => {
    const put = await lava('secret', 'put', '/lava/test/new', 'v4lue');
    expect(put.out).toBe('stored secret /lava/test/new\n');
    expect(put.err).toMatch(/visible to other users/);
    expect((await lava('secret', 'get', '/lava/test/new')).out).toBe(
      '/lava/test/new: set (5 characters); add --show to print the value\n',
    );
    expect((await lava('secret', 'get', '/lava/test/new', '--show')).out).toBe('v4lue\n');
    const ls = await lava('secret', 'ls');
    expect(ls.out).toBe('/lava/test/new\n/lava/test/tok\n');
    expect(ls.out).not.toContain('tok-value');
    expect((await lava('secret', 'rm', '/lava/test/new')).out).toBe('deleted secret /lava/test/new\n');
    expect((await lava('secret', 'get', '/lava/test/new')).error?.message).toMatch(/secret "\/lava\/test\/new" not found/);
    expect((await lava('secret', 'put', 'elsewhere', 'x')).err).toMatch(/by convention secret names start with \/lava\/test\//);
  });
});

describe('lava conn test', () => {
  it('connects and runs SELECT 1, or resolves generic attributes, never printing a secret', async () => {
    expect((await lava('conn', 'test', 'lite')).out).toBe('ok: lite (sqlite3): SELECT 1 returned 1\n');
    const gen = await lava('conn', 'test', 'gen');
    expect(gen.out).toBe('ok: gen (generic): 2 attributes resolved (a, token)\n');
    expect((await lava('conn', 'test', 'nope')).error?.message).toMatch(/No such connection "nope"/);
  });

  it('adds `test` to an existing `lava conn` command', async () => {
    const program = new Command('lava');
    const conn = program.command('conn');
    conn.command('ls');
    registerConnections(program, () => ({}));
    expect(program.commands.filter((c) => c.name() === 'conn')).toHaveLength(1);
    expect(conn.commands.map((c) => c.name())).toEqual(['ls', 'test']);
  });
});

describe('lava sql', () => {
  it('runs -e SQL and files, as CSV or JSON Lines, to a file', async () => {
    const out = path.join(t.dir, 'out.csv');
    const r = await lava(
      'sql',
      'lite',
      '-e',
      "create table if not exists c (a text, b int); delete from c; insert into c values ('x|y', 1), ('z', 2); select * from c order by b",
      '--header',
      '-o',
      out,
    );
    expect(r.error).toBeUndefined();
    expect(fs.readFileSync(out, 'utf8')).toBe('a|b\r\n"x|y"|1\r\nz|2\r\n');
    const file = path.join(t.dir, 'q.sql');
    fs.writeFileSync(file, 'select a from c where b = 2;\nselect count(*) as n from c;');
    const jl = path.join(t.dir, 'out.jsonl');
    await lava('sql', '--conn-id', 'lite', file, '--format', 'jsonl', '-o', jl);
    expect(fs.readFileSync(jl, 'utf8')).toBe('{"a":"z"}\n{"n":2}\n');
    await lava('sql', 'lite', '-e', 'select a, b from c', '--dialect', 'unix', '--delimiter', ',', '-o', out);
    // As upstream: the explicit (default) quoting, doublequote etc. override the dialect's; it sets the line ending.
    expect(fs.readFileSync(out, 'utf8')).toBe('x|y,1\nz,2\n');
  });

  it('names a failing statement, and --transaction rolls back', async () => {
    const out = path.join(t.dir, 'x.csv');
    const r = await lava('sql', 'lite', '--transaction', '-e', "insert into c values ('t', 3); select nope from c", '-o', out);
    expect(r.error?.message).toBe('-e[0]: statement 1 ("select nope from c") failed: no such column: nope');
    await lava('sql', 'lite', '-e', 'select count(*) from c', '-o', out);
    expect(fs.readFileSync(out, 'utf8')).toBe('2\r\n');
    expect((await lava('sql', '-e', 'select 1')).error?.message).toMatch(/needs a connection id/);
    expect((await lava('sql', 'lite', '--format', 'xml', '-e', 'select 1')).error?.message).toMatch(/use csv or jsonl/);
  });

  it('reads SQL from stdin when it is not a terminal (a real process), and secret put reads stdin', async () => {
    useLavaSqlCli(t.dir);
    const [node, ...pre] = lavaCommand();
    const run = (args: string[], input: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          node as string,
          [...pre, '--realm', 'test', ...args],
          { env: { ...process.env, LAVA_BACKEND: t.backendUrl } },
          (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        child.stdin?.end(input);
      });
    const r = await run(['sql', '--conn-id', 'lite', '--header'], 'select b, a from c order by b;\n');
    expect(r).toMatchObject({ code: 0, stdout: 'b|a\r\n1|"x|y"\r\n2|z\r\n' });
    const put = await run(['secret', 'put', '/lava/test/piped', '-'], 'from-stdin\n');
    expect(put.stdout).toBe('stored secret /lava/test/piped\n');
    expect(await t.backend.secrets.get('test', '/lava/test/piped')).toBe('from-stdin');
  }, 30_000);
});
