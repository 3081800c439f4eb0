/**
 * Logging: pino JSON lines, or short human-readable lines on a terminal. Child loggers carry
 * realm, worker, job_id and run_id.
 */
import { Writable } from 'node:stream';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { processSetting } from './settings.js';

export type Logger = PinoLogger;

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** Formats pino's JSON lines as `HH:MM:SS LEVEL message key=value…`. */
function prettyStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const rec = JSON.parse(line) as Record<string, unknown>;
          const time = new Date(Number(rec.time)).toTimeString().slice(0, 8);
          const extras = Object.entries(rec)
            .filter(([k]) => !HIDDEN.has(k))
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          out.write(`${time} ${LEVELS[Number(rec.level)] ?? rec.level} ${String(rec.msg ?? '')}${extras ? ' ' + extras : ''}\n`);
        } catch {
          out.write(line + '\n');
        }
      }
      done();
    },
  });
}

export interface LoggerOptions {
  level?: string;
  json?: boolean;
  /** Where lines go; default stderr. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const dest = options.destination ?? process.stderr;
  const json = options.json ?? !(dest as { isTTY?: boolean }).isTTY;
  const level = options.level ?? processSetting('LOGLEVEL') ?? 'info';
  return pino({ level, base: { pid: process.pid } }, json ? (dest as DestinationStream) : prettyStream(dest));
}

/** A logger that drops everything (library default). */
export const silentLogger: Logger = pino({ level: 'silent' });
