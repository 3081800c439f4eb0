/** POSIX shell-word splitting and quoting, compatible with Python's shlex (posix=True). */
import { ValidationError } from './errors.js';

export function shlexSplit(input: string, field = 'command'): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const push = () => {
    if (word !== null) words.push(word);
    word = null;
  };
  while (i < input.length) {
    const c = input[i] as string;
    if (/\s/.test(c)) {
      push();
      i++;
    } else if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new ValidationError(`${field}: no closing quotation in ${JSON.stringify(input)}`);
      word = (word ?? '') + input.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let out = '';
      for (;;) {
        if (j >= input.length) throw new ValidationError(`${field}: no closing quotation in ${JSON.stringify(input)}`);
        const d = input[j] as string;
        if (d === '"') break;
        if (d === '\\' && j + 1 < input.length && '\\"$`\n'.includes(input[j + 1] as string)) {
          out += input[j + 1];
          j += 2;
        } else {
          out += d;
          j++;
        }
      }
      word = (word ?? '') + out;
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 >= input.length) throw new ValidationError(`${field}: no escaped character in ${JSON.stringify(input)}`);
      word = (word ?? '') + input[i + 1];
      i += 2;
    } else if (c === '#' && word === null) {
      break; // comment to end of input, as shlex does with commenters='#'
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  push();
  return words;
}

/** Quote one token for a POSIX shell (like Python shlex.quote). */
export function shellQuote(token: string): string {
  if (token === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(token)) return token;
  return `'${token.replace(/'/g, `'"'"'`)}'`;
}
