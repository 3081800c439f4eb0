/**
 * `lava checksum check|add|update` (upstream lava-checksum): drift checksums on config items.
 * The checksum, stored in `x-lava-chk` as `1;LC;<algorithm>;<hex>`, is the hash of the item's
 * JSON as Python's `json.dumps(item, sort_keys=True)` writes it, without top-level `x-*`/`X-*`
 * keys, so a checksum made by upstream Lava checks here and the other way round.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Command } from 'commander';
import type { Backend } from '../backends/ports.js';
import { ValidationError } from '../core/errors.js';
import { fnmatch } from '../core/fnmatch.js';
import { pyNumStr } from '../template/py-object.js';
import { resolveRealm, withBackend, type GlobalOptions } from './context.js';
import { formatItem, sanitiseFilename, selectKey, tableItems, tableNamed, type TableInfo } from './dump.js';
import { zipFiles } from './zip.js';

export const CHECKSUM_KEY = 'x-lava-chk';
const IGNORE = '[xX]-*';

/** Python's hashlib names (algorithms_guaranteed, less the variable-length shake_*) → Node's. */
export const ALGORITHMS: Readonly<Record<string, string>> = {
  md5: 'md5',
  sha1: 'sha1',
  sha224: 'sha224',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  sha3_224: 'sha3-224',
  sha3_256: 'sha3-256',
  sha3_384: 'sha3-384',
  sha3_512: 'sha3-512',
  blake2b: 'blake2b512',
  blake2s: 'blake2s256',
};

function pyString(s: string): string {
  // JSON.stringify escapes quotes, backslashes and control characters as Python does; Python
  // (ensure_ascii) also escapes everything outside space..~ as \uXXXX, one per UTF-16 unit.
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `json.dumps(value, sort_keys=True)` of Python, for JSON values. */
export function pyJsonDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    // DynamoDB numbers reach upstream as Decimal: whole ones are written as ints, others as floats.
    return Number.isInteger(v) ? BigInt(v).toString() : pyNumStr(v);
  }
  if (typeof v === 'string') return pyString(v);
  if (Array.isArray(v)) return `[${v.map(pyJsonDumps).join(', ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${pyString(k)}: ${pyJsonDumps(o[k])}`).join(', ')}}`;
  }
  return pyString(String(v));
}

/** The hex hash of an item without its top-level `x-*` keys. */
export function itemHash(item: Record<string, unknown>, algorithm = 'sha256'): string {
  const node = ALGORITHMS[algorithm];
  if (!node) throw new ValidationError(`hash algorithm ${algorithm}: use one of ${Object.keys(ALGORITHMS).join(', ')}`);
  const kept = Object.fromEntries(Object.entries(item).filter(([k]) => !fnmatch(k, IGNORE)));
  return crypto.createHash(node).update(pyJsonDumps(kept), 'utf8').digest('hex');
}

export function checksumOf(item: Record<string, unknown>, algorithm = 'sha256'): string {
  return `1;LC;${algorithm};${itemHash(item, algorithm)}`;
}

/** Parse `version;tag;algorithm;hex` (the tag does not count when comparing). */
function parseChecksum(s: unknown): { version: number; algorithm: string; hash: string } {
  const parts = typeof s === 'string' ? s.split(';') : [];
  if (parts.length !== 4) throw new Error('Malformed checksum');
  const [version, , algorithm, hash] = parts as [string, string, string, string];
  if (!ALGORITHMS[algorithm]) throw new Error(`Algorithm must be one of ${Object.keys(ALGORITHMS).sort().join(', ')}`);
  return { version: Number(version), algorithm, hash };
}

function validFor(c: { version: number; algorithm: string; hash: string }, item: Record<string, unknown>): boolean {
  if (c.version !== 1) throw new Error('Only checksum format version 1 is currently supported');
  return itemHash(item, c.algorithm) === c.hash;
}

export const SEVERITIES = ['INFO', 'WARNING', 'NOTICE', 'ERROR'] as const;
export type Severity = (typeof SEVERITIES)[number];
export interface CheckResult {
  id: string;
  description: string;
  severity: Severity;
}

export interface ChecksumOptions {
  table: TableInfo;
  globs: string[];
  ignoreCase?: boolean;
  algorithm?: string;
  dryRun?: boolean;
  force?: boolean;
}

async function writeItem(backend: Backend, g: GlobalOptions, t: TableInfo, item: Record<string, unknown>): Promise<void> {
  if (t.table) await backend.config.put((await resolveRealm(backend, g)).realm, t.table, item);
  else await backend.config.putRealm(item as Parameters<Backend['config']['putRealm']>[0]);
}

/**
 * Run one sub-command. `add` and `update` keep a zip of every item they change (as it was) in
 * `lava.<realm>.<table>-<UTC time>.zip` in the current directory, as upstream does.
 */
export async function runChecksum(
  backend: Backend,
  g: GlobalOptions,
  command: 'check' | 'add' | 'update',
  o: ChecksumOptions,
): Promise<{ results: CheckResult[]; backupFile?: string }> {
  const algorithm = o.algorithm ?? 'sha256';
  if (!ALGORITHMS[algorithm])
    throw new ValidationError(`--hash-algorithm ${algorithm}: use one of ${Object.keys(ALGORITHMS).join(', ')}`);
  const results: CheckResult[] = [];
  const changed: [string, Buffer][] = [];
  for (const item of await tableItems(backend, g, o.table)) {
    const id = String(item[o.table.key]);
    if (o.globs.length && !selectKey(id, o.globs, { ignoreCase: o.ignoreCase })) continue;
    const add = (description: string, severity: Severity) => results.push({ id, description, severity });
    const stored = item[CHECKSUM_KEY];
    if (command === 'check') {
      if (stored === undefined) {
        add('No checksum', 'WARNING');
        continue;
      }
      try {
        if (validFor(parseChecksum(stored), item)) add('OK', 'INFO');
        else add('Invalid checksum', 'ERROR');
      } catch (err) {
        add((err as Error).message, 'ERROR');
      }
      continue;
    }
    const fresh = checksumOf(item, algorithm);
    if (command === 'add') {
      if (stored) {
        add('Has existing checksum', 'INFO');
        continue;
      }
    } else {
      if (stored === undefined) {
        add('No checksum', 'INFO');
        continue;
      }
      let existing: ReturnType<typeof parseChecksum> | undefined;
      try {
        existing = parseChecksum(stored);
      } catch {
        existing = undefined; // damaged: replace it
      }
      if (existing && existing.algorithm === algorithm && existing.version === 1 && existing.hash === itemHash(item, algorithm)) {
        add('Checksum OK', 'INFO');
        continue;
      }
      if (!o.force && existing && existing.version === 1 && validFor(existing, item)) {
        add('Checksum different but OK', 'INFO');
        continue;
      }
    }
    const verb = command === 'add' ? 'added' : 'updated';
    if (o.dryRun) {
      add(`Checksum would be ${verb}`, 'NOTICE');
      continue;
    }
    changed.push([`${sanitiseFilename(id)}.json`, Buffer.from(formatItem(item, false))]);
    await writeItem(backend, g, o.table, { ...item, [CHECKSUM_KEY]: fresh });
    add(`Checksum ${verb}`, 'NOTICE');
  }
  let backupFile: string | undefined;
  if (changed.length) {
    const realm = o.table.table ? (await resolveRealm(backend, g)).realm : '';
    const name = o.table.table ? `lava.${realm}.${o.table.title}` : 'lava.realms';
    backupFile = `${name}-${new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')}.zip`;
    fs.writeFileSync(backupFile, zipFiles(changed), { mode: 0o600 });
  }
  return { results, backupFile };
}

const COLOURS: Record<Severity, string> = { INFO: '\x1b[32m', WARNING: '\x1b[33m', NOTICE: '\x1b[34m', ERROR: '\x1b[31m' };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c] as string);
}

/** Upstream's report: results at or above the severity, sorted by id; nothing at all when none. */
export function formatResults(results: CheckResult[], format: string, keyField: string, minSeverity: number): string {
  const shown = results
    .filter((r) => SEVERITIES.indexOf(r.severity) >= minSeverity)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (!shown.length) return '';
  let body: string;
  if (format === 'txt') body = shown.map((r) => `${r.id}: ${r.severity} : ${r.description}\n`).join('');
  else if (format === 'tty') body = shown.map((r) => `${COLOURS[r.severity]}${r.id}: ${r.description}\x1b[0m\n`).join('');
  else if (format === 'md') {
    body =
      `|${keyField}|Severity|Description|\n|--|--|--|\n` +
      shown.map((r) => `|${r.id}|${r.severity}|${r.description}|\n`).join('');
  } else {
    const rows = shown
      .map(
        (r) =>
          `\n            <TR class="result-${r.severity.toLowerCase()}">\n                <TD>${escapeHtml(r.id)}</TD>\n                <TD>${r.severity}</TD>\n                <TD>${escapeHtml(r.description)}</TD>\n            </TR>\n        `,
      )
      .join('');
    body =
      `    <TABLE class="lava-checksum-report">\n        <THEAD>\n            <TR>\n                <TH>${escapeHtml(keyField)}</TH>\n` +
      `                <TH>Severity</TH>\n                <TH>Description</TH>\n            </TR>\n        </THEAD>\n        <TBODY>${rows}\n        </TBODY>\n    </TABLE>`;
  }
  return body + '\n';
}

export function registerChecksum(program: Command, g: () => GlobalOptions): void {
  const cmd = program
    .command('checksum')
    .description('drift checksums (x-lava-chk) on jobs, connections, s3triggers or realms, as upstream lava-checksum')
    .option('-t, --table <table>', 'jobs, connections, s3triggers (or triggers) or realms; any unique start', 'jobs')
    .option('-f, --format <format>', 'txt, tty, md or html (default: tty on a terminal, else txt)')
    .option('--hash-algorithm <alg>', `one of ${Object.keys(ALGORITHMS).join(', ')}`, 'sha256')
    .option('-i, --ignore-case', 'match the patterns in any case')
    .option('-v, --verbose', 'also report INFO (-v) and WARNING (-vv) results; repeatable', (_v: string, n: number) => n + 1, 0);
  const run = (name: 'check' | 'add' | 'update', sub: Command) =>
    sub.action(async (globs: string[], so: { dryRun?: boolean; force?: boolean }) => {
      const o = cmd.opts<{ table: string; format?: string; hashAlgorithm: string; ignoreCase?: boolean; verbose: number }>();
      const table = tableNamed(o.table);
      const format = o.format ?? (process.stdout.isTTY ? 'tty' : 'txt');
      if (!['txt', 'tty', 'md', 'html'].includes(format))
        throw new ValidationError(`--format ${format}: use txt, tty, md or html`);
      await withBackend(g(), async (backend) => {
        const { results, backupFile } = await runChecksum(backend, g(), name, {
          table,
          globs,
          ignoreCase: o.ignoreCase,
          algorithm: o.hashAlgorithm,
          dryRun: so.dryRun,
          force: so.force,
        });
        // NOTICE and ERROR always; -v adds WARNING, -vv INFO (upstream's order: INFO < WARNING < NOTICE < ERROR).
        process.stdout.write(formatResults(results, format, table.key, Math.max(0, 2 - o.verbose)));
        if (backupFile) process.stderr.write(`lava: the changed items as they were: ${backupFile}\n`);
        if (name === 'check' && results.some((r) => r.severity === 'ERROR')) process.exitCode = 1;
      });
    });
  run(
    'check',
    cmd.command('check').argument('[glob...]', 'only items whose key matches one of these').description('validate checksums'),
  );
  run(
    'add',
    cmd
      .command('add')
      .argument('[glob...]', 'only items whose key matches one of these')
      .description('add missing checksums')
      .option('-d, --dry-run', 'change nothing; say what would change'),
  );
  run(
    'update',
    cmd
      .command('update')
      .argument('[glob...]', 'only items whose key matches one of these')
      .description('update existing checksums that do not match')
      .option('-d, --dry-run', 'change nothing; say what would change')
      .option('--force', 'replace a checksum that is valid but made with another algorithm'),
  );
}
