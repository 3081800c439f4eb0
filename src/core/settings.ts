/**
 * Process-level settings: the LAVA_* variables that are not configuration parameters, because a
 * realm's `config` cannot set them (they choose the backend and realm, or belong to one process).
 * Each resolves as a command-line flag > the environment; an empty value counts as unset.
 * Configuration parameters (LAVA_<PARAM>) are resolved by Config in config.ts.
 */

/** Every process-level variable (without its LAVA_ prefix), as docs/cli/index.md lists them. */
export const PROCESS_SETTINGS = {
  BACKEND: 'backend URL, as --backend',
  REALM: 'realm name, as --realm',
  LOGLEVEL: 'log level of the long-running commands',
  DISPATCHER_TZ: 'zone cron lines are read in, as --tz',
  SERVER_HOST: 'address `lava serve` listens on, as --host (default 127.0.0.1)',
  SERVER_PORT: 'port `lava serve` listens on, as --port (default 8470)',
  FILE_MODE: 'mode of the files Lava creates',
  SECRET_KEY: 'key for encrypted values (base64, 32 bytes)',
  JOB_ID: "set for a job's processes: the job id (state publisher, connection application name)",
  S3_KEY: "set for a job's processes: the realm's KMS key for S3 uploads",
} as const;

export type ProcessSetting = keyof typeof PROCESS_SETTINGS;

export interface SettingSources {
  /** The command-line value, when the command has a flag for it. */
  flag?: string | undefined;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** `flag` > `LAVA_<name>`, or undefined when neither is set. */
export function processSetting(name: ProcessSetting, o: SettingSources = {}): string | undefined {
  if (o.flag) return o.flag;
  return (o.env ?? process.env)[`LAVA_${name}`] || undefined;
}
