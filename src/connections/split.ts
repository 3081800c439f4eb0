/**
 * SQL lexing and statement splitting, modelled on Python sqlparse's `split()` (what upstream Lava
 * uses): a `;` ends a statement unless it is inside a string, quoted identifier, comment,
 * Postgres dollar-quoted body, parentheses, or the BEGIN … END body of a CREATE statement
 * (procedures, triggers). Jinja is rendered after splitting, so the lexer sees template text.
 */

export type TokenKind = 'ws' | 'comment' | 'string' | 'ident' | 'word' | 'punct' | 'placeholder' | 'other';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset in the source. */
  start: number;
}

const WORD_START = /[A-Za-z_\u00C0-\uFFFF]/;
const WORD_CHAR = /[A-Za-z0-9_$\u00C0-\uFFFF]/;

/** Split SQL text into tokens. Unterminated strings/comments run to the end of the text. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end), start: i });
    i = end;
  };
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < n && /\s/.test(sql[j] as string)) j++;
      push('ws', j);
    } else if (c === '-' && next === '-') {
      push('comment', lineEnd(sql, i));
    } else if (c === '#' && (next === ' ' || next === '!')) {
      // sqlparse treats "# " and "#!" as line comments (MySQL); a bare # stays an operator.
      push('comment', lineEnd(sql, i));
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      push('comment', end < 0 ? n : end + 2);
    } else if (c === "'") {
      const prev = tokens.at(-1);
      // E'…' (Postgres escape string): backslash escapes the next character.
      const backslash = prev?.kind === 'word' && /^[eE]$/.test(prev.text) && prev.start + 1 === i;
      push('string', quoteEnd(sql, i, "'", backslash || false));
    } else if (c === '"') {
      push('ident', quoteEnd(sql, i, '"', false));
    } else if (c === '`') {
      push('ident', quoteEnd(sql, i, '`', false));
    } else if (c === '$') {
      const m = /^\$([A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_\u00C0-\uFFFF]*)?\$/.exec(sql.slice(i));
      const prev = tokens.at(-1);
      const glued = prev !== undefined && prev.start + prev.text.length === i && prev.kind === 'word';
      if (m && !glued) {
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        push('string', end < 0 ? n : end + tag.length);
      } else if (/^\$\d+/.test(sql.slice(i))) {
        let j = i + 1;
        while (j < n && /\d/.test(sql[j] as string)) j++;
        push('placeholder', j);
      } else push('other', i + 1);
    } else if (c === '?') {
      push('placeholder', i + 1);
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < n && WORD_CHAR.test(sql[j] as string)) j++;
      push('word', j);
    } else if (c === ';' || c === '(' || c === ')' || c === ',' || c === '.') {
      push('punct', i + 1);
    } else {
      push('other', i + 1);
    }
  }
  return tokens;
}

function lineEnd(sql: string, from: number): number {
  const nl = sql.indexOf('\n', from);
  return nl < 0 ? sql.length : nl + 1;
}

/** End offset (exclusive) of a quoted token starting at `from`; a doubled quote is an escaped quote. */
function quoteEnd(sql: string, from: number, q: string, backslash: boolean): number {
  let j = from + 1;
  while (j < sql.length) {
    const ch = sql[j];
    if (backslash && ch === '\\') {
      j += 2;
      continue;
    }
    if (ch === q) {
      if (sql[j + 1] === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return sql.length;
}

/**
 * Split SQL text into statements, each trimmed and keeping its trailing `;`. Comments between
 * statements go with the statement that follows; a trailing chunk of only comments is returned too
 * (callers skip blank statements but still count them, as upstream does).
 */
export function splitStatements(sql: string): string[] {
  const tokens = tokenize(sql);
  const out: string[] = [];
  let startOffset = 0;
  let level = 0;
  let isCreate = false;
  let beginDepth = 0;
  let skip = -1;
  const reset = () => {
    level = 0;
    isCreate = false;
    beginDepth = 0;
  };
  for (const [k, t] of tokens.entries()) {
    if (t.kind === 'punct') {
      if (t.text === '(') level++;
      else if (t.text === ')') level--;
      else if (t.text === ';' && level <= 0) {
        const end = t.start + 1;
        const text = sql.slice(startOffset, end).trim();
        if (text) out.push(text);
        startOffset = end;
        reset();
      }
      continue;
    }
    if (t.kind !== 'word' || k === skip || !isKeywordPosition(tokens, k)) continue;
    const w = t.text.toUpperCase();
    if (w === 'CREATE') {
      isCreate = true;
    } else if (w === 'DECLARE' && isCreate && beginDepth === 0) {
      level++;
    } else if (w === 'BEGIN') {
      beginDepth++;
      if (isCreate) level++;
    } else if (w === 'END') {
      const after = nextWord(tokens, k)?.toUpperCase();
      if (after === 'IF' || after === 'WHILE') {
        // "END IF" / "END WHILE" are one keyword to sqlparse: they close a level but not a BEGIN.
        skip = k + 2;
        level--;
      } else if (after === 'LOOP') {
        // "END LOOP" is one keyword too, and changes nothing (nor does LOOP).
        skip = k + 2;
      } else {
        beginDepth = Math.max(0, beginDepth - 1);
        level--;
      }
    } else if ((w === 'IF' || w === 'FOR' || w === 'WHILE' || w === 'CASE') && isCreate && beginDepth > 0) {
      level++;
    }
  }
  const rest = sql.slice(startOffset).trim();
  if (rest) out.push(rest);
  return out;
}

/** A word is a keyword unless it follows a `.` (qualified name) or is directly followed by `(` (a function call). */
function isKeywordPosition(tokens: Token[], k: number): boolean {
  const prev = tokens[k - 1];
  const next = tokens[k + 1];
  if (prev && prev.kind === 'punct' && prev.text === '.') return false;
  if (next && next.kind === 'punct' && next.text === '(') return false;
  return true;
}

function nextWord(tokens: Token[], k: number): string | undefined {
  const ws = tokens[k + 1];
  const w = tokens[k + 2];
  if (ws?.kind === 'ws' && w?.kind === 'word') return w.text;
  return undefined;
}

/** True when the SQL has nothing but whitespace, comments and semicolons. */
export function isBlankSql(sql: string): boolean {
  return tokenize(sql).every((t) => t.kind === 'ws' || t.kind === 'comment' || (t.kind === 'punct' && t.text === ';'));
}

/** Trimmed, without trailing semicolons (Python `sql.strip().rstrip(';')`). */
export function trimStatement(sql: string): string {
  return sql.trim().replace(/;+$/, '');
}

/** The first line of a statement that is not blank or only a comment, shortened for messages. */
export function firstLine(sql: string, max = 80): string {
  const lines = sql.split('\n').map((l) => l.trim());
  const line = lines.find((l) => l && !l.startsWith('--') && !l.startsWith('#')) ?? lines.find((l) => l) ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export type PlaceholderStyle = 'qmark' | 'numeric' | 'named-at' | 'colon';

/**
 * Rewrite `?` placeholders (outside strings, identifiers and comments) for a driver:
 * `numeric` → $1, $2 (pg); `named-at` → @p1 (tedious); `colon` → :1 (oracledb); `qmark` unchanged.
 */
export function translatePlaceholders(sql: string, style: PlaceholderStyle): { sql: string; count: number } {
  let count = 0;
  if (style === 'qmark') {
    for (const t of tokenize(sql)) if (t.kind === 'placeholder' && t.text === '?') count++;
    return { sql, count };
  }
  const parts: string[] = [];
  for (const t of tokenize(sql)) {
    if (t.kind === 'placeholder' && t.text === '?') {
      count++;
      parts.push(style === 'numeric' ? `$${count}` : style === 'named-at' ? `@p${count}` : `:${count}`);
    } else parts.push(t.text);
  }
  return { sql: parts.join(''), count };
}
