/**
 * Replay of the upstream user guide's `pkg` example (test/fixtures/upstream-guide/pkg.yaml) on the
 * embedded backend: the spec is stored unchanged and run by a worker with the spec's own worker
 * name. The package demo/my-pkg.zip is built from test/fixtures/upstream-guide/payloads/demo/my-pkg/.
 * Expected behaviour: test/fixtures/upstream-guide/behaviour.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { makeRealm, type TestRealm } from '../helpers.js';
import { GUIDE, example } from './guide.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
});
afterEach(async () => {
  await t.close();
});

/** Zip every file under payloads/<dir> (paths relative to it) into the realm's payload area as <rel>. */
async function zipPayload(dir: string, rel: string): Promise<void> {
  const root = path.join(GUIDE, 'payloads', dir);
  const zip = new yazl.ZipFile();
  for (const entry of (fs.readdirSync(root, { recursive: true }) as string[]).sort()) {
    const file = path.join(root, entry);
    if (fs.statSync(file).isFile()) zip.addFile(file, entry, { mode: 0o100000 | (fs.statSync(file).mode & 0o777) });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const target = path.join(t.dir, 'payloads', rel);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, Buffer.concat(chunks));
}

describe('pkg.yaml replays (upstream guide, JT/pkg.md)', () => {
  it('#1 demo/my-pkg downloads demo/my-pkg.zip, unpacks it and runs `main-script.sh --log-level warning` from the bundle root', async () => {
    await zipPayload('demo/my-pkg', 'demo/my-pkg.zip');
    const spec = example('pkg', 1);
    await t.putJob(spec);
    const runId = await t.dispatch(String(spec.job_id));
    await t.drain({ worker: String(spec.worker) });
    const rec = await t.backend.events.get('test', 'demo/my-pkg', runId);
    const info = rec?.log.at(-1)?.info as { output: { payload: string; stdout: string }[] };
    expect(
      rec?.log.map((e) => e.status),
      JSON.stringify(info),
    ).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(info.output.map((o) => o.payload)).toEqual(['my-pkg.zip']);
    const stdout = fs.readFileSync(fileURLToPath(info.output[0]!.stdout), 'utf8').trim().split('\n');
    const [bundle] = stdout.filter((l) => l.startsWith('cwd=')).map((l) => l.slice(4));
    expect(stdout).toEqual([
      '--log-level',
      'warning',
      `cwd=${bundle}`,
      `here=${bundle}`, // main-script.sh is found at the root of the bundle, which is the cwd
      'message from inside the bundle',
      `LAVA_S3_PAYLOAD=${t.realm.s3_payloads}/demo/my-pkg.zip`,
    ]);
  });

  it.skip('#2 (18-Samples "pkg") is a template with command "???": skipped because the guide describes no behaviour to replay', () => {});
});
