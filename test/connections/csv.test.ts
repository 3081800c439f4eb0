/** Expected strings were produced by Python 3.11's csv.writer with the same options. */
import { describe, expect, it } from 'vitest';
import { csvFormat, formatCsvRow, parseCsv, pyStrValue } from '../../src/connections/csv.js';

const ROWS: unknown[][] = [
  ['a', 'b c', 1, 2.5, null, true],
  ['x"y', 'p|q', 'line\nbreak', '', 'back\\slash', 't\tab'],
];

const CASES: [string, Parameters<typeof csvFormat>[0], [string, string]][] = [
  [
    'lava defaults (|, no doublequote, no escapechar)',
    { delimiter: '|', doublequote: false, escapechar: null, quotechar: '"', quoting: 'minimal', dialect: 'excel' },
    ['a|b c|1|2.5||True\r\n', 'ERR need to escape, but no escapechar set'],
  ],
  ['excel', { dialect: 'excel' }, ['a,b c,1,2.5,,True\r\n', '"x""y",p|q,"line\nbreak",,back\\slash,t\tab\r\n']],
  ['unix', { dialect: 'unix' }, ['"a","b c","1","2.5","","True"\n', '"x""y","p|q","line\nbreak","","back\\slash","t\tab"\n']],
  [
    'excel-tab',
    { dialect: 'excel-tab' },
    ['a\tb c\t1\t2.5\t\tTrue\r\n', '"x""y"\tp|q\t"line\nbreak"\t\tback\\slash\t"t\tab"\r\n'],
  ],
  [
    'escapechar backslash',
    { delimiter: '|', doublequote: false, escapechar: '\\', quotechar: '"', quoting: 'minimal' },
    ['a|b c|1|2.5||True\r\n', 'x\\"y|"p|q"|"line\nbreak"||back\\\\slash|t\tab\r\n'],
  ],
  ['all', { quoting: 'all' }, ['"a","b c","1","2.5","","True"\r\n', '"x""y","p|q","line\nbreak","","back\\slash","t\tab"\r\n']],
  [
    'nonnumeric',
    { quoting: 'nonnumeric' },
    ['"a","b c",1,2.5,"",True\r\n', '"x""y","p|q","line\nbreak","","back\\slash","t\tab"\r\n'],
  ],
  [
    'none with escapechar',
    { quoting: 'none', escapechar: '\\' },
    ['a,b c,1,2.5,,True\r\n', 'x\\"y,p|q,line\\\nbreak,,back\\\\slash,t\tab\r\n'],
  ],
  [
    'quotechar single',
    { quotechar: "'", delimiter: ';' },
    ['a;b c;1;2.5;;True\r\n', "x\"y;p|q;'line\nbreak';;back\\slash;t\tab\r\n"],
  ],
];

describe('formatCsvRow matches Python csv.writer', () => {
  for (const [name, opts, expected] of CASES) {
    it(name, () => {
      const f = csvFormat(opts);
      ROWS.forEach((row, i) => {
        const want = expected[i] as string;
        if (want.startsWith('ERR ')) expect(() => formatCsvRow(row, f)).toThrow(want.slice(4));
        else expect(formatCsvRow(row, f)).toBe(want);
      });
    });
  }

  it('a single empty field is quoted, or an error with quoting none', () => {
    expect(formatCsvRow([''], csvFormat())).toBe('""\r\n');
    expect(formatCsvRow([null], csvFormat())).toBe('""\r\n');
    expect(() => formatCsvRow([''], csvFormat({ quoting: 'none', escapechar: '\\' }))).toThrow(
      'single empty field record must be quoted',
    );
  });

  it('validates options as csv.Dialect does', () => {
    expect(() => csvFormat({ dialect: 'excel2' })).toThrow('unknown CSV dialect "excel2"');
    expect(() => csvFormat({ quoting: 'some' })).toThrow('Bad quoting style: SOME');
    expect(() => csvFormat({ delimiter: '||' })).toThrow('"delimiter" must be a 1-character string');
    expect(() => csvFormat({ quotechar: null })).toThrow('quotechar must be set if quoting enabled');
    expect(csvFormat({ quoting: 'QUOTE_ALL' }).quoting).toBe('all');
  });

  it('prints values as Python str() would', () => {
    expect(pyStrValue(false)).toBe('False');
    expect(pyStrValue(12n)).toBe('12');
    expect(pyStrValue(new Date(Date.UTC(2024, 0, 31, 12, 0, 0)))).toBe('2024-01-31 12:00:00+00:00');
    expect(pyStrValue(new Date(Date.UTC(2024, 0, 31, 12, 0, 0, 5)))).toBe('2024-01-31 12:00:00.005000+00:00');
    expect(pyStrValue(Buffer.from([1, 255]))).toBe('\\x01ff');
    expect(pyStrValue({ a: 1 })).toBe('{"a":1}');
  });
});

describe('parseCsv', () => {
  it('reads what the writer writes', () => {
    const f = csvFormat({ dialect: 'excel' });
    const text = ROWS.map((r) => formatCsvRow(r, f)).join('');
    expect([...parseCsv(text, f)]).toEqual([
      ['a', 'b c', '1', '2.5', '', 'True'],
      ['x"y', 'p|q', 'line\nbreak', '', 'back\\slash', 't\tab'],
    ]);
  });

  it('handles escapechar, custom delimiters and a missing final newline', () => {
    const f = csvFormat({ delimiter: '|', escapechar: '\\', doublequote: false });
    expect([...parseCsv('a\\|b|"c\\"d"\n1|2', f)]).toEqual([
      ['a|b', 'c"d'],
      ['1', '2'],
    ]);
  });

  it('skips blank lines', () => {
    expect([...parseCsv('a,b\n\n\r\nc,d\n', csvFormat())]).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });
});
