/**
 * Run `lava ARGS…` in this process (the real command tree, no child process) with LAVA_BACKEND and
 * LAVA_REALM set for the call, in a working directory; and the ```console examples of a docs page.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/index.js';

export const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], o: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { out: process.stdout.write, err: process.stderr.write, cwd: process.cwd(), code: process.exitCode };
  const savedEnv: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(o.env ?? {})) {
    savedEnv[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.stdout.write = (chunk: string | Uint8Array) => (out.push(String(chunk)), true);
  process.stderr.write = (chunk: string | Uint8Array) => (err.push(String(chunk)), true);
  process.exitCode = 0;
  process.chdir(o.cwd);
  try {
    await main(['node', 'lava', ...args]);
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.chdir(saved.cwd);
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = saved.code;
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Split a shell-like command line: spaces separate words; '…' and "…" quote. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2] ?? (m[3] as string));
  return words;
}

export interface ConsoleExample {
  args: string[];
  expected: string;
}

/** What a command printed, compared as the pages show it: LF line ends, no trailing blank lines. */
export function shown(stdout: string): string {
  const s = stdout.replace(/\r\n/g, '\n').replace(/\n+$/, '');
  return s ? s + '\n' : '';
}

/** The `$ npx lava …` commands of a page's ```console blocks, each with the lines printed after it. */
export function consoleExamples(page: string): ConsoleExample[] {
  const text = fs.readFileSync(path.join(DOCS, page), 'utf8');
  const out: ConsoleExample[] = [];
  for (const block of text.matchAll(/```console\n([\s\S]*?)```/g)) {
    let current: ConsoleExample | undefined;
    for (const line of (block[1] as string).split('\n')) {
      if (line.startsWith('$ ')) {
        const words = splitWords(line.slice(2));
        // Other commands (a script the page made) are run by the page's own test.
        current = words[0] === 'npx' && words[1] === 'lava' ? { args: words.slice(2), expected: '' } : undefined;
        if (current) out.push(current);
      } else if (current) current.expected += line + '\n';
    }
  }
  for (const ex of out) ex.expected = ex.expected.replace(/\n+$/, '\n');
  return out;
}
