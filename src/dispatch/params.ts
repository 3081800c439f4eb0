/** `name=value` pairs from the command line; dotted names become nested maps (`a.b=1` → {a: {b: '1'}}). */
import { ValidationError } from '../core/errors.js';

export function expandPairs(pairs: readonly string[], flag: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`${flag} ${JSON.stringify(pair)}: expected name=value, e.g. ${flag} vars.day=monday`);
    const names = pair.slice(0, eq).split('.');
    if (names.some((n) => !n)) throw new ValidationError(`${flag} ${JSON.stringify(pair)}: empty name segment`);
    let node = out;
    for (const name of names.slice(0, -1)) {
      const next = node[name];
      if (next === undefined || typeof next !== 'object' || next === null) node[name] = {};
      node = node[name] as Record<string, unknown>;
    }
    node[names[names.length - 1] as string] = pair.slice(eq + 1);
  }
  return out;
}
