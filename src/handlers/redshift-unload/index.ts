/**
 * redshift_unload: UNLOAD one or more relations of a Redshift schema to S3, one statement each, over
 * the job's redshift connection (the PostgreSQL wire protocol). Redshift itself writes the S3
 * objects, with an IAM role (`s3_iam_role`) or the keys of an aws connection (`s3_conn_id`).
 *
 * The statement text follows upstream exactly (statement.ts); the credentials go only into the text
 * sent to the server: the result's `sql` holds the `{authorization}` placeholder instead, and error
 * texts are redacted.
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import { JobError, errorMessage } from '../../core/errors.js';
import { loadOptional } from '../../core/optional.js';
import { parseBool } from '../../core/units.js';
import { s3ClientConfig } from '../../backends/blob/s3.js';
import { openResolved } from '../../connections/api.js';
import { awsClientConfig } from '../../connections/connectors/aws.js';
import { redact } from '../../connections/errors.js';
import { resolveConnection } from '../../connections/resolve.js';
import type { DbClient, ResolvedConnection } from '../../connections/types.js';
import { renderTemplate } from '../../template/index.js';
import type { Handler, HandlerContext, JobResult } from '../../run/handler.js';
import { vars } from '../process-job.js';
import { checkBucketSecurity } from './bucket-security.js';
import {
  COLUMNS_QUERY,
  authorizationClause,
  badKeywords,
  loggable,
  partitionByColumns,
  partitionQuery,
  partitionSource,
  selector,
  splitOption,
  unloadTemplate,
  withAuthorization,
  type S3Authorization,
} from './statement.js';

export * from './statement.js';

interface Unload {
  schema: string;
  relation: string;
  bucket: string;
  prefix: string;
  ts_start: string;
  ts_finish?: string;
  duration?: number;
  status?: 'complete' | 'failed';
  sql?: string;
  error?: string;
}

/** What the unloads need besides the job: an open connection and the credentials. */
export interface UnloadSession {
  db: DbClient;
  auth: S3Authorization;
}

function stringParam(v: unknown, name: string): string {
  if (typeof v !== 'string' || !v) throw new JobError(`Bad job parameters: ${name} must be a non-empty string`);
  return v;
}

/** No quotes in names that end up inside UNLOAD's quoted query (they would break out of it). */
function plainName(v: string, name: string): string {
  if (/['"\\]/.test(v))
    throw new JobError(`Bad job parameters: ${name} ${JSON.stringify(v)} must not contain quotes or backslashes`);
  return v;
}

/** The credentials: the role when given, else the aws connection's keys (resolved like the SDK does). */
async function s3Authorization(ctx: HandlerContext): Promise<S3Authorization> {
  const p = ctx.job.parameters;
  if (p.s3_iam_role !== undefined) return { iamRole: stringParam(p.s3_iam_role, 's3_iam_role') };
  if (p.s3_conn_id === undefined) throw new JobError('At least one of s3_iam_role and s3_conn_id is required');
  const c = await resolveConnection(stringParam(p.s3_conn_id, 's3_conn_id'), {
    backend: ctx.backend,
    realm: ctx.job.realm,
    config: ctx.config,
    jobId: ctx.job.job_id,
  });
  const cfg = awsClientConfig(c);
  let creds = cfg.credentials;
  if (!creds) {
    const sdk = await loadOptional<typeof S3Sdk>('@aws-sdk/client-s3', 'redshift_unload with s3_conn_id');
    const client = new sdk.S3Client({ ...s3ClientConfig(), ...cfg });
    try {
      creds = await client.config.credentials();
    } finally {
      client.destroy();
    }
  }
  return { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken };
}

/**
 * The handler, opening its database session with `open` (tests pass one that records what is sent,
 * since no Redshift can run here).
 */
export function makeRedshiftUnloadHandler(open: (c: ResolvedConnection) => Promise<DbClient> = openResolved): Handler {
  return {
    type: 'redshift_unload',
    parameters: {
      required: ['conn_id', 'bucket', 'schema', 'relation', 'args'],
      optional: [
        'dateformat',
        'insecure',
        's3_conn_id',
        's3_iam_role',
        'vars',
        'prefix',
        'stop_on_fail',
        'start',
        'where',
        'key',
      ],
    },
    async run(ctx) {
      const p = ctx.job.parameters;
      checkUnloadParameters(p);
      const bucket = plainName(stringParam(p.bucket, 'bucket'), 'bucket');
      const auth = await s3Authorization(ctx);
      if (!(p.insecure === undefined ? false : parseBool(p.insecure, 'parameters.insecure'))) {
        try {
          await checkBucketSecurity(bucket);
        } catch (err) {
          throw new JobError(`Bucket ${bucket} is insecure: ${errorMessage(err)}`);
        }
      } else {
        ctx.logger.warn(`${ctx.job.realm}@${ctx.job.job_id}: Possible insecure redshift_unload`);
      }
      const c = await resolveConnection(stringParam(p.conn_id, 'conn_id'), {
        backend: ctx.backend,
        realm: ctx.job.realm,
        config: ctx.config,
        jobId: ctx.job.job_id,
      });
      if (c.connector.dialect !== 'redshift') {
        throw new JobError(
          `conn_id "${c.connId}" is a ${c.type} connection: redshift_unload needs a redshift or redshift-serverless one`,
        );
      }
      const db = await open(c);
      try {
        return await runUnloads(ctx, { db, auth });
      } finally {
        await db.close();
      }
    },
  };
}

export const redshiftUnloadHandler: Handler = makeRedshiftUnloadHandler();

/** The parameter checks upstream makes before it connects (also run by `runUnloads`). */
export function checkUnloadParameters(p: Record<string, unknown>): { prefix: string; args: string[] } {
  const prefix = p.prefix ?? p.key;
  if (!prefix) throw new JobError('Bad job parameters: prefix is required');
  if (typeof prefix !== 'string') throw new JobError('Bad job parameters: prefix must be a string');
  const args = p.args;
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string' && a.trim())) {
    throw new JobError('Bad job parameters: args must be a list of UNLOAD options, e.g. ["FORMAT PARQUET", "ALLOWOVERWRITE"]');
  }
  const bad = badKeywords(args as string[]);
  if (bad.length) throw new JobError(`Invalid UNLOAD arguments: ${bad.join(', ')}`);
  return { prefix, args: args as string[] };
}

/** The unloads over an open session (the handler's second half). */
export async function runUnloads(ctx: HandlerContext, s: UnloadSession): Promise<JobResult> {
  const p = ctx.job.parameters;
  const { prefix, args } = checkUnloadParameters(p);
  if (p.key !== undefined) {
    ctx.logger.warn(`${ctx.job.job_id}: Deprecation warning: key parameter should be replaced by prefix`);
  }
  const stopOnFail = p.stop_on_fail === undefined ? true : parseBool(p.stop_on_fail, 'parameters.stop_on_fail');
  const bucket = plainName(stringParam(p.bucket, 'bucket'), 'bucket');
  const schema = plainName(stringParam(p.schema, 'schema'), 'schema');
  const relations = typeof p.relation === 'string' ? [p.relation] : p.relation;
  if (!Array.isArray(relations) || !relations.every((r) => typeof r === 'string' && r)) {
    throw new JobError('Bad job parameters: relation must be a relation name or a list of them');
  }
  const start = p.start === undefined || p.start === null || p.start === '' ? undefined : String(p.start);
  const whereP = p.where === undefined || p.where === null || p.where === '' ? undefined : String(p.where);
  const dateformat =
    p.dateformat === undefined || p.dateformat === null || p.dateformat === '' ? undefined : String(p.dateformat);
  if (dateformat?.includes("'")) throw new JobError('Bad job parameters: dateformat must not contain quotes');
  const secrets = [s.auth.accessKeyId, s.auth.secretAccessKey, s.auth.sessionToken].filter((v): v is string => !!v);
  const clean = (err: unknown) => redact(errorMessage(err), secrets);
  const vs = vars(ctx);

  const result: { exit_status: number; unloads: Unload[]; error?: string; failures?: string[] } = {
    exit_status: 0,
    unloads: [],
  };
  const failures: string[] = [];
  let started = false;
  try {
    for (const relation of relations as string[]) {
      const tctx = { ...ctx.templateContext(vs), schema, relation };
      if (start && !started && relation.toLowerCase() !== start) continue;
      started = true;
      const t0 = new Date();
      const where = whereP ? renderTemplate(whereP, tctx) : whereP;
      const task: Unload = { schema, relation, bucket, prefix, ts_start: t0.toISOString() };
      try {
        task.prefix = renderTemplate(prefix, tctx);
        if (task.prefix.includes("'")) throw new Error('Single quote not allowed in S3 prefix');
      } catch (err) {
        throw new JobError(`Bad prefix parameter: ${errorMessage(err)}`);
      }
      try {
        plainName(relation, 'relation');
        let columns: Array<[string, string]> | undefined;
        if (dateformat) {
          const r = await s.db.query(COLUMNS_QUERY, [schema, relation]);
          if (!r.rows.length) throw new Error(`Cannot get column info for ${schema}.${relation}`);
          const [nameCol, typeCol] = r.columns as [string, string];
          columns = r.rows.map((row) => [String(row[nameCol]), String(row[typeCol])]);
        }
        const options: string[] = [];
        for (const opt of args) options.push(await unloadOption(s.db, opt, schema, relation, tctx));
        const template = unloadTemplate({
          selector: selector(columns, dateformat),
          schema,
          relation,
          bucket,
          prefix: task.prefix,
          where,
          options,
        });
        await s.db.query(withAuthorization(template, authorizationClause(s.auth)));
        task.sql = loggable(template);
      } catch (err) {
        task.status = 'failed';
        task.error = clean(err);
        result.unloads.push(task);
        if (stopOnFail) throw new Error(task.error, { cause: err });
        ctx.logger.warn({ relation }, `Unload of ${schema}.${relation} failed: ${task.error}`);
        failures.push(relation);
        continue;
      }
      const t1 = new Date();
      task.ts_finish = t1.toISOString();
      task.duration = Math.round((t1.getTime() - t0.getTime()) / 1000);
      task.status = 'complete';
      result.unloads.push(task);
    }
  } catch (err) {
    result.exit_status = 1;
    result.error = clean(err);
    throw new JobError(`Unload failed: ${result.error}`, result);
  }
  if (failures.length) {
    result.failures = failures;
    throw new JobError(`${failures.length} unloads failed`, result);
  }
  if (!result.unloads.length) throw new JobError('No unloads were attempted', start ? { start } : undefined);
  return result;
}

/** One UNLOAD option as sent: PARTITION BY @schema.rel looked up, other PARTITION text rendered. */
async function unloadOption(
  db: DbClient,
  opt: string,
  schema: string,
  relation: string,
  tctx: Record<string, unknown>,
): Promise<string> {
  if (splitOption(opt)[0].toUpperCase() !== 'PARTITION') return opt;
  const source = partitionSource(opt);
  if (!source) return renderTemplate(opt, tctx);
  const where = `${source.schema}.${source.relation} for ${schema}.${relation}`;
  let rows;
  try {
    rows = await db.query(partitionQuery(source), [schema.toLowerCase(), relation.toLowerCase()]);
  } catch (err) {
    throw new Error(`Cannot get partition info from ${where}: ${errorMessage(err)}`);
  }
  const first = rows.rows[0];
  if (!first) throw new Error(`Cannot get partition info from ${where}: Not found`);
  return partitionByColumns(String(first[rows.columns[0] as string]));
}
