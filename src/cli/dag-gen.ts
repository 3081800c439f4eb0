/**
 * `lava dag-gen` (upstream lava-dag-gen): build a dag job payload from a dependency matrix (CSV or XLSX),
 * a table in a SQLite file, or a table reached through a lava database connection; or print the
 * batches in which its jobs can run.
 *
 * Matrix layout: the first row is a blank cell, then predecessor names; every later row is a job,
 * then one cell per predecessor column. A non-empty cell means "the row's job waits for the
 * column's job". Tables have columns `job_group, job, depends_on`: one row per dependency, and a
 * NULL `depends_on` for a job with none.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { getConnection } from '../connections/api.js';
import { ValidationError, errorMessage } from '../core/errors.js';
import { assertAcyclic, buildGraph, type Graph } from '../handlers/dag/graph.js';
import { parseCsv } from '../handlers/foreach/csv.js';
import { withBackend, type GlobalOptions } from './context.js';
import { readXlsxSheet } from './xlsx.js';

/** job → the set of jobs it waits for, in the order the source lists the jobs. */
export type Dag = Map<string, Set<string>>;

export const DEFAULT_TABLE = 'dag';

/**
 * The dag of a matrix, as upstream reads it: every row with a job name is a job (also with no
 * marks); a column job that has no row of its own is only a predecessor; a job marked as waiting
 * for itself is not.
 */
export function matrixToDag(csvText: string, source = 'matrix'): Dag {
  return matrixRowsToDag(parseCsv(csvText, { source }), source);
}

/** The dag of a matrix already split into rows of cells (a CSV file or an XLSX worksheet). */
export function matrixRowsToDag(rows: readonly (readonly string[])[], source = 'matrix'): Dag {
  const [header, ...body] = rows;
  if (!header || header.length < 2) {
    throw new ValidationError(
      `${source}: the first row must be a blank cell followed by the predecessor job names (one per column)`,
    );
  }
  const columns = header.slice(1).map((c) => c.trim());
  const dag: Dag = new Map();
  body.forEach((row, r) => {
    const job = (row[0] ?? '').trim();
    const cells = row.slice(1);
    if (!job) {
      if (cells.some((c) => c.trim())) throw new ValidationError(`${source}: row ${r + 2} has dependencies but no job name`);
      return;
    }
    if (!dag.has(job)) dag.set(job, new Set());
    const deps = dag.get(job) as Set<string>;
    cells.forEach((cell, i) => {
      if (!cell.trim()) return;
      const pred = columns[i];
      if (pred === undefined)
        throw new ValidationError(`${source}: row ${r + 2} (${job}) has more cells than there are predecessor columns`);
      if (!pred)
        throw new ValidationError(`${source}: column ${i + 2} of the first row has no job name, but row ${r + 2} marks it`);
      if (pred !== job) deps.add(pred);
    });
  });
  return dag;
}

/** The dag of `job, depends_on` rows (NULL or empty `depends_on`: no dependency; a job waiting for itself: ignored). */
export function rowsToDag(rows: Iterable<{ job: unknown; depends_on: unknown }>): Dag {
  const dag: Dag = new Map();
  for (const row of rows) {
    const job = typeof row.job === 'string' ? row.job.trim() : row.job == null ? '' : String(row.job);
    if (!job) continue;
    if (!dag.has(job)) dag.set(job, new Set());
    const dep = typeof row.depends_on === 'string' ? row.depends_on.trim() : row.depends_on == null ? '' : String(row.depends_on);
    if (dep && dep !== job) (dag.get(job) as Set<string>).add(dep);
  }
  return dag;
}

/** The query of a table source; the table and group are checked as upstream checks them. */
export function tableQuery(table: string, group?: string): { sql: string; params: string[] } {
  if (!/^(\w+\.)?\w+$/.test(table))
    throw new ValidationError(`--table ${table}: use a table name (letters, digits, _), optionally schema.table`);
  if (group !== undefined && !/^\w+$/.test(group))
    throw new ValidationError(`-g ${group}: only letters, digits and _ are allowed`);
  return group === undefined
    ? { sql: `SELECT job, depends_on FROM ${table}`, params: [] }
    : { sql: `SELECT job, depends_on FROM ${table} WHERE job_group = ?`, params: [group] };
}

export function sqliteDag(file: string, table = DEFAULT_TABLE, group?: string): Dag {
  const { sql, params } = tableQuery(table, group);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new ValidationError(`cannot open ${file}: ${errorMessage(err)}`);
  }
  try {
    return rowsToDag(db.prepare(sql).all(...params) as { job: unknown; depends_on: unknown }[]);
  } catch (err) {
    throw new ValidationError(`${file}: ${errorMessage(err)} (the table needs columns job_group, job, depends_on)`);
  } finally {
    db.close();
  }
}

function graphOf(dag: Dag): Graph {
  try {
    const graph = buildGraph(Object.fromEntries([...dag].map(([job, deps]) => [job, [...deps]])));
    assertAcyclic(graph, 'dependency matrix');
    return graph;
  } catch (err) {
    throw new ValidationError(errorMessage(err));
  }
}

/** The batches in which the jobs can run: each job after all it waits for; sorted within a batch. */
export function dagBatches(dag: Dag): string[][] {
  const graph = graphOf(dag);
  const waiting = new Map(graph.nodes.map((n) => [n, (graph.predecessors.get(n) as string[]).length]));
  const batches: string[][] = [];
  let ready = graph.nodes.filter((n) => waiting.get(n) === 0).sort();
  while (ready.length) {
    batches.push(ready);
    const next: string[] = [];
    for (const job of ready) {
      for (const s of graph.successors.get(job) as string[]) {
        const left = (waiting.get(s) as number) - 1;
        waiting.set(s, left);
        if (left === 0) next.push(s);
      }
    }
    ready = next.sort();
  }
  return batches;
}

/**
 * The payload upstream prints: every job of the source with its sorted predecessors. Compact: a
 * job others wait for that waits for nothing is left out (it is still a node, as a predecessor),
 * one with no predecessors is `null`, one with one is a string.
 */
export function dagPayload(dag: Dag, o: { compact?: boolean; prefix?: string } = {}): Record<string, unknown> {
  const prefix = o.prefix ?? '';
  const named = new Set([...dag.values()].flatMap((s) => [...s]));
  const out: Record<string, unknown> = {};
  for (const job of [...dag.keys()].sort()) {
    const deps = [...(dag.get(job) as Set<string>)].sort().map((d) => prefix + d);
    if (!o.compact) out[prefix + job] = deps;
    else if (!deps.length) {
      if (!named.has(job)) out[prefix + job] = null;
    } else out[prefix + job] = deps.length === 1 ? deps[0] : deps;
  }
  return out;
}

function sortKeys(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

/** Read a source: `.csv`, `.xlsx`, `.sqlite`/`.sqlite3`, or else a lava database connection id. */
export async function loadDag(source: string, o: { group?: string; table?: string }, g?: GlobalOptions): Promise<Dag> {
  const lower = source.toLowerCase();
  if (lower.endsWith('.csv')) {
    let text: string;
    try {
      text = fs.readFileSync(source, 'utf8');
    } catch (err) {
      throw new ValidationError(`cannot read ${source}: ${errorMessage(err)}`);
    }
    return matrixToDag(text, source);
  }
  // -g names the worksheet of a workbook (default: the first), as upstream.
  if (lower.endsWith('.xlsx')) return matrixRowsToDag(await readXlsxSheet(source, o.group), source);
  if (lower.endsWith('.sqlite') || lower.endsWith('.sqlite3')) return sqliteDag(source, o.table, o.group);
  const { sql, params } = tableQuery(o.table ?? DEFAULT_TABLE, o.group);
  return withBackend(g ?? {}, async (backend) => {
    const client = await getConnection(source, { backend, ...(g?.realm ? { realm: g.realm } : {}) });
    try {
      const result = await client.query<{ job: unknown; depends_on: unknown }>(sql, params);
      return rowsToDag(result.rows);
    } finally {
      await client.close();
    }
  });
}

export interface DagGenFlags {
  group?: string;
  table: string;
  prefix: string;
  compact?: boolean;
  order?: boolean;
  wrap?: string;
  yaml?: boolean;
}

/** What `lava dag-gen` prints for a dag. */
export function dagGenOutput(dag: Dag, o: DagGenFlags): string {
  if (!dag.size) throw new ValidationError('DAG is empty: the source has no jobs');
  if (o.order) {
    return dagBatches(dag)
      .map((batch, i) => `Batch ${i + 1}\n${batch.map((job) => `  - ${o.prefix}${job}\n`).join('')}`)
      .join('');
  }
  graphOf(dag); // refuse a cycle
  let payload: unknown = dagPayload(dag, { compact: o.compact, prefix: o.prefix });
  if (o.wrap) payload = { [o.wrap]: payload };
  return o.yaml ? stringify(sortKeys(payload), { indent: 2 }) : JSON.stringify(sortKeys(payload), null, 4) + '\n';
}

export function registerDagGen(program: Command, g?: () => GlobalOptions): void {
  program
    .command('dag-gen')
    .argument(
      '<source>',
      'a dependency matrix (.csv or .xlsx), a SQLite file (.sqlite, .sqlite3), or a lava database connection id',
    )
    .description(
      'build a dag job payload from a dependency matrix or table (a non-empty cell = the row job waits for the column job)',
    )
    .option('-g, --group <group>', 'tables: only rows whose job_group is this (default: all)')
    .option('--table <table>', 'tables: the table to read', DEFAULT_TABLE)
    .option('-p, --prefix <prefix>', 'prepend this to every job name', '')
    .option(
      '-c, --compact',
      'compact form: null for no predecessors, a string for one, and leave out jobs that only others wait for',
    )
    .option('-o, --order', 'print the batches in which the jobs can run instead of the payload')
    .option('-w, --wrap <key>', 'wrap the payload in a map under this key')
    .option('-y, --yaml', 'print YAML instead of JSON')
    .addHelpText(
      'after',
      `
Example matrix (load waits for extract_a and extract_b; report waits for load):
  ,extract_a,extract_b,load
  load,x,x,
  report,,,x`,
    )
    .action(async (source: string, o: DagGenFlags) => {
      const dag = await loadDag(source, o, g?.());
      process.stdout.write(dagGenOutput(dag, o));
    });
}
