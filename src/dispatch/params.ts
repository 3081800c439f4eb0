/** `name=value` pairs from the command line; dotted names become nested maps (`a.b=1` → {a: {b: '1'}}). */
import { ValidationError } from '../core/errors.js';

/**
 * Names that would reach an object's prototype instead of a key of its own (`__proto__.x=1` used to
 * change every object in the process): refused wherever parameters and globals enter.
 */
const UNSAFE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

export function isUnsafeName(name: string): boolean {
  return UNSAFE_NAMES.has(name);
}

export function expandPairs(pairs: readonly string[], flag: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`${flag} ${JSON.stringify(pair)}: expected name=value, e.g. ${flag} vars.day=monday`);
    const names = pair.slice(0, eq).split('.');
    if (names.some((n) => !n)) throw new ValidationError(`${flag} ${JSON.stringify(pair)}: empty name segment`);
    const unsafe = names.find(isUnsafeName);
    if (unsafe) {
      throw new ValidationError(
        `${flag} ${JSON.stringify(pair)}: "${unsafe}" cannot be a name (__proto__, constructor and prototype are not allowed): rename it`,
      );
    }
    let node = out;
    for (const name of names.slice(0, -1)) {
      const next = Object.hasOwn(node, name) ? node[name] : undefined;
      if (next === undefined || typeof next !== 'object' || next === null) node[name] = {};
      node = node[name] as Record<string, unknown>;
    }
    node[names[names.length - 1] as string] = pair.slice(eq + 1);
  }
  return out;
}

/** The first key at any depth of a parameters/globals map that is a prototype name, as a dotted path. */
export function unsafeKeyPath(value: unknown, at = '', seen = new Set<object>()): string | undefined {
  if (!value || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  for (const key of Object.keys(value)) {
    const path = at ? `${at}.${key}` : key;
    if (isUnsafeName(key)) return path;
    const deeper = unsafeKeyPath((value as Record<string, unknown>)[key], path, seen);
    if (deeper) return deeper;
  }
  return undefined;
}
