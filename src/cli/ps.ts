/**
 * `lava ps`: runs in progress in the workers on this host (read from their scratch dirs), of this
 * backend only: workers of other backends share TMPDIR and often the realm name ("default").
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { backendUrl } from '../backends/index.js';
import { namedRealm } from '../backends/realm.js';
import { Config } from '../core/config.js';
import { canonicalBackendUrl, printJson, printTable, type GlobalOptions } from './context.js';

export interface PsRow {
  pid: number;
  realm: string;
  worker: string;
  job_id: string;
  run_id: string;
  type: string;
  started: string;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Which workers to show: those of this backend (and realm); none given shows every one. */
export interface PsFilter {
  backend?: string;
  realm?: string;
}

export function listRuns(tmpRoot: string, filter: PsFilter = {}): { workers: Record<string, unknown>[]; runs: PsRow[] } {
  const backend = filter.backend === undefined ? undefined : canonicalBackendUrl(filter.backend);
  const workers: Record<string, unknown>[] = [];
  const runs: PsRow[] = [];
  for (const realmDir of safeReaddir(tmpRoot)) {
    for (const wdir of safeReaddir(path.join(tmpRoot, realmDir))) {
      const base = path.join(tmpRoot, realmDir, wdir);
      const info = readJson(path.join(base, 'worker.json'));
      if (!info || typeof info.pid !== 'number' || !alive(info.pid)) continue;
      if (backend !== undefined && info.backend !== backend) continue;
      if (filter.realm !== undefined && info.realm !== filter.realm) continue;
      workers.push(info);
      for (const run of Array.isArray(info.runs) ? (info.runs as Record<string, unknown>[]) : []) {
        runs.push({
          pid: info.pid,
          realm: String(info.realm),
          worker: String(info.worker),
          job_id: String(run.job_id),
          run_id: String(run.run_id),
          type: String(run.type),
          started: String(run.started),
        });
      }
    }
  }
  return { workers, runs };
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export function registerPs(program: Command, g: () => GlobalOptions): void {
  program
    .command('ps')
    .description('list runs in progress in the workers of this backend on this host')
    .option('--json', 'print JSON')
    .option('--workers', 'list the live workers instead')
    .option('--all', 'workers of every backend and realm on this host')
    .action((o: { json?: boolean; workers?: boolean; all?: boolean }) => {
      const realm = namedRealm({ realm: g().realm });
      const filter: PsFilter = o.all ? {} : { backend: backendUrl(g().backend), ...(realm ? { realm } : {}) };
      const { workers, runs } = listRuns(new Config().str('TMPDIR'), filter);
      if (o.workers) {
        if (o.json) return printJson(workers);
        return printTable(
          ['PID', 'REALM', 'WORKER', 'STARTED'],
          workers.map((w) => [String(w.pid), String(w.realm), String(w.worker), String(w.started)]),
        );
      }
      if (o.json) return printJson(runs);
      printTable(
        ['PID', 'REALM', 'WORKER', 'JOB_ID', 'RUN_ID', 'TYPE', 'STARTED'],
        runs.map((r) => [String(r.pid), r.realm, r.worker, r.job_id, r.run_id, r.type, r.started]),
      );
    });
}
