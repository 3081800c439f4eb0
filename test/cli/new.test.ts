/**
 * lava new: the page's example as written, then the scaffold's own test.sh, run for real with the
 * compiled lava against a throwaway realm it makes; a failing payload makes test.sh fail.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPairs, defaultValues, scaffold } from '../../src/cli/new.js';
import { LAVA_BIN, cleanEnv } from '../e2e/cli-helpers.js';
import { DOCS, consoleExamples, runCli, shown } from './run-cli.js';

const run = promisify(execFile);

describe('lava new (docs/cli/new.md)', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-new-'));
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('scaffolds as the page shows; the spec passes lava check', async () => {
    const [ex] = consoleExamples('cli/new.md');
    const r = await runCli(ex!.args, { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(shown(r.stdout)).toBe(ex!.expected);
    const spec = fs.readFileSync(path.join(cwd, 'greeter/jobs/greeter.yaml'), 'utf8');
    expect(spec).toContain('job_id: "demo/greeter"');
    expect(spec).toContain('owner: "me@example.com"');
    expect(fs.statSync(path.join(cwd, 'greeter/test.sh')).mode & 0o777).toBe(0o755);
    const check = await runCli(['check', 'greeter/jobs/greeter.yaml'], { cwd });
    expect(check.stdout).toBe('1 spec(s) checked, 0 error(s), 0 warning(s)\n');
  });

  it('test.sh runs the job once in its own realm and prints what it printed', async () => {
    const env = cleanEnv({ LAVA: `${process.execPath} ${LAVA_BIN}` });
    const { stdout } = await run(path.join(cwd, 'greeter/test.sh'), { env, timeout: 60_000 });
    const page = fs.readFileSync(path.join(DOCS, 'cli/new.md'), 'utf8');
    const shownLines = /\$ \.\/greeter\/test\.sh\n([\s\S]*?)```/.exec(page)?.[1]?.trim().split('\n') ?? [];
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(shownLines[0]);
    expect(lines.at(-1)).toMatch(/^hi from demo\/greeter \(run [0-9a-f-]{36}\) in realm default$/);
    expect(shownLines[1]).toMatch(/^hi from demo\/greeter \(run [0-9a-f]{8}-…\) in realm default$/);
  }, 90_000);

  it('test.sh fails when the payload fails', async () => {
    fs.writeFileSync(path.join(cwd, 'greeter/payloads/greeter/run.sh'), '#!/bin/sh\necho broken >&2\nexit 3\n');
    const env = cleanEnv({ LAVA: `${process.execPath} ${LAVA_BIN}` });
    await expect(run(path.join(cwd, 'greeter/test.sh'), { env, timeout: 60_000 })).rejects.toMatchObject({ code: 1 });
  }, 90_000);

  it('refuses a non-empty directory, an unknown -p key and a bad name', async () => {
    const again = await runCli(['new', 'greeter', '--no-input'], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/greeter exists and is not empty/);
    expect(() => applyPairs(defaultValues('x'), ['colour=red'])).toThrow(
      /-p colour=red: use KEY=VALUE with KEY one of job_name, job_prefix/,
    );
    expect(() => scaffold(applyPairs(defaultValues('x'), ['job_name=../x']))).toThrow(/job_name "\.\.\/x"/);
  });
});
