/** Backends are found by URL through their descriptors; the CLI calls their admin verbs by name. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  backendAdmin,
  canonicalBackendUrl,
  findBackend,
  openBackend,
  registerBackend,
  type Backend,
  type BackendDescriptor,
} from '../../src/backends/index.js';
import type { GlobalOptions } from '../../src/cli/context.js';
import { registerDb } from '../../src/cli/db.js';
import { ConfigError } from '../../src/core/errors.js';

/** Run `lava db ARGS --backend URL`; returns stdout. */
async function lavaDb(url: string, ...args: string[]): Promise<string> {
  const program = new Command('lava').option('--backend <url>').exitOverride();
  registerDb(program, () => program.opts<GlobalOptions>());
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'lava', 'db', ...args, '--backend', url]);
    return out;
  } finally {
    spy.mockRestore();
  }
}

const undo: (() => void)[] = [];
afterEach(() => undo.splice(0).forEach((f) => f()));

describe('backend registry', () => {
  it('finds each built-in backend by its URL', () => {
    expect(findBackend('sqlite:./x.db')?.name).toBe('sqlite');
    expect(findBackend('some/dir/lava.db')?.name).toBe('sqlite');
    expect(findBackend('postgres://u@h:5432/db')?.name).toBe('postgres');
    expect(findBackend('postgresql://u@h/db')?.name).toBe('postgres');
    expect(findBackend('aws://?region=eu-west-1')?.name).toBe('aws');
    expect(findBackend('http://x/lava.db')).toBeUndefined();
  });

  it('refuses an unknown URL with a ConfigError listing the URL forms', async () => {
    const err = await openBackend('mysql://h/db').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toContain('use sqlite:PATH, postgres://USER@HOST:PORT/DB or aws://');
  });

  it('canonical URLs match what the opened backend reports', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-registry-'));
    try {
      const rel = path.relative(process.cwd(), path.join(dir, 'lava.db'));
      const backend = await openBackend(`sqlite:${rel}`);
      await backend.close();
      expect(canonicalBackendUrl(`sqlite:${rel}`)).toBe(backend.url);
      expect(canonicalBackendUrl(rel)).toBe(backend.url);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
    expect(canonicalBackendUrl('postgres://u:pw@h/db')).toMatch(/^postgres:\/\/u:pw@h(:5432)?\/db/);
    expect(canonicalBackendUrl('aws:')).toBe('aws://');
    expect(canonicalBackendUrl('nope:')).toBe('nope:');
  });

  it('names the verbs a backend has when asked for one it lacks', () => {
    expect(() => backendAdmin('aws://', 'migrate', 'lava db migrate')).toThrow(
      /lava db migrate does not apply to the AWS backend: its admin verbs are bootstrap/,
    );
    expect(() => backendAdmin('sqlite:x.db', 'bootstrap', 'lava aws bootstrap')).toThrow(ConfigError);
  });

  it('opens and administers a registered backend through its descriptor', async () => {
    const fake = { url: 'mem:' } as Backend;
    const mem: BackendDescriptor = {
      name: 'mem',
      title: 'in-memory',
      urlForm: 'mem:',
      matches: (url) => url.startsWith('mem:'),
      canonicalUrl: (url) => url,
      open: async () => fake,
      admin: {},
    };
    undo.push(registerBackend(mem));
    expect(await openBackend('mem:')).toBe(fake);
    await expect(lavaDb('mem:', 'status')).rejects.toThrow(
      /lava db status does not apply to the in-memory backend: it has no admin verbs/,
    );
  });

  it('lava db status and migrate on the embedded backend say it migrates itself', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-registry-'));
    try {
      const url = `sqlite:${path.join(dir, 'lava.db')}`;
      expect(await lavaDb(url, 'status')).toMatch(/embedded \(SQLite\) backend upgrades its schema itself.*: nothing to do/);
      expect(JSON.parse(await lavaDb(url, 'status', '--json'))).toEqual({ backend: url, embedded: true, pending: 0 });
      expect(await lavaDb(url, 'migrate')).toMatch(/: it is up to date/);
      expect(fs.existsSync(path.join(dir, 'lava.db'))).toBe(true);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('src/cli imports no concrete backend, only the registry, ports and blob stores', () => {
    const dir = path.resolve('src/cli');
    const offenders = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /backends\/(sqlite|postgres|aws)\//.test(fs.readFileSync(path.join(dir, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
