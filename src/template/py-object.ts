/**
 * The base of the Python object model: Python exceptions, call-argument binding (positional plus
 * nunjucks keyword arguments), type names and conversions, and the `PyObject` shim protocol.
 * It imports no other shim module, so every shim class can extend `PyObject` safely.
 */

/** A Python exception raised while evaluating a template; render.ts wraps it in a TemplateError. */
export class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
    this.name = pyType;
  }
}

export const typeError = (m: string): PyError => new PyError('TypeError', m);
export const valueError = (m: string): PyError => new PyError('ValueError', m);

/** Nunjucks passes keyword arguments as a trailing object carrying a `__keywords` marker. */
const KW_MARKER = '__keywords';

export function isKwargs(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, KW_MARKER);
}

export interface Signature {
  name: string;
  params: readonly string[];
  /** Number of leading params that must be supplied. */
  required?: number;
  varargs?: boolean;
  varkw?: boolean;
}

export interface Bound {
  a: Record<string, unknown>;
  rest: unknown[];
  kw: Record<string, unknown>;
}

/** Bind call arguments to parameter names the way Python does (TypeError on misuse). */
export function bindArgs(sig: Signature, args: readonly unknown[]): Bound {
  let pos: readonly unknown[] = args;
  let kwIn: Record<string, unknown> = {};
  const last = args[args.length - 1];
  if (args.length > 0 && isKwargs(last)) {
    pos = args.slice(0, -1);
    kwIn = last;
  }
  if (pos.length > sig.params.length && !sig.varargs) {
    throw typeError(`${sig.name}() takes at most ${sig.params.length} positional arguments (${pos.length} given)`);
  }
  const a: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  sig.params.forEach((p, i) => {
    if (i < pos.length) a[p] = pos[i];
  });
  const kw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwIn)) {
    if (k === KW_MARKER) continue;
    if (sig.params.includes(k)) {
      if (k in a) throw typeError(`${sig.name}() got multiple values for argument '${k}'`);
      a[k] = v;
    } else if (sig.varkw) {
      kw[k] = v;
    } else {
      throw typeError(`${sig.name}() got an unexpected keyword argument '${k}'`);
    }
  }
  for (let i = 0; i < (sig.required ?? 0); i++) {
    const p = sig.params[i];
    if (p !== undefined && a[p] === undefined) throw typeError(`${sig.name}() missing required argument: '${p}'`);
  }
  return { a, rest: pos.slice(sig.params.length), kw };
}

export type PyFunction = (...args: unknown[]) => unknown;

/** Wrap an implementation as a template-callable function with a Python signature. */
export function pyfunc(
  name: string,
  params: readonly string[],
  impl: (a: Record<string, unknown>, rest: unknown[], kw: Record<string, unknown>) => unknown,
  opts: Omit<Signature, 'name' | 'params'> = {},
): PyFunction {
  const sig: Signature = { name, params, ...opts };
  const fn = (...args: unknown[]): unknown => {
    const b = bindArgs(sig, args);
    return impl(b.a, b.rest, b.kw);
  };
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

// ---------------------------------------------------------------------------------------------
// Small type helpers

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Strings and nunjucks SafeStrings (which inherit from String.prototype). */
export function isStr(v: unknown): v is string | string[] {
  return typeof v === 'string' || v instanceof String;
}

export function asStr(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof String) return v.toString();
  return undefined;
}

export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * A Python float with an integral value. JS numbers cannot tell 2.0 from 2, but Python prints
 * them differently ("2.0"), so float-returning operations (/, total_seconds(), timestamp(),
 * |float, |round) box integral results in this Number subclass. Non-integral floats stay plain.
 */
export class PyFloat extends Number {}

/** The float result `n`: boxed when integral so it prints as Python would. */
export function pyFloat(n: number): number {
  return Number.isInteger(n) ? (new PyFloat(n) as unknown as number) : n;
}

/** Python float repr: '2.0', '1e+16', 'nan'. */
export function floatRepr(n: number): string {
  if (!Number.isFinite(n) || !Number.isInteger(n)) return pyNumStr(n);
  if (Math.abs(n) >= 1e16) return pyNumStr(Number(n.toExponential()));
  return `${Object.is(n, -0) ? '-0' : n}.0`;
}

/** Tuples are JS arrays tagged here, so that `%` formatting and repr can tell them from lists. */
const TUPLES = new WeakSet<unknown[]>();

export function tuple<T extends unknown[]>(items: T): T {
  TUPLES.add(items);
  return items;
}

export function isTuple(v: unknown): v is unknown[] {
  return Array.isArray(v) && TUPLES.has(v);
}

/** The Python type name of a value, for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === undefined) return 'Undefined';
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'bigint') return 'int';
  if (isStr(v)) return 'str';
  if (Array.isArray(v)) return isTuple(v) ? 'tuple' : 'list';
  if (v instanceof PyObject) return v._typeName();
  if (typeof v === 'function') return 'function';
  if (isPlainObject(v)) return 'dict';
  return 'object';
}

export function toInt(v: unknown, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'number' || v instanceof PyFloat) throw typeError(`${what}: integer argument expected, got float`);
  throw typeError(`${what}: '${pyTypeName(v)}' object cannot be interpreted as an integer`);
}

export function toNum(v: unknown, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.valueOf();
  throw typeError(`${what}: unsupported type '${pyTypeName(v)}' (a number is required)`);
}

export function toStr(v: unknown, what: string): string {
  const s = asStr(v);
  if (s === undefined) throw typeError(`${what} must be str, not ${pyTypeName(v)}`);
  return s;
}

export const optInt = (v: unknown, what: string, dflt: number): number => (v === undefined || v === null ? dflt : toInt(v, what));

/** Python float/int str(): `nan`, `inf`, two-digit exponents. */
export function pyNumStr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

// ---------------------------------------------------------------------------------------------
// The PyObject base class

export const NotImplemented: unique symbol = Symbol('NotImplemented');
export type BinOp = 'add' | 'sub' | 'mul' | 'truediv' | 'floordiv' | 'mod' | 'pow';

/** Names never exposed to templates even though JS objects have them. */
export const HIDDEN = new Set([
  'constructor',
  'toString',
  'toJSON',
  'valueOf',
  'toLocaleString',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
]);

/**
 * Base of all shims. Template-visible attributes are the public members; internals (and the
 * operator protocol) start with `_`, which templates cannot reach.
 */
export abstract class PyObject {
  abstract _typeName(): string;
  /** Python str(). */
  abstract _str(): string;
  /** Python repr(). */
  _repr(): string {
    return this._str();
  }
  _bool(): boolean {
    return true;
  }
  _eq(other: unknown): boolean {
    return this === other;
  }
  /** Sign of (this - other), or undefined when unorderable. May throw a Python TypeError. */
  _cmp(_other: unknown): number | undefined {
    return undefined;
  }
  /** `this <op> other` (or `other <op> this` when reflected); NotImplemented when unsupported. */
  _binop(_op: BinOp, _other: unknown, _reflected: boolean): unknown {
    return NotImplemented;
  }
  _neg(): unknown {
    throw typeError(`bad operand type for unary -: '${this._typeName()}'`);
  }
  /** Value used by the tojson filter. */
  _json(): unknown {
    return this._str();
  }
  /** format(value, spec) / str.format field. */
  _format(spec: string): string {
    if (spec) throw typeError(`unsupported format string passed to ${this._typeName()}.__format__`);
    return this._str();
  }
  _getattr(name: string): unknown {
    if (name.startsWith('_') || HIDDEN.has(name) || !(name in this)) return undefined;
    const v: unknown = Reflect.get(this, name);
    return typeof v === 'function' ? (v as PyFunction).bind(this) : v;
  }
  _getitem(key: unknown): unknown {
    return typeof key === 'string' ? this._getattr(key) : undefined;
  }
  toString(): string {
    return this._str();
  }
  toJSON(): unknown {
    return this._json();
  }
}

/** Something templates can call, e.g. a class such as `utils.datetime` or a weekday `MO`. */
export interface PyCallable {
  _call(...args: unknown[]): unknown;
}

export function isPyCallable(v: unknown): v is PyCallable {
  return v instanceof PyObject && typeof (v as Partial<PyCallable>)._call === 'function';
}

/** A module or class: a named bag of attributes, optionally callable (a constructor). */
export class PyNamespace extends PyObject {
  constructor(
    readonly _name: string,
    readonly _kind: 'module' | 'class',
    readonly _members: Record<string, unknown>,
    readonly _ctor?: PyFunction,
  ) {
    super();
  }
  _typeName(): string {
    return this._kind === 'module' ? 'module' : 'type';
  }
  _str(): string {
    return this._kind === 'module' ? `<module '${this._name}'>` : `<class '${this._name}'>`;
  }
  override _getattr(name: string): unknown {
    return hasOwn(this._members, name) ? this._members[name] : undefined;
  }
  _call(...args: unknown[]): unknown {
    if (!this._ctor) throw typeError(`'${this._typeName()}' object is not callable`);
    return this._ctor(...args);
  }
}
