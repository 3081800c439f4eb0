import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BlobInfo, BlobStore } from '../ports.js';

/** `file://` blobs: a directory tree standing in for an S3 bucket, with S3's prefix semantics. */
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
    await fsp.mkdir(path.dirname(p), { recursive: true });
    await fsp.writeFile(p, data);
  }

  async upload(localPath: string, uri: string): Promise<void> {
    const p = toPath(uri);
    await fsp.mkdir(path.dirname(p), { recursive: true });
    await fsp.copyFile(localPath, p);
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

function toPath(uri: string): string {
  const p = fileURLToPath(uri.endsWith('/') ? uri.slice(0, -1) || uri : uri);
  return p;
}

function toUri(p: string): string {
  return pathToFileURL(p).href;
}
