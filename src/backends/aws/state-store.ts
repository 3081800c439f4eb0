/**
 * State items in `lava.<realm>.state` (hash `state_id`, TTL attribute `ttl`), one item each, stored
 * as upstream stores them: `type`, `value` (JSON text, a native value, or ciphertext), `timestamp`,
 * `ttl` (epoch seconds) and `publisher`. Put replaces the whole item.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { StateItem } from '../../core/schemas.js';
import type { StateStore } from '../ports.js';
import { normalise, plainItem } from './clients.js';
import { scanAll, type Tables } from './schema.js';

export class AwsStateStore implements StateStore {
  constructor(private readonly t: Tables) {}

  async get(realm: string, stateId: string): Promise<StateItem | undefined> {
    const r = await this.t.use(realm, 'state', (TableName) =>
      this.t.doc.send(new GetCommand({ TableName, Key: { state_id: stateId }, ConsistentRead: true })),
    );
    return r.Item ? (normalise(r.Item) as StateItem) : undefined;
  }

  async put(realm: string, item: StateItem): Promise<void> {
    await this.t.use(realm, 'state', (TableName) => this.t.doc.send(new PutCommand({ TableName, Item: plainItem(item) })));
  }

  async delete(realm: string, stateId: string): Promise<boolean> {
    const r = await this.t.use(realm, 'state', (TableName) =>
      this.t.doc.send(new DeleteCommand({ TableName, Key: { state_id: stateId }, ReturnValues: 'ALL_OLD' })),
    );
    return r.Attributes !== undefined;
  }

  async list(realm: string, prefix = ''): Promise<StateItem[]> {
    const items = await this.t.use(realm, 'state', (TableName) =>
      scanAll(this.t.doc, {
        TableName,
        ConsistentRead: true,
        ...(prefix
          ? {
              FilterExpression: 'begins_with(#id, :p)',
              ExpressionAttributeNames: { '#id': 'state_id' },
              ExpressionAttributeValues: { ':p': prefix },
            }
          : {}),
      }),
    );
    return (items.map(normalise) as StateItem[]).sort((a, b) => (a.state_id < b.state_id ? -1 : a.state_id > b.state_id ? 1 : 0));
  }
}
