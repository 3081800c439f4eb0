/** Lexing (Python string-literal escapes) and parsing (`.name` vs `[key]` lookups and slices). */
import { PyFloatLiteral, PyGetattr, PySliceNode, nj, nodes, tok } from './jinja-nunjucks.js';
import type { NjNode, NjToken, NjTokenizer } from './jinja-nunjucks.js';

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
export function jinjaTokens(source: string, opts: Record<string, unknown>): NjTokenizer {
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

export class PyParser extends nj.parser.Parser {
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
