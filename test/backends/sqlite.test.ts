/** Every conformance suite against the embedded backend: a fresh SQLite file in a temp dir per suite. */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openBackend } from '../../src/backends/index.js';
import { FileBlobStore } from '../../src/backends/blob/file.js';
import type { Backend } from '../../src/backends/ports.js';
import { runBlobStoreConformance } from '../conformance/blob-store.case.js';
import { runConfigStoreConformance } from '../conformance/config-store.case.js';
import { runEventStoreConformance } from '../conformance/event-store.case.js';
import { runQueueConformance } from '../conformance/queue.case.js';
import { runRunClaimsConformance } from '../conformance/run-claims.case.js';
import { runSecretStoreConformance } from '../conformance/secret-store.case.js';
import { runStateStoreConformance } from '../conformance/state-store.case.js';

async function makeSqlite(): Promise<{ backend: Backend; cleanup: () => Promise<void> }> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-sqlite-'));
  const backend = await openBackend(`sqlite:${path.join(dir, 'lava.db')}`);
  return {
    backend,
    cleanup: async () => {
      await backend.close();
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

const opts = { name: 'sqlite', make: makeSqlite };

runConfigStoreConformance(opts);
runEventStoreConformance(opts);
runRunClaimsConformance(opts);
runStateStoreConformance(opts);
runSecretStoreConformance(opts);
runQueueConformance(opts);

runBlobStoreConformance({
  name: 'file',
  make: async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-blob-'));
    return {
      store: new FileBlobStore(),
      baseUri: pathToFileURL(dir).href,
      cleanup: () => fsp.rm(dir, { recursive: true, force: true }),
    };
  },
});
