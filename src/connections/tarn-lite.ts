/**
 * The part of tarn's Pool that Kysely's MssqlDialect uses (acquire/release/destroy with
 * promise-returning create/destroy/validate), so MSSQL needs no extra dependency.
 */
export interface TarnLiteOptions<R> {
  create: () => Promise<R>;
  destroy: (resource: R) => unknown;
  validate?: (resource: R) => boolean | Promise<boolean>;
  min?: number;
  max: number;
  [key: string]: unknown;
}

export interface PendingAcquire<R> {
  promise: Promise<R>;
  resolve: (resource: R) => void;
  reject: (err: Error) => void;
}

export class TarnLitePool<R> {
  private readonly free: R[] = [];
  private readonly waiting: PendingAcquire<R>[] = [];
  private size = 0;
  private destroyed = false;

  constructor(private readonly opt: TarnLiteOptions<R>) {}

  acquire(): PendingAcquire<R> {
    let resolve!: (r: R) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<R>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const pending: PendingAcquire<R> = { promise, resolve, reject };
    void this.dispatch(pending);
    return pending;
  }

  private async dispatch(p: PendingAcquire<R>): Promise<void> {
    if (this.destroyed) return p.reject(new Error('pool is destroyed'));
    while (this.free.length) {
      const r = this.free.pop() as R;
      if (!this.opt.validate || (await this.opt.validate(r))) return p.resolve(r);
      this.size--;
      await this.opt.destroy(r);
    }
    if (this.size >= this.opt.max) {
      this.waiting.push(p);
      return;
    }
    this.size++;
    try {
      p.resolve(await this.opt.create());
    } catch (err) {
      this.size--;
      p.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  release(resource: R): void {
    const next = this.waiting.shift();
    if (next) next.resolve(resource);
    else this.free.push(resource);
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    for (const w of this.waiting.splice(0)) w.reject(new Error('pool is destroyed'));
    const all = this.free.splice(0);
    this.size -= all.length;
    await Promise.all(all.map((r) => this.opt.destroy(r)));
  }
}
