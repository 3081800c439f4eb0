/**
 * Typed errors with stable string codes. Every message should say how to fix the problem;
 * the code appears in the message so it can be searched for in logs and in docs/errors.md.
 */
export interface LavaErrorOptions {
  /** Extra data recorded with the error (becomes `error_data` in a failed run's result). */
  data?: unknown;
  /** True when trying again later may succeed. */
  retryable?: boolean;
  cause?: unknown;
}

export class LavaError extends Error {
  readonly code: string;
  readonly data: unknown;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: LavaErrorOptions = {}) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.data = options.data;
    this.retryable = options.retryable ?? false;
  }

  /** The message without the `[CODE] ` prefix. */
  get detail(): string {
    return this.message.replace(/^\[[A-Z0-9_]+\] /, '');
  }
}

/** A spec, message or parameter that does not match its schema. */
export class ValidationError extends LavaError {
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [], options: LavaErrorOptions = {}) {
    super('LAVA_INVALID', issues.length ? `${message}\n  ${issues.join('\n  ')}` : message, options);
    this.issues = issues;
  }
}

export class NotFoundError extends LavaError {
  constructor(what: string, id: string, hint: string) {
    super('LAVA_NOT_FOUND', `${what} "${id}" not found: ${hint}`);
  }
}

/** A job handler's failure: `data` becomes the run's `error_data`. */
export class JobError extends LavaError {
  constructor(message: string, data?: unknown, options: Omit<LavaErrorOptions, 'data'> = {}) {
    super('LAVA_JOB_FAILED', message, { ...options, data });
  }
}

export class ConfigError extends LavaError {
  constructor(message: string) {
    super('LAVA_CONFIG', message);
  }
}

export class TemplateError extends LavaError {
  constructor(message: string, options: LavaErrorOptions = {}) {
    super('LAVA_TEMPLATE', message, options);
  }
}

export class IllegalStateError extends LavaError {
  constructor(message: string) {
    super('LAVA_ILLEGAL_STATE', message);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof LavaError) return err.detail;
  if (err instanceof Error) return err.message;
  return String(err);
}
