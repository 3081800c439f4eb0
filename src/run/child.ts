/**
 * Child runs: orchestration handlers (chain, dag, foreach) run other jobs in-process under the
 * parent's run id and scratch dir, bounded in depth and refusing cycles.
 */
import { JobError } from '../core/errors.js';
import { parseIso } from '../core/time.js';
import { parseSpec } from '../core/validate.js';
import type { RunEnvironment } from './environment.js';
import type { RunJob, RunOutcome } from './handler.js';
import type { Scratch } from './scratch.js';

/** How a child is run: the run lifecycle itself, passed in so that this module does not import it back. */
export type RunChildJob = (env: RunEnvironment, child: RunJob, options: { scratch: Scratch }) => Promise<RunOutcome>;

/** Each child run's parents, top-level job first: bounds nesting and names a cycle. */
const ancestry = new WeakMap<RunJob, readonly string[]>();

/**
 * Why a child may not start here: it is one of its own parents (chain/dag/foreach jobs that contain
 * each other would run without end, and a dag's fan-out multiplies every level), or it would nest
 * deeper than NESTING_MAX_DEPTH.
 */
function nestingProblem(env: RunEnvironment, parents: readonly string[], jobId: string): string | undefined {
  const path = [...parents, jobId].join(' → ');
  const seen = parents.indexOf(jobId);
  if (seen >= 0) {
    const cycle = [...parents.slice(seen), jobId].join(' → ');
    return `child job "${jobId}" is already running in this run as one of its parents (${cycle}), so the jobs would run each other without end: remove "${jobId}" from the payload of "${parents.at(-1)}" or break the cycle elsewhere; nesting: ${path}`;
  }
  const max = env.config.int('NESTING_MAX_DEPTH');
  if (parents.length > max) {
    return `child job "${jobId}" would be nested ${parents.length} deep, over NESTING_MAX_DEPTH (${max}): flatten the jobs or raise NESTING_MAX_DEPTH; nesting: ${path}`;
  }
  return undefined;
}

/** Load a child job and run it in-process under the parent's run id and scratch dir. */
export async function runChild(
  env: RunEnvironment,
  parent: RunJob,
  jobId: string,
  globals: Record<string, unknown>,
  scratch: Scratch,
  run: RunChildJob,
): Promise<RunOutcome> {
  const parents = [...(ancestry.get(parent) ?? []), parent.job_id];
  const problem = nestingProblem(env, parents, jobId);
  if (problem) throw new JobError(problem);
  // Copy before the first await: the caller may change its globals while this child loads.
  const inherited = structuredClone(globals);
  const raw = await env.backend.config.get(env.realm.realm, 'jobs', jobId);
  if (!raw) throw new JobError(`child job "${jobId}" does not exist: add it with \`lava job put\` or fix the job id`);
  const spec = parseSpec('job', raw, jobId);
  if (spec.worker !== parent.worker) {
    throw new JobError(
      `child job "${jobId}" belongs to worker "${spec.worker}", not "${parent.worker}": children run on their parent's worker`,
    );
  }
  const own = structuredClone(spec);
  const start = parent.ts_start ? (parseIso(parent.ts_start) ?? new Date()) : new Date();
  const child: RunJob = {
    ...own,
    realm: parent.realm,
    run_id: parent.run_id,
    ts_dispatch: parent.ts_dispatch,
    parameters: own.parameters ?? {},
    state: own.state ?? {},
    globals: {
      ...(own.globals ?? {}),
      ...inherited,
      lava: {
        ...((inherited.lava as object | undefined) ?? {}),
        parent_job_id: parent.job_id,
        parent_start: start,
        parent_ustart: start,
      },
    },
  };
  ancestry.set(child, parents);
  return run(env, child, { scratch });
}
