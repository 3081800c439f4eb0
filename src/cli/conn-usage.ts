/**
 * `lava conn usage` (upstream lava-conn-usage): the jobs that use connections matching glob
 * patterns. As upstream, it looks at the values of `parameters.connections` and the parameters
 * `conn_id`, `db_conn_id`, `s3_conn_id` and `docker`; not at actions or foreach/chain children.
 */
import type { Command } from 'commander';
import { selectKey } from './dump.js';
import { resolveRealm, withBackend, type GlobalOptions } from './context.js';

export const CONN_PARAMS = ['conn_id', 'db_conn_id', 's3_conn_id', 'docker'] as const;

/** The connection ids a job spec names, in upstream's order (repeats kept). */
export function connectionsOf(job: Record<string, unknown>): string[] {
  const p = job.parameters;
  if (!p || typeof p !== 'object' || Array.isArray(p)) return [];
  const params = p as Record<string, unknown>;
  const out: unknown[] = [];
  const conns = params.connections;
  if (conns && typeof conns === 'object' && !Array.isArray(conns)) out.push(...Object.values(conns));
  for (const k of CONN_PARAMS) if (k in params) out.push(params[k]);
  return out.filter((c): c is string => typeof c === 'string' && c !== '');
}

/** One line per (job, matching connection): the job id, as upstream prints it. */
export function usageLines(jobs: Record<string, unknown>[], globs: string[], ignoreCase = false): string[] {
  const lines: string[] = [];
  for (const job of jobs) {
    for (const conn of connectionsOf(job)) if (selectKey(conn, globs, { ignoreCase })) lines.push(String(job.job_id));
  }
  return lines;
}

export function registerConnUsage(program: Command, g: () => GlobalOptions): void {
  const conn = program.commands.find((c) => c.name() === 'conn');
  if (!conn) throw new Error('register the conn command before conn usage');
  conn
    .command('usage')
    .argument('<glob...>', 'connection id glob patterns')
    .description('print the jobs that use a connection matching one of the patterns (one line per use)')
    .option('-i, --ignore-case', 'match the patterns in any case')
    .action(async (globs: string[], o: { ignoreCase?: boolean }) => {
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const jobs = await backend.config.list(realm.realm, 'jobs');
        for (const line of usageLines(jobs, globs, o.ignoreCase)) process.stdout.write(`${line}\n`);
      });
    });
}
