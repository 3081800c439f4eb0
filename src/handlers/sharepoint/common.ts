/** What the SharePoint job types share: the site, rendering, local and stored file locations, CSV options. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { blobStoreFor } from '../../backends/blob/index.js';
import { JobError, errorMessage } from '../../core/errors.js';
import { parseBool } from '../../core/units.js';
import { SharepointSite } from '../../connections/connectors/sharepoint.js';
import { csvFormat, type CsvFormat } from '../../connections/csv.js';
import { resolveConnection } from '../../connections/resolve.js';
import { renderTemplate } from '../../template/index.js';
import type { HandlerContext } from '../../run/handler.js';
import { renderingOn, vars } from '../process-job.js';

/** Parameters every SharePoint type takes besides its own. */
export const COMMON_OPTIONAL = ['basedir', 'jinja', 'vars'] as const;

/** Options for opening the site: tests replace `sleep` so retries do not wait. */
export interface SiteOptions {
  sleep?: (seconds: number) => Promise<void>;
}

export async function openSite(ctx: HandlerContext, o: SiteOptions = {}): Promise<SharepointSite> {
  const connId = ctx.job.parameters.conn_id;
  if (typeof connId !== 'string' || !connId) throw new JobError('Bad job parameters: conn_id must be a connection id');
  const c = await resolveConnection(connId, {
    backend: ctx.backend,
    realm: ctx.job.realm,
    config: ctx.config,
    jobId: ctx.job.job_id,
  });
  const verbose = ctx.config.bool('SP_LOGGING');
  return SharepointSite.open(c, {
    ...(o.sleep ? { sleep: o.sleep } : {}),
    verbose,
    log: (m) =>
      m.includes('Throttled') || m.includes('connection failed') || m.includes('ignored')
        ? ctx.logger.warn(m)
        : ctx.logger.info(m),
  });
}

/** A string parameter, rendered unless `jinja` is false. */
export function param(ctx: HandlerContext, name: string, opts: { optional?: boolean } = {}): string | undefined {
  const v = ctx.job.parameters[name];
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw new JobError(`Bad job parameters: ${name} is required`);
  }
  if (typeof v !== 'string') throw new JobError(`Bad job parameters: ${name} must be a string`);
  return renderingOn(ctx) ? renderTemplate(v, ctx.templateContext(vars(ctx))) : v;
}

/** A plain (never rendered) string parameter. */
export function plain(ctx: HandlerContext, name: string): string | undefined {
  const v = ctx.job.parameters[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new JobError(`Bad job parameters: ${name} must be a string`);
  return v;
}

export function boolParam(ctx: HandlerContext, name: string, dflt: boolean): boolean {
  const v = ctx.job.parameters[name];
  return v === undefined ? dflt : parseBool(v, `parameters.${name}`);
}

/** A storage URI (s3:// or file://) rather than a local path. */
export const isUri = (s: string): boolean => /^(s3|file):\/\//.test(s);

/** Where a local file is: absolute as given, relative under `basedir` (default: the run's scratch). */
export function localPath(ctx: HandlerContext, file: string): string {
  if (path.isAbsolute(file)) return file;
  const basedir = plain(ctx, 'basedir') ?? ctx.scratch;
  return path.join(basedir, file);
}

/** A scratch file for staging a stored object. */
export function staging(ctx: HandlerContext, uri: string): string {
  const name = path.basename(uri.replace(/\/+$/, '')) || 'object';
  return path.join(ctx.scratch, name);
}

/** Upload a staged file to storage, with `kms_key_id` when given (else the store's default encryption). */
export async function store(ctx: HandlerContext, file: string, uri: string): Promise<void> {
  const kms = plain(ctx, 'kms_key_id');
  await blobStoreFor(uri, kms ? { s3Key: kms } : {}).upload(file, uri);
}

/** Fetch a stored object into scratch; returns the local file. */
export async function fetchStored(ctx: HandlerContext, uri: string): Promise<string> {
  const file = staging(ctx, uri);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await blobStoreFor(uri).download(uri, file);
  return file;
}

/** The CSV options of list files, over the SP_LIST_* defaults. */
export function listFormat(ctx: HandlerContext): CsvFormat {
  const p = ctx.job.parameters;
  const str = (name: string, key: 'SP_LIST_DELIMITER' | 'SP_LIST_ESCAPECHAR' | 'SP_LIST_QUOTECHAR' | 'SP_LIST_QUOTING') => {
    const v = p[name];
    if (v === undefined) return ctx.config.optStr(key) ?? null;
    if (v === null) return null;
    if (typeof v !== 'string') throw new JobError(`Bad job parameters: ${name} must be a string`);
    return v;
  };
  try {
    return csvFormat({
      delimiter: str('delimiter', 'SP_LIST_DELIMITER') ?? '|',
      escapechar: str('escapechar', 'SP_LIST_ESCAPECHAR'),
      quotechar: str('quotechar', 'SP_LIST_QUOTECHAR'),
      quoting: str('quoting', 'SP_LIST_QUOTING') ?? 'minimal',
      doublequote:
        p.doublequote === undefined ? ctx.config.bool('SP_LIST_DOUBLEQUOTE') : parseBool(p.doublequote, 'parameters.doublequote'),
    });
  } catch (err) {
    throw new JobError(`Bad job parameters: ${errorMessage(err)}`);
  }
}

/** Run `fn` on the open site, closing it after; SharePoint errors fail the run with their text. */
export async function withSite<T>(ctx: HandlerContext, o: SiteOptions, fn: (site: SharepointSite) => Promise<T>): Promise<T> {
  let site: SharepointSite;
  try {
    site = await openSite(ctx, o);
  } catch (err) {
    throw new JobError(`Connection ${String(ctx.job.parameters.conn_id)}: ${errorMessage(err)}`, undefined, { cause: err });
  }
  try {
    return await fn(site);
  } catch (err) {
    if (err instanceof JobError) throw err;
    throw new JobError(errorMessage(err), undefined, { cause: err });
  } finally {
    await site.close();
  }
}
