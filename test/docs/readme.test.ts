/**
 * The README's "Your own realm" walk-through, run exactly as written: its shell block is taken from
 * README.md and run by bash (with -e, so every step must succeed) in a fresh directory holding a copy
 * of examples/, where `npx lava` finds the built CLI as a project would (node_modules/.bin/lava).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, LAVA_BIN, REPO_ROOT } from '../e2e/cli-helpers.js';

/** The fenced blocks of one `## ` section of a Markdown file, with their info strings. */
export function sectionBlocks(markdown: string, heading: string): { lang: string; body: string }[] {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const rest = markdown.slice(start + heading.length + 5);
  const end = rest.search(/\n## /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] ?? '', body: m[2] ?? '' }));
}

const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-readme-'));
  fs.cpSync(path.join(REPO_ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules/.bin'), { recursive: true });
  const shim = path.join(dir, 'node_modules/.bin/lava');
  fs.writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(LAVA_BIN)} "$@"\n`, {
    mode: 0o755,
  });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('README: Your own realm', () => {
  it('runs as written: every step succeeds, and every dispatched run completes (demo/package too)', () => {
    const blocks = sectionBlocks(readme, 'Your own realm').filter((b) => b.lang === 'sh');
    expect(blocks).toHaveLength(2);
    // The walk-through; then the dashboard block's one-shot commands (its `lava up` runs until Ctrl-C,
    // so it is left out: test/e2e covers `lava up`).
    const dashboard = (blocks[1]?.body ?? '')
      .split('\n')
      .filter((l) => l.startsWith('npx lava ') && !l.startsWith('npx lava up '));
    expect(dashboard).toHaveLength(2);
    const script = `${blocks[0]?.body ?? ''}${dashboard.join('\n')}\n`;
    expect(script).toMatch(/payload put \S*hello-pkg\.tar\.gz demo\/hello-pkg\.tar\.gz/);
    // npm must not reach for the registry: `npx lava` is the local bin. No LAVA_* from the caller.
    const env = cleanEnv({
      PATH: `${path.join(dir, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
    });
    const out = execFileSync('bash', ['-e', '-c', script], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });

    // What the README says it shows.
    expect(out).toContain('hello from demo/hello in realm default');
    const header = /^TS_EVENT +JOB_ID +RUN_ID +STATUS +INFO$/m;
    expect(out).toMatch(header);
    expect(out).toMatch(/^RUN_ID +JOB_ID +STATUS +STARTED/m); // lava runs
    const hello = out.split('\n').filter((l) => /^\S+ +demo\/hello +[0-9a-f-]{36} /.test(l));
    expect(hello.map((l) => l.split(/ +/)[3])).toEqual(['queued', 'starting', 'running', 'complete']);

    const events = execFileSync('node', [LAVA_BIN, 'runs', '--json'], { cwd: dir, env, encoding: 'utf8' });
    const runs = JSON.parse(events) as { job_id: string; status: string }[];
    expect(runs.map((r) => `${r.job_id} ${r.status}`).sort()).toEqual([
      'demo/hello complete',
      'demo/package complete',
      'demo/report complete',
    ]);
  }, 150_000);

  it('shows the events as `lava events` prints them', () => {
    const shown = sectionBlocks(readme, 'Your own realm').find((b) => b.lang === 'text')?.body ?? '';
    const lines = shown.trim().split('\n');
    expect(lines[0]).toMatch(/^TS_EVENT +JOB_ID +RUN_ID +STATUS +INFO$/);
    expect(lines.slice(1).map((l) => l.split(/ +/)[3])).toEqual(['queued', 'starting', 'running', 'complete']);
  });
});
