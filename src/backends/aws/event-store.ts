/**
 * Run records in `lava.<realm>.events` (hash `job_id`, range `run_id`, LSI `job_id-tu_event-index`),
 * written exactly as upstream's recorder does: one UpdateItem per event that sets the top-level fields
 * and appends `{ts_event, tu_event, status, info}` to the `log` list.
 *
 * Queries: by job through the key (and the LSI for `since`); by run id or across jobs with a Scan and
 * a filter, since upstream's table has no index for those (fine for the embedded-scale query API; see
 * docs/backends/aws.md).
 */
import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isoUtcNaive } from '../../core/time.js';
import { logEntries } from '../event-entries.js';
import type { EventEntry, EventQuery, EventRecord, EventStore, NewEvent } from '../ports.js';
import { isAwsError, normalise, plain, type ExpireMode } from './clients.js';
import { EVENTS_TIME_INDEX, queryAll, scanAll, type Tables } from './schema.js';

export class AwsEventStore implements EventStore {
  private readonly ttlEnabled = new Map<string, Promise<boolean>>();

  constructor(
    private readonly t: Tables,
    private readonly expireMode: ExpireMode,
  ) {}

  async record(realm: string, e: NewEvent): Promise<void> {
    const entries = logEntries(e);
    const { ts_event, tu_event } = entries.at(-1) as EventEntry;
    const names: Record<string, string> = {
      '#status': 'status',
      '#ts_event': 'ts_event',
      '#tu_event': 'tu_event',
      '#ts_dispatch': 'ts_dispatch',
      '#worker': 'worker',
      '#hostname': 'hostname',
      '#worker_id': 'worker_id',
      '#instance_id': 'instance_id',
      '#log': 'log',
      '#ttl': 'ttl',
    };
    const values: Record<string, unknown> = {
      ':status': e.status,
      ':ts_event': ts_event,
      ':tu_event': tu_event,
      ':null': null,
      ':empty': [],
      ':entry': entries.map((x) => ({ ...x, info: plain(x.info) })),
    };
    // keepStatus: an informational entry leaves the status alone (it still sets it on a new record).
    const set = [
      e.keepStatus ? '#status = if_not_exists(#status, :status)' : '#status = :status',
      '#ts_event = :ts_event',
      '#tu_event = :tu_event',
      '#worker_id = if_not_exists(#worker_id, :null)',
      '#instance_id = if_not_exists(#instance_id, :null)',
      '#log = list_append(if_not_exists(#log, :empty), :entry)',
    ];
    // Dispatch fields given by an event are set; otherwise earlier values stay (null on a new record).
    for (const [field, value] of [
      ['ts_dispatch', e.ts_dispatch],
      ['worker', e.worker],
      ['hostname', e.hostname],
    ] as const) {
      if (value !== undefined && value !== null) {
        values[`:${field}`] = value;
        set.push(`#${field} = :${field}`);
      } else {
        set.push(`#${field} = if_not_exists(#${field}, :null)`);
      }
    }
    // As the other backends do, each event sets the ttl from its own ttlSeconds (none: no expiry).
    let update = `SET ${set.join(', ')}`;
    if (e.ttlSeconds === undefined) update += ' REMOVE #ttl';
    else {
      values[':ttl'] = Math.floor(e.at.getTime() / 1000 + e.ttlSeconds);
      update = update.replace(/^SET /, 'SET #ttl = :ttl, ');
    }
    await this.t.use(realm, 'events', (TableName) =>
      this.t.doc.send(
        new UpdateCommand({
          TableName,
          Key: { job_id: e.job_id, run_id: e.run_id },
          UpdateExpression: update,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async get(realm: string, jobId: string, runId: string): Promise<EventRecord | undefined> {
    const r = await this.t.use(realm, 'events', (TableName) =>
      this.t.doc.send(new GetCommand({ TableName, Key: { job_id: jobId, run_id: runId }, ConsistentRead: true })),
    );
    return r.Item ? toRecord(r.Item) : undefined;
  }

  async query(realm: string, q: EventQuery): Promise<EventRecord[]> {
    const limit = q.limit ?? 100;
    const since = q.since && isoUtcNaive(q.since);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const filters: string[] = [];
    const add = (field: string, op: string, value: string | undefined) => {
      if (value === undefined) return;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      filters.push(`#${field} ${op} :${field}`);
    };
    const items = await this.t.use(realm, 'events', async (TableName) => {
      if (q.jobId !== undefined) {
        // One job: its partition, newest first through the LSI; `since` is a key condition there.
        names['#job_id'] = 'job_id';
        values[':job_id'] = q.jobId;
        let keyCond = '#job_id = :job_id';
        if (since !== undefined) {
          names['#tu_event'] = 'tu_event';
          values[':since'] = since;
          keyCond += ' AND #tu_event >= :since';
        }
        add('run_id', '=', q.runId);
        add('status', '=', q.status);
        return queryAll(
          this.t.doc,
          {
            TableName,
            IndexName: EVENTS_TIME_INDEX,
            ConsistentRead: true,
            KeyConditionExpression: keyCond,
            ScanIndexForward: false,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
          },
          limit,
        );
      }
      // Upstream has no index by run id or across jobs: a filtered Scan.
      add('run_id', '=', q.runId);
      add('status', '=', q.status);
      add('tu_event', '>=', since);
      return scanAll(this.t.doc, {
        TableName,
        ConsistentRead: true,
        ...(filters.length
          ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names, ExpressionAttributeValues: values }
          : {}),
      });
    });
    return items
      .map(toRecord)
      .sort((a, b) => (a.tu_event < b.tu_event ? 1 : a.tu_event > b.tu_event ? -1 : 0))
      .slice(0, limit);
  }

  /**
   * Delete records whose ttl has passed. Where DynamoDB's own TTL is on for the table (`expire=auto`,
   * the default) DynamoDB deletes them and this does nothing, sparing every worker an hourly full
   * Scan; emulators without TTL and `expire=scan` get the Scan.
   */
  async expire(realm: string, now: Date): Promise<number> {
    if (this.expireMode === 'ttl') return 0;
    if (this.expireMode === 'auto' && (await this.ttlOn(realm))) return 0;
    const epoch = Math.floor(now.getTime() / 1000);
    return this.t.use(realm, 'events', async (TableName) => {
      const keys = await scanAll(this.t.doc, {
        TableName,
        ProjectionExpression: '#j, #r',
        FilterExpression: 'attribute_exists(#ttl) AND #ttl < :now',
        ExpressionAttributeNames: { '#j': 'job_id', '#r': 'run_id', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':now': epoch },
      });
      for (let i = 0; i < keys.length; i += 25) {
        let pending = keys.slice(i, i + 25).map((k) => ({ DeleteRequest: { Key: { job_id: k.job_id, run_id: k.run_id } } }));
        for (let round = 0; pending.length; round++) {
          const r = await this.t.doc.send(new BatchWriteCommand({ RequestItems: { [TableName]: pending } }));
          pending = (r.UnprocessedItems?.[TableName] ?? []) as typeof pending;
          if (pending.length) await new Promise((res) => setTimeout(res, Math.min(50 * 2 ** round, 2000)));
        }
      }
      return keys.length;
    });
  }

  private ttlOn(realm: string): Promise<boolean> {
    const table = this.t.name(realm, 'events');
    let p = this.ttlEnabled.get(table);
    if (!p) {
      p = this.t.clients.dynamo
        .send(new DescribeTimeToLiveCommand({ TableName: table }))
        .then((d) => d.TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED')
        .catch((err: unknown) => {
          // No TTL API (emulators) or no table yet: scan. Other errors: ask again next time.
          if (!isAwsError(err, 'UnknownOperationException', 'ResourceNotFoundException')) this.ttlEnabled.delete(table);
          return false;
        });
      this.ttlEnabled.set(table, p);
    }
    return p;
  }
}

const str = (v: unknown): string | null => (v === undefined || v === null ? null : String(v));

function toRecord(raw: Record<string, unknown>): EventRecord {
  const item = normalise(raw) as Record<string, unknown>;
  const ttl = item.ttl;
  return {
    job_id: String(item.job_id),
    run_id: String(item.run_id),
    status: String(item.status ?? ''),
    ts_dispatch: str(item.ts_dispatch),
    ts_event: String(item.ts_event ?? ''),
    tu_event: String(item.tu_event ?? ''),
    ttl: typeof ttl === 'number' ? ttl : ttl === undefined || ttl === null ? null : Number(ttl),
    worker: str(item.worker),
    worker_id: str(item.worker_id),
    instance_id: str(item.instance_id),
    hostname: str(item.hostname),
    log: Array.isArray(item.log) ? (item.log as EventEntry[]) : [],
  };
}
