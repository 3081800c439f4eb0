/** `lava aws …`: set up the AWS backend's resources (DynamoDB tables) for a realm. */
import type { Command } from 'commander';
import { backendAdmin, backendNamed, backendUrl, openBackend } from '../backends/index.js';
import { namedRealm, RealmNotChosenError, realmName } from '../backends/realm.js';
import { ConfigError } from '../core/errors.js';
import type { RealmSpec } from '../core/schemas.js';
import { printJson, printTable, type GlobalOptions } from './context.js';

interface BootstrapOptions {
  s3Payloads?: string;
  s3Temp?: string;
  s3Key?: string;
  json?: boolean;
}

/** The backend URL for `lava aws`: --backend / LAVA_BACKEND when it is aws://, else plain aws://. */
function awsUrl(g: GlobalOptions): string {
  const url = backendUrl(g.backend);
  const aws = backendNamed('aws');
  if (aws.matches(url)) return aws.canonicalUrl(url);
  if (g.backend) throw new ConfigError(`lava aws works on the AWS backend: --backend ${g.backend} is not an aws:// URL`);
  return 'aws://';
}

/** With no realm named, the only realm in lava.realms; bootstrap needs a name to make the realm's tables. */
async function onlyAwsRealm(url: string): Promise<string> {
  const needsRealm = 'lava aws bootstrap needs a realm: pass --realm NAME (or set LAVA_REALM)';
  const backend = await openBackend(url);
  try {
    return await realmName(backend, { howToName: 'pass --realm NAME (or set LAVA_REALM)' });
  } catch (err) {
    // No realm record (or no lava.realms table yet): the realm has to be named.
    if (err instanceof RealmNotChosenError && err.reason === 'several') throw err;
    throw new ConfigError(needsRealm);
  } finally {
    await backend.close();
  }
}

export function registerAws(program: Command, g: () => GlobalOptions): void {
  const cmd = program.command('aws').description('the AWS backend (DynamoDB, SQS, SSM, S3): create its tables for a realm');

  cmd
    .command('bootstrap')
    .description(
      "create lava.realms and the realm's tables (jobs, connections, events, s3triggers, state, and the added runs, schedules, directory, batches, batch_tasks) " +
        'with their indexes, and turn on TTL; existing tables are kept. Queues are made on first use. Needs --realm',
    )
    .option('--s3-payloads <uri>', 'also create the realm record if missing, with this payload area (s3://bucket/prefix)')
    .option('--s3-temp <uri>', "the realm record's temp area (s3://bucket/prefix), with --s3-payloads")
    .option('--s3-key <kms-key>', "the realm record's s3_key (KMS key for uploads), with --s3-payloads")
    .option('--json', 'print what was done as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  lava --backend aws://?region=eu-west-1 aws bootstrap --realm prod --s3-payloads s3://b/payloads --s3-temp s3://b/tmp',
    )
    .action(async (o: BootstrapOptions) => {
      if (Boolean(o.s3Payloads) !== Boolean(o.s3Temp)) {
        throw new ConfigError('give both --s3-payloads and --s3-temp (the realm record needs both), or neither');
      }
      const url = awsUrl(g());
      const realm = namedRealm({ realm: g().realm }) ?? (await onlyAwsRealm(url));
      const tables = await backendAdmin(url, 'bootstrap', 'lava aws bootstrap')(url, realm);
      let record: 'created' | 'exists' | 'missing' | undefined;
      const backend = await openBackend(url);
      try {
        const existing = await backend.config.getRealm(realm);
        if (existing) record = 'exists';
        else if (o.s3Payloads && o.s3Temp) {
          const spec: RealmSpec = {
            realm,
            s3_payloads: o.s3Payloads,
            s3_temp: o.s3Temp,
            ...(o.s3Key ? { s3_key: o.s3Key } : {}),
            config: {},
          };
          await backend.config.putRealm(spec);
          record = 'created';
        } else record = 'missing';
      } finally {
        await backend.close();
      }
      if (o.json) return printJson({ backend: url, realm, tables, realm_record: record });
      printTable(
        ['TABLE', 'ACTION', 'TTL'],
        tables.map((t) => [t.table, t.created ? 'created' : 'exists', t.ttl === 'none' ? '-' : t.ttl]),
      );
      const note =
        record === 'created'
          ? `created realm record ${realm}`
          : record === 'exists'
            ? `realm record ${realm} exists`
            : `no realm record for ${realm} in lava.realms yet: add one with --s3-payloads and --s3-temp, or \`lava realm put FILE\``;
      process.stdout.write(`${note}\nqueues lava-${realm}-<worker> are created on first use\n`);
    });
}
