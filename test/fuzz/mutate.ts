/**
 * Seeded generators of hostile input for the fuzz tests: a small PRNG, a pool of values that
 * have broken things before (paths, huge ranges, prototype keys, shell syntax), and mutators
 * for spec objects, YAML text, templates and dispatch messages.
 */

/** mulberry32: tiny, fast and good enough to spread mutations; the same seed gives the same run. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Every path-shaped hostile value ends in this name, so an escape can be searched for afterwards. */
export const ESCAPE_MARK = 'lava-fuzz-escape';

export function hostilePaths(tag: string): string[] {
  const mark = `${ESCAPE_MARK}-${tag}`;
  return [
    `../${mark}`,
    `../../../${mark}`,
    `../../../../../../../../../../${mark}`,
    `a/../../${mark}`,
    `./../${mark}`,
    `/tmp/${mark}`,
    `..\\..\\${mark}`,
    `a/b/../../../${mark}`,
    `$(touch /tmp/${mark})`,
    `x; touch /tmp/${mark}`,
    `\`touch /tmp/${mark}\``,
    `..`,
    `.`,
    `/`,
    ``,
    `a//b`,
    `a/./b`,
    `x\u0000y`,
    `line\nbreak`,
    'é/ü/日本',
    'a'.repeat(5000),
  ];
}

/** Template text that has crashed, frozen or escaped template engines. */
export const HOSTILE_TEMPLATES = [
  '{{ range(10**10)|length }}',
  '{% for i in range(40000000) %}{% endfor %}',
  '{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}',
  "{{ 'x' * 10**10 }}",
  "{{ ('x' * 100000) * 100000 }}",
  '{{ [1] * 10**9 }}',
  "{{ 'ab'.ljust(10**10) }}",
  "{{ 'a'.center(10**9) }}",
  "{{ ''.join(['x'] * 10**8) }}",
  '{{ 10**10**10 }}',
  '{{ 2**100000 }}',
  '{{ range(10**7)|list|length }}',
  '{{ range(10**7)|sum }}',
  '{{ range(10**7)|join(",") }}',
  "{{ range.constructor('return process')() }}",
  "{{ ''.constructor.constructor('return process.exit(9)')() }}",
  '{{ job.__proto__ }}{{ job.constructor }}',
  "{% set x = ''['constructor']['constructor'] %}{{ x('return 1')() }}",
  "{{ utils.constructor.constructor('return 1')() }}",
  '{{ lipsum(10**6) }}',
  '{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}',
  '{{ "%s" % ("x" * 10**9) }}',
  '{{ "{:>1000000000}".format(1) }}',
  '{% raw %}{{ not closed',
  '{{ ',
  '{% for %}',
  '{{ 1/0 }}',
  '{{ undefined.attr.chain }}',
  '{{ datetime.timedelta(days=10**12) }}',
  '{{ "x"|indent(10**9) }}',
  '{{ "x"|wordwrap(1) * 10**7 }}',
  '{{ [0]*10**6|sort|length }}',
  '{{ [1]|slice(10**9) }}',
  '{{ "x"|center(10**9) }}',
  '{{ range(10)|batch(10**9) }}',
  '{{ ("x" * 100000)|replace("x", "y" * 100000) }}',
  '{{ "x"|truncate(10**10) }}',
  '{{ (range(1000)|list)|join("y" * 100000) }}',
  '{{ "x"|urlize }}{{ "x"|wordcount }}{{ "x"|title }}',
  '{% set l = [] %}{% for i in range(1000) %}{% set l = l + l + [i] %}{% endfor %}{{ l|length }}',
  '{% set s = "x" %}{% for i in range(100) %}{% set s = s ~ s %}{% endfor %}{{ s|length }}',
  '{{ "%0*d" % (10**9, 1) }}',
  '{{ "x".zfill(10**9) }}',
  '{{ "x".rjust(10**9, "y") }}',
  '{{ "x" * -1 }}{{ [1] * -5 }}',
  '{{ dict(a=1)|dictsort * 10**8 }}',
];

/** Ordinary template fragments that compose into plausible templates. */
const FRAGMENTS = [
  'plain text ',
  '{{ job.job_id }}',
  '{{ start.strftime("%Y-%m-%d") }}',
  '{{ globals.x | default("d") }}',
  '{% for i in range(3) %}{{ i }}{% endfor %}',
  '{% if job.worker == "w" %}yes{% else %}no{% endif %}',
  '{{ "a,b,c".split(",")|join("-") }}',
  '{{ (1 + 2) * 3 }}',
  '{{ [1,2,3][1:] }}',
  '{{ {"a": 1}.items()|list }}',
  '{{ utils.uuid() | length }}',
  '{{ "%05d" % 42 }}',
  '{{ realm.realm|upper }}',
];

export function randomTemplate(rng: Rng): string {
  const parts: string[] = [];
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) {
    parts.push(rng.chance(0.35) ? rng.pick(HOSTILE_TEMPLATES) : rng.pick(FRAGMENTS));
  }
  let text = parts.join('');
  // Damage: cut, duplicate or splice braces at random points.
  if (rng.chance(0.3)) {
    const at = rng.int(text.length + 1);
    text = rng.chance(0.5)
      ? text.slice(0, at)
      : text.slice(0, at) + rng.pick(['{{', '}}', '{%', '%}', '{#', '"', "'", '(', ')']) + text.slice(at);
  }
  return text;
}

export function hostileValues(tag: string): unknown[] {
  return [
    ...hostilePaths(tag),
    ...HOSTILE_TEMPLATES,
    -1,
    0,
    1e308,
    -1e308,
    2 ** 53 + 1,
    0.5,
    true,
    false,
    null,
    [],
    {},
    [[[[[[[[[[[]]]]]]]]]]],
    { __proto__: { polluted: 1 } },
    JSON.parse('{"__proto__": {"polluted": 1}}') as unknown,
    { constructor: { prototype: { polluted: 1 } } },
    'constructor',
    '__proto__',
    'lava',
    '${HOME}',
    '9999999999999999999999',
    '1e9999',
    'true',
    'yes',
    '\t\r\n',
    Array.from({ length: 200 }, (_, i) => i),
  ];
}

/** A JSON-safe deep copy that keeps own `__proto__` keys as data. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Paths to every value inside an object, for picking a place to mutate. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function setAt(root: Record<string, unknown>, at: (string | number)[], v: unknown, remove: boolean): void {
  let node: Record<string | number, unknown> = root;
  for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = at[at.length - 1] as string | number;
  if (remove && !Array.isArray(node)) delete node[last];
  else Object.defineProperty(node, last, { value: v, enumerable: true, writable: true, configurable: true });
}

const FIELDS = [
  'job_id',
  'type',
  'worker',
  'payload',
  'parameters',
  'globals',
  'enabled',
  'state',
  'iteration_limit',
  'on_success',
  'on_fail',
  'schedule',
  'dispatcher',
  'max_tries',
  'event_log',
  '__proto__',
  'x-extra',
];

/** One to three mutations of a spec: replace, remove or add a field anywhere in it. */
export function mutateObject(rng: Rng, spec: Record<string, unknown>, tag: string): Record<string, unknown> {
  const out = clone(spec);
  const values = hostileValues(tag);
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    const all = paths(out).filter((p) => p.length > 0);
    const r = rng.next();
    // Copies, so that a later mutation inside a placed value cannot make the spec contain itself.
    if (r < 0.15 || !all.length) setAt(out, [rng.pick(FIELDS)], clone(rng.pick(values)), false);
    else if (r < 0.25) setAt(out, rng.pick(all), undefined, true);
    else setAt(out, rng.pick(all), clone(rng.pick(values)), false);
  }
  return out;
}

const YAML_DAMAGE = [
  'x: &a [*a]\n',
  'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
  `${'['.repeat(2000)}${']'.repeat(2000)}\n`,
  '!!python/object/apply:os.system ["touch /tmp/lava-fuzz-escape-yaml"]\n',
  '? complex key\n: value\n',
  '<<: *undefined\n',
  '\t- tab indent\n',
  '%YAML 1.1\n---\n',
  '---\n...\n---\n',
  'enabled: yes\n',
  'key: !!binary aGVsbG8=\n',
  'n: 0o777\nm: 1:20\n',
  '- job_id: dup\n  job_id: dup2\n',
];

/** Damage a YAML text: insert a damaging snippet, drop or duplicate a line, or flip a character. */
export function mutateText(rng: Rng, text: string): string {
  const lines = text.split('\n');
  const r = rng.next();
  if (r < 0.35) {
    lines.splice(rng.int(lines.length + 1), 0, ...rng.pick(YAML_DAMAGE).split('\n'));
  } else if (r < 0.5) {
    lines.splice(rng.int(lines.length), 1);
  } else if (r < 0.65) {
    const i = rng.int(lines.length);
    lines.splice(i, 0, lines[i] ?? '');
  } else {
    const i = rng.int(lines.length);
    const line = lines[i] ?? '';
    const at = rng.int(line.length + 1);
    lines[i] =
      line.slice(0, at) +
      rng.pick([':', '-', '&', '*', '!', '|', '>', '"', "'", '#', '{', '[', '\t', ' ', '%', '@', '`']) +
      line.slice(at);
  }
  return lines.join('\n');
}
