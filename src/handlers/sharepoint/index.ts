/**
 * The SharePoint job types (upstream §4.17): documents and lists of a SharePoint Online site over
 * Microsoft Graph, through a `sharepoint` connection (src/connections/connectors/sharepoint.ts).
 * Local files are relative to `basedir` (default: the run's scratch directory); `s3://` (and
 * `file://`) locations are staged through scratch.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Handler } from '../../run/handler.js';
import {
  COMMON_OPTIONAL,
  boolParam,
  fetchStored,
  isUri,
  listFormat,
  localPath,
  param,
  plain,
  staging,
  store,
  withSite,
  type SiteOptions,
} from './common.js';

const CSV_OPTIONS = ['delimiter', 'doublequote', 'escapechar', 'quotechar', 'quoting'] as const;

/** The five handlers; `o` is for tests (retry waits recorded instead of slept). */
export function makeSharepointHandlers(o: SiteOptions = {}): Handler[] {
  const getDoc: Handler = {
    type: 'sharepoint_get_doc',
    parameters: { required: ['conn_id', 'library', 'path', 'file'], optional: [...COMMON_OPTIONAL, 'kms_key_id'] },
    async run(ctx) {
      const docPath = param(ctx, 'path') as string;
      const library = param(ctx, 'library') as string;
      const file = param(ctx, 'file') as string;
      const local = isUri(file) ? staging(ctx, file) : localPath(ctx, file);
      await fsp.mkdir(path.dirname(local), { recursive: true });
      const title = await withSite(ctx, o, (site) => site.getDoc(library, docPath, local));
      if (isUri(file)) await store(ctx, local, file);
      return { exit_status: 0, title: title ?? null, source: docPath, destination: file, library };
    },
  };

  const getMultiDoc: Handler = {
    type: 'sharepoint_get_multi_doc',
    parameters: { required: ['conn_id', 'library', 'path', 'outpath'], optional: [...COMMON_OPTIONAL, 'glob', 'kms_key_id'] },
    async run(ctx) {
      const docPath = param(ctx, 'path') as string;
      const library = param(ctx, 'library') as string;
      const outpath = param(ctx, 'outpath') as string;
      const glob = param(ctx, 'glob', { optional: true }) || undefined;
      const local = isUri(outpath) ? staging(ctx, outpath) : localPath(ctx, outpath);
      await fsp.mkdir(local, { recursive: true });
      const files = await withSite(ctx, o, (site) => site.getMultiDoc(library, docPath, local, glob));
      // As upstream: each object is <outpath><name>, so end outpath with / for a folder.
      if (isUri(outpath)) for (const f of files) await store(ctx, path.join(local, f), `${outpath}${f}`);
      return { exit_status: 0, files, source: docPath, destination: outpath, library };
    },
  };

  const putDoc: Handler = {
    type: 'sharepoint_put_doc',
    parameters: { required: ['conn_id', 'library', 'path', 'file'], optional: [...COMMON_OPTIONAL, 'title'] },
    async run(ctx) {
      const docPath = param(ctx, 'path') as string;
      const library = param(ctx, 'library') as string;
      const file = param(ctx, 'file') as string;
      const title = param(ctx, 'title', { optional: true }) || undefined;
      const local = isUri(file) ? await fetchStored(ctx, file) : localPath(ctx, file);
      await withSite(ctx, o, (site) => site.putDoc(library, docPath, local, title));
      return { exit_status: 0, source: file, destination: docPath, library };
    },
  };

  const getList: Handler = {
    type: 'sharepoint_get_list',
    parameters: {
      required: ['conn_id', 'list', 'file'],
      optional: [...COMMON_OPTIONAL, 'kms_key_id', 'header', 'system_columns', 'data_columns', ...CSV_OPTIONS],
    },
    async run(ctx) {
      const list = param(ctx, 'list') as string;
      const file = param(ctx, 'file') as string;
      const format = listFormat(ctx);
      const local = isUri(file) ? staging(ctx, file) : localPath(ctx, file);
      await fsp.mkdir(path.dirname(local), { recursive: true });
      const systemColumns = plain(ctx, 'system_columns');
      const dataColumns = plain(ctx, 'data_columns');
      const n = await withSite(ctx, o, (site) =>
        site.getList(list, local, {
          header: boolParam(ctx, 'header', true),
          format,
          ...(systemColumns ? { systemColumns } : {}),
          ...(dataColumns ? { dataColumns } : {}),
        }),
      );
      if (isUri(file)) await store(ctx, local, file);
      return { exit_status: 0, row_count: n, source: list, destination: file };
    },
  };

  const putList: Handler = {
    type: 'sharepoint_put_list',
    parameters: {
      required: ['conn_id', 'list', 'file'],
      optional: [...COMMON_OPTIONAL, 'mode', 'error_missing', 'data_columns', ...CSV_OPTIONS],
    },
    async run(ctx) {
      const list = param(ctx, 'list') as string;
      const file = param(ctx, 'file') as string;
      const format = listFormat(ctx);
      const local = isUri(file) ? await fetchStored(ctx, file) : localPath(ctx, file);
      const dataColumns = plain(ctx, 'data_columns');
      const n = await withSite(ctx, o, (site) =>
        site.putList(list, local, {
          mode: plain(ctx, 'mode') ?? 'append',
          errorMissing: boolParam(ctx, 'error_missing', false),
          format,
          ...(dataColumns ? { dataColumns } : {}),
        }),
      );
      return { exit_status: 0, row_count: n, source: file, destination: list };
    },
  };

  return [getDoc, getMultiDoc, putDoc, getList, putList];
}

export const sharepointHandlers: readonly Handler[] = makeSharepointHandlers();
