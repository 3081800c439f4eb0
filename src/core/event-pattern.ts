/**
 * The syntax of an EventBridge event pattern (an event rule's `event_pattern`): what `lava check` and
 * `lava trigger put` accept. Matching is in src/events/pattern.ts; this check lives in core so the
 * trigger schema can use it.
 *
 * A pattern is a map whose values are nested maps or non-empty lists of matchers. A matcher is a
 * string, number, boolean or null (the exact value) or a one-key map: `prefix`, `suffix`,
 * `anything-but`, `numeric`, `exists`, `equals-ignore-case`, `wildcard`.
 */

export interface PatternProblem {
  /** Where in the pattern, as keys and list indexes. */
  path: (string | number)[];
  message: string;
}

export const PATTERN_OPERATORS = ['prefix', 'suffix', 'anything-but', 'numeric', 'exists', 'equals-ignore-case', 'wildcard'];
const NUMERIC_OPS = ['=', '>', '>=', '<', '<='];

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): boolean =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** Every problem of a pattern, each with its path; empty when the pattern is well formed. */
export function eventPatternProblems(pattern: unknown): PatternProblem[] {
  const problems: PatternProblem[] = [];
  if (!isMap(pattern) || Object.keys(pattern).length === 0) {
    problems.push({
      path: [],
      message: 'an event pattern is a non-empty map such as {"source": ["my.app"], "detail": {"state": ["done"]}}',
    });
    return problems;
  }
  checkNode(pattern, [], problems);
  return problems;
}

/** The problems as lines `event_pattern.detail.state: …`, for messages. */
export function formatPatternProblems(problems: PatternProblem[], root = 'event_pattern'): string[] {
  return problems.map((p) => `${[root, ...p.path].join('.')}: ${p.message}`);
}

function checkNode(node: Record<string, unknown>, path: (string | number)[], out: PatternProblem[]): void {
  for (const [key, value] of Object.entries(node)) {
    const at = [...path, key];
    if (Array.isArray(value)) {
      if (value.length === 0) out.push({ path: at, message: 'an empty list matches nothing: list at least one value' });
      value.forEach((m, i) => checkMatcher(m, [...at, i], out));
    } else if (isMap(value)) {
      if (Object.keys(value).length === 0) out.push({ path: at, message: 'an empty map matches nothing: remove it' });
      else if (Object.keys(value).length === 1 && PATTERN_OPERATORS.includes(Object.keys(value)[0] as string)) {
        out.push({
          path: at,
          message: `a matcher must be inside a list: write [${JSON.stringify(value)}]`,
        });
      } else checkNode(value, at, out);
    } else {
      out.push({
        path: at,
        message: `must be a list of values to match (e.g. [${JSON.stringify(value)}]) or a nested map, not ${JSON.stringify(value)}`,
      });
    }
  }
}

function checkMatcher(m: unknown, at: (string | number)[], out: PatternProblem[]): void {
  if (isScalar(m)) return;
  const bad = (message: string): void => void out.push({ path: at, message });
  if (!isMap(m)) return bad(`a matcher is a value or a one-key map such as {"prefix": "abc"}, not ${JSON.stringify(m)}`);
  const keys = Object.keys(m);
  if (keys.length !== 1) {
    return bad(`a matcher map has exactly one key (one of ${PATTERN_OPERATORS.join(', ')}), not ${keys.length}`);
  }
  const op = keys[0] as string;
  const v = m[op];
  const where = [...at, op];
  const badAt = (message: string): void => void out.push({ path: where, message });
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (typeof v === 'string') return;
      if (isMap(v) && Object.keys(v).length === 1 && typeof v['equals-ignore-case'] === 'string') return;
      return badAt(`must be a string, or {"equals-ignore-case": "…"}`);
    case 'equals-ignore-case':
      if (typeof v !== 'string') badAt('must be a string');
      return;
    case 'exists':
      if (typeof v !== 'boolean') badAt('must be true or false');
      return;
    case 'wildcard': {
      if (typeof v !== 'string') return badAt('must be a string such as "dir/*.png"');
      const problem = wildcardProblem(v);
      if (problem) badAt(problem);
      return;
    }
    case 'numeric':
      return checkNumeric(v, badAt);
    case 'anything-but':
      return checkAnythingBut(v, badAt);
    default:
      return bad(`unknown matcher "${op}": use one of ${PATTERN_OPERATORS.join(', ')}`);
  }
}

function checkNumeric(v: unknown, bad: (m: string) => void): void {
  const example = 'e.g. [">", 0, "<=", 5] or ["=", 100]';
  if (!Array.isArray(v) || (v.length !== 2 && v.length !== 4))
    return bad(`must be one or two [operator, number] pairs, ${example}`);
  for (let i = 0; i < v.length; i += 2) {
    if (!NUMERIC_OPS.includes(v[i] as string)) {
      return bad(`unknown operator ${JSON.stringify(v[i])}: use one of ${NUMERIC_OPS.join(' ')} (${example})`);
    }
    if (typeof v[i + 1] !== 'number' || !Number.isFinite(v[i + 1])) {
      return bad(`${JSON.stringify(v[i])} needs a number after it, not ${JSON.stringify(v[i + 1])}`);
    }
  }
  if (v.length === 4) {
    if (!['>', '>='].includes(v[0] as string) || !['<', '<='].includes(v[2] as string)) {
      return bad(`a range is a lower bound (> or >=) then an upper bound (< or <=), ${example}`);
    }
    if ((v[1] as number) >= (v[3] as number)) bad('the lower bound of a range must be below its upper bound');
  }
}

function checkAnythingBut(v: unknown, bad: (m: string) => void): void {
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return;
  if (Array.isArray(v)) {
    if (v.length === 0) return bad('an empty list excludes nothing: list at least one value');
    const strings = v.every((x) => typeof x === 'string');
    const numbers = v.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!strings && !numbers) bad('must be a list of strings or a list of numbers');
    return;
  }
  if (isMap(v) && Object.keys(v).length === 1) {
    const [op, x] = Object.entries(v)[0] as [string, unknown];
    if ((op === 'prefix' || op === 'suffix') && typeof x === 'string') return;
    if (op === 'equals-ignore-case' || op === 'wildcard') {
      const list = Array.isArray(x) ? x : [x];
      if (list.length && list.every((s) => typeof s === 'string')) {
        const problem = op === 'wildcard' ? list.map((s) => wildcardProblem(s)).find(Boolean) : undefined;
        if (problem) bad(problem);
        return;
      }
    }
  }
  bad(
    'must be a string, a number, a list of either, or one of {"prefix": "…"}, {"suffix": "…"}, {"equals-ignore-case": …}, {"wildcard": …}',
  );
}

/** EventBridge refuses consecutive `*` and escapes other than `\*` and `\\`. */
function wildcardProblem(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      if (s[i + 1] !== '*' && s[i + 1] !== '\\') return 'only \\* and \\\\ may be escaped in a wildcard';
      i++;
    } else if (s[i] === '*' && s[i + 1] === '*') return 'consecutive wildcard characters (**) are not allowed';
  }
  return undefined;
}
