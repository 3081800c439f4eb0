/**
 * Reading YAML spec files the way upstream Lava (PyYAML, YAML 1.1) reads them, so a spec means the
 * same here: yes/no/on/off are booleans, 0755 is octal, 1:30 is base 60, `<<` merges. Dates stay
 * text (upstream cannot store a date in a spec). Errors name the file, line and column once.
 */
import { isNode, parseAllDocuments, visit, type Document, type ScalarTag, type Tags } from 'yaml';
import { ValidationError } from '../core/errors.js';

const BOOL = 'tag:yaml.org,2002:bool';
const INT = 'tag:yaml.org,2002:int';
const FLOAT = 'tag:yaml.org,2002:float';
const TIMESTAMP = 'tag:yaml.org,2002:timestamp';

// PyYAML's implicit resolvers (yaml/resolver.py), exactly: no y/n, a float needs a dot.
const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const PY_INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const PY_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
/** Numbers people often mean as text: octal (0755) and base 60 (1:30). */
const SURPRISING_NUMBER = /^[-+]?(?:0[0-7_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$/;

function sexagesimal(digits: string): number {
  return digits.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

/** int() of PyYAML's constructor: sign, then 0b / 0x / 0 (octal) / base 60 / decimal. */
function pyInt(text: string): number {
  let s = text.replace(/_/g, '');
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s.startsWith('0b')) return sign * parseInt(s.slice(2), 2);
  if (s.startsWith('0x')) return sign * parseInt(s.slice(2), 16);
  if (s.startsWith('0')) return sign * parseInt(s, 8);
  if (s.includes(':')) return sign * sexagesimal(s);
  return sign * Number(s);
}

function pyFloat(text: string): number {
  let s = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '.inf') return sign * Infinity;
  if (s === '.nan') return NaN;
  if (s.includes(':')) {
    const [whole, frac = ''] = s.split('.');
    return sign * (sexagesimal(whole as string) + Number(`0.${frac || '0'}`));
  }
  return sign * Number(s);
}

const pyScalars: ScalarTag[] = [
  { tag: BOOL, default: true, test: PY_TRUE, resolve: () => true, identify: (v) => v === true },
  { tag: BOOL, default: true, test: PY_FALSE, resolve: () => false, identify: (v) => v === false },
  { tag: INT, default: true, test: PY_INT, resolve: pyInt, identify: (v) => typeof v === 'number' && Number.isInteger(v) },
  { tag: FLOAT, default: true, test: PY_FLOAT, resolve: pyFloat, identify: (v) => typeof v === 'number' },
];

/** The YAML 1.1 schema with PyYAML's booleans and numbers, and no timestamps. */
function pyyamlTags(tags: Tags): Tags {
  const replaced = [BOOL, INT, FLOAT, TIMESTAMP];
  const names = /^(?:bool|int\w*|float\w*|timestamp)$/;
  const kept = tags.filter((t) => (typeof t === 'string' ? !names.test(t) : !replaced.includes(t.tag)));
  return [...kept, ...pyScalars];
}

// prettyErrors off: errors are located here, once; making every error pretty costs O(file) each.
export const YAML_OPTIONS = { version: '1.1', customTags: pyyamlTags, prettyErrors: false } as const;

/** 1-based line and column of an offset, as editors show them. */
export function position(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

/** `FILE: WHAT: line L, column C: WHY`, then the line (a window of a long one) with a caret under the column. */
function located(file: string, text: string, offset: number, what: string, why: string): ValidationError {
  const { line, col } = position(text, offset);
  let source = (text.split('\n')[line - 1] ?? '').replace(/\r$/, '');
  let at = col - 1;
  if (source.length > EXCERPT) {
    const from = Math.max(0, Math.min(at - EXCERPT / 2, source.length - EXCERPT));
    source = `${from > 0 ? '…' : ''}${source.slice(from, from + EXCERPT)}${from + EXCERPT < source.length ? '…' : ''}`;
    at = at - from + (from > 0 ? 1 : 0);
  }
  return new ValidationError(`${file}: ${what}: line ${line}, column ${col}: ${why}\n    ${source}\n    ${' '.repeat(at)}^`);
}

const EXCERPT = 100;

/**
 * The first problem of a document, at the place a reader needs to look. For a plain value that
 * runs on into a `key: value` the parser points at the value's start (often the line before);
 * the `: ` that made it a key is where the fix goes, and where PyYAML points.
 */
function firstError(doc: Document.Parsed, file: string, text: string): ValidationError | undefined {
  const [err] = doc.errors;
  if (!err) return undefined;
  let offset = err.pos[0];
  let message = err.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
  if (err.code === 'BLOCK_AS_IMPLICIT_KEY' || err.code === 'MULTILINE_IMPLICIT_KEY') {
    const colon = /:(?=[ \t\r\n]|$)/g;
    colon.lastIndex = offset;
    const m = colon.exec(text);
    if (m) offset = m.index;
    message = 'a ": " inside a plain value starts a mapping here: quote the value, or indent the line as a key of its own';
  }
  return located(file, text, offset, 'not valid JSON or YAML', message);
}

/** An alias inside the node it names (`x: &x [*x]`) makes an endless value no spec can hold. */
function selfAlias(doc: Document.Parsed, file: string, text: string): ValidationError | undefined {
  let found: ValidationError | undefined;
  visit(doc, {
    Alias(_key, alias) {
      const target = alias.resolve(doc);
      const [start, end] = isNode(target) && target.range ? target.range : [0, 0];
      const at = alias.range?.[0] ?? 0;
      if (target && at >= start && at < end) {
        const why = `the alias *${alias.source} is inside &${alias.source}, the value it names, so the value would contain itself without end: copy the values instead of the alias`;
        found = located(file, text, at, 'not valid as a spec', why);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** Plain scalars read as numbers that were probably meant as text: worth a warning. */
function surprisingNumbers(doc: Document.Parsed, file: string, text: string): string[] {
  const warnings: string[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if (node.type !== 'PLAIN' || typeof node.value !== 'number' || !node.source) return;
      if (!SURPRISING_NUMBER.test(node.source)) return;
      const { line, col } = position(text, node.range?.[0] ?? 0);
      const kind = node.source.includes(':') ? 'base 60' : 'octal';
      warnings.push(
        `${file}: line ${line}, column ${col}: ${node.source} is read as the number ${node.value} (YAML 1.1 ${kind}, as upstream Lava reads it): quote it if you mean the text`,
      );
    },
  });
  return warnings;
}

/** Every document's value (a list document gives its items); throws on the first problem. */
export function readYaml(text: string, file: string, warnings: string[] = []): unknown[] {
  try {
    return readDocuments(text, file, warnings);
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    // The parser's own limits (alias count, nesting too deep for the stack) end here.
    throw new ValidationError(`${file}: not valid JSON or YAML: ${(err as Error).message}`);
  }
}

function readDocuments(text: string, file: string, warnings: string[]): unknown[] {
  const values: unknown[] = [];
  // One error, from the first bad document: later errors are often echoes of the first.
  for (const doc of parseAllDocuments(text, YAML_OPTIONS)) {
    const problem = firstError(doc, file, text) ?? selfAlias(doc, file, text);
    if (problem) throw problem;
    warnings.push(...surprisingNumbers(doc, file, text));
    const v: unknown = doc.toJS();
    if (v == null) continue;
    if (Array.isArray(v)) values.push(...(v as unknown[]));
    else values.push(v);
  }
  return values;
}
