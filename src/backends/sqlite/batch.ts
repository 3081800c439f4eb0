/**
 * Group commit for the embedded backend. Writes issued in the same turn of the event loop run in
 * one transaction (each in its own savepoint, so one failing write does not undo the others), and
 * each caller's promise settles when that transaction has committed. With several runs in
 * flight this turns many commits into one, which is most of a short run's cost.
 */
import type Database from 'better-sqlite3';

interface Op {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class WriteBatcher {
  private pending: Op[] = [];
  /** Run inside a transaction, this is a savepoint: a failing write rolls back alone. */
  private readonly savepoint: (fn: () => unknown) => unknown;

  constructor(private readonly db: Database.Database) {
    this.savepoint = db.transaction((fn: () => unknown) => fn());
  }

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const ops = this.pending;
    this.pending = [];
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      this.db
        .transaction(() => {
          for (const op of ops) {
            try {
              results.push({ ok: true, value: this.savepoint(op.fn) });
            } catch (err) {
              results.push({ ok: false, value: err });
            }
          }
        })
        .immediate();
    } catch (err) {
      for (const op of ops) op.reject(err);
      return;
    }
    ops.forEach((op, i) => {
      const r = results[i]!;
      if (r.ok) op.resolve(r.value);
      else op.reject(r.value);
    });
  }
}
