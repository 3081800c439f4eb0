/**
 * foreach generators: each turns a `foreach` spec into a list of maps (one per iteration) that
 * are merged into the child's globals. Every generator stops after `max` values, so a huge
 * source costs no more than `limit + 1` values.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fsp from 'node:fs/promises';
import { blobStoreFor } from '../../backends/blob/index.js';
import { getConnection } from '../../connections/api.js';
import { JobError, errorMessage } from '../../core/errors.js';
import { fnmatchAny } from '../../core/fnmatch.js';
import { renderTemplate } from '../../template/index.js';
import { describe, isPlainObject } from '../orchestration.js';
import type { HandlerContext } from '../../run/handler.js';
import { parseCsvObjects } from './csv.js';

export type GeneratorValues = Record<string, unknown>[];

interface GeneratorDef {
  required: readonly string[];
  optional: readonly string[];
  /** Fields rendered with Jinja when `jinja` is on. */
  rendered: readonly string[];
  generate(spec: Record<string, unknown>, env: GeneratorEnv, max: number): Promise<GeneratorValues>;
}

interface GeneratorEnv {
  ctx: HandlerContext;
}

const GENERATORS: Record<string, GeneratorDef> = {
  range: {
    required: ['stop'],
    optional: ['start', 'step', 'name'],
    rendered: [],
    async generate(spec, _env, max) {
      const stop = intField(spec, 'stop', undefined);
      const start = intField(spec, 'start', 0);
      const step = intField(spec, 'step', 1);
      if (step === 0) throw new JobError('foreach range: step must not be 0');
      const name = spec.name;
      if (name !== undefined && name !== null && (typeof name !== 'string' || !name)) {
        throw new JobError(`foreach range: name must be a global name such as "n", not ${describe(name)}`);
      }
      const out: GeneratorValues = [];
      for (let n = start; (step > 0 ? n < stop : n > stop) && out.length < max; n += step) {
        out.push(typeof name === 'string' ? { [name]: n } : {});
      }
      return out;
    },
  },
  inline: {
    required: ['values'],
    optional: [],
    rendered: [],
    async generate(spec, _env, max) {
      const values = spec.values;
      if (!Array.isArray(values)) {
        throw new JobError(`foreach inline: values must be a list of maps, e.g. [{x: 1}, {x: 2}], not ${describe(values)}`);
      }
      return values.slice(0, max).map((v, i) => {
        if (!isPlainObject(v)) throw new JobError(`foreach inline: values item ${i + 1} must be a map, not ${describe(v)}`);
        return v;
      });
    },
  },
  jsonl: {
    required: ['filename'],
    optional: [],
    rendered: ['filename'],
    async generate(spec, env, max) {
      const filename = stringField(spec, 'filename', 'jsonl');
      const text = await readSource(env.ctx, filename, 'jsonl');
      const out: GeneratorValues = [];
      const lines = text.split(/\r?\n/);
      for (const [i, line] of lines.entries()) {
        if (out.length >= max) break;
        if (!line.trim()) continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (err) {
          throw new JobError(`foreach jsonl: ${filename} line ${i + 1} is not JSON: ${errorMessage(err)}`);
        }
        if (!isPlainObject(value)) {
          throw new JobError(`foreach jsonl: ${filename} line ${i + 1} must be a JSON object, not ${describe(value)}`);
        }
        out.push(value);
      }
      return out;
    },
  },
  csv: {
    required: ['filename'],
    optional: [],
    rendered: ['filename'],
    async generate(spec, env, max) {
      const filename = stringField(spec, 'filename', 'csv');
      const text = await readSource(env.ctx, filename, 'csv');
      return parseCsvObjects(text, { source: `foreach csv: ${filename}` }).slice(0, max);
    },
  },
  s3list: {
    required: ['bucket'],
    optional: ['prefix', 'glob'],
    rendered: ['bucket', 'prefix'],
    async generate(spec, _env, max) {
      const bucket = stringField(spec, 'bucket', 's3list');
      const prefix = spec.prefix === undefined || spec.prefix === null ? '' : spec.prefix;
      if (typeof prefix !== 'string') throw new JobError(`foreach s3list: prefix must be a string, not ${describe(prefix)}`);
      const glob = spec.glob;
      const globs = glob === undefined || glob === null ? undefined : typeof glob === 'string' ? [glob] : glob;
      if (globs !== undefined && (!Array.isArray(globs) || !globs.every((g): g is string => typeof g === 'string'))) {
        throw new JobError(
          `foreach s3list: glob must be a glob or a list of globs matched against object keys, not ${describe(glob)}`,
        );
      }
      const root = (bucket.includes('://') ? bucket : `s3://${bucket}`).replace(/\/+$/, '');
      const listing = await blobStoreFor(root).listRecursive(`${root}/${prefix.replace(/^\/+/, '')}`);
      const out: GeneratorValues = [];
      for (const info of listing) {
        if (out.length >= max) break;
        const key = keyOf(root, info.uri);
        if (globs && !fnmatchAny(key, globs)) continue;
        out.push({
          s3obj: {
            Bucket: bucket,
            Key: key,
            LastModified: info.modified,
            ETag: '',
            Size: info.size,
            StorageClass: 'STANDARD',
          },
        });
      }
      return out;
    },
  },
  query: {
    required: ['conn_id', 'query'],
    optional: [],
    // Never rendered, as upstream: the query is SQL, not a template.
    rendered: [],
    async generate(spec, env, max) {
      const connId = stringField(spec, 'conn_id', 'query');
      const sql = stringField(spec, 'query', 'query');
      const { ctx } = env;
      const client = await getConnection(connId, {
        backend: ctx.backend,
        realm: ctx.job.realm,
        config: ctx.config,
        jobId: ctx.job.job_id,
      });
      try {
        const result = await client.query(sql);
        return result.rows.slice(0, max).map((row) => ({ ...row }));
      } finally {
        await client.close();
      }
    },
  },
};

/**
 * Check the generator spec, render its fields and produce at most `max` values.
 * Every value must be a map without keys starting with "lava" (those are Lava's own globals).
 */
export async function generate(
  ctx: HandlerContext,
  spec: unknown,
  options: { jinja: boolean; max: number },
): Promise<GeneratorValues> {
  const types = Object.keys(GENERATORS).join(', ');
  if (!isPlainObject(spec)) {
    throw new JobError(
      `parameters.foreach must be a generator map such as {type: range, stop: 3}; types: ${types}; got ${describe(spec)}`,
    );
  }
  const type = spec.type;
  const def = typeof type === 'string' ? GENERATORS[type] : undefined;
  if (!def) throw new JobError(`parameters.foreach.type ${describe(type)} is not a generator type: use one of ${types}`);
  const allowed = ['type', ...def.required, ...def.optional];
  const unknown = Object.keys(spec).filter((k) => !allowed.includes(k));
  if (unknown.length) {
    throw new JobError(
      `parameters.foreach: unexpected field(s) ${unknown.join(', ')} for generator type ${type}: it takes ${allowed.join(', ')}`,
    );
  }
  const missing = def.required.filter((k) => spec[k] === undefined || spec[k] === null);
  if (missing.length) {
    throw new JobError(`parameters.foreach: generator type ${type} needs ${missing.join(', ')}`);
  }
  const rendered: Record<string, unknown> = { ...spec };
  if (options.jinja) {
    const tctx = ctx.templateContext();
    for (const field of def.rendered) {
      const v = spec[field];
      if (typeof v === 'string') rendered[field] = renderTemplate(v, tctx);
    }
  }
  const values = await def.generate(rendered, { ctx }, options.max);
  for (const [i, value] of values.entries()) {
    const bad = Object.keys(value).find((k) => k.startsWith('lava'));
    if (bad !== undefined) {
      throw new JobError(
        `foreach ${type}: value ${i + 1} has key "${bad}": keys starting with "lava" are reserved for Lava's own globals; rename it`,
      );
    }
  }
  return values;
}

function intField(spec: Record<string, unknown>, key: string, defaultValue: number | undefined): number {
  const v = spec[key];
  if ((v === undefined || v === null) && defaultValue !== undefined) return defaultValue;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw new JobError(`foreach range: ${key} must be a whole number, not ${describe(v)}`);
  return n;
}

function stringField(spec: Record<string, unknown>, key: string, type: string): string {
  const v = spec[key];
  if (typeof v !== 'string' || !v.trim()) {
    throw new JobError(`foreach ${type}: ${key} must be a non-empty string, not ${describe(v)}`);
  }
  return v.trim();
}

/** A local path (relative paths are in the run's scratch dir, where earlier chain steps write) or a URI. */
async function readSource(ctx: HandlerContext, filename: string, type: string): Promise<string> {
  try {
    if (filename.includes('://')) return (await blobStoreFor(filename).read(filename)).toString('utf8');
    return await fsp.readFile(path.resolve(ctx.scratch, filename), 'utf8');
  } catch (err) {
    if (err instanceof JobError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOENT'
        ? ': no such file (relative paths are in the run scratch dir; use an absolute path or a file:// URI)'
        : `: ${errorMessage(err)}`;
    throw new JobError(`foreach ${type}: cannot read ${filename}${hint}`);
  }
}

/** An object's key relative to the bucket root. */
function keyOf(root: string, uri: string): string {
  if (root.startsWith('file:')) {
    return path.relative(fileURLToPath(root), fileURLToPath(uri)).split(path.sep).join('/');
  }
  return uri.slice(root.length + 1);
}
