/**
 * Ids that become paths, and the modes of the files Lava creates.
 *
 * Run ids, job ids, payload keys, output names and state ids come from specs, queue messages and
 * command lines, and several end up in file paths or storage keys (`<scratch>/<run_id>`,
 * `<s3_temp>/<job_id>/<run_id>/<output>`, `<s3_payloads>/<key>`). Each is checked where it enters
 * (`check*`, `*Problem` for schemas) and confined where it is used (`confine`, `joinUri`), so a
 * `..` that slips past one still cannot leave its area.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, ValidationError } from './errors.js';
import { processSetting } from './settings.js';

// C0 and C1 controls and DEL: URL parsers drop some of them (a `.\n.` segment becomes `..`).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export const MAX_RUN_ID = 128;
export const MAX_JOB_ID = 512;
export const MAX_KEY = 1024;

/** Why a `/`-separated relative key is unsafe as a path, or undefined when it is safe. */
function keyProblem(value: string, max: number, opts: { leadingSlash: boolean; emptySegments: boolean }): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > max) return `is ${value.length} characters long, over the limit of ${max}`;
  if (CONTROL.test(value)) return 'contains a control character (such as a newline or NUL)';
  if (value.includes('\\')) return 'contains a backslash: use / between parts';
  if (!opts.leadingSlash && value.startsWith('/')) return 'starts with /: it must be relative';
  const segments = value.split('/');
  if (segments.some((s) => s === '.' || s === '..')) return 'has a "." or ".." part: it must not point outside its area';
  if (!opts.emptySegments && segments.some((s) => s === '')) return 'has an empty part ("//" or a / at either end)';
  return undefined;
}

/**
 * Run ids: ours are UUIDv4s, but other producers (upstream, AWS realms) may use other ids, so a
 * safe character set is accepted rather than only UUIDs. Starting with a letter or digit rules
 * out `.` and `..`.
 */
export function runIdProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_RUN_ID) return `is ${value.length} characters long, over the limit of ${MAX_RUN_ID}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(value)) {
    return 'must start with a letter or digit and hold only letters, digits and . _ : - (e.g. a UUID)';
  }
  return undefined;
}

/** Job ids look like `demo/hello` or `a.b/c-d_e`: `/`-separated parts, none empty, `.` or `..`. */
export function jobIdProblem(value: string): string | undefined {
  return keyProblem(value, MAX_JOB_ID, { leadingSlash: false, emptySegments: false });
}

/** Payload keys are relative to s3_payloads; a leading `/` or a `/` at the end (a prefix) is allowed. */
export function payloadKeyProblem(value: string): string | undefined {
  return keyProblem(value, MAX_KEY, { leadingSlash: true, emptySegments: true });
}

/** Output names are relative to the run's output prefix, e.g. `stdout` or `report/q1.0.out`. */
export function outputNameProblem(value: string): string | undefined {
  return keyProblem(value, MAX_KEY, { leadingSlash: false, emptySegments: false });
}

/** State ids are keys, not paths here, but other stores may file them by name: no `..`, no controls. */
export function stateIdProblem(value: string): string | undefined {
  return keyProblem(value, MAX_KEY, { leadingSlash: false, emptySegments: true });
}

function check(what: string, value: unknown, problem: (v: string) => string | undefined): string {
  if (typeof value !== 'string') throw new ValidationError(`${what} must be a string, not ${typeof value}`);
  const p = problem(value);
  if (p) throw new ValidationError(`${what} ${JSON.stringify(value.slice(0, 200))} ${p}`);
  return value;
}

export const checkRunId = (v: unknown, what = 'run_id'): string => check(what, v, runIdProblem);
export const checkJobId = (v: unknown, what = 'job_id'): string => check(what, v, jobIdProblem);
export const checkPayloadKey = (v: unknown, what = 'payload'): string => check(what, v, payloadKeyProblem);
export const checkOutputName = (v: unknown, what = 'output name'): string => check(what, v, outputNameProblem);
export const checkStateId = (v: unknown, what = 'state_id'): string => check(what, v, stateIdProblem);

/**
 * `root/relative`, resolved, and only if it lies strictly under root; otherwise a ValidationError
 * naming `what`. Lexical: the ids that reach it are checked already and root is ours.
 */
export function confine(root: string, relative: string, what = 'path'): string {
  const base = path.resolve(root);
  const full = path.resolve(base, relative);
  const rel = path.relative(base, full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new ValidationError(`${what} ${JSON.stringify(relative)} would be outside ${base}: use a path inside it`);
  }
  return full;
}

export interface FileModes {
  /** Files Lava writes (database, outputs, payloads). */
  file: number;
  /** Directories, and payloads that were executable: the file mode plus x wherever it has r. */
  dir: number;
}

const DEFAULT_FILE_MODE = 0o600;

/**
 * Modes of the realm files Lava creates, from `LAVA_FILE_MODE` (octal, e.g. `640` to let the
 * group read) or private to the owner. Applied with chmod, so the process umask does not matter.
 */
export function fileModes(env: NodeJS.ProcessEnv = process.env): FileModes {
  // Asked on every write and scratch dir: parse each value of LAVA_FILE_MODE once.
  const raw = processSetting('FILE_MODE', { env })?.trim() ?? '';
  let modes = modesBySetting.get(raw);
  if (!modes) {
    modes = parseFileModes(raw);
    modesBySetting.set(raw, modes);
  }
  return modes;
}

const modesBySetting = new Map<string, FileModes>();

function parseFileModes(raw: string): FileModes {
  let file = DEFAULT_FILE_MODE;
  if (raw) {
    if (!/^0?[0-7]{3}$/.test(raw) || (parseInt(raw, 8) & 0o600) !== 0o600 || (parseInt(raw, 8) & 0o111) !== 0) {
      throw new ConfigError(
        `LAVA_FILE_MODE ${JSON.stringify(raw)} is not a file mode Lava can use: give 3 octal digits with owner read and write and no execute bits, e.g. 600 or 640`,
      );
    }
    file = parseInt(raw, 8);
  }
  return { file, dir: withExec(file) };
}

/** A mode plus execute wherever it grants read (0600 → 0700, 0640 → 0750). */
export function withExec(mode: number): number {
  return mode | ((mode & 0o444) >> 2);
}

/** mkdir -p, with every directory it creates set to the directory mode (exactly, whatever the umask). */
export async function makeDirs(dir: string, mode = fileModes().dir): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true, mode });
  if (first) for (const d of createdChain(first, dir)) await fsp.chmod(d, mode);
}

export function makeDirsSync(dir: string, mode = fileModes().dir): void {
  const first = fs.mkdirSync(dir, { recursive: true, mode });
  if (first) for (const d of createdChain(first, dir)) fs.chmodSync(d, mode);
}

/** `first` (the top directory mkdir made) and each directory below it down to `dir`. */
function createdChain(first: string, dir: string): string[] {
  const out = [first];
  const rest = path.relative(first, path.resolve(dir));
  let cur = first;
  for (const part of rest ? rest.split(path.sep) : []) out.push((cur = path.join(cur, part)));
  return out;
}
