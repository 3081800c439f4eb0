/** aws connections: access keys from a secret, role_arn refused (no STS client), lava conn test never prints the secret key. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsClientConfig, awsConnector } from '../../src/connections/connectors/aws.js';
import { resolveConnection } from '../../src/connections/resolve.js';
import { clearSecretCache } from '../../src/connections/secrets.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
  clearSecretCache();
  await t.backend.secrets.put('test', '/lava/test/aws/keys', 'AKIAEXAMPLE1234,wJalrSecretKeyValue');
});
afterEach(async () => {
  await t.close();
});

describe('aws connections', () => {
  it('access_keys become SDK credentials; conn test shows only the key id tail', async () => {
    await t.backend.config.put('test', 'connections', {
      conn_id: 'a',
      type: 'aws',
      enabled: true,
      access_keys: '/lava/test/aws/keys',
      region: 'eu-west-1',
    });
    const c = await resolveConnection('a', { backend: t.backend, realm: 'test' });
    expect(awsClientConfig(c)).toEqual({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIAEXAMPLE1234', secretAccessKey: 'wJalrSecretKeyValue' },
    });
    const line = await awsConnector.test!(c);
    expect(line).toContain('credentials from access_keys resolve (key id …1234, region eu-west-1)');
    expect(line).toContain('@aws-sdk/client-sts');
    expect(line).not.toContain('wJalrSecretKeyValue');
  });

  it('role_arn is refused with the reason', async () => {
    await t.backend.config.put('test', 'connections', {
      conn_id: 'r',
      type: 'aws',
      enabled: true,
      role_arn: 'arn:aws:iam::1:role/x',
    });
    const c = await resolveConnection('r', { backend: t.backend, realm: 'test' });
    expect(() => awsClientConfig(c)).toThrow(/assuming a role needs STS/);
  });
});
