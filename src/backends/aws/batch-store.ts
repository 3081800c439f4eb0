/**
 * Orchestrated batches in `lava.<realm>.batches` (hash `batch_id`) and their tasks in
 * `lava.<realm>.batch_tasks` (hash `batch_id`, range `key`; index `state-index` on
 * `batch_state` = `<state>#<batch_id>` and `key`, for counting and listing by state).
 *
 * A task's `task` is JSON text (DynamoDB cannot hold every JSON value as it is, empty strings in
 * sets and the like); `info` is a map so a transition can set its fields one by one. A transition is
 * a conditional UpdateItem. Adding tasks reads which keys exist (BatchGetItem) and writes the others
 * (BatchWriteItem), retrying unprocessed items with backoff; BatchWriteItem cannot be conditional, so
 * a task moved by a replica between that read and the write would be put back to `pending` — only
 * possible when the same batch is submitted while it is already being run.
 */
import { BatchGetCommand, BatchWriteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { sleep } from '../../core/time.js';
import {
  BATCH_TASK_STATES,
  type BatchRecord,
  type BatchStore,
  type BatchTask,
  type BatchTaskPage,
  type BatchTaskState,
  type Item,
  type NewBatchTask,
} from '../ports.js';
import { isAwsError, normalise, plainItem } from './clients.js';
import { BATCH_STATE_INDEX, queryAll, scanAll, type Tables } from './schema.js';

const batchState = (state: BatchTaskState, batchId: string) => `${state}#${batchId}`;

function toBatch(item: Record<string, unknown>): BatchRecord {
  const r = normalise(item) as BatchRecord;
  return {
    batch_id: r.batch_id,
    job_id: r.job_id,
    options: r.options,
    submitted: r.submitted,
    state: r.state,
    ...(r.task_count !== undefined && r.task_count !== null ? { task_count: Number(r.task_count) } : {}),
  };
}

function toTask(item: Record<string, unknown>): BatchTask {
  const r = normalise(item) as { key: string; state: BatchTaskState; task: string; info?: Item; updated: string };
  return { key: r.key, state: r.state, task: JSON.parse(r.task) as Item, info: r.info ?? {}, updated: r.updated };
}

/** Calls `send` with the requests, then again with what DynamoDB left unprocessed, backing off, until none is left. */
async function untilProcessed<R>(first: R, send: (r: R) => Promise<R | undefined>): Promise<void> {
  let pending: R | undefined = first;
  for (let attempt = 0; pending; attempt++) {
    if (attempt > 0) await sleep(Math.min(2_000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2));
    if (attempt > 20) throw new Error('DynamoDB left items unprocessed after 20 retries');
    pending = await send(pending);
  }
}

export class AwsBatchStore implements BatchStore {
  constructor(private readonly t: Tables) {}

  async create(realm: string, batch: BatchRecord): Promise<{ batch: BatchRecord; created: boolean }> {
    let created = true;
    await this.t.use(realm, 'batches', async (TableName) => {
      try {
        await this.t.doc.send(
          new PutCommand({
            TableName,
            Item: plainItem({ ...batch }),
            ConditionExpression: 'attribute_not_exists(batch_id)',
          }),
        );
      } catch (err) {
        if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
        created = false;
      }
    });
    return { batch: (await this.get(realm, batch.batch_id)) as BatchRecord, created };
  }

  async get(realm: string, batchId: string): Promise<BatchRecord | undefined> {
    const r = await this.t.use(realm, 'batches', (TableName) =>
      this.t.doc.send(new GetCommand({ TableName, Key: { batch_id: batchId }, ConsistentRead: true })),
    );
    return r.Item ? toBatch(r.Item) : undefined;
  }

  async list(realm: string): Promise<BatchRecord[]> {
    const items = await this.t.use(realm, 'batches', (TableName) => scanAll(this.t.doc, { TableName, ConsistentRead: true }));
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return items.map(toBatch).sort((a, b) => cmp(a.submitted, b.submitted) || cmp(a.batch_id, b.batch_id));
  }

  async update(realm: string, batchId: string, patch: { state: string; task_count?: number }): Promise<void> {
    const count = patch.task_count !== undefined;
    await this.t
      .use(realm, 'batches', (TableName) =>
        this.t.doc.send(
          new UpdateCommand({
            TableName,
            Key: { batch_id: batchId },
            UpdateExpression: count ? 'SET #s = :s, task_count = :n' : 'SET #s = :s',
            ConditionExpression: 'attribute_exists(batch_id)',
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: { ':s': patch.state, ...(count ? { ':n': patch.task_count } : {}) },
          }),
        ),
      )
      .catch((err: unknown) => {
        if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
      });
  }

  async addTasks(realm: string, batchId: string, tasks: readonly NewBatchTask[]): Promise<number> {
    const byKey = new Map(tasks.map((t) => [t.key, t]));
    if (!byKey.size) return 0;
    return this.t.use(realm, 'batch_tasks', async (TableName) => {
      const existing = new Set<string>();
      const keys = [...byKey.keys()];
      for (let i = 0; i < keys.length; i += 100) {
        const first = keys.slice(i, i + 100).map((key) => ({ batch_id: batchId, key }));
        await untilProcessed(first, async (Keys) => {
          const r = await this.t.doc.send(
            new BatchGetCommand({
              RequestItems: {
                [TableName]: {
                  Keys,
                  ConsistentRead: true,
                  ProjectionExpression: '#k',
                  ExpressionAttributeNames: { '#k': 'key' },
                },
              },
            }),
          );
          for (const item of r.Responses?.[TableName] ?? []) existing.add(String(item.key));
          return r.UnprocessedKeys?.[TableName]?.Keys as typeof Keys | undefined;
        });
      }
      const now = new Date().toISOString();
      const fresh = [...byKey.values()].filter((t) => !existing.has(t.key));
      for (let i = 0; i < fresh.length; i += 25) {
        const first = fresh.slice(i, i + 25).map((t) => ({
          PutRequest: {
            Item: {
              batch_id: batchId,
              key: t.key,
              state: 'pending',
              batch_state: batchState('pending', batchId),
              task: JSON.stringify(t.task),
              info: {},
              updated: now,
            },
          },
        }));
        await untilProcessed(first, async (requests) => {
          const r = await this.t.doc.send(new BatchWriteCommand({ RequestItems: { [TableName]: requests } }));
          const left = r.UnprocessedItems?.[TableName];
          return left?.length ? (left as typeof requests) : undefined;
        });
      }
      return fresh.length;
    });
  }

  async counts(realm: string, batchId: string): Promise<Record<BatchTaskState, number>> {
    const out = Object.fromEntries(BATCH_TASK_STATES.map((s) => [s, 0])) as Record<BatchTaskState, number>;
    await this.t.use(realm, 'batch_tasks', async (TableName) => {
      await Promise.all(
        BATCH_TASK_STATES.map(async (state) => {
          let start: Record<string, unknown> | undefined;
          let n = 0;
          do {
            const r = await this.t.doc.send(
              new QueryCommand({
                TableName,
                IndexName: BATCH_STATE_INDEX,
                KeyConditionExpression: 'batch_state = :bs',
                ExpressionAttributeValues: { ':bs': batchState(state, batchId) },
                Select: 'COUNT',
                ...(start ? { ExclusiveStartKey: start } : {}),
              }),
            );
            n += r.Count ?? 0;
            start = r.LastEvaluatedKey as Record<string, unknown> | undefined;
          } while (start);
          out[state] = n;
        }),
      );
    });
    return out;
  }

  async listTasks(
    realm: string,
    batchId: string,
    state: BatchTaskState,
    page: { limit?: number; cursor?: string } = {},
  ): Promise<BatchTaskPage> {
    const limit = page.limit ?? 100;
    const items = await this.t.use(realm, 'batch_tasks', (TableName) =>
      queryAll(
        this.t.doc,
        {
          TableName,
          IndexName: BATCH_STATE_INDEX,
          KeyConditionExpression: page.cursor ? 'batch_state = :bs AND #k > :c' : 'batch_state = :bs',
          ...(page.cursor ? { ExpressionAttributeNames: { '#k': 'key' } } : {}),
          ExpressionAttributeValues: { ':bs': batchState(state, batchId), ...(page.cursor ? { ':c': page.cursor } : {}) },
          Limit: limit + 1,
        },
        limit + 1,
      ),
    );
    const tasks = items.slice(0, limit).map(toTask);
    return items.length > limit ? { tasks, cursor: tasks.at(-1)?.key as string } : { tasks };
  }

  async getTask(realm: string, batchId: string, key: string): Promise<BatchTask | undefined> {
    const r = await this.t.use(realm, 'batch_tasks', (TableName) =>
      this.t.doc.send(new GetCommand({ TableName, Key: { batch_id: batchId, key }, ConsistentRead: true })),
    );
    return r.Item ? toTask(r.Item) : undefined;
  }

  async transition(
    realm: string,
    batchId: string,
    key: string,
    from: readonly BatchTaskState[],
    to: BatchTaskState,
    patch: Item = {},
  ): Promise<boolean> {
    if (!from.length) return false;
    const names: Record<string, string> = { '#k': 'key', '#s': 'state' };
    const values: Record<string, unknown> = {
      ':to': to,
      ':bs': batchState(to, batchId),
      ':u': new Date().toISOString(),
    };
    from.forEach((s, i) => (values[`:f${i}`] = s));
    const sets = ['#s = :to', 'batch_state = :bs', 'updated = :u'];
    Object.entries(plainItem(patch)).forEach(([k, v], i) => {
      names[`#p${i}`] = k;
      values[`:p${i}`] = v;
      sets.push(`info.#p${i} = :p${i}`);
    });
    try {
      await this.t.use(realm, 'batch_tasks', (TableName) =>
        this.t.doc.send(
          new UpdateCommand({
            TableName,
            Key: { batch_id: batchId, key },
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: `attribute_exists(#k) AND #s IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
            ExpressionAttributeNames: names,
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
}
