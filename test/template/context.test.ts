import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTemplateContext, pyRepr, pyStr, renderTemplate, utils } from '../../src/template/index.js';
import type { PyDatetime } from '../../src/template/index.js';

const START = new Date('2026-11-22T23:04:05Z');
let savedTz: string | undefined;

beforeEach(() => {
  savedTz = process.env.TZ;
});
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

function input() {
  const globals = {
    g: 'x',
    lava: {
      master_start: START,
      master_ustart: START.toISOString(),
      parent_start: '2026-11-23T10:04:05+11:00',
      parent_ustart: START,
      iteration: 2,
    },
  };
  return {
    job: { job_id: 'j', globals, state: { s: 1 }, ts_start: START, ts_ustart: START, ts_dispatch: '2026-11-23T09:00:00+11:00' },
    realm: { realm: 'prod' },
    globals,
    start: START,
  };
}

describe('buildTemplateContext', () => {
  it('provides the §7.2 variables, with start local and ustart UTC', () => {
    process.env.TZ = 'Australia/Sydney';
    const ctx = buildTemplateContext(input());
    expect(Object.keys(ctx).sort()).toEqual(['globals', 'job', 'realm', 'start', 'state', 'ustart', 'utils']);
    expect(pyStr(ctx.start)).toBe('2026-11-23 10:04:05+11:00');
    expect(pyStr(ctx.ustart)).toBe('2026-11-22 23:04:05+00:00');
    expect(pyRepr(ctx.start)).toBe('datetime.datetime(2026, 11, 23, 10, 4, 5, tzinfo=tzlocal())');
    expect(pyRepr(ctx.ustart)).toBe('datetime.datetime(2026, 11, 22, 23, 4, 5, tzinfo=datetime.timezone.utc)');
    expect(ctx.utils).toBe(utils);
    expect(ctx.state).toEqual({ s: 1 });
  });

  it('respects process.env.TZ for the local zone', () => {
    process.env.TZ = 'America/New_York';
    expect(renderTemplate("{{ start.strftime('%Y-%m-%d %H:%M %Z') }}", buildTemplateContext(input()))).toBe(
      '2026-11-22 18:04 EST',
    );
    process.env.TZ = 'UTC';
    expect(renderTemplate('{{ start.isoformat() }}', buildTemplateContext(input()))).toBe('2026-11-22T23:04:05+00:00');
  });

  it('turns globals.lava timestamps and job.ts_* into datetimes', () => {
    process.env.TZ = 'Australia/Sydney';
    const ctx = buildTemplateContext(input());
    const t = (s: string): string => renderTemplate(s, ctx);
    expect(t('{{ globals.lava.master_start }}|{{ globals.lava.master_ustart }}')).toBe(
      '2026-11-23 10:04:05+11:00|2026-11-22 23:04:05+00:00',
    );
    expect(t("{{ globals.lava.parent_start.strftime('%H:%M%z') }}|{{ globals.lava.parent_ustart.tzname() }}")).toBe(
      '10:04+1100|UTC',
    );
    expect(t('{{ job.ts_start }}|{{ job.ts_ustart }}|{{ job.ts_dispatch }}')).toBe(
      '2026-11-23 10:04:05+11:00|2026-11-22 23:04:05+00:00|2026-11-23 09:00:00+11:00',
    );
    expect(t('{{ job.globals.lava.master_start.year }} {{ globals.lava.iteration }}')).toBe('2026 2');
    expect(ctx.globals).toBe((ctx.job as Record<string, unknown>).globals);
  });

  it('treats a naive ISO timestamp as local time, as upstream parse_dt does', () => {
    process.env.TZ = 'Australia/Sydney';
    const ctx = buildTemplateContext({ job: { ts_dispatch: '2026-11-23T09:00:00' }, realm: {}, start: START });
    expect(renderTemplate('{{ job.ts_dispatch.isoformat() }}', ctx)).toBe('2026-11-23T09:00:00+11:00');
  });

  it('adds vars, result and extras only when given', () => {
    const ctx = buildTemplateContext({
      ...input(),
      vars: { v: 1 },
      result: { exit_status: 0 },
      extra: { schema: 's', relation: 'r' },
    });
    expect(ctx.vars).toEqual({ v: 1 });
    expect(ctx.result).toEqual({ exit_status: 0 });
    expect([ctx.schema, ctx.relation]).toEqual(['s', 'r']);
    expect('vars' in buildTemplateContext(input())).toBe(false);
  });

  it('defaults globals and state to the job spec, and start to now in whole seconds', () => {
    const ctx = buildTemplateContext({ job: { globals: { a: 1 }, state: { b: 2 } }, realm: {} });
    expect(ctx.globals).toEqual({ a: 1 });
    expect(ctx.state).toEqual({ b: 2 });
    const start = ctx.start as PyDatetime;
    expect(start.microsecond).toBe(0);
    expect(Math.abs(Number(start.timestamp()) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('does not mutate its inputs', () => {
    const i = input();
    const before = structuredClone(i);
    buildTemplateContext(i);
    expect(i).toEqual(before);
    expect(i.globals.lava.master_start).toBeInstanceOf(Date);
  });
});
