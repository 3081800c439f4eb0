#!/usr/bin/env node
// Runs the kill -9 chaos test (test/chaos/kill9.test.ts) at a larger size than `npm test` does.
// Usage: node scripts/chaos.mjs [--runs N] [--workers N] [--seed N] [--rounds N]
// Each round uses a fresh random seed unless --seed is given; a failing round prints its seed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '4' },
    seed: { type: 'string' },
    rounds: { type: 'string', default: '1' },
  },
});

for (let round = 1; round <= Number(values.rounds); round++) {
  const seed = values.seed ?? String(Math.floor(Math.random() * 1_000_000));
  console.log(`round ${round}: ${values.runs} runs, ${values.workers} workers, seed ${seed}`);
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/chaos/kill9.test.ts'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, LAVA_CHAOS_RUNS: values.runs, LAVA_CHAOS_WORKERS: values.workers, LAVA_CHAOS_SEED: seed },
  });
  if (r.status !== 0) {
    console.error(
      `round ${round} failed; replay with: node scripts/chaos.mjs --runs ${values.runs} --workers ${values.workers} --seed ${seed}`,
    );
    process.exit(r.status ?? 1);
  }
}
