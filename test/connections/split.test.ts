import { describe, expect, it } from 'vitest';
import {
  firstLine,
  isBlankSql,
  splitStatements,
  tokenize,
  translatePlaceholders,
  trimStatement,
} from '../../src/connections/split.js';

describe('splitStatements', () => {
  it('splits on semicolons and keeps each statement trimmed with its ;', () => {
    expect(splitStatements('select 1; select 2;\n\n  select 3')).toEqual(['select 1;', 'select 2;', 'select 3']);
  });

  it('ignores semicolons in strings, quoted identifiers and comments', () => {
    const sql = [
      "insert into t values ('a;b', 'it''s; fine');",
      'select "odd;name" from `my;table`;',
      '-- a comment; with a semicolon',
      'select 1 /* block; comment */ + 1;',
      '# mysql comment; here',
      'select 2;',
    ].join('\n');
    expect(splitStatements(sql)).toEqual([
      "insert into t values ('a;b', 'it''s; fine');",
      'select "odd;name" from `my;table`;',
      '-- a comment; with a semicolon\nselect 1 /* block; comment */ + 1;',
      '# mysql comment; here\nselect 2;',
    ]);
  });

  it('keeps Postgres dollar-quoted bodies whole, tagged or not', () => {
    const fn = `create function f() returns int as $$
begin
  perform 1; return 2;
end;
$$ language plpgsql;`;
    const tagged = `do $body$ begin raise notice 'x;y'; end $body$;`;
    const nested = `create function g() returns text as $outer$ select $in$;$in$ $outer$ language sql;`;
    expect(splitStatements(`${fn}\nselect f();\n${tagged}\n${nested}`)).toEqual([fn, 'select f();', tagged, nested]);
  });

  it('does not take $1 placeholders or identifiers with $ for dollar quotes', () => {
    expect(splitStatements('select a$b$ from t where x = $1; select 2;')).toEqual([
      'select a$b$ from t where x = $1;',
      'select 2;',
    ]);
  });

  it('handles E-strings with backslash escapes', () => {
    expect(splitStatements("select E'a\\';b'; select 2;")).toEqual(["select E'a\\';b';", 'select 2;']);
  });

  it('keeps BEGIN … END bodies of CREATE statements (triggers, procedures) whole', () => {
    const trigger = `CREATE TRIGGER t AFTER INSERT ON a BEGIN
  INSERT INTO b VALUES (1);
  UPDATE c SET n = n + 1;
END;`;
    const proc = `CREATE PROCEDURE p() BEGIN
  IF 1 = 1 THEN SELECT 1; END IF;
  SELECT 2;
END;`;
    const loop = `CREATE PROCEDURE q() BEGIN
  LOOP
    SELECT 1;
  END LOOP;
  WHILE 1 = 0 DO SELECT 2; END WHILE;
END;`;
    expect(splitStatements(`${trigger}\n${proc}\n${loop}\nselect 3;`)).toEqual([trigger, proc, loop, 'select 3;']);
  });

  it('treats BEGIN; … COMMIT; transaction statements as ordinary statements', () => {
    expect(splitStatements('BEGIN; insert into t values (1); COMMIT;')).toEqual([
      'BEGIN;',
      'insert into t values (1);',
      'COMMIT;',
    ]);
  });

  it('does not split inside parentheses and CASE … END', () => {
    expect(splitStatements('select case when a then 1 else 2 end from t; select (1);')).toEqual([
      'select case when a then 1 else 2 end from t;',
      'select (1);',
    ]);
  });

  it('returns a trailing comment-only chunk (callers skip it but count it)', () => {
    const parts = splitStatements('select 1;\n-- the end\n');
    expect(parts).toEqual(['select 1;', '-- the end']);
    expect(isBlankSql(parts[1] as string)).toBe(true);
  });

  it('runs unterminated strings and comments to the end of the text', () => {
    expect(splitStatements("select 'abc; def")).toEqual(["select 'abc; def"]);
    expect(splitStatements('select 1 /* x; y')).toEqual(['select 1 /* x; y']);
  });

  it('leaves Jinja in place for later rendering', () => {
    expect(splitStatements("select '{{ vars.x }}'; select {{ vars.n }};")).toEqual([
      "select '{{ vars.x }}';",
      'select {{ vars.n }};',
    ]);
  });
});

describe('helpers', () => {
  it('trimStatement strips whitespace and trailing semicolons like Python strip().rstrip(";")', () => {
    expect(trimStatement('  select 1;;  \n')).toBe('select 1');
  });

  it('firstLine skips blank and comment lines and shortens', () => {
    expect(firstLine('\n-- note\n  insert into t\n values (1)')).toBe('insert into t');
    expect(firstLine(`select ${'x'.repeat(100)}`)).toHaveLength(80);
  });

  it('isBlankSql', () => {
    expect(isBlankSql(' ;\n-- c\n/* d */')).toBe(true);
    expect(isBlankSql('select 1')).toBe(false);
  });

  it('translatePlaceholders rewrites ? outside strings, identifiers and comments', () => {
    const sql = `select '?', "?", ? -- ?\n, ? /* ? */`;
    expect(translatePlaceholders(sql, 'numeric')).toEqual({ sql: `select '?', "?", $1 -- ?\n, $2 /* ? */`, count: 2 });
    expect(translatePlaceholders('a = ? and b = ?', 'named-at').sql).toBe('a = @p1 and b = @p2');
    expect(translatePlaceholders('a = ? and b = ?', 'colon').sql).toBe('a = :1 and b = :2');
    expect(translatePlaceholders('a = ? and b = ?', 'qmark')).toEqual({ sql: 'a = ? and b = ?', count: 2 });
  });

  it('tokenize reassembles to the source', () => {
    const sql = "select $$x$$, E'\\'', \"q\", `b` -- c\n/* d */ ? $1;";
    expect(
      tokenize(sql)
        .map((t) => t.text)
        .join(''),
    ).toBe(sql);
  });
});
