/**
 * lava dag-gen: the page's examples as written, upstream's matrix and table rules, SQLite files and a
 * lava sqlite3 connection as sources, and the errors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dagBatches, dagPayload, matrixToDag, rowsToDag } from '../../src/cli/dag-gen.js';
import { initEmbeddedRealm } from '../../src/cli/init.js';
import { consoleExamples, runCli, shown } from './run-cli.js';

/**
 * A workbook as Excel writes one (SpreadsheetML parts in a zip): a first sheet "Notes", then "Deps"
 * holding a matrix with shared strings, an inline string, a numeric mark, skipped cells and rows.
 */
async function writeWorkbook(file: string): Promise<void> {
  const { default: yazl } = await import('yazl');
  const zip = new yazl.ZipFile();
  const add = (name: string, xml: string) => zip.addBuffer(Buffer.from(xml), name);
  const ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
  const rns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
  add(
    '[Content_Types].xml',
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
  );
  add(
    'xl/workbook.xml',
    `<?xml version="1.0" encoding="UTF-8"?><workbook ${ns} ${rns}><sheets><sheet name="Notes" sheetId="1" r:id="rId1"/><sheet name="Deps" sheetId="2" r:id="rId2"/></sheets></workbook>`,
  );
  add(
    'xl/_rels/workbook.xml.rels',
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/></Relationships>',
  );
  // 0 extract_a, 1 extract_b, 2 load, 3 report, 4 x (rich text runs "x " + "&amp; y"), 5 Only notes here
  add(
    'xl/sharedStrings.xml',
    `<?xml version="1.0" encoding="UTF-8"?><sst ${ns} count="6" uniqueCount="6"><si><t>extract_a</t></si><si><t>extract_b</t></si><si><t>load</t></si><si><t>report</t></si><si><r><t xml:space="preserve">x </t></r><r><t>&amp; y</t></r></si><si><t>Only notes here</t></si></sst>`,
  );
  add(
    'xl/worksheets/sheet1.xml',
    `<?xml version="1.0" encoding="UTF-8"?><worksheet ${ns}><sheetData><row r="1"><c r="A1" t="s"><v>5</v></c></row></sheetData></worksheet>`,
  );
  const c = (ref: string, body: string, t?: string) => `<c r="${ref}"${t ? ` t="${t}"` : ''}>${body}</c>`;
  const s = (ref: string, i: number) => c(ref, `<v>${i}</v>`, 's');
  add(
    'xl/worksheets/sheet2.xml',
    `<?xml version="1.0" encoding="UTF-8"?><worksheet ${ns}><sheetData>` +
      `<row r="1">${s('B1', 0)}${s('C1', 1)}${s('D1', 2)}${s('E1', 3)}</row>` +
      `<row r="2">${s('A2', 2)}${c('B2', '<is><t>x</t></is>', 'inlineStr')}${c('C2', '<v>1</v>')}</row>` +
      `<row r="4">${s('A4', 3)}${c('D4', '<v>x</v>', 'str')}</row>` +
      `<row r="5">${s('A5', 4)}<c r="B5"/>${c('E5', '<v>1</v>', 'b')}</row>` +
      `</sheetData></worksheet>`,
  );
  zip.end();
  await new Promise<void>((resolve, reject) =>
    zip.outputStream.pipe(fs.createWriteStream(file)).on('close', resolve).on('error', reject),
  );
}

const DEPS = path.resolve(import.meta.dirname, '../../examples/docs/dag-gen/deps.csv');

describe('lava dag-gen (docs/cli/dag-gen.md)', () => {
  let cwd: string;
  let backendUrl: string;
  const lava = (...args: string[]) => runCli(args, { cwd, env: { LAVA_BACKEND: backendUrl, LAVA_REALM: 'default' } });

  beforeAll(async () => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-dag-gen-'));
    fs.copyFileSync(DEPS, path.join(cwd, 'deps.csv'));
    backendUrl = (await initEmbeddedRealm(path.join(cwd, '.lava'), 'default')).backendUrl;
    const db = new Database(path.join(cwd, 'deps.sqlite3'));
    db.exec('CREATE TABLE dag (job_group TEXT, job TEXT NOT NULL, depends_on TEXT)');
    const put = db.prepare('INSERT INTO dag VALUES (?, ?, ?)');
    for (const row of [
      ['etl', 'extract_a', null],
      ['etl', 'extract_b', ''],
      ['etl', 'load', 'extract_a'],
      ['etl', 'load', ' extract_b '],
      ['etl', 'report', 'load'],
      ['etl', 'report', 'report'],
      ['ops', 'cleanup', null],
    ]) {
      put.run(...row);
    }
    db.close();
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('prints what the page shows', async () => {
    const examples = consoleExamples('cli/dag-gen.md');
    expect(examples).toHaveLength(3);
    for (const ex of examples) {
      const r = await lava(...ex.args);
      expect(r.code, r.stderr).toBe(0);
      expect(shown(r.stdout), ex.args.join(' ')).toBe(ex.expected);
    }
  });

  it('reads a matrix as upstream: row jobs are keys, column-only jobs are predecessors, self-marks ignored', () => {
    const dag = matrixToDag(',a,b,"odd, name"\nb,x,,\n"odd, name",,yes,\nc,,,x\nc,,x,\n\nb,,x,\n');
    expect(Object.fromEntries([...dag].map(([k, v]) => [k, [...v]]))).toEqual({
      b: ['a'],
      'odd, name': ['b'],
      c: ['odd, name', 'b'],
    });
    expect(dagPayload(dag, { compact: true })).toEqual({ b: 'a', c: ['b', 'odd, name'], 'odd, name': 'b' });
    expect(dagBatches(dag)).toEqual([['a'], ['b'], ['odd, name'], ['c']]);
  });

  it('reads a SQLite table by group, and through a lava sqlite3 connection', async () => {
    const want =
      '{\n    "extract_a": [],\n    "extract_b": [],\n    "load": [\n        "extract_a",\n        "extract_b"\n    ],\n    "report": [\n        "load"\n    ]\n}\n';
    const file = await lava('dag-gen', 'deps.sqlite3', '-g', 'etl');
    expect(file.stdout).toBe(want);
    expect((await lava('dag-gen', 'deps.sqlite3', '-c')).stdout).toBe(
      '{\n    "cleanup": null,\n    "load": [\n        "extract_a",\n        "extract_b"\n    ],\n    "report": "load"\n}\n',
    );
    fs.writeFileSync(
      path.join(cwd, 'conn.json'),
      JSON.stringify({ conn_id: 'deps-db', type: 'sqlite3', enabled: true, host: path.join(cwd, 'deps.sqlite3') }),
    );
    expect((await lava('conn', 'put', 'conn.json')).code).toBe(0);
    const conn = await lava('dag-gen', 'deps-db', '-g', 'etl');
    expect(conn.stderr).toBe('');
    expect(conn.stdout).toBe(want);
    expect(rowsToDag([{ job: 'a', depends_on: null }]).get('a')?.size).toBe(0);
  });

  it('reads an XLSX worksheet named by -g (shared strings, inline strings, numbers, gaps)', async () => {
    await writeWorkbook(path.join(cwd, 'deps.xlsx'));
    const r = await lava('dag-gen', 'deps.xlsx', '-g', 'Deps', '-c');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ load: ['extract_a', 'extract_b'], report: 'load', 'x & y': 'report' });
    // The first worksheet by default: here a note with no matrix in it.
    expect((await lava('dag-gen', 'deps.xlsx')).stderr).toMatch(/first row must be a blank cell/);
  });

  it('fails clearly: xlsx, a cycle, an empty source, bad table or group names, a missing file', async () => {
    const fail = async (args: string[], re: RegExp) => {
      const r = await lava('dag-gen', ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(re);
    };
    fs.writeFileSync(path.join(cwd, 'book.xlsx'), 'PK');
    await fail(['book.xlsx'], /book\.xlsx: not an XLSX workbook/);
    await writeWorkbook(path.join(cwd, 'deps.xlsx'));
    await fail(['deps.xlsx', '-g', 'Nope'], /no worksheet "Nope": it has "Notes", "Deps"/);
    fs.writeFileSync(path.join(cwd, 'cycle.csv'), ',a,b\na,,x\nb,x,\n');
    await fail(['cycle.csv'], /dependency cycle: a → b → a/);
    await fail(['cycle.csv', '-o'], /dependency cycle/);
    fs.writeFileSync(path.join(cwd, 'empty.csv'), ',a\n');
    await fail(['empty.csv'], /DAG is empty/);
    await fail(['deps.sqlite3', '--table', 'dag; drop table dag'], /--table dag; drop table dag: use a table name/);
    await fail(['deps.sqlite3', '-g', "x' or '1"], /-g x' or '1: only letters, digits and _/);
    await fail(['nope.csv'], /cannot read nope\.csv/);
    await fail(['no-such-conn'], /no-such-conn/);
    expect(() => matrixToDag('only\n')).toThrow(/first row must be a blank cell followed by the predecessor job names/);
    expect(() => matrixToDag(',a\n,x\n')).toThrow(/row 2 has dependencies but no job name/);
    expect(() => matrixToDag(',a\nb,x,y\n')).toThrow(/row 2 \(b\) has more cells than there are predecessor columns/);
  });
});
