/**
 * Health gates (docs/health-gates.md): metrics that throttle batch admission, after sosw's ecology
 * manager. Each gate reads a number from a source (SQL, HTTP, command) and maps it to a level 0–4
 * through thresholds in a declared direction; a reading's level is the lowest over its gates, and
 * its factor (default 0, 0, 0.5, 0.75, 1) scales how many tasks may be in flight:
 * floor(cap × factor). A source that gives no number is "no data", handled per gate by `on_no_data`.
 */
import type { Backend } from '../backends/ports.js';
import { IllegalStateError, ValidationError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { canonicalJson, fetchHttp, runCommand, safeUrl, SourceError, SqlSources } from './health-sources.js';

export type HealthLevel = 0 | 1 | 2 | 3 | 4; // 0 Bad, 1 Poor, 2 Moderate, 3 Good, 4 High

export type HealthSource =
  | { sql: { connection: string; query: string } }
  | { http: { url: string; field?: string; headers?: Record<string, string> } }
  | { command: string };

export interface HealthGate {
  name: string;
  source: HealthSource;
  direction: 'lower_is_better' | 'higher_is_better';
  /** Level → threshold; monotone in the direction. */
  thresholds: Partial<Record<'1' | '2' | '3' | '4', number>>;
  /** Default `hold`: the last known level while younger than `hold_seconds`, then closed (0). */
  on_no_data?: 'hold' | 'open' | 'closed';
  /** Default 300. */
  hold_seconds?: number;
  /** Seconds per fetch, default 10. */
  timeout?: number;
}

export const LEVEL_NAMES: Readonly<Record<HealthLevel, string>> = Object.freeze({
  0: 'Bad',
  1: 'Poor',
  2: 'Moderate',
  3: 'Good',
  4: 'High',
});

export const DEFAULT_FACTORS: Readonly<Record<HealthLevel, number>> = Object.freeze({ 0: 0, 1: 0, 2: 0.5, 3: 0.75, 4: 1 });
export const DEFAULT_HOLD_SECONDS = 300;
export const DEFAULT_TIMEOUT_SECONDS = 10;
/** Longest `timeout` a gate may ask for: a fetch holds up an admission pass. */
export const MAX_TIMEOUT_SECONDS = 300;
/** Longest `hold_seconds`: a week. */
export const MAX_HOLD_SECONDS = 7 * 24 * 3600;
export const DEFAULT_CACHE_MS = 5000;

const LEVELS = ['1', '2', '3', '4'] as const;
const GATE_FIELDS = new Set(['name', 'source', 'direction', 'thresholds', 'on_no_data', 'hold_seconds', 'timeout']);
const DIRECTIONS = ['lower_is_better', 'higher_is_better'] as const;
const NO_DATA = ['hold', 'open', 'closed'] as const;
/** sosw operator names and their declared direction, for the hint when one is given instead. */
const OPERATOR_HINTS: Record<string, string> = {
  le: 'lower_is_better',
  lt: 'lower_is_better',
  '<=': 'lower_is_better',
  '<': 'lower_is_better',
  ge: 'higher_is_better',
  gt: 'higher_is_better',
  '>=': 'higher_is_better',
  '>': 'higher_is_better',
  lowerIsBetter: 'lower_is_better',
  higherIsBetter: 'higher_is_better',
};

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const shown = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

/** Problems with one gate's source; `at` is the path of `source`. */
function sourceProblems(source: unknown, at: string): string[] {
  const hint = 'give exactly one of sql: {connection, query}, http: {url, field?, headers?} or command: "…"';
  if (!isMap(source)) return [`${at}: must be a map: ${hint}`];
  const kinds = Object.keys(source);
  const unknown = kinds.filter((k) => !['sql', 'http', 'command'].includes(k));
  if (unknown.length) {
    const cw = unknown.some((k) => k.toLowerCase() === 'cloudwatch')
      ? ' (CloudWatch is not a source: read the metric over HTTP or a command)'
      : '';
    return [`${at}: unknown source ${unknown.join(', ')}${cw}: ${hint}`];
  }
  if (kinds.length !== 1) return [`${at}: ${kinds.length ? `has ${kinds.join(' and ')}` : 'is empty'}: ${hint}`];
  const problems: string[] = [];
  const extra = (m: Record<string, unknown>, allowed: string[], where: string) => {
    const bad = Object.keys(m).filter((k) => !allowed.includes(k));
    if (bad.length) problems.push(`${where}: unknown field(s) ${bad.join(', ')}: use ${allowed.join(', ')}`);
  };
  const nonEmpty = (v: unknown, where: string, what: string) => {
    if (typeof v !== 'string' || !v.trim()) problems.push(`${where}: must be ${what} (a non-empty string)`);
  };
  if ('sql' in source) {
    const sql = source.sql;
    if (!isMap(sql)) return [`${at}.sql: must be a map {connection, query}`];
    extra(sql, ['connection', 'query'], `${at}.sql`);
    nonEmpty(sql.connection, `${at}.sql.connection`, 'a connection id of the realm (see `lava conn ls`)');
    nonEmpty(sql.query, `${at}.sql.query`, 'a query whose first row and column is the number');
  } else if ('http' in source) {
    const http = source.http;
    if (!isMap(http)) return [`${at}.http: must be a map {url, field?, headers?}`];
    extra(http, ['url', 'field', 'headers'], `${at}.http`);
    if (typeof http.url !== 'string' || !http.url) problems.push(`${at}.http.url: must be an http:// or https:// URL`);
    else {
      let u: URL | undefined;
      try {
        u = new URL(http.url);
      } catch {
        problems.push(`${at}.http.url: ${safeUrl(http.url)} is not a URL: give an absolute http:// or https:// URL`);
      }
      if (u && u.protocol !== 'http:' && u.protocol !== 'https:') {
        problems.push(`${at}.http.url: the scheme is ${u.protocol.replace(/:$/, '')}: use http or https`);
      }
    }
    if (http.field !== undefined) {
      if (typeof http.field !== 'string' || !/^[^.\s]+(\.[^.\s]+)*$/.test(http.field)) {
        problems.push(
          `${at}.http.field: must be a dotted path to the number in the JSON body, such as "data.cpu" or "items.0.value"`,
        );
      }
    }
    if (http.headers !== undefined) {
      if (!isMap(http.headers)) problems.push(`${at}.http.headers: must be a map of header name to value`);
      else {
        for (const [name, value] of Object.entries(http.headers)) {
          // Never echo a header value: it may be a credential.
          if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
            problems.push(`${at}.http.headers: ${shown(name)} is not a header name`);
          else if (typeof value !== 'string') problems.push(`${at}.http.headers.${name}: the value must be a string`);
          else if (/[\r\n\0]/.test(value)) problems.push(`${at}.http.headers.${name}: the value may not contain CR, LF or NUL`);
        }
      }
    }
  } else {
    nonEmpty(source.command, `${at}.command`, 'a shell command that prints the number on stdout');
  }
  return problems;
}

/** Problems with one threshold map, monotone in `direction` (when that is valid). */
function thresholdProblems(thresholds: unknown, direction: unknown, at: string): string[] {
  if (!isMap(thresholds) || !Object.keys(thresholds).length) {
    return [`${at}: must be a map of level (1 to 4) to threshold, such as {4: 50, 3: 70, 2: 85, 1: 95}`];
  }
  const problems: string[] = [];
  const given: [number, number][] = [];
  for (const [key, value] of Object.entries(thresholds)) {
    if (!(LEVELS as readonly string[]).includes(key)) {
      problems.push(
        `${at}.${key}: not a level: use 1 (Poor), 2 (Moderate), 3 (Good) or 4 (High); level 0 (Bad) is what satisfies none`,
      );
    } else if (typeof value !== 'number' || !Number.isFinite(value)) {
      problems.push(`${at}.${key}: must be a finite number, not ${shown(value)}`);
    } else given.push([Number(key), value]);
  }
  if (problems.length || (direction !== 'lower_is_better' && direction !== 'higher_is_better')) return problems;
  // Monotone: a better level needs a better value. Check each against the next lower level given.
  given.sort((a, b) => a[0] - b[0]);
  const lower = direction === 'lower_is_better';
  for (let i = 1; i < given.length; i++) {
    const [worseLevel, worse] = given[i - 1] as [number, number];
    const [level, t] = given[i] as [number, number];
    if (lower ? t >= worse : t <= worse) {
      problems.push(
        `${at}.${level}: ${t} must be ${lower ? 'lower' : 'higher'} than level ${worseLevel}'s ${worse}, because the ` +
          `direction is ${direction}: a better level needs a ${lower ? 'lower' : 'higher'} value` +
          ` (or set direction: ${lower ? 'higher_is_better' : 'lower_is_better'})`,
      );
    }
  }
  return problems;
}

function gateProblems(raw: unknown, at: string): string[] {
  if (!isMap(raw)) return [`${at}: must be a map with name, source, direction and thresholds`];
  const problems: string[] = [];
  const unknown = Object.keys(raw).filter((k) => !GATE_FIELDS.has(k));
  for (const k of unknown) {
    const alias: Record<string, string> = {
      onNoData: 'on_no_data',
      holdSeconds: 'hold_seconds',
      feelings: 'thresholds',
      feeling_comparison_operator: 'direction',
      details: 'source',
    };
    problems.push(
      `${at}.${k}: unknown field${alias[k] ? `: use ${alias[k]}` : `: the fields are ${[...GATE_FIELDS].join(', ')}`}`,
    );
  }
  if (typeof raw.name !== 'string' || !raw.name.trim()) problems.push(`${at}.name: must be a non-empty string naming the metric`);
  else if (raw.name.length > 100) problems.push(`${at}.name: at most 100 characters`);
  if (raw.source === undefined) problems.push(`${at}.source: is required: sql, http or command`);
  else problems.push(...sourceProblems(raw.source, `${at}.source`));
  const direction = raw.direction;
  if (!(DIRECTIONS as readonly unknown[]).includes(direction)) {
    const hint = typeof direction === 'string' ? OPERATOR_HINTS[direction] : undefined;
    problems.push(
      `${at}.direction: ${direction === undefined ? 'is required' : `${shown(direction)} is not a direction`}: ` +
        (hint ? `use ${hint}` : 'use lower_is_better (CPU, latency, queue depth) or higher_is_better (free memory, throughput)'),
    );
  }
  problems.push(...thresholdProblems(raw.thresholds, direction, `${at}.thresholds`));
  if (raw.on_no_data !== undefined && !(NO_DATA as readonly unknown[]).includes(raw.on_no_data)) {
    problems.push(`${at}.on_no_data: ${shown(raw.on_no_data)} is not a policy: use hold, open or closed`);
  }
  const seconds = (key: 'hold_seconds' | 'timeout', max: number) => {
    const v = raw[key];
    if (v === undefined) return;
    const zeroOk = key === 'hold_seconds';
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (v === 0 && !zeroOk) || v > max) {
      problems.push(
        `${at}.${key}: must be a number of seconds, ${zeroOk ? 'from 0' : 'more than 0'} up to ${max}, not ${shown(v)}`,
      );
    }
  };
  seconds('hold_seconds', MAX_HOLD_SECONDS);
  seconds('timeout', MAX_TIMEOUT_SECONDS);
  return problems;
}

/**
 * Validate a gate list from a batch submission (parsed JSON or YAML). `undefined` or `null` is no
 * gates. Every problem is reported, each with its path (`health[1].thresholds.3: …`) and the fix.
 */
export function parseGates(value: unknown, field = 'health'): HealthGate[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new ValidationError(`bad health gates`, [
      `${field}: must be a list of gates, each {name, source, direction, thresholds}`,
    ]);
  }
  const problems: string[] = [];
  const names = new Map<string, number>();
  value.forEach((raw, i) => {
    const at = `${field}[${i}]`;
    problems.push(...gateProblems(raw, at));
    const name = isMap(raw) && typeof raw.name === 'string' ? raw.name : undefined;
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined)
        problems.push(`${at}.name: "${name}" is also the name of ${field}[${first}]: give each gate its own name`);
      else names.set(name, i);
    }
  });
  if (problems.length) throw new ValidationError(`bad health gates`, problems);
  return value.map((raw: Record<string, unknown>) => {
    const thresholds: HealthGate['thresholds'] = {};
    for (const level of LEVELS) {
      const t = (raw.thresholds as Record<string, unknown>)[level];
      if (typeof t === 'number') thresholds[level] = t;
    }
    const source = raw.source as Record<string, unknown>;
    let src: HealthSource;
    if (isMap(source.sql)) src = { sql: { connection: String(source.sql.connection), query: String(source.sql.query) } };
    else if (isMap(source.http)) {
      const h = source.http;
      src = {
        http: {
          url: String(h.url),
          ...(typeof h.field === 'string' ? { field: h.field } : {}),
          ...(isMap(h.headers) ? { headers: { ...(h.headers as Record<string, string>) } } : {}),
        },
      };
    } else src = { command: String(source.command) };
    const gate: HealthGate = {
      name: String(raw.name),
      source: src,
      direction: raw.direction as HealthGate['direction'],
      thresholds,
    };
    if (raw.on_no_data !== undefined) gate.on_no_data = raw.on_no_data as NonNullable<HealthGate['on_no_data']>;
    if (raw.hold_seconds !== undefined) gate.hold_seconds = raw.hold_seconds as number;
    if (raw.timeout !== undefined) gate.timeout = raw.timeout as number;
    return gate;
  });
}

/**
 * The level of one value: the highest level whose threshold it satisfies in the gate's direction
 * (lower_is_better: value <= t; higher_is_better: value >= t); none (or not a number) → 0.
 */
export function levelOf(gate: HealthGate, value: number): HealthLevel {
  if (!Number.isFinite(value)) return 0;
  for (const level of [4, 3, 2, 1] as const) {
    const t = gate.thresholds[String(level) as '1' | '2' | '3' | '4'];
    if (t === undefined) continue;
    if (gate.direction === 'higher_is_better' ? value >= t : value <= t) return level;
  }
  return 0;
}

export interface GateReading {
  name: string;
  /** The value the level comes from: the fetched one, the held one, or null. */
  value: number | null;
  level: HealthLevel;
  /** Why the source gave no number this time. */
  error?: string;
  /** The level is the last known one (on_no_data: hold). */
  held?: boolean;
}

export interface HealthReading {
  /** The minimum over the gates; 4 when there are none. */
  level: HealthLevel;
  factor: number;
  gates: GateReading[];
}

export interface HealthMonitorOptions {
  realm: string;
  backend: Backend;
  logger?: Logger;
  factors?: Partial<Record<HealthLevel, number>>;
  /** A source's value is reused for this long (default 5000), keyed by its canonical JSON. */
  cacheMs?: number;
  now?: () => number;
}

type Outcome = { value: number } | { error: string };

/** Most distinct sources (and gates) remembered; the oldest are forgotten first. */
const MAX_REMEMBERED = 1000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as K);
}

/**
 * Reads gates, sharing fetches: a source's outcome (number or failure) is reused for `cacheMs`,
 * and reads at once of one source wait for the same fetch. It remembers each source's last good
 * value and when it was fetched, for `on_no_data: hold`. One monitor serves every batch of a realm.
 */
export class HealthMonitor {
  private readonly sql: SqlSources;
  private readonly logger: Logger;
  private readonly factors: Record<HealthLevel, number>;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { at: number; outcome: Promise<Outcome> }>();
  private readonly lastGood = new Map<string, { value: number; at: number }>();
  private readonly lastState = new Map<string, { level: HealthLevel; failing: boolean }>();
  private closed = false;

  constructor(o: HealthMonitorOptions) {
    this.sql = new SqlSources(o.backend, o.realm);
    this.logger = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
    this.cacheMs = o.cacheMs ?? DEFAULT_CACHE_MS;
    if (!Number.isFinite(this.cacheMs) || this.cacheMs < 0) {
      throw new ValidationError(`health: cacheMs must be a number of milliseconds ≥ 0, not ${shown(o.cacheMs)}`);
    }
    const factors = { ...DEFAULT_FACTORS, ...o.factors };
    const problems = Object.entries(factors)
      .filter(([k, f]) => !/^[0-4]$/.test(k) || typeof f !== 'number' || !(f >= 0 && f <= 1))
      .map(
        ([k, f]) =>
          `factors.${k}: ${/^[0-4]$/.test(k) ? `must be a number from 0 to 1, not ${shown(f)}` : 'not a level: use 0 to 4'}`,
      );
    if (problems.length) throw new ValidationError('bad health factors', problems);
    this.factors = factors;
  }

  /** The factor of a level (this monitor's table). */
  factor(level: HealthLevel): number {
    return this.factors[level];
  }

  private fetch(source: HealthSource, timeoutS: number): Promise<number> {
    if ('sql' in source) return this.sql.read(source.sql, timeoutS);
    if ('http' in source) return fetchHttp(source.http, timeoutS);
    return runCommand(source.command, timeoutS);
  }

  /** The source's outcome: cached while younger than cacheMs, else fetched (once for concurrent callers). */
  private outcome(key: string, gate: HealthGate): Promise<Outcome> {
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.cacheMs) return hit.outcome;
    const outcome = this.fetch(gate.source, gate.timeout ?? DEFAULT_TIMEOUT_SECONDS).then(
      (value): Outcome => {
        remember(this.lastGood, key, { value, at: this.now() });
        return { value };
      },
      (err: unknown): Outcome => ({
        // Not a SourceError would be a bug here: say so without echoing anything from the source.
        error: err instanceof SourceError ? err.message : `the source failed unexpectedly (${(err as Error)?.name ?? 'error'})`,
      }),
    );
    remember(this.cache, key, { at: now, outcome });
    return outcome;
  }

  private async readGate(gate: HealthGate): Promise<GateReading> {
    const key = canonicalJson(gate.source);
    const got = await this.outcome(key, gate);
    if ('value' in got) return { name: gate.name, value: got.value, level: levelOf(gate, got.value) };
    const policy = gate.on_no_data ?? 'hold';
    const base = { name: gate.name, error: got.error };
    if (policy === 'open') return { ...base, value: null, level: 4 };
    if (policy === 'closed') return { ...base, value: null, level: 0 };
    const last = this.lastGood.get(key);
    const holdMs = (gate.hold_seconds ?? DEFAULT_HOLD_SECONDS) * 1000;
    if (last && this.now() - last.at <= holdMs)
      return { ...base, value: last.value, level: levelOf(gate, last.value), held: true };
    return { ...base, value: null, level: 0 };
  }

  /** Read every gate (in parallel). Never throws for a failing source: that gate is "no data", with `error`. */
  async read(gates: readonly HealthGate[]): Promise<HealthReading> {
    if (this.closed) throw new IllegalStateError('health: this monitor is closed: create a new one');
    const readings = await Promise.all(gates.map((g) => this.readGate(g)));
    let level: HealthLevel = 4;
    readings.forEach((r, i) => {
      if (r.level < level) level = r.level;
      this.note(gates[i] as HealthGate, r);
    });
    return { level, factor: this.factors[level], gates: readings };
  }

  /** Log a gate's level when it changes, and its source failing when it starts to (not on every read). */
  private note(gate: HealthGate, r: GateReading): void {
    const key = `${gate.name}\u0000${canonicalJson(gate.source)}`;
    const before = this.lastState.get(key);
    const failing = r.error !== undefined;
    if (failing && !before?.failing) {
      this.logger.warn(
        { gate: r.name, level: r.level, held: r.held ?? false, err: r.error },
        `health gate ${r.name}: no data (${r.error})`,
      );
    } else if (!failing && before?.failing) this.logger.info({ gate: r.name }, `health gate ${r.name}: data again`);
    if (before?.level !== r.level) {
      this.logger.info(
        { gate: r.name, value: r.value, level: r.level, was: before?.level ?? null, held: r.held ?? false },
        `health gate ${r.name}: level ${r.level} (${LEVEL_NAMES[r.level]})`,
      );
    }
    if (before?.level !== r.level || before.failing !== failing) remember(this.lastState, key, { level: r.level, failing });
  }

  /** Close the database clients it opened. */
  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
    await this.sql.close();
  }
}

/** How many may be in flight: floor(cap × factor), never below 0. */
export function allowedInFlight(cap: number, reading: HealthReading): number {
  const factor = Math.min(1, Math.max(0, Number.isFinite(reading.factor) ? reading.factor : 0));
  const c = Number.isFinite(cap) ? Math.max(0, Math.floor(cap)) : 0;
  // The epsilon keeps a product that rounding puts just under a whole number (0.29 × 100) from losing one.
  return Math.floor(c * factor + 1e-9);
}
