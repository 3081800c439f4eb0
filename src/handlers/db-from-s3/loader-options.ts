/** Loader options (`args`): parsed, and checked against what each loader accepts. */
import { JobError } from '../../core/errors.js';

export interface Option {
  keyword: string;
  value: string | undefined;
  text: string;
}

export function parseArgs(args: unknown): Option[] {
  if (args === undefined) return [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new JobError('parameters.args must be a list of loader options, e.g. ["CSV", "HEADER", "DELIMITER \'|\'"]');
  }
  return args.map((a) => {
    const m = /^\s*([A-Za-z_]+)(?:\s+([\s\S]*?))?\s*$/.exec(a);
    if (!m)
      throw new JobError(`Bad loader option ${JSON.stringify(a)}: start with a keyword such as FORMAT, HEADER or DELIMITER`);
    return { keyword: (m[1] as string).toUpperCase(), value: m[2] || undefined, text: a.trim() };
  });
}

export function checkKeywords(opts: Option[], allowed: readonly string[], loader: string): void {
  for (const o of opts) {
    if (!allowed.includes(o.keyword)) {
      throw new JobError(`loader option ${o.keyword} is not allowed for ${loader}: use ${allowed.join(', ')}`);
    }
  }
}

/** A quoted SQL string literal's content ('c' → c, '' → '). */
export function literal(o: Option): string {
  const m = /^'((?:[^']|'')*)'$/.exec(o.value ?? '') ?? /^"((?:[^"]|"")*)"$/.exec(o.value ?? '');
  if (!m) throw new JobError(`loader option ${o.keyword} needs a quoted value, e.g. ${o.keyword} '|'`);
  return (m[1] as string).replace(/''/g, "'").replace(/\\t/g, '\t');
}

export const PG_OPTIONS = [
  'CSV',
  'FORMAT',
  'HEADER',
  'OIDS',
  'FREEZE',
  'DELIMITER',
  'NULL',
  'QUOTE',
  'ESCAPE',
  'FORCE_NOT_NULL',
  'FORCE_NULL',
  'ENCODING',
  'GZIP',
  'MANIFEST',
  'JSON',
];
export const MYSQL_OPTIONS = [
  'CSV',
  'IGNORE',
  'REPLACE',
  'PARTITION',
  'DELIMITER',
  'ENCODING',
  'QUOTE',
  'ESCAPE',
  'HEADER',
  'TERMINATOR',
  'GZIP',
  'MANIFEST',
  'JSON',
];
export const INSERT_OPTIONS = [
  'CSV',
  'DELIMITER',
  'DOUBLEQUOTE',
  'ESCAPECHAR',
  'QUOTECHAR',
  'QUOTING',
  'GZIP',
  'HEADER',
  'MANIFEST',
  'JSON',
];
export const REDSHIFT_OPTIONS = [
  'CSV',
  'GZIP',
  'BZIP2',
  'LZOP',
  'ZSTD',
  'MANIFEST',
  'IGNOREHEADER',
  'DATEFORMAT',
  'TIMEFORMAT',
  'JSON',
  'AVRO',
  'FORMAT',
  'DELIMITER',
  'BLANKSASNULL',
  'EMPTYASNULL',
  'MAXERROR',
  'NULL',
  'QUOTE',
  'ESCAPE',
  'REMOVEQUOTES',
  'ACCEPTINVCHARS',
  'ACCEPTANYDATE',
  'FILLRECORD',
  'TRIMBLANKS',
  'TRUNCATECOLUMNS',
  'ENCODING',
  'REGION',
  'COMPUPDATE',
  'STATUPDATE',
  'ROUNDEC',
  'EXPLICIT_IDS',
  'IGNOREBLANKLINES',
  'ESCAPE',
];
