/**
 * Jinja2 rendering for Lava templates, on top of nunjucks.
 *
 * Nunjucks parses Jinja syntax but evaluates it with JavaScript semantics. Lava templates were
 * written against Python objects, so this module compiles templates with a nunjucks Parser and
 * Compiler subclass whose generated code calls Python-semantics helpers (pytypes.ts) instead of
 * JS operators:
 *
 * - operators: `+ - * / // % **`, comparisons (incl. chains), `in`, `~`, unary minus compile to
 *   `runtime.pyBinop(...)` etc., which dispatch on shim types (datetime - timedelta, str * int,
 *   list + list) and otherwise apply Python number/str rules. A `valueOf` trick cannot do this
 *   (JS `+` on two objects cannot produce an object, and it cannot raise TypeErrors);
 * - truthiness: `if`, `and`, `or`, `not` and inline-if use Python truthiness ([] and {} are false);
 * - lookups: `a.b` is Python getattr (methods of str/list/dict shims, then keys) and `a[b]` is
 *   getitem (negative indexes, then attributes); slices `s[1:3]` have Python semantics;
 * - output: values print as Python str() (True, None, {'a': 1}), undefined prints '';
 * - string literals use Python escapes ('\d' stays a backslash-d, as in Jinja).
 *
 * The generated code receives our runtime object instead of nunjucks's global one, so nothing in
 * the shared nunjucks module is patched and other nunjucks users are unaffected.
 */
import nunjucks from 'nunjucks';
import { TemplateError } from '../core/errors.js';
import {
  PyError,
  PyFloat,
  PyObject,
  asStr,
  bindArgs,
  fromJs,
  isNumeric,
  isPlainObject,
  isPyCallable,
  isStr,
  percentFormat,
  pyAbs,
  pyBinop,
  pyBool,
  pyCmp,
  pyCompare,
  pyEq,
  pyFloat,
  pyGetattr,
  pyGetitem,
  pyIn,
  pyIter,
  pyNeg,
  pyNumStr,
  pyRepr,
  pySlice,
  pyStr,
  pyTypeName,
  toFixedPy,
  toInt,
  tuple,
  typeError,
} from './pytypes.js';
import type { BinOp, CompareOp, Signature } from './pytypes.js';
import {
  TEMPLATE_LIMITS,
  TemplateLimitError,
  boundedRange,
  checkItems,
  checkLength,
  loopIteration,
  repeatStr,
  resolveLimits,
  tick,
  withinLimits,
} from './limits.js';
import type { TemplateLimits } from './limits.js';

export interface RenderOptions {
  /** HTML-escape substituted values (upstream does this for sqlc/sqlv files named *.html / *.xml). */
  autoescape?: boolean;
  /** Bounds on this render; over the context's own (TEMPLATE_LIMITS key) and the defaults. */
  limits?: Partial<TemplateLimits>;
}

// ---------------------------------------------------------------------------------------------
// The nunjucks boundary. @types/nunjucks does not describe the parser/compiler internals we
// extend, so their shapes are declared here and all casts stay in this section.

interface NjToken {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}

interface NjNode {
  readonly typename: string;
  lineno: number;
  colno: number;
  [field: string]: unknown;
}

type NjNodeClass = new (lineno: number, colno: number, ...fields: unknown[]) => NjNode;
/** The compile-time frame maps template names to the JS expressions that hold them. */
interface NjFrame {
  push(): NjFrame;
  set(name: string, code: string): void;
}

interface NjTokenizer {
  nextToken(): NjToken | null;
  forward(): void;
  current(): string;
  isFinished(): boolean;
  _parseString(delimiter: string): string;
}

interface NjParser {
  peekToken(): NjToken | null;
  nextToken(): NjToken | null;
  skip(type: string): boolean;
  skipSymbol(name: string): boolean;
  parseCompare(): NjNode;
  parsePrimary(noPostfix?: boolean): NjNode;
  parsePostfix(node: NjNode): NjNode;
  parseExpression(): NjNode;
  parseSignature(): NjNode;
  parseAsRoot(): NjNode;
  fail(msg: string, lineno?: number, colno?: number): never;
}

interface NjCompiler {
  /** The JS variable the code being compiled appends its output to. */
  buffer: string;
  _emit(code: string): void;
  _emitLine(code: string): void;
  _tmpid(): string;
  _emitLoopBindings(node: NjNode, arr: string, i: string, len: string): void;
  compile(node: NjNode, frame: NjFrame | undefined): void;
  _compileExpression(node: NjNode, frame: NjFrame): void;
  assertType(node: NjNode, ...types: NjNodeClass[]): void;
  _getNodeName(node: NjNode): string;
  compileIf(node: NjNode, frame: NjFrame, async?: boolean): void;
  compileFor(node: NjNode, frame: NjFrame): void;
  compileSet(node: NjNode, frame: NjFrame): void;
  fail(msg: string, lineno?: number, colno?: number): never;
  getCode(): string;
}

type RootFn = (env: unknown, context: unknown, frame: unknown, runtime: unknown, cb: unknown) => void;

interface NjTemplate {
  render(context: Record<string, unknown>): string;
}

interface NjContext {
  ctx: Record<string, unknown>;
  env: NjEnvironment;
}

interface NjEnvironment {
  opts: Record<string, unknown>;
  globals: Record<string, unknown>;
  addFilter(name: string, fn: (...args: unknown[]) => unknown): void;
  addTest(name: string, fn: (...args: unknown[]) => boolean): void;
  addGlobal(name: string, value: unknown): void;
  getFilter(name: string): (...args: unknown[]) => unknown;
  getTest(name: string): (...args: unknown[]) => unknown;
}

interface Nunjucks {
  Environment: new (loaders: unknown[], opts: Record<string, unknown>) => NjEnvironment;
  Template: new (src: { type: 'code'; obj: Record<string, unknown> }, env: NjEnvironment) => NjTemplate;
  lexer: Record<string, string> & { lex(src: string, opts: Record<string, unknown>): NjTokenizer };
  parser: { Parser: new (tokens: NjTokenizer) => NjParser };
  compiler: { Compiler: new (name: string, throwOnUndefined: boolean) => NjCompiler };
  nodes: Record<'FunCall' | 'LookupVal' | 'Literal' | 'Array' | 'Symbol' | 'Is' | 'Not' | 'NodeList' | 'Set', NjNodeClass> & {
    Node: { extend(name: string, props: object): NjNodeClass };
  };
  runtime: Record<string, unknown> & { SafeString: new (s: string) => object; markSafe(s: string): unknown };
  lib: { escape(s: string): string };
}

const nj = nunjucks as unknown as Nunjucks;
const { nodes, lexer } = nj;
const SafeString = nj.runtime.SafeString;

const tok = (name: string): string => lexer[name] ?? name;

// ---------------------------------------------------------------------------------------------
// AST nodes of our own

const PyGetattr = nodes.Node.extend('PyGetattr', { fields: ['target', 'val'] });
const PySliceNode = nodes.Node.extend('PySlice', { fields: ['start', 'stop', 'step'] });
const PyTruth = nodes.Node.extend('PyTruth', { fields: ['target'] });
const PyIterNode = nodes.Node.extend('PyIter', { fields: ['target'] });
/** `for x in seq if cond`: Jinja's loop filter. */
const PyLoopFilter = nodes.Node.extend('PyLoopFilter', { fields: ['seq', 'cond', 'names'] });
/** A float literal, kept apart so that `1.0` prints as Python does. */
const PyFloatLiteral = nodes.Node.extend('PyFloatLiteral', { fields: ['value'] });
/** Raw JS produced by the compiler itself (e.g. one element of an unpacked tuple). */
const PyRaw = nodes.Node.extend('PyRaw', { fields: ['code'] });
const OUR_NODES = [PyGetattr, PySliceNode, PyTruth, PyIterNode, PyLoopFilter, PyFloatLiteral, PyRaw];

/** instanceof without type narrowing (all node classes share the NjNode shape). */
const isNode = (node: unknown, cls: NjNodeClass): boolean => node instanceof cls;

// ---------------------------------------------------------------------------------------------
// Lexing: Python string-literal escapes

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Python's unicode-escape decoding (what Jinja applies to literals); unknown escapes stay. */
export function pyUnescape(raw: string): string {
  return raw.replace(
    /\\(?:([\\'"abfnrtv])|(\n)|([0-7]{1,3})|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/g,
    (whole, simple?: string, nl?: string, oct?: string, x?: string, u?: string, U?: string) => {
      if (simple) return SIMPLE_ESCAPES[simple] ?? whole;
      if (nl) return '';
      const code = oct ? parseInt(oct, 8) : parseInt((x ?? u ?? U)!, 16);
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    },
  );
}

/** Replaces the tokenizer's string reader (which drops unknown backslashes: '\d' → 'd'). */
function pyParseString(this: NjTokenizer, delimiter: string): string {
  this.forward();
  let raw = '';
  while (!this.isFinished() && this.current() !== delimiter) {
    const c = this.current();
    raw += c;
    this.forward();
    if (c === '\\' && !this.isFinished()) {
      raw += this.current();
      this.forward();
    }
  }
  this.forward();
  return pyUnescape(raw);
}

const NAME_RE = /^[\p{L}_][\p{L}\p{N}_]*$/u;

/**
 * Adapt the nunjucks tokenizer to Jinja's lexical rules: Python string escapes, `1e3` and `1_000`
 * numbers, and an error for names that are not identifiers (nunjucks would silently read `\"x\"`
 * as a name).
 */
function jinjaTokens(source: string, opts: Record<string, unknown>): NjTokenizer {
  const tokens = nj.lexer.lex(source, opts);
  tokens._parseString = pyParseString;
  const next = tokens.nextToken.bind(tokens);
  tokens.nextToken = (): NjToken | null => {
    const t = next();
    if (t?.type !== tok('TOKEN_SYMBOL') || NAME_RE.test(t.value)) return t;
    if (/^\d[\d_]*$/.test(t.value)) return { ...t, type: tok('TOKEN_INT'), value: t.value.replace(/_/g, '') };
    if (/^\d+(\.\d+)?e\d+$/i.test(t.value)) return { ...t, type: tok('TOKEN_FLOAT') };
    throw new Error(`unexpected characters in name '${t.value}' [Line ${t.lineno + 1}, Column ${t.colno + 1}]`);
  };
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parsing: `.name` vs `[key]` lookups and slices

class PyParser extends nj.parser.Parser {
  override parsePrimary(noPostfix?: boolean): NjNode {
    const t = this.peekToken();
    if (t?.type !== tok('TOKEN_FLOAT')) return super.parsePrimary(noPostfix);
    this.nextToken();
    const node = new PyFloatLiteral(t.lineno, t.colno, parseFloat(t.value));
    return noPostfix ? node : this.parsePostfix(node);
  }

  override parsePostfix(start: NjNode): NjNode {
    let node = start;
    for (let t = this.peekToken(); t; t = this.peekToken()) {
      if (t.type === tok('TOKEN_LEFT_PAREN')) {
        node = new nodes.FunCall(t.lineno, t.colno, node, this.parseSignature());
      } else if (t.type === tok('TOKEN_LEFT_BRACKET')) {
        node = new nodes.LookupVal(t.lineno, t.colno, node, this.parseSubscript());
      } else if (t.type === tok('TOKEN_OPERATOR') && t.value === '.') {
        this.nextToken();
        const name = this.nextToken();
        if (name?.type === tok('TOKEN_INT')) {
          node = new nodes.LookupVal(t.lineno, t.colno, node, new nodes.Literal(name.lineno, name.colno, Number(name.value)));
        } else if (name?.type === tok('TOKEN_SYMBOL')) {
          node = new PyGetattr(t.lineno, t.colno, node, new nodes.Literal(name.lineno, name.colno, name.value));
        } else {
          this.fail(`expected name as lookup value, got ${name?.value ?? 'end of template'}`, t.lineno, t.colno);
        }
      } else {
        break;
      }
    }
    return node;
  }

  /**
   * `x is [not] name`, `x is name(args)` or Jinja's `x is name arg`. nunjucks parses the test as a
   * general expression, which rejects the paren-less form.
   */
  parseIs(): NjNode {
    let node = this.parseCompare();
    if (!this.skipSymbol('is')) return node;
    const not = this.skipSymbol('not');
    const name = this.nextToken();
    if (!name || ![tok('TOKEN_SYMBOL'), tok('TOKEN_BOOLEAN'), tok('TOKEN_NONE')].includes(name.type)) {
      this.fail(`expected a test name after 'is', got ${name?.value ?? 'end of template'}`, node.lineno, node.colno);
    }
    const testName = new nodes.Symbol(name.lineno, name.colno, name.value);
    let test: NjNode = testName;
    const next = this.peekToken();
    if (next?.type === tok('TOKEN_LEFT_PAREN')) {
      test = new nodes.FunCall(name.lineno, name.colno, testName, this.parseSignature());
    } else if (next && [...TEST_ARG_START].some((t) => tok(t) === next.type) && !NOT_TEST_ARG.has(next.value)) {
      test = new nodes.FunCall(
        name.lineno,
        name.colno,
        testName,
        new nodes.NodeList(next.lineno, next.colno, [this.parsePrimary()]),
      );
    }
    node = new nodes.Is(node.lineno, node.colno, node, test);
    return not ? new nodes.Not(node.lineno, node.colno, node) : node;
  }

  /** `[expr]` or a slice `[start:stop:step]` (each part optional). */
  parseSubscript(): NjNode {
    const open = this.nextToken()!;
    const parts: (NjNode | null)[] = [null, null, null];
    let idx = 0;
    for (;;) {
      const t = this.peekToken();
      if (!t) this.fail('unexpected end of template in subscript', open.lineno, open.colno);
      if (t.type === tok('TOKEN_RIGHT_BRACKET')) {
        this.nextToken();
        break;
      }
      if (t.type === tok('TOKEN_COLON')) {
        this.nextToken();
        if (++idx > 2) this.fail('invalid slice: too many colons', t.lineno, t.colno);
      } else if (parts[idx]) {
        this.fail('expected ] or : in subscript (tuple subscripts are not supported)', t.lineno, t.colno);
      } else {
        parts[idx] = this.parseExpression();
      }
    }
    if (idx > 0) return new PySliceNode(open.lineno, open.colno, parts[0], parts[1], parts[2]);
    if (!parts[0]) this.fail('empty subscript', open.lineno, open.colno);
    return parts[0];
  }
}

/** Tokens that may start a paren-less test argument (`x is divisibleby 3`), as in Jinja. */
const TEST_ARG_START = new Set([
  'TOKEN_SYMBOL',
  'TOKEN_STRING',
  'TOKEN_INT',
  'TOKEN_FLOAT',
  'TOKEN_BOOLEAN',
  'TOKEN_NONE',
  'TOKEN_LEFT_BRACKET',
  'TOKEN_LEFT_CURLY',
]);
const NOT_TEST_ARG = new Set(['else', 'or', 'and', 'if', 'is', 'in', 'not']);

// ---------------------------------------------------------------------------------------------
// Compiling: Python semantics via runtime helpers

class PyCompiler extends nj.compiler.Compiler {
  override assertType(node: NjNode, ...types: NjNodeClass[]): void {
    if (OUR_NODES.some((c) => isNode(node, c))) return;
    super.assertType(node, ...types);
  }

  override _getNodeName(node: NjNode): string {
    if (isNode(node, PyGetattr)) return `${this._getNodeName(node.target as NjNode)}.${String((node.val as NjNode).value)}`;
    if (node.typename === 'LookupVal' && isNode(node.val, PySliceNode)) return `${this._getNodeName(node.target as NjNode)}[...]`;
    return super._getNodeName(node);
  }

  /** Emit `runtime.<fn>(a, b, ...)` with each argument a compiled node, raw code, or null. */
  emitCall(fn: string, args: (NjNode | string | null)[], frame: NjFrame): void {
    this._emit(`runtime.${fn}(`);
    args.forEach((a, i) => {
      if (i) this._emit(', ');
      if (a === null) this._emit('null');
      else if (typeof a === 'string') this._emit(a);
      else this.compile(a, frame);
    });
    this._emit(')');
  }

  binop(op: BinOp, node: NjNode, frame: NjFrame): void {
    this.emitCall('pyBinop', [JSON.stringify(op), node.left as NjNode, node.right as NjNode], frame);
  }

  compilePyGetattr(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyGetattr', [node.target as NjNode, JSON.stringify((node.val as NjNode).value)], frame);
  }
  compileLookupVal(node: NjNode, frame: NjFrame): void {
    const val = node.val as NjNode;
    if (isNode(val, PySliceNode)) {
      this.emitCall(
        'pySlice',
        [node.target as NjNode, val.start as NjNode | null, val.stop as NjNode | null, val.step as NjNode | null],
        frame,
      );
    } else {
      this.emitCall('pyGetitem', [node.target as NjNode, val], frame);
    }
  }
  compilePySlice(node: NjNode): void {
    this.fail('a slice can only be used as a subscript', node.lineno, node.colno);
  }

  compileAdd(node: NjNode, frame: NjFrame): void {
    this.binop('add', node, frame);
  }
  compileSub(node: NjNode, frame: NjFrame): void {
    this.binop('sub', node, frame);
  }
  compileMul(node: NjNode, frame: NjFrame): void {
    this.binop('mul', node, frame);
  }
  compileDiv(node: NjNode, frame: NjFrame): void {
    this.binop('truediv', node, frame);
  }
  compileFloorDiv(node: NjNode, frame: NjFrame): void {
    this.binop('floordiv', node, frame);
  }
  compileMod(node: NjNode, frame: NjFrame): void {
    this.binop('mod', node, frame);
  }
  compilePow(node: NjNode, frame: NjFrame): void {
    this.binop('pow', node, frame);
  }
  compileConcat(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyConcat', [node.left as NjNode, node.right as NjNode], frame);
  }
  compileNeg(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyNeg', [node.target as NjNode], frame);
  }
  compilePos(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyPos', [node.target as NjNode], frame);
  }
  /** env.getTest(name).call(context, value, ...args) === true, with comma-separated args. */
  compileIs(node: NjNode, frame: NjFrame): void {
    const right = node.right as NjNode;
    const call = isNode(right, nodes.FunCall);
    const name = String((call ? (right.name as NjNode) : right).value);
    this._emit(`env.getTest(${JSON.stringify(name)}).call(context, `);
    this.compile(node.left as NjNode, frame);
    for (const arg of call ? ((right.args as NjNode).children as NjNode[]) : []) {
      this._emit(', ');
      this.compile(arg, frame);
    }
    this._emit(') === true');
  }
  compileIn(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyIn', [node.left as NjNode, node.right as NjNode], frame);
  }

  /** `a < b <= c` → runtime.pyCompareChain(a, ["<", b, "<=", c]). */
  compileCompare(node: NjNode, frame: NjFrame): void {
    this._emit('runtime.pyCompareChain(');
    this.compile(node.expr as NjNode, frame);
    this._emit(', [');
    (node.ops as NjNode[]).forEach((op, i) => {
      this._emit(`${i ? ', ' : ''}${JSON.stringify(op.type)}, `);
      this.compile(op.expr as NjNode, frame);
    });
    this._emit('])');
  }

  /** `and` / `or` short-circuit on Python truthiness and return an operand, as in Python. */
  compileOr(node: NjNode, frame: NjFrame): void {
    this.shortCircuit('pyOr', node, frame);
  }
  compileAnd(node: NjNode, frame: NjFrame): void {
    this.shortCircuit('pyAnd', node, frame);
  }
  shortCircuit(fn: string, node: NjNode, frame: NjFrame): void {
    this._emit(`runtime.${fn}(`);
    this.compile(node.left as NjNode, frame);
    this._emit(', function() { return ');
    this.compile(node.right as NjNode, frame);
    this._emit('; })');
  }
  compileNot(node: NjNode, frame: NjFrame): void {
    this._emit('!');
    this.emitCall('pyBool', [node.target as NjNode], frame);
  }
  compileInlineIf(node: NjNode, frame: NjFrame): void {
    this._emit('(');
    this.emitCall('pyBool', [node.cond as NjNode], frame);
    this._emit(' ? ');
    this.compile(node.body as NjNode, frame);
    this._emit(' : ');
    if (node.else_) this.compile(node.else_ as NjNode, frame);
    else this._emit('undefined');
    this._emit(')');
  }
  compilePyFloatLiteral(node: NjNode): void {
    this._emit(`runtime.pyFloat(${String(node.value)})`);
  }
  compilePyRaw(node: NjNode): void {
    this._emit(String(node.code));
  }
  compilePyTruth(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyBool', [node.target as NjNode], frame);
  }
  override compileIf(node: NjNode, frame: NjFrame, async?: boolean): void {
    const cond = node.cond as NjNode;
    if (!isNode(cond, PyTruth)) node.cond = new PyTruth(cond.lineno, cond.colno, cond);
    super.compileIf(node, frame, async);
  }

  /** `for x in d` iterates dict keys / string characters; `for k, v in ...` is left to nunjucks. */
  compilePyIter(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyIter', [node.target as NjNode], frame);
  }
  override compileFor(node: NjNode, frame: NjFrame): void {
    let arr = node.arr as NjNode;
    // nunjucks reads `for x in seq if cond` as an inline-if without else; Jinja means a filter.
    if (arr.typename === 'InlineIf' && !arr.else_) {
      const names = isNode(node.name, nodes.Array)
        ? ((node.name as NjNode).children as NjNode[]).map((c) => String(c.value))
        : [String((node.name as NjNode).value)];
      arr = node.arr = new PyLoopFilter(arr.lineno, arr.colno, arr.body, arr.cond, names);
    }
    if (!isNode(node.name, nodes.Array) && !isNode(arr, PyIterNode)) node.arr = new PyIterNode(arr.lineno, arr.colno, arr);
    super.compileFor(node, frame);
  }

  /** runtime.pyLoopFilter(seq, frame, names, function(frame) { return cond; }) */
  compilePyLoopFilter(node: NjNode, frame: NjFrame): void {
    const names = node.names as string[];
    this._emit('runtime.pyLoopFilter(');
    this.compile(node.seq as NjNode, frame);
    this._emit(`, frame, ${JSON.stringify(names)}, function(frame) { return `);
    const inner = frame.push();
    for (const n of names) inner.set(n, `frame.lookup(${JSON.stringify(n)})`);
    this.compile(node.cond as NjNode, inner);
    this._emit('; })');
  }

  /** Adds loop.cycle / previtem / nextitem to nunjucks's loop variables, and counts the iteration. */
  override _emitLoopBindings(node: NjNode, arr: string, i: string, len: string): void {
    this._emitLine(`runtime.pyLoopIteration(${this.buffer}.length);`);
    super._emitLoopBindings(node, arr, i, len);
    this._emitLine(`runtime.pyLoopExtras(frame, ${arr}, ${i}, ${len});`);
  }

  /** A parenthesised list of several expressions is a Python tuple. */
  compileGroup(node: NjNode, frame: NjFrame): void {
    const children = node.children as NjNode[];
    if (children.length === 1) {
      this._emit('(');
      this.compile(children[0]!, frame);
      this._emit(')');
      return;
    }
    this._emit('runtime.pyTuple([');
    children.forEach((c, i) => {
      if (i) this._emit(', ');
      this.compile(c, frame);
    });
    this._emit('])');
  }

  override compileSet(node: NjNode, frame: NjFrame): void {
    const targets = node.targets as NjNode[];
    for (const t of targets) {
      if (!isNode(t, nodes.Symbol))
        this.fail('only plain names can be assigned with {% set %} (namespace attributes are not supported)', t.lineno, t.colno);
    }
    if (targets.length < 2 || !node.value) {
      super.compileSet(node, frame);
      return;
    }
    // `{% set a, b = pair %}` unpacks (nunjucks would assign the pair to both names).
    const tmp = this._tmpid();
    this._emit(`var ${tmp} = runtime.pyUnpack(`);
    this.compile(node.value as NjNode, frame);
    this._emitLine(`, ${targets.length});`);
    targets.forEach((t, i) =>
      super.compileSet(new nodes.Set(node.lineno, node.colno, [t], new PyRaw(t.lineno, t.colno, `${tmp}[${i}]`)), frame),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The runtime our compiled templates run against

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

const pyRuntime: Record<string, unknown> = Object.assign(Object.create(nj.runtime) as Record<string, unknown>, {
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

// ---------------------------------------------------------------------------------------------
// Filters, tests and globals with Jinja (Python) semantics

type FilterImpl = (
  value: unknown,
  a: Record<string, unknown>,
  rest: unknown[],
  kw: Record<string, unknown>,
  ctx: NjContext,
) => unknown;

function filter(name: string, params: readonly string[], impl: FilterImpl, opts: Omit<Signature, 'name' | 'params'> = {}) {
  const sig: Signature = { name, params, ...opts };
  return function (this: NjContext, value: unknown, ...args: unknown[]): unknown {
    const b = bindArgs(sig, args);
    return impl(fromJs(value), b.a, b.rest, b.kw, this);
  };
}

/** Jinja's attribute getter for filters: dotted path, item lookup first, ints as indexes. */
function attrGetter(attribute: unknown): (x: unknown) => unknown {
  if (attribute === undefined || attribute === null) return (x) => x;
  const parts = pyStr(attribute).split('.');
  return (x) => parts.reduce<unknown>((v, p) => pyGetitem(v, /^\d+$/.test(p) ? Number(p) : p), x);
}

function sortKey(a: Record<string, unknown>): (x: unknown) => unknown {
  const get = attrGetter(a.attribute);
  return pyBool(a.case_sensitive)
    ? get
    : (x) => {
        const v = get(x);
        const s = asStr(v);
        return s === undefined ? v : s.toLowerCase();
      };
}

/** A sorted copy; the comparisons count as work, so a huge sort meets the render's deadline. */
function sortedBy(v: unknown, a: Record<string, unknown>): unknown[] {
  const items = [...pyIter(v)];
  tick(items.length * Math.log2(items.length + 1));
  return items.sort(orderBy(sortKey(a)));
}

function orderBy(key: (x: unknown) => unknown): (x: unknown, y: unknown) => number {
  return (x, y) => {
    const c = pyCmp(key(x), key(y));
    if (c === undefined)
      throw typeError(`'<' not supported between instances of '${pyTypeName(key(x))}' and '${pyTypeName(key(y))}'`);
    return c;
  };
}

const JSON_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** A JSON string literal as Python's json.dumps writes it (ensure_ascii: non-ASCII as \uXXXX). */
function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = s.charCodeAt(i);
    if (JSON_ESCAPES[c] !== undefined) out += JSON_ESCAPES[c];
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return out + '"';
}

/** Python json.dumps(value, sort_keys=True, indent=...) with datetimes as ISO strings. */
export function jsonDumps(value: unknown, indent: number | null = null, level = 0): string {
  tick(); // shared sublists make a small value print as a huge one
  const v = fromJs(value);
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' || v instanceof PyFloat) {
    const n = Number(v);
    if (Number.isNaN(n)) return 'NaN';
    if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
    return v instanceof PyFloat ? pyRepr(v) : pyNumStr(n);
  }
  if (typeof v === 'bigint') return v.toString();
  const s = asStr(v);
  if (s !== undefined) return jsonString(s);
  if (v instanceof PyObject) return jsonDumps(v._json(), indent, level);
  const wrap = (items: string[], open: string, close: string): string => {
    if (!items.length) return open + close;
    if (indent === null) return open + items.join(', ') + close;
    const pad = '\n' + repeatStr(' ', indent * (level + 1));
    return open + pad + items.join(',' + pad) + '\n' + repeatStr(' ', indent * level) + close;
  };
  if (Array.isArray(v) || v instanceof Set)
    return wrap(
      [...v].map((x) => jsonDumps(x, indent, level + 1)),
      '[',
      ']',
    );
  if (typeof v === 'object') {
    const entries = Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return wrap(
      entries.map(([k, x]) => `${jsonString(k)}: ${jsonDumps(x, indent, level + 1)}`),
      '{',
      '}',
    );
  }
  throw typeError(`Object of type ${pyTypeName(v)} is not JSON serializable`);
}

function toIntFilter(value: unknown, dflt: unknown, base: number): unknown {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value === 'number' || value instanceof PyFloat)
    return Number.isFinite(Number(value)) ? Math.trunc(Number(value)) : dflt;
  const s = asStr(value)?.trim().replace(/_/g, '');
  if (s === undefined) return dflt;
  const prefixed =
    base === 16
      ? s.replace(/^([+-]?)0x/i, '$1')
      : base === 8
        ? s.replace(/^([+-]?)0o/i, '$1')
        : base === 2
          ? s.replace(/^([+-]?)0b/i, '$1')
          : s;
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, base);
  if (new RegExp(`^[+-]?[${digits}]+$`, 'i').test(prefixed)) return parseInt(prefixed, base);
  const f = toFloatFilter(s, undefined);
  return typeof f === 'number' && Number.isFinite(f) ? Math.trunc(f) : dflt;
}

function toFloatFilter(value: unknown, dflt: unknown): unknown {
  if (isNumeric(value)) return pyFloat(Number(value));
  const s = asStr(value)?.trim().toLowerCase().replace(/_/g, '');
  if (s === undefined) return dflt;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(s)) return pyFloat(Number(s));
  if (/^[+-]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(s)) return NaN;
  return dflt;
}

/** Jinja round(): 'common' is Python's round() (ties to even), else floor/ceil. */
function roundFilter(value: unknown, precision: number, method: string): unknown {
  const x = Number(value);
  if (method === 'common') return pyFloat(Number(toFixedPy(x, precision)));
  const f = 10 ** precision;
  if (method === 'floor') return pyFloat(Math.floor(x * f) / f);
  if (method === 'ceil') return pyFloat(Math.ceil(x * f) / f);
  throw new PyError('FilterArgumentError', 'method must be common, ceil or floor');
}

function fileSize(value: unknown, binary: boolean): string {
  const bytes = Number(value);
  const base = binary ? 1024 : 1000;
  const units = binary
    ? ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB']
    : ['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  if (bytes === 1) return '1 Byte';
  if (bytes < base) return `${bytes} Bytes`;
  let i = 0;
  while (i < units.length - 1 && bytes >= base ** (i + 2)) i++;
  return `${toFixedPy(bytes / base ** (i + 1), 1)} ${units[i]}`;
}

const strFilter =
  (fn: (s: string) => string) =>
  (value: unknown): string =>
    fn(pyStr(value));

function selectFilter(name: string, keep: boolean, byAttr: boolean) {
  return filter(
    name,
    byAttr ? ['attr', 'test'] : ['test'],
    (value, a, rest, _kw, ctx) => {
      const get = byAttr ? attrGetter(a.attr) : (x: unknown): unknown => x;
      const test =
        a.test === undefined ? pyBool : (x: unknown): boolean => ctx.env.getTest(pyStr(a.test)).call(ctx, x, ...rest) === true;
      return pyIter(value).filter((x) => test(get(x)) === keep);
    },
    { varargs: true, required: byAttr ? 1 : 0 },
  );
}

const FILTERS: Record<string, (this: NjContext, value: unknown, ...args: unknown[]) => unknown> = {
  default: filter('default', ['default_value', 'boolean'], (v, a) =>
    v === undefined || (pyBool(a.boolean) && !pyBool(v)) ? (a.default_value ?? '') : v,
  ),
  length: (v) =>
    v === undefined
      ? 0
      : v instanceof Map || v instanceof Set
        ? v.size
        : isPlainObject(v)
          ? Object.keys(v).length
          : pyIter(v).length,
  first: (v) => pyIter(v)[0],
  last: (v) => pyIter(v).at(-1),
  join: filter('join', ['d', 'attribute'], (v, a) => {
    const sep = a.d === undefined ? '' : pyStr(a.d);
    let length = 0;
    return pyIter(v)
      .map(attrGetter(a.attribute))
      .map((x, i) => {
        const s = pyStr(x);
        checkLength((length += s.length + (i ? sep.length : 0)));
        return s;
      })
      .join(sep);
  }),
  lower: strFilter((s) => s.toLowerCase()),
  upper: strFilter((s) => s.toUpperCase()),
  title: strFilter((s) => s.replace(/([^-\s({[<]+)/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())),
  capitalize: strFilter((s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase()),
  trim: filter('trim', ['chars'], (v, a) => (pyGetattr(pyStr(v), 'strip') as (c: unknown) => string)(a.chars ?? null)),
  string: (v) => (v instanceof SafeString ? v : pyStr(v)),
  replace: filter(
    'replace',
    ['old', 'new', 'count'],
    (v, a) => (pyGetattr(pyStr(v), 'replace') as (...x: unknown[]) => string)(pyStr(a.old), pyStr(a.new), a.count ?? -1),
    { required: 2 },
  ),
  center: filter('center', ['width'], (v, a) => (pyGetattr(pyStr(v), 'center') as (w: unknown) => string)(a.width ?? 80)),
  int: filter('int', ['default', 'base'], (v, a) =>
    toIntFilter(v, a.default ?? 0, a.base === undefined ? 10 : toInt(a.base, 'base')),
  ),
  float: filter('float', ['default'], (v, a) => toFloatFilter(v, a.default ?? pyFloat(0))),
  round: filter('round', ['precision', 'method'], (v, a) =>
    roundFilter(
      v,
      a.precision === undefined ? 0 : toInt(a.precision, 'precision'),
      a.method === undefined ? 'common' : pyStr(a.method),
    ),
  ),
  abs: (v) => pyAbs(v),
  reverse: (v) => {
    const s = asStr(v);
    return s !== undefined ? Array.from(s).reverse().join('') : [...pyIter(v)].reverse();
  },
  list: (v) => [...pyIter(v)],
  sort: filter('sort', ['reverse', 'case_sensitive', 'attribute'], (v, a) => {
    const out = sortedBy(v, a);
    return pyBool(a.reverse) ? out.reverse() : out;
  }),
  unique: filter('unique', ['case_sensitive', 'attribute'], (v, a) => {
    const key = sortKey(a);
    const seen: unknown[] = [];
    return pyIter(v).filter((x) => {
      const k = key(x);
      tick(seen.length); // quadratic: the clock must see it
      if (seen.some((s) => pyEq(s, k))) return false;
      seen.push(k);
      return true;
    });
  }),
  min: filter('min', ['case_sensitive', 'attribute'], (v, a) => sortedBy(v, a)[0]),
  max: filter('max', ['case_sensitive', 'attribute'], (v, a) => sortedBy(v, a).at(-1)),
  sum: filter('sum', ['attribute', 'start'], (v, a) =>
    pyIter(v)
      .map(attrGetter(a.attribute))
      .reduce((acc, x) => pyBinop('add', acc, x), a.start ?? 0),
  ),
  tojson: filter('tojson', ['indent'], (v, a) =>
    nj.runtime.markSafe(
      jsonDumps(v, a.indent === undefined || a.indent === null ? null : toInt(a.indent, 'indent')).replace(
        /[<>&']/g,
        (c) => `\\u00${c.charCodeAt(0).toString(16)}`,
      ),
    ),
  ),
  items: (v) => (v === undefined ? [] : (pyGetattr(v, 'items') as () => unknown[])()),
  attr: filter('attr', ['name'], (v, a) => pyGetattr(v, pyStr(a.name)), { required: 1 }),
  map: filter(
    'map',
    ['name'],
    (v, a, rest, kw, ctx) => {
      if (a.name === undefined) {
        const get = attrGetter(kw.attribute);
        return pyIter(v).map((x) => {
          const r = get(x);
          return r === undefined && 'default' in kw ? kw.default : r;
        });
      }
      const f = ctx.env.getFilter(pyStr(a.name));
      return pyIter(v).map((x) => f.call(ctx, x, ...rest));
    },
    { varargs: true, varkw: true },
  ),
  select: selectFilter('select', true, false),
  reject: selectFilter('reject', false, false),
  selectattr: selectFilter('selectattr', true, true),
  rejectattr: selectFilter('rejectattr', false, true),
  format: filter('format', [], (v, _a, rest, kw) => percentFormat(pyStr(v), rest.length ? tuple(rest) : kw), {
    varargs: true,
    varkw: true,
  }),
  pprint: (v) => pyRepr(v),
  filesizeformat: filter('filesizeformat', ['binary'], (v, a) => fileSize(v, pyBool(a.binary))),
};
FILTERS.d = FILTERS.default!;
FILTERS.count = FILTERS.length!;

const cmpTest =
  (op: CompareOp) =>
  (a: unknown, b: unknown): boolean =>
    pyCompare(op, a, b);

const TESTS: Record<string, (...args: unknown[]) => boolean> = {
  defined: (v) => v !== undefined,
  undefined: (v) => v === undefined,
  none: (v) => v === null,
  boolean: (v) => typeof v === 'boolean',
  true: (v) => v === true,
  false: (v) => v === false,
  number: (v) => isNumeric(v),
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v)),
  string: (v) => isStr(v),
  mapping: (v) => isPlainObject(v),
  sequence: (v) => isStr(v) || Array.isArray(v) || isPlainObject(v),
  iterable: (v) => isStr(v) || Array.isArray(v) || isPlainObject(v) || v instanceof Map || v instanceof Set,
  callable: (v) => typeof v === 'function' || isPyCallable(v),
  sameas: (a, b) => a === b,
  escaped: (v) => v instanceof SafeString,
  in: (v, seq) => pyIn(v, seq),
  lower: (v) => isStr(v) && pyStr(v) === pyStr(v).toLowerCase(),
  upper: (v) => isStr(v) && pyStr(v) === pyStr(v).toUpperCase(),
  even: (v) => Number(v) % 2 === 0,
  odd: (v) => Math.abs(Number(v) % 2) === 1,
  divisibleby: (v, n) => Number(v) % Number(n) === 0,
  eq: cmpTest('=='),
  equalto: cmpTest('=='),
  '==': cmpTest('=='),
  ne: cmpTest('!='),
  '!=': cmpTest('!='),
  lt: cmpTest('<'),
  lessthan: cmpTest('<'),
  '<': cmpTest('<'),
  le: cmpTest('<='),
  '<=': cmpTest('<='),
  gt: cmpTest('>'),
  greaterthan: cmpTest('>'),
  '>': cmpTest('>'),
  ge: cmpTest('>='),
  '>=': cmpTest('>='),
};

/**
 * nunjucks' own filters that build something as large as a number argument says: checked against
 * the render's bounds before they run (`"x"|indent(10**9)` would otherwise loop for minutes).
 */
function guardBuiltinSizes(env: NjEnvironment): void {
  const guard = (name: string, check: (value: unknown, n: number) => void) => {
    const builtin = env.getFilter(name);
    env.addFilter(name, function (this: unknown, value: unknown, ...args: unknown[]) {
      if (typeof args[0] === 'number') check(value, args[0]);
      return builtin.call(this, value, ...args);
    });
  };
  guard('indent', (value, width) => {
    const lines = pyStr(value).split('\n').length;
    checkLength(pyStr(value).length + lines * Math.max(0, width), 'an indented string');
  });
  guard('slice', (_value, slices) => checkItems(slices, 'slice()'));
  guard('batch', (_value, size) => checkItems(size, 'batch()'));
}

function makeEnvironment(autoescape: boolean): NjEnvironment {
  const env = new nj.Environment([], { autoescape, throwOnUndefined: false, trimBlocks: false, lstripBlocks: false });
  for (const [name, fn] of Object.entries(FILTERS)) env.addFilter(name, fn);
  guardBuiltinSizes(env);
  for (const [name, fn] of Object.entries(TESTS)) env.addTest(name, fn);
  env.addGlobal('dict', (...args: unknown[]) => bindArgs({ name: 'dict', params: [], varkw: true }, args).kw);
  env.addGlobal('range', boundedRange);
  return env;
}

// ---------------------------------------------------------------------------------------------
// Compiling and rendering

const environments = new Map<boolean, NjEnvironment>();
const templateCache = new Map<string, NjTemplate>();
const CACHE_LIMIT = 1000;

function environment(autoescape: boolean): NjEnvironment {
  let env = environments.get(autoescape);
  if (!env) {
    env = makeEnvironment(autoescape);
    environments.set(autoescape, env);
  }
  return env;
}

function compileTemplate(source: string, env: NjEnvironment): NjTemplate {
  const ast = new PyParser(jinjaTokens(source, env.opts)).parseAsRoot();
  // nunjucks's transformer pass is skipped: it only rewrites async filters and block super(),
  // neither of which a standalone (loader-less) template can use.
  const compiler = new PyCompiler('template', false);
  compiler.compile(ast, undefined);
  // Evaluating the generated code is how nunjucks itself loads a compiled template.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const props = new Function(compiler.getCode())() as Record<string, unknown>;
  const root = props.root as RootFn;
  props.root = (e: unknown, ctx: unknown, frame: unknown, _rt: unknown, cb: unknown) => root(e, ctx, frame, pyRuntime, cb);
  return new nj.Template({ type: 'code', obj: props }, env);
}

function getTemplate(source: string, autoescape: boolean): NjTemplate {
  const key = `${autoescape ? 1 : 0}${source}`;
  let t = templateCache.get(key);
  if (!t) {
    t = compileTemplate(source, environment(autoescape));
    if (templateCache.size >= CACHE_LIMIT) templateCache.clear();
    templateCache.set(key, t);
  }
  return t;
}

/** Jinja reads any newline style as \n and drops one trailing newline (keep_trailing_newline=False). */
function normaliseSource(source: string): string {
  return source.replace(/\r\n?/g, '\n').replace(/\n$/, '');
}

const truncate = (s: string, n = 200): string => (s.length > n ? `${s.slice(0, n)}...` : s);

function renderError(err: unknown, source: string): TemplateError {
  const raw = err instanceof Error ? err.message : String(err);
  const msg = raw.replace(/^\(unknown path\)\s*/, '').replace(/\s*\n\s*/g, ' ');
  // Parse errors carry their (1-based) position; nunjucks only puts it in the message at render time.
  const { lineno, colno } = (err ?? {}) as { lineno?: unknown; colno?: unknown };
  const where =
    typeof lineno === 'number' && lineno > 0 && !msg.includes('[Line') ? ` (line ${lineno}, column ${String(colno)})` : '';
  return new TemplateError(
    `Jinja template failed to render: ${msg}${where}. Check the template's syntax and the variables it uses. Template: ${JSON.stringify(truncate(source))}`,
    { cause: err },
  );
}

/**
 * Render a Jinja template with Jinja2 default semantics: undefined names (and attributes of
 * undefined) render as '', no autoescape, one trailing newline dropped, Python value printing.
 */
export function renderTemplate(source: string, context: Record<string, unknown>, options: RenderOptions = {}): string {
  if (typeof source !== 'string') throw new TemplateError(`a template must be a string, got ${pyTypeName(source)}`);
  const text = normaliseSource(source);
  if (!/\{[{%#]/.test(text)) return text; // nothing to evaluate
  const limits = resolveLimits(
    (context as Record<symbol, unknown>)[TEMPLATE_LIMITS] as Partial<TemplateLimits> | undefined,
    options.limits,
  );
  try {
    const template = getTemplate(text, options.autoescape ?? false);
    return withinLimits(limits, () => template.render(context));
  } catch (err) {
    if (err instanceof TemplateLimitError)
      throw new TemplateLimitError(err.limit, `${err.detail}. Template: ${JSON.stringify(truncate(source))}`);
    throw renderError(err, source);
  }
}

/**
 * Lava's "JSON trick" for structured values: JSON-encode, render the whole text as one template,
 * JSON-decode. Leaves that were templated become strings.
 */
export function renderStructure(value: unknown, context: Record<string, unknown>, options: RenderOptions = {}): unknown {
  const text = JSON.stringify(value);
  if (text === undefined) return value;
  const rendered = renderTemplate(text, context, options);
  try {
    return JSON.parse(rendered) as unknown;
  } catch (err) {
    throw new TemplateError(
      'rendering produced invalid JSON: a value substituted into the structure probably contains a double quote, backslash or ' +
        'newline, which breaks the JSON encoding (upstream Lava behaves the same way, quirk A22). Escape or avoid such ' +
        `characters in the substituted value (e.g. with the replace filter). Rendered text: ${JSON.stringify(truncate(rendered))}`,
      { cause: err },
    );
  }
}
