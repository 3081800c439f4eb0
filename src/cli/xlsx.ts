/**
 * The cells of one worksheet of an Excel workbook (.xlsx), as text, for `lava dag-gen`: enough of
 * SpreadsheetML (workbook, its relationships, shared strings, one sheet) to read a dependency
 * matrix, with no dependency beyond the zip reader. Formulas give their cached values; styles,
 * dates and number formats are not interpreted (a matrix only needs names and non-empty marks).
 * Bounded: at most MAX_PART bytes are inflated per part read.
 */
import type yauzl from 'yauzl';
import { ValidationError } from '../core/errors.js';

const MAX_PART = 64 * 1024 * 1024;

async function readParts(file: string, wanted: (name: string) => boolean): Promise<Map<string, string>> {
  const { default: yauzlLib } = await import('yauzl');
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzlLib.open(file, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  ).catch((err: unknown) => {
    throw new ValidationError(`${file}: not an XLSX workbook (${err instanceof Error ? err.message : String(err)})`);
  });
  const parts = new Map<string, string>();
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', resolve);
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!wanted(entry.fileName)) return zip.readEntry();
        if (entry.uncompressedSize > MAX_PART) {
          return reject(new ValidationError(`${file}: ${entry.fileName} is larger than ${MAX_PART} bytes`));
        }
        zip.openReadStream(entry, (err, stream) => {
          if (err) return reject(err);
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_PART) stream.destroy(new ValidationError(`${file}: ${entry.fileName} is too large`));
            else chunks.push(c);
          });
          stream.on('error', reject);
          stream.on('end', () => {
            parts.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return parts;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e.startsWith('#x')
      ? String.fromCodePoint(parseInt(e.slice(2), 16))
      : e.startsWith('#')
        ? String.fromCodePoint(Number(e.slice(1)))
        : (ENTITIES[e] as string),
  );
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescapeXml(m[1] as string) : undefined;
}

/** The text of every `<t>` in a fragment (a shared string or an inline string), run texts joined. */
function texts(fragment: string): string {
  return [...fragment.matchAll(/<t(?:\s[^>]*)?>([\s\S]*?)<\/t>/g)].map((m) => unescapeXml(m[1] as string)).join('');
}

/** Column index (0-based) of a cell reference such as "AB12". */
function columnOf(ref: string): number {
  let n = 0;
  for (const ch of /^[A-Z]+/.exec(ref)?.[0] ?? '') n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** The rows of worksheet `sheet` (default: the first), each a list of cell texts ('' for empty cells). */
export async function readXlsxSheet(file: string, sheet?: string): Promise<string[][]> {
  const meta = await readParts(file, (n) =>
    ['xl/workbook.xml', 'xl/_rels/workbook.xml.rels', 'xl/sharedStrings.xml'].includes(n),
  );
  const workbook = meta.get('xl/workbook.xml');
  if (!workbook) throw new ValidationError(`${file}: not an XLSX workbook (no xl/workbook.xml)`);
  const sheets = [...workbook.matchAll(/<sheet\s[^>]*\/?>/g)].map((m) => ({
    name: attr(m[0], 'name') ?? '',
    rid: attr(m[0], 'r:id') ?? '',
  }));
  const chosen = sheet === undefined ? sheets[0] : sheets.find((s) => s.name === sheet);
  if (!chosen) {
    throw new ValidationError(
      `${file}: no worksheet ${sheet === undefined ? 'at all' : `"${sheet}"`}: it has ${sheets.map((s) => `"${s.name}"`).join(', ') || 'none'}`,
    );
  }
  const rels = meta.get('xl/_rels/workbook.xml.rels') ?? '';
  const rel = [...rels.matchAll(/<Relationship\s[^>]*\/?>/g)].find((m) => attr(m[0], 'Id') === chosen.rid);
  const target = rel ? (attr(rel[0], 'Target') ?? '') : '';
  const part = target.startsWith('/') ? target.slice(1) : `xl/${target.replace(/^\.\//, '')}`;
  const shared = [...(meta.get('xl/sharedStrings.xml') ?? '').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) =>
    texts(m[1] as string),
  );
  const xml = (await readParts(file, (n) => n === part)).get(part);
  if (xml === undefined) throw new ValidationError(`${file}: worksheet "${chosen.name}" has no part ${part}`);
  const rows: string[][] = [];
  for (const row of xml.matchAll(/<row\b([^>]*)>([\s\S]*?)<\/row>|<row\b([^>]*)\/>/g)) {
    const index = Number(attr(row[1] ?? row[3] ?? '', 'r') ?? rows.length + 1) - 1;
    const cells: string[] = [];
    for (const c of (row[2] ?? '').matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const head = c[1] as string;
      const body = c[2] ?? '';
      const type = attr(head, 't');
      const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
      const text =
        type === 's' ? (shared[Number(v)] ?? '') : type === 'inlineStr' ? texts(body) : v === undefined ? '' : unescapeXml(v);
      const ref = attr(head, 'r');
      const col = ref ? columnOf(ref) : cells.length;
      while (cells.length < col) cells.push('');
      cells[col] = text;
    }
    while (rows.length < index) rows.push([]);
    rows[index] = cells;
  }
  return rows;
}
