/**
 * Realms in `lava.realms`, and a realm's jobs, connections and triggers in `lava.<realm>.jobs`,
 * `.connections` and `.s3triggers`: one item per record, stored as written (upstream's layout).
 */
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { RealmSpec } from '../../core/schemas.js';
import { CONFIG_TABLES, type ConfigStore, type ConfigTable, type Item } from '../ports.js';
import { isAwsError, normalise, plainItem } from './clients.js';
import { DISPATCHER_INDEX, queryAll, scanAll, type TableKind, type Tables } from './schema.js';

/** The port calls the triggers table `triggers`; upstream's is `.s3triggers`. */
const KIND: Record<ConfigTable, TableKind> = { jobs: 'jobs', connections: 'connections', triggers: 's3triggers' };

const byKey = (key: string) => (a: Item, b: Item) => {
  const x = String(a[key]);
  const y = String(b[key]);
  return x < y ? -1 : x > y ? 1 : 0;
};

export class AwsConfigStore implements ConfigStore {
  constructor(private readonly t: Tables) {}

  async getRealm(realm: string): Promise<RealmSpec | undefined> {
    const r = await this.t.use('', 'realms', (TableName) =>
      this.t.doc.send(new GetCommand({ TableName, Key: { realm }, ConsistentRead: true })),
    );
    return r.Item ? (normalise(r.Item) as RealmSpec) : undefined;
  }

  async putRealm(spec: RealmSpec): Promise<void> {
    await this.t.use('', 'realms', (TableName) => this.t.doc.send(new PutCommand({ TableName, Item: plainItem(spec) })));
  }

  async deleteRealm(realm: string): Promise<boolean> {
    const r = await this.t.use('', 'realms', (TableName) =>
      this.t.doc.send(new DeleteCommand({ TableName, Key: { realm }, ReturnValues: 'ALL_OLD' })),
    );
    return r.Attributes !== undefined;
  }

  async listRealms(): Promise<RealmSpec[]> {
    const items = await this.t.use('', 'realms', (TableName) => scanAll(this.t.doc, { TableName, ConsistentRead: true }));
    return (items.map(normalise) as RealmSpec[]).sort(byKey('realm'));
  }

  async get(realm: string, table: ConfigTable, id: string): Promise<Item | undefined> {
    const key = CONFIG_TABLES[table];
    const r = await this.t.use(realm, KIND[table], (TableName) =>
      this.t.doc.send(new GetCommand({ TableName, Key: { [key]: id }, ConsistentRead: true })),
    );
    return r.Item ? (normalise(r.Item) as Item) : undefined;
  }

  async put(realm: string, table: ConfigTable, item: Item): Promise<void> {
    const key = CONFIG_TABLES[table];
    const id = item[key];
    if (typeof id !== 'string' || !id) throw new TypeError(`${table} item needs a string ${key}`);
    await this.t.use(realm, KIND[table], (TableName) => this.t.doc.send(new PutCommand({ TableName, Item: plainItem(item) })));
  }

  async delete(realm: string, table: ConfigTable, id: string): Promise<boolean> {
    const key = CONFIG_TABLES[table];
    const r = await this.t.use(realm, KIND[table], (TableName) =>
      this.t.doc.send(new DeleteCommand({ TableName, Key: { [key]: id }, ReturnValues: 'ALL_OLD' })),
    );
    return r.Attributes !== undefined;
  }

  async list(realm: string, table: ConfigTable, where: Record<string, string> = {}): Promise<Item[]> {
    const key = CONFIG_TABLES[table];
    for (const k of Object.keys(where)) if (!/^\w+$/.test(k)) throw new TypeError(`bad filter field ${k}`);
    const items = await this.t.use(realm, KIND[table], async (TableName) => {
      if (table === 'jobs' && where.dispatcher !== undefined) {
        const viaIndex = await this.jobsOfDispatcher(TableName, where.dispatcher);
        if (viaIndex) return viaIndex;
      }
      const names: Record<string, string> = {};
      const values: Record<string, string> = {};
      const conds = Object.entries(where).map(([k, v], i) => {
        names[`#f${i}`] = k;
        values[`:v${i}`] = v;
        return `#f${i} = :v${i}`;
      });
      return scanAll(this.t.doc, {
        TableName,
        ConsistentRead: true,
        ...(conds.length
          ? { FilterExpression: conds.join(' AND '), ExpressionAttributeNames: names, ExpressionAttributeValues: values }
          : {}),
      });
    });
    // The filter again on the full items: the index path only narrowed by dispatcher.
    return (items.map(normalise) as Item[]).filter((it) => Object.entries(where).every(([k, v]) => it[k] === v)).sort(byKey(key));
  }

  /**
   * A dispatcher's jobs through upstream's `dispatcher-index` (keys + worker + schedule), then the full
   * items by key. Undefined when the table has no such index (then the caller scans).
   */
  private async jobsOfDispatcher(TableName: string, dispatcher: string): Promise<Record<string, unknown>[] | undefined> {
    let keys: Record<string, unknown>[];
    try {
      keys = await queryAll(this.t.doc, {
        TableName,
        IndexName: DISPATCHER_INDEX,
        KeyConditionExpression: '#d = :d',
        ExpressionAttributeNames: { '#d': 'dispatcher', '#j': 'job_id' },
        ExpressionAttributeValues: { ':d': dispatcher },
        ProjectionExpression: '#j',
      });
    } catch (err) {
      if (isAwsError(err, 'ValidationException')) return undefined;
      throw err;
    }
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] = keys.slice(i, i + 100).map((k) => ({ job_id: k.job_id }));
      for (let round = 0; pending.length; round++) {
        const r = await this.t.doc.send(
          new BatchGetCommand({ RequestItems: { [TableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        out.push(...((r.Responses?.[TableName] ?? []) as Record<string, unknown>[]));
        pending = (r.UnprocessedKeys?.[TableName]?.Keys ?? []) as Record<string, unknown>[];
        if (pending.length) await new Promise((res) => setTimeout(res, Math.min(50 * 2 ** round, 2000)));
      }
    }
    return out;
  }
}
