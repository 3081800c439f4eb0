/**
 * End-to-end: the compiled `lava` command line, one child process per call, each test with its
 * own embedded realm in a temp dir (LAVA_BACKEND=sqlite:<dir>/lava.db, LAVA_TMPDIR=<dir>/scratch).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import {
  EXAMPLES,
  UUID_RE,
  cleanEnv,
  ensureBuilt,
  killSpawned,
  lava,
  makeCliRealm,
  runIds,
  tableRows,
  type CliRealm,
} from './cli-helpers.js';

const DEMO = path.join(EXAMPLES, 'jobs/demo.yaml');
const DEMO_IDS = ['demo/flaky', 'demo/hello', 'demo/log', 'demo/off', 'demo/package', 'demo/report'];

const realms: CliRealm[] = [];
const dirs: string[] = [];

async function realm(): Promise<CliRealm> {
  const r = await makeCliRealm();
  realms.push(r);
  return r;
}

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-e2e-cli-'));
  dirs.push(d);
  return d;
}

/** Queue counts of a worker's queue, read straight from the realm database. */
async function queueCounts(r: CliRealm, realmName: string, worker: string) {
  const backend = await openBackend(r.backendUrl);
  try {
    return await backend.queue(realmName, worker).counts();
  } finally {
    await backend.close();
  }
}

beforeAll(() => ensureBuilt(), 300_000);

afterEach(() => killSpawned());

afterAll(() => {
  for (const r of realms) r.cleanup();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

// Every `lava` call starts a Node process (~0.5 s of CPU), so each test makes as few as it can.
const T = 60_000;

describe('lava init / realm', () => {
  it(
    'init creates a realm; a second init finds it; realm ls / get / put',
    async () => {
      const dir = tmpDir();
      const db = path.join(dir, 'lava.db');
      const env = cleanEnv({ LAVA_TMPDIR: path.join(dir, 'scratch') });
      const first = await lava(['init', '--dir', dir], { env, cwd: dir });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^created realm default in sqlite:/m);
      expect(first.stdout).toContain(`export LAVA_BACKEND=sqlite:${db}`);
      expect(fs.existsSync(db)).toBe(true);
      expect(fs.statSync(path.join(dir, 'payloads')).isDirectory()).toBe(true);
      expect(fs.statSync(path.join(dir, 'temp')).isDirectory()).toBe(true);

      const second = await lava(['init', '--dir', dir], { env, cwd: dir });
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/^found existing realm default/m);
      expect(second.stdout).not.toMatch(/^created/m);

      const withDb = { env: { ...env, LAVA_BACKEND: `sqlite:${db}` }, cwd: dir };
      // Only one realm, pointing at the dir's payload and temp areas.
      const table = await lava(['realm', 'ls'], withDb);
      const rows = tableRows(table.stdout, 'REALM');
      expect(rows).toEqual([
        ['default', pathToFileURL(path.join(dir, 'payloads')).href, pathToFileURL(path.join(dir, 'temp')).href],
      ]);

      const got = await lava(['realm', 'get', 'default'], withDb);
      expect(got.code, got.stderr).toBe(0);
      const spec = JSON.parse(got.stdout) as Record<string, unknown>;
      expect(spec).toMatchObject({ realm: 'default', s3_payloads: pathToFileURL(path.join(dir, 'payloads')).href });
      expect(spec.on_fail).toEqual([expect.objectContaining({ action: 'log' })]);

      // A second realm (and a bad one, refused with the field named, in the same put: nothing stored).
      const good = {
        realm: 'second',
        s3_payloads: pathToFileURL(path.join(dir, 'p2')).href,
        s3_temp: pathToFileURL(path.join(dir, 't2')).href,
      };
      const mixed = path.join(dir, 'realms-mixed.json');
      fs.writeFileSync(mixed, JSON.stringify([good, { realm: 'third', s3_payloads: 'file:///x' }]));
      const refused = await lava(['realm', 'put', mixed], withDb);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/realms-mixed\.json\[1\] \(third\): s3_temp: s3_temp is required/);
      const file = path.join(dir, 'realm2.yaml');
      fs.writeFileSync(file, `realm: ${good.realm}\ns3_payloads: ${good.s3_payloads}\ns3_temp: ${good.s3_temp}\n`);
      const put = await lava(['realm', 'put', file], withDb);
      expect(put.stdout).toBe('stored realm second\n');
      const ls = await lava(['realm', 'ls', '--json'], withDb);
      expect((JSON.parse(ls.stdout) as { realm: string }[]).map((x) => x.realm).sort()).toEqual(['default', 'second']);

      // With two realms, commands that need one must be told which.
      const ambiguous = await lava(['job', 'ls'], withDb);
      expect(ambiguous.code).toBe(1);
      expect(ambiguous.stderr).toMatch(/several realms .*\(default, second\): pass --realm or set LAVA_REALM/);
      const chosen = await lava(['--realm', 'second', 'job', 'ls', '--json'], withDb);
      expect(chosen.code, chosen.stderr).toBe(0);
      expect(chosen.stdout.trim()).toBe('[]');
    },
    T,
  );

  it(
    'unknown realm or backend flags fail with a message that says how to fix it',
    async () => {
      const r = await realm();
      const noRealm = await r.lava(['--realm', 'nosuch', 'job', 'ls']);
      expect(noRealm.code).toBe(1);
      expect(noRealm.stderr).toMatch(/realm "nosuch" does not exist/);
      expect(noRealm.stderr).toContain('lava init --realm nosuch');

      const envRealm = await r.lava(['realm', 'get'], { LAVA_REALM: 'nosuch' });
      expect(envRealm.code).toBe(1);
      expect(envRealm.stderr).toContain('lava init --realm nosuch');

      const badBackend = await r.lava(['--backend', 'mysql://db.example/lava', 'job', 'ls']);
      expect(badBackend.code).toBe(1);
      expect(badBackend.stderr).toMatch(/unknown backend "mysql:\/\/db\.example\/lava"/);
      expect(badBackend.stderr).toMatch(/use sqlite:PATH/);

      // A backend with no realm at all points at `lava init`.
      const empty = await r.lava(['dispatch', 'x/y'], { LAVA_BACKEND: `sqlite:${path.join(r.dir, 'empty.db')}` });
      expect(empty.code).toBe(1);
      expect(empty.stderr).toMatch(/no realm in .*lava init/);

      // An unknown option is a usage error, not a crash.
      const unknownOpt = await r.lava(['job', 'ls', '--bogus']);
      expect(unknownOpt.code).not.toBe(0);
      expect(unknownOpt.stderr).toMatch(/unknown option '--bogus'/);
    },
    T,
  );
});

describe('lava job put / ls / get / rm', () => {
  it(
    'stores the demo jobs, lists, gets and removes them',
    async () => {
      const r = await realm();
      const put = await r.lavaOk(['job', 'put', DEMO]);
      for (const id of DEMO_IDS) expect(put.stdout).toContain(`stored job ${id}\n`);

      const ls = await r.lavaOk(['job', 'ls', '--json']);
      const jobs = JSON.parse(ls.stdout) as Record<string, unknown>[];
      expect(jobs.map((j) => j.job_id).sort()).toEqual(DEMO_IDS);

      const table = await r.lavaOk(['job', 'ls']);
      const rows = tableRows(table.stdout, 'JOB_ID');
      expect(rows.find((row) => row[0] === 'demo/hello')?.slice(0, 4)).toEqual(['demo/hello', 'cmd', 'core', 'true']);
      expect(rows.find((row) => row[0] === 'demo/off')?.[3]).toBe('false');

      const get = await r.lavaOk(['job', 'get', 'demo/hello']);
      const spec = JSON.parse(get.stdout) as Record<string, unknown>;
      expect(spec).toMatchObject({
        job_id: 'demo/hello',
        type: 'cmd',
        worker: 'core',
        enabled: true,
        globals: { greeting: 'hello' },
      });
      expect(spec.payload).toBe('echo "hello from {{ job.job_id }} in realm {{ realm.realm }}"');

      const rm = await r.lavaOk(['job', 'rm', 'demo/hello', 'demo/off']);
      expect(rm.stdout).toBe('deleted job demo/hello\ndeleted job demo/off\n');
      const gone = await r.lava(['job', 'get', 'demo/hello']);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/job "demo\/hello" not found: list them with `lava job ls`/);

      // Putting again replaces (no duplicates), and brings the removed ones back.
      await r.lavaOk(['job', 'put', DEMO]);
      const after = JSON.parse((await r.lavaOk(['job', 'ls', '--json'])).stdout) as Record<string, unknown>[];
      expect(after.map((j) => j.job_id).sort()).toEqual(DEMO_IDS);
    },
    T,
  );

  it(
    'refuses an invalid spec: exit 1, every error with its field path, nothing stored',
    async () => {
      const r = await realm();
      const file = r.write(
        'bad.yaml',
        [
          '- job_id: ok/one',
          '  type: cmd',
          '  worker: core',
          '  payload: echo ok',
          '- job_id: bad/two',
          '  type: cmd',
          '  payload: echo bad',
          '  iteration_delay: 5 parsecs',
          '  globals:',
          '    lava_x: 1',
          '',
        ].join('\n'),
      );
      const junk = r.write('junk.yaml', 'job_id: [unclosed\n');
      const res = await r.lava(['job', 'put', file]);
      expect(res.code).toBe(1);
      expect(res.stdout).not.toContain('stored');
      expect(res.stderr).toContain('nothing stored');
      const lines = res.stderr.split('\n');
      const about = (field: string) =>
        lines.filter((l) => l.includes('bad.yaml[1] (bad/two)') && l.includes(`${field}: `)).join('\n');
      expect(about('worker')).toMatch(/worker: .*required/);
      expect(about('iteration_delay')).toMatch(/iteration_delay: .*bad duration/);
      expect(about('globals')).toMatch(/globals: .*reserved/);
      expect(lines.filter((l) => l.includes('bad.yaml[0]') && !l.startsWith('warning:'))).toEqual([]);

      // A file that is not YAML at all, given with a good one: still nothing stored.
      const res2 = await r.lava(['job', 'put', DEMO, junk]);
      expect(res2.code).toBe(1);
      expect(res2.stderr).toMatch(/junk\.yaml: not valid JSON or YAML/);
      // Neither the good spec in the bad file nor the demo jobs were stored.
      expect((await r.lavaOk(['job', 'ls', '--json'])).stdout.trim()).toBe('[]');
    },
    T,
  );
});

describe('lava check / schema', () => {
  const goodYaml = [
    'job_id: a/one',
    'type: cmd',
    'worker: core',
    'owner: me',
    'description: one',
    'payload: echo one',
    '---',
    'job_id: a/two',
    'type: log',
    'worker: core',
    'owner: me',
    'description: two',
    'payload: null',
    '',
  ].join('\n');
  const badYaml = [
    'job_id: b/one',
    'type: cmd',
    'worker: core',
    'payload: echo one',
    '---',
    'job_id: b/two',
    'type: cmd',
    'payload: echo two',
    'iteration_limit: -1',
    '',
  ].join('\n');

  function write(dir: string, name: string, text: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  }

  it(
    'accepts good multi-document YAML and JSON arrays (exit 0)',
    async () => {
      const dir = tmpDir();
      const y = write(dir, 'good.yaml', goodYaml);
      const j = write(
        dir,
        'good.json',
        JSON.stringify([
          { job_id: 'c/one', type: 'cmd', worker: 'core', owner: 'me', description: 'x', payload: 'echo 1' },
          { conn_id: 'db', type: 'postgres', description: 'a database' },
          { trigger_id: 't', bucket: 'b', prefix: 'p', job_id: 'c/one', enabled: true },
        ]),
      );
      // check needs no realm or backend
      const res = await lava(['check', y, j], { env: cleanEnv({ LAVA_BACKEND: 'nonsense://x' }), cwd: dir });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toBe('5 spec(s) checked, 0 error(s), 0 warning(s)\n');
    },
    T,
  );

  it(
    'rejects bad YAML and JSON (exit 1) naming the document and the field',
    async () => {
      const dir = tmpDir();
      const env = cleanEnv();
      const y = write(dir, 'bad.yaml', badYaml);
      const j = write(
        dir,
        'bad.json',
        JSON.stringify([
          { job_id: 'd/one', type: 'cmd', worker: 'core', payload: 'x', iteration_delay: '5 parsecs' },
          { trigger_id: 't', bucket: 'b', prefix: 'p', job_id: 'd/one', enabled: true, colour: 'red' },
        ]),
      );
      const u = write(dir, 'u.yaml', 'hello: world\n');
      const broken = write(dir, 'broken.json', '[{"job_id": ');
      const res = await lava(['check', y, j, u, broken], { env, cwd: dir });
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(/^5 spec\(s\) checked, 6 error\(s\), \d+ warning\(s\)\n$/);
      expect(res.stderr).toMatch(/^error: .*bad\.yaml\[1\] \(b\/two\): worker: .*required/m);
      expect(res.stderr).toMatch(/^error: .*bad\.yaml\[1\] \(b\/two\): iteration_limit: /m);
      expect(res.stderr).not.toMatch(/^error: .*bad\.yaml\[0\]/m);
      expect(res.stderr).toMatch(/^error: .*bad\.json\[0\] \(d\/one\): iteration_delay: bad duration/m);
      expect(res.stderr).toMatch(/^error: .*bad\.json\[1\][^\n]*: colour: unknown trigger field "colour"/m);
      expect(res.stderr).toMatch(/^error: .*u\.yaml\[0\]: cannot tell what this is/m);
      expect(res.stderr).toMatch(/^error: .*broken\.json: not valid JSON or YAML/m);
      // Warnings (missing owner/description) are printed unless --quiet.
      expect(res.stderr).toMatch(/^warning: .*bad\.yaml\[0\] \(b\/one\): owner: /m);
      const quiet = await lava(['check', '--quiet', y], { env, cwd: dir });
      expect(quiet.code).toBe(1);
      expect(quiet.stderr).toMatch(/^error: /m);
      expect(quiet.stderr).not.toContain('warning:');

      // --type forces the kind; an unknown --type is refused.
      const forced = await lava(['check', '--type', 'connection', write(dir, 'c.json', '{"conn_id": "x"}')], { env, cwd: dir });
      expect(forced.code).toBe(1);
      expect(forced.stderr).toMatch(/c\.json\[0\] \(x\): type: type is required/);
    },
    T,
  );

  it(
    'labels a trigger spec by its trigger_id, not by the job it dispatches',
    async () => {
      const dir = tmpDir();
      const j = write(
        dir,
        'triggers.json',
        JSON.stringify([
          { trigger_id: 't1', bucket: 'b', prefix: 'p', job_id: 'some/job', enabled: true, colour: 'red' },
          { trigger_id: 't2', bucket: 'b', prefix: 'p', job_id: ['a/job', 'b/job'], enabled: true, colour: 'blue' },
        ]),
      );
      const res = await lava(['check', j], { env: cleanEnv(), cwd: dir });
      expect(res.code).toBe(1);
      // BUG: src/cli/specs.ts label() takes `job_id ?? conn_id ?? trigger_id …`, so a trigger is
      // labelled "(some/job)" (the job it dispatches), and one whose job_id is a list gets no label.
      expect(res.stderr).toMatch(/triggers\.json\[0\] \(t1\): colour: /);
      expect(res.stderr).toMatch(/triggers\.json\[1\] \(t2\): colour: /);
    },
    T,
  );

  it(
    'schema job prints a JSON Schema with properties.job_id',
    async () => {
      const env = cleanEnv();
      const res = await lava(['schema', 'job'], { env });
      expect(res.code, res.stderr).toBe(0);
      const schema = JSON.parse(res.stdout) as { $schema?: string; properties?: Record<string, unknown>; required?: string[] };
      expect(schema.$schema).toMatch(/2020-12/);
      expect(schema.properties?.job_id).toBeDefined();
      expect(schema.properties?.worker).toBeDefined();
      expect(schema.required).toEqual(expect.arrayContaining(['job_id', 'type', 'worker']));

      const bad = await lava(['schema', 'nonsense'], { env });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/unknown kind nonsense: use one of .*job/);
    },
    T,
  );
});

describe('lava payload', () => {
  it(
    'puts a file and a directory, and lists them',
    async () => {
      const r = await realm();
      const script = path.join(EXAMPLES, 'payloads/demo/report.sh');
      const pkg = path.join(EXAMPLES, 'packages/hello-pkg');
      const root = pathToFileURL(path.join(r.dir, 'payloads')).href;

      const one = await r.lavaOk(['payload', 'put', script, 'scripts/']);
      expect(one.stdout).toBe(`uploaded ${root}/scripts/report.sh\n`);
      const dir = await r.lavaOk(['payload', 'put', pkg]);
      expect(dir.stdout.split('\n').filter(Boolean).sort()).toEqual([
        `uploaded ${root}/hello-pkg/bin/main.sh`,
        `uploaded ${root}/hello-pkg/lib/data.txt`,
      ]);
      // The files really are in the realm's payload area, byte for byte.
      expect(fs.readFileSync(path.join(r.dir, 'payloads/hello-pkg/lib/data.txt'))).toEqual(
        fs.readFileSync(path.join(pkg, 'lib/data.txt')),
      );

      const ls = await r.lavaOk(['payload', 'ls', '--json']);
      const items = JSON.parse(ls.stdout) as { path: string; size: number; modified: string }[];
      expect(items.map((i) => i.path).sort()).toEqual(['hello-pkg/bin/main.sh', 'hello-pkg/lib/data.txt', 'scripts/report.sh']);
      expect(items.find((i) => i.path === 'scripts/report.sh')?.size).toBe(fs.statSync(script).size);
      for (const i of items) expect(Number.isNaN(Date.parse(i.modified))).toBe(false);

      const sub = JSON.parse((await r.lavaOk(['payload', 'ls', 'hello-pkg/', '--json'])).stdout) as { path: string }[];
      expect(sub.map((i) => i.path).sort()).toEqual(['hello-pkg/bin/main.sh', 'hello-pkg/lib/data.txt']);
    },
    T,
  );
});

describe('lava dispatch / worker / events / output', () => {
  it(
    'dispatch prints a run id; bad delay and unknown jobs fail with exit 1',
    async () => {
      const r = await realm();
      await r.lavaOk(['job', 'put', DEMO]);
      const res = await r.lavaOk(['dispatch', 'demo/hello', '-p', 'vars.x=1', '-g', 'a.b=2']);
      const ids = runIds(res.stdout);
      expect(ids).toHaveLength(1);
      expect(ids[0]).toMatch(UUID_RE);

      const late = await r.lava(['dispatch', 'demo/hello', '-d', '8d']);
      expect(late.code).toBe(1);
      expect(late.stdout).toBe('');
      expect(late.stderr).toMatch(
        /cannot dispatch demo\/hello: delay "8d" is out of range: use 0 to 7d \(the limit is DISPATCH_MAX_DELAY\)/,
      );

      const unknown = await r.lava(['dispatch', 'demo/nosuch']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/cannot dispatch demo\/nosuch: job "demo\/nosuch" not found/);

      // Several at once with a delay, --json; one bad id makes the exit 1 but the others are sent.
      const many = await r.lava(['dispatch', 'demo/hello', 'demo/nosuch', 'demo/log', '-d', '15m', '--json']);
      expect(many.code).toBe(1);
      const out = JSON.parse(many.stdout) as { job_id: string; run_id?: string; error?: string }[];
      expect(out.map((o) => o.job_id)).toEqual(['demo/hello', 'demo/nosuch', 'demo/log']);
      expect(out[0]?.run_id).toMatch(UUID_RE);
      expect(out[1]?.error).toMatch(/not found/);
      expect(out[2]?.run_id).toMatch(UUID_RE);

      // Exactly the three good dispatches were queued, two of them delayed.
      expect(await queueCounts(r, 'default', 'core')).toMatchObject({ visible: 1, inflight: 0, delayed: 2 });
    },
    T,
  );

  it('a batch worker runs a dispatched job: events starting, running, complete; output has its text', async () => {
    const r = await realm();
    const echo = r.write(
      'echo.yaml',
      'job_id: e2e/echo\ntype: cmd\nworker: core\nenabled: true\npayload: echo "x={{ vars.x }} b={{ globals.a.b }} g={{ globals.greeting }}"\nglobals:\n  greeting: hi\n',
    );
    await r.lavaOk(['job', 'put', DEMO, echo]);
    const [runId, echoRun] = runIds(
      (await r.lavaOk(['dispatch', 'demo/hello', 'e2e/echo', '-p', 'vars.x=1', '-g', 'a.b=2'])).stdout,
    );
    expect(runId).toMatch(UUID_RE);
    expect(echoRun).toMatch(UUID_RE);

    const worker = await r.lava(['worker', '-w', 'core', '--batch']);
    expect(worker.code, worker.stderr).toBe(0);

    const res = await r.lavaOk(['events', 'demo/hello', '--json']);
    const records = JSON.parse(res.stdout) as { job_id: string; run_id: string; status: string; log: { status: string }[] }[];
    expect(records).toHaveLength(1);
    expect(records[0]?.run_id).toBe(runId);
    expect(records[0]?.job_id).toBe('demo/hello');
    expect(records[0]?.log.map((e) => e.status)).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(records[0]?.status).toBe('complete');

    const table = await r.lavaOk(['events', '--run', runId as string]);
    const rows = tableRows(table.stdout, 'TS_EVENT');
    expect(rows.map((row) => row.slice(1))).toEqual([
      ['demo/hello', runId, 'queued', expect.stringMatching(/^\{"worker":/) as string],
      ['demo/hello', runId, 'starting'],
      ['demo/hello', runId, 'running', 'Iteration 1'],
      ['demo/hello', runId, 'complete', 'exit_status 0'],
    ]);

    const out = await r.lavaOk(['output', runId as string]);
    expect(out.stdout).toBe('hello from demo/hello in realm default\n');
    // Dispatch parameters and globals reach the job (and dispatch globals merge with the spec's).
    expect((await r.lavaOk(['output', echoRun as string])).stdout).toBe('x=1 b=2 g=hi\n');

    const unknown = await r.lava(['output', '00000000-0000-4000-8000-000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/run "00000000-0000-4000-8000-000000000000" not found/);

    // The queue is empty and the worker cleaned up its scratch dir.
    expect(await queueCounts(r, 'default', 'core')).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    expect(fs.readdirSync(path.join(r.scratch, 'default'))).toEqual([]);
  }, 90_000);

  it(
    '--check-dispatch with the suppression file present dispatches nothing and exits 0',
    async () => {
      const r = await realm();
      await r.lavaOk(['job', 'put', DEMO]);
      const marker = path.join(r.dir, 'nodispatch');
      expect(r.env.LAVA_NO_DISPATCH).toBe(marker);
      fs.writeFileSync(marker, '');

      const res = await r.lava(['dispatch', '--check-dispatch', 'demo/hello']);
      expect(res.code).toBe(0);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/dispatch suppressed: .*nodispatch exists/);
      expect(await queueCounts(r, 'default', 'core')).toEqual({ visible: 0, inflight: 0, delayed: 0 });

      // Once the file is gone, --check-dispatch dispatches again.
      fs.rmSync(marker);
      const again = await r.lavaOk(['dispatch', '--check-dispatch', 'demo/hello']);
      expect(runIds(again.stdout)[0]).toMatch(UUID_RE);
      expect(await queueCounts(r, 'default', 'core')).toMatchObject({ visible: 1, inflight: 0, delayed: 0 });
    },
    T,
  );
});
