/**
 * Bounds on one render. Rendering is synchronous and runs in the worker process, so a template
 * that builds a huge list or string or loops without end would freeze or kill the worker and
 * every run in it. The compiled template and the expensive helpers call in here; when a bound
 * is crossed the render stops with a TemplateLimitError that names the bound and how to raise it.
 *
 * A render's budget is module state (a render cannot yield, so only one is active at a time;
 * a nested render saves and restores the outer one). Outside a render the size bounds still
 * apply with their defaults and the clock is not checked.
 */
import v8 from 'node:v8';
import { LavaError } from '../core/errors.js';

export interface TemplateLimits {
  /** Most items one range() call or list repetition / concatenation may produce. */
  maxRange: number;
  /** Most loop iterations (for loops, loop filters) in one render. */
  maxIterations: number;
  /** Most characters in the output of one render, and in any one string it builds. */
  maxOutput: number;
  /** Seconds one render may take. */
  timeout: number;
  /** Bytes the JS heap may grow by during one render (lists and strings it keeps). */
  maxMemory: number;
  /** Epoch milliseconds the render may not run past (the job's own timeout), if any. */
  deadline?: number;
  /** How to describe `deadline` in an error, e.g. "the job's parameters.timeout (1s)". */
  deadlineSource?: string;
}

export const DEFAULT_TEMPLATE_LIMITS: Readonly<TemplateLimits> = Object.freeze({
  maxRange: 1_000_000,
  maxIterations: 1_000_000,
  maxOutput: 10 * 2 ** 20,
  timeout: 5,
  maxMemory: 512 * 2 ** 20,
});

/** The realm config key of each bound, named in errors so the fix is obvious. */
export const TEMPLATE_LIMIT_KEYS = {
  maxRange: 'TEMPLATE_MAX_RANGE',
  maxIterations: 'TEMPLATE_MAX_ITERATIONS',
  maxOutput: 'TEMPLATE_MAX_OUTPUT',
  timeout: 'TEMPLATE_TIMEOUT',
  maxMemory: 'TEMPLATE_MAX_MEMORY',
} as const;

/**
 * A template context may carry its limits under this key (a symbol: templates cannot name it, and
 * it survives the `{...context}` copies handlers and actions make).
 */
export const TEMPLATE_LIMITS: unique symbol = Symbol('lava.templateLimits');

/** A copy of `context` that renders under `limits`. */
export function withTemplateLimits<T extends Record<string, unknown>>(context: T, limits: Partial<TemplateLimits>): T {
  return { ...context, [TEMPLATE_LIMITS]: limits };
}

/** A render went past one of its bounds. The run fails with this error; the worker goes on. */
export class TemplateLimitError extends LavaError {
  /** The config key of the bound (or `parameters.timeout`). */
  readonly limit: string;
  constructor(limit: string, message: string) {
    super('LAVA_TEMPLATE_LIMIT', message);
    this.limit = limit;
  }
}

/** Clock checks happen after this much counted work (a loop iteration or call counts 1). */
const CHECK_EVERY = 1000;

class Budget {
  readonly limits: TemplateLimits;
  private readonly stopAt: number;
  private readonly stopByDeadline: boolean;
  private iterations = 0;
  private work = 0;
  private nextCheck = CHECK_EVERY;
  private readonly heapAtStart = heapUsed();
  /** The first bound crossed; rethrown by the renderer whatever the template did with it. */
  error: TemplateLimitError | undefined;

  constructor(limits: TemplateLimits, now: number) {
    this.limits = limits;
    const own = now + limits.timeout * 1000;
    this.stopByDeadline = limits.deadline !== undefined && limits.deadline < own;
    this.stopAt = this.stopByDeadline ? limits.deadline! : own;
  }

  fail(limit: string, message: string): never {
    this.error ??= new TemplateLimitError(limit, message);
    throw this.error;
  }

  tick(cost: number): void {
    if (this.error) throw this.error;
    this.work += cost;
    if (this.work < this.nextCheck) return;
    this.nextCheck = this.work + CHECK_EVERY;
    // Every bound above can hold and still fill memory (a million kept million-item lists): the
    // heap is measured too. Nothing else runs during a render, so its growth is this render's.
    const grown = heapUsed() - this.heapAtStart;
    if (grown > this.limits.maxMemory) {
      const key = TEMPLATE_LIMIT_KEYS.maxMemory;
      this.fail(
        key,
        `a template kept more than ${key} (${this.limits.maxMemory} bytes) of lists and strings in one render: ` +
          `keep less, or raise the realm config key ${key}`,
      );
    }
    if (Date.now() <= this.stopAt) return;
    if (this.stopByDeadline) {
      const source = this.limits.deadlineSource ?? "the job's timeout";
      this.fail(
        'parameters.timeout',
        `rendering a template ran past ${source}: make the template do less work, or raise the job's parameters.timeout`,
      );
    }
    const key = TEMPLATE_LIMIT_KEYS.timeout;
    this.fail(
      key,
      `rendering a template took longer than ${key} (${this.limits.timeout}s): make the template do less work, ` +
        `or raise the realm config key ${key}`,
    );
  }

  iteration(outputLength: number): void {
    if (++this.iterations > this.limits.maxIterations) {
      const key = TEMPLATE_LIMIT_KEYS.maxIterations;
      this.fail(
        key,
        `a template ran more than ${key} (${this.limits.maxIterations}) loop iterations in one render: ` +
          `loop over less, or raise the realm config key ${key}`,
      );
    }
    if (outputLength > this.limits.maxOutput) outputTooLong(this, outputLength);
    this.tick(1);
  }
}

let current: Budget | undefined;

/** The JS heap in use (v8's figure: a few microseconds, unlike process.memoryUsage()). */
function heapUsed(): number {
  return v8.getHeapStatistics().used_heap_size;
}

function outputTooLong(budget: Budget | undefined, length: number, what = "the template's output"): never {
  const key = TEMPLATE_LIMIT_KEYS.maxOutput;
  const max = (budget?.limits ?? DEFAULT_TEMPLATE_LIMITS).maxOutput;
  const message =
    `${what} would be ${length} characters, more than ${key} (${max}): ` +
    `produce less text, or raise the realm config key ${key}`;
  if (budget) budget.fail(key, message);
  throw new TemplateLimitError(key, message);
}

function activeLimits(): Readonly<TemplateLimits> {
  return current?.limits ?? DEFAULT_TEMPLATE_LIMITS;
}

/** Merge partial limits over the defaults (unset or invalid values keep the default). */
export function resolveLimits(...parts: (Partial<TemplateLimits> | undefined)[]): TemplateLimits {
  const out: TemplateLimits = { ...DEFAULT_TEMPLATE_LIMITS };
  for (const p of parts) {
    if (!p) continue;
    for (const k of ['maxRange', 'maxIterations', 'maxOutput', 'timeout', 'maxMemory'] as const) {
      const v = p[k];
      if (typeof v === 'number' && v >= 0 && !Number.isNaN(v)) out[k] = v;
    }
    if (p.deadline !== undefined) {
      out.deadline = p.deadline;
      out.deadlineSource = p.deadlineSource;
    }
  }
  return out;
}

/**
 * Run `fn` as one render under `limits`. A bound crossed inside it is thrown as the
 * TemplateLimitError, even when the template engine wrapped the original error.
 */
export function withinLimits<T>(limits: TemplateLimits, fn: () => T): T {
  const outer = current;
  const budget = new Budget(limits, Date.now());
  current = budget;
  try {
    const result = fn();
    if (typeof result === 'string' && result.length > limits.maxOutput) outputTooLong(budget, result.length);
    return result;
  } catch (err) {
    throw budget.error ?? err;
  } finally {
    current = outer;
  }
}

/** Count `cost` units of work; checks the clock now and then. */
export function tick(cost = 1): void {
  current?.tick(cost);
}

/** One loop iteration; `outputLength` is the length of the output built so far. */
export function loopIteration(outputLength: number): void {
  current?.iteration(outputLength);
}

/** Refuse a string of `length` characters before (or right after) it is built. */
export function checkLength(length: number, what = 'a string the template builds'): void {
  if (length > activeLimits().maxOutput) outputTooLong(current, length, what);
  current?.tick(1);
}

/** Refuse a sequence of `count` items before it is built. */
export function checkItems(count: number, what: string): void {
  const max = activeLimits().maxRange;
  if (count > max) {
    const key = TEMPLATE_LIMIT_KEYS.maxRange;
    const message =
      `${what} of ${count} items is more than ${key} (${max}): use fewer items, ` + `or raise the realm config key ${key}`;
    if (current) current.fail(key, message);
    throw new TemplateLimitError(key, message);
  }
  current?.tick(1 + count / 64);
}

/** `fill.repeat(n)`, refused when the result would be longer than the output bound. */
export function repeatStr(fill: string, n: number): string {
  if (n <= 0 || !fill) return '';
  checkLength(fill.length * n);
  return fill.repeat(n);
}

/**
 * Jinja's range(), as nunjucks implements it (no Python type checks), with its size checked
 * before any item is made.
 */
export function boundedRange(start: number, stop?: number, step?: number): number[] {
  let from = start;
  let to = stop;
  let by = step;
  if (to === undefined) {
    to = from;
    from = 0;
    by = 1;
  } else if (!by) {
    by = 1;
  }
  const span = by > 0 ? Number(to) - Number(from) : Number(from) - Number(to);
  const count = span > 0 ? Math.ceil(span / Math.abs(by)) : 0;
  checkItems(Number.isNaN(count) ? 0 : count, 'range()');
  const out: number[] = [];
  if (by > 0) for (let i = from; i < to; i += by) out.push(i);
  else for (let i = from; i > to; i += by) out.push(i);
  return out;
}
