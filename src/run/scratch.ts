/** A run's scratch space: the private directory its job processes and connection files use. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { confine, makeDirsSync } from '../core/paths.js';

/**
 * A run's private directory, made on first use: many jobs (log, chain, dispatch…) never need one,
 * and directory churn is a large share of a short run's cost.
 */
export class Scratch {
  private made = false;
  private static readonly removing = new Set<Promise<void>>();

  /** Wait for background removals (a stopping worker calls this). */
  static async settle(): Promise<void> {
    await Promise.allSettled([...Scratch.removing]);
  }

  readonly dir: string;

  /** `<root>/<runId>`; a run id that would leave root fails the run when the directory is first used. */
  constructor(
    private readonly root: string,
    private readonly runId: string,
  ) {
    this.dir = path.join(root, runId);
  }

  /** The directory, created if needed, private to the owner (it may hold connection files with secrets). */
  get path(): string {
    if (!this.made) {
      makeDirsSync(confine(this.root, this.runId, 'run id'));
      this.made = true;
    }
    return this.dir;
  }

  /**
   * Remove the directory in the background. The usual content (a few files and an empty TMPDIR) goes
   * at once with a handful of system calls; anything bigger is removed recursively in the background.
   */
  remove(): void {
    if (!this.made) return;
    if (removeSmall(this.dir)) return;
    const p = fsp
      .rm(this.dir, { recursive: true, force: true })
      .catch(() => undefined)
      .finally(() => Scratch.removing.delete(p));
    Scratch.removing.add(p);
  }
}

/** Most entries `removeSmall` removes itself; a directory holding more goes to the recursive removal. */
const SMALL = 16;

/**
 * Remove `dir` when it holds at most SMALL entries, each a file, a symlink or an empty directory:
 * true when it is gone. False (with whatever could be removed removed) otherwise.
 */
function removeSmall(dir: string): boolean {
  try {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    if (entries.length > SMALL) return false;
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) fs.rmdirSync(p);
      else fs.unlinkSync(p);
    }
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(dir);
  }
}
