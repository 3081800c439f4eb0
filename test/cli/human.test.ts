import { describe, expect, it } from 'vitest';
import { humanAge, humanDuration, localTime } from '../../src/cli/human.js';

describe('human-readable times', () => {
  it('ages round down to their largest unit', () => {
    expect([null, 0, 3.9, 59, 60, 125, 3599, 3600, 86399, 90000].map(humanAge)).toEqual([
      '-',
      '0s',
      '3s',
      '59s',
      '1m',
      '2m',
      '59m',
      '1h',
      '23h',
      '1d',
    ]);
  });

  it('durations show tenths under a minute, then minutes and seconds, then hours and minutes', () => {
    expect([null, 0.2, 12, 59.94, 65, 600.4, 3725].map(humanDuration)).toEqual([
      '-',
      '0.2s',
      '12.0s',
      '59.9s',
      '1m05s',
      '10m00s',
      '1h02m',
    ]);
  });

  it('local times are in this machine’s zone, to the second', () => {
    const d = new Date(2026, 10, 23, 8, 5, 9);
    expect(localTime(d.toISOString())).toBe('2026-11-23 08:05:09');
    expect(localTime(null)).toBe('-');
  });
});
