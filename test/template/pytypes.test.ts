import { describe, expect, it } from 'vitest';
import {
  PyDate,
  PyDatetime,
  PyFixedTz,
  PyRelativedelta,
  PyTimedelta,
  TZ_TZUTC,
  TZ_UTC,
  gettz,
  percentFormat,
  pyBinop,
  pyBool,
  pyCompare,
  pyEq,
  pyGetattr,
  pyRepr,
  pySlice,
  pyStr,
  strFormat,
  strptime,
  tuple,
} from '../../src/template/pytypes.js';
import type { PyTzInfo } from '../../src/template/pytypes.js';

const kw = (o: Record<string, unknown>): Record<string, unknown> => ({ __keywords: true, ...o });
const dt = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, us = 0, tz: PyTzInfo | null = null): PyDatetime =>
  PyDatetime.of({ year: y, month: mo, day: d, hour: h, minute: mi, second: s, microsecond: us }, tz);
const sydney = gettz('Australia/Sydney')!;
const td = (o: Record<string, number>): PyTimedelta => PyTimedelta.make(o);

describe('datetime', () => {
  it('formats like Python: str, isoformat, repr', () => {
    const a = dt(2026, 11, 23, 10, 4, 5, 0, sydney);
    expect(pyStr(a)).toBe('2026-11-23 10:04:05+11:00');
    expect(a.isoformat()).toBe('2026-11-23T10:04:05+11:00');
    expect(a.isoformat(kw({ timespec: 'minutes' }))).toBe('2026-11-23T10:04+11:00');
    expect(dt(2026, 1, 2, 3, 4, 5, 120).isoformat()).toBe('2026-01-02T03:04:05.000120');
    expect(dt(2026, 1, 2, 3, 4, 5, 0, new PyFixedTz(-5 * 3600 - 1800, null, 'timezone')).isoformat()).toBe(
      '2026-01-02T03:04:05-05:30',
    );
    expect(pyRepr(dt(2026, 1, 2, 0, 0, 0, 0, TZ_UTC))).toBe('datetime.datetime(2026, 1, 2, 0, 0, tzinfo=datetime.timezone.utc)');
    expect(pyRepr(dt(2026, 1, 2, 3, 4, 5, 0, TZ_TZUTC))).toBe('datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=tzutc())');
  });

  it('supports the common strftime codes', () => {
    const a = dt(2026, 3, 7, 15, 4, 5, 42, sydney);
    expect(a.strftime('%Y %m %d %H %M %S %y %b %B %a %A %j %p %I %f %z %Z %%')).toBe(
      '2026 03 07 15 04 05 26 Mar March Sat Saturday 066 PM 03 000042 +1100 AEDT %',
    );
    const savedTz = process.env.TZ;
    process.env.TZ = 'UTC';
    // like glibc (and so Python), %s reads the wall clock as local time
    expect(a.strftime('%s')).toBe(String(Date.UTC(2026, 2, 7, 15, 4, 5) / 1000));
    process.env.TZ = 'Australia/Sydney';
    expect(a.strftime('%s')).toBe(String(Date.UTC(2026, 2, 7, 4, 4, 5) / 1000));
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
    expect(a.strftime('%-d/%-m %e %c|%x|%X %U %W %V %G %u %w %F %T %:z')).toBe(
      '7/3  7 Sat Mar  7 15:04:05 2026|03/07/26|15:04:05 09 09 10 2026 6 6 2026-03-07 15:04:05 +11:00',
    );
    expect(dt(2026, 3, 7).strftime('[%z][%Z]')).toBe('[][]');
  });

  it('computes offsets for IANA zones across DST with Intl', () => {
    expect(pyStr(dt(2026, 1, 15, 12, 0, 0, 0, sydney).utcoffset())).toBe('11:00:00');
    expect(pyStr(dt(2026, 7, 15, 12, 0, 0, 0, sydney).utcoffset())).toBe('10:00:00');
    expect(dt(2026, 7, 15, 12, 0, 0, 0, sydney).tzname()).toBe('AEST');
    // DST ends 2026-04-05 03:00 AEDT → 02:00 AEST: 02:30 happens twice; fold=0 is the first (+11).
    expect(dt(2026, 4, 5, 2, 30, 0, 0, sydney).isoformat()).toBe('2026-04-05T02:30:00+11:00');
    // ... and converting the second occurrence keeps +10.
    expect(dt(2026, 4, 4, 16, 30, 0, 0, TZ_UTC).astimezone(sydney).isoformat()).toBe('2026-04-05T02:30:00+10:00');
    expect(dt(2026, 4, 4, 15, 30, 0, 0, TZ_UTC).astimezone(sydney).isoformat()).toBe('2026-04-05T02:30:00+11:00');
    expect(dt(2026, 1, 15, 12, 0, 0, 0, gettz('America/New_York')).strftime('%z %Z')).toBe('-0500 EST');
  });

  it('does wall-clock arithmetic then recomputes the offset (Python semantics)', () => {
    const before = dt(2026, 4, 4, 12, 0, 0, 0, sydney);
    const after = pyBinop('add', before, td({ days: 1 })) as PyDatetime;
    expect(after.isoformat()).toBe('2026-04-05T12:00:00+10:00');
    // same tzinfo object: the difference is of wall clocks, as in Python
    expect(pyStr(pyBinop('sub', after, before))).toBe('1 day, 0:00:00');
    // different tzinfo: the difference is of instants
    expect(pyStr(pyBinop('sub', after.astimezone(TZ_UTC), before))).toBe('1 day, 1:00:00');
  });

  it('compares aware datetimes by instant and refuses naive/aware mixes', () => {
    const a = dt(2026, 1, 1, 11, 0, 0, 0, sydney);
    const b = dt(2026, 1, 1, 0, 0, 0, 0, TZ_UTC);
    expect(pyEq(a, b)).toBe(true);
    expect(pyCompare('<', a, pyBinop('add', b, td({ seconds: 1 })))).toBe(true);
    expect(pyEq(a, dt(2026, 1, 1, 11))).toBe(false);
    expect(() => pyCompare('<', a, dt(2026, 1, 1))).toThrow(/offset-naive and offset-aware/);
    expect(() => pyBinop('sub', a, dt(2026, 1, 1))).toThrow(/offset-naive and offset-aware/);
  });

  it('supports replace, date, time, timestamp, weekday and class methods', () => {
    const a = dt(2026, 11, 23, 10, 4, 5, 0, TZ_UTC);
    expect(pyStr(a.replace(kw({ day: 1, tzinfo: null })))).toBe('2026-11-01 10:04:05');
    expect(() => a.replace(kw({ month: 2, day: 30 }))).toThrow(/day is out of range for month/);
    expect(pyStr(a.date())).toBe('2026-11-23');
    expect(pyStr(a.time())).toBe('10:04:05');
    expect(Number(a.timestamp())).toBe(Date.UTC(2026, 10, 23, 10, 4, 5) / 1000);
    expect([a.weekday(), a.isoweekday(), a.toordinal()]).toEqual([0, 1, 739943]);
    expect(pyRepr(a.isocalendar())).toBe('(2026, 48, 1)');
    expect(pyStr(a.fromtimestamp(0, TZ_UTC))).toBe('1970-01-01 00:00:00+00:00');
    expect(pyStr(a.fromisoformat('2024-03-05T10:11:00Z'))).toBe('2024-03-05 10:11:00+00:00');
  });

  it('parses with strptime', () => {
    expect(pyStr(strptime('2024-03-05 10:11', '%Y-%m-%d %H:%M'))).toBe('2024-03-05 10:11:00');
    expect(pyStr(strptime('05/Mar/24 3:07 PM +0530', '%d/%b/%y %I:%M %p %z'))).toBe('2024-03-05 15:07:00+05:30');
    expect(() => strptime('2024-03-05x', '%Y-%m-%d')).toThrow(/unconverted data remains: x/);
    expect(() => strptime('nope', '%Y')).toThrow(/does not match format/);
  });
});

describe('date and timedelta', () => {
  it('formats timedeltas like Python', () => {
    expect(pyStr(td({ hours: 1, minutes: 1 }))).toBe('1:01:00');
    expect(pyStr(td({ days: -1, hours: 1 }))).toBe('-1 day, 1:00:00');
    expect(pyStr(td({ days: 2, seconds: 1.5 }))).toBe('2 days, 0:00:01.500000');
    expect(pyStr(td({ hours: -1 }))).toBe('-1 day, 23:00:00');
    expect(pyRepr(td({ days: 1, seconds: 5 }))).toBe('datetime.timedelta(days=1, seconds=5)');
    expect(pyRepr(td({}))).toBe('datetime.timedelta(0)');
    expect(pyStr(td({ weeks: 1 }).total_seconds())).toBe('604800.0');
  });

  it('does timedelta arithmetic', () => {
    expect(pyStr(pyBinop('mul', td({ hours: 1 }), 2.5))).toBe('2:30:00');
    expect(pyStr(pyBinop('truediv', td({ hours: 3 }), td({ hours: 1 })))).toBe('3.0');
    expect(pyStr(pyBinop('floordiv', td({ hours: 3 }), 2))).toBe('1:30:00');
    expect(pyBool(td({}))).toBe(false);
  });

  it('supports dates', () => {
    const d = new PyDate(2024, 3, 1);
    expect(pyStr(pyBinop('sub', d, new PyDate(2024, 2, 1)))).toBe('29 days, 0:00:00');
    expect(pyStr(pyBinop('add', d, td({ days: -1 })))).toBe('2024-02-29');
    expect(d.strftime('%A %d %B %Y')).toBe('Friday 01 March 2024');
    expect(pyRepr(d)).toBe('datetime.date(2024, 3, 1)');
  });
});

describe('relativedelta', () => {
  const rd = (o: Record<string, unknown>): PyRelativedelta => PyRelativedelta.make(o);

  it('clamps month ends and handles year roll-over', () => {
    expect(pyStr(pyBinop('add', new PyDate(2024, 1, 31), rd({ months: 1 })))).toBe('2024-02-29');
    expect(pyStr(pyBinop('add', dt(2026, 1, 15, 1, 2, 3, 0, TZ_UTC), rd({ months: -2 })))).toBe('2025-11-15 01:02:03+00:00');
    expect(pyStr(pyBinop('sub', dt(2026, 3, 31), rd({ months: 1 })))).toBe('2026-02-28 00:00:00');
  });

  it('applies absolute fields and weekdays', () => {
    // last day of the month
    expect(pyStr(pyBinop('add', dt(2026, 11, 23), rd({ months: 1, day: 1, days: -1 })))).toBe('2026-11-30 00:00:00');
    const nextMonday = PyRelativedelta.make({ weekday: 0 });
    expect(pyStr(pyBinop('add', dt(2026, 11, 25), nextMonday))).toBe('2026-11-30 00:00:00');
  });

  it('normalises and prints like dateutil', () => {
    expect(pyStr(rd({ months: 14, hours: 25 }))).toBe('relativedelta(years=+1, months=+2, days=+1, hours=+1)');
    expect(pyStr(rd({ months: -1, day: 1 }))).toBe('relativedelta(months=-1, day=1)');
    expect(pyStr(PyRelativedelta.between(new PyDate(2026, 3, 15), new PyDate(2024, 1, 1)))).toBe(
      'relativedelta(years=+2, months=+2, days=+14)',
    );
    expect(() => rd({ months: 1.5 })).toThrow(/Non-integer/);
  });
});

describe('repr, str, truthiness and equality', () => {
  it('reprs Python containers and scalars', () => {
    expect(pyRepr({ a: 1, b: [true, null, 'x'], c: { d: 1.5 } })).toBe("{'a': 1, 'b': [True, None, 'x'], 'c': {'d': 1.5}}");
    expect(pyRepr("it's")).toBe(`"it's"`);
    expect(pyRepr('both \' and "')).toBe(`'both \\' and "'`);
    expect(pyRepr('tab\tnl\n\\')).toBe("'tab\\tnl\\n\\\\'");
    expect(pyRepr(tuple([1]))).toBe('(1,)');
    expect(pyRepr([NaN, Infinity, 1e-7])).toBe('[nan, inf, 1e-07]');
  });

  it('uses Python truthiness', () => {
    expect([[], {}, '', 0, null, undefined, false].map(pyBool)).toEqual([false, false, false, false, false, false, false]);
    expect([[0], { a: 0 }, ' ', -1, NaN].map(pyBool)).toEqual([true, true, true, true, true]);
  });

  it('uses Python equality', () => {
    expect(pyEq(1, true)).toBe(true);
    expect(pyEq('1', 1)).toBe(false);
    expect(pyEq(undefined, null)).toBe(false);
    expect(pyEq({ a: [1] }, { a: [1] })).toBe(true);
    expect(pyEq([1], tuple([1]))).toBe(false);
  });
});

describe('str methods and formatting', () => {
  const m = (s: string, name: string, ...args: unknown[]): unknown =>
    (pyGetattr(s, name) as (...a: unknown[]) => unknown)(...args);

  it('implements split/rsplit/strip/replace like Python', () => {
    expect(m('  a  b ', 'split')).toEqual(['a', 'b']);
    expect(m('a b  c ', 'split', null, 1)).toEqual(['a', 'b  c ']);
    expect(m('a,,b', 'split', ',')).toEqual(['a', '', 'b']);
    expect(m('a.b.c', 'rsplit', '.', 1)).toEqual(['a.b', 'c']);
    expect(m('xxhixx', 'strip', 'x')).toBe('hi');
    expect(m('aaa', 'replace', 'a', 'b', 2)).toBe('bba');
    expect(m('ab', 'replace', '', '-')).toBe('-a-b-');
    expect(() => m('a', 'split', '')).toThrow(/empty separator/);
  });

  it('implements padding, case and search helpers', () => {
    expect([m('-7', 'zfill', 4), m('ab', 'center', 6, '*'), m('ab', 'ljust', 4, '.'), m('ab', 'rjust', 4)]).toEqual([
      '-007',
      '**ab**',
      'ab..',
      '  ab',
    ]);
    expect([m("they're bill's", 'title'), m('hELLO', 'capitalize'), m('aB', 'swapcase')]).toEqual([
      "They'Re Bill'S",
      'Hello',
      'Ab',
    ]);
    expect([
      m('abcabc', 'find', 'c'),
      m('abcabc', 'rfind', 'c'),
      m('abcabc', 'count', 'bc'),
      m('abc', 'startswith', tuple(['x', 'a'])),
    ]).toEqual([2, 5, 2, true]);
    expect(() => m('abc', 'index', 'z')).toThrow(/substring not found/);
    expect(() => m(',', 'join', [1, 2])).toThrow(/sequence item 0: expected str instance, int found/);
  });

  it('implements str.format and % formatting', () => {
    expect(strFormat('{} {1} {name} {0!r} {{x}}', ['a', 'b'], { name: 'n' })).toBe("a b n 'a' {x}");
    expect(
      strFormat('{:>6.2f}|{:<4}|{:^5}|{:,}|{:08.3f}|{:x}|{:.1%}', [3.14159, 'ab', 'c', 1234567, -3.14159, 255, 0.256], {}),
    ).toBe('  3.14|ab  |  c  |1,234,567|-003.142|ff|25.6%');
    expect(strFormat('{0.year}-{1[k]}', [dt(2026, 1, 1), { k: 'v' }], {})).toBe('2026-v');
    expect(percentFormat('%s|%5.1f|%-4d|%03d|%x|%r|%%', tuple(['a', 2.25, 7, 5, 255, 'q']))).toBe("a|  2.2|7   |005|ff|'q'|%");
    expect(percentFormat('%(a)s-%(b)s', { a: 1, b: 2 })).toBe('1-2');
    expect(percentFormat('%s', [1, 2])).toBe('[1, 2]');
    expect(() => percentFormat('%s %s', tuple(['a']))).toThrow(/not enough arguments/);
    expect(() => percentFormat('%s', tuple(['a', 'b']))).toThrow(/not all arguments converted/);
  });

  it('slices with Python semantics', () => {
    expect(pySlice('abcdef', 1, -1, null)).toBe('bcde');
    expect(pySlice('abcdef', null, null, -2)).toBe('fdb');
    expect(pySlice([1, 2, 3], -2, null, null)).toEqual([2, 3]);
    expect(pySlice([1, 2, 3], 10, 20, null)).toEqual([]);
  });
});
