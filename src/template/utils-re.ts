/** utils.re: Python regex syntax translated to JS RegExp. */
import { PyError, PyNamespace, PyObject, asStr, isPyCallable, pyRepr, pyStr, pyfunc, toInt, toStr, tuple } from './pytypes.js';

const RE_FLAG = { I: 2, L: 4, M: 8, S: 16, U: 32, X: 64, A: 256 } as const;
const INLINE_FLAG: Record<string, number> = {
  i: RE_FLAG.I,
  L: RE_FLAG.L,
  m: RE_FLAG.M,
  s: RE_FLAG.S,
  u: RE_FLAG.U,
  x: RE_FLAG.X,
  a: RE_FLAG.A,
};

const reError = (m: string): PyError => new PyError('re.error', m);

/**
 * Translate Python regex syntax to JS: (?P<n>..) / (?P=n) named groups, \A and \Z anchors,
 * leading inline flags, comments, verbose mode, and Python's `$` (also matches before a final \n).
 */
export function translateRegex(pattern: string, flags: number): { source: string; flags: number } {
  let f = flags;
  let p = pattern;
  for (let m = /^\(\?([aiLmsux]+)\)/.exec(p); m; m = /^\(\?([aiLmsux]+)\)/.exec(p)) {
    for (const c of m[1] ?? '') f |= INLINE_FLAG[c] ?? 0;
    p = p.slice(m[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i] ?? '';
    if (c === '\\') {
      const n = p[i + 1] ?? '';
      i++;
      if (!inClass && n === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && n === 'Z') out += '(?![\\s\\S])';
      else out += c + n;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (f & RE_FLAG.X && /\s/.test(c)) continue;
    if (f & RE_FLAG.X && c === '#') {
      while (i < p.length && p[i] !== '\n') i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (p[i + 1] === '^') out += p[++i];
      if (p[i + 1] === ']') out += '\\' + p[++i];
    } else if (p.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (p.startsWith('(?P=', i)) {
      const end = p.indexOf(')', i);
      if (end < 0) throw reError('missing ), unterminated name');
      out += `\\k<${p.slice(i + 4, end)}>`;
      i = end;
    } else if (p.startsWith('(?#', i)) {
      const end = p.indexOf(')', i);
      if (end < 0) throw reError('missing ), unterminated comment');
      i = end;
    } else if (c === '$' && !(f & RE_FLAG.M)) {
      out += '(?=\\n?(?![\\s\\S]))';
    } else {
      out += c;
    }
  }
  return { source: out, flags: f };
}

/** Capturing-group count and name → index map of a (translated) JS pattern. */
function scanGroups(source: string): { count: number; names: Record<string, number> } {
  let count = 0;
  const names: Record<string, number> = {};
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') {
      if (source[i + 1] !== '?') count++;
      else if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        count++;
        const end = source.indexOf('>', i);
        names[source.slice(i + 3, end)] = count;
      }
    }
  }
  return { count, names };
}

type MatchMode = 'search' | 'match' | 'fullmatch';

/** A compiled pattern (re.compile result); also what the module-level functions use. */
export class PyPattern extends PyObject {
  readonly groups: number;
  readonly groupindex: Record<string, number>;
  readonly _source: string;
  readonly _jsFlags: string;

  constructor(
    readonly pattern: string,
    readonly flags: number,
  ) {
    super();
    const t = translateRegex(pattern, flags);
    this._source = t.source;
    this._jsFlags = (t.flags & RE_FLAG.I ? 'i' : '') + (t.flags & RE_FLAG.M ? 'm' : '') + (t.flags & RE_FLAG.S ? 's' : '');
    try {
      new RegExp(this._source, this._jsFlags);
    } catch (e) {
      throw reError(`${(e as Error).message} (pattern ${pyRepr(pattern)})`);
    }
    const g = scanGroups(this._source);
    this.groups = g.count;
    this.groupindex = g.names;
  }

  _regex(extra: string, mode: MatchMode = 'search'): RegExp {
    const src = mode === 'fullmatch' ? `(?:${this._source})(?![\\s\\S])` : this._source;
    return new RegExp(src, this._jsFlags + 'd' + extra);
  }

  _exec(mode: MatchMode, args: unknown[]): PyMatch | null {
    const b = bindSig(`Pattern.${mode}`, ['string', 'pos', 'endpos'], args, 1);
    const string = toStr(b.string, 'string');
    const pos = b.pos === undefined ? 0 : toInt(b.pos, 'pos');
    const endpos = b.endpos === undefined ? string.length : toInt(b.endpos, 'endpos');
    const re = this._regex(mode === 'search' ? 'g' : 'y', mode);
    re.lastIndex = pos;
    const m = re.exec(string.slice(0, endpos));
    return m ? new PyMatch(m, string, this, pos, endpos) : null;
  }

  /** All non-overlapping matches, advancing past empty matches as Python does. */
  _all(string: string, limit = 0): RegExpExecArray[] {
    const re = this._regex('g');
    const out: RegExpExecArray[] = [];
    for (let m = re.exec(string); m; m = re.exec(string)) {
      out.push(m);
      if (m[0] === '') re.lastIndex++;
      if (limit && out.length >= limit) break;
    }
    return out;
  }

  search(...args: unknown[]): PyMatch | null {
    return this._exec('search', args);
  }
  match(...args: unknown[]): PyMatch | null {
    return this._exec('match', args);
  }
  fullmatch(...args: unknown[]): PyMatch | null {
    return this._exec('fullmatch', args);
  }
  finditer(...args: unknown[]): PyMatch[] {
    const b = bindSig('Pattern.finditer', ['string'], args, 1);
    const string = toStr(b.string, 'string');
    return this._all(string).map((m) => new PyMatch(m, string, this, 0, string.length));
  }
  findall(...args: unknown[]): unknown[] {
    return this.finditer(...args).map((m) => {
      const gs = m.groups('');
      if (this.groups === 0) return m.group();
      return this.groups === 1 ? gs[0] : tuple(gs);
    });
  }
  split(...args: unknown[]): unknown[] {
    const b = bindSig('Pattern.split', ['string', 'maxsplit'], args, 1);
    const string = toStr(b.string, 'string');
    const out: unknown[] = [];
    let last = 0;
    for (const m of this._all(string, b.maxsplit === undefined ? 0 : toInt(b.maxsplit, 'maxsplit'))) {
      out.push(string.slice(last, m.index), ...m.slice(1).map((g) => g ?? null));
      last = m.index + m[0].length;
    }
    out.push(string.slice(last));
    return out;
  }
  subn(...args: unknown[]): unknown[] {
    const b = bindSig('Pattern.subn', ['repl', 'string', 'count'], args, 2);
    const string = toStr(b.string, 'string');
    const matches = this._all(string, b.count === undefined ? 0 : toInt(b.count, 'count'));
    let out = '';
    let last = 0;
    for (const m of matches) {
      const match = new PyMatch(m, string, this, 0, string.length);
      out += string.slice(last, m.index) + replacement(b.repl, match);
      last = m.index + m[0].length;
    }
    return tuple([out + string.slice(last), matches.length]);
  }
  sub(...args: unknown[]): string {
    return this.subn(...args)[0] as string;
  }

  _typeName(): string {
    return 're.Pattern';
  }
  _str(): string {
    return `re.compile(${pyRepr(this.pattern)}${this.flags ? `, ${this.flags}` : ''})`;
  }
}

function bindSig(name: string, params: string[], args: unknown[], required: number): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  pyfunc(name, params, (a) => (out = a), { required })(...args);
  return out;
}

/** Python replacement templates: \1, \g<1>, \g<name>, \n and friends. */
function expandTemplate(template: string, m: PyMatch): string {
  return template.replace(/\\(g<([^>]*)>|\d{1,2}|.)/gs, (whole, esc: string, gname: string | undefined) => {
    if (gname !== undefined) return pyStr(m._group(/^\d+$/.test(gname) ? Number(gname) : gname) ?? '');
    if (/^\d+$/.test(esc)) return esc === '0' ? '\0' : pyStr(m._group(Number(esc)) ?? '');
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };
    if (esc in simple) return simple[esc]!;
    if (/[A-Za-z]/.test(esc)) throw reError(`bad escape ${whole}`);
    return whole;
  });
}

function replacement(repl: unknown, m: PyMatch): string {
  if (typeof repl === 'function') return pyStr((repl as (x: unknown) => unknown)(m));
  if (isPyCallable(repl)) return pyStr(repl._call(m));
  return expandTemplate(toStr(repl, 'repl'), m);
}

/** A regex match: group(n), groups(), groupdict(), start/end/span, m[n]. */
export class PyMatch extends PyObject {
  readonly lastindex: number | null;
  readonly lastgroup: string | null;

  constructor(
    readonly _m: RegExpExecArray,
    readonly string: string,
    readonly re: PyPattern,
    readonly pos: number,
    readonly endpos: number,
  ) {
    super();
    let last: number | null = null;
    for (let i = 1; i < _m.length; i++) if (_m[i] !== undefined) last = i;
    this.lastindex = last;
    this.lastgroup = Object.entries(re.groupindex).find(([, i]) => i === last)?.[0] ?? null;
  }

  _index(g: unknown): number {
    const name = asStr(g);
    if (name !== undefined) {
      const i = this.re.groupindex[name];
      if (i === undefined) throw new PyError('IndexError', 'no such group');
      return i;
    }
    const i = toInt(g, 'group index');
    if (i < 0 || i > this.re.groups) throw new PyError('IndexError', 'no such group');
    return i;
  }
  /** The text of a group, or null (None) when it did not participate. */
  _group(g: unknown): string | null {
    return this._m[this._index(g)] ?? null;
  }
  _span(g: unknown): [number, number] {
    const span = this._m.indices?.[this._index(g)];
    return span ? [span[0], span[1]] : [-1, -1];
  }

  group(...gs: unknown[]): unknown {
    if (gs.length === 0) return this._group(0);
    if (gs.length === 1) return this._group(gs[0]);
    return tuple(gs.map((g) => this._group(g)));
  }
  groups(...args: unknown[]): unknown[] {
    const d = bindSig('Match.groups', ['default'], args, 0).default ?? null;
    return tuple(Array.from({ length: this.re.groups }, (_, i) => this._m[i + 1] ?? d));
  }
  groupdict(...args: unknown[]): Record<string, unknown> {
    const d = bindSig('Match.groupdict', ['default'], args, 0).default ?? null;
    return Object.fromEntries(Object.entries(this.re.groupindex).map(([n, i]) => [n, this._m[i] ?? d]));
  }
  start(g: unknown = 0): number {
    return this._span(g)[0];
  }
  end(g: unknown = 0): number {
    return this._span(g)[1];
  }
  span(g: unknown = 0): number[] {
    return tuple(this._span(g));
  }
  expand(template: unknown): string {
    return expandTemplate(toStr(template, 'template'), this);
  }

  override _getitem(key: unknown): unknown {
    return this._group(key);
  }
  _typeName(): string {
    return 're.Match';
  }
  _str(): string {
    const [s, e] = this._span(0);
    return `<re.Match object; span=(${s}, ${e}), match=${pyRepr(this._m[0])}>`;
  }
}

const patternCache = new Map<string, PyPattern>();

function compile(pattern: unknown, flags: unknown): PyPattern {
  if (pattern instanceof PyPattern) return pattern;
  const p = toStr(pattern, 'pattern');
  const f = flags === undefined ? 0 : toInt(flags, 'flags');
  const key = `${f}:${p}`;
  let c = patternCache.get(key);
  if (!c) {
    c = new PyPattern(p, f);
    if (patternCache.size > 500) patternCache.clear();
    patternCache.set(key, c);
  }
  return c;
}

function reEscape(s: string): string {
  return s.replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, (c) => '\\' + c);
}

/** Module-level re.<name>(pattern, string, ..., flags=0) delegating to a compiled pattern. */
function reFunc(name: 'search' | 'match' | 'fullmatch' | 'findall' | 'finditer' | 'split' | 'sub' | 'subn', params: string[]) {
  return pyfunc(
    name,
    ['pattern', ...params, 'flags'],
    (a) => {
      const p = compile(a.pattern, a.flags);
      const rest = params.filter((k) => a[k] !== undefined).map((k) => a[k]);
      return (p[name] as (...x: unknown[]) => unknown)(...rest);
    },
    { required: 2 },
  );
}

export const reModule = new PyNamespace('re', 'module', {
  search: reFunc('search', ['string']),
  match: reFunc('match', ['string']),
  fullmatch: reFunc('fullmatch', ['string']),
  findall: reFunc('findall', ['string']),
  finditer: reFunc('finditer', ['string']),
  split: reFunc('split', ['string', 'maxsplit']),
  sub: pyfunc(
    'sub',
    ['pattern', 'repl', 'string', 'count', 'flags'],
    (a) => compile(a.pattern, a.flags).sub(a.repl, a.string, a.count ?? 0),
    { required: 3 },
  ),
  subn: pyfunc(
    'subn',
    ['pattern', 'repl', 'string', 'count', 'flags'],
    (a) => compile(a.pattern, a.flags).subn(a.repl, a.string, a.count ?? 0),
    { required: 3 },
  ),
  compile: pyfunc('compile', ['pattern', 'flags'], (a) => compile(a.pattern, a.flags), { required: 1 }),
  escape: pyfunc('escape', ['pattern'], (a) => reEscape(toStr(a.pattern, 'pattern')), { required: 1 }),
  I: RE_FLAG.I,
  IGNORECASE: RE_FLAG.I,
  L: RE_FLAG.L,
  LOCALE: RE_FLAG.L,
  M: RE_FLAG.M,
  MULTILINE: RE_FLAG.M,
  S: RE_FLAG.S,
  DOTALL: RE_FLAG.S,
  U: RE_FLAG.U,
  UNICODE: RE_FLAG.U,
  X: RE_FLAG.X,
  VERBOSE: RE_FLAG.X,
  A: RE_FLAG.A,
  ASCII: RE_FLAG.A,
});
