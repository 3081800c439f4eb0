/**
 * Running SQL scripts statement by statement (sql, sqli, `lava sql`): split (unless raw), render
 * each statement (optional), strip, skip blanks, run, and hand result sets to writers (CSV with
 * Python csv semantics, or JSON Lines).
 */
import fs from 'node:fs';
import { errorMessage } from '../core/errors.js';
import { formatCsvRow, type CsvFormat } from './csv.js';
import { firstLine, isBlankSql, splitStatements, trimStatement } from './split.js';
import type { DbClient, RowSink } from './types.js';

/** A statement that failed: names it by number and first line. */
export class StatementError extends Error {
  constructor(
    readonly payload: string,
    readonly statement: number,
    readonly line: string,
    readonly reason: unknown,
  ) {
    super(`${payload}: statement ${statement} (${JSON.stringify(line)}) failed: ${errorMessage(reason)}`);
    this.name = 'StatementError';
  }
}

/** A result-set destination that can fail part-way (a CSV value that cannot be written). */
export interface ResultWriter extends RowSink {
  /** Flush; throws the first write error, if any. */
  finish(): void;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Write all of `text`, waiting while a non-blocking stdout pipe is full (EAGAIN). */
function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text, 'utf8');
  while (buf.length) {
    try {
      buf = buf.subarray(fs.writeSync(fd, buf));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

/** Buffered writes to a file descriptor, flushed every `batchSize` rows. */
abstract class BufferedWriter implements ResultWriter {
  private buffer: string[] = [];
  private error: unknown;
  protected names: string[] = [];

  constructor(
    private readonly fd: number,
    private readonly batchSize: number,
  ) {}

  protected abstract header(names: string[]): string | undefined;
  protected abstract line(values: unknown[]): string;

  columns(names: string[]): void {
    this.names = names;
    this.guard(() => {
      const h = this.header(names);
      if (h !== undefined) this.buffer.push(h);
    });
  }

  row(values: unknown[]): void {
    this.guard(() => {
      this.buffer.push(this.line(values));
      if (this.buffer.length >= this.batchSize) this.flush();
    });
  }

  /** Errors are kept, not thrown: rows arrive inside driver event handlers. */
  private guard(fn: () => void): void {
    if (this.error !== undefined) return;
    try {
      fn();
    } catch (err) {
      this.error = err;
    }
  }

  private flush(): void {
    if (!this.buffer.length) return;
    writeAll(this.fd, this.buffer.join(''));
    this.buffer = [];
  }

  finish(): void {
    if (this.error !== undefined) throw this.error instanceof Error ? this.error : new Error(String(this.error));
    this.flush();
  }
}

export class CsvWriter extends BufferedWriter {
  constructor(
    fd: number,
    private readonly format: CsvFormat,
    private readonly withHeader: boolean,
    batchSize: number,
  ) {
    super(fd, batchSize);
  }
  protected header(names: string[]): string | undefined {
    return this.withHeader ? formatCsvRow(names, this.format) : undefined;
  }
  protected line(values: unknown[]): string {
    return formatCsvRow(values, this.format);
  }
}

/** A value as JSON: bigints and Buffers as strings, Dates as ISO text. */
function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (v instanceof Date) return v.toISOString();
  return v;
}

export class JsonlWriter extends BufferedWriter {
  protected header(): undefined {
    return undefined;
  }
  protected line(values: unknown[]): string {
    const o: Record<string, unknown> = {};
    this.names.forEach((n, i) => (o[n] = jsonSafe(values[i])));
    return JSON.stringify(o) + '\n';
  }
}

export interface ScriptOptions {
  /** Name used in errors (payload basename, sqli index, file name). */
  name: string;
  raw: boolean;
  /** Render one statement (Jinja) after splitting; identity when absent. */
  render?: (sql: string) => string;
  /** A writer for statement `n`'s result set, created when the statement turns out to return rows. */
  writerFor(n: number): ResultWriter;
  /** Called after statement `n`'s result set is complete. */
  afterResult?(n: number): Promise<void>;
}

/** Run every statement of one script. Throws StatementError naming the failed statement. */
export async function runScript(client: DbClient, text: string, o: ScriptOptions): Promise<void> {
  const statements = o.raw ? [text] : splitStatements(text.trim());
  for (const [n, source] of statements.entries()) {
    let sql = source;
    try {
      if (o.render) sql = o.render(sql);
    } catch (err) {
      throw new StatementError(o.name, n, firstLine(source), err);
    }
    sql = trimStatement(sql);
    if (isBlankSql(sql)) continue;
    let writer: ResultWriter | undefined;
    try {
      await client.stream(sql, [], {
        columns(names) {
          writer ??= o.writerFor(n);
          writer.columns(names);
        },
        row(values) {
          writer?.row(values);
        },
      });
      writer?.finish();
    } catch (err) {
      try {
        writer?.finish();
      } catch {
        // the statement's own error is the one to report
      }
      throw new StatementError(o.name, n, firstLine(sql), err);
    }
    if (writer) await o.afterResult?.(n);
  }
}
