/** The dispatch message codec: the wire contract between producers and workers. */
import { ValidationError } from '../core/errors.js';
import { dispatchMessageSchema, type DispatchMessage } from '../core/schemas.js';
import { formatIssues } from '../core/validate.js';

export function encodeMessage(msg: DispatchMessage): string {
  return JSON.stringify(msg, (_k, v: unknown) => (v instanceof Date ? v.toISOString() : v));
}

/** Parse and strictly validate a message body; throws ValidationError naming what is wrong. */
export function decodeMessage(body: string): DispatchMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new ValidationError(`dispatch message is not JSON: ${body.slice(0, 200)}`);
  }
  const parsed = dispatchMessageSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError('malformed dispatch message', formatIssues(parsed.error));
  return parsed.data;
}
