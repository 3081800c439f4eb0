/** Upstream parameters this build does not have: `lava check` and `lava realm put` warn, naming why. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEmbeddedRealm } from '../../src/cli/init.js';
import { runCli } from './run-cli.js';

describe('parameters not in this build', () => {
  let cwd: string;
  let backendUrl: string;
  beforeAll(async () => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-params-'));
    backendUrl = (await initEmbeddedRealm(path.join(cwd, '.lava'), 'default')).backendUrl;
    fs.writeFileSync(
      path.join(cwd, 'realm.json'),
      JSON.stringify({
        realm: 'default',
        s3_payloads: `file://${cwd}/payloads`,
        s3_temp: `file://${cwd}/temp`,
        config: { cw_namespace: 'x', CMD_TIMEOUT: '1m' },
      }),
    );
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('lava check warns about a realm config entry and a LAVA_<NAME> variable, and still passes', async () => {
    const r = await runCli(['check', 'realm.json'], { cwd, env: { LAVA_S3TRIGGER_CACHE_TTL: '30s' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'warning: realm.json[0] (default): config.cw_namespace: a Lava parameter that nothing reads here: CloudWatch metrics (cw_metrics) are not in this build; `lava serve` exposes run counts and durations at /metrics; remove it',
    );
    expect(r.stderr).toMatch(
      /^warning: LAVA_S3TRIGGER_CACHE_TTL: a Lava parameter that nothing reads here: the s3trigger lambda .*; unset it$/m,
    );
    expect(r.stdout).toBe('1 spec(s) checked, 0 error(s), 2 warning(s)\n');
  });

  it('lava realm put stores the realm and warns', async () => {
    const r = await runCli(['realm', 'put', 'realm.json'], { cwd, env: { LAVA_BACKEND: backendUrl } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: .*config\.cw_namespace: a Lava parameter that nothing reads here/);
  });
});
