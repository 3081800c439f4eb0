/** `lava quickstart`: a realm from examples/, a few dispatched jobs, a worker, their events. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { joinUri, blobStoreFor } from '../backends/blob/index.js';
import { openBackend } from '../backends/index.js';
import { createLogger } from '../core/logger.js';
import { checkSpec } from '../core/validate.js';
import { dispatch } from '../dispatch/dispatch.js';
import { Worker } from '../worker/worker.js';
import { printTable } from './context.js';
import { eventRows } from './events.js';
import { initEmbeddedRealm } from './init.js';
import { uploadPayload } from './payload.js';
import { loadSpecFile } from './specs.js';
import { ValidationError } from '../core/errors.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

/** Load examples/ into a realm: job specs, payload files, and packages packed as .tar.gz. */
export async function loadExamples(backendUrl: string, realmName: string, examples = EXAMPLES_DIR): Promise<string[]> {
  const backend = await openBackend(backendUrl);
  try {
    const realm = await backend.config.getRealm(realmName);
    if (!realm) throw new ValidationError(`realm ${realmName} is missing`);
    const jobIds: string[] = [];
    for (const file of fs.readdirSync(path.join(examples, 'jobs')).sort()) {
      for (const s of loadSpecFile(path.join(examples, 'jobs', file))) {
        const r = checkSpec('job', s.spec);
        if (r.errors.length) throw new ValidationError(`example ${file} is invalid`, r.errors);
        await backend.config.put(realmName, 'jobs', s.spec);
        jobIds.push(String(s.spec.job_id));
      }
    }
    await uploadPayload(realm.s3_payloads, path.join(examples, 'payloads', 'demo'), 'demo');
    const packages = path.join(examples, 'packages');
    for (const name of fs.readdirSync(packages)) {
      const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lava-pkg-')), `${name}.tar.gz`);
      const tar = await import('tar');
      await tar.c(
        { gzip: true, file: tmp, cwd: path.join(packages, name), portable: true },
        fs.readdirSync(path.join(packages, name)),
      );
      const uri = joinUri(realm.s3_payloads, 'demo', `${name}.tar.gz`);
      await blobStoreFor(uri).upload(tmp, uri);
      fs.rmSync(path.dirname(tmp), { recursive: true, force: true });
    }
    return jobIds;
  } finally {
    await backend.close();
  }
}

export function registerQuickstart(program: Command): void {
  program
    .command('quickstart')
    .description('create a demo realm from examples/, dispatch its jobs, run a worker until they finish, show the events')
    .option('--dir <dir>', 'directory for the demo realm (default: a new temporary directory)')
    .action(async (o: { dir?: string }) => {
      const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lava-quickstart-'));
      const realmName = 'quickstart';
      const { backendUrl } = await initEmbeddedRealm(dir, realmName);
      const jobIds = await loadExamples(backendUrl, realmName);
      const out = (s: string) => process.stdout.write(s + '\n');
      out(`realm "${realmName}" in ${dir}, with ${jobIds.length} example jobs from examples/jobs/`);
      const backend = await openBackend(backendUrl);
      try {
        const runs: string[] = [];
        for (const jobId of jobIds) runs.push(await dispatch(backend, { realm: realmName, jobId }));
        out(`dispatched ${runs.length} runs; running worker "core" until the queue is empty…\n`);
        const worker = await Worker.create({
          backend,
          realm: realmName,
          worker: 'core',
          threads: 4,
          batch: true,
          // demo/flaky fails on purpose: its warnings would only repeat the table.
          logger: createLogger({ level: 'error' }),
        });
        await worker.run();
        const records = (await backend.events.query(realmName, { limit: 1000 })).filter((r) => runs.includes(r.run_id)).reverse();
        printTable(['TS_EVENT', 'JOB_ID', 'RUN_ID', 'STATUS', 'INFO'], eventRows(records));
        const hello = records.find((r) => r.job_id === 'demo/hello');
        out('\nNext:');
        out(`  export LAVA_BACKEND=${backendUrl}`);
        if (hello) out(`  npx lava output ${hello.run_id}          # what demo/hello printed`);
        out('  npx lava events demo/flaky --json     # the full records of the failing job');
        out('  npx lava dispatch demo/hello && npx lava worker -w core --batch');
      } finally {
        await backend.close();
      }
    });
}
