import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/core/errors.js';
import { PyDatetime, TZ_UTC, renderStructure, renderTemplate, utils } from '../../src/template/index.js';

const r = (source: string, context: Record<string, unknown> = {}): string => renderTemplate(source, context);

describe('Jinja2 default semantics', () => {
  it('renders undefined names and attributes (even of undefined) as empty strings', () => {
    expect(r('[{{ missing }}]')).toBe('[]');
    expect(r('[{{ missing.attr.deeper }}]')).toBe('[]');
    expect(r("[{{ job.nope }}{{ job['nope'] }}]", { job: {} })).toBe('[]');
    expect(r('[{{ none_var }}]', { none_var: null })).toBe('[None]');
  });

  it('strips exactly one trailing newline and normalises CRLF', () => {
    expect(r('a\n')).toBe('a');
    expect(r('a\n\n')).toBe('a\n');
    expect(r('{{ x }}\n', { x: 1 })).toBe('1');
    expect(r('x\r\ny\r\n')).toBe('x\ny');
  });

  it('does not autoescape by default; autoescape is opt-in and |safe bypasses it', () => {
    expect(r('{{ v }}', { v: '<b>&</b>' })).toBe('<b>&</b>');
    expect(renderTemplate('{{ v }}|{{ v | safe }}', { v: '<b>' }, { autoescape: true })).toBe('&lt;b&gt;|<b>');
  });

  it('supports set, if/elif/else, for with loop variables, comments and whitespace control', () => {
    expect(r('{% set x = 2 %}{% if x > 3 %}big{% elif x > 1 %}mid{% else %}small{% endif %}')).toBe('mid');
    expect(r('{% for x in xs %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}', { xs: ['a', 'b'] })).toBe(
      '1a,2b',
    );
    expect(r('{% for x in [] %}x{% else %}empty{% endfor %}')).toBe('empty');
    expect(r('a {%- if true -%} b {%- endif -%} c {{- " d " -}} e {# note #}f')).toBe('abc d e f');
    expect(r('{% set x %}cap{{ 1 }}{% endset %}{{ x }}')).toBe('cap1');
    expect(r('{% raw %}{{ x }}{% endraw %}')).toBe('{{ x }}');
    expect(r('{% macro m(a, b=2) %}[{{ a }}-{{ b }}]{% endmacro %}{{ m(1) }}{{ m(1, b=3) }}')).toBe('[1-2][1-3]');
  });

  it('supports loop filters, loop.cycle/previtem/nextitem and tuple unpacking in set', () => {
    expect(r('{% for x in [1, 2, 3] if x > 1 %}{{ loop.index }}{{ x }}{% endfor %}')).toBe('1223');
    expect(r('{% for k, v in d.items() if v > 5 %}{{ k }}{% else %}none{% endfor %}', { d: { a: 0, b: 1 } })).toBe('none');
    expect(r("{% for x in [1, 2, 3] %}{{ loop.cycle('a', 'b') }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %}")).toBe(
      'a2;b13;a2;',
    );
    expect(r('{% set a, b = [1, 2] %}{{ a }} {{ b }}')).toBe('1 2');
    expect(() => r('{% set a, b = [1, 2, 3] %}')).toThrow(/too many values to unpack/);
  });

  it('iterates dict keys and dict.items() like Python', () => {
    const d = { k1: 'v1', k2: 'v2' };
    expect(r('{% for k in d %}{{ k }};{% endfor %}', { d })).toBe('k1;k2;');
    expect(r('{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}', { d })).toBe('k1=v1;k2=v2;');
  });

  it('accepts Python spellings of constants', () => {
    expect(r('{{ True }} {{ False }} {{ None }} {{ true }} {{ none }}')).toBe('True False None True None');
  });

  it('keeps backslashes of unknown escapes in string literals, as Python does', () => {
    expect(r("{{ '(\\d+)' }}")).toBe('(\\d+)');
    expect(r("{{ 'a\\nb' }}")).toBe('a\nb');
    expect(r("{{ 'it\\'s' }} {{ '\\u00e9' }}")).toBe("it's é");
  });
});

describe('Python value rendering', () => {
  it('prints values as Python str()', () => {
    expect(r('{{ 3 }} {{ v }} {{ 2.5 }}', { v: true })).toBe('3 True 2.5');
    expect(r('{{ b }}', { b: false })).toBe('False');
    expect(r('{{ d }}', { d: { a: 1, b: true, c: null, e: [1, 'x'] } })).toBe("{'a': 1, 'b': True, 'c': None, 'e': [1, 'x']}");
    expect(r("{{ ['it\\'s', 'q\"'] }}")).toBe(`["it's", 'q"']`);
    expect(r('{{ (1, 2) }} {{ [] }} {{ {} }}')).toBe('(1, 2) [] {}');
  });

  it('prints float literals like Python', () => {
    expect(r('{{ 1.0 }} {{ 1e3 }} {{ 2.0 * 3 }} {{ [1.0] }} {{ 1_000 + 1 }}')).toBe('1.0 1000.0 6.0 [1.0] 1001');
  });

  it('prints floats produced by division and float operations with a .0', () => {
    expect(r('{{ 10 / 5 }} {{ 10 / 4 }} {{ 7 // 2 }} {{ 2 ** 3 }} {{ "3" | float }} {{ 2.5 | round }}')).toBe(
      '2.0 2.5 3 8 3.0 2.0',
    );
  });

  it('prints datetimes in Python str() form', () => {
    const dt = PyDatetime.fromDate(new Date('2026-11-23T10:04:05.250Z'), TZ_UTC);
    expect(r('{{ dt }}', { dt })).toBe('2026-11-23 10:04:05.250000+00:00');
    expect(r('{{ d }}', { d: new Date('2026-11-23T10:04:05Z') })).toMatch(/^2026-11-2\d \d\d:04:05[+-]\d\d:\d\d$/);
  });
});

describe('Python truthiness and operators', () => {
  it('treats empty lists and dicts as false', () => {
    expect(r('{% if l %}y{% else %}n{% endif %}{% if d %}y{% else %}n{% endif %}', { l: [], d: {} })).toBe('nn');
    expect(r("{{ l or 'fallback' }} {{ 'a' and 'b' }} {{ not l }}", { l: [] })).toBe('fallback b True');
  });

  it('uses Python arithmetic for str, list and numbers', () => {
    expect(r("{{ 'ab' * 2 }} {{ [1] + [2] }} {{ -7 % 3 }} {{ 'a' ~ 1 ~ none ~ missing }}")).toBe('abab [1, 2] 2 a1None');
    expect(r("{{ '%s=%d' % ('x', 3) }} {{ '%05.1f' % 3.14159 }} {{ '%(a)s' % {'a': 5} }}")).toBe('x=3 003.1 5');
  });

  it('compares with Python semantics, including chains and containment', () => {
    expect(r("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ '1' == 1 }} {{ [1, [2]] == [1, [2]] }}")).toBe(
      'True False True False True',
    );
    expect(r("{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in ['a'] }} {{ 'x' in missing }}")).toBe(
      'True True True True False',
    );
  });

  it('raises Python TypeErrors for unsupported operand types', () => {
    expect(() => r("{{ 'x' + 1 }}")).toThrow(/unsupported operand type\(s\) for \+: 'str' and 'int'/);
    expect(() => r("{{ 'a' < 1 }}")).toThrow(/'<' not supported between instances of 'str' and 'int'/);
  });
});

describe('Python methods on str / list / dict', () => {
  it('supports common string methods, indexing and slicing', () => {
    expect(r("{{ 'a,b'.split(',') }} {{ ' a  b '.split() }} {{ 'AbC'.lower() }} {{ 'x'.upper() }} {{ ' s '.strip() }}")).toBe(
      "['a', 'b'] ['a', 'b'] abc X s",
    );
    expect(
      r("{{ 'aXa'.replace('a', 'b') }} {{ 'abc'.startswith('a') }} {{ 'abc'.endswith('bc') }} {{ '-'.join(['a', 'b']) }}"),
    ).toBe('bXb True True a-b');
    expect(r("{{ '{} is {}'.format('x', 1) }} {{ '7'.zfill(3) }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}")).toBe(
      'x is 1 007 Hello World Hello',
    );
    expect(r('{{ s[-1] }} {{ s[1:3] }} {{ s[::-1] }} {{ s[:2] }} {{ s[10] }}|', { s: 'abcdef' })).toBe('f bc fedcba ab |');
  });

  it('supports dict methods', () => {
    const d = { k: 'v' };
    expect(
      r("{{ d.items() }} {{ d.keys() }} {{ d.values() }} {{ d.get('k') }} {{ d.get('x', 'dflt') }} {{ d.get('x') }}", { d }),
    ).toBe("[('k', 'v')] ['k'] ['v'] v dflt None");
  });

  it('prefers dict keys over methods for attribute access, and keys for subscripts', () => {
    expect(r("{{ d.items }} {{ d['get'] }}", { d: { items: 'mine', get: 'g' } })).toBe('mine g');
  });

  it('supports list methods and negative indexes', () => {
    expect(r('{% set l = [3, 1] %}{% set _ = l.append(2) %}{{ l }} {{ l[-1] }} {{ l.index(1) }} {{ l.count(3) }}')).toBe(
      '[3, 1, 2] 2 1 1',
    );
  });
});

describe('datetime shims inside templates', () => {
  const start = PyDatetime.fromDate(new Date('2026-11-22T23:04:05Z'), TZ_UTC);
  const ctx = { start, utils };

  it('supports strftime, isoformat, timestamp, date and fields', () => {
    expect(r("{{ start.strftime('%Y-%m-%d %H:%M') }}|{{ start.isoformat() }}|{{ start.timestamp() }}", ctx)).toBe(
      '2026-11-22 23:04|2026-11-22T23:04:05+00:00|1795388645.0',
    );
    expect(
      r(
        '{{ start.date() }} {{ start.year }}-{{ start.month }}-{{ start.day }} {{ start.hour }}:{{ start.minute }}:{{ start.second }}',
        ctx,
      ),
    ).toBe('2026-11-22 2026-11-22 23:4:5');
    expect(r('{{ start.weekday() }} {{ start.isoweekday() }}', ctx)).toBe('6 7');
  });

  it('supports replace with keyword arguments and astimezone', () => {
    expect(r('{{ start.replace(day=1, hour=0) }}', ctx)).toBe('2026-11-01 00:04:05+00:00');
    expect(r("{{ start.astimezone(utils.dateutil.tz.gettz('Australia/Sydney')) }}", ctx)).toBe('2026-11-23 10:04:05+11:00');
  });

  it('does arithmetic and comparisons with timedelta and relativedelta', () => {
    expect(r('{{ start + utils.timedelta(days=1) }}', ctx)).toBe('2026-11-23 23:04:05+00:00');
    expect(r('{{ (start - start).total_seconds() }} {{ start - (start - utils.timedelta(hours=1, minutes=1)) }}', ctx)).toBe(
      '0.0 1:01:00',
    );
    expect(r('{{ start + utils.dateutil.relativedelta(months=-1) }}', ctx)).toBe('2026-10-22 23:04:05+00:00');
    expect(
      r(
        '{{ start < start + utils.timedelta(seconds=1) }} {{ start == start.astimezone(utils.dateutil.tz.gettz("Asia/Tokyo")) }}',
        ctx,
      ),
    ).toBe('True True');
  });
});

describe('filters', () => {
  it('implements the standard Jinja filters with Python semantics', () => {
    const cases: [string, string][] = [
      ["{{ 'AbC' | lower }} {{ 'abc' | upper }} {{ 'aXa' | replace('a', 'b') }}", 'abc ABC bXb'],
      ["{{ [1, 2] | join('-') }} {{ [true, none] | join(',') }}", '1-2 True,None'],
      ["{{ '42' | int }} {{ '3.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ '0x1A' | int(base=16) }}", '42 3 0 7 26'],
      ["{{ '1.5' | float }} {{ 'x' | float }}", '1.5 0.0'],
      ["{{ [1, 2, 3] | reverse }} {{ 'abc' | reverse }}", '[3, 2, 1] cba'],
      [
        "{{ missing | default('d') }} {{ missing | d('d') }} {{ '' | default('e', true) }} {{ none | default('n') }}",
        'd d e None',
      ],
      ['{{ [3, 1, 2] | length }} {{ "abc" | length }} {{ {"a": 1} | length }} {{ missing | length }}', '3 3 1 0'],
      ["{{ [3, 1, 2] | first }} {{ [3, 1, 2] | last }} {{ ' x ' | trim }}|", '3 2 x|'],
      ["{{ 'hello wORLD' | title }} {{ 'hELLO' | capitalize }} {{ 42 | string }}", 'Hello World Hello 42'],
      [
        "{{ 'ab' | list }} {{ {'k': 1} | list }} {{ ['b', 'A', 'a'] | sort }} {{ [3, 1] | sort(reverse=true) }}",
        "['a', 'b'] ['k'] ['A', 'a', 'b'] [3, 1]",
      ],
      [
        "{{ ['a', 'A', 'b'] | unique | list }} {{ [2.567] | first | round(2) }} {{ -3 | abs }} {{ [1, 5, 2] | max }} {{ [1, 5, 2] | min }}",
        "['a', 'b'] 2.57 3 5 1",
      ],
      [
        "{{ [{'n': 'x'}, {'n': 'y'}] | map(attribute='n') | join }} {{ ['a'] | map('upper') | list }} {{ [1, 2, 3] | sum }}",
        "xy ['A'] 6",
      ],
      ["{{ [1, 2, 3, 4] | select('odd') | list }} {{ [{'v': 0}, {'v': 1}] | selectattr('v') | list }}", "[1, 3] [{'v': 1}]"],
      ["{{ '%s-%s' | format('a', 'b') }} {{ {'a': 1} | items | list }} {{ {'a': 1} | pprint }}", "a-b [('a', 1)] {'a': 1}"],
    ];
    for (const [template, expected] of cases) expect(r(template), template).toBe(expected);
  });

  it('tojson produces sorted, HTML-safe Python-style JSON with datetimes as ISO strings', () => {
    const v = { b: 1, a: [1, 'x', null, true], d: PyDatetime.fromDate(new Date('2026-01-01T00:00:00Z'), TZ_UTC), s: "<'&>" };
    expect(r('{{ v | tojson }}', { v })).toBe(
      '{"a": [1, "x", null, true], "b": 1, "d": "2026-01-01T00:00:00+00:00", "s": "\\u003c\\u0027\\u0026\\u003e"}',
    );
    expect(r('{{ v | tojson(indent=2) }}', { v: { a: [1] } })).toBe('{\n  "a": [\n    1\n  ]\n}');
  });
});

describe('tests', () => {
  it('implements Jinja tests', () => {
    expect(
      r('{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ n is none }} {{ "s" is string }} {{ 3 is number }}', {
        x: 1,
        n: null,
      }),
    ).toBe('True False True True True True');
    expect(
      r("{{ {} is mapping }} {{ [] is sequence }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'a' is in 'abc' }}"),
    ).toBe('True True True True True True');
    expect(
      r('{{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ true is true }} {{ 1.5 is float }} {{ 2 is integer }} {{ x is not none }}', { x: 1 }),
    ).toBe('True True True True True True');
  });

  it('parses tests with and without parentheses inside larger expressions', () => {
    expect(
      r("{{ 'a' if x is defined else 'b' }} {{ x is defined and x > 0 }} {{ y is none or y }}|{{ 6 is divisibleby(3) }}", {
        x: 1,
      }),
    ).toBe('a True |True');
    expect(r('{% if x is not defined %}undef{% endif %}')).toBe('undef');
  });
});

describe('errors', () => {
  it('throws TemplateError (LAVA_TEMPLATE) including the nunjucks message and the template text', () => {
    let err: unknown;
    try {
      r('{% if %}');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).code).toBe('LAVA_TEMPLATE');
    expect((err as TemplateError).message).toMatch(/unexpected token/);
    expect((err as TemplateError).message).toContain('{% if %}');
    expect(() => r('a\n\n{{ 1 + }}')).toThrow(/unexpected token: }} \(line 3, column 8\)/);
  });

  it('truncates long templates in messages', () => {
    const long = '{{ 1 + }}' + 'x'.repeat(500);
    expect(() => r(long)).toThrow(/x{100,200}\.\.\."/);
  });

  it('reports calls of undefined names', () => {
    expect(() => r('{{ nope() }}')).toThrow(/'nope' is undefined/);
    expect(() => r("{{ utils.re.search('x', 'y').group(1) }}", { utils })).toThrow(/undefined/);
  });

  it('rejects names that are not identifiers, as Jinja does (e.g. JSON-escaped quotes)', () => {
    expect(() => r('{{ \\"x\\" }}')).toThrow(/unexpected characters in name/);
    expect(() => renderStructure({ a: '{{ "x" }}' }, {})).toThrow(/unexpected characters in name/);
  });

  it('rejects namespace-style attribute assignment explicitly', () => {
    expect(() => r('{% set ns.x = 1 %}')).toThrow(/only plain names/);
  });
});

describe('renderStructure (JSON trick)', () => {
  const ctx = { job: { job_id: 'j1' } };

  it('renders string leaves and keeps other leaves', () => {
    expect(renderStructure({ a: '{{ job.job_id }}', n: 1, b: true, z: null, l: ['{{ 2 * 3 }}', 4] }, ctx)).toEqual({
      a: 'j1',
      n: 1,
      b: true,
      z: null,
      l: ['6', 4],
    });
    expect(renderStructure('plain', ctx)).toBe('plain');
  });

  it('explains when a substituted value breaks the JSON (upstream quirk A22)', () => {
    expect(() => renderStructure({ a: '{{ v }}' }, { v: 'say "hi"' })).toThrow(TemplateError);
    expect(() => renderStructure({ a: '{{ v }}' }, { v: 'say "hi"' })).toThrow(/invalid JSON.*A22/);
  });
});

describe('isolation', () => {
  it('does not let templates reach JavaScript internals (constructor, __proto__)', () => {
    const ctx = { job: {}, utils };
    expect(
      r("[{{ ''.constructor }}{{ job.constructor }}{{ job.__proto__ }}{{ utils.datetime.constructor }}{{ constructor }}]", ctx),
    ).toBe('[]');
    expect(() => r("{{ range.constructor('return 42')() }}")).toThrow(/undefined and cannot be called/);
  });

  it('does not change the behaviour of the shared nunjucks module', () => {
    r("{{ 'warm up' }}");
    expect(nunjucks.renderString("{{ 'a' + 1 }}{{ [] }}", {})).toBe('a1');
  });
});
