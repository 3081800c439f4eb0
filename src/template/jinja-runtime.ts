/** The runtime our compiled templates run against (nunjucks's own, with Python helpers over it). */
import {
  PyError,
  fromJs,
  isPyCallable,
  pyBinop,
  pyBool,
  pyCompare,
  pyFloat,
  pyGetattr,
  pyGetitem,
  pyIn,
  pyIter,
  pyNeg,
  pySlice,
  pyStr,
  pyTypeName,
  tuple,
  typeError,
} from './pytypes.js';
import type { CompareOp } from './pytypes.js';
import { SafeString, nj } from './jinja-nunjucks.js';
import type { NjContext } from './jinja-nunjucks.js';
import { checkLength, loopIteration, tick } from './limits.js';

function contextOrFrameLookup(context: NjContext, frame: { lookup(name: string): unknown }, name: string): unknown {
  const v = frame.lookup(name);
  if (v !== undefined) return v;
  if (Object.prototype.hasOwnProperty.call(context.ctx, name)) return fromJs(context.ctx[name]);
  if (Object.prototype.hasOwnProperty.call(context.env.globals, name)) return context.env.globals[name];
  // Jinja accepts the Python spellings of the constants.
  if (name === 'True') return true;
  if (name === 'False') return false;
  if (name === 'None') return null;
  return undefined;
}

function callWrap(obj: unknown, name: string, context: unknown, args: unknown[]): unknown {
  tick(); // macros can recurse and fan out without any loop
  if (isPyCallable(obj)) return obj._call(...args);
  if (typeof obj === 'function') return (obj as (...a: unknown[]) => unknown).apply(context, args);
  if (obj === undefined) throw new PyError('UndefinedError', `'${name}' is undefined and cannot be called`);
  throw typeError(`'${pyTypeName(obj)}' object is not callable (${name})`);
}

function suppressValue(val: unknown, autoescape: boolean): unknown {
  if (val instanceof SafeString) {
    checkLength(String(val).length, 'a value the template prints');
    return val;
  }
  const s = pyStr(val);
  checkLength(s.length, 'a value the template prints');
  return autoescape ? nj.lib.escape(s) : s;
}

interface RtFrame {
  push(): RtFrame;
  set(name: string, value: unknown): void;
}

function pyLoopFilter(seq: unknown, frame: RtFrame, names: string[], cond: (f: RtFrame) => unknown): unknown[] {
  return pyIter(seq).filter((item) => {
    loopIteration(0);
    const f = frame.push();
    if (names.length === 1) f.set(names[0]!, item);
    else names.forEach((n, i) => f.set(n, pyGetitem(item, i)));
    return pyBool(cond(f));
  });
}

function pyLoopExtras(frame: RtFrame, arr: unknown, i: number, len: number): void {
  if (!Array.isArray(arr)) return;
  frame.set('loop.cycle', (...args: unknown[]) => (args.length ? args[i % args.length] : undefined));
  frame.set('loop.previtem', i > 0 ? arr[i - 1] : undefined);
  frame.set('loop.nextitem', i < len - 1 ? arr[i + 1] : undefined);
}

function pyUnpack(value: unknown, n: number): unknown[] {
  const items = pyIter(value);
  if (items.length > n) throw new PyError('ValueError', `too many values to unpack (expected ${n})`);
  if (items.length < n) throw new PyError('ValueError', `not enough values to unpack (expected ${n}, got ${items.length})`);
  return items;
}

function pyCompareChain(first: unknown, ops: unknown[]): boolean {
  let left = first;
  for (let i = 0; i < ops.length; i += 2) {
    const right = ops[i + 1];
    if (!pyCompare(ops[i] as CompareOp, left, right)) return false;
    left = right;
  }
  return true;
}

export const pyRuntime: Record<string, unknown> = Object.assign(Object.create(nj.runtime) as Record<string, unknown>, {
  contextOrFrameLookup,
  callWrap,
  suppressValue,
  pyGetattr,
  pyGetitem,
  pySlice,
  pyBinop,
  pyNeg,
  pyPos: (v: unknown): unknown => (typeof v === 'boolean' ? Number(v) : v),
  pyConcat: (a: unknown, b: unknown): string => {
    const sa = pyStr(a);
    const sb = pyStr(b);
    checkLength(sa.length + sb.length);
    return sa + sb;
  },
  pyIn,
  pyIter,
  pyBool,
  pyTuple: tuple,
  pyFloat,
  pyLoopFilter,
  pyLoopExtras,
  pyLoopIteration: loopIteration,
  pyUnpack,
  pyCompareChain,
  pyOr: (a: unknown, b: () => unknown): unknown => (pyBool(a) ? a : b()),
  pyAnd: (a: unknown, b: () => unknown): unknown => (pyBool(a) ? b() : a),
});
