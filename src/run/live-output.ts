/**
 * Live output: while a job process runs, publish its output files as they grow to the URIs the final
 * upload uses, so a reader on another machine (lava serve, lava output) can tail a running job.
 *
 * Rules, and why:
 * - the first publish comes one OUTPUT_LIVE_INTERVAL after the start: short runs cost nothing extra;
 * - one round at a time, each round scheduled after the last one ends: never two publishes of one file
 *   at once, and a slow store slows publishing down instead of piling up requests;
 * - only files whose size changed since their last publish, and none past OUTPUT_LIVE_MAX (bounded
 *   cost: a file that big is published again only by the final upload);
 * - a publish sends a snapshot read into memory (at most OUTPUT_LIVE_MAX bytes), not the growing file:
 *   an S3 upload of a file that grows while it is read would not match its declared length;
 * - a failure is logged and never fails the run: the final upload is what counts;
 * - stop() waits for the round in flight and prevents any later one, so the caller's final upload
 *   always comes after the last live publish and overwrites it.
 */
import fsp from 'node:fs/promises';
import type { Logger } from '../core/logger.js';
import type { HandlerContext } from './handler.js';

export interface LiveFile {
  /** The output name, as given to saveOutput for the final upload. */
  name: string;
  /** The local file the process writes. */
  file: string;
}

export interface LiveOutput {
  /**
   * Stop publishing; resolves once no publish is in flight and none can start. Returns the names that
   * were published (a caller whose final file is empty must still overwrite those).
   */
  stop(): Promise<ReadonlySet<string>>;
}

export interface LiveOptions {
  files: readonly LiveFile[];
  /** Seconds between rounds; 0 or less: off. */
  interval: number;
  /** Bytes: a file larger than this is not published again until the final upload. */
  max: number;
  publish(name: string, data: Buffer): Promise<unknown>;
  logger: Logger;
}

const OFF: LiveOutput = { stop: () => Promise.resolve(new Set<string>()) };

/** Live output of a process job's files, per the run's configuration; nothing in dev mode. */
export function liveOutput(ctx: HandlerContext, files: readonly LiveFile[]): LiveOutput {
  // Dev mode tees output to the terminal and stores none, so there is nothing to publish early.
  if (ctx.dev) return OFF;
  return startLiveOutput({
    files,
    interval: ctx.config.duration('OUTPUT_LIVE_INTERVAL'),
    max: ctx.config.size('OUTPUT_LIVE_MAX'),
    publish: (name, data) => ctx.saveOutput(name, { data }),
    logger: ctx.logger,
  });
}

export function startLiveOutput(o: LiveOptions): LiveOutput {
  if (!(o.interval > 0) || o.files.length === 0) return OFF;
  const state = o.files.map((f) => ({ ...f, size: 0, capped: false, warned: false }));
  const published = new Set<string>();
  let stopped = false;
  let round: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const schedule = () => {
    timer = setTimeout(() => {
      timer = undefined;
      round = publishRound().finally(() => {
        round = undefined;
        if (!stopped) schedule();
      });
    }, o.interval * 1000);
    timer.unref(); // never what keeps a process alive
  };

  async function publishRound(): Promise<void> {
    for (const f of state) {
      if (stopped) return; // checked before each file: stop() waits for at most one publish
      if (f.capped) continue;
      try {
        const data = await snapshot(f.file, f.size, o.max);
        if (data === 'same') continue;
        if (data === 'capped') {
          f.capped = true;
          o.logger.debug({ output: f.name, max: o.max }, 'live output: file past OUTPUT_LIVE_MAX, published at the end only');
          continue;
        }
        await o.publish(f.name, data);
        f.size = data.length;
        published.add(f.name);
      } catch (err) {
        // A missing file (not created yet) is normal; anything else is worth one warning per file.
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        const level = missing || f.warned ? 'debug' : 'warn';
        if (!missing) f.warned = true;
        o.logger[level]({ output: f.name, err: String(err) }, 'live output: publish failed (the final upload still happens)');
      }
    }
  }

  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await round;
      return published;
    },
  };
}

/** The file's bytes if its size changed since `last` and is within `max`. */
async function snapshot(file: string, last: number, max: number): Promise<Buffer | 'same' | 'capped'> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size === last) return 'same';
    if (size > max) return 'capped';
    const buf = Buffer.alloc(size);
    const { bytesRead } = await fh.read(buf, 0, size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
