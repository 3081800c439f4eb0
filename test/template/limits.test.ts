/**
 * Render bounds: each one stops a runaway template with a TemplateLimitError naming the bound and
 * its config key, quickly, and leaves ordinary templates alone. Small limits keep every test fast;
 * the default-sized cases are the ones that crashed (range(10**10)) or froze the process before.
 */
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/core/errors.js';
import {
  DEFAULT_TEMPLATE_LIMITS,
  TEMPLATE_LIMITS,
  TemplateLimitError,
  renderStructure,
  renderTemplate,
  withTemplateLimits,
} from '../../src/template/index.js';
import type { TemplateLimits } from '../../src/template/index.js';

/** Render, expecting a limit error; returns it with how long the render took. */
function limitError(
  source: string,
  limits: Partial<TemplateLimits> = {},
  context: Record<string, unknown> = {},
): { err: TemplateLimitError; ms: number } {
  const t0 = Date.now();
  try {
    const out = renderTemplate(source, context, { limits });
    throw new Error(`rendered without a limit error: ${out.slice(0, 100)}`);
  } catch (err) {
    if (!(err instanceof TemplateLimitError)) throw err;
    return { err, ms: Date.now() - t0 };
  }
}

describe('range size', () => {
  it('refuses range(10**10) before making any item (it used to abort the process)', () => {
    const { err, ms } = limitError('{{ range(10**10)|length }}');
    expect(err.code).toBe('LAVA_TEMPLATE_LIMIT');
    expect(err.limit).toBe('TEMPLATE_MAX_RANGE');
    expect(err.message).toContain('range() of 10000000000 items is more than TEMPLATE_MAX_RANGE (1000000)');
    expect(err.message).toContain('raise the realm config key TEMPLATE_MAX_RANGE');
    expect(err.message).toContain('Template: "{{ range(10**10)|length }}"');
    expect(ms).toBeLessThan(500);
  });

  it('counts start, stop and step as nunjucks does, allowing exactly the limit', () => {
    expect(renderTemplate('{{ range(5, 15, 2)|list }}', {}, { limits: { maxRange: 5 } })).toBe('[5, 7, 9, 11, 13]');
    expect(renderTemplate('{{ range(10, 0, -3)|list }}', {}, { limits: { maxRange: 4 } })).toBe('[10, 7, 4, 1]');
    expect(renderTemplate('{{ range(3)|list }}', {}, { limits: { maxRange: 3 } })).toBe('[0, 1, 2]');
    expect(limitError('{{ range(4) }}', { maxRange: 3 }).err.message).toContain('range() of 4 items');
    expect(limitError('{{ range(0, 10, 3) }}', { maxRange: 3 }).err.message).toContain('range() of 4 items');
  });

  it('refuses an endless range', () => {
    expect(limitError('{% for i in range(1e400) %}{% endfor %}').err.limit).toBe('TEMPLATE_MAX_RANGE');
  });

  it('bounds lists built by repetition, concatenation and extend', () => {
    expect(limitError('{{ [1] * 10**9 }}').err.message).toContain('a repeated list of 1000000000 items');
    expect(limitError('{{ [1, 2] * 3 }}', { maxRange: 5 }).err.limit).toBe('TEMPLATE_MAX_RANGE');
    expect(limitError('{{ [1, 2, 3] + [4, 5, 6] }}', { maxRange: 5 }).err.message).toContain('a concatenated list of 6 items');
    const doubling = '{% set l = [1] %}{% for i in range(40) %}{% set _ = l.extend(l) %}{% endfor %}{{ l|length }}';
    expect(limitError(doubling).err.message).toContain('an extended list of 1048576 items');
    expect(renderTemplate('{{ [1, 2] * 2 }} {{ [] * 10**12 }}', {}, { limits: { maxRange: 4 } })).toBe('[1, 2, 1, 2] []');
  });
});

describe('loop iterations', () => {
  it('stops nested loops at the total count of one render', () => {
    const source = '{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}';
    const { err, ms } = limitError(source, { maxIterations: 5000 });
    expect(err.limit).toBe('TEMPLATE_MAX_ITERATIONS');
    expect(err.message).toContain('more than TEMPLATE_MAX_ITERATIONS (5000) loop iterations in one render');
    expect(ms).toBeLessThan(500);
  });

  it('counts loop filters, key/value loops and allows exactly the limit', () => {
    expect(renderTemplate('{% for i in range(10) %}{% endfor %}done', {}, { limits: { maxIterations: 10 } })).toBe('done');
    expect(limitError('{% for i in range(11) %}{% endfor %}', { maxIterations: 10 }).err.limit).toBe('TEMPLATE_MAX_ITERATIONS');
    expect(limitError('{% for i in range(20) if i > 100 %}{% endfor %}', { maxIterations: 10 }).err.limit).toBe(
      'TEMPLATE_MAX_ITERATIONS',
    );
    const pairs = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
    expect(limitError('{% for k, v in d.items() %}{% endfor %}', { maxIterations: 10 }, { d: pairs }).err.limit).toBe(
      'TEMPLATE_MAX_ITERATIONS',
    );
  });

  it('gives each render its own count', () => {
    const source = '{% for i in range(8) %}{% endfor %}ok';
    for (let n = 0; n < 5; n++) expect(renderTemplate(source, {}, { limits: { maxIterations: 10 } })).toBe('ok');
  });
});

describe('output size', () => {
  it("refuses string repetition past the bound before building it ('x' * 10**10)", () => {
    const { err, ms } = limitError("{{ 'x' * 10**10 }}");
    expect(err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(err.message).toContain(
      `a string the template builds would be 10000000000 characters, more than TEMPLATE_MAX_OUTPUT (${DEFAULT_TEMPLATE_LIMITS.maxOutput})`,
    );
    expect(ms).toBeLessThan(500);
  });

  it('bounds strings that double in a loop, joins, padding and replace', () => {
    const doubling = "{% set s = 'xx' %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s|length }}";
    expect(limitError(doubling).err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(limitError("{% set s = 'ab' %}{{ s + s + s }}", { maxOutput: 5 }).err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(limitError("{{ (['abc'] * 10) | join(',') }}", { maxOutput: 20 }).err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(limitError("{{ ','.join(['abc'] * 10) }}", { maxOutput: 20 }).err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(limitError("{{ 'a'.ljust(10**9) }}").err.message).toContain('1000000000 characters');
    expect(limitError("{{ '{:>1000000000}'.format(1) }}").err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(limitError("{{ '%1000000000d' % 1 }}").err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(limitError("{{ '7'.zfill(10**9) }}").err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(limitError("{{ 'abcd'.replace('', 'xxxxxxxxxx') }}", { maxOutput: 40 }).err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(limitError("{{ ' \t '.expandtabs(10**9) }}").err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(limitError('{{ [1, [2]] | tojson(indent=10**9) }}').err.limit).toBe('TEMPLATE_MAX_OUTPUT');
  });

  it('bounds the whole output, including literal text repeated by a loop', () => {
    const { err } = limitError('{% for i in range(100) %}0123456789{% endfor %}', { maxOutput: 500 });
    expect(err.message).toContain('more than TEMPLATE_MAX_OUTPUT (500)');
    expect(renderTemplate('{% for i in range(50) %}0123456789{% endfor %}', {}, { limits: { maxOutput: 500 } })).toHaveLength(
      500,
    );
  });

  it('bounds output that macros build by recursion', () => {
    const source = '{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% else %}xxxxxxxxxx{% endif %}{% endmacro %}{{ f(20) }}';
    const { err, ms } = limitError(source, { maxOutput: 100_000 });
    expect(err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(ms).toBeLessThan(1000);
  });
});

describe('render time', () => {
  it('stops work that has no loop (macro fan-out) at the timeout', () => {
    const source = '{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}';
    const { err, ms } = limitError(source, { timeout: 0.2 });
    expect(err.limit).toBe('TEMPLATE_TIMEOUT');
    expect(err.message).toContain('rendering a template took longer than TEMPLATE_TIMEOUT (0.2s)');
    expect(err.message).toContain('raise the realm config key TEMPLATE_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(200);
    expect(ms).toBeLessThan(1000);
  });

  it('stops quadratic filters and huge shared structures at the timeout', () => {
    expect(limitError('{{ range(200000)|unique|list|length }}', { timeout: 0.2 }).ms).toBeLessThan(1000);
    expect(limitError('{{ [[[1] * 1000] * 1000] * 1000 }}', { timeout: 0.2 }).ms).toBeLessThan(1000);
    expect(limitError('{{ ([[[1] * 1000] * 1000] * 1000) | tojson }}', { timeout: 0.2 }).ms).toBeLessThan(1000);
    const dicts = "{% set d = {'a': 1} %}{% for i in range(40) %}{% set d = {'x': d, 'y': d} %}{% endfor %}";
    expect(limitError(`${dicts}{{ d }}`, { timeout: 0.2 }).ms).toBeLessThan(1000);
    expect(limitError(`${dicts}{{ d|tojson }}`, { timeout: 0.2 }).ms).toBeLessThan(1000);
    const lists =
      '{% set a = [1] %}{% set b = [1] %}{% for i in range(40) %}{% set a = [a, a] %}{% set b = [b, b] %}{% endfor %}';
    expect(limitError(`${lists}{{ a == b }}`, { timeout: 0.2 }).ms).toBeLessThan(1000);
  });

  it("stops at the job's deadline when it comes before the render's own timeout", () => {
    const source = '{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}';
    const deadline = Date.now() + 150;
    const { err, ms } = limitError(source, { timeout: 10, deadline, deadlineSource: "the job's parameters.timeout (1s)" });
    expect(err.limit).toBe('parameters.timeout');
    expect(err.message).toContain("rendering a template ran past the job's parameters.timeout (1s)");
    expect(ms).toBeLessThan(1000);
    // A deadline already past stops the first bit of counted work.
    expect(limitError(source, { deadline: Date.now() - 1 }).err.limit).toBe('parameters.timeout');
    // A later deadline leaves the render's own timeout in charge.
    expect(limitError(source, { timeout: 0.1, deadline: Date.now() + 60_000 }).err.limit).toBe('TEMPLATE_TIMEOUT');
  });
});

describe('memory', () => {
  it('stops a render that keeps many big lists, though each is within the other bounds', () => {
    const source =
      '{% set l = [] %}{% for i in range(1000) %}{% set _ = l.append(range(100000)|list) %}{% endfor %}{{ l|length }}';
    const { err, ms } = limitError(source, { maxMemory: 20 * 2 ** 20 });
    expect(err.limit).toBe('TEMPLATE_MAX_MEMORY');
    expect(err.message).toContain('more than TEMPLATE_MAX_MEMORY (20971520 bytes)');
    expect(ms).toBeLessThan(1000);
  });
});

describe('limits carried by the template context', () => {
  it('reads them from the context, through the copies handlers make, and lets options override them', () => {
    const ctx = withTemplateLimits({ n: 5 }, { maxRange: 3 });
    expect(Object.keys(ctx)).toEqual(['n']); // invisible to templates and to key listings
    expect(limitError('{{ range(n) }}', {}, ctx).err.message).toContain('TEMPLATE_MAX_RANGE (3)');
    expect(limitError('{{ range(n) }}', {}, { ...ctx, extra: 1 }).err.limit).toBe('TEMPLATE_MAX_RANGE');
    expect(renderTemplate('{{ range(n)|length }}', ctx, { limits: { maxRange: 5 } })).toBe('5');
    expect(() => renderStructure({ a: '{{ range(n) }}' }, ctx)).toThrow(TemplateLimitError);
    expect((ctx as Record<symbol, unknown>)[TEMPLATE_LIMITS]).toEqual({ maxRange: 3 });
  });

  it('is not reachable from a template by name', () => {
    const ctx = withTemplateLimits({}, { maxRange: 3 });
    expect(renderTemplate('[{{ TEMPLATE_LIMITS }}{{ limits }}]', ctx)).toBe('[]');
  });
});

describe('ordinary templates', () => {
  it('render as before under the default limits, and other errors stay TemplateErrors', () => {
    expect(renderTemplate("{{ 'ab' * 3 }} {{ range(3)|join(',') }} {{ 'x'.ljust(3, '-') }}|", {})).toBe('ababab 0,1,2 x--|');
    expect(renderTemplate('{% for i in range(1000) %}{% endfor %}{{ range(100000)|length }}', {})).toBe('100000');
    let err: unknown;
    try {
      renderTemplate("{{ 'x' + 1 }}", {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect(err).not.toBeInstanceOf(TemplateLimitError);
  });

  it('a limit error in a nested render does not leak into the outer one', () => {
    const inner = (): string => {
      try {
        return renderTemplate('{{ range(10) }}', {}, { limits: { maxRange: 2 } });
      } catch {
        return 'inner failed';
      }
    };
    expect(renderTemplate('{{ f() }} {{ range(5)|length }}', { f: inner })).toBe('inner failed 5');
  });
});

describe("nunjucks' own sized filters", () => {
  it('refuses indent, slice and batch sizes over the bounds before building anything', () => {
    expect(limitError('{{ "x"|indent(10**9) }}').err.limit).toBe('TEMPLATE_MAX_OUTPUT');
    expect(limitError('{{ [1]|slice(10**9) }}').err.limit).toBe('TEMPLATE_MAX_RANGE');
    expect(limitError('{{ range(3)|batch(10**9, 0) }}').err.limit).toBe('TEMPLATE_MAX_RANGE');
  });

  it('leaves ordinary sizes alone', () => {
    expect(renderTemplate('{{ "a\nb"|indent(2) }}', {})).toBe('a\n  b');
    expect(renderTemplate('{{ [1,2,3]|slice(2)|list }}', {})).toBe('[[1, 2], [3]]');
    expect(renderTemplate('{{ range(5)|batch(2)|list }}', {})).toBe('[[0, 1], [2, 3], [4]]');
  });
});
