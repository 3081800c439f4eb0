/**
 * Run claims in `lava.<realm>.runs` (an addition to upstream's layout; hash `run_id`), each a single
 * conditional UpdateItem, so no transactions are needed. Leases are compared with the callers'
 * clocks (epoch milliseconds), so hosts need roughly synchronised clocks (NTP), as with SQS itself.
 * Items carry a `ttl` (a week after their last change) for DynamoDB's TTL to reap.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ClaimResult, EventStore, RunClaims, RunEnd } from '../ports.js';
import { isAwsError } from './clients.js';
import type { Tables } from './schema.js';

const KEEP_SECONDS = 7 * 86400;

const NAMES = {
  '#owner': 'owner',
  '#lease': 'lease_until',
  '#done': 'done',
  '#att': 'attempts',
  '#upd': 'updated_at',
  '#ttl': 'ttl',
};

export class AwsRunClaims implements RunClaims {
  constructor(
    private readonly t: Tables,
    private readonly events: EventStore,
  ) {}

  ready(realm: string): Promise<void> {
    return this.t.require(realm, 'runs', 'a worker needs it to claim runs');
  }

  async claim(realm: string, runId: string, owner: string, leaseSeconds: number): Promise<ClaimResult> {
    return this.t.use(realm, 'runs', async (TableName) => {
      for (let tries = 0; ; tries++) {
        const now = Date.now();
        try {
          // Free (new, released or lapsed) or already ours, and not finished: take it.
          const r = await this.t.doc.send(
            new UpdateCommand({
              TableName,
              Key: { run_id: runId },
              UpdateExpression:
                'SET #owner = :owner, #lease = :lease, #upd = :now, #ttl = :ttl, #done = if_not_exists(#done, :false) ADD #att :one',
              ConditionExpression: 'attribute_not_exists(run_id) OR (#done = :false AND (#owner = :owner OR #lease <= :now))',
              ExpressionAttributeNames: NAMES,
              ExpressionAttributeValues: {
                ':owner': owner,
                ':lease': now + leaseSeconds * 1000,
                ':now': now,
                ':ttl': Math.floor(now / 1000) + KEEP_SECONDS,
                ':false': false,
                ':one': 1,
              },
              ReturnValues: 'ALL_NEW',
            }),
          );
          return { outcome: 'claimed', attempt: Number(r.Attributes?.attempts ?? 1) };
        } catch (err) {
          if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
        }
        const cur = (await this.t.doc.send(new GetCommand({ TableName, Key: { run_id: runId }, ConsistentRead: true }))).Item;
        if (cur?.done === true) return { outcome: 'done' };
        const leaseUntil = Number(cur?.lease_until ?? 0);
        const left = leaseUntil - Date.now();
        // The lease ran out (or the item went) between the two requests: try again.
        if ((!cur || left <= 0) && tries < 3) continue;
        return { outcome: 'busy', owner: String(cur?.owner ?? ''), leaseSeconds: Math.max(1, Math.ceil(left / 1000)) };
      }
    });
  }

  async renew(realm: string, runId: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const now = Date.now();
    return this.conditional(realm, runId, 'SET #lease = :lease, #upd = :now, #ttl = :ttl', '#owner = :owner AND #done = :false', {
      ':owner': owner,
      ':lease': now + leaseSeconds * 1000,
      ':now': now,
      ':ttl': Math.floor(now / 1000) + KEEP_SECONDS,
      ':false': false,
    });
  }

  /**
   * Without transactions the steps are separate requests: check the claim, record the outcome, mark
   * the claim finished, delete the message. A worker that dies between the second and third leaves an
   * outcome on an unfinished claim, which the next worker to receive the run notices (Worker.handle).
   */
  async finish(realm: string, runId: string, owner: string, end: RunEnd = {}): Promise<boolean> {
    const now = Date.now();
    const stillOpen = await this.conditional(realm, runId, 'SET #upd = :now', '#owner = :owner AND #done = :false', {
      ':owner': owner,
      ':now': now,
      ':false': false,
    });
    if (!stillOpen) {
      const cur = await this.t.use(realm, 'runs', (TableName) =>
        this.t.doc.send(new GetCommand({ TableName, Key: { run_id: runId }, ConsistentRead: true })),
      );
      // Already finished by this owner (a retried call): done, nothing more to record.
      if (cur.Item?.owner !== owner || cur.Item.done !== true) return false;
    } else {
      if (end.outcome) await this.events.record(realm, end.outcome);
      await this.conditional(realm, runId, 'SET #done = :true, #upd = :now, #ttl = :ttl', '#owner = :owner', {
        ':owner': owner,
        ':true': true,
        ':now': now,
        ':ttl': Math.floor(now / 1000) + KEEP_SECONDS,
      });
    }
    if (end.delivery) await end.delivery.queue.delete(end.delivery.receipt);
    return true;
  }

  async release(realm: string, runId: string, owner: string): Promise<void> {
    await this.conditional(realm, runId, 'SET #lease = :zero, #upd = :now', '#owner = :owner AND #done = :false', {
      ':owner': owner,
      ':zero': 0,
      ':now': Date.now(),
      ':false': false,
    });
  }

  /** An UpdateItem on an existing claim under a condition; false when the condition does not hold. */
  private async conditional(
    realm: string,
    runId: string,
    update: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    const used = Object.fromEntries(Object.entries(NAMES).filter(([k]) => update.includes(k) || condition.includes(k)));
    try {
      await this.t.use(realm, 'runs', (TableName) =>
        this.t.doc.send(
          new UpdateCommand({
            TableName,
            Key: { run_id: runId },
            UpdateExpression: update,
            ConditionExpression: `attribute_exists(run_id) AND ${condition}`,
            ExpressionAttributeNames: used,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return false;
      throw err;
    }
  }

  /** DynamoDB's TTL deletes claims KEEP_SECONDS after their last write. */
  async expire(): Promise<number> {
    return 0;
  }
}
