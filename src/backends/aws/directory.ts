/**
 * A realm's directory in `lava.<realm>.directory` (an addition to upstream's layout): hash `kind`,
 * range `id`, so a kind is one Query, sorted by id. `data` is JSON text, so it round-trips exactly as
 * on the other backends (DynamoDB maps have their own idea of numbers and empty values); `updated` and
 * `expires` are epoch milliseconds, and `ttl` epoch seconds for DynamoDB's TTL to reap. TTL deletion
 * is lazy (often days late), so reads also drop entries whose `expires` has passed.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Directory, DirectoryEntry } from '../ports.js';
import { isAwsError } from './clients.js';
import { queryAll, type Tables } from './schema.js';

type NewEntry = { kind: string; id: string; data: Record<string, unknown>; ttlSeconds?: number };

function item(e: NewEntry, now: number): Record<string, unknown> {
  const expires = e.ttlSeconds === undefined ? undefined : now + e.ttlSeconds * 1000;
  return {
    kind: e.kind,
    id: e.id,
    data: JSON.stringify(e.data),
    updated: now,
    ...(expires === undefined ? {} : { expires, ttl: Math.ceil(expires / 1000) }),
  };
}

export class AwsDirectory implements Directory {
  constructor(private readonly t: Tables) {}

  async put(realm: string, e: NewEntry): Promise<void> {
    const Item = item(e, Date.now());
    await this.t.use(realm, 'directory', (TableName) => this.t.doc.send(new PutCommand({ TableName, Item })));
  }

  async claim(realm: string, e: NewEntry): Promise<boolean> {
    const now = Date.now();
    try {
      // A conditional put: only where there is no entry, or only an expired one (TTL reaps late).
      await this.t.use(realm, 'directory', (TableName) =>
        this.t.doc.send(
          new PutCommand({
            TableName,
            Item: item(e, now),
            ConditionExpression: 'attribute_not_exists(#k) OR #e <= :now',
            ExpressionAttributeNames: { '#k': 'kind', '#e': 'expires' },
            ExpressionAttributeValues: { ':now': now },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return false;
      throw err;
    }
  }

  async get(realm: string, kind: string, id: string): Promise<DirectoryEntry | undefined> {
    const r = await this.t.use(realm, 'directory', (TableName) =>
      this.t.doc.send(new GetCommand({ TableName, Key: { kind, id }, ConsistentRead: true })),
    );
    return r.Item && live(r.Item, Date.now()) ? entry(r.Item) : undefined;
  }

  async list(realm: string, kind: string): Promise<DirectoryEntry[]> {
    const items = await this.t.use(realm, 'directory', (TableName) =>
      queryAll(this.t.doc, {
        TableName,
        ConsistentRead: true,
        KeyConditionExpression: '#k = :k',
        ExpressionAttributeNames: { '#k': 'kind' },
        ExpressionAttributeValues: { ':k': kind },
      }),
    );
    const now = Date.now();
    // Query returns the range key in byte order, as the other backends sort ids.
    return items.filter((i) => live(i, now)).map(entry);
  }

  async delete(realm: string, kind: string, id: string): Promise<boolean> {
    const r = await this.t.use(realm, 'directory', (TableName) =>
      this.t.doc.send(new DeleteCommand({ TableName, Key: { kind, id }, ReturnValues: 'ALL_OLD' })),
    );
    return r.Attributes !== undefined;
  }
}

const live = (item: Record<string, unknown>, now: number) => item.expires === undefined || Number(item.expires) > now;

function entry(item: Record<string, unknown>): DirectoryEntry {
  return {
    kind: String(item.kind),
    id: String(item.id),
    data: JSON.parse(String(item.data)) as Record<string, unknown>,
    updated: new Date(Number(item.updated)),
    ...(item.expires === undefined ? {} : { expires: new Date(Number(item.expires)) }),
  };
}
