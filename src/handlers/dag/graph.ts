/**
 * Dependency graphs of dag payloads: `{job: predecessor | [predecessors] | null | []}`. Every job
 * named anywhere (as a key or as a predecessor) is a node. Shared by the dag job type and
 * `lava dag-gen`.
 */
import { JobError } from '../../core/errors.js';
import { describe, isPlainObject } from '../orchestration.js';

export interface Graph {
  /** Every job, in order of first appearance in the payload. */
  nodes: string[];
  /** job → its predecessors (distinct, in payload order). */
  predecessors: Map<string, string[]>;
  /** job → the jobs that wait for it. */
  successors: Map<string, string[]>;
}

/** Build the graph of a dag payload, with `prefix` prepended to every job id. */
export function buildGraph(payload: unknown, prefix = ''): Graph {
  if (!isPlainObject(payload)) {
    throw new JobError(
      `dag job payload must be a map of job → predecessor(s), e.g. {load: [extract_a, extract_b], report: load, extract_a: null}; got ${describe(payload)}`,
    );
  }
  const nodes: string[] = [];
  const predecessors = new Map<string, string[]>();
  const successors = new Map<string, string[]>();
  const add = (id: string): void => {
    if (!predecessors.has(id)) {
      nodes.push(id);
      predecessors.set(id, []);
      successors.set(id, []);
    }
  };
  for (const [rawJob, value] of Object.entries(payload)) {
    const job = rawJob.trim();
    if (!job) throw new JobError('dag job payload has an empty job id as a key: remove it');
    add(prefix + job);
    let preds: unknown[];
    if (value === null || value === undefined) preds = [];
    else if (typeof value === 'string') preds = [value];
    else if (Array.isArray(value)) preds = value;
    else {
      throw new JobError(
        `dag job payload: predecessors of "${job}" must be a job id, a list of job ids or null, not ${describe(value)}`,
      );
    }
    for (const p of preds) {
      if (typeof p !== 'string' || !p.trim()) {
        throw new JobError(`dag job payload: a predecessor of "${job}" is ${describe(p)}: use a job id string`);
      }
      const pred = prefix + p.trim();
      add(pred);
      const list = predecessors.get(prefix + job) as string[];
      if (!list.includes(pred)) {
        list.push(pred);
        (successors.get(pred) as string[]).push(prefix + job);
      }
    }
  }
  return { nodes, predecessors, successors };
}

/** One cycle as a path that returns to its first job (`[a, b, a]`), or undefined when there is none. */
export function findCycle(graph: Graph): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.successors.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (s === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.nodes) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

/** Throw a JobError naming the jobs of a cycle, if there is one. */
export function assertAcyclic(graph: Graph, what = 'dag job payload'): void {
  const cycle = findCycle(graph);
  if (cycle) {
    throw new JobError(
      `${what} has a dependency cycle: ${cycle.join(' → ')}: a job cannot wait for itself; remove one of these dependencies`,
      { cycle: [...new Set(cycle)] },
    );
  }
}

/** A topological order; among jobs that are ready together, the earlier in `graph.nodes` goes first. */
export function topologicalOrder(graph: Graph): string[] {
  assertAcyclic(graph);
  const waiting = new Map(graph.nodes.map((n) => [n, (graph.predecessors.get(n) ?? []).length]));
  const rank = new Map(graph.nodes.map((n, i) => [n, i]));
  const ready = graph.nodes.filter((n) => waiting.get(n) === 0);
  const order: string[] = [];
  while (ready.length) {
    ready.sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
    const node = ready.shift() as string;
    order.push(node);
    for (const next of graph.successors.get(node) ?? []) {
      const left = (waiting.get(next) ?? 0) - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  return order;
}
