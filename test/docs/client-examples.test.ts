/**
 * docs/client.md, run: its ```ts blocks, in order, as one module importing the package from src/,
 * against a real embedded realm holding the quick start's jobs, with a worker of fleet "core" running
 * in this process. Every `// → text` comment must be a line the example logged, in that order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { openBackend } from '../../src/backends/index.js';
import type { Backend } from '../../src/backends/ports.js';
import { initEmbeddedRealm } from '../../src/cli/init.js';
import { Worker } from '../../src/worker/worker.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PAGE = fs.readFileSync(path.join(ROOT, 'docs/client.md'), 'utf8');
const BLOCKS = [...PAGE.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);

let dir: string;
let backend: Backend;
let worker: Worker;
let working: Promise<void>;
const saved = { backend: process.env.LAVA_BACKEND, realm: process.env.LAVA_REALM };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-client-docs-'));
  const init = await initEmbeddedRealm(dir, 'default');
  backend = await openBackend(init.backendUrl);
  await backend.config.putRealm({ ...init.realm, config: { TMPDIR: path.join(dir, 'scratch') } });
  const demo = YAML.parse(fs.readFileSync(path.join(ROOT, 'examples/jobs/demo.yaml'), 'utf8')) as Record<string, unknown>[];
  for (const spec of demo) await backend.config.put('default', 'jobs', spec);
  worker = await Worker.create({ backend, realm: 'default', worker: 'core', waitSeconds: 1 });
  working = worker.run();
  process.env.LAVA_BACKEND = init.backendUrl;
  delete process.env.LAVA_REALM;
});

afterAll(async () => {
  for (const [k, v] of [
    ['LAVA_BACKEND', saved.backend],
    ['LAVA_REALM', saved.realm],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await worker.stop();
  await working;
  await backend.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('docs/client.md', () => {
  it('has examples, each importing nothing but the package', () => {
    expect(BLOCKS.length).toBeGreaterThanOrEqual(4);
    for (const b of BLOCKS) for (const m of b.matchAll(/from '([^']+)'/g)) expect(m[1]).toBe('lava-ts');
  });

  it('its examples run and log what their comments say', async () => {
    const index = path.join(ROOT, 'src/index.ts');
    const source = BLOCKS.join('\n').replaceAll("from 'lava-ts'", `from ${JSON.stringify(index)}`);
    const file = path.join(dir, 'client-example.ts');
    fs.writeFileSync(file, source);
    const logged: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    });
    try {
      await import(file);
    } finally {
      log.mockRestore();
    }
    const expected = [...source.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1] as string);
    expect(expected.length).toBeGreaterThan(5);
    let at = 0;
    for (const want of expected) {
      const found = logged.indexOf(want, at);
      expect(found, `"${want}" logged after line ${at} of:\n${logged.join('\n')}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
    // The runs() example printed the completed runs of demo/hello.
    expect(logged.some((l) => /^[0-9a-f-]{36} complete \S+Z [\d.]+$/.test(l))).toBe(true);
  }, 60_000);
});
