/** The dispatch message codec: the wire contract between producers and workers. */
import { ValidationError } from '../core/errors.js';
import { dispatchMessageSchema, type DispatchMessage } from '../core/schemas.js';
import { formatIssues } from '../core/validate.js';
import { isoLocal } from '../core/time.js';

/** Dates (e.g. `globals.lava.master_start`) travel as local ISO-8601 strings, as upstream sends them. */
export function encodeMessage(msg: DispatchMessage): string {
  return JSON.stringify(msg, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    return raw instanceof Date ? isoLocal(raw) : value;
  });
}

/**
 * Parse and strictly validate a message body; throws ValidationError naming what is wrong. The run
 * id and job id become paths on the worker, so the schema refuses any that could leave their area.
 */
export function decodeMessage(body: string): DispatchMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw notJson(body);
  }
  return validateMessage(raw);
}

/** The error for a body that is not JSON, showing its start. */
export function notJson(body: string): ValidationError {
  return new ValidationError(`dispatch message is not JSON: ${body.slice(0, 200)}`);
}

/** decodeMessage for a body already parsed from JSON (a worker parses each body once). */
export function validateMessage(raw: unknown): DispatchMessage {
  const parsed = dispatchMessageSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError('malformed dispatch message', formatIssues(parsed.error));
  return parsed.data;
}
