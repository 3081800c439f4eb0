import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alive, makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
});
afterEach(async () => {
  await t.close();
});

function readUri(uri: string): string {
  return fs.readFileSync(fileURLToPath(uri), 'utf8');
}

describe('run lifecycle statuses', () => {
  it('runs a cmd job: starting, running, complete, with stdout stored under <s3_temp>/<job_id>/<run_id>/stdout', async () => {
    const { runId, statuses, last } = await t.runOnce({ job_id: 'j/hello', type: 'cmd', payload: 'echo hello world' });
    expect(statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const result = last as { exit_status: number; error: null; output: { stdout: string }[] };
    expect(result.exit_status).toBe(0);
    expect(result.error).toBeNull();
    expect(result.output[0]?.stdout).toBe(`${t.realm.s3_temp}/j/hello/${runId}/stdout`);
    expect(readUri(result.output[0]!.stdout)).toBe('hello world\n');
  });

  it('skips a statically disabled job with only a skipped event, and treats a missing enabled as disabled', async () => {
    expect((await t.runOnce({ job_id: 'off', type: 'cmd', payload: 'true', enabled: false })).statuses).toEqual([
      'queued',
      'skipped',
    ]);
    const noFlag = { job_id: 'noflag', type: 'cmd', payload: 'true', worker: 'w' };
    await t.backend.config.put('test', 'jobs', noFlag);
    const runId = await t.dispatch('noflag');
    await t.drain();
    expect(await t.statuses(runId, 'noflag')).toEqual(['queued', 'skipped']);
  });

  it('renders a string enabled after starting: not "true" means skipped with the rendered value', async () => {
    const off = await t.runOnce({
      job_id: 'dyn-off',
      type: 'cmd',
      payload: 'true',
      enabled: '{{ globals.flag }}',
      globals: { flag: 'no' },
    });
    expect(off.statuses).toEqual(['queued', 'starting', 'skipped']);
    expect(off.last).toContain('no');
    const on = await t.runOnce({ job_id: 'dyn-on', type: 'cmd', payload: 'true', enabled: ' {{ "TRUE" }} ' });
    expect(on.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
  });

  it('writes a logging event with the rendered event_log', async () => {
    const r = await t.runOnce({ job_id: 'logged', type: 'log', event_log: { who: '{{ job.job_id }}', n: 3 } });
    expect(r.statuses).toEqual(['queued', 'starting', 'logging', 'running', 'complete']);
    const rec = await t.backend.events.get('test', 'logged', r.runId);
    expect(rec?.log[2]?.info).toEqual({ who: 'logged', n: 3 });
  });

  it('rejects a run that waited longer than max_run_delay', async () => {
    await t.putJob({ job_id: 'late', type: 'log', max_run_delay: '1m' });
    const runId = await t.dispatch('late');
    const later = { now: () => new Date(Date.now() + 3600_000) };
    await t.drain({ clock: later });
    const rec = await t.backend.events.get('test', 'late', runId);
    expect(rec?.log.map((e) => e.status)).toEqual(['queued', 'starting', 'rejected']);
    expect(String(rec?.log[2]?.info)).toMatch(/max_run_delay/);
  });

  it('rejects iteration limits over ITERATION_MAX_LIMIT and delays over ITERATION_MAX_DELAY', async () => {
    expect((await t.runOnce({ job_id: 'many', type: 'log', iteration_limit: 11 })).statuses).toEqual([
      'queued',
      'starting',
      'rejected',
    ]);
    expect((await t.runOnce({ job_id: 'slow', type: 'log', iteration_delay: '6m' })).statuses).toEqual([
      'queued',
      'starting',
      'rejected',
    ]);
  });

  it('retries a failing job iteration_limit times, then fails, with on_retry and on_fail actions', async () => {
    await t.putJob({ job_id: 'after-retry', type: 'log' });
    await t.putJob({ job_id: 'after-fail', type: 'log' });
    const r = await t.runOnce({
      job_id: 'flaky',
      type: 'cmd',
      payload: "sh -c 'echo broken pipe >&2; exit 3'",
      iteration_limit: 2,
      on_retry: [{ action: 'dispatch', job_id: 'after-retry' }],
      on_fail: [{ action: 'dispatch', job_id: 'after-{{ "fail" }}' }],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'retrying', 'running', 'failed']);
    const failed = r.last as { error: string; error_data: { exit_status: number; error: string } };
    expect(failed.error).toMatch(/exit status 3/);
    expect(failed.error_data.exit_status).toBe(3);
    expect(failed.error_data.error).toBe('broken pipe');
    const retried = await t.backend.events.query('test', { jobId: 'after-retry' });
    const failedAction = await t.backend.events.query('test', { jobId: 'after-fail' });
    expect(retried.map((e) => e.status)).toEqual(['complete']);
    expect(failedAction.map((e) => e.status)).toEqual(['complete']);
  });

  it('passes this job as lava.parent_* to jobs its dispatch action starts', async () => {
    await t.putJob({
      job_id: 'child',
      type: 'log',
      event_log: '{{ globals.lava.parent_job_id }}|{{ globals.lava.master_job_id }}|{{ globals.g }}',
    });
    await t.runOnce({
      job_id: 'parent',
      type: 'log',
      globals: { g: 'G' },
      on_success: [{ action: 'dispatch', job_id: 'child' }],
    });
    const [child] = await t.backend.events.query('test', { jobId: 'child' });
    expect(child?.log.find((e) => e.status === 'logging')?.info).toBe('parent|parent|G');
  });

  it('fails an unknown job type with a clear event', async () => {
    const r = await t.runOnce({ job_id: 'odd', type: 'teleport' });
    expect(r.statuses).toEqual(['queued', 'starting', 'failed']);
    expect(String(r.last)).toMatch(/Unknown job type "teleport": use one of .*cmd, .*exe, .*log, pkg/);
  });

  it('fails on unexpected parameters, naming them', async () => {
    const r = await t.runOnce({ job_id: 'badp', type: 'cmd', payload: 'true', parameters: { timout: '1s' } });
    expect(r.statuses.at(-1)).toBe('failed');
    expect((r.last as { error: string }).error).toMatch(/Bad job parameters: Unexpected keys timout/);
  });

  it('records action_failed after complete and stops at the first failing action', async () => {
    await t.putJob({ job_id: 'never', type: 'log' });
    const r = await t.runOnce({
      job_id: 'act',
      type: 'log',
      on_success: [{ action: 'shout' }, { action: 'dispatch', job_id: 'never' }],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'action_failed']);
    expect(String(r.last)).toBe('on_success action: shout: unknown action');
    expect(await t.backend.events.query('test', { jobId: 'never' })).toHaveLength(0);
  });

  it("uses the realm's default actions unless the job has its own list, even an empty one", async () => {
    await t.putJob({ job_id: 'notified', type: 'log' });
    await t.backend.config.putRealm({ ...t.realm, on_fail: [{ action: 'dispatch', job_id: 'notified' }] });
    await t.runOnce({ job_id: 'fails', type: 'cmd', payload: 'false' });
    expect(await t.backend.events.query('test', { jobId: 'notified' })).toHaveLength(1);
    await t.runOnce({ job_id: 'quiet', type: 'cmd', payload: 'false', on_fail: [] });
    expect(await t.backend.events.query('test', { jobId: 'notified' })).toHaveLength(1);
  });

  it('merges dispatch parameters over the spec shallowly and globals with dispatch winning', async () => {
    const r = await t.runOnce(
      {
        job_id: 'merge',
        type: 'cmd',
        payload: 'echo {{vars.a}}-{{vars.b}}-{{globals.x}}-{{globals.y}}',
        parameters: { vars: { a: 'spec', b: 'spec' } },
        globals: { x: 'spec', y: 'spec' },
      },
      { parameters: { vars: { a: 'disp' } }, globals: { y: 'disp' } },
    );
    const out = (r.last as { output: { stdout: string }[] }).output[0]!.stdout;
    expect(readUri(out)).toBe('disp--spec-disp\n');
  });
});

describe('process jobs', () => {
  it('gives cmd jobs LAVA_* variables, a private TMPDIR inside the scratch dir, stdin from /dev/null, and the job env', async () => {
    const r = await t.runOnce({
      job_id: 'envy',
      type: 'cmd',
      payload: 'sh -c \'echo "$LAVA_REALM $LAVA_WORKER $LAVA_JOB_ID $LAVA_RUN_ID $LAVA_OWNER $FOO"; echo "$TMPDIR"; pwd; cat\'',
      owner: 'me',
      parameters: { env: { FOO: 'bar-{{ job.job_id }}' } },
    });
    const [line1, tmpdir, cwd, rest] = readUri((r.last as { output: { stdout: string }[] }).output[0]!.stdout).split('\n');
    expect(line1).toBe(`test w envy ${r.runId} me bar-envy`);
    expect(path.dirname(tmpdir!)).toBe(cwd);
    expect(cwd).toContain(r.runId);
    expect(rest).toBe('');
    expect(fs.existsSync(cwd!)).toBe(false); // scratch removed after the run
  });

  it('times out with exit status 28 and kills the whole process group', async () => {
    const pidFile = path.join(t.dir, 'grandchild.pid');
    const r = await t.runOnce({
      job_id: 'slow',
      type: 'cmd',
      payload: `sh -c 'sleep 60 & echo $! > ${pidFile}; wait'`,
      parameters: { timeout: '1s' },
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'failed']);
    const failed = r.last as { error: string; error_data: { exit_status: number } };
    expect(failed.error_data.exit_status).toBe(28);
    expect(failed.error).toBe('Timed out after 1.0 seconds');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(false);
  });

  it('runs an exe payload with rendered args and stores <name>.stdout', async () => {
    t.writePayload('bin/greet.sh', '#!/bin/sh\necho "greet $* $LAVA_S3_PAYLOAD"\n', 0o644);
    const r = await t.runOnce({
      job_id: 'exe1',
      type: 'exe',
      payload: 'bin/greet.sh "two words"',
      parameters: { args: ['{{ job.job_id }}'] },
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const res = r.last as { output: { payload: string; stdout: string }[] };
    expect(res.output[0]?.payload).toBe('greet.sh');
    expect(res.output[0]?.stdout).toMatch(/\/greet\.sh\.stdout$/);
    expect(readUri(res.output[0]!.stdout)).toBe(`greet two words exe1 ${t.realm.s3_payloads}/bin/greet.sh\n`);
  });

  it('fails an exe job whose payload is missing, saying where payloads live', async () => {
    const r = await t.runOnce({ job_id: 'exe2', type: 'exe', payload: 'bin/nothing.sh' });
    expect((r.last as { error: string }).error).toMatch(/No payload files downloaded for payload "bin\/nothing.sh"/);
  });

  it('fails with a clear error when a script has CRLF line endings', async () => {
    t.writePayload('bin/dos.sh', '#!/bin/sh\r\necho hi\r\n');
    const r = await t.runOnce({ job_id: 'exe3', type: 'exe', payload: 'bin/dos.sh' });
    expect(r.statuses.at(-1)).toBe('failed');
    expect((r.last as { error: string }).error).toMatch(/#! line was not found \(are the line endings CRLF\? use LF\)/);
  });

  it('runs the log job type as a no-op that completes', async () => {
    expect((await t.runOnce({ job_id: 'just-log', type: 'log', payload: { anything: 1 } })).statuses).toEqual([
      'queued',
      'starting',
      'running',
      'complete',
    ]);
  });
});
