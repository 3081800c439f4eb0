/**
 * `COPY … FROM STDIN` over an open node-postgres client, without pg-copy-streams: a small
 * "submittable" that answers the server's CopyInResponse by streaming a file's bytes, so the load
 * runs in the job's own session and transaction.
 */
import { EventEmitter } from 'node:events';
import type pg from 'pg';

interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(msg: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

class CopyFromStdin extends EventEmitter {
  rowCount = 0;
  private aborted: string | undefined;
  /** The server reported an error: stop sending (it drops further copy messages). */
  private serverFailed = false;
  private readonly done: Promise<number>;
  private settle!: { resolve: (n: number) => void; reject: (e: Error) => void };

  constructor(
    readonly text: string,
    private readonly source: AsyncIterable<Buffer>,
  ) {
    super();
    this.done = new Promise<number>((resolve, reject) => (this.settle = { resolve, reject }));
  }

  result(): Promise<number> {
    return this.done;
  }

  private connection: PgConnection | undefined;
  private ended = false;

  /** Stop sending and make the server abandon the COPY (the transaction then fails). */
  abort(reason: string): void {
    this.aborted = reason;
    if (this.connection && !this.ended && !this.serverFailed) {
      this.ended = true;
      this.connection.sendCopyFail(reason);
    }
  }

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    this.connection = connection;
    void (async () => {
      try {
        for await (const chunk of this.source) {
          if (this.serverFailed || this.ended) return;
          connection.sendCopyFromChunk(chunk);
          if (connection.stream.writableNeedDrain) await new Promise((r) => connection.stream.once('drain', r));
        }
        if (this.serverFailed || this.ended) return;
        this.ended = true;
        connection.endCopyFrom();
      } catch (err) {
        if (this.serverFailed || this.ended) return;
        this.ended = true;
        connection.sendCopyFail(err instanceof Error ? err.message : String(err));
      }
    })();
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /^COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rowCount = Number(m[1]);
  }

  /** pg stops routing messages to a query after its error (no ReadyForQuery follows here), so settle now. */
  handleError(err: Error): void {
    this.serverFailed = true;
    // The server's message explains better than our own abort reason, unless we aborted.
    this.settle.reject(this.aborted ? new Error(this.aborted) : err);
  }

  handleReadyForQuery(): void {
    this.settle.resolve(this.rowCount);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}
}

/**
 * Run `copySql` (a `COPY … FROM STDIN …` statement) feeding it `source`. Rejects after
 * `timeoutSeconds` (PG_COPY_TIMEOUT), aborting the COPY. Returns the rows copied.
 */
export async function copyFromStdin(
  client: pg.Client,
  copySql: string,
  source: AsyncIterable<Buffer>,
  timeoutSeconds: number,
): Promise<number> {
  const q = new CopyFromStdin(copySql, source);
  let timer: NodeJS.Timeout | undefined;
  if (timeoutSeconds > 0) {
    timer = setTimeout(() => q.abort(`COPY timed out after ${timeoutSeconds} seconds (PG_COPY_TIMEOUT)`), timeoutSeconds * 1000);
  }
  try {
    void client.query(q as unknown as pg.QueryConfig);
    return await q.result();
  } finally {
    clearTimeout(timer);
  }
}
