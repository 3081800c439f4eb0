/**
 * The docker job type and connector against a real container engine: podman serving the Docker
 * Engine API on a private socket (test/support/podman.ts), with a busybox image imported locally.
 * No registry is reachable here, so pulls are tested only as failures, and the runs use images the
 * engine has (DOCKER_PULL=missing).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import YAML from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { outputFiles } from '../../src/cli/events.js';
import { getDockerConnection } from '../../src/connections/api.js';
import { dockerConnector } from '../../src/connections/connectors/docker.js';
import { resolveConnection } from '../../src/connections/resolve.js';
import { requestStop } from '../../src/dispatch/stop.js';
import { checkJobType } from '../../src/handlers/registry.js';
import { parseImage } from '../../src/handlers/docker/index.js';
import { containerSettings, dockerBytes } from '../../src/handlers/docker/host-config.js';
import { checkSpec } from '../../src/core/validate.js';
import { Worker } from '../../src/worker/worker.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { podmanSkipReason, startPodman, type PodmanService } from '../support/podman.js';

describe('docker payload and host_config (no engine needed)', () => {
  it('parses repository[:tag] and refuses a registry port, as upstream', () => {
    expect(parseImage('ghcr.io/acme/report')).toEqual({ repo: 'ghcr.io/acme/report', tag: 'latest' });
    expect(parseImage(' dist/lava/full:1.2 ')).toEqual({ repo: 'dist/lava/full', tag: '1.2' });
    expect(() => parseImage('registry:5000/img:1')).toThrow(
      'Bad payload: registry:5000/img:1: Must be in the form repository[:tag]',
    );
    expect(() => parseImage('')).toThrow(/payload must be an image/);
  });

  it('translates the allow-listed keys and refuses others (binds, privileged, labels)', () => {
    const s = containerSettings({
      cpuset_cpus: '0,1',
      network_disabled: true,
      working_dir: '/tmp/lava',
      mem_limit: '512m',
      ports: { '80/tcp': 8080, 53: ['127.0.0.1', 5353] },
      extra_hosts: { db: '10.0.0.1' },
      user: 1000,
    });
    expect(s.config).toEqual({
      NetworkDisabled: true,
      WorkingDir: '/tmp/lava',
      User: '1000',
      ExposedPorts: { '80/tcp': {}, '53/tcp': {} },
    });
    expect(s.hostConfig).toMatchObject({
      CpusetCpus: '0,1',
      Memory: 512 * 1024 * 1024,
      ExtraHosts: ['db:10.0.0.1'],
      PortBindings: { '80/tcp': [{ HostPort: '8080' }], '53/tcp': [{ HostIp: '127.0.0.1', HostPort: '5353' }] },
    });
    expect(() => containerSettings({ privileged: true, binds: ['/:/host'] })).toThrow(
      /Bad host_config parameters: Unexpected keys: binds, privileged; allowed: blkio_weight/,
    );
    expect(dockerBytes('1g', 'shm_size')).toBe(1024 ** 3);
    expect(() => dockerBytes('lots', 'shm_size')).toThrow('host_config.shm_size: bad size "lots"');
  });

  it('lava check accepts a docker job and refuses an unknown parameter', () => {
    const spec = {
      job_id: 'd/1',
      type: 'docker',
      worker: 'core',
      owner: 'o',
      description: 'd',
      enabled: true,
      payload: 'img:1',
      parameters: { command: '/bin/sh -c date', docker: 'ecr', host_config: { cpuset_cpus: '0' } },
    };
    expect(checkSpec('job', spec).errors).toEqual([]);
    expect(checkJobType(spec)).toEqual({ errors: [], warnings: [] });
    expect(checkJobType({ ...spec, parameters: { entrypoint: 'x' } }).errors.join('\n')).toMatch(/entrypoint/);
    // The upstream user guide's docker jobs pass the type check too (checkSpec: test/compat/upstream-guide.test.ts).
    const guide = YAML.parse(fs.readFileSync('test/fixtures/upstream-guide/docker.yaml', 'utf8')) as Record<string, unknown>[];
    expect(guide).toHaveLength(4);
    for (const g of guide) expect(checkJobType(g), String(g.job_id)).toEqual({ errors: [], warnings: [] });
  });
});

const skip = podmanSkipReason;

describe.skipIf(skip !== undefined)(`docker jobs on a real engine${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let engine: PodmanService;
  let docker: Docker;
  let t: TestRealm;

  beforeAll(async () => {
    engine = await startPodman();
    docker = new Docker({ socketPath: engine.socket });
  }, 120_000);
  afterAll(async () => {
    await engine?.stop();
  }, 60_000);

  beforeEach(async () => {
    t = await makeRealm({ DOCKER_PULL: 'missing', DIRECTORY_BEAT: '1s' });
    await t.backend.secrets.put('test', '/lava/test/registry/pw', 'Regi$try-Pa55word-xyzzy');
    await t.backend.config.put('test', 'connections', {
      conn_id: 'engine',
      type: 'docker',
      enabled: true,
      server: engine.url,
    });
  });
  afterEach(async () => {
    await t.close();
  });

  /** Containers of this realm's runs still known to the engine. */
  async function lavaContainers(runId: string): Promise<Docker.ContainerInfo[]> {
    return docker.listContainers({ all: true, filters: { label: [`lava.run_id=${runId}`] } });
  }

  function readUri(uri: unknown): string {
    return fs.readFileSync(fileURLToPath(String(uri)), 'utf8');
  }

  it('runs a command: output in logs, LAVA_* env, scratch mounted at the same path and used as cwd; container removed', async () => {
    const ran = await t.runOnce({
      job_id: 'd/ok',
      type: 'docker',
      owner: 'ops',
      payload: engine.image,
      parameters: {
        docker: 'engine',
        command: 'sh -c',
        args: [
          'echo "job=$LAVA_JOB_ID run=$LAVA_RUN_ID realm=$LAVA_REALM worker=$LAVA_WORKER owner=$LAVA_OWNER"; ' +
            'echo "tmp=$LAVA_TMP pwd=$(pwd) payload=$LAVA_S3_PAYLOAD s3tmp=$LAVA_S3_TMP"; ' +
            'echo hello > "$LAVA_TMP/from-container.txt"; cat "$LAVA_TMP/from-container.txt"; echo to-stderr >&2; ' +
            'echo "home=${HOME:-none} path-ok=$([ -n "$PATH" ] && echo y)"',
        ],
      },
    });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const info = ran.last as { exit_status: number; output: string };
    expect(info.exit_status).toBe(0);
    expect(info.output).toMatch(/\/d\/ok\/[0-9a-f-]+\/logs$/);
    const logs = readUri(info.output);
    expect(logs).toContain(`job=d/ok run=${ran.runId} realm=test worker=w owner=ops`);
    const tmp = /tmp=(\S+) pwd=(\S+)/.exec(logs);
    expect(tmp?.[1]).toContain(path.join(t.tmpRoot, 'test'));
    expect(tmp?.[2]).toBe(tmp?.[1]); // the working directory is the scratch dir, at the same path
    expect(logs).toContain(`payload=${t.realm.s3_payloads}/${engine.image}`);
    expect(logs).toMatch(/s3tmp=\S+\/d\/ok\//);
    expect(logs).toContain('hello\n');
    expect(logs).toContain('to-stderr\n'); // stderr goes to logs too
    // lava output shows it as the run's stdout.
    expect(await outputFiles(t.backend, t.realm, ran.runId, 'stdout')).toEqual([{ label: 'd/ok/logs', uri: info.output }]);
    // The worker's own environment is not passed in (only LAVA_* variables).
    expect(logs).not.toContain(`home=${process.env.HOME}`);
    expect(await lavaContainers(ran.runId)).toEqual([]);
  }, 60_000);

  it('a non-zero exit fails the run with its status and stderr; the container is removed', async () => {
    const ran = await t.runOnce({
      job_id: 'd/fail',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'engine', command: 'sh -c', args: ['echo out; echo "it broke" >&2; exit 7'] },
    });
    expect(ran.statuses.at(-1)).toBe('failed');
    const info = ran.last as { error: string; error_data: { exit_status: number; output: string; error: string } };
    expect(info.error).toBe(`${engine.image}: exit status 7: it broke`);
    expect(info.error_data.exit_status).toBe(7);
    expect(info.error_data.error).toBe('it broke');
    expect(readUri(info.error_data.output)).toBe('out\nit broke\n');
    expect(await lavaContainers(ran.runId)).toEqual([]);
  }, 60_000);

  it('times out with exit status 28 and "Timed out after N seconds"; the container is killed and removed', async () => {
    const started = Date.now();
    const ran = await t.runOnce({
      job_id: 'd/slow',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'engine', command: 'sh -c "echo started; sleep 60"', timeout: '2s' },
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    const info = ran.last as { error: string; error_data: { exit_status: number; error: string; output: string } };
    expect(info.error).toBe(`${engine.image}: Timed out after 2 seconds`);
    expect(info.error_data.exit_status).toBe(28);
    expect(info.error_data.error).toBe('Timed out after 2 seconds');
    expect(readUri(info.error_data.output)).toBe('started\n');
    expect(await lavaContainers(ran.runId)).toEqual([]);
  }, 60_000);

  it('renders command words, args and env with Jinja after lexing; jinja: false leaves them as written', async () => {
    const spec = (jinja: boolean) => ({
      job_id: `d/jinja-${jinja}`,
      type: 'docker',
      payload: engine.image,
      parameters: {
        docker: 'engine',
        jinja,
        vars: { who: 'world' },
        command: 'sh -c',
        args: ['echo "arg={{ vars.who }} env=$GREETING job={{job.job_id}}"'],
        env: { GREETING: 'hi-{{ vars.who }}' },
      },
    });
    const on = await t.runOnce(spec(true));
    expect(readUri((on.last as { output: string }).output)).toBe('arg=world env=hi-world job=d/jinja-true\n');
    const off = await t.runOnce(spec(false));
    expect(readUri((off.last as { output: string }).output)).toBe(
      'arg={{ vars.who }} env=hi-{{ vars.who }} job={{job.job_id}}\n',
    );
  }, 60_000);

  it('without command runs the image default (args ignored); host_config and the labels reach the engine', async () => {
    // The imported image has no default command: the engine refuses to create the container.
    const ran = await t.runOnce({
      job_id: 'd/nocmd',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'engine', args: ['ignored'] },
    });
    expect((ran.last as { error: string }).error).toMatch(/^Cannot run container from image localhost\/lava-test-busybox: /);
    const labelled = await t.runOnce({
      job_id: 'd/labels',
      type: 'docker',
      owner: 'ops',
      payload: engine.image,
      parameters: {
        docker: 'engine',
        command: 'sh -c "hostname; id -u; id -G; pwd"',
        host_config: { hostname: 'custom-host', user: '1234', group_add: ['4321'], working_dir: '/tmp' },
      },
    });
    expect(readUri((labelled.last as { output: string }).output)).toBe('custom-host\n1234\n0 4321\n/tmp\n');
    const refused = await t.runOnce({
      job_id: 'd/binds',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'engine', command: 'true', host_config: { binds: ['/:/host'] } },
    });
    expect((refused.last as { error: string }).error).toMatch(/^Bad host_config parameters: Unexpected keys: binds;/);
  }, 60_000);

  it('the default hostname is lava-<realm>-<worker>-<run_id>, and a stop request kills and removes the container', async () => {
    await t.putJob({
      job_id: 'd/stop',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'engine', command: 'sh -c "hostname; sleep 60"', timeout: '5m' },
    });
    const worker = await Worker.create({ backend: t.backend, realm: 'test', worker: 'w', waitSeconds: 1 });
    const running = worker.run();
    const runId = await t.dispatch('d/stop');
    const until = async <T>(fn: () => Promise<T | undefined>, ms: number): Promise<T> => {
      const end = Date.now() + ms;
      for (;;) {
        const v = await fn();
        if (v !== undefined) return v;
        if (Date.now() > end) throw new Error('timed out waiting');
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const [c] = await until(async () => {
      const list = await lavaContainers(runId);
      return list.length && list[0]?.State === 'running' ? list : undefined;
    }, 30_000);
    expect(c?.Labels).toMatchObject({ 'lava.realm': 'test', 'lava.worker': 'w', 'lava.job_id': 'd/stop', 'lava.run_id': runId });
    expect(c?.Names[0]).toMatch(/^\/?lava-[0-9a-f-]{36}$/);
    const asked = Date.now();
    await requestStop(t.backend, 'test', runId, 'tester', 'd/stop');
    const rec = await until(async () => {
      const r = await t.backend.events.get('test', 'd/stop', runId);
      return r?.status === 'failed' ? r : undefined;
    }, 20_000);
    expect(Date.now() - asked).toBeLessThan(15_000);
    const last = rec.log.at(-1)?.info as { error: string; error_data: { output: string } };
    expect(last.error).toBe('Stopped on request');
    expect(readUri(last.error_data.output)).toBe(`lava-test-w-${runId}\n`);
    expect(await lavaContainers(runId)).toEqual([]);
    await worker.stop();
    await running;
  }, 60_000);

  it('pull: a missing image with no registry reachable fails with the pull error; DOCKER_PULL=always pulls even a present image', async () => {
    const missing = await t.runOnce({
      job_id: 'd/missing2',
      type: 'docker',
      payload: 'localhost/not-here:1',
      parameters: { docker: 'engine', command: 'true' },
    });
    expect((missing.last as { error: string }).error).toMatch(/^Cannot pull docker image localhost\/not-here: \S/);
    await t.backend.config.putRealm({ ...t.realm, config: { ...t.realm.config, DOCKER_PULL: 'always' } });
    const always = await t.runOnce({
      job_id: 'd/always',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'engine', command: 'true' },
    });
    expect((always.last as { error: string }).error).toMatch(/^Cannot pull docker image localhost\/lava-test-busybox: \S/);
  }, 90_000);

  it('a registry password never reaches the run record, outputs, the container env or errors', async () => {
    const secret = 'Regi$try-Pa55word-xyzzy';
    await t.backend.config.put('test', 'connections', {
      conn_id: 'private',
      type: 'docker',
      enabled: true,
      server: engine.url,
      registry: '127.0.0.1:1',
      user: 'robot',
      password: '/lava/test/registry/pw',
    });
    const ran = await t.runOnce({
      job_id: 'd/secret',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'private', command: 'env' },
    });
    const record = JSON.stringify(await t.backend.events.get('test', 'd/secret', ran.runId));
    expect(record).not.toContain(secret);
    expect((ran.last as { error: string }).error).toMatch(
      /^docker connection "private": Cannot login to registry 127\.0\.0\.1:1: /,
    );
    // Through the connection API too.
    await expect(getDockerConnection('private', { backend: t.backend, realm: 'test' })).rejects.toThrow(
      /Cannot login to registry/,
    );
    // A job that gets as far as running: the container's env holds no password, nor the worker's secret key.
    process.env.LAVA_SECRET_KEY = 'worker-secret-key-not-for-containers';
    process.env.LAVA_TEST_PASSED_IN = 'yes';
    const ok = await t.runOnce({
      job_id: 'd/env',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'engine', command: 'env', connections: {} },
    });
    const logs = readUri((ok.last as { output: string }).output);
    expect(logs).toContain('LAVA_JOB_ID=d/env');
    expect(logs).not.toContain(secret);
    expect(logs).toContain('LAVA_TEST_PASSED_IN=yes');
    expect(logs).not.toContain('worker-secret-key-not-for-containers');
    delete process.env.LAVA_SECRET_KEY;
    delete process.env.LAVA_TEST_PASSED_IN;
  }, 60_000);

  it('the connection API gives a dockerode client for the daemon; the realm default and the local default are used', async () => {
    const conn = await getDockerConnection('engine', { backend: t.backend, realm: 'test' });
    expect(conn.auth).toBeUndefined();
    expect((await conn.client.version()).ApiVersion).toMatch(/^\d+\.\d+/);
    // Realm default: no "docker" parameter.
    await t.backend.config.putRealm({ ...t.realm, docker: 'engine' });
    const viaRealm = await t.runOnce({
      job_id: 'd/realm',
      type: 'docker',
      payload: engine.image,
      parameters: { command: 'echo realm' },
    });
    expect(readUri((viaRealm.last as { output: string }).output)).toBe('realm\n');
    // Neither: the environment's DOCKER_HOST.
    await t.backend.config.putRealm({ ...t.realm });
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = engine.url;
    try {
      const local = await t.runOnce({
        job_id: 'd/local',
        type: 'docker',
        payload: engine.image,
        parameters: { command: 'echo local' },
      });
      expect(readUri((local.last as { output: string }).output)).toBe('local\n');
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    // A connection of another type is refused.
    await t.backend.config.put('test', 'connections', { conn_id: 'gen', type: 'generic', enabled: true, attributes: { a: 1 } });
    const wrong = await t.runOnce({
      job_id: 'd/wrong',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'gen', command: 'true' },
    });
    expect((wrong.last as { error: string }).error).toBe(
      'connection "gen" (parameters.docker) is of type generic: it must be of type "docker"',
    );
  }, 60_000);

  it('runs the examples of docs/job-types/docker.md (examples/docs/docker.yaml) as the page says', async () => {
    const specs = YAML.parse(fs.readFileSync('examples/docs/docker.yaml', 'utf8')) as Record<string, unknown>[];
    const byId = new Map(specs.map((s) => [String(s.job_id), { ...s, worker: 'w' }]));
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = engine.url; // no "docker" parameter or realm default: the local daemon
    try {
      const hello = await t.runOnce(byId.get('docs/docker/hello')!);
      const out = readUri((hello.last as { output: string }).output);
      expect(out).toMatch(new RegExp(`^hello from docs/docker/hello in ${t.tmpRoot}/test/\\S+ as ${process.geteuid!()}\n$`));
      const scratch = await t.runOnce(byId.get('docs/docker/scratch')!);
      expect(readUri((scratch.last as { output: string }).output)).toBe('hello world\n');
      const slow = await t.runOnce(byId.get('docs/docker/timeout')!);
      expect(slow.last).toMatchObject({
        error: 'busybox: Timed out after 2 seconds',
        error_data: { exit_status: 28, error: 'Timed out after 2 seconds' },
      });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  }, 60_000);

  it('lava conn test pings the daemon; an ECR registry without @aws-sdk/client-ecr says which package to install', async () => {
    const c = await resolveConnection('engine', { backend: t.backend, realm: 'test' });
    expect(await dockerConnector.test!(c)).toMatch(/^engine \(docker\): daemon at unix:\/\/\S+ answers \(.+, API \d+\.\d+\)$/);
    await t.backend.config.put('test', 'connections', {
      conn_id: 'ecr',
      type: 'docker',
      enabled: true,
      server: engine.url,
      registry: 'ecr',
    });
    const ran = await t.runOnce({
      job_id: 'd/ecr',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'ecr', command: 'true' },
    });
    expect((ran.last as { error: string }).error).toContain(
      'the ECR login of docker connection "ecr" needs the package "@aws-sdk/client-ecr", which is not installed: run `npm install @aws-sdk/client-ecr`',
    );
    // A daemon that is not there.
    await t.backend.config.put('test', 'connections', {
      conn_id: 'gone',
      type: 'docker',
      enabled: true,
      server: 'unix:///nonexistent/docker.sock',
    });
    const gone = await t.runOnce({
      job_id: 'd/gone',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'gone', command: 'true' },
    });
    expect((gone.last as { error: string }).error).toMatch(
      /^docker connection "gone": cannot reach the docker daemon at unix:\/\/\/nonexistent\/docker\.sock: .*ENOENT/,
    );
  }, 60_000);

  it('dev mode prints the logs on the worker stdout after the run and stores nothing', async () => {
    await t.putJob({
      job_id: 'd/dev',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'engine', command: 'sh -c "echo dev-line-1; echo dev-line-2 >&2"' },
    });
    const runId = await t.dispatch('d/dev');
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(Buffer.from(chunk).toString('utf8'));
      return true;
    });
    try {
      await t.drain({ dev: true });
    } finally {
      spy.mockRestore();
    }
    const rec = await t.backend.events.get('test', 'd/dev', runId);
    expect(rec?.status).toBe('complete');
    expect(rec?.log.at(-1)?.info).toEqual({ exit_status: 0, error: null });
    expect(printed.join('')).toContain('dev-line-1\ndev-line-2\n');
  }, 60_000);

  it('a worker forced to stop kills and removes its containers, and hands the run back', async () => {
    await t.putJob({
      job_id: 'd/shutdown',
      type: 'docker',
      payload: engine.image,
      parameters: { docker: 'engine', command: 'sleep 60' },
    });
    const worker = await Worker.create({ backend: t.backend, realm: 'test', worker: 'w', waitSeconds: 1 });
    const running = worker.run();
    const runId = await t.dispatch('d/shutdown');
    const end = Date.now() + 30_000;
    while (!(await lavaContainers(runId)).some((c) => c.State === 'running')) {
      if (Date.now() > end) throw new Error('the container did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    const asked = Date.now();
    await worker.stop(0); // no grace: the running job is killed
    await running;
    expect(Date.now() - asked).toBeLessThan(15_000);
    expect(await lavaContainers(runId)).toEqual([]);
    // Handed back, not failed: no failure was recorded.
    expect(await t.statuses(runId, 'd/shutdown')).not.toContain('failed');
  }, 60_000);

  it('a stop request during a pull ends the pull and the run', async (ctx) => {
    // A "registry" that accepts connections and never answers, so the pull hangs until it is aborted.
    const silent = net.createServer(() => undefined);
    const listening = await new Promise<boolean>((resolve) => {
      silent.once('error', () => resolve(false));
      silent.listen(443, '127.0.0.1', () => resolve(true));
    });
    if (!listening) ctx.skip(); // port 443 taken (or not root): nothing to hang the pull on
    onTestFinished(() => void silent.close());
    await t.putJob({
      job_id: 'd/pulling',
      type: 'docker',
      payload: '127.0.0.1/hanging:2',
      parameters: { docker: 'engine', command: 'true' },
    });
    const worker = await Worker.create({ backend: t.backend, realm: 'test', worker: 'w', waitSeconds: 1 });
    const running = worker.run();
    const runId = await t.dispatch('d/pulling');
    const end = Date.now() + 30_000;
    while (!(await t.statuses(runId, 'd/pulling')).includes('running')) {
      if (Date.now() > end) throw new Error('the run did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const asked = Date.now();
    await requestStop(t.backend, 'test', runId, 'tester', 'd/pulling');
    for (;;) {
      const r = await t.backend.events.get('test', 'd/pulling', runId);
      if (r?.status === 'failed') {
        expect(r.log.at(-1)?.info).toMatchObject({ error: 'Stopped on request' });
        break;
      }
      if (Date.now() > end) throw new Error('the run was not stopped');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The pull would hang for as long as the engine waits for the registry; the stop ends it.
    expect(Date.now() - asked).toBeLessThan(5000);
    await worker.stop();
    await running;
  }, 60_000);
});
