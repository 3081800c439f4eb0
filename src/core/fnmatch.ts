/** Python fnmatch semantics: `*` and `?` match any character including `/`; `[...]`, `[!...]`. */
const cache = new Map<string, RegExp>();

export function fnmatchToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** Case-sensitive match (Python fnmatchcase). */
export function fnmatch(name: string, pattern: string): boolean {
  let re = cache.get(pattern);
  if (!re) {
    re = fnmatchToRegExp(pattern);
    cache.set(pattern, re);
  }
  return re.test(name);
}

export function fnmatchAny(name: string, patterns: string | readonly string[] | undefined | null): boolean {
  if (patterns == null) return false;
  return (typeof patterns === 'string' ? [patterns] : patterns).some((p) => fnmatch(name, p));
}
