/**
 * Golden corpus: templates in the style of (mostly taken from) the upstream Lava user guide, with
 * the output Python Lava (Jinja2 over Python objects) produces for the same context.
 *
 * Fixed clock: the job started at 2026-11-22T23:04:05Z, which is Monday 2026-11-23 10:04:05 AEDT
 * (+11:00) in the worker's zone, Australia/Sydney.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTemplateContext, renderTemplate } from '../../src/template/index.js';

const START = new Date('2026-11-22T23:04:05Z');
let savedTz: string | undefined;

beforeAll(() => {
  savedTz = process.env.TZ;
  process.env.TZ = 'Australia/Sydney';
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

function jobContext(globalsOverride?: Record<string, unknown>): Record<string, unknown> {
  const globals = globalsOverride ?? {
    a: 'Level',
    a_global: 'alpha',
    s3obj: { Bucket: 'b1', Key: 'k/1.csv' },
    lava: {
      master_job_id: 'demo/master',
      master_start: START,
      master_ustart: START,
      parent_start: START,
      parent_ustart: START,
      iteration: 1,
    },
  };
  const state = { sid: '2026-11-22T18:00:00Z', my_state_id: 42, flag: true };
  return buildTemplateContext({
    job: {
      job_id: 'demo/daily-load',
      run_id: 'a1b2c3',
      type: 'cmd',
      parameters: { file: 'incoming/2026/data.csv' },
      globals,
      state,
      ts_dispatch: new Date('2026-11-22T23:00:00Z'),
    },
    realm: { realm: 'prod', s3_temp: 's3://lava-prod-temp/lava/tmp', s3_payloads: 's3://lava-prod-payloads/payloads' },
    globals,
    state,
    start: START,
    vars: { level: 'INFO', wait_mins: 5, cmd: 'echo hi', list: ['a', 'b', 'c'], empty_list: [] },
    result: { error: 'Failed with exit status 1', exit_status: 1 },
    extra: {
      schema: 'public',
      relation: 'sales',
      key: 'drop/2026/11/23/file_20261123.csv',
      bucket_arn: 'arn:aws:s3:ap-southeast-2:123456789012:accesspoint',
    },
  });
}

/** An optional third element is either a whole context (non-job renders) or `{ globals }` for the job context. */
type Case = [template: string, expected: string, context?: Record<string, unknown>];

const CASES: Case[] = [
  // Dates (user guide: "Working with DateTime Attributes", job type examples)
  ["{{start.strftime('%Y-%m-%d')}}", '2026-11-23'],
  ["{{ustart.strftime('%Y-%m-%d')}}", '2026-11-22'],
  ['{{ ustart.isoformat() }}', '2026-11-22T23:04:05+00:00'],
  ['{{ start.isoformat() }}', '2026-11-23T10:04:05+11:00'],
  ['{{ start }}', '2026-11-23 10:04:05+11:00'],
  ["s3://bucket/{{ job.job_id }}/{{ ustart.strftime('%Y/%m/%d') }}/data.csv", 's3://bucket/demo/daily-load/2026/11/22/data.csv'],
  ["{{ globals.lava.master_start.strftime('%Y%m%d') }}", '20261123'],
  ["{{ globals.lava.master_ustart.strftime('%Y-%m-%d') }}", '2026-11-22'],
  ["unload_demo/{{schema}}/{{relation}}/{{start.strftime('%Y/%m/%d')}}/", 'unload_demo/public/sales/2026/11/23/'],
  ["{{ start.strftime('%H:%M %Z') }} / {{ ustart.strftime('%H:%M %Z') }}", '10:04 AEDT / 23:04 UTC'],
  ["{{ start.weekday() }} {{ start.isoweekday() }} {{ start.strftime('%a %A %b %B %j') }}", '0 1 Mon Monday Nov November 327'],
  ["{{ (ustart - utils.timedelta(hours=4)).strftime('%H') }}", '19'],
  ['{{ ustart + utils.timedelta(days=1) }}', '2026-11-23 23:04:05+00:00'],
  ['{{ start.replace(day=1) }}', '2026-11-01 10:04:05+11:00'],
  ['{{ (start - utils.timedelta(days=1)).date() }}', '2026-11-22'],
  ['{{ (start.fromtimestamp(start.timestamp()-86400)).date() }}', '2026-11-22'],
  ["{{ start.replace(day=1).strftime('%Y-%m-%d') }}", '2026-11-01'],
  ["{{ (start.replace(day=1) - utils.timedelta(days=1)).strftime('%Y-%m') }}", '2026-10'],
  ["{{ (ustart + utils.dateutil.relativedelta(months=-1)).strftime('%Y%m') }}", '202610'],
  ['{{ ustart + utils.dateutil.relativedelta.relativedelta(months=6) }}', '2027-05-22 23:04:05+00:00'],
  [
    '{% set relativedelta = utils.dateutil.relativedelta.relativedelta %}{{ ustart + relativedelta(months=6) }}',
    '2027-05-22 23:04:05+00:00',
  ],
  ["{{ start.astimezone(utils.dateutil.tz.gettz('America/New_York')).strftime('%Y-%m-%d %H:%M %Z') }}", '2026-11-22 18:04 EST'],
  ['{{ job.ts_dispatch.isoformat() }}', '2026-11-23T10:00:00+11:00'],
  ['{{ (start - job.ts_dispatch).total_seconds() }}', '245.0'],
  ['{{ start.timestamp() | int }}', '1795388645'],
  ['{{ utils.date(year=1970, month=1, day=1) }}', '1970-01-01'],
  ["{{ utils.date(year=ustart.year + 1, month=4, day=25).strftime('%A') }}", 'Sunday'],
  ['{{ utils.datetime(year=ustart.year + 1, month=1, day=1) }}', '2027-01-01 00:00:00'],
  ["{{ utils.datetime(year=ustart.year + 1, month=1, day=1).strftime('%A') }}", 'Friday'],
  ["{{ utils.parsedate.isoparse('2020-02-11T09:30:00+11:00') }}", '2020-02-11 09:30:00+11:00'],
  ["{% set ts=utils.parsedate.parse(state['sid']) %}{{ ustart-ts > utils.timedelta(hours=4) }}", 'True'],
  ["Time since last run: {% set ts=utils.parsedate.parse(state['sid']) %}{{ ustart-ts }}", 'Time since last run: 5:04:05'],
  ["{{ utils.datetime.strptime(utils.re.search('(\\d{8})', key).group(1), '%Y%m%d').strftime('%d/%m/%Y') }}", '23/11/2026'],
  ["{{ '{:%Y-%m-%d}'.format(start) }}", '2026-11-23'],

  // Structured attributes, globals and state
  ['{{realm.realm}} {{ realm["realm"] }}', 'prod prod'],
  ['{{ realm.s3_temp }}/{{ job.job_id }}/output.csv', 's3://lava-prod-temp/lava/tmp/demo/daily-load/output.csv'],
  [
    "{{ state.my_state_id }} {{ state['my_state_id'] }} {{ job.state.my_state_id }} {{ job.state['my_state_id'] }}",
    '42 42 42 42',
  ],
  ['s3://{{ globals.s3obj.Bucket }}/{{ globals.s3obj.Key }}', 's3://b1/k/1.csv'],
  ['Failed on attempt {{ globals.lava.iteration }} but will try again!', 'Failed on attempt 1 but will try again!'],
  ['{{ job.globals.a_global }}', 'alpha'],
  ['{% set word = globals.a | lower %}{{ word == word | reverse }}', 'True'],
  ["{% set val = state['sid'].x | int %}{{ val % 2 == 1 }}", 'False'],
  ["{{ 'true' if state.flag else 'false' }}", 'true'],
  ['{{ state }}', "{'sid': '2026-11-22T18:00:00Z', 'my_state_id': 42, 'flag': True}"],
  [
    '{{ globals }}',
    "{'g1': 'one', 'lava': {'master_start': datetime.datetime(2026, 11, 23, 10, 4, 5, tzinfo=tzlocal()), " +
      "'master_ustart': datetime.datetime(2026, 11, 22, 23, 4, 5, tzinfo=tzutc())}}",
    { globals: { g1: 'one', lava: { master_start: START, master_ustart: START } } },
  ],

  // Job parameters and vars
  ['demo/my-exe -y --log-level {{vars.level}}', 'demo/my-exe -y --log-level INFO'],
  ['{{(vars.wait_mins+15)*60}}', '1200'],
  ["{{ vars.x | default('none') }}", 'none'],
  ["{{ vars.cmd | replace(' ', '_') }}", 'echo_hi'],
  ["{{ job.parameters.file.split('/')[-1] }}", 'data.csv'],
  ["{{ bucket_arn.split(':')[4] }}", '123456789012'],
  ['{% for x in vars.list %}{{ loop.index }}:{{ x }}{% if not loop.last %},{% endif %}{% endfor %}', '1:a,2:b,3:c'],
  ["{{ vars.list | join(',') }} {{ ','.join(vars.list) }}", 'a,b,c a,b,c'],
  ['{% if vars.list %}has items{% endif %}{% if vars.empty_list %}never{% endif %}', 'has items'],
  ['{{ job.job_id | upper }}', 'DEMO/DAILY-LOAD'],
  ["{{ job.job_id.split('/')[0] }}", 'demo'],
  ["{{ '%s-%s' % (job.job_id, realm.realm) }} {{ '{}/{}'.format(realm.realm, job.run_id) }}", 'demo/daily-load-prod prod/a1b2c3'],

  // Actions (result is available)
  [
    'Job {{job.job_id}}@{{realm.realm}} ({{job.run_id}}) failed: {{result.error}}',
    'Job demo/daily-load@prod (a1b2c3) failed: Failed with exit status 1',
  ],
  ['{{result | tojson}}', '{"error": "Failed with exit status 1", "exit_status": 1}'],

  // utils helpers (user guide: "Jinja Utility Functions")
  ['{{ utils.path.basename(key) }}', 'file_20261123.csv'],
  ["{{ utils.path.basename('s3://bucket.xyzzy.com/an/s3/key') }}", 'key'],
  ['{{ utils.path.basename(realm.s3_temp) }}', 'tmp'],
  ['{{ utils.path.splitext(utils.path.basename(key))[0] }}', 'file_20261123'],
  ["{{ utils.re.search('(\\d+)', key).group(1) }}", '2026'],
  ["{{ utils.re.search('s3://([^.]*)', 's3://bucket.xyzzy.com/an/s3/key').group(1) }}", 'bucket'],
  ["{{ utils.re.sub('[^A-Za-z0-9]', '_', job.job_id) }}", 'demo_daily_load'],
  ["{{ utils.s3bucket('s3://b/k/x') }}", 'b'],
  [
    "{{ utils.s3bucket('s3://bucket.xyzzy.com/an/s3/key') }} {{ utils.s3key('s3://bucket.xyzzy.com/an/s3/key') }}",
    'bucket.xyzzy.com an/s3/key',
  ],
  ['{{ utils.s3bucket(realm.s3_temp) }} {{ utils.s3key(realm.s3_temp) }}', 'lava-prod-temp lava/tmp'],
  ["{{ utils.re.fullmatch('[0-9a-f-]{36}', utils.uuid() | string) is not none }}", 'True'],
  ["{{ key.startswith('drop/') }}", 'True'],

  // Other rendering contexts (spec §7.2)
  ['lv-{{realm}}-{{job_id}}', 'lv-prod-j1', { realm: 'prod', job_id: 'j1', conn_id: 'c1' }],
  ['{{bucket}}/{{key}}', 'in-bucket/drop/x.csv', { bucket: 'in-bucket', key: 'drop/x.csv' }],
  [
    "SELECT *\nFROM {{ schema }}.{{ relation }}\nWHERE load_date = '{{ start.strftime('%Y-%m-%d') }}';\n",
    "SELECT *\nFROM public.sales\nWHERE load_date = '2026-11-23';",
  ],
  ['{{ [1, "a", none, true] }} {{ {"k": "v"} }}', "[1, 'a', None, True] {'k': 'v'}"],
];

describe('template corpus (upstream-style templates with Python Lava output)', () => {
  it('has at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES.map((c, i) => [i, ...c] as const))('#%i %s', (_i, template, expected, overrides) => {
    const context =
      overrides === undefined
        ? jobContext()
        : 'globals' in overrides
          ? jobContext(overrides.globals as Record<string, unknown>)
          : overrides;
    expect(renderTemplate(template, context)).toBe(expected);
  });
});
