import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ValidationError } from '../../core/errors.js';
import { fileModes, makeDirs, withExec } from '../../core/paths.js';
import type { BlobInfo, BlobStore } from '../ports.js';

/**
 * `file://` blobs: a directory tree standing in for an S3 bucket, with S3's prefix semantics.
 * Files and directories it creates get the realm file modes (private to the owner by default).
 */
export class FileBlobStore implements BlobStore {
  async list(prefixUri: string): Promise<BlobInfo[]> {
    const prefix = toPath(prefixUri);
    const dir = prefixUri.endsWith('/') ? prefix : path.dirname(prefix);
    const start = prefixUri.endsWith('/') ? '' : path.basename(prefix);
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw err;
    }
    const out: BlobInfo[] = [];
    for (const name of names.filter((n) => n.startsWith(start)).sort()) {
      const info = await this.head(toUri(path.join(dir, name)));
      if (info) out.push(info);
    }
    return out;
  }

  async listRecursive(prefixUri: string): Promise<BlobInfo[]> {
    const prefix = toPath(prefixUri);
    const root = prefixUri.endsWith('/') ? prefix : path.dirname(prefix);
    let entries: string[];
    try {
      entries = await fsp.readdir(root, { recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: BlobInfo[] = [];
    for (const rel of entries.sort()) {
      const full = path.join(root, rel);
      if (!full.startsWith(prefix)) continue;
      const info = await this.head(toUri(full));
      if (info) out.push(info);
    }
    return out;
  }

  async head(uri: string): Promise<BlobInfo | undefined> {
    const p = toPath(uri);
    try {
      const st = await fsp.stat(p);
      if (!st.isFile()) return undefined;
      return { uri: toUri(p), name: path.basename(p), size: st.size, modified: st.mtime };
    } catch {
      return undefined;
    }
  }

  async read(uri: string): Promise<Buffer> {
    return fsp.readFile(toPath(uri));
  }

  async download(uri: string, localPath: string): Promise<void> {
    await fsp.copyFile(toPath(uri), localPath);
  }

  async write(uri: string, data: Buffer | string): Promise<void> {
    const p = toPath(uri);
    const modes = fileModes();
    await makeDirs(path.dirname(p), modes.dir);
    await fsp.writeFile(p, data, { mode: modes.file });
    await fsp.chmod(p, modes.file);
  }

  /** An upload the owner could execute stays executable (exe payloads), with x only where r is. */
  async upload(localPath: string, uri: string): Promise<void> {
    const p = toPath(uri);
    const modes = fileModes();
    await makeDirs(path.dirname(p), modes.dir);
    await fsp.copyFile(localPath, p);
    const executable = ((await fsp.stat(localPath)).mode & 0o100) !== 0;
    await fsp.chmod(p, executable ? withExec(modes.file) : modes.file);
  }

  async delete(uri: string): Promise<boolean> {
    try {
      await fsp.unlink(toPath(uri));
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The local path of a file URI, refusing one that could resolve above the place it was built
 * from: URL parsing folds `.`/`..` segments (also as `%2e`), reads `\\` as `/`, drops some
 * control characters, and cuts the path at `?` or `#`.
 */
function toPath(uri: string): string {
  const u = uri.endsWith('/') ? uri.slice(0, -1) || uri : uri;
  const refuse = (why: string): never => {
    throw new ValidationError(
      `storage location ${JSON.stringify(u.slice(0, 300))} ${why}: Lava refuses locations that could point outside their area`,
    );
  };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\\]/.test(u)) refuse('contains a control character or a backslash');
  if (/[?#]/.test(u)) refuse('contains ? or #: percent-encode them (%3F, %23)');
  const pathPart = u.replace(/^file:\/\/[^/]*/i, '');
  for (const segment of pathPart.split('/')) {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // Not valid percent-encoding: fileURLToPath reports it.
    }
    if (decoded === '.' || decoded === '..') refuse('has a "." or ".." part');
  }
  return fileURLToPath(u);
}

function toUri(p: string): string {
  return pathToFileURL(p).href;
}
