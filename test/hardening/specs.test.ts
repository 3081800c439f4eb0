/**
 * Specs that cannot run must fail `lava check` and `lava job put`: unknown or missing job types,
 * parameters a type does not take, orchestration that contains itself, endless YAML aliases. YAML
 * reads yes/no/on/off, octal and base 60 as upstream's PyYAML does, and a YAML error is reported
 * once, at the line and column an editor shows.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFiles } from '../../src/cli/check.js';
import { loadSpecFile } from '../../src/cli/specs.js';
import { ValidationError } from '../../src/core/errors.js';
import { builtinHandlers, checkJobType } from '../../src/handlers/registry.js';
import { ensureBuilt, makeCliRealm, type CliRealm } from '../e2e/cli-helpers.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-specs-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string, ext = 'yaml'): string {
  const f = path.join(dir, `spec${++n}.${ext}`);
  fs.writeFileSync(f, text);
  return f;
}

const job = (extra: Record<string, unknown>) => ({ job_id: 'a/job', worker: 'w', payload: 'x', ...extra });

describe('job types at check time', () => {
  it('an unknown type is an error listing the known types, with the nearest one', () => {
    const r = checkJobType(job({ type: 'cmnd' }));
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^type: unknown job type "cmnd" \(did you mean "cmd"\?\): use one of /);
    for (const t of builtinHandlers().keys()) expect(r.errors[0]).toContain(t);
    expect(checkJobType(job({ type: 'zzzzzzzzzz' })).errors[0]).not.toContain('did you mean');
  });

  it('parameters a type does not take are errors, from the handlers own declaration', () => {
    expect(checkJobType(job({ type: 'sql', parameters: { conn_id: 'db', args: ['x'] } })).errors).toEqual([
      expect.stringMatching(/^parameters: sql jobs do not take args: remove it; sql jobs take .*conn_id/),
    ]);
    expect(checkJobType(job({ type: 'sqlc', parameters: { conn_id: 'db', delimiter: ',' } })).errors[0]).toMatch(
      /sqlc jobs do not take delimiter/,
    );
    expect(checkJobType(job({ type: 'cmd', parameters: { timeout: '1m', tmeout: 1, x: 2 } })).errors[0]).toMatch(
      /cmd jobs do not take tmeout, x: remove them/,
    );
    // Values may be templates: only keys are judged.
    expect(checkJobType(job({ type: 'cmd', parameters: { timeout: '{{ globals.t }}', args: '{{ x }}' } })).errors).toEqual([]);
    // log takes anything, as upstream's log does.
    expect(checkJobType(job({ type: 'log', parameters: { anything: 1 } })).errors).toEqual([]);
  });

  it('a missing required parameter is a warning: dispatch may supply it', () => {
    const r = checkJobType(job({ type: 'sql', parameters: { header: true } }));
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([expect.stringMatching(/^parameters\.conn_id: missing: sql jobs need it/)]);
    expect(checkJobType(job({ type: 'foreach', payload: 'b' })).warnings[0]).toMatch(/foreach jobs need foreach/);
  });

  it('a chain, dag or foreach that runs itself is rejected with the field and the fix', () => {
    const chain = checkJobType({ job_id: 'loop/chain', type: 'chain', worker: 'w', payload: 'a, loop/chain' });
    expect(chain.errors).toEqual([
      'payload: chain "loop/chain" lists itself, so it would run itself without end: remove "loop/chain" from the list (to repeat work, use iteration_limit or foreach)',
    ]);
    // Through job_prefix too.
    const prefixed = job({ job_id: 'p/c', type: 'chain', payload: ['x', 'c'], parameters: { job_prefix: 'p/' } });
    expect(checkJobType(prefixed).errors[0]).toMatch(/chain "p\/c" lists itself/);
    expect(checkJobType(job({ job_id: 'd', type: 'dag', payload: { d: null } })).errors[0]).toMatch(
      /^payload: dag "d" names itself as one of its jobs/,
    );
    expect(checkJobType(job({ job_id: 'd', type: 'dag', payload: { x: 'd' } })).errors[0]).toMatch(/dag "d" names itself/);
    expect(checkJobType(job({ job_id: 'f', type: 'foreach', payload: ' f ', parameters: { foreach: {} } })).errors[0]).toMatch(
      /^payload: foreach "f" runs itself for each value/,
    );
    // Others are fine.
    expect(checkJobType(job({ job_id: 'c', type: 'chain', payload: 'a, b' })).errors).toEqual([]);
    expect(checkJobType(job({ job_id: 'd', type: 'dag', payload: { a: null, b: 'a' } })).errors).toEqual([]);
  });

  it('payloads that can never run are errors too (dag cycles, empty chains)', () => {
    expect(checkJobType(job({ type: 'dag', payload: { a: 'b', b: 'a' } })).errors[0]).toMatch(
      /^payload: .*dependency cycle: a → b → a/,
    );
    expect(checkJobType(job({ type: 'chain', payload: ' , ' })).errors[0]).toMatch(/^payload: chain job payload is empty/);
    expect(checkJobType(job({ type: 'foreach', payload: 3, parameters: { foreach: {} } })).errors[0]).toMatch(
      /foreach job payload must be the id of the job/,
    );
  });
});

describe('real specs still pass', () => {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  const yamlIn = (d: string) =>
    fs
      .readdirSync(path.join(root, d))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => path.join(root, d, f));

  /** Guide examples (file and job id) that upstream's own handler rejects too, with the error it must be. */
  const WRONG_UPSTREAM: Record<string, RegExp> = {
    // The guide shows csv options `quote` and `separator`; upstream's handler takes neither (quoting, delimiter).
    'sharepoint_get_list.yaml demo/sharepoint-list': /^parameters: sharepoint_get_list jobs do not take quote, separator/,
    // One guide example of smb_put carries sharepoint_put_doc's `title`, which upstream's smb_put refuses.
    'smb_put.yaml demo/smb-put': /^parameters: smb_put jobs do not take title: remove it/,
  };

  it("upstream's user-guide examples and this project's examples have no type or YAML errors", () => {
    const files = [...yamlIn('test/fixtures/upstream-guide'), ...yamlIn('examples/jobs'), ...yamlIn('examples/docs')];
    expect(files.length).toBeGreaterThan(10);
    let checked = 0;
    for (const f of files) {
      for (const s of loadSpecFile(f)) {
        if (s.spec.type === undefined) continue;
        const errors = checkJobType(s.spec).errors;
        const wrong = f.includes('upstream-guide') ? WRONG_UPSTREAM[`${path.basename(f)} ${String(s.spec.job_id)}`] : undefined;
        if (wrong && errors.length) {
          expect(errors).toHaveLength(1);
          expect(errors[0]).toMatch(wrong);
        } else expect(errors, `${f} ${String(s.spec.job_id)}`).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe('YAML as upstream (PyYAML, YAML 1.1) reads it', () => {
  it('yes/no/on/off in PyYAML spellings are booleans; y/n stay text', () => {
    const words = [
      'yes',
      'Yes',
      'YES',
      'on',
      'On',
      'ON',
      'true',
      'True',
      'TRUE',
      'no',
      'No',
      'NO',
      'off',
      'Off',
      'OFF',
      'false',
      'False',
      'FALSE',
    ];
    const text = `job_id: a\ntype: cmd\nworker: w\npayload: x\nparameters:\n${words.map((w, i) => `  k${i}: ${w}\n`).join('')}  y: y\n  n: n\n  yEs: yEs\n`;
    const [spec] = loadSpecFile(file(text));
    const params = spec!.spec.parameters as Record<string, unknown>;
    words.forEach((w, i) => expect(params[`k${i}`], w).toBe(i < 9));
    expect(params).toMatchObject({ y: 'y', n: 'n', yEs: 'yEs' });
  });

  it('enabled: yes runs, enabled: off does not', () => {
    const [on, off] = loadSpecFile(
      file(
        '- {job_id: a, type: cmd, worker: w, payload: x, enabled: yes}\n- {job_id: b, type: cmd, worker: w, payload: x, enabled: off}\n',
      ),
    );
    expect(on!.spec.enabled).toBe(true);
    expect(off!.spec.enabled).toBe(false);
  });

  it('numbers as PyYAML reads them, with a warning for octal and base 60; dates stay text', () => {
    const warnings: string[] = [];
    const f = file(
      'job_id: a\ntype: cmd\nworker: w\npayload: x\nx-v:\n  oct: 0755\n  sex: 1:20\n  dec: 1_000\n  zero: 0\n  nine: 09\n  exp: 1e3\n  flt: 1.5\n  hex: 0x1F\n  date: 2024-01-31\n  quoted: "0755"\n',
    );
    const [spec] = loadSpecFile(f, warnings);
    expect(spec!.spec['x-v']).toEqual({
      oct: 493,
      sex: 80,
      dec: 1000,
      zero: 0,
      nine: '09',
      exp: '1e3',
      flt: 1.5,
      hex: 31,
      date: '2024-01-31',
      quoted: '0755',
    });
    expect(warnings).toEqual([
      `${f}: line 6, column 8: 0755 is read as the number 493 (YAML 1.1 octal, as upstream Lava reads it): quote it if you mean the text`,
      `${f}: line 7, column 8: 1:20 is read as the number 80 (YAML 1.1 base 60, as upstream Lava reads it): quote it if you mean the text`,
    ]);
  });

  it('merge keys work as in PyYAML', () => {
    const [, b] = loadSpecFile(file('- &base {job_id: a, type: cmd, worker: w, payload: x}\n- <<: *base\n  job_id: b\n'));
    expect(b!.spec).toEqual({ job_id: 'b', type: 'cmd', worker: 'w', payload: 'x' });
  });
});

describe('bad YAML is reported once, where it is', () => {
  function yamlError(text: string): string {
    try {
      loadSpecFile(file(text));
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return (err as Error).message;
    }
    throw new Error('no error');
  }

  it('a plain value running into "key: value" points at the colon, once', () => {
    const msg = yamlError('job_id: a\ntype: cmd\nworker: w\npayload: x\n  bad: indent\n');
    expect(msg).toMatch(/: not valid JSON or YAML: line 5, column 6: .*\n {4} {2}bad: indent\n {4} {5}\^$/);
    expect(msg.match(/line \d+/g)).toHaveLength(1);
    expect(yamlError('job_id: a\npayload: echo a: b\n')).toMatch(/: line 2, column 16: /);
  });

  it('other errors keep their own line and column (1-based)', () => {
    expect(yamlError('job_id: a\ntype: cmd\n\tworker: w\n')).toMatch(/line 3, column 1: Tabs are not allowed as indentation\n/);
    expect(yamlError('job_id: a\ntype: cmd\ntype: b\n')).toMatch(/line 3, column 1: Map keys must be unique\n/);
  });

  it('an alias inside the value it names is an error naming the file and the alias', () => {
    const f = file('job_id: a\ntype: cmd\nworker: w\npayload: null\nx-loop: &x [1, *x]\n');
    expect(() => loadSpecFile(f)).toThrow(
      new RegExp(
        `${f.replace(/[.]/g, '\\.')}: not valid as a spec: line 5, column 16: the alias \\*x is inside &x, the value it names`,
      ),
    );
    const report = checkFiles([f]);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toContain('the alias *x is inside &x');
    // An alias of an earlier value is fine.
    expect(loadSpecFile(file('job_id: a\ntype: cmd\nworker: w\npayload: &p x\nx-copy: [*p, *p]\n'))[0]!.spec['x-copy']).toEqual([
      'x',
      'x',
    ]);
  });

  it('alias bombs and nesting too deep for the stack are clean errors', () => {
    const layers = Array.from({ length: 12 }, (_, i) => {
      const prev = i === 0 ? 'a' : `a${i - 1}`;
      return `x-${i}: &a${i} [*${prev}, *${prev}, *${prev}, *${prev}]\n`;
    });
    const bomb = file(`job_id: a\ntype: cmd\nworker: w\npayload: x\nx-b: &a [1]\n${layers.join('')}`);
    expect(() => loadSpecFile(bomb)).toThrow(/not valid JSON or YAML: .*alias count/);
    const deep = file(`a:\n${Array.from({ length: 20_000 }, (_, i) => `${' '.repeat(i + 1)}- \n`).join('')}`);
    expect(() => loadSpecFile(deep)).toThrow(ValidationError);
  });

  it('JSON errors are JSON errors; YAML flow style still reads', () => {
    expect(() => loadSpecFile(file('{"job_id": "a", ', 'json'))).toThrow(/not valid JSON or YAML: /);
    expect(loadSpecFile(file('{job_id: a, type: cmd, worker: w, payload: x}'))[0]!.spec.job_id).toBe('a');
  });
});

describe('through the CLI', () => {
  let realm: CliRealm;
  beforeAll(async () => {
    ensureBuilt();
    realm = await makeCliRealm({}, 'lava-specs-cli-');
  }, 120_000);
  afterAll(() => realm?.cleanup());

  it('check and job put reject what cannot run, and store nothing', async () => {
    const f = realm.write(
      'bad.yaml',
      [
        '- {job_id: t/typo, type: cmnd, worker: w, payload: x, owner: o, description: d}',
        '- {job_id: t/sp, type: docker, worker: w, payload: img, parameters: {bogus: 1}, owner: o, description: d}',
        '- {job_id: t/sql, type: sqli, worker: w, payload: select 1, parameters: {conn_id: db, args: [x]}, owner: o, description: d}',
        '- {job_id: t/loop, type: chain, worker: w, payload: "a, t/loop", owner: o, description: d}',
        '',
      ].join('\n'),
    );
    const check = await realm.lava(['check', f]);
    expect(check.code).toBe(1);
    expect(check.stdout).toBe('4 spec(s) checked, 4 error(s), 0 warning(s)\n');
    expect(check.stderr).toContain('(t/typo): type: unknown job type "cmnd" (did you mean "cmd"?)');
    expect(check.stderr).toContain('(t/sp): parameters: docker jobs do not take bogus');
    expect(check.stderr).toContain('(t/sql): parameters: sqli jobs do not take args');
    expect(check.stderr).toContain('(t/loop): payload: chain "t/loop" lists itself');

    const put = await realm.lava(['job', 'put', f]);
    expect(put.code).toBe(1);
    expect(put.stderr).toContain('nothing stored');
    expect(put.stderr).toContain('chain "t/loop" lists itself');
    expect((await realm.lavaOk(['job', 'ls', '--json'])).stdout.trim()).toBe('[]');
  });

  it('a circular alias fails check and put cleanly, naming the file', async () => {
    const f = realm.write('circ.yaml', 'job_id: c\ntype: cmd\nworker: w\npayload: null\nx: &x [*x]\n');
    for (const args of [
      ['check', f],
      ['job', 'put', f],
    ]) {
      const r = await realm.lava(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`${f}: not valid as a spec: line 5, column 8: `);
      expect(r.stderr).toContain('the alias *x is inside &x');
      expect(r.stderr).not.toMatch(/JSON|at .*\.js:\d+/);
    }
  });

  it('a YAML error is printed once with its line', async () => {
    const f = realm.write('indent.yaml', 'job_id: a\ntype: cmd\nworker: w\npayload: x\n  bad: indent\n');
    const r = await realm.lava(['check', f]);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/line \d+, column \d+/g)).toEqual(['line 5, column 6']);
  });
});
