/**
 * Group commit for the embedded backend. Writes issued in the same turn of the event loop run in
 * one transaction, and each caller's promise settles when that transaction has committed. With
 * several runs in flight this turns many commits into one, which is most of a short run's cost.
 *
 * The writes run without savepoints: a savepoint per write cost as much as the writes themselves.
 * One failing write must still not undo the others, so when any write of a batch throws, the whole
 * transaction is rolled back and the batch runs again with each write in its own savepoint; only
 * the failing write then fails, and nothing of it is kept. A write is a function of the database
 * alone, so running it again after the rollback does the same thing.
 */
import type Database from 'better-sqlite3';

interface Op {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Result = { ok: true; value: unknown } | { ok: false; value: unknown };

/** Thrown out of the fast pass when one of its writes failed: the transaction is rolled back. */
class WriteFailed extends Error {}
const WRITE_FAILED = new WriteFailed('a write of the batch failed');

export class WriteBatcher {
  private pending: Op[] = [];
  /** Every write of the batch in one transaction; throws WRITE_FAILED if one fails. */
  private readonly fast: Database.Transaction<(ops: Op[]) => Result[]>;
  /** The same, each write in its own savepoint (nested transaction): a failing write rolls back alone. */
  private readonly isolated: Database.Transaction<(ops: Op[]) => Result[]>;

  constructor(private readonly db: Database.Database) {
    this.fast = db.transaction((ops: Op[]) =>
      ops.map((op): Result => {
        try {
          return { ok: true, value: op.fn() };
        } catch {
          throw WRITE_FAILED;
        }
      }),
    );
    const savepoint = db.transaction((fn: () => unknown) => fn());
    this.isolated = db.transaction((ops: Op[]) =>
      ops.map((op): Result => {
        try {
          return { ok: true, value: savepoint(op.fn) };
        } catch (err) {
          return { ok: false, value: err };
        }
      }),
    );
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
    let results: Result[];
    try {
      try {
        results = this.fast.immediate(ops);
      } catch (err) {
        if (err !== WRITE_FAILED) throw err;
        results = this.isolated.immediate(ops);
      }
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
