/** utils.path: os.path (posixpath), pure string functions only. */
import { PyNamespace, pyfunc, toStr, tuple } from './pytypes.js';

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function dirname(p: string): string {
  const head = p.slice(0, p.lastIndexOf('/') + 1);
  return head && head !== '/'.repeat(head.length) ? head.replace(/\/+$/, '') : head;
}

function joinPath(a: string, parts: string[]): string {
  let path = a;
  for (const b of parts) {
    if (b.startsWith('/')) path = b;
    else if (!path || path.endsWith('/')) path += b;
    else path += '/' + b;
  }
  return path;
}

function splitext(p: string): [string, string] {
  const sep = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot > sep) {
    // A leading run of dots (".bashrc") is part of the name, not an extension.
    for (let i = sep + 1; i < dot; i++) if (p[i] !== '.') return [p.slice(0, dot), p.slice(dot)];
  }
  return [p, ''];
}

function normpath(p: string): string {
  if (!p) return '.';
  const initial = p.startsWith('//') && !p.startsWith('///') ? 2 : p.startsWith('/') ? 1 : 0;
  const comps: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..' || (!initial && comps.length === 0) || comps[comps.length - 1] === '..') comps.push(c);
    else if (comps.length) comps.pop();
  }
  return '/'.repeat(initial) + comps.join('/') || '.';
}

function commonprefix(list: unknown): string {
  const items = Array.isArray(list) ? list.map((x) => toStr(x, 'commonprefix() item')) : [];
  if (!items.length) return '';
  let prefix = items[0]!;
  for (const s of items) while (!s.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

const strArg = (name: string, fn: (s: string) => unknown) =>
  pyfunc(name, ['p'], (a) => fn(toStr(a.p, `${name}() argument`)), { required: 1 });

export const pathModule = new PyNamespace('posixpath', 'module', {
  basename: strArg('basename', basename),
  dirname: strArg('dirname', dirname),
  split: strArg('split', (p) => tuple([dirname(p), basename(p)])),
  splitext: strArg('splitext', (p) => tuple(splitext(p))),
  splitdrive: strArg('splitdrive', (p) => tuple(['', p])),
  normpath: strArg('normpath', normpath),
  isabs: strArg('isabs', (p) => p.startsWith('/')),
  join: pyfunc(
    'join',
    ['a'],
    (a, rest) =>
      joinPath(
        toStr(a.a, 'join() argument'),
        rest.map((x) => toStr(x, 'join() argument')),
      ),
    { required: 1, varargs: true },
  ),
  commonprefix: pyfunc('commonprefix', ['m'], (a) => commonprefix(a.m), { required: 1 }),
  sep: '/',
  extsep: '.',
  curdir: '.',
  pardir: '..',
});
