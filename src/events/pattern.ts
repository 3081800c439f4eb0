/**
 * EventBridge event patterns: does an event match a rule's `event_pattern`? The syntax (and its
 * check, `eventPatternProblems`) is in src/core/event-pattern.ts; see docs/event-rules.md.
 *
 * As EventBridge: every key of the pattern must match; a list of matchers matches when any does; a
 * list in the event matches when any element does (a list of maps: when one element matches the
 * nested pattern); a missing field matches only `{"exists": false}`; `anything-but` needs the field.
 */
import { ValidationError } from '../core/errors.js';
import { eventPatternProblems, formatPatternProblems } from '../core/event-pattern.js';

export { eventPatternProblems, formatPatternProblems, type PatternProblem } from '../core/event-pattern.js';

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws a ValidationError naming every problem's path when the pattern is malformed. */
export function checkEventPattern(pattern: unknown, root = 'event_pattern'): void {
  const problems = eventPatternProblems(pattern);
  if (problems.length) throw new ValidationError(`bad ${root}`, formatPatternProblems(problems, root));
}

/** True when the event matches the pattern (which is assumed well formed: check it first). */
export function matchesPattern(pattern: Obj, event: unknown): boolean {
  return matchNode(pattern, event);
}

function matchNode(pattern: Obj, value: unknown): boolean {
  if (Array.isArray(value)) return value.some((v) => matchNode(pattern, v));
  const obj = isMap(value) ? value : undefined;
  for (const [key, p] of Object.entries(pattern)) {
    const v = obj && Object.hasOwn(obj, key) ? obj[key] : undefined;
    if (Array.isArray(p) ? !matchLeaf(p, v) : !matchNode(p as Obj, v)) return false;
  }
  return true;
}

/** The leaf values a field holds: lists are flattened, maps (not leaves) dropped. */
function leaves(v: unknown): unknown[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) return v.flatMap(leaves);
  return isMap(v) ? [] : [v];
}

function matchLeaf(matchers: unknown[], v: unknown): boolean {
  const values = leaves(v);
  return matchers.some((m) => {
    if (isMap(m) && 'exists' in m) return m.exists === values.length > 0;
    return values.some((x) => matchOne(m, x));
  });
}

function matchOne(m: unknown, x: unknown): boolean {
  if (!isMap(m)) return m === x;
  const [op, arg] = Object.entries(m)[0] as [string, unknown];
  switch (op) {
    case 'prefix':
      return typeof x === 'string' && affix(arg, x, (s, a) => s.startsWith(a));
    case 'suffix':
      return typeof x === 'string' && affix(arg, x, (s, a) => s.endsWith(a));
    case 'equals-ignore-case':
      return typeof x === 'string' && typeof arg === 'string' && fold(x) === fold(arg);
    case 'wildcard':
      return typeof x === 'string' && typeof arg === 'string' && wildcardMatch(arg, x);
    case 'numeric':
      return typeof x === 'number' && numeric(arg as unknown[], x);
    case 'anything-but':
      return anythingBut(arg, x);
    default:
      return false;
  }
}

function fold(s: string): string {
  return s.toLowerCase();
}

function affix(arg: unknown, x: string, test: (s: string, a: string) => boolean): boolean {
  if (typeof arg === 'string') return test(x, arg);
  const ci = isMap(arg) ? arg['equals-ignore-case'] : undefined;
  return typeof ci === 'string' && test(fold(x), fold(ci));
}

function numeric(conditions: unknown[], x: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const n = conditions[i + 1] as number;
    const ok =
      conditions[i] === '='
        ? x === n
        : conditions[i] === '>'
          ? x > n
          : conditions[i] === '>='
            ? x >= n
            : conditions[i] === '<'
              ? x < n
              : x <= n;
    if (!ok) return false;
  }
  return true;
}

function anythingBut(arg: unknown, x: unknown): boolean {
  if (Array.isArray(arg)) return !arg.includes(x);
  if (!isMap(arg)) return arg !== x;
  const [op, a] = Object.entries(arg)[0] as [string, unknown];
  if (typeof x !== 'string') return false;
  const list = (Array.isArray(a) ? a : [a]) as string[];
  switch (op) {
    case 'prefix':
      return !x.startsWith(a as string);
    case 'suffix':
      return !x.endsWith(a as string);
    case 'equals-ignore-case':
      return !list.some((s) => fold(s) === fold(x));
    case 'wildcard':
      return !list.some((s) => wildcardMatch(s, x));
    default:
      return false;
  }
}

/**
 * `*` matches any run of characters; `\*` is a literal star, `\\` a backslash. Linear-time glob
 * matching (backtrack to the last star only), so no pattern can make a match slow.
 */
function wildcardMatch(pattern: string, text: string): boolean {
  // Tokens: a literal character, or STAR.
  const tokens: (string | null)[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) tokens.push(pattern[++i] as string);
    else tokens.push(c === '*' ? null : c);
  }
  let t = 0;
  let x = 0;
  let starT = -1;
  let starX = 0;
  while (x < text.length) {
    if (t < tokens.length && tokens[t] !== null && tokens[t] === text[x]) {
      t++;
      x++;
    } else if (t < tokens.length && tokens[t] === null) {
      starT = t++;
      starX = x;
    } else if (starT >= 0) {
      t = starT + 1;
      x = ++starX;
    } else return false;
  }
  while (t < tokens.length && tokens[t] === null) t++;
  return t === tokens.length;
}
