/**
 * `lava dag-gen`: turn a dependency matrix (CSV) into a dag job payload, or print one order in
 * which the jobs can run.
 *
 * Matrix layout: the first row is a blank cell, then predecessor names; every later row is a
 * successor name, then one cell per predecessor column. A non-empty cell means "the row's job
 * waits for the column's job".
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ValidationError, errorMessage } from '../core/errors.js';
import { assertAcyclic, buildGraph, topologicalOrder, type Graph } from '../handlers/dag/graph.js';
import { parseCsv } from '../handlers/foreach/csv.js';

export interface DagGenOptions {
  prefix?: string;
}

/**
 * The dag payload of a matrix: every job named in the matrix is a key (sorted), with the sorted
 * list of its predecessors (`[]` for none).
 */
export function matrixToDag(csvText: string, options: DagGenOptions = {}, source = 'matrix'): Record<string, string[]> {
  const rows = parseCsv(csvText, { source });
  const [header, ...body] = rows;
  if (!header || header.length < 2) {
    throw new ValidationError(
      `${source}: the first row must be a blank cell followed by the predecessor job names (one per column)`,
    );
  }
  const prefix = options.prefix ?? '';
  const columns = header.slice(1).map((c) => c.trim());
  columns.forEach((c, i) => {
    if (!c) throw new ValidationError(`${source}: column ${i + 2} of the first row has no job name`);
  });
  const deps = new Map<string, Set<string>>();
  const add = (job: string) => {
    if (!deps.has(prefix + job)) deps.set(prefix + job, new Set());
    return deps.get(prefix + job) as Set<string>;
  };
  for (const c of columns) add(c);
  body.forEach((row, r) => {
    const job = (row[0] ?? '').trim();
    const cells = row.slice(1);
    if (!job) {
      if (cells.some((c) => c.trim())) throw new ValidationError(`${source}: row ${r + 2} has dependencies but no job name`);
      return;
    }
    if (cells.length > columns.length && cells.slice(columns.length).some((c) => c.trim())) {
      throw new ValidationError(`${source}: row ${r + 2} (${job}) has more cells than there are predecessor columns`);
    }
    const set = add(job);
    cells.forEach((cell, i) => {
      if (cell.trim()) set.add(prefix + (columns[i] as string));
    });
  });
  const out: Record<string, string[]> = {};
  for (const job of [...deps.keys()].sort()) out[job] = [...(deps.get(job) as Set<string>)].sort();
  return out;
}

function graphOf(dag: Record<string, string[]>): Graph {
  try {
    const graph = buildGraph(dag);
    assertAcyclic(graph, 'dependency matrix');
    return graph;
  } catch (err) {
    throw new ValidationError(errorMessage(err));
  }
}

/** One order in which the jobs can run (alphabetical among jobs ready together). */
export function dagOrder(dag: Record<string, string[]>): string[] {
  return topologicalOrder(graphOf(dag));
}

export function registerDagGen(program: Command): void {
  program
    .command('dag-gen')
    .argument('<file>', 'dependency matrix CSV: first row blank then predecessors; each row a job then its cells')
    .description('build a dag job payload from a dependency matrix (a non-empty cell = the row job waits for the column job)')
    .option('-p, --prefix <prefix>', 'prepend this to every job name', '')
    .option('-c, --compact', 'print JSON on one line')
    .option('-o, --order', 'print one valid run order (one job per line) instead of the payload')
    .option('-y, --yaml', 'print YAML instead of JSON')
    .addHelpText(
      'after',
      `
Example matrix (load waits for extract_a and extract_b; report waits for load):
  ,extract_a,extract_b,load
  load,x,x,
  report,,,x`,
    )
    .action((file: string, o: { prefix: string; compact?: boolean; order?: boolean; yaml?: boolean }) => {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new ValidationError(`cannot read ${file}: ${errorMessage(err)}`);
      }
      let dag: Record<string, string[]>;
      try {
        dag = matrixToDag(text, { prefix: o.prefix }, file);
      } catch (err) {
        throw new ValidationError(errorMessage(err));
      }
      if (o.order) {
        const order = dagOrder(dag);
        process.stdout.write(o.yaml ? stringify(order) : o.compact ? JSON.stringify(order) + '\n' : order.join('\n') + '\n');
        return;
      }
      graphOf(dag); // refuse a matrix with a cycle
      if (o.yaml) process.stdout.write(stringify(dag, o.compact ? { collectionStyle: 'flow' } : undefined));
      else process.stdout.write(JSON.stringify(dag, null, o.compact ? undefined : 2) + '\n');
    });
}
