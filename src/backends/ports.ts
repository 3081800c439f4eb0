/**
 * The small interfaces core code depends on. Each backend folder (sqlite/, later postgres/ and
 * aws/) implements all of them with the same file names; blob stores are chosen by URI scheme.
 * Deliberately left out: connections, transactions and driver types — they stay inside backends.
 */
import type { RealmSpec, StateItem } from '../core/schemas.js';

export type Item = Record<string, unknown>;

/** Config tables of a realm and the key field of each. */
export const CONFIG_TABLES = { jobs: 'job_id', connections: 'conn_id', triggers: 'trigger_id' } as const;
export type ConfigTable = keyof typeof CONFIG_TABLES;

export interface ConfigStore {
  getRealm(realm: string): Promise<RealmSpec | undefined>;
  putRealm(spec: RealmSpec): Promise<void>;
  deleteRealm(realm: string): Promise<boolean>;
  listRealms(): Promise<RealmSpec[]>;
  get(realm: string, table: ConfigTable, id: string): Promise<Item | undefined>;
  put(realm: string, table: ConfigTable, item: Item): Promise<void>;
  delete(realm: string, table: ConfigTable, id: string): Promise<boolean>;
  /** Items sorted by key; `where` matches top-level string fields exactly (e.g. {dispatcher: 'main'}). */
  list(realm: string, table: ConfigTable, where?: Record<string, string>): Promise<Item[]>;
}

export interface EventEntry {
  ts_event: string;
  tu_event: string;
  status: string;
  info: unknown;
}

/** One run's record: the fields of upstream's events table. */
export interface EventRecord {
  job_id: string;
  run_id: string;
  status: string;
  ts_dispatch: string | null;
  ts_event: string;
  tu_event: string;
  ttl: number | null;
  worker: string | null;
  worker_id: string | null;
  instance_id: string | null;
  hostname: string | null;
  log: EventEntry[];
}

export interface NewEvent {
  job_id: string;
  run_id: string;
  status: string;
  info: unknown;
  at: Date;
  ts_dispatch?: string | null;
  worker?: string | null;
  hostname?: string | null;
  /** Seconds the record is kept after this event; undefined keeps it. */
  ttlSeconds?: number;
  /** Append to the log without changing the record's status (for informational entries such as `event`). */
  keepStatus?: boolean;
  /** Entries appended just before this one in the same write (an event held back to save a write). */
  before?: readonly EarlierEntry[];
}

export interface EarlierEntry {
  status: string;
  info: unknown;
  at: Date;
}

export interface EventQuery {
  jobId?: string;
  runId?: string;
  status?: string;
  /** Only records whose latest event is at or after this time. */
  since?: Date;
  /** Newest first; default 100. */
  limit?: number;
}

export interface EventStore {
  /** Create the record if needed, set its top-level fields and append one log entry. */
  record(realm: string, event: NewEvent): Promise<void>;
  get(realm: string, jobId: string, runId: string): Promise<EventRecord | undefined>;
  /** Records, newest first by latest event. */
  query(realm: string, q: EventQuery): Promise<EventRecord[]>;
  /** Delete records whose ttl has passed; returns how many. */
  expire(realm: string, now: Date): Promise<number>;
}

export type ClaimResult =
  | {
      outcome: 'claimed';
      attempt: number;
      /** The `start` event given to `claim` was recorded with the claim. */
      started?: boolean;
    }
  | { outcome: 'busy'; owner: string; leaseSeconds: number }
  | { outcome: 'done' };

/**
 * At-most-once-at-a-time execution of a run id across every worker (beyond upstream Lava, where a
 * redelivered message could run the same run twice at once).
 */
export interface RunClaims {
  /**
   * Check the store can be used for this realm, so a worker refuses to start (with the fix) rather than
   * fail on its first message. Backends whose storage always exists need not implement it.
   */
  ready?(realm: string): Promise<void>;
  /**
   * Take the run for `owner`. `start`, when given, is the run's first event (with earlier entries in
   * `before`): a backend that can records it in the same step when this is the run's first claim
   * (attempt 1), and then says so with `started`; otherwise nothing of it is recorded.
   */
  claim(realm: string, runId: string, owner: string, leaseSeconds: number, start?: NewEvent): Promise<ClaimResult>;
  renew(realm: string, runId: string, owner: string, leaseSeconds: number): Promise<boolean>;
  /**
   * The run ended: record `end.outcome`, mark the claim finished (later deliveries of the run are
   * dropped) and delete `end.delivery`'s message, in one step where the backend can, and only while
   * `owner` holds the claim. False, with nothing recorded, when the claim is another owner's (its lease
   * lapsed and the run was taken over). Finishing again what this owner finished is true and records
   * nothing (a retried call).
   */
  finish(realm: string, runId: string, owner: string, end?: RunEnd): Promise<boolean>;
  /** The owner gives the run back unfinished (graceful shutdown): another worker may take it at once. */
  release(realm: string, runId: string, owner: string): Promise<void>;
  /**
   * Delete claims last written before `olderThan` (housekeeping); returns how many. A backend whose
   * store expires them itself (DynamoDB TTL) returns 0.
   */
  expire(realm: string, olderThan: Date): Promise<number>;
}

export interface RunEnd {
  /** The run's outcome event (`complete`, `failed`, …). */
  outcome?: NewEvent;
  /** The message that delivered the run. */
  delivery?: { queue: Queue; receipt: string };
}

export interface TickClaim {
  jobId: string;
  fireTime: Date;
  runId: string;
}

/**
 * Scheduler bookkeeping shared by every replica of a dispatcher: each (dispatcher, job, fire
 * time) is claimed once, with the run id it will be dispatched under, then marked dispatched.
 */
export interface ScheduleClaims {
  /** As RunClaims.ready, for the dispatcher. */
  ready?(realm: string): Promise<void>;
  /** True if this caller won the tick; false if another replica already has it. */
  claim(realm: string, dispatcher: string, tick: TickClaim, owner: string): Promise<boolean>;
  markDispatched(realm: string, dispatcher: string, jobId: string, fireTime: Date): Promise<void>;
  /** Ticks claimed before `claimedBefore` and never marked dispatched: their replica died mid-way. */
  stale(realm: string, dispatcher: string, claimedBefore: Date): Promise<TickClaim[]>;
  /** How far the dispatcher's replicas have evaluated schedules. */
  getMark(realm: string, dispatcher: string): Promise<Date | undefined>;
  /** Moves the mark forward only. */
  setMark(realm: string, dispatcher: string, at: Date): Promise<void>;
  /** Forget ticks older than this. */
  prune(realm: string, before: Date): Promise<number>;
}

export interface StateStore {
  get(realm: string, stateId: string): Promise<StateItem | undefined>;
  put(realm: string, item: StateItem): Promise<void>;
  delete(realm: string, stateId: string): Promise<boolean>;
  list(realm: string, prefix?: string): Promise<StateItem[]>;
}

export interface SecretStore {
  get(realm: string, name: string): Promise<string | undefined>;
  put(realm: string, name: string, value: string): Promise<void>;
  delete(realm: string, name: string): Promise<boolean>;
  list(realm: string): Promise<string[]>;
  /** Encrypt/decrypt with the realm's key (for `secure` state items). */
  encrypt(realm: string, plaintext: string): Promise<string>;
  decrypt(realm: string, ciphertext: string): Promise<string>;
}

export interface QueueMessage {
  id: string;
  /** Changes on every receive; extend and delete need the latest one. */
  receipt: string;
  body: string;
  /** How many times the message has been received, this time included (SQS ApproximateReceiveCount). */
  receiveCount: number;
  sentAt: Date;
}

export interface ReceiveOptions {
  max: number;
  visibilitySeconds: number;
  /** Long poll: wait up to this long for a message. */
  waitSeconds: number;
  signal?: AbortSignal;
}

/** A realm+worker queue with SQS semantics: delay, visibility lease, receive count, long poll. */
export interface Queue {
  readonly name: string;
  /** The longest send delay the queue itself supports (SQS: 15 minutes); absent when it has no limit. */
  readonly maxDelaySeconds?: number;
  send(body: string, options?: { delaySeconds?: number }): Promise<string>;
  receive(options: ReceiveOptions): Promise<QueueMessage[]>;
  /** Reset the lease to `seconds` from now; false if the receipt is stale or the message gone. */
  extendVisibility(receipt: string, seconds: number): Promise<boolean>;
  delete(receipt: string): Promise<boolean>;
  counts(): Promise<QueueCounts>;
}

export interface QueueCounts {
  /** Waiting to be received. */
  visible: number;
  /** Received and not yet deleted (runs in progress, or leases about to lapse). */
  inflight: number;
  /** Sent with a delay that has not passed. */
  delayed: number;
  /** When the oldest message still in the queue was sent; absent when the queue cannot tell (SQS). */
  oldestSentAt?: Date;
}

export interface BlobInfo {
  uri: string;
  /** The last path component. */
  name: string;
  size: number;
  modified: Date;
}

/** Payload and output storage addressed by URI (`file://…`, later `s3://…`). */
export interface BlobStore {
  /** Objects directly under the prefix (non-recursive) whose name starts with its last component; sorted. */
  list(prefixUri: string): Promise<BlobInfo[]>;
  /** Every object under the prefix, at any depth; sorted. */
  listRecursive(prefixUri: string): Promise<BlobInfo[]>;
  head(uri: string): Promise<BlobInfo | undefined>;
  read(uri: string): Promise<Buffer>;
  download(uri: string, localPath: string): Promise<void>;
  write(uri: string, data: Buffer | string): Promise<void>;
  upload(localPath: string, uri: string): Promise<void>;
  delete(uri: string): Promise<boolean>;
}

/** One entry of a realm's directory. */
export interface DirectoryEntry {
  /** What the entry is: `worker`, `dispatcher`, `server` (live processes), `token`, `stop` (a run to stop). */
  kind: string;
  /** Unique within its kind. */
  id: string;
  data: Record<string, unknown>;
  updated: Date;
  /** After this the entry is gone (a process that stopped beating); absent: kept until deleted. */
  expires?: Date;
}

/**
 * A realm's small registry of who is alive (workers, dispatchers and servers beat here), API tokens
 * (stored hashed) and requests to stop runs. Entries are few (one per process or token), so a kind
 * is always listed whole.
 */
export interface Directory {
  /** Create or replace; `ttlSeconds` makes the entry expire unless put again. */
  put(realm: string, entry: { kind: string; id: string; data: Record<string, unknown>; ttlSeconds?: number }): Promise<void>;
  /**
   * Create the entry only if there is none (or only an expired one): true for the one caller that
   * created it. Replicas use it to do something once (fire a trigger for an object, take an event).
   */
  claim(realm: string, entry: { kind: string; id: string; data: Record<string, unknown>; ttlSeconds?: number }): Promise<boolean>;
  /** The entry, unless it is missing or expired. */
  get(realm: string, kind: string, id: string): Promise<DirectoryEntry | undefined>;
  /** Unexpired entries of a kind, sorted by id. */
  list(realm: string, kind: string): Promise<DirectoryEntry[]>;
  delete(realm: string, kind: string, id: string): Promise<boolean>;
}

/**
 * Task states of an orchestrated batch (docs/batches.md, "The batch store"). `pending`: written, not
 * yet admitted; `queued`: admitted, a run dispatched; `running`; `complete`; `failed`: this attempt
 * failed (may be retried); `dead`: out of attempts; `discarded`: dropped by an operator.
 */
export const BATCH_TASK_STATES = ['pending', 'queued', 'running', 'complete', 'failed', 'dead', 'discarded'] as const;
export type BatchTaskState = (typeof BATCH_TASK_STATES)[number];

/** One orchestrated batch: a business job for a target job, chunked into tasks. */
export interface BatchRecord {
  batch_id: string;
  /** The Lava job each task runs. */
  job_id: string;
  /** The business job and chunking options it was submitted with. */
  options: Item;
  /** ISO time of the first submission. */
  submitted: string;
  /** `submitting` while tasks are written, `submitted` once all are. */
  state: string;
  /** Number of tasks, once all are written. */
  task_count?: number;
}

/** A task to add: its stable key and what it carries (dates, attributes, payload). */
export interface NewBatchTask {
  key: string;
  task: Item;
}

export interface BatchTask extends NewBatchTask {
  state: BatchTaskState;
  /** ISO time of the last write. */
  updated: string;
  /** Fields set by transitions (run id, error…), merged shallowly. */
  info: Item;
}

export interface BatchTaskPage {
  tasks: BatchTask[];
  /** Pass back to get the next page; absent on the last one. */
  cursor?: string;
}

export interface BatchStore {
  /** Create the batch unless it exists; returns the stored batch (the existing one, unchanged, if it did). */
  create(realm: string, batch: BatchRecord): Promise<{ batch: BatchRecord; created: boolean }>;
  get(realm: string, batchId: string): Promise<BatchRecord | undefined>;
  /** Every batch of the realm, oldest submission first. */
  list(realm: string): Promise<BatchRecord[]>;
  /** Set the batch's state and task count. */
  update(realm: string, batchId: string, patch: { state: string; task_count?: number }): Promise<void>;
  /** Add tasks in state `pending`; a key already in the batch is left as it is. Returns how many were new. */
  addTasks(realm: string, batchId: string, tasks: readonly NewBatchTask[]): Promise<number>;
  /** Tasks per state (every state, zeros included). */
  counts(realm: string, batchId: string): Promise<Record<BatchTaskState, number>>;
  /** Tasks in one state, in key order, at most `limit` (default 100) from after `cursor`. */
  listTasks(
    realm: string,
    batchId: string,
    state: BatchTaskState,
    page?: { limit?: number; cursor?: string },
  ): Promise<BatchTaskPage>;
  getTask(realm: string, batchId: string, key: string): Promise<BatchTask | undefined>;
  /**
   * Move one task to `to` if its state is one of `from`, merging `patch` into its `info`; false when
   * it is missing or in another state (another replica moved it first). Atomic.
   */
  transition(
    realm: string,
    batchId: string,
    key: string,
    from: readonly BatchTaskState[],
    to: BatchTaskState,
    patch?: Item,
  ): Promise<boolean>;
}

export interface Backend {
  /** The URL it was opened with, for child processes and crontab lines. */
  readonly url: string;
  readonly config: ConfigStore;
  readonly events: EventStore;
  readonly runs: RunClaims;
  readonly schedules: ScheduleClaims;
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly directory: Directory;
  /** Orchestrated batches and their tasks. */
  readonly batches: BatchStore;
  queue(realm: string, worker: string): Queue;
  close(): Promise<void>;
}

export function queueName(realm: string, worker: string): string {
  return `lava-${realm}-${worker}`;
}
