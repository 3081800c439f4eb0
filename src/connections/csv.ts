/**
 * Delimited text with Python `csv` module semantics (what upstream Lava's sql/sqli/sqlv output and
 * db_from_s3 insert loaders use): dialects excel / excel-tab / unix, quoting minimal / all /
 * nonnumeric / none, doublequote, escapechar (and its famous "need to escape, but no escapechar
 * set" error), quotechar, Python `str()` rendering of values.
 */
import { LavaError } from '../core/errors.js';

export type Quoting = 'minimal' | 'all' | 'nonnumeric' | 'none';

export interface CsvFormat {
  delimiter: string;
  quotechar: string | null;
  escapechar: string | null;
  doublequote: boolean;
  quoting: Quoting;
  lineterminator: string;
}

export const DIALECTS: Readonly<Record<string, CsvFormat>> = {
  excel: { delimiter: ',', quotechar: '"', escapechar: null, doublequote: true, quoting: 'minimal', lineterminator: '\r\n' },
  'excel-tab': {
    delimiter: '\t',
    quotechar: '"',
    escapechar: null,
    doublequote: true,
    quoting: 'minimal',
    lineterminator: '\r\n',
  },
  unix: { delimiter: ',', quotechar: '"', escapechar: null, doublequote: true, quoting: 'all', lineterminator: '\n' },
};

/** A CSV format problem (Python's `_csv.Error`). */
export class CsvError extends LavaError {
  constructor(message: string) {
    super('LAVA_INVALID', message);
  }
}

export interface CsvOptions {
  dialect?: string;
  delimiter?: string;
  quotechar?: string | null;
  escapechar?: string | null;
  doublequote?: boolean;
  quoting?: string;
}

/** The dialect with explicit options laid over it, validated as Python's csv.Dialect does. */
export function csvFormat(o: CsvOptions = {}): CsvFormat {
  const dialectName = o.dialect ?? 'excel';
  const base = DIALECTS[dialectName];
  if (!base) throw new CsvError(`unknown CSV dialect "${dialectName}": use one of ${Object.keys(DIALECTS).join(', ')}`);
  const f: CsvFormat = { ...base };
  if (o.delimiter !== undefined) f.delimiter = o.delimiter;
  if (o.quotechar !== undefined) f.quotechar = o.quotechar === '' ? null : o.quotechar;
  if (o.escapechar !== undefined) f.escapechar = o.escapechar === '' ? null : o.escapechar;
  if (o.doublequote !== undefined) f.doublequote = o.doublequote;
  if (o.quoting !== undefined) {
    const q = o.quoting.toLowerCase().replace(/^quote_/, '');
    if (q !== 'minimal' && q !== 'all' && q !== 'nonnumeric' && q !== 'none') {
      throw new CsvError(`Bad quoting style: ${o.quoting.toUpperCase()}: use minimal, all, nonnumeric or none`);
    }
    f.quoting = q;
  }
  if ([...f.delimiter].length !== 1) throw new CsvError('"delimiter" must be a 1-character string');
  if (f.quotechar !== null && [...f.quotechar].length !== 1) throw new CsvError('"quotechar" must be a 1-character string');
  if (f.escapechar !== null && [...f.escapechar].length !== 1) throw new CsvError('"escapechar" must be a 1-character string');
  if (f.quotechar === null && f.quoting !== 'none') throw new CsvError('quotechar must be set if quoting enabled');
  return f;
}

/** Python `str()` of a database value, as the csv module writes it. */
export function pyStrValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (v === Infinity) return 'inf';
    if (v === -Infinity) return '-inf';
    return String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return pyDatetime(v);
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A Date as Python prints an aware datetime in UTC: `2024-01-31 12:00:00[.ffffff]+00:00`. */
function pyDatetime(d: Date): string {
  const iso = d.toISOString(); // 2024-01-31T12:00:00.000Z
  const ms = d.getUTCMilliseconds();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}+00:00`;
}

function isNumeric(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

/** One record, terminated, exactly as Python's `csv.writer(...).writerow(row)` writes it. */
export function formatCsvRow(row: readonly unknown[], f: CsvFormat): string {
  const fields: string[] = [];
  for (const v of row) {
    let quoted = f.quoting === 'all' || (f.quoting === 'nonnumeric' && !isNumeric(v));
    const text = v === null || v === undefined ? '' : pyStrValue(v);
    let out = '';
    for (const c of text) {
      let wantEscape = false;
      if (
        c === f.delimiter ||
        c === f.escapechar ||
        c === f.quotechar ||
        c === '\n' ||
        c === '\r' ||
        f.lineterminator.includes(c)
      ) {
        if (f.quoting === 'none') wantEscape = true;
        else {
          if (c === f.quotechar) {
            if (f.doublequote) out += f.quotechar;
            else wantEscape = true;
          } else if (c === f.escapechar) wantEscape = true;
          if (!wantEscape) quoted = true;
        }
        if (wantEscape) {
          if (f.escapechar === null) throw new CsvError('need to escape, but no escapechar set');
          out += f.escapechar;
        }
      }
      out += c;
    }
    fields.push(quoted ? `${f.quotechar ?? ''}${out}${f.quotechar ?? ''}` : out);
  }
  if (row.length === 1 && fields[0] === '') {
    if (f.quoting === 'none') throw new CsvError('single empty field record must be quoted');
    fields[0] = `${f.quotechar ?? ''}${f.quotechar ?? ''}`;
  }
  return fields.join(f.delimiter) + f.lineterminator;
}

/**
 * Parse delimited text as Python's csv.reader does (quotechar, doublequote, escapechar, quoting
 * none; both \n and \r\n end records). Yields arrays of strings.
 */
export function* parseCsv(text: string, f: CsvFormat): Generator<string[]> {
  let field = '';
  let row: string[] = [];
  let inQuotes = false;
  let wasQuoted = false;
  let i = 0;
  const n = text.length;
  const quote = f.quoting === 'none' ? null : f.quotechar;
  let rowStarted = false;
  while (i < n) {
    const c = text[i] as string;
    if (inQuotes) {
      if (f.escapechar !== null && c === f.escapechar && i + 1 < n) {
        field += text[i + 1];
        i += 2;
        continue;
      }
      if (c === quote) {
        if (f.doublequote && text[i + 1] === quote) {
          field += c;
          i += 2;
          continue;
        }
        inQuotes = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (f.escapechar !== null && c === f.escapechar && i + 1 < n) {
      field += text[i + 1];
      rowStarted = true;
      i += 2;
      continue;
    }
    if (c === quote && field === '' && !wasQuoted) {
      inQuotes = true;
      wasQuoted = true;
      rowStarted = true;
      i++;
      continue;
    }
    if (c === f.delimiter) {
      row.push(field);
      field = '';
      wasQuoted = false;
      rowStarted = true;
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      if (rowStarted || field !== '') {
        row.push(field);
        yield row;
      }
      row = [];
      field = '';
      wasQuoted = false;
      rowStarted = false;
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += c;
    rowStarted = true;
    i++;
  }
  if (inQuotes && !f.doublequote) throw new CsvError('unexpected end of data');
  if (rowStarted || field !== '') {
    row.push(field);
    yield row;
  }
}
