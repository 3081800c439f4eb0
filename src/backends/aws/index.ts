/**
 * The AWS backend: upstream Lava's own AWS layout, so a realm made by upstream Lava is used as it is.
 * DynamoDB tables `lava.realms` and `lava.<realm>.{jobs,connections,events,s3triggers,state}` (plus
 * `.runs`, `.schedules` and `.directory`, added), SQS queues `lava-<realm>-<worker>`, SSM parameters under
 * `/lava/<realm>/`; payloads and outputs live on S3 (the `s3://` blob store).
 *
 * URL: `aws://` or `aws://?region=eu-west-1&autocreate=true&expire=auto&ssm_key=alias/lava-{realm}-sys`.
 */
import { queueName, type Backend, type Queue } from '../ports.js';
import { AwsBatchStore } from './batch-store.js';
import { AwsClients } from './clients.js';
import { AwsConfigStore } from './config-store.js';
import { AwsDirectory } from './directory.js';
import { AwsEventStore } from './event-store.js';
import { SqsQueue } from './queue.js';
import { AwsRunClaims } from './run-claims.js';
import { AwsScheduleClaims } from './schedule-claims.js';
import { REALM_TABLES, Tables, ensureTable, type TableOutcome } from './schema.js';
import { AwsSecretStore } from './secret-store.js';
import { AwsStateStore } from './state-store.js';
import { parseAwsUrl } from './url.js';

export { isAwsUrl, parseAwsUrl, type AwsUrl } from './url.js';
export { ADDED_TABLES, REALM_TABLES, ensureTable, tableName, type TableKind, type TableOutcome } from './schema.js';

export async function createAwsBackend(url: string): Promise<Backend> {
  const opts = parseAwsUrl(url);
  const clients = new AwsClients(opts);
  const tables = new Tables(clients);
  const closer = new AbortController();
  const queues = new Map<string, Queue>();
  let closing: Promise<void> | undefined;
  const events = new AwsEventStore(tables, opts.expire);
  return {
    url: opts.url,
    config: new AwsConfigStore(tables),
    events,
    runs: new AwsRunClaims(tables, events),
    schedules: new AwsScheduleClaims(tables),
    state: new AwsStateStore(tables),
    secrets: new AwsSecretStore(clients),
    directory: new AwsDirectory(tables),
    batches: new AwsBatchStore(tables),
    queue(realm: string, worker: string): Queue {
      const name = queueName(realm, worker);
      let q = queues.get(name);
      if (!q) queues.set(name, (q = new SqsQueue(clients, name, closer.signal)));
      return q;
    },
    close() {
      // Waiting receives return [] at once; then the clients' sockets go.
      return (closing ??= (async () => {
        closer.abort();
        await new Promise((r) => setImmediate(r));
        clients.destroy();
      })());
    },
  };
}

/**
 * `lava aws bootstrap`: create `lava.realms` and, for a realm, its tables (upstream's five with their
 * indexes, and `.runs`, `.schedules` and `.directory`), wait until they are ACTIVE and turn TTL on. Idempotent:
 * existing tables (an upstream installation's) are left as they are, TTL aside.
 */
export async function bootstrapAws(url: string, realm?: string): Promise<TableOutcome[]> {
  const clients = new AwsClients(parseAwsUrl(url));
  try {
    const out = [await ensureTable(clients, '', 'realms')];
    if (realm) for (const kind of REALM_TABLES) out.push(await ensureTable(clients, realm, kind));
    return out;
  } finally {
    clients.destroy();
  }
}
