/**
 * lava dump, restore, backup, checksum, conn usage and job activity on a real embedded realm: the
 * examples of their pages run as written, plus what the pages promise beyond them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yauzl from 'yauzl';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgDumpCommand } from '../../src/cli/backup.js';
import { checksumOf, pyJsonDumps } from '../../src/cli/checksum.js';
import { activityCsv, activityOf } from '../../src/cli/job-activity.js';
import { sanitiseFilename } from '../../src/cli/dump.js';
import { openBackend, type Backend } from '../../src/backends/index.js';
import { initEmbeddedRealm } from '../../src/cli/init.js';
import { consoleExamples, runCli, shown, type CliResult } from './run-cli.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples/docs/tools');

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import json, hashlib'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function zipEntries(file: string): Promise<Map<string, string>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const out = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          out.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
          zip.readEntry();
        });
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return out;
}

describe('config tools', () => {
  // The pages use realm "default", as `lava init` makes it.
  const t = { backend: undefined as unknown as Backend, backendUrl: '' };
  let cwd: string;
  const lava = (...args: string[]): Promise<CliResult> =>
    runCli(args, { cwd, env: { LAVA_BACKEND: t.backendUrl, LAVA_REALM: 'default' } });
  const ok = async (...args: string[]): Promise<CliResult> => {
    const r = await lava(...args);
    expect(r.code, `lava ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  /** Run a page's examples in order; each prints what the page shows (blank lines aside). */
  const runPage = async (page: string, from = 0, count = Infinity): Promise<void> => {
    for (const ex of consoleExamples(page).slice(from, from + count)) {
      const r = await ok(...ex.args);
      expect(shown(r.stdout), `${page}: lava ${ex.args.join(' ')}`).toBe(ex.expected);
    }
  };

  beforeAll(async () => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-tools-'));
    const init = await initEmbeddedRealm(path.join(cwd, '.lava'), 'default');
    t.backendUrl = init.backendUrl;
    t.backend = await openBackend(init.backendUrl);
  });
  afterAll(async () => {
    await t.backend.close();
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('loads the example specs', async () => {
    await ok('job', 'put', path.join(EXAMPLES, 'jobs.yaml'));
    await ok('conn', 'put', path.join(EXAMPLES, 'connections.yaml'));
  });

  describe('lava dump and restore (docs/cli/dump.md)', () => {
    it('dumps as the page shows, connections without inline secrets', async () => {
      await runPage('cli/dump.md', 0, 3);
      const slack = fs.readFileSync(path.join(cwd, 'dumped/team-slack.json'), 'utf8');
      expect(slack).toBe(
        fs
          .readFileSync(path.resolve(import.meta.dirname, '../../docs/cli/dump.md'), 'utf8')
          .match(/`dumped\/team-slack\.json`:\n\n```json\n([\s\S]*?)```/)?.[1],
      );
      expect(slack).not.toContain('hooks.slack.com');
      const load = JSON.parse(fs.readFileSync(path.join(cwd, 'dumped/etl.load.json'), 'utf8')) as Record<string, unknown>;
      expect(load).toEqual(await t.backend.config.get('default', 'jobs', 'etl/load'));
      expect(fs.readFileSync(path.join(cwd, 'as-yaml/ops.cleanup.yaml'), 'utf8')).toMatch(
        /^description: Remove old temp files\n/,
      );
    });

    it('restores as the page shows, keeping the stored secret; a second restore changes nothing', async () => {
      await runPage('cli/dump.md', 3);
      expect((await t.backend.config.get('default', 'connections', 'team-slack'))?.webhook_url).toBe(
        'https://hooks.slack.com/services/T000/B000/XXXX',
      );
      expect((await ok('restore', 'dumped')).stdout).not.toContain('stored');
    });

    it('restores nothing when one spec is bad, naming it; a missing secret is an error naming the field', async () => {
      const dir = path.join(cwd, 'bad');
      fs.mkdirSync(dir);
      fs.copyFileSync(path.join(cwd, 'dumped/etl.load.json'), path.join(dir, 'a.json'));
      fs.writeFileSync(path.join(dir, 'b.json'), JSON.stringify({ job_id: 'x/bad', type: 'nope', worker: 'core' }));
      const r = await lava('restore', dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/nothing restored/);
      expect(r.stderr).toMatch(/b\.json.*type/);
      expect(await t.backend.config.get('default', 'jobs', 'x/bad')).toBeUndefined();

      const dir2 = path.join(cwd, 'secret');
      fs.mkdirSync(dir2);
      const spec = JSON.parse(fs.readFileSync(path.join(cwd, 'dumped/team-slack.json'), 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(path.join(dir2, 'c.json'), JSON.stringify({ ...spec, conn_id: 'new-slack' }));
      const s = await lava('restore', dir2);
      expect(s.code).toBe(1);
      expect(s.stderr).toMatch(/webhook_url was not dumped \(a secret\) and connection new-slack has none stored/);
    });

    it('matches in any case with -i', async () => {
      expect((await ok('dump', '-d', 'ci', 'ETL/LOAD')).stdout).toBe('');
      expect((await ok('dump', '-d', 'ci', '-i', 'ETL/LOAD')).stdout).toBe('etl/load --> ci/etl.load.json\n');
    });

    it('refuses an unknown table, accepts a unique start, and names files as upstream does', async () => {
      const r = await lava('dump', '-t', 'bogus');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/unknown table "bogus": use one of jobs, connections, s3triggers, triggers, realms/);
      expect((await ok('dump', '-t', 'r', '-d', 'realms', '-q')).stdout).toBe('');
      expect(fs.readdirSync(path.join(cwd, 'realms'))).toEqual(['default.json']);
      expect(sanitiseFilename('My Jobs//daily..Load (v2)/')).toBe('my-jobs.daily.load-v2');
      expect(sanitiseFilename('café/x')).toBe('cafe.x');
    });
  });

  describe('lava backup (docs/cli/backup.md)', () => {
    it('zips every table as the page shows; restore reads the unzipped layout', async () => {
      await runPage('cli/backup.md', 0, 1);
      const entries = await zipEntries(path.join(cwd, 'backup.zip'));
      expect([...entries.keys()].sort()).toEqual([
        'connections/team-slack.json',
        'connections/warehouse.json',
        'jobs/etl.load.json',
        'jobs/etl.report.json',
        'jobs/ops.cleanup.json',
        'realms/default.json',
      ]);
      expect(entries.get('connections/team-slack.json')).toContain('<secret: not dumped>');
      const unzipped = path.join(cwd, 'unzipped');
      for (const [name, text] of entries) {
        fs.mkdirSync(path.dirname(path.join(unzipped, name)), { recursive: true });
        fs.writeFileSync(path.join(unzipped, name), text);
      }
      const r = await ok('restore', unzipped);
      expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(6);
      expect(r.stdout).not.toContain('stored');
    });

    it('writes YAML entries with -y', async () => {
      await ok('backup', 'default', 'yaml.zip', '-y');
      const entries = await zipEntries(path.join(cwd, 'yaml.zip'));
      expect(entries.get('jobs/etl.load.yaml')).toMatch(/^description: Load the day's files\n/);
      expect(entries.get('realms/default.yaml')).toMatch(/^realm: default\n/m);
    });

    it('writes to a file:// URI through the blob store, as to s3://', async () => {
      const uri = `file://${path.join(cwd, 'areas', 'backup-uri.zip')}`;
      fs.mkdirSync(path.join(cwd, 'areas'));
      expect((await ok('backup', 'default', uri)).stdout).toBe(`6 entries --> ${uri}\n`);
      expect([...(await zipEntries(path.join(cwd, 'areas', 'backup-uri.zip'))).keys()]).toHaveLength(6);
    });

    it('takes a consistent SQLite snapshot that opens and holds the realm', async () => {
      await runPage('cli/backup.md', 1, 1);
      const db = new Database(path.join(cwd, 'lava-copy.db'), { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        db.close();
      }
      const again = await lava('backup', 'default', 'backup.zip', '--snapshot', 'lava-copy.db');
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/lava-copy\.db exists/);
      expect((await lava('backup', 'default', 'x.zip', '--pg-dump')).stderr).toMatch(/--pg-dump is for the PostgreSQL backend/);
    });

    it('prints the pg_dump command of the page, without the password', () => {
      const page = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/cli/backup.md'), 'utf8');
      const shown = /^pg_dump .*$/m.exec(page)?.[0];
      expect(pgDumpCommand('postgres://lava:secret@db.example.com:5432/ops?schema=lava_prod', 'prod.pgdump')).toBe(shown);
      expect(pgDumpCommand('postgres://lava:secret@db.example.com/ops', "it's.dump")).toBe(
        `pg_dump --schema=lava --format=custom --file='it'\\''s.dump' postgres://lava@db.example.com/ops`,
      );
    });
  });

  describe('lava checksum (docs/cli/checksum.md)', () => {
    it('computes what upstream computes: Python json.dumps(sort_keys=True) without x- keys', async () => {
      // An item with non-ASCII text, a float and an x- key; the value upstream's dict_hash gives.
      const item = {
        job_id: 'etl/load',
        type: 'cmd',
        worker: 'core',
        enabled: true,
        owner: 'data@example.com',
        description: "Load the day's files",
        payload: 'echo loading',
        parameters: { connections: { db: 'warehouse' } },
        'x-note': 'ignored',
        n: 3,
        f: 1.5,
        u: 'café — 😀',
      };
      // Computed with CPython: hashlib.sha256(json.dumps({k: v … not x-}, sort_keys=True).encode()).hexdigest()
      expect(checksumOf(item)).toBe('1;LC;sha256;4db273b706f214df53b21d18ffcefb9a68c372d2ecc37496d841807597ee62c4');
      expect(checksumOf(item, 'md5')).toBe('1;LC;md5;01b9cb493092c0cf55c6337b802181ad');
      if (!hasPython()) return; // the fixed values above still hold; the live cross-check needs python3
      const spec = { ...item, list: [1, 2.25, null, 'a"b\\c\n\u0001\u007f'], big: 1e16, small: 1e-7 };
      const py = execFileSync(
        'python3',
        [
          '-c',
          'import json,sys,hashlib; d=json.load(sys.stdin); d={k:v for k,v in d.items() if not k.lower().startswith("x-")}; s=json.dumps(d, sort_keys=True); print(s); print(hashlib.sha256(s.encode()).hexdigest())',
        ],
        { input: JSON.stringify(spec), encoding: 'utf8' },
      ).split('\n');
      const kept = Object.fromEntries(Object.entries(spec).filter(([k]) => k !== 'x-note'));
      expect(pyJsonDumps(kept)).toBe(py[0]);
      expect(checksumOf(spec)).toBe(`1;LC;sha256;${py[1]}`);
    });

    it('adds, checks and reports drift as the page shows, keeping a zip of what it changed', async () => {
      fs.writeFileSync(
        path.join(cwd, 'jobs-changed.yaml'),
        fs
          .readFileSync(path.join(EXAMPLES, 'jobs.yaml'), 'utf8')
          .split('- job_id: etl/report')[0]!
          .replace('echo loading', 'echo loading twice'),
      );
      const before = fs.readdirSync(cwd).filter((f) => f.endsWith('.zip') && f.startsWith('lava.default.jobs-'));
      await runPage('cli/checksum.md');
      const zips = fs.readdirSync(cwd).filter((f) => f.endsWith('.zip') && f.startsWith('lava.default.jobs-'));
      expect(zips.length - before.length).toBe(1);
      const saved = await zipEntries(
        path.join(
          cwd,
          zips.find((z) => !before.includes(z))!,
        ),
      );
      expect([...saved.keys()].sort()).toEqual(['etl.load.json', 'etl.report.json', 'ops.cleanup.json']);
      const report = (await t.backend.config.get('default', 'jobs', 'etl/report'))!;
      expect(report['x-lava-chk']).toBe(checksumOf(report));
    });

    it('finds an edited item, and update fixes it; check exits 1 on an error', async () => {
      const job = (await t.backend.config.get('default', 'jobs', 'etl/report'))!;
      await t.backend.config.put('default', 'jobs', { ...job, payload: 'echo edited' });
      const bad = await lava('checksum', 'check', '-f', 'txt');
      expect(bad.code).toBe(1);
      expect(bad.stdout).toBe('etl/report: ERROR : Invalid checksum\n\n');
      expect((await ok('checksum', 'update', '-d', '-f', 'txt')).stdout).toBe(
        'etl/report: NOTICE : Checksum would be updated\n\n',
      );
      expect((await ok('checksum', 'update', '-f', 'txt')).stdout).toBe('etl/report: NOTICE : Checksum updated\n\n');
      expect((await ok('checksum', 'check', '-f', 'txt')).stdout).toBe('');
      const html = (await ok('checksum', 'check', '-vv', '-f', 'html', 'ops/*')).stdout;
      expect(html).toMatch(/<TABLE class="lava-checksum-report">[\s\S]*<TD>ops\/cleanup<\/TD>\s*<TD>INFO<\/TD>\s*<TD>OK<\/TD>/);
    });
  });

  describe('lava conn usage (docs/cli/conn-usage.md)', () => {
    it('lists the jobs as the page shows; actions do not count', async () => {
      await runPage('cli/conn-usage.md');
      expect((await ok('conn', 'usage', 'team-slack')).stdout).toBe('');
    });
  });

  describe('lava job activity (docs/cli/job-activity.md)', () => {
    it('charts running seconds as the page shows', async () => {
      const at = (hm: string) => new Date(`2026-11-23T${hm}:00Z`);
      const ev = (job_id: string, run_id: string, status: string, hm: string) =>
        t.backend.events.record('default', { job_id, run_id, status, info: null, at: at(hm), worker: 'core' });
      await ev('etl/report', 'r1', 'starting', '06:05');
      await ev('etl/report', 'r1', 'running', '06:05');
      await ev('etl/report', 'r1', 'complete', '06:06');
      await ev('etl/load', 'l1', 'starting', '06:30');
      await ev('etl/load', 'l1', 'running', '06:30');
      await ev('etl/load', 'l1', 'retrying', '06:35');
      await ev('etl/load', 'l1', 'running', '06:37');
      await ev('etl/load', 'l1', 'failed', '06:47');
      // Outside the window, and a run still going: neither counts.
      await ev('ops/cleanup', 'c1', 'running', '09:00');
      await ev('etl/load', 'l2', 'running', '06:50');
      const [ex] = consoleExamples('cli/job-activity.md');
      const r = await ok(...ex!.args);
      expect(r.stdout).toContain('\r\n');
      expect(shown(r.stdout)).toBe(ex!.expected);
    });

    it('dumps and loads the runs it read, and slices by the interval', async () => {
      await ok(
        'job',
        'activity',
        'etl/load',
        '-s',
        '2026-11-23T06:00',
        '-e',
        '2026-11-23T07:00',
        '-i',
        '60',
        '--dump',
        'act.json',
        '-q',
      );
      const loaded = await ok('job', 'activity', '--load', 'act.json', '-i', '30');
      expect(loaded.stdout.replace(/\r\n/g, '\n')).toBe(
        'Job ID,2026-11-23 06:00:00,2026-11-23 06:30:00\netl/load,0,900\n\nWorker,2026-11-23 06:00:00,2026-11-23 06:30:00\ncore,0,900\n',
      );
      const failedOnly = await ok(
        'job',
        'activity',
        '-s',
        '2026-11-23T06:00:00Z',
        '-e',
        '2026-11-23T07:00:00Z',
        '-i',
        '60',
        '--status',
        'failed',
        '-q',
      );
      expect(shown(failedOnly.stdout)).toBe('Job ID,2026-11-23 06:00:00\netl/load,900\n\nWorker,2026-11-23 06:00:00\ncore,900\n');
      const bad = await lava('job', 'activity', '-s', 'yesterday');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/--start yesterday: bad timestamp/);
    });

    it('splits a span across slices and ignores runs without an end', () => {
      const run = activityOf({
        job_id: 'j',
        run_id: 'r',
        status: 'complete',
        ts_dispatch: null,
        ts_event: '',
        tu_event: '2026-01-01T00:25:00Z',
        ttl: null,
        worker: 'w',
        worker_id: null,
        instance_id: null,
        log: [
          { status: 'running', tu_event: '2026-01-01T00:05:00Z', ts_event: '', info: null },
          { status: 'complete', tu_event: '2026-01-01T00:25:00Z', ts_event: '', info: null },
        ],
      } as unknown as Parameters<typeof activityOf>[0]);
      expect(run.runtimes).toHaveLength(1);
      const csv = activityCsv([run], Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-01-01T00:30:00Z'), 10);
      expect(csv.split('\r\n')[1]).toBe('j,300,600,300');
    });
  });
});
