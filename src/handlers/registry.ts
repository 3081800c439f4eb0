/** Job types by name. Adding a job type is one folder exporting a Handler, listed here. */
import { chainHandler, chainSpecProblems } from './chain/index.js';
import { cmdHandler } from './cmd/index.js';
import { dagHandler, dagSpecProblems } from './dag/index.js';
import { dbFromS3Handler } from './db-from-s3/index.js';
import { batchHandler } from './batch/index.js';
import { dockerHandler } from './docker/index.js';
import { dispatchHandler } from './dispatch/index.js';
import { exeHandler } from './exe/index.js';
import { foreachHandler, foreachSpecProblems } from './foreach/index.js';
import { lavaschedHandler } from './lavasched/index.js';
import { logHandler } from './log/index.js';
import { pkgHandler } from './pkg/index.js';
import { smbGetHandler, smbPutHandler } from './smb/index.js';
import { redshiftUnloadHandler } from './redshift-unload/index.js';
import { sharepointHandlers } from './sharepoint/index.js';
import { sqlHandler } from './sql/index.js';
import { sqlcHandler } from './sqlc/index.js';
import { sqliHandler } from './sqli/index.js';
import { sqlvHandler } from './sqlv/index.js';
// Declares the job types' configuration keys.
import './config-keys.js';
import { isPlainObject } from './orchestration.js';
import { parameterKeys } from '../run/checks.js';
import type { Handler, HandlerRegistry } from '../run/handler.js';

export type { HandlerRegistry };

export function builtinHandlers(): Map<string, Handler> {
  return new Map(
    [
      cmdHandler,
      exeHandler,
      pkgHandler,
      logHandler,
      chainHandler,
      dagHandler,
      foreachHandler,
      dispatchHandler,
      lavaschedHandler,
      sqlHandler,
      sqliHandler,
      sqlcHandler,
      sqlvHandler,
      dbFromS3Handler,
      batchHandler,
      dockerHandler,
      smbGetHandler,
      smbPutHandler,
      redshiftUnloadHandler,
      ...sharepointHandlers,
    ].map((h) => [h.type, h]),
  );
}

/** Upstream Lava job types this build does not have yet: a spec may name them, no worker here runs them. */
export const UPSTREAM_ONLY_TYPES: readonly string[] = [];

/** Checks of a type's payload that need no run: shapes that can never run, and self-reference. */
const SPEC_PROBLEMS: Readonly<Record<string, (spec: Record<string, unknown>) => string[]>> = {
  chain: chainSpecProblems,
  dag: dagSpecProblems,
  foreach: foreachSpecProblems,
};

export interface TypeCheck {
  errors: string[];
  warnings: string[];
}

/**
 * What only the job types know about a job spec, for `lava check` and `lava job put`: the type
 * exists in this build, the spec's parameter keys are ones the type takes (the same declaration
 * the worker checks at run time), and an orchestration job does not run itself. Missing required
 * parameters are only a warning: dispatch may supply them.
 */
export function checkJobType(spec: Record<string, unknown>, handlers: HandlerRegistry = builtinHandlers()): TypeCheck {
  const result: TypeCheck = { errors: [], warnings: [] };
  const type = spec.type;
  if (typeof type !== 'string' || !type) return result; // the schema reports it
  const known = [...handlers.keys()].sort();
  const handler = handlers.get(type);
  if (!handler) {
    if (UPSTREAM_ONLY_TYPES.includes(type)) {
      result.errors.push(
        `type: "${type}" is a Lava job type this build does not support yet, so no worker here can run it: use one of ${known.join(', ')}`,
      );
    } else {
      const near = closest(type, [...known, ...UPSTREAM_ONLY_TYPES]);
      result.errors.push(
        `type: unknown job type "${type}"${near ? ` (did you mean "${near}"?)` : ''}: use one of ${known.join(', ')}`,
      );
    }
    return result;
  }
  const params = spec.parameters;
  if (handler.parameters && isPlainObject(params)) {
    const { allowed, unexpected, missing } = parameterKeys(handler.parameters, params);
    const takes = allowed.join(', ') || 'no parameters';
    if (unexpected.length) {
      result.errors.push(
        `parameters: ${type} jobs do not take ${unexpected.join(', ')}: remove ${unexpected.length > 1 ? 'them' : 'it'}; ${type} jobs take ${takes}`,
      );
    }
    for (const k of missing) {
      result.warnings.push(
        `parameters.${k}: missing: ${type} jobs need it, so give it at every dispatch (-p ${k}=…) or add it here`,
      );
    }
  } else if (handler.parameters?.required?.length && (params === undefined || params === null)) {
    const missing = handler.parameters.required.join(', ');
    result.warnings.push(`parameters: missing: ${type} jobs need ${missing}, so give them at every dispatch or add them here`);
  }
  result.errors.push(...(SPEC_PROBLEMS[type]?.(spec) ?? []));
  return result;
}

/** The name nearest to `word` within two edits, for "did you mean". */
function closest(word: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = editDistance(word.toLowerCase(), name.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] as number;
}
