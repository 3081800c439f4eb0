/** Errors of the connection subsystem. Messages never contain a secret value (see `redact`). */
import { LavaError, type LavaErrorOptions } from '../core/errors.js';

/**
 * A connection could not be looked up, validated, resolved or opened: missing or disabled
 * connection, bad spec, missing secret, driver refusing to connect.
 */
export class ConnectionError extends LavaError {
  constructor(message: string, options: LavaErrorOptions = {}) {
    super('LAVA_CONNECTION', message, options);
  }
}

/** Replace every occurrence of each secret in `text` with `***` (longest first). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((v) => v.length >= 1).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join('***');
  }
  return out;
}
