/**
 * The settings resolver. For key `XYZ`: a command-line flag > env `LAVA_XYZ` > realm `config` entry
 * (any case) > default. Values are parsed by type when read, so a bad value is reported with its
 * source and the fix.
 *
 * The keys here are the ones several parts of Lava read. A key that belongs to one job type is
 * declared beside that handler (`src/handlers/<type>/config.ts`, with `defineKeys`) and merged into
 * `ConfigKeyRegistry`, so core never imports handlers; `src/handlers/config-keys.ts` loads them all.
 * Process-level variables that a realm cannot set (LAVA_BACKEND, LAVA_REALM, …) are in settings.ts.
 */
import { ConfigError, LavaError } from './errors.js';
import { parseBool, parseDuration, parseSize } from './units.js';

type Kind = 'str' | 'int' | 'bool' | 'duration' | 'size';

export interface ConfigParam {
  kind: Kind;
  default: string | number | boolean | null;
  doc: string;
}

/** The configuration parameters shared by several parts of Lava, with their upstream defaults. */
export const CORE_CONFIG_PARAMS = {
  TMPDIR: { kind: 'str', default: '/tmp/lava', doc: 'worker scratch root' },
  HEARTBEAT_FILE: { kind: 'str', default: '.heartbeat', doc: 'touched each heartbeat in the worker scratch dir' },
  DISPATCHER: {
    kind: 'str',
    default: '',
    doc: "command written into crontab lines to dispatch (default: this installation's node and lava)",
  },
  NO_DISPATCH: { kind: 'str', default: '/tmp/lava/__nodispatch__', doc: 'dispatch suppression file' },
  SQS_MAX_DELAY_MINS: { kind: 'int', default: 15, doc: 'maximum dispatch delay on SQS queues (minutes)' },
  // Beyond upstream: SQLite and PostgreSQL queues have no 15-minute limit of their own.
  DISPATCH_MAX_DELAY: {
    kind: 'duration',
    default: '7d',
    doc: 'maximum dispatch delay on queues without a limit of their own (SQLite, PostgreSQL)',
  },
  EVENT_TTL: { kind: 'duration', default: '2d', doc: 'how long event records are kept; empty keeps them forever' },
  // Beyond upstream: where event rules and dispatch helper messages arrive on AWS.
  EVENT_QUEUE: {
    kind: 'str',
    default: '',
    doc: 'SQS queue (name or URL) of EventBridge events and dispatch helper messages; empty: none',
  },
  STDERR_SIZE: { kind: 'int', default: 2000, doc: "bytes of stderr put into a failed run's result; negative = tail" },
  DEBUG: { kind: 'bool', default: false, doc: 'add a stack trace to failure results' },
  JOB_LOCAL_TMPDIR: { kind: 'bool', default: true, doc: 'give cmd/exe/pkg a private TMPDIR' },
  // Beyond upstream: process jobs publish their output while they run, for a live tail elsewhere.
  OUTPUT_LIVE_INTERVAL: {
    kind: 'duration',
    default: '2s',
    doc: "how often a running process job's growing stdout/stderr are published to its outputs; 0 turns it off",
  },
  OUTPUT_LIVE_MAX: { kind: 'size', default: '8MiB', doc: 'an output file larger than this is published at the end only' },
  ITERATION_MAX_DELAY: { kind: 'duration', default: '5m', doc: 'cap for iteration_delay' },
  ITERATION_MAX_LIMIT: { kind: 'int', default: 10, doc: 'cap for iteration_limit' },
  PAYLOAD_SETTLING_TIME: { kind: 'int', default: 0, doc: 'seconds to sleep after a payload download' },
  CHECK_FOR_ZOMBIES: { kind: 'bool', default: true, doc: 'shutdown heuristic (kept for compatibility)' },
  JUMPSTART_DELAY: { kind: 'duration', default: '15s', doc: 'dispatch delay of jump-start dispatches' },
  // Beyond upstream: a chain, dag or foreach that (through others) contains itself would nest without end.
  NESTING_MAX_DEPTH: {
    kind: 'int',
    default: 10,
    doc: 'deepest nesting of chain/dag/foreach children in one run; deeper fails the run',
  },
  STATE_TTL: { kind: 'duration', default: '7d', doc: 'default state item lifetime' },
  STATE_MAX_TTL: { kind: 'duration', default: '366d', doc: 'longest state item lifetime' },
  PARAM_CACHE_SIZE: { kind: 'int', default: 100, doc: 'secret cache entries' },
  PARAM_CACHE_TTL: { kind: 'duration', default: '2m', doc: 'secret cache lifetime' },
  CONN_APP_NAME: { kind: 'str', default: 'lv-{{ realm }}-{{ job_id }}', doc: 'database application name template' },
  SES_REGION: { kind: 'str', default: 'us-east-1', doc: 'AWS region of SES for email actions without email_conn' },
  SES_FROM: { kind: 'str', default: null, doc: 'sender of email actions without a from (and of email connections without one)' },
  SES_CONFIGURATION_SET: { kind: 'str', default: null, doc: 'SES configuration set of email sent through SES' },
  EMAIL_MAX_ATTACHMENTS: { kind: 'int', default: 5, doc: 'most attachments of one email' },
  EMAIL_MAX_ATTACHMENT_SIZE: { kind: 'size', default: '2M', doc: 'largest attachment of one email' },
  EMAIL_MAX_SIZE: { kind: 'size', default: '5M', doc: 'largest email, attachments included' },
  AWS_CONN_DURATION: { kind: 'duration', default: '3h', doc: 'assumed-role session length of aws connections' },
  SQL_BATCH_SIZE: { kind: 'int', default: 1024, doc: 'rows fetched per batch' },
  SQL_DELIMITER: { kind: 'str', default: '|', doc: 'CSV delimiter of SQL output' },
  SQL_DIALECT: { kind: 'str', default: 'excel', doc: 'CSV dialect of SQL output' },
  SQL_DOUBLEQUOTE: { kind: 'bool', default: false, doc: 'CSV doublequote of SQL output' },
  SQL_ESCAPECHAR: { kind: 'str', default: null, doc: 'CSV escape character of SQL output' },
  SQL_QUOTECHAR: { kind: 'str', default: '"', doc: 'CSV quote character of SQL output' },
  SQL_QUOTING: { kind: 'str', default: 'minimal', doc: 'CSV quoting of SQL output' },
  SQL_MAX_PAYLOAD_SIZE: { kind: 'size', default: '100K', doc: 'largest sql payload' },
  // Beyond upstream: the queue lease, renewed while a run is alive.
  VISIBILITY_TIMEOUT: { kind: 'duration', default: '5m', doc: 'message lease; extended while the run is alive' },
  // Beyond upstream: workers and dispatchers say they are alive in the realm's directory.
  DIRECTORY_BEAT: {
    kind: 'duration',
    default: '5s',
    doc: "seconds between a worker's or dispatcher's directory entries (they expire after three); workers read stop requests then",
  },
  DISPATCHER_GRACE: { kind: 'duration', default: '1m', doc: 'a fire time this late is still dispatched as on time' },
  DISPATCHER_CATCHUP: {
    kind: 'str',
    default: 'skip',
    doc: 'fire times missed by more than DISPATCHER_GRACE: skip, once (the latest) or all',
  },
  DISPATCHER_CATCHUP_WINDOW: { kind: 'duration', default: '1h', doc: 'how far back catch-up looks' },
  // Beyond upstream: orchestrated batches (docs/batches.md).
  BATCH_ADMIT_INTERVAL: {
    kind: 'duration',
    default: '1s',
    doc: "how often a dispatcher admits batches' tasks; 0 turns batch admission off in dispatchers",
  },
  BATCH_JOB_CAPS: { kind: 'str', default: '', doc: 'tasks in flight per job across batches, as JOB=N,JOB=N' },
  BATCH_FLEET_CAPS: { kind: 'str', default: '', doc: 'tasks in flight per worker fleet across batches, as FLEET=N,FLEET=N' },
  BATCH_ORPHAN_TIMEOUT: {
    kind: 'duration',
    default: '1m',
    doc: 'a task admitted this long ago whose run has no record is tried again (its dispatcher stopped)',
  },
  BATCH_RESEND_AFTER: {
    kind: 'duration',
    default: '15m',
    doc: "a task's run still queued this long after its dispatch is sent again, with the same run id",
  },
  SHUTDOWN_GRACE: {
    kind: 'duration',
    default: '30s',
    doc: 'on SIGINT, SIGTERM or SIGHUP, time running jobs get to finish before they are killed and handed back',
  },
  // Beyond upstream: bounds on one template render, so one template cannot freeze or kill a worker.
  TEMPLATE_MAX_RANGE: { kind: 'int', default: 1_000_000, doc: 'most items one range() or list repetition may make' },
  TEMPLATE_MAX_ITERATIONS: { kind: 'int', default: 1_000_000, doc: 'most loop iterations in one template render' },
  TEMPLATE_MAX_OUTPUT: { kind: 'size', default: '10MiB', doc: 'most characters one template render may produce' },
  TEMPLATE_TIMEOUT: { kind: 'duration', default: '5s', doc: 'longest time one template render may take' },
  TEMPLATE_MAX_MEMORY: { kind: 'size', default: '512MiB', doc: 'most the JS heap may grow during one template render' },
} as const satisfies Record<string, ConfigParam>;

/**
 * The keys declared beside their owners, by declaration merging: a handler's config.ts adds
 * `interface ConfigKeyRegistry extends DeclaredKeys<typeof ITS_KEYS> {}` to this module.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface ConfigKeyRegistry {}

export type ConfigKey = keyof typeof CORE_CONFIG_PARAMS | keyof ConfigKeyRegistry;

/** The shape a module merges into ConfigKeyRegistry for the keys it declared. */
export type DeclaredKeys<T extends Record<string, ConfigParam>> = Record<keyof T, ConfigParam>;

const declared = new Map<string, ConfigParam>(Object.entries(CORE_CONFIG_PARAMS));

/**
 * Declare configuration keys that one part of Lava owns, beside its code. A key can be declared
 * once: the same name in two places would give it two defaults.
 */
export function defineKeys<const T extends Record<string, ConfigParam>>(keys: T): T {
  for (const [key, param] of Object.entries(keys)) {
    const known = declared.get(key);
    if (known && known !== param) throw new ConfigError(`config ${key} is declared twice: keep one declaration`);
    declared.set(key, param);
  }
  return keys;
}

/** Every key declared so far, in declaration order (core keys first). */
export function declaredParams(): Readonly<Record<ConfigKey, ConfigParam>> {
  return Object.fromEntries(declared) as Record<ConfigKey, ConfigParam>;
}

/** Command-line values for configuration keys: they win over the environment and the realm. */
export type ConfigFlags = Partial<Record<ConfigKey, string | number | boolean>>;

export class Config {
  private readonly realmConfig: Map<string, unknown>;
  private readonly memo = new Map<string, Map<ConfigKey, unknown>>();

  constructor(
    realmConfig: Record<string, unknown> = {},
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly flags: ConfigFlags = {},
  ) {
    this.realmConfig = new Map(Object.entries(realmConfig).map(([k, v]) => [k.toUpperCase(), v]));
  }

  /** The raw value and where it came from. */
  raw(key: ConfigKey): { value: unknown; source: string } {
    const param = declared.get(key);
    if (!param) {
      throw new ConfigError(`config ${key} is not declared: load the module that declares it (src/handlers/config-keys.ts)`);
    }
    const flagValue = this.flags[key];
    if (flagValue !== undefined) return { value: flagValue, source: `command-line option for ${key}` };
    const envValue = this.env[`LAVA_${key}`];
    if (envValue !== undefined) return { value: envValue, source: `environment variable LAVA_${key}` };
    if (this.realmConfig.has(key)) return { value: this.realmConfig.get(key), source: `realm config entry ${key}` };
    return { value: param.default, source: 'default' };
  }

  /**
   * Parse a value once per key and kind: a worker asks for the same few values on every run and
   * event, and neither the environment nor the realm record changes under a Config.
   */
  private parse<T>(key: ConfigKey, kind: string, fn: (v: unknown) => T): T {
    const memo = this.memo.get(kind);
    if (memo?.has(key)) return memo.get(key) as T;
    const { value, source } = this.raw(key);
    try {
      const parsed = fn(value);
      if (memo) memo.set(key, parsed);
      else this.memo.set(kind, new Map([[key, parsed]]));
      return parsed;
    } catch (err) {
      const why = err instanceof LavaError ? err.detail : String(err);
      throw new ConfigError(`config ${key} from ${source}: ${why}`);
    }
  }

  str(key: ConfigKey): string {
    return this.parse(key, 'str', (v) => (v == null ? '' : String(v)));
  }

  optStr(key: ConfigKey): string | undefined {
    return this.parse(key, 'optStr', (v) => (v == null || v === '' ? undefined : String(v)));
  }

  int(key: ConfigKey): number {
    return this.parse(key, 'int', (v) => {
      const n = typeof v === 'number' ? v : Number(String(v).trim());
      if (!Number.isInteger(n)) throw new Error(`not an integer: ${JSON.stringify(v)}`);
      return n;
    });
  }

  bool(key: ConfigKey): boolean {
    return this.parse(key, 'bool', (v) => parseBool(v, key));
  }

  /** Seconds. */
  duration(key: ConfigKey): number {
    return this.parse(key, 'duration', (v) => parseDuration(v, key));
  }

  /** Seconds, or undefined when the value is empty (e.g. EVENT_TTL disabled). */
  optDuration(key: ConfigKey): number | undefined {
    return this.parse(key, 'optDuration', (v) => (v == null || v === '' ? undefined : parseDuration(v, key)));
  }

  size(key: ConfigKey): number {
    return this.parse(key, 'size', (v) => parseSize(v, key));
  }

  /** Every parameter's effective value, for `lava config` and SIGUSR1 dumps. */
  dump(): Record<string, { value: unknown; source: string }> {
    return Object.fromEntries([...declared.keys()].map((k) => [k, this.raw(k as ConfigKey)]));
  }
}

/**
 * Upstream Lava parameters whose feature is not in this build, with the reason. They are not
 * declared (nothing can read them); setting one in a realm's `config` or as `LAVA_<NAME>` is
 * reported by `lava check` and `lava realm put` as a warning, so a realm copied from Lava still loads.
 */
export const NOT_IN_THIS_BUILD: Readonly<Record<string, string>> = (() => {
  const cloudwatch =
    'CloudWatch metrics (cw_metrics) are not in this build; `lava serve` exposes run counts and durations at /metrics';
  const s3trigger =
    'the s3trigger lambda and its cache of the triggers table are not in this build: `lava triggers` reads the triggers table for each object event, so a trigger put is used at once';
  return {
    CW_NAMESPACE: cloudwatch,
    CW_METRICS_JOB: cloudwatch,
    CW_METRICS_WORKER: cloudwatch,
    CW_METRICS_PERIOD: cloudwatch,
    PAYLOAD_DOWNLOADER: 'this build has one payload downloader, so there is none to choose',
    S3TRIGGER_CACHE_TTL: s3trigger,
    RS_PASSWORD_DURATION: 'IAM-generated Redshift passwords (GetClusterCredentials) are not in this build',
    AWS_ACCESS_KEY_CACHE_TTL:
      'aws connections here read their keys through the secret cache (PARAM_CACHE_SIZE, PARAM_CACHE_TTL); this cache is not in this build',
    AWS_ACCESS_KEY_CACHE_SIZE:
      'aws connections here read their keys through the secret cache (PARAM_CACHE_SIZE, PARAM_CACHE_TTL); this cache is not in this build',
  };
})();

/**
 * One warning per upstream parameter that is set but not in this build: `realmConfig` keys (any
 * case) and `LAVA_<NAME>` variables of `env`.
 */
export function notInThisBuildWarnings(realmConfig: unknown, env?: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (realmConfig && typeof realmConfig === 'object' && !Array.isArray(realmConfig)) {
    for (const key of Object.keys(realmConfig)) {
      const why = NOT_IN_THIS_BUILD[key.toUpperCase()];
      if (why !== undefined) out.push(`config.${key}: a Lava parameter that nothing reads here: ${why}; remove it`);
    }
  }
  for (const name of Object.keys(env ?? {})) {
    const why = name.startsWith('LAVA_') ? NOT_IN_THIS_BUILD[name.slice(5)] : undefined;
    if (why !== undefined) out.push(`${name}: a Lava parameter that nothing reads here: ${why}; unset it`);
  }
  return out;
}
