// CPU profiles of the Lava worker process (node --cpu-prof) under workload A (and C with `cmd`),
// on the embedded and the PostgreSQL backends, summarised as the top self and inclusive costs.
// Usage: npm run build && node bench/profile.mjs [N]   (env BENCH_PROFILE_CASES=emb-noop,pg-noop,…)
// Writes bench/results/profile-latest.md and .json; raw .cpuprofile files stay in a temp dir
// (printed) for Chrome DevTools or speedscope.
import fs from 'node:fs';
import path from 'node:path';
import { SYSTEMS } from './systems.mjs';
import { throughput } from './workloads.mjs';
import { ROOT, startPostgres, stopPostgres, tempDir } from './lib.mjs';

const N = Number(process.argv[2] ?? 5000);
const CASES = {
  'emb-noop': { system: 'lava-embedded', kind: 'noop', n: N },
  'emb-bare': { system: 'lava-embedded', kind: 'bare', n: N },
  'pg-noop': { system: 'lava-postgres', kind: 'noop', n: N },
  'pg-bare': { system: 'lava-postgres', kind: 'bare', n: N },
  'emb-cmd': { system: 'lava-embedded', kind: 'cmd', n: Math.min(N, 1000) },
};
const chosen = (process.env.BENCH_PROFILE_CASES ?? 'emb-noop,pg-noop,emb-cmd').split(',');
const profileDir = tempDir('lava-bench-prof-');
let pg;
const out = { when: new Date().toISOString(), n: N, dir: profileDir, cases: {} };
try {
  if (chosen.some((c) => CASES[c]?.system === 'lava-postgres')) pg = startPostgres();
  for (const name of chosen) {
    const c = CASES[name];
    const r = await throughput(
      SYSTEMS[c.system],
      { pg, profileDir },
      { n: c.n, workers: 1, threads: 8, kind: c.kind, label: name, capMs: 300_000 },
    );
    const files = fs.readdirSync(path.join(profileDir, name)).filter((f) => f.endsWith('.cpuprofile'));
    const prof = JSON.parse(fs.readFileSync(path.join(profileDir, name, files[0]), 'utf8'));
    out.cases[name] = { ...c, jobs_per_s: r.jobs_per_s, ...summarise(prof, r.n, r.window) };
    process.stderr.write(`${name}: ${r.jobs_per_s.toFixed(0)} jobs/s, profile ${path.join(profileDir, name, files[0])}\n`);
  }
} finally {
  if (pg) stopPostgres(pg);
}

const md = [];
for (const [name, c] of Object.entries(out.cases)) {
  md.push(`### ${name}: ${c.system}, ${c.kind} jobs, ${c.n} jobs, ${c.jobs_per_s.toFixed(0)} jobs/s`);
  md.push(
    `Worker process during the drain: ${c.busy_ms.toFixed(0)} ms on CPU of ${c.total_ms.toFixed(0)} ms (${(c.busy_ms / c.n).toFixed(3)} ms CPU per job; idle = waiting on I/O).`,
  );
  md.push('\nBusy time by area (self time):\n');
  md.push(
    table(
      ['area', 'ms', '% busy'],
      c.areas.slice(0, 14).map((a) => [a.area, a.ms.toFixed(0), a.pct.toFixed(1)]),
    ),
  );
  md.push('\nTop functions by self time:\n');
  md.push(
    table(
      ['function', 'where', 'ms', '% busy'],
      c.self.slice(0, 20).map((f) => [f.fn, f.where, f.ms.toFixed(0), f.pct.toFixed(1)]),
    ),
  );
  md.push('\nLava functions by inclusive time (time on the stack, including callees and waiting-free CPU only):\n');
  md.push(
    table(
      ['function', 'where', 'ms', '% busy'],
      c.inclusive.slice(0, 25).map((f) => [f.fn, f.where, f.ms.toFixed(0), f.pct.toFixed(1)]),
    ),
  );
  md.push('');
}
const dir = path.join(ROOT, 'bench', 'results');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'profile-latest.json'), JSON.stringify(out, null, 2) + '\n');
fs.writeFileSync(path.join(dir, 'profile-latest.md'), md.join('\n') + '\n');
process.stdout.write(md.join('\n') + '\n');
process.stderr.write(`written bench/results/profile-latest.md; raw profiles in ${profileDir}\n`);

function table(head, rows) {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`),
  ].join('\n');
}

function where(url, line) {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const rel = u.startsWith(ROOT) ? path.relative(ROOT, u) : u;
  return `${rel}:${line + 1}`;
}

function area(url, fn) {
  if (!url) return fn.startsWith('(') ? fn : '(native/builtin)';
  const u = url.replace(/^file:\/\//, '');
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (nm) return `npm:${nm[1]}`;
  if (u.startsWith('node:')) return `node:${u.slice(5).split('/')[0]}`;
  const rel = u.startsWith(ROOT) ? path.relative(ROOT, u) : u;
  if (rel.startsWith('dist/')) return `lava:${rel.slice(5).replace(/\.js$/, '')}`;
  return rel;
}

/** Self and inclusive times of the samples taken inside the drain window (startup excluded). */
function summarise(prof, jobs, [from, to]) {
  const byId = new Map(prof.nodes.map((nd) => [nd.id, nd]));
  const parent = new Map();
  for (const nd of prof.nodes) for (const c of nd.children ?? []) parent.set(c, nd.id);
  const self = new Map();
  const incl = new Map();
  const areas = new Map();
  let total = 0;
  let idle = 0;
  let t = prof.startTime / 1000; // µs on CLOCK_MONOTONIC → ms, the clock of now() in lib.mjs
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] / 1000;
    if (t < from || t > to) continue;
    const dt = (prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const nd = byId.get(prof.samples[i]);
    const fn = nd.callFrame.functionName || '(anonymous)';
    if (fn === '(idle)') {
      idle += dt;
      continue;
    }
    const key = `${fn}\t${where(nd.callFrame.url, nd.callFrame.lineNumber)}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const a = area(nd.callFrame.url, fn);
    areas.set(a, (areas.get(a) ?? 0) + dt);
    const seen = new Set();
    for (let id = nd.id; id !== undefined; id = parent.get(id)) {
      const p = byId.get(id);
      if (!p.callFrame.url.includes('/dist/')) continue;
      const k = `${p.callFrame.functionName || '(anonymous)'}\t${where(p.callFrame.url, p.callFrame.lineNumber)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  const busy = total - idle;
  const list = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, ms]) => {
        const [fn, w] = k.split('\t');
        return { fn, where: w, ms, pct: (100 * ms) / busy };
      });
  return {
    jobs,
    total_ms: total,
    busy_ms: busy,
    self: list(self).slice(0, 60),
    inclusive: list(incl).slice(0, 60),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([a, ms]) => ({ area: a, ms, pct: (100 * ms) / busy })),
  };
}
