/**
 * Ids that become paths: hostile run ids, job ids, output names, payload keys and storage keys
 * are refused where they enter and cannot leave their area where they are used.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { joinUri } from '../../src/backends/blob/index.js';
import { FileBlobStore } from '../../src/backends/blob/file.js';
import { Config } from '../../src/core/config.js';
import { ValidationError } from '../../src/core/errors.js';
import { confine, jobIdProblem, payloadKeyProblem, runIdProblem } from '../../src/core/paths.js';
import { checkSpec } from '../../src/core/validate.js';
import { dispatch } from '../../src/dispatch/dispatch.js';
import { builtinHandlers } from '../../src/handlers/registry.js';
import { putState } from '../../src/state/state.js';
import type { Handler } from '../../src/run/handler.js';
import { makeCliRealm, type CliRealm } from '../e2e/cli-helpers.js';
import { makeRealm, type TestRealm } from '../helpers.js';

describe('id checks', () => {
  test('job ids: Lava-style ids pass, ids that could leave their directory do not', () => {
    for (const ok of ['demo/hello', 'a.b/c-d_e', 'x', 'team/sub/job.v2', 'with space/and:colon']) {
      expect(jobIdProblem(ok), ok).toBeUndefined();
    }
    for (const bad of [
      '../x',
      'a/../../b',
      'a/./b',
      '..',
      '.',
      '/abs',
      'a//b',
      'a/',
      'a\\..\\b',
      'a\nb',
      'a\0b',
      'x'.repeat(513),
      '',
    ]) {
      expect(jobIdProblem(bad), JSON.stringify(bad)).toBeDefined();
    }
  });

  test('run ids: UUIDs and other safe ids pass, path-like ones do not', () => {
    for (const ok of ['0b94f7fb-6802-4938-a1e4-1f83d9ee7c6b', 'run_1.2', 'abc:def']) expect(runIdProblem(ok), ok).toBeUndefined();
    for (const bad of ['../../../../some/dir', '..', '.', 'a/b', '.hidden', 'a b', 'x'.repeat(129), '']) {
      expect(runIdProblem(bad), JSON.stringify(bad)).toBeDefined();
    }
  });

  test('payload keys may be prefixes but never climb', () => {
    for (const ok of ['demo/run.sh', 'demo/', '/demo/run.sh', 'pkgs/a b.tar.gz'])
      expect(payloadKeyProblem(ok), ok).toBeUndefined();
    for (const bad of ['../../x', 'demo/../../x', '..', 'a\\b', 'a\tb']) expect(payloadKeyProblem(bad), bad).toBeDefined();
  });

  test('confine keeps a path strictly under its root', () => {
    expect(confine('/srv/root', 'a/b')).toBe('/srv/root/a/b');
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', '.', '', '..']) {
      expect(() => confine('/srv/root', bad, 'run id'), bad).toThrow(ValidationError);
    }
    expect(() => confine('/srv/root', '../../etc', 'run id')).toThrow(/run id "..\/..\/etc" would be outside \/srv\/root/);
  });
});

describe('storage keys', () => {
  test('joinUri refuses parts with . or .. segments, backslashes or control characters', () => {
    expect(joinUri('file:///srv/temp', 'demo/hello', 'run-1', 'stdout')).toBe('file:///srv/temp/demo/hello/run-1/stdout');
    for (const bad of ['../../etc', 'a/../../b', '.', 'a\\..\\b', '.\n.']) {
      expect(() => joinUri('file:///srv/temp', bad), JSON.stringify(bad)).toThrow(ValidationError);
    }
  });

  test('the file blob store refuses URIs that would resolve outside the place they were built from', async () => {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'lava-blob-esc-'));
    try {
      const root = path.join(dir, 'area');
      fs.mkdirSync(root);
      const base = pathToFileURL(root).href;
      const store = new FileBlobStore();
      const escapes = [
        `${base}/../outside`,
        `${base}/a/../../outside`,
        `${base}/%2e%2e/outside`,
        `${base}/.%2E/outside`,
        `${base}/..\\outside`,
        `${base}/..?x/outside`,
        `${base}/.\n./outside`,
      ];
      for (const uri of escapes) {
        await expect(store.write(uri, 'x'), JSON.stringify(uri)).rejects.toThrow(ValidationError);
        await expect(store.read(uri), JSON.stringify(uri)).rejects.toThrow(ValidationError);
        await expect(store.upload(__filename, uri), JSON.stringify(uri)).rejects.toThrow(ValidationError);
      }
      expect(fs.readdirSync(dir).sort()).toEqual(['area']);
      // Ordinary keys still work.
      await store.write(`${base}/a/b.txt`, 'ok');
      expect(fs.readFileSync(path.join(root, 'a/b.txt'), 'utf8')).toBe('ok');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('worker and dispatch', () => {
  let t: TestRealm;
  beforeEach(async () => {
    t = await makeRealm();
  });
  afterEach(async () => {
    await t.close();
  });

  test('a queue message whose run id climbs out of the scratch root is discarded with an event and touches no file', async () => {
    // <tmpRoot>/test/w.<pid>/<run_id>: three levels up is the realm directory, where the sentinel lives.
    const sentinel = path.join(t.dir, 'sentinel');
    fs.mkdirSync(sentinel);
    fs.writeFileSync(path.join(sentinel, 'keep.txt'), 'precious');
    await t.putJob({ job_id: 'demo/hello', type: 'cmd', payload: 'touch ran-here' });
    const hostile = ['../../../sentinel', '../../../some/dir', '..', 'a/../../../sentinel'];
    for (const runId of hostile) {
      await t.backend
        .queue('test', 'w')
        .send(
          JSON.stringify({ realm: 'test', worker: 'w', job_id: 'demo/hello', run_id: runId, ts_dispatch: '2026-01-01T00:00:00' }),
        );
    }
    await t.drain();

    expect(fs.readdirSync(sentinel)).toEqual(['keep.txt']);
    expect(fs.readFileSync(path.join(sentinel, 'keep.txt'), 'utf8')).toBe('precious');
    expect(fs.existsSync(path.join(t.dir, 'some'))).toBe(false);
    for (const runId of hostile) {
      const rec = await t.backend.events.get('test', 'demo/hello', runId);
      expect(
        rec?.log.map((e) => e.status),
        runId,
      ).toEqual(['discarded']);
      expect(String(rec?.log[0]?.info), runId).toMatch(/run_id/);
    }
    expect(await t.backend.queue('test', 'w').counts()).toMatchObject({ visible: 0, inflight: 0 });
  });

  test('a queue message whose job id climbs is discarded with an event', async () => {
    const runId = '0b94f7fb-6802-4938-a1e4-1f83d9ee7c6b';
    await t.backend
      .queue('test', 'w')
      .send(
        JSON.stringify({ realm: 'test', worker: 'w', job_id: '../../../x', run_id: runId, ts_dispatch: '2026-01-01T00:00:00' }),
      );
    await t.drain();
    const rec = await t.backend.events.get('test', '../../../x', runId);
    expect(rec?.log.map((e) => e.status)).toEqual(['discarded']);
    expect(String(rec?.log[0]?.info)).toMatch(/job_id/);
  });

  test('a message with an id too long for any key is discarded and only logged', async () => {
    const runId = 'r'.repeat(5000);
    await t.backend
      .queue('test', 'w')
      .send(
        JSON.stringify({ realm: 'test', worker: 'w', job_id: 'demo/hello', run_id: runId, ts_dispatch: '2026-01-01T00:00:00' }),
      );
    await t.drain();
    expect(await t.backend.events.get('test', 'demo/hello', runId)).toBeUndefined();
    expect(await t.backend.queue('test', 'w').counts()).toMatchObject({ visible: 0, inflight: 0 });
  });

  test('dispatch refuses job ids and run ids that climb, before anything is queued', async () => {
    await expect(dispatch(t.backend, { realm: 'test', jobId: '../../x', worker: 'w' })).rejects.toThrow(
      /job id "..\/..\/x" has a "." or ".." part/,
    );
    await expect(dispatch(t.backend, { realm: 'test', jobId: 'demo/ok', worker: 'w', runId: '../../r' })).rejects.toThrow(
      /run id/,
    );
    expect(await t.backend.queue('test', 'w').counts()).toMatchObject({ visible: 0, delayed: 0 });
  });

  test('state put refuses state ids that climb or hold control characters', async () => {
    for (const bad of ['../x', 'a/../../b', 'a\nb', '/abs']) {
      await expect(putState(t.backend, 'test', new Config({}, {}), bad, 1), JSON.stringify(bad)).rejects.toThrow(/state_id/);
    }
    await putState(t.backend, 'test', new Config({}, {}), 'team/counter', 1);
    expect((await t.backend.state.list('test', '')).map((i) => i.state_id)).toEqual(['team/counter']);
  });

  test('job specs with climbing job ids fail the check that job put runs', () => {
    const r = checkSpec('job', { job_id: '../../etc/x', type: 'cmd', worker: 'w', payload: 'true' });
    expect(r.errors.join('\n')).toMatch(/^job_id: "..\/..\/etc\/x" has a "." or ".." part/);
    expect(checkSpec('job', { job_id: 'demo/x', type: 'cmd', worker: 'w', payload: 'true' }).errors).toEqual([]);
  });

  test('an output name that climbs fails the run and writes nothing outside the run prefix', async () => {
    const escape: Handler = {
      type: 'escape',
      async run(ctx) {
        await ctx.saveOutput('../../../outside', { data: 'leaked' });
        return { exit_status: 0 };
      },
    };
    const handlers = new Map(builtinHandlers());
    handlers.set('escape', escape);
    await t.putJob({ job_id: 'esc', type: 'escape' });
    const runId = await t.dispatch('esc');
    await t.drain({ handlers });
    expect(fs.existsSync(path.join(t.dir, 'outside'))).toBe(false);
    const rec = await t.backend.events.get('test', 'esc', runId);
    expect(rec?.status).toBe('failed');
    expect(JSON.stringify(rec?.log.at(-1)?.info)).toMatch(/output name .*has a \\"\.\\" or \\"\.\.\\" part/);
  });

  test.each([
    ['exe', { payload: '../../outside.sh' }],
    ['pkg', { payload: '../../outside.tar.gz', parameters: { command: 'run.sh' } }],
  ])('a %s payload that climbs out of the payload area fails before anything runs', async (type, spec) => {
    // The realm dir holds payloads/; two levels up from payloads/<x> is outside it.
    const marker = path.join(t.dir, 'ran');
    fs.writeFileSync(path.join(path.dirname(t.dir), 'outside.sh'), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    try {
      await t.putJob({ job_id: `climb-${type}`, type, ...spec });
      const runId = await t.dispatch(`climb-${type}`);
      await t.drain();
      const rec = await t.backend.events.get('test', `climb-${type}`, runId);
      expect(rec?.status).toBe('failed');
      expect(JSON.stringify(rec?.log.at(-1)?.info)).toMatch(/payload .*has a \\"\.\\" or \\"\.\.\\" part/);
      expect(fs.existsSync(marker)).toBe(false);
    } finally {
      fs.rmSync(path.join(path.dirname(t.dir), 'outside.sh'), { force: true });
    }
  });
});

describe('lava payload put (CLI)', () => {
  let r: CliRealm;
  beforeEach(async () => {
    r = await makeCliRealm();
  });
  afterEach(() => r.cleanup());

  test('a remote path that climbs out of the payload area is refused and nothing is written', async () => {
    const file = r.write('src/evil.sh', '#!/bin/sh\necho hi\n');
    // A name no other test uses: the old code wrote it next to the realm dir.
    const name = `escaped-${path.basename(r.dir)}`;
    for (const remote of [`../../${name}`, `a/../../${name}`, '..']) {
      const res = await r.lava(['payload', 'put', file, remote]);
      expect(res.code, remote).not.toBe(0);
      expect(res.stderr, remote).toMatch(/remote path .*has a "\." or "\.\." part/);
    }
    expect(fs.existsSync(path.join(r.dir, name))).toBe(false);
    expect(fs.existsSync(path.join(path.dirname(r.dir), name))).toBe(false);
    expect(fs.readdirSync(path.join(r.dir, 'payloads'))).toEqual([]);
    // Nor can ls look outside it.
    const ls = await r.lava(['payload', 'ls', '../']);
    expect(ls.code).not.toBe(0);
    expect(ls.stderr).toMatch(/prefix "\.\.\/" has a "\." or "\.\." part/);
    // An ordinary upload still works.
    await r.lavaOk(['payload', 'put', file, 'demo/']);
    expect(fs.existsSync(path.join(r.dir, 'payloads/demo/evil.sh'))).toBe(true);
  });

  test('lava job put refuses a job id that climbs', async () => {
    const spec = r.write('bad.yaml', 'job_id: ../../etc/x\ntype: cmd\nworker: w\npayload: "true"\n');
    const res = await r.lava(['job', 'put', spec]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/job_id: "\.\.\/\.\.\/etc\/x" has a "\." or "\.\." part/);
    const ls = await r.lavaOk(['job', 'ls', '--json']);
    expect(ls.stdout).not.toMatch(/etc\/x/);
  });
});
