/**
 * ESLint rule `layers/direction`: imports between folders of src/ point one way, down the layers
 * of docs/architecture.md. A file may import its own folder and any folder of a lower layer; an
 * import of a higher layer, or of another folder on the same layer, is an error. Because every
 * cross-folder import goes strictly down, no two folders can import each other.
 */
import path from 'node:path';

/** Top to bottom. Folders on one line share a layer and may not import each other. */
export const LAYERS = [
  ['(root)'], // src/index.ts: the package's public face
  ['cli'],
  ['worker', 'dispatcher', 'server', 'triggers'], // the daemons and the HTTP server
  ['handlers', 'actions'],
  ['run', 'client'],
  ['observe', 'events', 'batch'], // read models for the server, CLI and client · incoming events, rules and object triggers · business jobs chunked into tasks
  ['connections', 'state', 'dispatch'],
  ['template'],
  ['backends'],
  ['core'],
];

const rankOf = new Map(LAYERS.flatMap((folders, rank) => folders.map((f) => [f, rank])));

/** The src/ folder a path is in ("(root)" for files directly in src/), or undefined outside src/. */
function folderOf(srcRoot, file) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0] : '(root)';
}

const direction = {
  meta: {
    type: 'problem',
    docs: { description: 'imports between src/ folders point down the layers of docs/architecture.md' },
    schema: [],
    messages: {
      upward:
        '{{from}}/ may not import {{to}}/ ({{to}} is a higher layer than {{from}}): move the shared code down into a lower layer, or pass it in',
      sideways:
        '{{from}}/ may not import {{to}}/ (both are on the same layer, so they could import each other): move the shared code down a layer',
      unknown: 'src/{{folder}}/ is not in the layer map: add it to LAYERS in eslint/layers.js and to docs/architecture.md',
    },
  },
  create(context) {
    const srcRoot = path.join(context.cwd, 'src');
    const file = context.filename;
    const from = folderOf(srcRoot, file);
    if (from === undefined) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = folderOf(srcRoot, path.resolve(path.dirname(file), source));
      if (to === undefined || to === from) return;
      for (const folder of [from, to]) {
        if (!rankOf.has(folder)) return context.report({ node, messageId: 'unknown', data: { folder } });
      }
      const a = rankOf.get(from);
      const b = rankOf.get(to);
      if (b < a) context.report({ node, messageId: 'upward', data: { from, to } });
      else if (b === a) context.report({ node, messageId: 'sideways', data: { from, to } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export default { rules: { direction } };
