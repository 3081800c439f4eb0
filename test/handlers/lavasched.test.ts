import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { END_MARKER, START_MARKER, replaceBlock, unifiedDiff } from '../../src/handlers/lavasched/crontab.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
let crontabFile: string;
beforeEach(async () => {
  t = await makeRealm();
  crontabFile = path.join(t.dir, 'crontab');
});
afterEach(async () => {
  await t.close();
});

async function runSched(params: Record<string, unknown>, config: Record<string, unknown> = { CRONTAB_FILE: crontabFile }) {
  await t.backend.config.putRealm({ ...t.realm, config: { ...t.realm.config, ...config } });
  await t.putJob({ job_id: 'sched', type: 'lavasched', parameters: params });
  const runId = await t.dispatch('sched');
  await t.drain();
  const rec = await t.backend.events.get('test', 'sched', runId);
  return { status: rec!.status, result: rec!.log.at(-1)!.info as Record<string, unknown> };
}

describe('crontab block', () => {
  it('replaces only the block between the markers, and appends one when there is none', () => {
    const old = ['MAILTO=ops', START_MARKER, 'old line', END_MARKER, '0 1 * * * backup', ''].join('\n');
    expect(replaceBlock(old, ['new line'])).toBe(
      ['MAILTO=ops', START_MARKER, 'new line', END_MARKER, '0 1 * * * backup', ''].join('\n'),
    );
    expect(replaceBlock('0 1 * * * backup\n', ['x'])).toBe(['0 1 * * * backup', START_MARKER, 'x', END_MARKER, ''].join('\n'));
    // A start marker without an end marker keeps what follows (upstream drops it).
    expect(replaceBlock([START_MARKER, 'keep me', ''].join('\n'), ['x'])).toContain('keep me');
  });

  it('diffs with one line of context', () => {
    expect(unifiedDiff('a\nb\nc\nd\n', 'a\nb\nC\nd\n')).toBe(
      '--- crontab.old\n+++ crontab.new\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n',
    );
  });
});

describe('lavasched job type', () => {
  it('runs the example of docs/job-types/lavasched.md (examples/docs/lavasched.yaml) as the page shows', async () => {
    const specs = parse(fs.readFileSync(path.resolve('examples/docs/lavasched.yaml'), 'utf8')) as Record<string, unknown>[];
    for (const spec of specs) await t.backend.config.put('test', 'jobs', spec);
    await t.backend.config.putRealm({ ...t.realm, config: { ...t.realm.config, CRONTAB_FILE: crontabFile } });
    const runId = await t.dispatch('main/lavasched');
    await t.drain({ worker: 'main' });
    expect(await t.statuses(runId, 'main/lavasched')).toEqual(['queued', 'starting', 'running', 'complete']);
    const block = fs
      .readFileSync(crontabFile, 'utf8')
      .replaceAll(process.execPath, 'node')
      .replace(/\S*\/bin\/lava\.js/g, 'lava.js')
      .replace(`LAVA_BACKEND=${t.backendUrl}`, 'LAVA_BACKEND=sqlite:/srv/lava/lava.db')
      .replace('LAVA_REALM=test', 'LAVA_REALM=prod');
    const page = fs.readFileSync(path.resolve('docs/job-types/lavasched.md'), 'utf8');
    expect(page).toContain(block.trim());
  });

  it('writes one quoted line per active schedule entry of the named dispatchers, with env lines, keeping other lines', async () => {
    fs.writeFileSync(crontabFile, 'MAILTO=ops\n0 3 * * * /usr/local/bin/backup\n');
    await t.putJob({ job_id: 'hourly', type: 'log', dispatcher: 'd1', schedule: '0 * * * *' });
    await t.putJob({
      job_id: 'two',
      type: 'log',
      dispatcher: 'd2',
      schedule: ['5 1 * * *', { crontab: '0 0 1 1 *', from: '2999-01-01T00:00:00Z' }],
    });
    await t.putJob({ job_id: 'unscheduled', type: 'log', dispatcher: 'd1' });
    await t.putJob({ job_id: 'elsewhere', type: 'log', dispatcher: 'd3', schedule: '* * * * *' });
    const r = await runSched({
      dispatcher: ['d2', 'd1'],
      args: ['--check-dispatch', '-g', 'src=cron job'],
      env: { CRON_TZ: 'UTC', PATH: '/usr/bin:/bin' },
    });
    expect(r.status).toBe('complete');
    const lines = fs.readFileSync(crontabFile, 'utf8').split('\n');
    const node = process.execPath;
    expect(lines.slice(0, 2)).toEqual(['MAILTO=ops', '0 3 * * * /usr/local/bin/backup']);
    expect(lines[2]).toBe(START_MARKER);
    expect(lines.slice(3, 7)).toEqual(['CRON_TZ=UTC', `LAVA_BACKEND=${t.backendUrl}`, 'LAVA_REALM=test', 'PATH=/usr/bin:/bin']);
    expect(lines[7]).toMatch(
      new RegExp(`^0 \\* \\* \\* \\* ${node} \\S+/bin/lava\\.js dispatch --worker w --check-dispatch -g 'src=cron job' hourly$`),
    );
    expect(lines[8]).toMatch(/^5 1 \* \* \* .* dispatch --worker w --check-dispatch -g 'src=cron job' two$/);
    expect(lines[9]).toBe(END_MARKER);
    expect(lines).toHaveLength(11);
    expect(String(r.result['crontab.diff'])).toContain('+0 * * * *');
    expect(fs.readFileSync(new URL(String(r.result['crontab.new'])), 'utf8')).toBe(lines.join('\n'));

    const again = await runSched({
      dispatcher: ['d2', 'd1'],
      args: ['--check-dispatch', '-g', 'src=cron job'],
      env: { CRON_TZ: 'UTC', PATH: '/usr/bin:/bin' },
    });
    expect(again.result).toEqual({ exit_status: 0, error: null }); // unchanged: nothing reinstalled or uploaded
  });

  it('fails the whole build, naming the job, when any schedule is bad', async () => {
    await t.backend.config.put('test', 'jobs', {
      job_id: 'broken',
      type: 'log',
      worker: 'w',
      payload: null,
      dispatcher: 'd1',
      schedule: '0 99 * * *',
    });
    const r = await runSched({ dispatcher: 'd1' });
    expect(r.status).toBe('failed');
    expect(String(r.result.error)).toMatch(/job broken has a bad schedule/);
    expect(fs.existsSync(crontabFile)).toBe(false);
  });
});

const cronUsable = process.getuid?.() === 0 && fs.existsSync('/usr/sbin/cron') && fs.existsSync('/usr/bin/crontab');
const reason = 'needs root and Debian cron (/usr/sbin/cron, /usr/bin/crontab): .ci/run installs them';

describe.skipIf(!cronUsable)(`a real cron daemon (skipped unless it ${reason})`, () => {
  let cron: ChildProcess | undefined;
  let saved: string | undefined;

  beforeEach(() => {
    try {
      saved = execFileSync('crontab', ['-l'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      saved = undefined;
    }
    if (!fs.existsSync(path.resolve('dist/cli/index.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json']);
  });
  afterEach(() => {
    cron?.kill('SIGTERM');
    if (saved === undefined) execFileSync('crontab', ['-r'], { stdio: 'ignore' });
    else execFileSync('crontab', ['-'], { input: saved });
  });

  it('installs the crontab with `crontab` and cron fires a dispatch on the next minute', async () => {
    await t.putJob({ job_id: 'ticker', type: 'log', dispatcher: 'cronned', schedule: '* * * * *' });
    const r = await runSched({ dispatcher: 'cronned' }, {});
    expect(r.status).toBe('complete');
    expect(execFileSync('crontab', ['-l'], { encoding: 'utf8' })).toContain(' ticker');
    const running = spawn('pgrep', ['-x', 'cron']);
    const already = await new Promise<boolean>((res) => running.on('close', (code) => res(code === 0)));
    if (!already) cron = spawn('/usr/sbin/cron', ['-f', '-L', '15'], { stdio: 'ignore' });
    const queue = t.backend.queue('test', 'w');
    const deadline = Date.now() + 75_000;
    let visible = 0;
    while (Date.now() < deadline && !(visible = (await queue.counts()).visible)) await new Promise((res) => setTimeout(res, 500));
    expect(visible).toBe(1);
    await t.drain();
    const [ev] = await t.backend.events.query('test', { jobId: 'ticker' });
    expect(ev?.status).toBe('complete');
  }, 90_000);
});
