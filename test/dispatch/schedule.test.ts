import { describe, expect, it } from 'vitest';
import { checkSpec } from '../../src/core/validate.js';
import { parseDateTimeIn } from '../../src/core/zones.js';
import { crontabProblem, firesBetween, isActive, nextFires, scheduleEntries } from '../../src/dispatch/schedule.js';

const iso = (d: Date) => d.toISOString();

describe('cron lines', () => {
  it('accepts five fields and @ shortcuts, and explains bad lines', () => {
    expect(crontabProblem('*/5 9-17 * * 1-5')).toBeUndefined();
    expect(crontabProblem('@daily')).toBeUndefined();
    expect(crontabProblem('@reboot')).toBeUndefined();
    expect(crontabProblem('61 * * * *')).toMatch(/minute/);
    expect(crontabProblem('* * * *')).toMatch(/must have 5 fields/);
    expect(crontabProblem('@sometimes')).toMatch(/unknown shortcut @sometimes/);
  });

  it('makes lava check reject a job with a bad schedule, naming the entry', () => {
    const job = { job_id: 'j', type: 'log', worker: 'w', payload: null, schedule: ['0 * * * *', { crontab: '0 25 * * *' }] };
    const r = checkSpec('job', job);
    expect(r.errors.join('\n')).toMatch(/schedule\[1\]: bad cron line "0 25 \* \* \*"/);
    expect(checkSpec('job', { ...job, schedule: { crontab: '0 9 * * *', from: 'next tuesday' } }).errors.join()).toMatch(
      /schedule.from: "next tuesday" is not an ISO-8601/,
    );
    expect(checkSpec('job', { ...job, schedule: '--' }).errors).toEqual([]);
  });

  it('treats null, empty and -- as no schedule', () => {
    expect(scheduleEntries(null)).toEqual([]);
    expect(scheduleEntries('')).toEqual([]);
    expect(scheduleEntries('--')).toEqual([]);
  });
});

describe('time zones and DST', () => {
  it('fires at 09:00 local across the Sydney DST start (offset +10 → +11)', () => {
    // Australia/Sydney DST began 2026-10-04 02:00 local.
    const fires = firesBetween(
      '0 9 * * *',
      new Date('2026-10-02T00:00:00Z'),
      new Date('2026-10-06T00:00:00Z'),
      'Australia/Sydney',
    );
    expect(fires.map((f) => iso(f.time))).toEqual([
      '2026-10-02T23:00:00.000Z', // Sat 3 Oct 09:00 +10:00
      '2026-10-03T22:00:00.000Z', // Sun 4 Oct 09:00 +11:00
      '2026-10-04T22:00:00.000Z',
      '2026-10-05T22:00:00.000Z',
    ]);
  });

  it('runs a job in the skipped hour once, and a job in the repeated hour once (Europe/Berlin)', () => {
    const spring = firesBetween(
      '30 2 * * *',
      new Date('2026-03-28T00:00:00Z'),
      new Date('2026-03-30T00:00:00Z'),
      'Europe/Berlin',
    );
    expect(spring).toHaveLength(2);
    const autumn = firesBetween(
      '30 2 * * *',
      new Date('2026-10-24T12:00:00Z'),
      new Date('2026-10-26T12:00:00Z'),
      'Europe/Berlin',
    );
    expect(autumn).toHaveLength(2);
  });

  it('reads a per-entry tz in preference to the dispatcher zone', () => {
    const fires = nextFires({ crontab: '0 12 * * *', tz: 'America/New_York' }, new Date('2026-07-01T00:00:00Z'), 1, 'UTC');
    expect(iso(fires[0]!.time)).toBe('2026-07-01T16:00:00.000Z');
  });

  it('reads naive from/to in the given zone', () => {
    expect(iso(parseDateTimeIn('2026-01-15T09:00', 'Australia/Sydney')!)).toBe('2026-01-14T22:00:00.000Z');
    expect(iso(parseDateTimeIn('2026-01-15T09:00:00+05:00', 'Australia/Sydney')!)).toBe('2026-01-15T04:00:00.000Z');
  });
});

describe('from/to windows and lists', () => {
  const entry = { crontab: '0 * * * *', from: '2026-05-01T00:00:00Z', to: '2026-05-02T00:00:00Z' };

  it('is active only inside [from, to]', () => {
    expect(isActive(entry, new Date('2026-04-30T23:00:00Z'), 'UTC')).toBe(false);
    expect(isActive(entry, new Date('2026-05-01T12:00:00Z'), 'UTC')).toBe(true);
    expect(isActive(entry, new Date('2026-05-02T00:00:00Z'), 'UTC')).toBe(true);
    expect(isActive(entry, new Date('2026-05-02T01:00:00Z'), 'UTC')).toBe(false);
  });

  it('inverts the window when from > to (an exclusion window)', () => {
    const holiday = { crontab: '0 * * * *', from: '2026-12-31T00:00:00Z', to: '2026-12-20T00:00:00Z' };
    expect(isActive(holiday, new Date('2026-12-10T00:00:00Z'), 'UTC')).toBe(true);
    expect(isActive(holiday, new Date('2026-12-25T00:00:00Z'), 'UTC')).toBe(false);
    expect(isActive(holiday, new Date('2027-01-02T00:00:00Z'), 'UTC')).toBe(true);
  });

  it('fires only while each entry is active, merging a list in time order without duplicates', () => {
    const schedule = [entry, '30 0 1 5 *', { crontab: '0 0 1 5 *' }];
    const fires = firesBetween(schedule, new Date('2026-04-30T22:00:00Z'), new Date('2026-05-01T02:00:00Z'), 'UTC');
    expect(fires.map((f) => iso(f.time))).toEqual([
      '2026-05-01T00:00:00.000Z',
      '2026-05-01T00:30:00.000Z',
      '2026-05-01T01:00:00.000Z',
      '2026-05-01T02:00:00.000Z',
    ]);
  });

  it('lists the next n fire times', () => {
    const fires = nextFires('15 10 * * 1', new Date('2026-11-23T00:00:00Z'), 3, 'UTC');
    expect(fires.map((f) => iso(f.time))).toEqual([
      '2026-11-23T10:15:00.000Z',
      '2026-11-30T10:15:00.000Z',
      '2026-12-07T10:15:00.000Z',
    ]);
  });
});
