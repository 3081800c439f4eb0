/**
 * The DynamoDB tables of the AWS backend: upstream Lava's own (`lava.realms`, `lava.<realm>.jobs`,
 * `.connections`, `.events`, `.s3triggers`, `.state`) with their keys and indexes, and three that Lava
 * for TypeScript adds (`.runs` for run claims, `.schedules` for dispatcher ticks and marks, `.directory`
 * for live processes, API tokens and stop requests, `.batches` and `.batch_tasks` for orchestrated batches).
 *
 * `lava aws bootstrap` creates them; with `?autocreate=true` a table is created the first time it is
 * used instead (tests and local emulators). Otherwise a missing table is a ConfigError that says so.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { QueryCommand, ScanCommand, type QueryCommandInput, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConfigError } from '../../core/errors.js';
import { sleep } from '../../core/time.js';
import { awsErrorName, isAwsError, type AwsClients } from './clients.js';

export type TableKind =
  | 'realms'
  | 'jobs'
  | 'connections'
  | 'events'
  | 's3triggers'
  | 'state'
  | 'runs'
  | 'schedules'
  | 'directory'
  | 'batches'
  | 'batch_tasks';

/** Per-realm tables, in the order bootstrap creates them. */
export const REALM_TABLES: readonly Exclude<TableKind, 'realms'>[] = [
  'jobs',
  'connections',
  'events',
  's3triggers',
  'state',
  'runs',
  'schedules',
  'directory',
  'batches',
  'batch_tasks',
];

/** Tables Lava for TypeScript adds to upstream's layout. */
export const ADDED_TABLES: readonly TableKind[] = ['runs', 'schedules', 'directory', 'batches', 'batch_tasks'];

export const DISPATCHER_INDEX = 'dispatcher-index';
export const EVENTS_TIME_INDEX = 'job_id-tu_event-index';
export const S3TRIGGER_INDEX = 's3trigger-index';
export const BATCH_STATE_INDEX = 'state-index';

export function tableName(realm: string, kind: TableKind): string {
  return kind === 'realms' ? 'lava.realms' : `lava.${realm}.${kind}`;
}

type TableInput = Omit<CreateTableCommandInput, 'TableName'>;
type Index = NonNullable<TableInput['GlobalSecondaryIndexes']>[number];

/** A key schema: a hash key and, optionally, a range key. */
function keys(hash: string, range?: string): Index['KeySchema'] {
  return [
    { AttributeName: hash, KeyType: 'HASH' as const },
    ...(range ? [{ AttributeName: range, KeyType: 'RANGE' as const }] : []),
  ];
}

/** An on-demand table keyed on `hash` (and `range`); `attributes` are the string attributes of keys and indexes. */
function table(attributes: string[], hash: string, range?: string, more: Partial<TableInput> = {}): TableInput {
  return {
    AttributeDefinitions: attributes.map((a) => ({ AttributeName: a, AttributeType: 'S' as const })),
    KeySchema: keys(hash, range),
    ...more,
    BillingMode: 'PAY_PER_REQUEST',
  };
}

function index(name: string, projection: Index['Projection'], hash: string, range: string): Index {
  return { IndexName: name, KeySchema: keys(hash, range), Projection: projection };
}

const ALL = { ProjectionType: 'ALL' as const };

const DEFINITIONS: Record<TableKind, { create: TableInput; ttl?: string }> = {
  realms: { create: table(['realm'], 'realm') },
  connections: { create: table(['conn_id'], 'conn_id') },
  state: { create: table(['state_id'], 'state_id'), ttl: 'ttl' },
  runs: { create: table(['run_id'], 'run_id'), ttl: 'ttl' },
  jobs: {
    create: table(['job_id', 'dispatcher'], 'job_id', undefined, {
      GlobalSecondaryIndexes: [
        index(DISPATCHER_INDEX, { ProjectionType: 'INCLUDE', NonKeyAttributes: ['worker', 'schedule'] }, 'dispatcher', 'job_id'),
      ],
    }),
  },
  events: {
    create: table(['job_id', 'run_id', 'tu_event'], 'job_id', 'run_id', {
      LocalSecondaryIndexes: [index(EVENTS_TIME_INDEX, ALL, 'job_id', 'tu_event')],
    }),
    ttl: 'ttl',
  },
  s3triggers: {
    create: table(['trigger_id', 'bucket', 'prefix'], 'trigger_id', undefined, {
      GlobalSecondaryIndexes: [index(S3TRIGGER_INDEX, ALL, 'bucket', 'prefix')],
    }),
  },
  schedules: { create: table(['dispatcher', 'sk'], 'dispatcher', 'sk') },
  directory: { create: table(['kind', 'id'], 'kind', 'id'), ttl: 'ttl' },
  batches: { create: table(['batch_id'], 'batch_id') },
  batch_tasks: {
    create: table(['batch_id', 'key', 'batch_state'], 'batch_id', 'key', {
      GlobalSecondaryIndexes: [index(BATCH_STATE_INDEX, ALL, 'batch_state', 'key')],
    }),
  },
};

/** CreateTable input (without the name) and the TTL attribute of each kind. */
export function tableDefinition(kind: TableKind): { create: TableInput; ttl?: string } {
  return structuredClone(DEFINITIONS[kind]);
}

export type TtlOutcome = 'enabled' | 'already enabled' | 'not supported by this endpoint' | 'none';

export interface TableOutcome {
  table: string;
  kind: TableKind;
  created: boolean;
  ttl: TtlOutcome;
}

const TABLE_NAME_RE = /^[A-Za-z0-9_.-]{3,255}$/;

/** Create one table if it does not exist, wait until it is ACTIVE, and turn on its TTL. Idempotent. */
export async function ensureTable(clients: AwsClients, realm: string, kind: TableKind): Promise<TableOutcome> {
  const name = tableName(realm, kind);
  if (!TABLE_NAME_RE.test(name)) {
    throw new ConfigError(
      `realm name "${realm}" cannot be part of a DynamoDB table name (${name}): use letters, digits, _ - and .`,
    );
  }
  const def = tableDefinition(kind);
  let created = false;
  try {
    await clients.dynamo.send(new CreateTableCommand({ TableName: name, ...def.create }));
    created = true;
  } catch (err) {
    // Another process made it first, or it was there already.
    if (!isAwsError(err, 'ResourceInUseException')) throw err;
  }
  await waitActive(clients, name);
  const ttl = def.ttl ? await ensureTtl(clients, name, def.ttl) : 'none';
  return { table: name, kind, created, ttl };
}

async function waitActive(clients: AwsClients, name: string): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (let delay = 50; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      const d = await clients.dynamo.send(new DescribeTableCommand({ TableName: name }));
      if (d.Table?.TableStatus === 'ACTIVE') return;
    } catch (err) {
      if (!isAwsError(err, 'ResourceNotFoundException')) throw err;
    }
    if (Date.now() > deadline) throw new ConfigError(`DynamoDB table ${name} did not become ACTIVE within 10 minutes`);
    await sleep(delay);
  }
}

async function ensureTtl(clients: AwsClients, name: string, attribute: string): Promise<TtlOutcome> {
  try {
    const d = await clients.dynamo.send(new DescribeTimeToLiveCommand({ TableName: name }));
    const status = d.TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') return 'already enabled';
    await clients.dynamo.send(
      new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: attribute } }),
    );
    return 'enabled';
  } catch (err) {
    // Emulators (dynalite) have no TTL API.
    if (isAwsError(err, 'UnknownOperationException')) return 'not supported by this endpoint';
    if (isAwsError(err, 'ValidationException') && /already enabled/i.test(String((err as Error).message)))
      return 'already enabled';
    throw err;
  }
}

/**
 * Table access for the stores: the table name for a realm, and `use()`, which runs a request and, when
 * the table does not exist, creates it (autocreate) or explains how to (bootstrap).
 */
export class Tables {
  private readonly ensured = new Map<string, Promise<unknown>>();

  constructor(readonly clients: AwsClients) {}

  get doc() {
    return this.clients.doc;
  }

  name(realm: string, kind: TableKind): string {
    return tableName(realm, kind);
  }

  /**
   * Make sure a table exists (created with autocreate), so a process that needs it refuses to start
   * instead of failing on its first request.
   */
  async require(realm: string, kind: TableKind, user: string): Promise<void> {
    const table = tableName(realm, kind);
    try {
      await this.clients.dynamo.send(new DescribeTableCommand({ TableName: table }));
    } catch (err) {
      if (!isAwsError(err, 'ResourceNotFoundException')) throw err;
      if (this.clients.opts.autoCreate) {
        await ensureTable(this.clients, realm, kind);
        return;
      }
      throw new ConfigError(
        `DynamoDB table ${table} does not exist, and ${user}: create it with \`lava aws bootstrap --realm ${realm}\` ` +
          '(existing tables are left as they are), or add ?autocreate=true to the aws:// backend URL',
      );
    }
  }

  async use<T>(realm: string, kind: TableKind, fn: (table: string) => Promise<T>): Promise<T> {
    const table = tableName(realm, kind);
    try {
      return await fn(table);
    } catch (err) {
      if (!isAwsError(err, 'ResourceNotFoundException')) throw err;
      if (!this.clients.opts.autoCreate) {
        const how = kind === 'realms' ? 'lava aws bootstrap' : `lava aws bootstrap --realm ${realm}`;
        throw new ConfigError(
          `DynamoDB table ${table} does not exist (${awsErrorName(err)}): create the tables with \`${how}\`, ` +
            'or add ?autocreate=true to the aws:// backend URL to create them on first use',
        );
      }
      let p = this.ensured.get(table);
      if (!p) {
        p = ensureTable(this.clients, realm, kind);
        this.ensured.set(table, p);
        p.catch(() => this.ensured.delete(table));
      }
      await p;
      return fn(table);
    }
  }
}

/** Every item a Scan returns, following LastEvaluatedKey. */
export async function scanAll(doc: AwsClients['doc'], input: ScanCommandInput): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(new ScanCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    out.push(...((r.Items ?? []) as Record<string, unknown>[]));
    start = r.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start);
  return out;
}

/** Items a Query returns, following LastEvaluatedKey until `enough` of them (default: all). */
export async function queryAll(
  doc: AwsClients['doc'],
  input: QueryCommandInput,
  enough = Infinity,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    out.push(...((r.Items ?? []) as Record<string, unknown>[]));
    start = r.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start && out.length < enough);
  return out;
}
