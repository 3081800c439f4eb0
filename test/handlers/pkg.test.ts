import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import yazl from 'yazl';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpack } from '../../src/handlers/pkg/unpack.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
let work: string;
beforeEach(async () => {
  t = await makeRealm();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-pkg-test-'));
});
afterEach(async () => {
  await t.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function makeTree(): string {
  const src = path.join(work, 'src');
  fs.mkdirSync(path.join(src, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(src, 'bin', 'main.sh'), '#!/bin/sh\necho "pkg $* in $(basename $(pwd)) $(cat data.txt)"\n', {
    mode: 0o755,
  });
  fs.writeFileSync(path.join(src, 'data.txt'), 'DATA');
  return src;
}

async function makeTarGz(name: string): Promise<string> {
  const src = makeTree();
  const file = path.join(work, name);
  await tar.c({ gzip: true, file, cwd: src }, ['bin', 'data.txt']);
  return file;
}

/** yazl refuses unsafe names, so such entries are written as `xx/…` and patched to `../…` afterwards. */
async function makeZip(name: string, entries: [string, string, number?][]): Promise<string> {
  const file = path.join(work, name);
  const zip = new yazl.ZipFile();
  for (const [entry, content, mode] of entries) {
    zip.addBuffer(Buffer.from(content), entry.replaceAll('../', 'xx/'), { mode: mode ?? 0o100644 });
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream
      .pipe(fs.createWriteStream(file))
      .on('close', () => resolve())
      .on('error', reject);
  });
  let bytes = fs.readFileSync(file).toString('latin1');
  for (const [entry] of entries) bytes = bytes.replaceAll(entry.replaceAll('../', 'xx/'), entry);
  fs.writeFileSync(file, Buffer.from(bytes, 'latin1'));
  return file;
}

async function runPkg(payload: string | string[], command = 'bin/main.sh --x 1') {
  await t.putJob({ job_id: 'p', type: 'pkg', payload, parameters: { command } });
  const runId = await t.dispatch('p');
  await t.drain();
  const rec = await t.backend.events.get('test', 'p', runId);
  return { statuses: rec!.log.map((e) => e.status), last: rec!.log.at(-1)!.info as Record<string, unknown> };
}

describe('pkg job type', () => {
  it('unpacks a .tar.gz and runs the command from the package root', async () => {
    const pkg = await makeTarGz('app.tar.gz');
    fs.mkdirSync(path.join(t.dir, 'payloads/pkgs'), { recursive: true });
    fs.copyFileSync(pkg, path.join(t.dir, 'payloads/pkgs/app.tar.gz'));
    const r = await runPkg('pkgs/app.tar.gz');
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const out = (r.last.output as { payload: string; stdout: string }[])[0]!;
    expect(out.payload).toBe('app.tar.gz');
    expect(out.stdout).toMatch(/app\.tar\.gz\.stdout$/);
    expect(fs.readFileSync(fileURLToPath(out.stdout), 'utf8')).toMatch(/^pkg --x 1 in 0\.\w+ DATA\n$/);
  });

  it('unpacks a .zip keeping the execute bit, and runs several packages in order', async () => {
    const zip = await makeZip('app.zip', [
      ['bin/main.sh', '#!/bin/sh\necho zip "$@"\n', 0o100755],
      ['data.txt', 'Z'],
    ]);
    fs.mkdirSync(path.join(t.dir, 'payloads/pkgs'), { recursive: true });
    fs.copyFileSync(zip, path.join(t.dir, 'payloads/pkgs/a.zip'));
    fs.copyFileSync(await makeTarGz('b.tar.gz'), path.join(t.dir, 'payloads/pkgs/b.tar.gz'));
    const r = await runPkg(['pkgs/a.zip', 'pkgs/b.tar.gz']);
    expect(r.statuses.at(-1)).toBe('complete');
    expect((r.last.output as { payload: string }[]).map((o) => o.payload)).toEqual(['a.zip', 'b.tar.gz']);
  });

  it('refuses a zip with an entry escaping the target directory (zip slip)', async () => {
    const zip = await makeZip('evil.zip', [
      ['../../escaped.txt', 'gotcha'],
      ['bin/main.sh', '#!/bin/sh\n', 0o100755],
    ]);
    fs.mkdirSync(path.join(t.dir, 'payloads/pkgs'), { recursive: true });
    fs.copyFileSync(zip, path.join(t.dir, 'payloads/pkgs/evil.zip'));
    const r = await runPkg('pkgs/evil.zip');
    expect(r.statuses.at(-1)).toBe('failed');
    expect(String(r.last.error)).toMatch(/escapes its directory: "\.\.\/\.\.\/escaped\.txt"/);
    expect((r.last.error_data as { exit_status: number }).exit_status).toBe(1);
  });

  it('refuses a tar whose entry or symlink points outside the target directory', async () => {
    const dest = path.join(work, 'out');
    fs.mkdirSync(dest);
    const src = path.join(work, 'linksrc');
    fs.mkdirSync(src);
    fs.symlinkSync('/etc/passwd', path.join(src, 'pw'));
    const file = path.join(work, 'link.tar');
    await tar.c({ file, cwd: src }, ['pw']);
    await expect(unpack(file, dest)).rejects.toThrow(/escapes its directory: "pw"/);
    expect(fs.readdirSync(dest)).toEqual([]);
  });

  it('fails clearly on an unknown package type and on a missing command', async () => {
    await expect(unpack(path.join(work, 'x.rar'), work)).rejects.toThrow(/must be \.zip, \.tar or \.tar\.\*/);
    fs.mkdirSync(path.join(t.dir, 'payloads/pkgs'), { recursive: true });
    fs.copyFileSync(await makeTarGz('c.tar.gz'), path.join(t.dir, 'payloads/pkgs/c.tar.gz'));
    const r = await runPkg('pkgs/c.tar.gz', 'bin/missing.sh');
    expect(String(r.last.error)).toMatch(/command bin\/missing\.sh is not in the package/);
  });
});
