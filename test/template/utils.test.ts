import { describe, expect, it } from 'vitest';
import { renderTemplate, s3Split, utils } from '../../src/template/index.js';
import { parseDatetime } from '../../src/template/utils-dateutil.js';
import { translateRegex } from '../../src/template/utils-re.js';
import { pyStr } from '../../src/template/pytypes.js';

const u = (source: string, extra: Record<string, unknown> = {}): string => renderTemplate(source, { utils, ...extra });

describe('utils.re', () => {
  it('search / match / fullmatch return match objects or None', () => {
    expect(u("{{ utils.re.search('(\\d+)-(\\d+)', 'ab 12-34').group(1) }}")).toBe('12');
    expect(u("{{ utils.re.search('(\\d+)-(\\d+)', 'ab 12-34').group(0, 2) }}")).toBe("('12-34', '34')");
    expect(u("{{ utils.re.search('(\\d+)-(\\d+)', 'ab 12-34').groups() }}")).toBe("('12', '34')");
    expect(u("{{ utils.re.match('a', 'ba') }} {{ utils.re.match('b', 'ba').group() }}")).toBe('None b');
    expect(u("{{ utils.re.fullmatch('a.c', 'abc').group() }} {{ utils.re.fullmatch('a', 'ab') }}")).toBe('abc None');
    expect(u("{{ utils.re.search('x', 'y') is none }}")).toBe('True');
  });

  it('supports named groups, optional groups, spans and m[n]', () => {
    const m = "utils.re.search('(?P<y>\\d{4})-(?P<m>\\d\\d)(x)?', 'on 2026-11')";
    expect(u(`{{ ${m}.group('y') }} {{ ${m}['m'] }} {{ ${m}[1] }} {{ ${m}.groupdict() }}`)).toBe(
      "2026 11 2026 {'y': '2026', 'm': '11'}",
    );
    expect(u(`{{ ${m}.groups() }} {{ ${m}.groups('-') }} {{ ${m}.span() }} {{ ${m}.start(2) }} {{ ${m}.end('y') }}`)).toBe(
      "('2026', '11', None) ('2026', '11', '-') (3, 10) 8 7",
    );
    expect(u("{{ utils.re.search('(a)(b)', 'ab') }}")).toBe("<re.Match object; span=(0, 2), match='ab'>");
  });

  it('sub supports backreferences, \\g<name>, count and callables', () => {
    expect(u("{{ utils.re.sub('(\\w+)@(\\w+)', '\\\\2 at \\\\1', 'joe@example') }}")).toBe('example at joe');
    expect(u("{{ utils.re.sub('(?P<w>o)', '[\\\\g<w>]', 'foo', 1) }}")).toBe('f[o]o');
    expect(u("{{ utils.re.subn('o', '0', 'foo') }}")).toBe("('f00', 2)");
    expect(u("{% macro up(m) %}{{ m.group(0) | upper }}{% endmacro %}{{ utils.re.sub('[aeiou]', up, 'hello') }}")).toBe('hEllO');
    expect(u("{{ utils.re.sub('x*', '-', 'abxd') }}")).toBe('-a-b--d-');
  });

  it('findall / split / finditer follow Python result shapes', () => {
    expect(u("{{ utils.re.findall('\\d', 'a1b2') }} {{ utils.re.findall('(\\w)=(\\d)', 'a=1 b=2') }}")).toBe(
      "['1', '2'] [('a', '1'), ('b', '2')]",
    );
    expect(u("{{ utils.re.split(',\\s*', 'a, b,c') }} {{ utils.re.split('(,)', 'a,b', 1) }}")).toBe(
      "['a', 'b', 'c'] ['a', ',', 'b']",
    );
    expect(u("{% for m in utils.re.finditer('\\d+', 'a1 b22') %}{{ m.group() }};{% endfor %}")).toBe('1;22;');
  });

  it('supports flags, inline flags, \\A, \\Z and Python $', () => {
    expect(u("{{ utils.re.search('abc', 'xABC', utils.re.I).group() }} {{ utils.re.search('(?i)abc', 'xABC').group() }}")).toBe(
      'ABC ABC',
    );
    expect(
      u(
        "{{ utils.re.findall('^\\w', 'a\\nb', flags=utils.re.M) }} {{ utils.re.search('a.b', 'a\\nb', utils.re.S) is not none }}",
      ),
    ).toBe("['a', 'b'] True");
    expect(
      u(
        "{{ utils.re.search('c$', 'abc\\n') is not none }} {{ utils.re.search('c\\Z', 'abc\\n') is none }} {{ utils.re.match('\\Aa', 'a') is not none }}",
      ),
    ).toBe('True True True');
    expect(translateRegex('(?P<n>a)(?P=n)(?#c)', 0).source).toBe('(?<n>a)\\k<n>');
  });

  it('compile / escape and errors', () => {
    expect(
      u(
        "{% set p = utils.re.compile('(\\d+)') %}{{ p.search('x42').group(1) }} {{ p.pattern }} {{ p.groups }} {{ p.findall('1 2') }}",
      ),
    ).toBe("42 (\\d+) 1 ['1', '2']");
    expect(u("{{ utils.re.escape('a.b*c') }}")).toBe('a\\.b\\*c');
    expect(() => u("{{ utils.re.search('(', 'x') }}")).toThrow(/re\.error/);
  });
});

describe('utils.path', () => {
  it('implements posixpath string functions', () => {
    expect(u("{{ utils.path.basename('s3://b/an/s3/key') }} {{ utils.path.basename('a/') }}|")).toBe('key |');
    expect(u("{{ utils.path.dirname('/a/b/c') }} {{ utils.path.dirname('a') }}| {{ utils.path.dirname('//x') }}")).toBe(
      '/a/b | //',
    );
    expect(u("{{ utils.path.join('a', 'b', 'c.txt') }} {{ utils.path.join('a/', '/abs', 'x') }}")).toBe('a/b/c.txt /abs/x');
    expect(u("{{ utils.path.split('/a/b') }} {{ utils.path.splitext('x/y.tar.gz') }} {{ utils.path.splitext('.bashrc') }}")).toBe(
      "('/a', 'b') ('x/y.tar', '.gz') ('.bashrc', '')",
    );
    expect(
      u("{{ utils.path.normpath('a//b/./c/../d/') }} {{ utils.path.isabs('/x') }} {{ utils.path.commonprefix(['abc', 'abd']) }}"),
    ).toBe('a/b/d True ab');
  });

  it('does not expose filesystem access', () => {
    expect(u('{{ utils.path.exists is defined }} {{ utils.path.abspath is defined }}')).toBe('False False');
  });
});

describe('utils.s3bucket / s3key', () => {
  it('accepts the same forms as upstream s3_split', () => {
    for (const s of ['s3://b/k/x', 's3:b/k/x', '/b/k/x', 'b/k/x', 'b/k/x/']) expect(s3Split(s)).toEqual(['b', 'k/x']);
    expect(s3Split('s3://b')).toEqual(['b', '']);
    expect(
      u("{{ utils.s3bucket('s3://bucket.xyzzy.com/an/s3/key') }}|{{ utils.s3key('s3://bucket.xyzzy.com/an/s3/key') }}"),
    ).toBe('bucket.xyzzy.com|an/s3/key');
    expect(() => u("{{ utils.s3bucket('s3://') }}")).toThrow(/Invalid S3 object name/);
  });
});

describe('utils.uuid', () => {
  it('returns a random v4 UUID object', () => {
    const out = u('{{ utils.uuid() }} {{ utils.uuid().hex }} {{ utils.uuid().version }}');
    expect(out).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} [0-9a-f]{32} 4$/);
    expect(u('{{ utils.uuid() == utils.uuid() }}')).toBe('False');
  });
});

describe('utils.dateutil / parsedate', () => {
  it('parses common date formats like dateutil.parser.parse', () => {
    const cases: [string, string][] = [
      ['2024-01-02T10:00:00Z', '2024-01-02 10:00:00+00:00'],
      ['2024-01-02 10:00:00+11:00', '2024-01-02 10:00:00+11:00'],
      ['2024-01-02', '2024-01-02 00:00:00'],
      ['20240102', '2024-01-02 00:00:00'],
      ['Jan 2 2024 10:30 PM', '2024-01-02 22:30:00'],
      ['2 January 2024', '2024-01-02 00:00:00'],
      ['Tue, 02 Jan 2024 10:00:00 +0000', '2024-01-02 10:00:00+00:00'],
      ['2024-01-02 10:00:00 UTC', '2024-01-02 10:00:00+00:00'],
      ['2/1/2024', '2024-02-01 00:00:00'],
      ['13/1/2024', '2024-01-13 00:00:00'],
      ['1st March 2025 at 9am', '2025-03-01 09:00:00'],
    ];
    for (const [input, expected] of cases) expect(pyStr(parseDatetime(input)), input).toBe(expected);
    expect(pyStr(parseDatetime('2/1/2024', { dayfirst: true }))).toBe('2024-01-02 00:00:00');
    expect(() => parseDatetime('not a date')).toThrow(/Unknown string format/);
  });

  it('is reachable as utils.parsedate and utils.dateutil.parser, with keyword options', () => {
    expect(
      u(
        "{{ utils.parsedate.parse('2/1/2024', dayfirst=True).date() }} {{ utils.dateutil.parser.parse('2024-01-02T03:04:05Z').tzinfo }}",
      ),
    ).toBe('2024-01-02 tzutc()');
    expect(u("{{ utils.parsedate.isoparse('2020-02-11T09:30:00+11:00') }} {{ utils.parsedate.isoparse('2020-02-11') }}")).toBe(
      '2020-02-11 09:30:00+11:00 2020-02-11 00:00:00',
    );
    expect(() => u("{{ utils.parsedate.isoparse('11/02/2020') }}")).toThrow(/not in a supported format/);
  });

  it('provides tz helpers', () => {
    expect(
      u("{{ utils.dateutil.tz.gettz('Australia/Sydney') }} {{ utils.dateutil.tz.gettz('No/Such') }} {{ utils.dateutil.tz.UTC }}"),
    ).toBe("tzfile('/usr/share/zoneinfo/Australia/Sydney') None tzutc()");
    expect(u("{{ utils.datetime(2026, 1, 1, tzinfo=utils.dateutil.tz.tzoffset('X', 3600)).isoformat() }}")).toBe(
      '2026-01-01T00:00:00+01:00',
    );
    expect(u("{{ utils.datetime(2026, 1, 1, tzinfo=utils.dateutil.tz.gettz('Asia/Kolkata')).strftime('%z') }}")).toBe('+0530');
  });

  it('relativedelta is callable as the module or the class, with weekday helpers', () => {
    const d = 'utils.datetime(2026, 11, 25)';
    expect(
      u(`{{ ${d} + utils.dateutil.relativedelta(months=1) }} {{ ${d} + utils.dateutil.relativedelta.relativedelta(years=-1) }}`),
    ).toBe('2026-12-25 00:00:00 2025-11-25 00:00:00');
    expect(
      u(`{{ (${d} + utils.dateutil.relativedelta.relativedelta(weekday=utils.dateutil.relativedelta.MO(-1))).date() }}`),
    ).toBe('2026-11-23');
    expect(u('{{ utils.dateutil.relativedelta.MO(-1) }}')).toBe('MO(-1)');
  });

  it('exposes the datetime classes with their class methods', () => {
    expect(
      u(
        "{{ utils.datetime.strptime('05/03/2024', '%d/%m/%Y').date() }} {{ utils.datetime.fromisoformat('2024-03-05T10:11:00+05:30') }}",
      ),
    ).toBe('2024-03-05 2024-03-05 10:11:00+05:30');
    expect(
      u('{{ utils.time(10, 30) }} {{ utils.date.fromordinal(1) }} {{ utils.timedelta(minutes=90) }} {{ utils.datetime }}'),
    ).toBe("10:30:00 0001-01-01 1:30:00 <class 'datetime.datetime'>");
    expect(u('{{ utils.datetime.now(utils.dateutil.tz.UTC).tzname() }} {{ utils.date.today() is defined }}')).toBe('UTC True');
    expect(() => u('{{ utils.datetime(2026, 2, 30) }}')).toThrow(/day is out of range for month/);
  });
});
