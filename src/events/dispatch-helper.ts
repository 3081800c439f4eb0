/**
 * Upstream's dispatch helper (spec §2.6) as a library: a message asks for one or more dispatches,
 * either as JSON (an object or a list of objects with `job_id`, `parameters`, `globals`, `delay`;
 * `x-*` keys ignored, others refused) or as text (one request per line, shell-lexed,
 * `JOB_ID [-d DUR] [-p k=v]... [-g k=v]...`, `#` comments and blank lines ignored). Each request
 * is dispatched on its own; errors are collected per request, never thrown.
 * See docs/dispatch-helper.md.
 */
import type { Backend } from '../backends/ports.js';
import type { Config } from '../core/config.js';
import { errorMessage, ValidationError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { shlexSplit } from '../core/shlex.js';
import { dispatch, realmConfig } from '../dispatch/dispatch.js';
import { expandPairs } from '../dispatch/params.js';

export interface HelperRequest {
  job_id: string;
  parameters?: Record<string, unknown>;
  globals?: Record<string, unknown>;
  delay?: number | string;
}

export interface HelperError {
  /** Which request: `request 2` (JSON list, from 1) or `line 3` (text). */
  request: string;
  /** The job, when the request got as far as naming one. */
  job_id?: string;
  error: string;
}

export interface HelperResult {
  dispatched: { job_id: string; run_id: string }[];
  errors: HelperError[];
}

const JSON_KEYS = new Set(['job_id', 'parameters', 'globals', 'delay']);
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The requests of one message body: JSON when it parses as JSON, else text. */
export function parseHelperBody(body: string): { requests: { label: string; request: HelperRequest }[]; errors: HelperError[] } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return parseText(body);
  }
  return parseJson(json);
}

/** JSON mode: an object or a list of objects. */
export function parseJson(json: unknown): { requests: { label: string; request: HelperRequest }[]; errors: HelperError[] } {
  const requests: { label: string; request: HelperRequest }[] = [];
  const errors: HelperError[] = [];
  const list = Array.isArray(json) ? json : [json];
  list.forEach((item, i) => {
    const label = Array.isArray(json) ? `request ${i + 1}` : 'request';
    try {
      requests.push({ label, request: jsonRequest(item) });
    } catch (err) {
      errors.push({ request: label, error: errorMessage(err) });
    }
  });
  if (Array.isArray(json) && json.length === 0) errors.push({ request: 'body', error: 'an empty list asks for nothing' });
  return { requests, errors };
}

function jsonRequest(item: unknown): HelperRequest {
  if (!isMap(item)) {
    throw new ValidationError(`a request is an object such as {"job_id": "demo/hello"}, not ${JSON.stringify(item)}`);
  }
  const unknown = Object.keys(item).filter((k) => !JSON_KEYS.has(k) && !/^x-/i.test(k));
  if (unknown.length) {
    throw new ValidationError(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: use job_id, parameters, globals, delay (or x-* for notes)`,
    );
  }
  if (typeof item.job_id !== 'string' || !item.job_id) throw new ValidationError('job_id is required: the job to dispatch');
  for (const k of ['parameters', 'globals'] as const) {
    if (item[k] !== undefined && !isMap(item[k])) throw new ValidationError(`${k} must be an object`);
  }
  if (item.delay !== undefined && typeof item.delay !== 'number' && typeof item.delay !== 'string') {
    throw new ValidationError('delay must be seconds or a duration such as "5m"');
  }
  return {
    job_id: item.job_id,
    ...(item.parameters !== undefined ? { parameters: item.parameters as Record<string, unknown> } : {}),
    ...(item.globals !== undefined ? { globals: item.globals as Record<string, unknown> } : {}),
    ...(item.delay !== undefined ? { delay: item.delay } : {}),
  };
}

/** Text mode: one `JOB_ID [-d DUR] [-p k=v]... [-g k=v]...` per line. */
export function parseText(body: string): { requests: { label: string; request: HelperRequest }[]; errors: HelperError[] } {
  const requests: { label: string; request: HelperRequest }[] = [];
  const errors: HelperError[] = [];
  body.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const label = `line ${i + 1}`;
    try {
      requests.push({ label, request: textRequest(trimmed) });
    } catch (err) {
      errors.push({ request: label, error: errorMessage(err) });
    }
  });
  return { requests, errors };
}

const OPTIONS: Record<string, 'd' | 'p' | 'g'> = {
  '-d': 'd',
  '--delay': 'd',
  '-p': 'p',
  '--param': 'p',
  '-g': 'g',
  '--global': 'g',
};

function textRequest(line: string): HelperRequest {
  const words = shlexSplit(line, 'request');
  let jobId: string | undefined;
  let delay: string | undefined;
  const params: string[] = [];
  const globals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    let opt = OPTIONS[w];
    let value: string | undefined;
    if (opt) value = words[++i];
    else if (/^--(delay|param|global)=/.test(w)) {
      opt = OPTIONS[w.slice(0, w.indexOf('='))];
      value = w.slice(w.indexOf('=') + 1);
    } else if (/^-[dpg]./.test(w)) {
      opt = OPTIONS[w.slice(0, 2)];
      value = w.slice(2);
    } else if (w.startsWith('-')) {
      throw new ValidationError(
        `unknown option ${JSON.stringify(w)}: use JOB_ID [-d DURATION] [-p name=value]... [-g name=value]...`,
      );
    } else if (jobId === undefined) {
      jobId = w;
      continue;
    } else throw new ValidationError(`unexpected ${JSON.stringify(w)}: one job id per line (options are -d, -p, -g)`);
    if (value === undefined) throw new ValidationError(`${w} needs a value`);
    if (opt === 'd') delay = value;
    else (opt === 'p' ? params : globals).push(value);
  }
  if (!jobId) throw new ValidationError('job id is required: the line names the job to dispatch first');
  const parameters = expandPairs(params, '-p');
  const g = expandPairs(globals, '-g');
  return {
    job_id: jobId,
    ...(params.length ? { parameters } : {}),
    ...(globals.length ? { globals: g } : {}),
    ...(delay !== undefined ? { delay } : {}),
  };
}

/**
 * The message bodies of an event as the upstream lambda received it: `Records[]` from SNS
 * (`Sns.Message`) or SQS (`body`), or one raw request object (`job_id`: direct invoke, EventBridge).
 */
export function helperBodies(event: unknown): string[] {
  if (isMap(event) && Array.isArray(event.Records)) {
    return event.Records.map((r: unknown, i) => {
      const rec = isMap(r) ? r : {};
      const sns = isMap(rec.Sns) ? rec.Sns.Message : undefined;
      const body = typeof sns === 'string' ? sns : rec.body;
      if (typeof body !== 'string') throw new ValidationError(`Records[${i}] has neither Sns.Message nor body`);
      return body;
    });
  }
  if (isMap(event) && 'job_id' in event) return [JSON.stringify(event)];
  throw new ValidationError('an event is SNS or SQS Records, or a request object with job_id');
}

/** Dispatch every request of a message body; errors are collected, not thrown. */
export async function runDispatchHelper(
  backend: Backend,
  realm: string,
  body: string | unknown[] | Record<string, unknown>,
  options: { logger?: Logger; config?: Config } = {},
): Promise<HelperResult> {
  const logger = options.logger ?? silentLogger;
  const parsed = typeof body === 'string' ? parseHelperBody(body) : parseJson(body);
  const result: HelperResult = { dispatched: [], errors: [...parsed.errors] };
  if (!parsed.requests.length) {
    if (!result.errors.length) result.errors.push({ request: 'body', error: 'no requests: the body is empty or all comments' });
  } else {
    const config = options.config ?? (await realmConfig(backend, realm));
    for (const { label, request } of parsed.requests) {
      try {
        const runId = await dispatch(
          backend,
          {
            realm,
            jobId: request.job_id,
            ...(request.parameters ? { parameters: request.parameters } : {}),
            ...(request.globals ? { globals: request.globals } : {}),
            ...(request.delay !== undefined ? { delay: request.delay } : {}),
          },
          { config },
        );
        result.dispatched.push({ job_id: request.job_id, run_id: runId });
      } catch (err) {
        result.errors.push({ request: label, job_id: request.job_id, error: errorMessage(err) });
      }
    }
  }
  for (const e of result.errors) logger.warn({ realm, ...e }, 'dispatch helper: request failed');
  if (result.dispatched.length) logger.info({ realm, dispatched: result.dispatched }, 'dispatch helper');
  return result;
}
