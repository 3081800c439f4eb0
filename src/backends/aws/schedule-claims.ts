/**
 * Dispatcher bookkeeping in `lava.<realm>.schedules` (an addition to upstream's layout): hash
 * `dispatcher`, range `sk`. A tick is `sk = tick#<job_id>#<fire time ms>` with its run id, owner,
 * claim time and `dispatched` flag, claimed with a conditional PutItem; the mark is `sk = mark`,
 * moved forward only with a conditional UpdateItem.
 */
import { BatchWriteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ScheduleClaims, TickClaim } from '../ports.js';
import { isAwsError } from './clients.js';
import { queryAll, scanAll, type Tables } from './schema.js';

const tickKey = (jobId: string, fireTime: Date) => `tick#${jobId}#${fireTime.getTime()}`;
const MARK = 'mark';

export class AwsScheduleClaims implements ScheduleClaims {
  constructor(private readonly t: Tables) {}

  ready(realm: string): Promise<void> {
    return this.t.require(realm, 'schedules', 'a dispatcher needs it to claim schedule ticks');
  }

  async claim(realm: string, dispatcher: string, tick: TickClaim, owner: string): Promise<boolean> {
    try {
      await this.t.use(realm, 'schedules', (TableName) =>
        this.t.doc.send(
          new PutCommand({
            TableName,
            Item: {
              dispatcher,
              sk: tickKey(tick.jobId, tick.fireTime),
              job_id: tick.jobId,
              fire_time: tick.fireTime.getTime(),
              run_id: tick.runId,
              owner,
              claimed_at: Date.now(),
              dispatched: false,
            },
            ConditionExpression: 'attribute_not_exists(sk)',
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return false;
      throw err;
    }
  }

  async markDispatched(realm: string, dispatcher: string, jobId: string, fireTime: Date): Promise<void> {
    try {
      await this.t.use(realm, 'schedules', (TableName) =>
        this.t.doc.send(
          new UpdateCommand({
            TableName,
            Key: { dispatcher, sk: tickKey(jobId, fireTime) },
            UpdateExpression: 'SET #d = :true',
            ConditionExpression: 'attribute_exists(sk)',
            ExpressionAttributeNames: { '#d': 'dispatched' },
            ExpressionAttributeValues: { ':true': true },
          }),
        ),
      );
    } catch (err) {
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
    }
  }

  async stale(realm: string, dispatcher: string, claimedBefore: Date): Promise<TickClaim[]> {
    const items = await this.t.use(realm, 'schedules', (TableName) =>
      queryAll(this.t.doc, {
        TableName,
        ConsistentRead: true,
        KeyConditionExpression: '#disp = :disp AND begins_with(#sk, :tick)',
        FilterExpression: '#d = :false AND #c < :before',
        ExpressionAttributeNames: { '#disp': 'dispatcher', '#sk': 'sk', '#d': 'dispatched', '#c': 'claimed_at' },
        ExpressionAttributeValues: { ':disp': dispatcher, ':tick': 'tick#', ':false': false, ':before': claimedBefore.getTime() },
      }),
    );
    return items
      .map((i) => ({ jobId: String(i.job_id), fireTime: new Date(Number(i.fire_time)), runId: String(i.run_id) }))
      .sort((a, b) => a.fireTime.getTime() - b.fireTime.getTime());
  }

  async getMark(realm: string, dispatcher: string): Promise<Date | undefined> {
    const r = await this.t.use(realm, 'schedules', (TableName) =>
      this.t.doc.send(new GetCommand({ TableName, Key: { dispatcher, sk: MARK }, ConsistentRead: true })),
    );
    return r.Item ? new Date(Number(r.Item.mark)) : undefined;
  }

  async setMark(realm: string, dispatcher: string, at: Date): Promise<void> {
    try {
      await this.t.use(realm, 'schedules', (TableName) =>
        this.t.doc.send(
          new UpdateCommand({
            TableName,
            Key: { dispatcher, sk: MARK },
            UpdateExpression: 'SET #m = :m',
            ConditionExpression: 'attribute_not_exists(#m) OR #m < :m',
            ExpressionAttributeNames: { '#m': 'mark' },
            ExpressionAttributeValues: { ':m': at.getTime() },
          }),
        ),
      );
    } catch (err) {
      // The mark is already there or later.
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
    }
  }

  async prune(realm: string, before: Date): Promise<number> {
    return this.t.use(realm, 'schedules', async (TableName) => {
      const keys = await scanAll(this.t.doc, {
        TableName,
        ProjectionExpression: '#disp, #sk',
        FilterExpression: 'begins_with(#sk, :tick) AND #f < :before AND #d = :true',
        ExpressionAttributeNames: { '#disp': 'dispatcher', '#sk': 'sk', '#f': 'fire_time', '#d': 'dispatched' },
        ExpressionAttributeValues: { ':tick': 'tick#', ':before': before.getTime(), ':true': true },
      });
      for (let i = 0; i < keys.length; i += 25) {
        let pending = keys.slice(i, i + 25).map((k) => ({ DeleteRequest: { Key: { dispatcher: k.dispatcher, sk: k.sk } } }));
        for (let round = 0; pending.length; round++) {
          const r = await this.t.doc.send(new BatchWriteCommand({ RequestItems: { [TableName]: pending } }));
          pending = (r.UnprocessedItems?.[TableName] ?? []) as typeof pending;
          if (pending.length) await new Promise((res) => setTimeout(res, Math.min(50 * 2 ** round, 2000)));
        }
      }
      return keys.length;
    });
  }
}
