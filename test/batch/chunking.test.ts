/**
 * Chunking a business job (src/batch/, docs/batches.md): every period form against expected dates,
 * month ends and leap years, zones and daylight-saving changes, date isolation, attribute isolation
 * and batching in declared order, sosw's job dicts, stable keys, bounded memory over 100k tasks, and
 * the worked example of docs/batches.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { resolvePeriod, splitDates, todayIn, type CalendarOptions, type Period } from '../../src/batch/calendar.js';
import {
  chunkTasks,
  fromSoswJob,
  type BusinessJob,
  type ChunkOptions,
  type Dimension,
  type Task,
} from '../../src/batch/chunking.js';
import { ValidationError } from '../../src/core/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Consecutive ISO dates, both ends included. */
function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

const nextDay = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

const at = (now: string, timeZone = 'UTC', extra: Partial<CalendarOptions> = {}): CalendarOptions => ({
  now: new Date(now),
  timeZone,
  ...extra,
});

/** Tasks without their keys, for comparison with expected lists. */
const bare = (tasks: Iterable<Task>) => [...tasks].map(({ key: _key, ...rest }) => rest);

describe('periods', () => {
  // Thursday 2026-12-03, UTC.
  const THU = '2026-12-03T16:00:00Z';
  const table: Array<[Period, CalendarOptions, string[]]> = [
    ['today', at(THU), ['2026-12-03']],
    ['yesterday', at(THU), ['2026-12-02']],
    ['0_days_back', at(THU), ['2026-12-03']],
    ['3_days_back', at(THU), ['2026-11-30']],
    ['last_3_days', at(THU), ['2026-11-30', '2026-12-01', '2026-12-02']],
    ['last_1_days', at(THU), ['2026-12-02']],
    ['previous_3_days', at(THU), ['2026-11-27', '2026-11-28', '2026-11-29']],
    ['previous_week', at(THU), days('2026-11-23', '2026-11-29')],
    ['last_week', at(THU), days('2026-11-23', '2026-11-29')],
    ['current_week', at(THU), days('2026-11-30', '2026-12-03')],
    ['this_week', at(THU), days('2026-11-30', '2026-12-03')],
    ['previous_month', at(THU), days('2026-11-01', '2026-11-30')],
    ['last_month', at(THU), days('2026-11-01', '2026-11-30')],
    ['current_month', at(THU), days('2026-12-01', '2026-12-03')],
    ['this_month', at(THU), days('2026-12-01', '2026-12-03')],
    [{ from: '2026-02-27', to: '2026-03-02' }, at(THU), ['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']],
    [{ from: '2024-02-28', to: '2024-03-01' }, at(THU), ['2024-02-28', '2024-02-29', '2024-03-01']],
    [{ from: '2026-12-31', to: '2026-12-31' }, at(THU), ['2026-12-31']],
    // Weeks: Monday-based by default; on a Sunday the previous week is the one before this Monday.
    ['previous_week', at('2026-12-06T12:00:00Z'), days('2026-11-23', '2026-11-29')],
    ['current_week', at('2026-12-06T12:00:00Z'), days('2026-11-30', '2026-12-06')],
    ['previous_week', at('2026-12-07T00:00:00Z'), days('2026-11-30', '2026-12-06')],
    ['current_week', at('2026-12-07T00:00:00Z'), ['2026-12-07']],
    // Sunday-based: run on a Sunday, the previous week is the one that ended yesterday (sosw's bug fixed).
    ['last_week', at('2026-12-06T12:00:00Z', 'UTC', { weekStart: 0 }), days('2026-11-29', '2026-12-05')],
    ['current_week', at('2026-12-06T12:00:00Z', 'UTC', { weekStart: 0 }), ['2026-12-06']],
    ['last_week', at('2026-12-05T12:00:00Z', 'UTC', { weekStart: 0 }), days('2026-11-22', '2026-11-28')],
    // Month ends and leap years.
    ['previous_month', at('2026-01-31T12:00:00Z'), days('2025-12-01', '2025-12-31')],
    ['previous_month', at('2026-03-31T12:00:00Z'), days('2026-02-01', '2026-02-28')],
    ['previous_month', at('2024-03-31T12:00:00Z'), days('2024-02-01', '2024-02-29')],
    ['previous_month', at('2000-03-15T12:00:00Z'), days('2000-02-01', '2000-02-29')],
    ['previous_month', at('2100-03-15T12:00:00Z'), days('2100-02-01', '2100-02-28')],
    ['previous_month', at('2026-05-31T12:00:00Z'), days('2026-04-01', '2026-04-30')],
    ['current_month', at('2024-02-29T23:59:59Z'), days('2024-02-01', '2024-02-29')],
    ['current_month', at('2026-03-01T00:30:00Z'), ['2026-03-01']],
    ['last_2_days', at('2024-03-01T08:00:00Z'), ['2024-02-28', '2024-02-29']],
    ['last_2_days', at('2026-01-01T08:00:00Z'), ['2025-12-30', '2025-12-31']],
    // Zones: "today" is the zone's calendar day.
    ['previous_month', at('2026-02-28T23:30:00Z'), days('2026-01-01', '2026-01-31')],
    ['previous_month', at('2026-02-28T23:30:00Z', 'Australia/Sydney'), days('2026-02-01', '2026-02-28')],
    ['today', at('2026-03-01T05:00:00Z', 'America/Los_Angeles'), ['2026-02-28']],
    ['today', at('2026-03-01T05:00:00Z', 'Asia/Kolkata'), ['2026-03-01']],
    // Daylight-saving changes: London (29 Mar / 25 Oct 2026), Sydney (5 Apr / 4 Oct 2026).
    ['last_3_days', at('2026-03-29T23:30:00Z', 'Europe/London'), ['2026-03-27', '2026-03-28', '2026-03-29']],
    ['today', at('2026-03-29T00:30:00Z', 'Europe/London'), ['2026-03-29']],
    ['today', at('2026-10-24T23:30:00Z', 'Europe/London'), ['2026-10-25']],
    ['today', at('2026-10-25T23:30:00Z', 'Europe/London'), ['2026-10-25']],
    ['today', at('2026-10-03T14:30:00Z', 'Australia/Sydney'), ['2026-10-04']],
    ['today', at('2026-10-04T13:30:00Z', 'Australia/Sydney'), ['2026-10-05']],
    ['today', at('2026-04-04T13:30:00Z', 'Australia/Sydney'), ['2026-04-05']],
    ['today', at('2026-04-05T13:30:00Z', 'Australia/Sydney'), ['2026-04-05']],
    ['today', at('2026-04-05T14:30:00Z', 'Australia/Sydney'), ['2026-04-06']],
    ['last_7_days', at('2026-10-05T13:30:00Z', 'Australia/Sydney'), days('2026-09-29', '2026-10-05')],
  ];
  it.each(table)('%j at %o', (period, options, expected) => {
    expect(resolvePeriod(period, options)).toEqual(expected);
  });

  it.each([
    ['Europe/London', '2026-03-29T01:00:00Z'],
    ['Europe/London', '2026-10-25T01:00:00Z'],
    ['Australia/Sydney', '2026-04-04T16:00:00Z'],
    ['Australia/Sydney', '2026-10-03T16:00:00Z'],
    ['America/New_York', '2026-03-08T07:00:00Z'],
  ])('around the change in %s, today never repeats or skips and only the change day is not 24 hours', (tz, change) => {
    const t0 = Date.parse(change) - 4 * 86_400_000;
    const halfHours = new Map<string, number>();
    let prev: string | undefined;
    for (let t = t0; t < t0 + 8 * 86_400_000; t += 1_800_000) {
      const [today] = resolvePeriod('today', { now: new Date(t), timeZone: tz });
      const window = resolvePeriod('last_7_days', { now: new Date(t), timeZone: tz });
      expect(new Set(window).size).toBe(7);
      expect(window[6]).toBe(resolvePeriod('yesterday', { now: new Date(t), timeZone: tz })[0]);
      if (prev !== undefined && today !== prev) expect(today).toBe(nextDay(prev));
      prev = today;
      halfHours.set(today!, (halfHours.get(today!) ?? 0) + 1);
    }
    const whole = [...halfHours.values()].slice(1, -1);
    expect(whole.filter((n) => n !== 48)).toHaveLength(1);
    expect([46, 50]).toContain(whole.find((n) => n !== 48));
  });

  it('custom patterns: whole-string match, tried after the built-ins, dates checked, sorted and de-duplicated', () => {
    const weekdays = (ctx: { match: RegExpExecArray; today: string }) => {
      const n = Number(ctx.match[1]);
      return days('2026-01-01', ctx.today)
        .filter((d) => ![0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay()))
        .slice(-n - 1, -1)
        .reverse();
    };
    const options = at('2026-12-07T09:00:00Z', 'UTC', {
      customPeriods: new Map([
        [/last_(\d+)_weekdays/, weekdays],
        [/twice/, () => ['2026-01-02', '2026-01-01', '2026-01-02']],
        [/bad/, () => ['2026-02-30']],
        [/today/, () => ['1999-01-01']],
      ]),
    });
    expect(resolvePeriod('last_3_weekdays', options)).toEqual(['2026-12-02', '2026-12-03', '2026-12-04']);
    expect(resolvePeriod('twice', options)).toEqual(['2026-01-01', '2026-01-02']);
    expect(resolvePeriod('today', options)).toEqual(['2026-12-07']);
    expect(() => resolvePeriod('bad', options)).toThrow(/"2026-02-30", not a YYYY-MM-DD date/);
    expect(() => resolvePeriod('x_last_3_weekdays', options)).toThrow(/unknown period/);
    // Arrays of pairs work as well as a Map.
    expect(resolvePeriod('q', at('2026-12-07T09:00:00Z', 'UTC', { customPeriods: [[/q/, (c) => [c.today]]] }))).toEqual([
      '2026-12-07',
    ]);
  });

  it.each<[Period, Partial<CalendarOptions>, RegExp]>([
    ['last_3_days_extra', {}, /unknown period "last_3_days_extra"/],
    ['Today', {}, /unknown period/],
    ['last_0_days', {}, /needs a number from 1/],
    ['previous_0_days', {}, /needs a number from 1/],
    ['last_100001_days', {}, /needs a number from 1 to 100000/],
    [{ from: '2026-03-02', to: '2026-03-01' }, {}, /after to/],
    [{ from: '2026-02-30', to: '2026-03-01' }, {}, /two YYYY-MM-DD dates/],
    [{ from: '2026-2-3', to: '2026-03-01' }, {}, /two YYYY-MM-DD dates/],
    [{ from: '1000-01-01', to: '2026-03-01' }, {}, /longer than the limit/],
    ['today', { timeZone: 'Mars/Olympus' }, /unknown time zone "Mars\/Olympus"/],
    ['today', { weekStart: 7 }, /weekStart must be a whole number/],
    ['today', { now: new Date('nope') }, /`now` is not a valid date/],
  ])('rejects %j', (period, extra, message) => {
    const options = { ...at('2026-12-03T16:00:00Z'), ...extra };
    expect(() => resolvePeriod(period, options)).toThrow(ValidationError);
    expect(() => resolvePeriod(period, options)).toThrow(message);
  });

  it('the process zone when none is given', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      expect(resolvePeriod('today', { now: new Date('2026-12-03T12:00:00Z') })).toEqual(['2026-12-04']);
      expect(todayIn(new Date('2026-12-03T05:00:00Z'), 'Pacific/Pago_Pago')).toBe(
        todayIn(new Date('2026-12-02T12:00:00Z'), 'UTC'),
      );
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe('date isolation', () => {
  const span = days('2026-11-26', '2026-12-09'); // Thursday to Wednesday, two week boundaries
  it.each<[string, Parameters<typeof splitDates>[1], number, string[][]]>([
    ['none', 'none', 1, [span]],
    ['days', 'days', 1, span.map((d) => [d])],
    [
      'Monday weeks',
      'weeks',
      1,
      [days('2026-11-26', '2026-11-29'), days('2026-11-30', '2026-12-06'), days('2026-12-07', '2026-12-09')],
    ],
    [
      'Sunday weeks',
      'weeks',
      0,
      [days('2026-11-26', '2026-11-28'), days('2026-11-29', '2026-12-05'), days('2026-12-06', '2026-12-09')],
    ],
    ['months', 'months', 1, [days('2026-11-26', '2026-11-30'), days('2026-12-01', '2026-12-09')]],
  ])('%s', (_name, split, weekStart, expected) => {
    expect(splitDates(span, split, weekStart)).toEqual(expected);
  });

  const opts: ChunkOptions = at('2026-03-03T10:00:00Z');
  it.each<[string, BusinessJob, Array<[string, string, number]>]>([
    ['one task holding every date', { period: 'last_3_days' }, [['2026-02-28', '2026-03-02', 3]]],
    [
      'isolate_days',
      { period: 'last_3_days', isolate_days: true },
      [
        ['2026-02-28', '2026-02-28', 1],
        ['2026-03-01', '2026-03-01', 1],
        ['2026-03-02', '2026-03-02', 1],
      ],
    ],
    [
      'isolate_weeks',
      { period: { from: '2026-02-25', to: '2026-03-10' }, isolate_weeks: true },
      [
        ['2026-02-25', '2026-03-01', 5],
        ['2026-03-02', '2026-03-08', 7],
        ['2026-03-09', '2026-03-10', 2],
      ],
    ],
    [
      'isolate_months across a leap February',
      { period: { from: '2024-01-30', to: '2024-03-02' }, isolate_months: true },
      [
        ['2024-01-30', '2024-01-31', 2],
        ['2024-02-01', '2024-02-29', 29],
        ['2024-03-01', '2024-03-02', 2],
      ],
    ],
    ['isolate_months of previous_month', { period: 'previous_month', isolate_months: true }, [['2026-02-01', '2026-02-28', 28]]],
  ])('%s, without any attribute chunking', (_name, job, expected) => {
    const tasks = [...chunkTasks(job, opts)];
    expect(tasks.map((t) => [t.date_from, t.date_to, t.date_list!.length])).toEqual(expected);
    for (const t of tasks) {
      expect(t.date_list).toEqual(days(t.date_from!, t.date_to!));
      expect(t.attrs).toEqual({});
    }
  });

  it('rejects two isolations at once', () => {
    expect(() => [...chunkTasks({ period: 'today', isolate_days: true, isolate_months: true }, opts)]).toThrow(
      /at most one of isolate_days, isolate_weeks, isolate_months/,
    );
  });
});

describe('attribute chunking', () => {
  const store: Dimension = { name: 'store', plural: 'stores' };
  const SECTIONS: Dimension[] = [{ name: 'section', plural: 'sections' }, store, { name: 'product', plural: 'products' }];
  const opts: ChunkOptions = { ...at('2026-12-03T16:00:00Z'), dimensions: SECTIONS };
  const tree = {
    A: { values: { s1: null, s2: { values: ['p1', 'p2', 'p3'] } } },
    B: { values: ['s3', 's4'] },
    C: null,
  } as const;
  type Row = Record<string, unknown>;

  it.each<[string, BusinessJob, Row[]]>([
    [
      'no schema, no period: one task (sosw raised IndexError)',
      { attrs: [], payload: { x: 1 } },
      [{ attrs: {}, payload: { x: 1 } }],
    ],
    [
      'a flat list, nothing asked: one task',
      { attrs: [store], values: ['a', 'b', 'c'] },
      [{ attrs: { stores: ['a', 'b', 'c'] }, payload: {} }],
    ],
    [
      'isolated',
      { attrs: [store], values: ['a', 'b', 'c'], isolate: { stores: true } },
      [{ attrs: { stores: ['a'] } }, { attrs: { stores: ['b'] } }, { attrs: { stores: ['c'] } }].map((r) => ({
        ...r,
        payload: {},
      })),
    ],
    [
      'batched by two',
      { attrs: [store], values: ['a', 'b', 'c', 'd', 'e'], max_per_batch: { stores: 2 } },
      [['a', 'b'], ['c', 'd'], ['e']].map((s) => ({ attrs: { stores: s }, payload: {} })),
    ],
    [
      'isolated and batched: the batch size wins',
      { attrs: [store], values: ['a', 'b', 'c'], isolate: { stores: true }, max_per_batch: { stores: 2 } },
      [['a', 'b'], ['c']].map((s) => ({ attrs: { stores: s }, payload: {} })),
    ],
    [
      'a map of nulls is a flat list of its keys',
      { attrs: [store], values: { a: null, b: {}, c: null }, max_per_batch: { stores: 2 } },
      [['a', 'b'], ['c']].map((s) => ({ attrs: { stores: s }, payload: {} })),
    ],
    [
      'nested, isolate stores at the root: every level above splits, products stay together',
      { values: tree, isolate: { stores: true } },
      [
        { attrs: { sections: ['A'], stores: ['s1'] }, payload: {} },
        { attrs: { sections: ['A'], stores: ['s2'], products: ['p1', 'p2', 'p3'] }, payload: {} },
        { attrs: { sections: ['B'], stores: ['s3'] }, payload: {} },
        { attrs: { sections: ['B'], stores: ['s4'] }, payload: {} },
        { attrs: { sections: ['C'] }, payload: {} },
      ],
    ],
    [
      'nested, isolate stores inside A only: B stays one task',
      { values: { ...tree, A: { ...tree.A, isolate: { stores: true } } } },
      [
        { attrs: { sections: ['A'], stores: ['s1'] }, payload: {} },
        { attrs: { sections: ['A'], stores: ['s2'], products: ['p1', 'p2', 'p3'] }, payload: {} },
        { attrs: { sections: ['B'], stores: ['s3', 's4'] }, payload: {} },
        { attrs: { sections: ['C'] }, payload: {} },
      ],
    ],
    [
      'nested, root isolation switched off in B',
      { values: { ...tree, B: { ...tree.B, isolate: { stores: false } } }, isolate: { stores: true } },
      [
        { attrs: { sections: ['A'], stores: ['s1'] }, payload: {} },
        { attrs: { sections: ['A'], stores: ['s2'], products: ['p1', 'p2', 'p3'] }, payload: {} },
        { attrs: { sections: ['B'], stores: ['s3', 's4'] }, payload: {} },
        { attrs: { sections: ['C'] }, payload: {} },
      ],
    ],
    [
      'nested, products batched by two at the root',
      { values: tree, max_per_batch: { products: 2 } },
      [
        { attrs: { sections: ['A'], stores: ['s1'] }, payload: {} },
        { attrs: { sections: ['A'], stores: ['s2'], products: ['p1', 'p2'] }, payload: {} },
        { attrs: { sections: ['A'], stores: ['s2'], products: ['p3'] }, payload: {} },
        { attrs: { sections: ['B'], stores: ['s3', 's4'] }, payload: {} },
        { attrs: { sections: ['C'] }, payload: {} },
      ],
    ],
    [
      'nested, nothing asked: one task with the tree handed over whole, flags left out',
      { values: { ...tree, B: { values: ['s3', 's4'], isolate: { stores: false }, payload: { owner: 'b' } } } },
      [
        {
          attrs: {
            sections: {
              A: { stores: { s1: null, s2: { products: ['p1', 'p2', 'p3'] } } },
              B: { owner: 'b', stores: ['s3', 's4'] },
              C: null,
            },
          },
          payload: {},
        },
      ],
    ],
    [
      'a flat list above the last level is legal (sosw raised AttributeError)',
      { values: ['A', 'B'], isolate: { stores: true } },
      [{ attrs: { sections: ['A', 'B'] }, payload: {} }],
    ],
    [
      'payloads merge down the path, deeper wins',
      {
        values: { A: { values: ['s1', 's2'], payload: { owner: 'a', depth: 1 } }, B: null },
        isolate: { sections: true },
        payload: { owner: 'root', report: 'sales' },
      },
      [
        { attrs: { sections: ['A'], stores: ['s1', 's2'] }, payload: { owner: 'a', report: 'sales', depth: 1 } },
        { attrs: { sections: ['B'] }, payload: { owner: 'root', report: 'sales' } },
      ],
    ],
  ])('%s', (_name, job, expected) => {
    expect(bare(chunkTasks(job, opts))).toEqual(expected);
  });

  it('dates first, then attributes within each date group', () => {
    const tasks = bare(
      chunkTasks({ period: 'last_2_days', isolate_days: true, values: ['x', 'y'], isolate: { sections: true } }, opts),
    );
    expect(tasks.map((t) => [t.date_list, t.attrs])).toEqual([
      [['2026-12-01'], { sections: ['x'] }],
      [['2026-12-01'], { sections: ['y'] }],
      [['2026-12-02'], { sections: ['x'] }],
      [['2026-12-02'], { sections: ['y'] }],
    ]);
  });

  it.each<[string, BusinessJob, RegExp]>([
    [
      'an unknown plural in isolate',
      { values: ['a'], isolate: { shops: true } },
      /isolate\.shops at the job: "shops" is not the plural/,
    ],
    ['a singular name in max_per_batch', { values: ['a'], max_per_batch: { store: 2 } }, /"store" is not the plural/],
    ['a batch size of 0', { values: ['a'], max_per_batch: { stores: 0 } }, /must be a whole number ≥ 1/],
    ['a value listed twice', { values: { A: { values: ['s1', 's1'] } } }, /stores at the job\.sections\.A lists "s1" twice/],
    [
      'values below the last level',
      { values: { A: { values: { s: { values: { p: { values: ['x'] } } } } } } },
      /no chunkable attribute is declared at depth 4/,
    ],
    ['a value that is an object', { values: [{}] as unknown as string[] }, /not a string, number or boolean/],
    ['a plural equal to its name', { attrs: [{ name: 'sheep', plural: 'sheep' }] }, /a different plural/],
  ])('rejects %s, before any task', (_name, job, message) => {
    const gen = chunkTasks(job, opts);
    expect(() => gen.next()).toThrow(message);
  });
});

describe('sosw job dicts', () => {
  const dims: Dimension[] = [
    { name: 'topic', plural: 'topics' },
    { name: 'word', plural: 'words' },
  ];
  const WORDS = ['a', 'b', 'c', 'd', 'e', 'f'];

  it("the tutorial's job: 3 topics × 6 words × 2 days gives 36 tasks, each with one of each", () => {
    const dict = {
      lambda_name: 'arn:aws:lambda:us-west-2:000000000000:function:some_function:live',
      job_schema_name: 'default',
      period: 'last_2_days',
      isolate_days: true,
      isolate_words: true,
      topics: { cars: { words: WORDS }, food: { words: WORDS }, sports: { words: WORDS } },
    };
    const { job, labourer } = fromSoswJob({ job: JSON.stringify(dict) }, dims);
    expect(labourer).toBe('some_function');
    const tasks = [...chunkTasks(job, at('2026-12-03T00:00:00Z'))];
    expect(tasks).toHaveLength(36);
    for (const t of tasks) {
      expect(t.date_list).toHaveLength(1);
      expect(t.attrs.topics).toHaveLength(1);
      expect(t.attrs.words).toHaveLength(1);
      expect(t.payload).toEqual({}); // no job_schema_name, no isolation flags, no lambda_name
    }
    expect(tasks[0]).toMatchObject({ date_list: ['2026-12-01'], attrs: { topics: ['cars'], words: ['a'] } });
    expect(tasks[35]).toMatchObject({ date_list: ['2026-12-02'], attrs: { topics: ['sports'], words: ['f'] } });
    expect(new Set(tasks.map((t) => t.key)).size).toBe(36);
  });

  it('words batched by two, and a sibling topic with no words is its own task', () => {
    const { job } = fromSoswJob(
      { topics: { t1: { words: ['a', 'b', 'c', 'd', 'e'] }, t2: null }, max_words_per_batch: 2, customer: 7 },
      dims,
    );
    expect(bare(chunkTasks(job, at('2026-12-03T00:00:00Z')))).toEqual([
      { attrs: { topics: ['t1'], words: ['a', 'b'] }, payload: { customer: 7 } },
      { attrs: { topics: ['t1'], words: ['c', 'd'] }, payload: { customer: 7 } },
      { attrs: { topics: ['t1'], words: ['e'] }, payload: { customer: 7 } },
      { attrs: { topics: ['t2'] }, payload: { customer: 7 } },
    ]);
  });

  it('calendar chunking without attribute isolation still expands the period (sosw sent the raw period)', () => {
    const { job } = fromSoswJob({ period: 'last_2_days', isolate_days: true, topics: ['x', 'y'] }, dims);
    expect(bare(chunkTasks(job, at('2026-12-03T00:00:00Z')))).toEqual([
      { date_list: ['2026-12-01'], date_from: '2026-12-01', date_to: '2026-12-01', attrs: { topics: ['x', 'y'] }, payload: {} },
      { date_list: ['2026-12-02'], date_from: '2026-12-02', date_to: '2026-12-02', attrs: { topics: ['x', 'y'] }, payload: {} },
    ]);
  });

  it('singular or plural keys and flags, branch flags and branch payload', () => {
    const { job, labourer } = fromSoswJob(
      JSON.stringify({ lambda_name: 'fn', topic: { t1: { word: ['a', 'b'], isolate_word: true, lang: 'en' } } }),
      dims,
    );
    expect(labourer).toBe('fn');
    expect(job.values).toEqual({ t1: { values: ['a', 'b'], isolate: { words: true }, payload: { lang: 'en' } } });
    expect(bare(chunkTasks(job, at('2026-12-03T00:00:00Z'))).map((t) => [t.attrs, t.payload])).toEqual([
      [{ topics: ['t1'], words: ['a'] }, { lang: 'en' }],
      [{ topics: ['t1'], words: ['b'] }, { lang: 'en' }],
    ]);
    expect(() => fromSoswJob({ topic: ['a'], topics: ['b'] }, dims)).toThrow(/both topic and topics/);
    expect(() => fromSoswJob('{nope', dims)).toThrow(/not JSON/);
  });
});

describe('keys and volume', () => {
  const stores: Dimension[] = [{ name: 'store', plural: 'stores' }];
  const job = (n: number, extra: Partial<BusinessJob> = {}): BusinessJob => ({
    attrs: stores,
    period: { from: '2026-01-01', to: '2026-04-10' },
    isolate_days: true,
    values: Array.from({ length: n }, (_, i) => `store-${i}`),
    isolate: { stores: true },
    payload: { report: 'sales' },
    ...extra,
  });
  const opts = at('2026-12-03T00:00:00Z');

  it('keys are stable across runs and over payload and key order, unique within a job, and change with the chunk', () => {
    const first = [...chunkTasks(job(50), opts)].map((t) => t.key);
    const second = [...chunkTasks(job(50, { payload: { report: 'other' } }), opts)].map((t) => t.key);
    expect(first).toHaveLength(5000);
    expect(second).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
    expect(first[0]).toMatch(/^[0-9a-f]{32}$/);
    const moved = [...chunkTasks(job(50, { period: { from: '2026-01-02', to: '2026-04-11' } }), opts)].map((t) => t.key);
    expect(moved.slice(0, 4950)).toEqual(first.slice(50));
    expect(moved.slice(4950)).not.toContain(first[0]);
    // A tree handed over whole hashes the same whatever its key order.
    const a = [...chunkTasks({ attrs: stores, values: { x: { payload: { p: 1, q: 2 } }, y: null } }, opts)];
    const b = [...chunkTasks({ attrs: stores, values: { x: { payload: { q: 2, p: 1 } }, y: null } }, opts)];
    expect(a[0]!.key).toBe(b[0]!.key);
  });

  it('a 100,000-task job is produced in bounded memory', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let n = 0;
    let last = '';
    for (const t of chunkTasks(job(1000), opts)) {
      n++;
      last = t.key;
      if (n % 10_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    expect(n).toBe(100_000);
    expect(last).toMatch(/^[0-9a-f]{32}$/);
    expect(peak).toBeLessThan(50 * 1024 * 1024);
    // The same tasks held in an array would take far more than what iterating retains.
    const held = [...chunkTasks(job(1000), opts)];
    gc();
    const heldBytes = process.memoryUsage().heapUsed - base;
    expect(held).toHaveLength(100_000);
    expect(heldBytes).toBeGreaterThan(peak * 4);
  });
});

describe('docs/batches.md', () => {
  it('the worked example gives the tasks the page shows', () => {
    const page = fs.readFileSync(path.join(ROOT, 'docs/batches.md'), 'utf8');
    const section = page.slice(page.indexOf('### Worked example'));
    const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as unknown);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const { job, options } = blocks[0] as { job: BusinessJob; options: { now: string; timeZone: string } };
    const expected = blocks[1] as Array<Omit<Task, 'key'>>;
    const tasks = [...chunkTasks(job, { now: new Date(options.now), timeZone: options.timeZone })];
    expect(bare(tasks)).toEqual(expected);
  });
});
