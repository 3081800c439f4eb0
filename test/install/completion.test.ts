/**
 * `lava completion bash|zsh`: the scripts are run by the real shells. bash: its completion function is
 * called with COMP_WORDS as bash sets them. zsh: its completion builtins (compadd, _describe, _files)
 * exist only inside a completion widget, so the test defines recorders with those names and calls
 * the script's _lava with `words` and CURRENT as zsh sets them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/index.js';
import { commandTree, completionScript } from '../../src/cli/completion.js';

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-completion-'));
  fs.writeFileSync(path.join(dir, 'lava.bash'), completionScript(buildProgram(), 'bash'));
  fs.writeFileSync(path.join(dir, '_lava'), completionScript(buildProgram(), 'zsh'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What bash offers for the words typed so far (the last one is the word being completed). */
function bashComplete(words: string[]): string[] {
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _lava; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['-c', script, 'bash', path.join(dir, 'lava.bash'), ...words], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

describe('the command tree', () => {
  it('has every command and subcommand of the program, with options that take values marked', () => {
    const nodes = commandTree(buildProgram());
    const top = nodes.find((n) => n.path === '');
    expect(top?.subs.map((s) => s.name)).toEqual(expect.arrayContaining(['init', 'job', 'quickstart', 'worker', 'completion']));
    expect(top?.options).toContainEqual(expect.objectContaining({ flags: ['--backend'], takesValue: true }));
    expect(nodes.find((n) => n.path === 'job')?.subs.map((s) => s.name)).toEqual(
      expect.arrayContaining(['put', 'get', 'ls', 'rm']),
    );
    expect(nodes.some((n) => n.path === 'job put')).toBe(true);
  });

  it('names the shells it knows when given another', () => {
    expect(() => completionScript(buildProgram(), 'fish')).toThrow(/unknown shell "fish": use bash or zsh/);
  });
});

describe('bash', () => {
  it('completes command names, subcommands after global options with values, and options', () => {
    expect(bashComplete(['lava', 'qu'])).toEqual(['queue', 'quickstart']);
    expect(bashComplete(['lava', '--backend', 'job', 'job', ''])).toEqual(['put', 'get', 'ls', 'rm', 'activity']);
    expect(bashComplete(['lava', 'worker', '--w'])).toEqual(expect.arrayContaining(['--worker']));
    expect(bashComplete(['lava', 'completion', ''])).toEqual([]);
  });

  it('leaves the value of an option that takes one to the shell (files)', () => {
    expect(bashComplete(['lava', '--backend', ''])).toEqual([]);
  });
});

describe('zsh', () => {
  const title = 'is valid zsh and offers subcommands with their descriptions, and options';
  it.skipIf(!has('zsh'))(has('zsh') ? title : `${title} (skipped: zsh is not installed)`, () => {
    execFileSync('zsh', ['-n', path.join(dir, '_lava')]);
    const script = `
      compdef() { print -r -- "compdef $*"; }
      compadd() { shift; print -rl -- "$@"; }
      _describe() { local -a list; list=("\${(@P)4}"); print -rl -- "\${list[@]}"; }
      _files() { print -r -- "(files)"; }
      source "$1"; shift
      words=("$@"); CURRENT=$#
      _lava`;
    const run = (...w: string[]) =>
      execFileSync('zsh', ['-f', '-c', script, 'zsh', path.join(dir, '_lava'), ...w], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
    const top = run('lava', '');
    expect(top[0]).toBe('compdef _lava lava');
    expect(top).toContainEqual(expect.stringMatching(/^quickstart:create a demo realm/));
    expect(run('lava', '--realm', 'r', 'job', '')).toEqual(
      expect.arrayContaining(['compdef _lava lava', expect.stringMatching(/^put:/)]),
    );
    expect(run('lava', 'worker', '--')).toContain('--worker');
    expect(run('lava', '--backend', '')).toContain('(files)');
  });
});
