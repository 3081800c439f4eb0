/**
 * A small CSV reader with the rules of RFC 4180 and Python's `csv` "excel" dialect: fields are
 * separated by commas; a field starting with `"` is quoted and may contain commas, newlines and
 * doubled quotes (`""` → `"`); records end with LF, CRLF or CR. A UTF-8 BOM is ignored.
 */
import { JobError } from '../../core/errors.js';

export interface CsvOptions {
  delimiter?: string;
  /** Names the source in error messages. */
  source?: string;
}

/** Every record as a list of fields. Blank lines are skipped (as Python's DictReader does). */
export function parseCsv(text: string, options: CsvOptions = {}): string[][] {
  const delimiter = options.delimiter ?? ',';
  const source = options.source ?? 'CSV';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new JobError(`${source}: bad CSV delimiter ${JSON.stringify(delimiter)}: use one character such as "," or ";"`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false; // inside a quoted field
  let wasQuoted = false; // the current field had quotes (so an empty line with "" is not blank)
  let line = 1;
  let quoteLine = 0;
  const endField = () => {
    record.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    if (!(record.length === 1 && record[0] === '' && !wasQuoted)) records.push(record);
    record = [];
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      wasQuoted = true;
      quoteLine = line;
    } else if (c === delimiter) endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
    } else field += c; // a quote inside an unquoted field is kept as it is (Python does the same)
  }
  if (quoted) throw new JobError(`${source}: a quoted field opened on line ${quoteLine} is never closed: add the closing "`);
  if (field !== '' || record.length || wasQuoted) endRecord();
  return records;
}

/**
 * Rows as maps keyed by the header row (values are strings). A row with a different number of
 * fields from the header is an error naming the row, rather than Python's silent None/extra key.
 */
export function parseCsvObjects(text: string, options: CsvOptions = {}): Record<string, string>[] {
  const source = options.source ?? 'CSV';
  const [header, ...rows] = parseCsv(text, options);
  if (!header) throw new JobError(`${source} is empty: it needs a header row naming the columns`);
  const names = header.map((h) => h.trim());
  const blank = names.findIndex((n) => !n);
  if (blank >= 0) throw new JobError(`${source}: header column ${blank + 1} has no name: name every column`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new JobError(`${source}: header names column "${dup}" twice: make column names unique`);
  return rows.map((row, r) => {
    if (row.length !== names.length) {
      throw new JobError(
        `${source}: data row ${r + 1} has ${row.length} field(s) but the header has ${names.length}: quote values that contain commas`,
      );
    }
    return Object.fromEntries(names.map((n, i) => [n, row[i] as string]));
  });
}
