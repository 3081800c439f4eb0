import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dagOrder, matrixToDag, registerDagGen } from '../../src/cli/dag-gen.js';
import { buildGraph, findCycle } from '../../src/handlers/dag/graph.js';

const MATRIX = [
  ',extract_a,extract_b,load,"odd, name"',
  'load,x,yes,,',
  'report,,,1,',
  '"odd, name",,x,,',
  'extract_b,,,,',
  '',
].join('\n');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-dag-gen-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

async function cli(...args: string[]): Promise<string> {
  const program = new Command('lava').exitOverride();
  registerDagGen(program);
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'lava', 'dag-gen', ...args]);
  } finally {
    vi.restoreAllMocks();
  }
  return out;
}

describe('lava dag-gen', () => {
  it('builds the dag payload from a dependency matrix: every job a key, predecessors sorted', () => {
    expect(matrixToDag(MATRIX)).toEqual({
      extract_a: [],
      extract_b: [],
      load: ['extract_a', 'extract_b'],
      'odd, name': ['extract_b'],
      report: ['load'],
    });
    expect(matrixToDag(MATRIX, { prefix: 'etl/' })).toMatchObject({ 'etl/load': ['etl/extract_a', 'etl/extract_b'] });
  });

  it('prints JSON (pretty, or one line with -c) and YAML with -y', async () => {
    const file = path.join(dir, 'deps.csv');
    fs.writeFileSync(file, MATRIX);
    const pretty = await cli(file, '-p', 'p/');
    expect(JSON.parse(pretty)).toEqual(matrixToDag(MATRIX, { prefix: 'p/' }));
    expect(pretty.split('\n').length).toBeGreaterThan(5);
    const compact = await cli(file, '-c');
    expect(compact.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(compact)).toEqual(matrixToDag(MATRIX));
    expect(parseYaml(await cli(file, '-y'))).toEqual(matrixToDag(MATRIX));
  });

  it('-o prints an order in which every job comes after its predecessors', async () => {
    const file = path.join(dir, 'deps.csv');
    fs.writeFileSync(file, MATRIX);
    const order = (await cli(file, '-o')).trim().split('\n');
    const dag = matrixToDag(MATRIX);
    expect(order.slice().sort()).toEqual(Object.keys(dag).sort());
    for (const [job, preds] of Object.entries(dag)) {
      for (const p of preds) expect(order.indexOf(p)).toBeLessThan(order.indexOf(job));
    }
    expect(order).toEqual(dagOrder(dag));
    expect(order).toEqual(['extract_a', 'extract_b', 'load', 'odd, name', 'report']);
    // The payload works as a dag job payload as it is.
    expect(findCycle(buildGraph(dag))).toBeUndefined();
  });

  it('refuses a matrix with a cycle, naming the jobs, and a malformed matrix', async () => {
    const file = path.join(dir, 'cycle.csv');
    fs.writeFileSync(file, ',a,b\na,,x\nb,x,\n');
    await expect(cli(file)).rejects.toThrow(/dependency cycle: a → b → a/);
    await expect(cli(file, '-o')).rejects.toThrow(/dependency cycle/);
    expect(() => matrixToDag('only\n')).toThrow(/first row must be a blank cell followed by the predecessor job names/);
    expect(() => matrixToDag(',a\n,x\n')).toThrow(/row 2 has dependencies but no job name/);
    expect(() => matrixToDag(',a\nb,x,y\n')).toThrow(/row 2 \(b\) has more cells than there are predecessor columns/);
    await expect(cli(path.join(dir, 'nope.csv'))).rejects.toThrow(/cannot read/);
  });
});
