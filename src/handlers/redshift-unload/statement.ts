/**
 * The text of a Redshift UNLOAD, built the way upstream Lava builds it: pure functions, so the
 * statements can be checked without a Redshift (none can run here).
 *
 * The statement is made in two steps: first with an `{authorization}` placeholder (the text that may
 * be logged and is returned in the job result), then with the credentials put in (the text that is
 * sent to the server and goes nowhere else).
 */

/** The UNLOAD options upstream accepts (the first word of each `args` entry, any case). */
export const UNLOAD_KEYWORDS: readonly string[] = [
  'ADDQUOTES',
  'ALLOWOVERWRITE',
  'BZIP2',
  'CLEANPATH',
  'CSV',
  'DELIMITER',
  'ENCRYPTED',
  'ESCAPE',
  'EXTENSION',
  'FIXEDWIDTH',
  'FORMAT',
  'GZIP',
  'HEADER',
  'JSON',
  'KMS_KEY_ID',
  'MANIFEST',
  'MAXFILESIZE',
  'NULL',
  'PARALLEL',
  'PARQUET',
  'PARTITION',
  'ROWGROUPSIZE',
  'ZSTD',
];

/** The placeholder for the credentials in the loggable statement. */
export const AUTH_PLACEHOLDER = '{authorization}';

/** `PARTITION BY @schema.relation`: the partition columns come from a metadata relation. */
const PARTITION_INDIRECT = /^BY\s+@\s*([^.]+)\.([^.]+)\s*$/i;

export interface S3Authorization {
  iamRole?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  sessionToken?: string | undefined;
}

/** The keywords of `args` that UNLOAD does not take (upper-cased, in order, once each). */
export function badKeywords(args: readonly string[]): string[] {
  const bad = new Set<string>();
  for (const a of args) {
    const kw = (a.trim().split(/\s+/)[0] ?? '').toUpperCase();
    if (!UNLOAD_KEYWORDS.includes(kw)) bad.add(kw);
  }
  return [...bad];
}

/** The authorization clause: `IAM_ROLE '…'` (the role wins) or the access key clauses. */
export function authorizationClause(a: S3Authorization): string {
  for (const s of [a.iamRole, a.accessKeyId, a.secretAccessKey, a.sessionToken]) {
    if (s && s.includes("'")) throw new Error('Bad Redshift authorization component: must not contain quotes');
  }
  if (a.iamRole) return `IAM_ROLE '${a.iamRole}'`;
  if (!a.accessKeyId || !a.secretAccessKey) throw new Error('Either IAM role or access keys required');
  const auth = ['ACCESS_KEY_ID', `'${a.accessKeyId}'`, 'SECRET_ACCESS_KEY', `'${a.secretAccessKey}'`];
  if (a.sessionToken) auth.push('SESSION_TOKEN', `'${a.sessionToken}'`);
  return auth.join(' ');
}

/**
 * The SELECT list: `*`, unless a date format is given and the relation has a DATE column; then every
 * column by name, the DATE ones through `to_char(…, \'fmt\')` (the quotes are escaped because the
 * query sits inside UNLOAD's quoted string).
 */
export function selector(columns: ReadonlyArray<readonly [string, string]> | undefined, dateformat?: string): string {
  if (!dateformat || !columns || !columns.some(([, type]) => type === 'date')) return '*';
  return columns
    .map(([name, type]) => (type !== 'date' ? `"${name}"` : `to_char("${name}", \\'${dateformat}\\') AS "${name}"`))
    .join(', ');
}

export interface UnloadText {
  selector: string;
  schema: string;
  relation: string;
  bucket: string;
  prefix: string;
  /** The rendered WHERE predicate, without the keyword. */
  where?: string | undefined;
  /** The UNLOAD options after preprocessing (see `partitionOption`). */
  options: readonly string[];
}

/**
 * The statement with the `{authorization}` placeholder, laid out as upstream lays it out (its
 * result `sql` is this text with the surrounding spaces and newlines removed).
 */
export function unloadTemplate(u: UnloadText): string {
  const where = u.where ? 'WHERE ' + u.where.replace(/'/g, "\\'") : '';
  const pad = ' '.repeat(16);
  return (
    `\n${pad}UNLOAD ('SELECT ${u.selector} FROM "${u.schema}"."${u.relation}" ${where}')\n` +
    `${pad}TO 's3://${u.bucket}/${u.prefix}'\n` +
    `${pad}${AUTH_PLACEHOLDER}\n` +
    `${pad}${u.options.join(' ')};\n` +
    ' '.repeat(12)
  );
}

/** The text sent to the server: the template with the credentials in. */
export function withAuthorization(template: string, authorization: string): string {
  return template.split(AUTH_PLACEHOLDER).join(authorization);
}

/** The loggable text for the result: the template without its surrounding spaces and newlines. */
export function loggable(template: string): string {
  return template.replace(/^[ \n]+|[ \n]+$/g, '');
}

/** A PARTITION option that names a metadata relation: its schema and relation, else undefined. */
export function partitionSource(option: string): { schema: string; relation: string } | undefined {
  const [kw, args] = splitOption(option);
  if (kw.toUpperCase() !== 'PARTITION') return undefined;
  if (!args) throw new Error('PARTITION option requires argument(s)');
  const m = PARTITION_INDIRECT.exec(args);
  return m ? { schema: m[1] as string, relation: m[2] as string } : undefined;
}

/** `PARTITION BY ("a","b")` from the metadata relation's comma-separated column list. */
export function partitionByColumns(partitions: string): string {
  const cols = partitions.split(',').map((c) => `"${c.trim()}"`);
  return `PARTITION BY (${cols.join(',')})`;
}

/** The SQL that reads the partition columns of `schema.relation` from a metadata relation. */
export function partitionQuery(source: { schema: string; relation: string }): string {
  return `SELECT partitions FROM "${source.schema}"."${source.relation}" WHERE schema_name = ? AND rel_name = ?`;
}

/** The option's keyword and the rest (upstream splits at the first run of white space). */
export function splitOption(option: string): [string, string | undefined] {
  const m = /^\s*(\S+)(?:\s+([\s\S]*?))?\s*$/.exec(option);
  if (!m) return [option, undefined];
  return [m[1] as string, m[2] || undefined];
}

/** The column list query (Redshift's svv_columns; works for late-binding views and data shares). */
export const COLUMNS_QUERY =
  'SELECT column_name, LOWER(data_type) FROM svv_columns WHERE table_catalog=CURRENT_DATABASE() AND table_schema=? AND table_name=? ORDER by ordinal_position';
