/**
 * The nunjucks boundary. @types/nunjucks does not describe the parser/compiler internals we
 * extend, so their shapes are declared here and all casts stay in this module; it also defines
 * the AST nodes of our own that the parser emits and the compiler turns into runtime calls.
 */
import nunjucks from 'nunjucks';

export interface NjToken {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}

export interface NjNode {
  readonly typename: string;
  lineno: number;
  colno: number;
  [field: string]: unknown;
}

export type NjNodeClass = new (lineno: number, colno: number, ...fields: unknown[]) => NjNode;
/** The compile-time frame maps template names to the JS expressions that hold them. */
export interface NjFrame {
  push(): NjFrame;
  set(name: string, code: string): void;
}

export interface NjTokenizer {
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

export type RootFn = (env: unknown, context: unknown, frame: unknown, runtime: unknown, cb: unknown) => void;

export interface NjTemplate {
  render(context: Record<string, unknown>): string;
}

export interface NjContext {
  ctx: Record<string, unknown>;
  env: NjEnvironment;
}

export interface NjEnvironment {
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

export const nj = nunjucks as unknown as Nunjucks;
export const { nodes, lexer } = nj;
export const SafeString = nj.runtime.SafeString;

export const tok = (name: string): string => lexer[name] ?? name;

// ---------------------------------------------------------------------------------------------
// AST nodes of our own

export const PyGetattr = nodes.Node.extend('PyGetattr', { fields: ['target', 'val'] });
export const PySliceNode = nodes.Node.extend('PySlice', { fields: ['start', 'stop', 'step'] });
export const PyTruth = nodes.Node.extend('PyTruth', { fields: ['target'] });
export const PyIterNode = nodes.Node.extend('PyIter', { fields: ['target'] });
/** `for x in seq if cond`: Jinja's loop filter. */
export const PyLoopFilter = nodes.Node.extend('PyLoopFilter', { fields: ['seq', 'cond', 'names'] });
/** A float literal, kept apart so that `1.0` prints as Python does. */
export const PyFloatLiteral = nodes.Node.extend('PyFloatLiteral', { fields: ['value'] });
/** Raw JS produced by the compiler itself (e.g. one element of an unpacked tuple). */
export const PyRaw = nodes.Node.extend('PyRaw', { fields: ['code'] });
export const OUR_NODES = [PyGetattr, PySliceNode, PyTruth, PyIterNode, PyLoopFilter, PyFloatLiteral, PyRaw];

/** instanceof without type narrowing (all node classes share the NjNode shape). */
export const isNode = (node: unknown, cls: NjNodeClass): boolean => node instanceof cls;
