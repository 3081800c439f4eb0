/** Formatting: the format-spec mini-language, str.format and printf-style `%`. */
import {
  PyError,
  PyFloat,
  PyObject,
  asStr,
  floatRepr,
  hasOwn,
  isPlainObject,
  isTuple,
  pyTypeName,
  toInt,
  toNum,
  toStr,
  typeError,
  valueError,
} from './py-object.js';
import { checkLength } from './limits.js';
import { isNumeric, pyRepr, pyStr } from './py-ops.js';
import { pyGetattr, pyGetitem } from './py-lookup.js';

const SPEC_RE = /^(?:(.)?([<>=^]))?([+\- ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/su;

/** toFixed with Python's round-half-even on exact binary ties (2.5 → '2', 0.125 → '0.12'). */
export function toFixedPy(x: number, digits: number): string {
  const scaled = x * 10 ** digits;
  if (Number.isFinite(scaled) && Math.abs(scaled % 1) === 0.5) {
    const even = Math.floor(scaled) % 2 === 0 ? Math.floor(scaled) : Math.ceil(scaled);
    return (even / 10 ** digits).toFixed(digits);
  }
  return x.toFixed(digits);
}

const expFix = (s: string): string => s.replace(/e([+-])(\d)$/, 'e$10$2');

function formatGeneral(x: number, precision: number, alt: boolean): string {
  if (x === 0) return alt ? (0).toFixed(Math.max(precision - 1, 0)) : '0';
  const p = precision === 0 ? 1 : precision;
  const exp = Number(x.toExponential(p - 1).split('e')[1]);
  let s: string;
  if (exp >= -4 && exp < p) s = toFixedPy(x, p - 1 - exp);
  else s = expFix(x.toExponential(p - 1));
  if (!alt) s = s.replace(/\.0*(e|$)/, '$1').replace(/(\.\d*?)0+(e|$)/, '$1$2');
  return s;
}

function groupDigits(intPart: string, sep: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

/**
 * Python format(value, spec) for numbers, strings and shims. Longer than 80 lines on purpose: it
 * follows the mini-language field by field (fill, sign, type, grouping, alignment) in one place.
 */
export function formatValue(value: unknown, spec: string): string {
  if (value instanceof PyObject) return value._format(spec);
  const m = SPEC_RE.exec(spec);
  if (!m) throw valueError(`Invalid format specifier '${spec}'`);
  const [, fillCh, alignCh, signCh, , alt, zero, widthS, group, precS, typeCh] = m;
  let fill = fillCh ?? ' ';
  let align = alignCh;
  if (zero && !alignCh) {
    fill = '0';
    align = '=';
  }
  const width = widthS ? Number(widthS) : 0;
  const precision = precS === undefined ? undefined : Number(precS);
  let body: string;
  let signStr = '';
  const str = asStr(value);
  if (str !== undefined || (!isNumeric(value) && !typeCh)) {
    if (typeCh && typeCh !== 's') throw valueError(`Unknown format code '${typeCh}' for object of type '${pyTypeName(value)}'`);
    body = str ?? pyStr(value);
    if (precision !== undefined) body = Array.from(body).slice(0, precision).join('');
    align ??= '<';
  } else {
    if (!isNumeric(value)) throw valueError(`Unknown format code '${typeCh}' for object of type '${pyTypeName(value)}'`);
    const x = Number(value);
    const neg = x < 0 || Object.is(x, -0);
    const ax = Math.abs(x);
    signStr = neg ? '-' : signCh === '+' ? '+' : signCh === ' ' ? ' ' : '';
    const isFloat = value instanceof PyFloat || !Number.isInteger(x);
    const t = typeCh ?? (!isFloat && precision === undefined ? 'd' : 'g');
    const needInt = (): void => {
      if (isFloat) throw valueError(`Unknown format code '${t}' for object of type 'float'`);
    };
    switch (t) {
      case 'd':
      case 'n':
        needInt();
        body = String(ax);
        break;
      case 'f':
      case 'F':
        body = toFixedPy(ax, precision ?? 6);
        break;
      case 'e':
      case 'E':
        body = expFix(ax.toExponential(precision ?? 6));
        break;
      case 'g':
      case 'G':
        body = typeCh
          ? formatGeneral(ax, precision ?? 6, Boolean(alt))
          : precision === undefined
            ? floatRepr(ax)
            : formatGeneral(ax, precision, Boolean(alt));
        break;
      case '%':
        body = toFixedPy(ax * 100, precision ?? 6) + '%';
        break;
      case 'x':
      case 'X':
      case 'o':
      case 'b':
        needInt();
        body = (alt ? `0${t === 'X' ? 'X' : t}` : '') + ax.toString(t === 'o' ? 8 : t === 'b' ? 2 : 16);
        break;
      case 'c':
        needInt();
        body = String.fromCodePoint(ax);
        signStr = '';
        break;
      default:
        body = String(ax);
    }
    if (t === 'E' || t === 'G' || t === 'X' || t === 'F') body = body.toUpperCase();
    if (group) {
      const [ip, ...restParts] = body.split('.');
      body = [groupDigits(ip ?? '', group), ...restParts].join('.');
    }
    align ??= '>';
  }
  const len = Array.from(signStr + body).length;
  const n = Math.max(0, width - len);
  if (n) checkLength(width);
  if (align === '<') return signStr + body + fill.repeat(n);
  if (align === '>') return fill.repeat(n) + signStr + body;
  if (align === '=') return signStr + fill.repeat(n) + body;
  const left = Math.floor(n / 2);
  return fill.repeat(left) + signStr + body + fill.repeat(n - left);
}

/** str.format: {}, {0}, {name}, {0.attr}, {0[key]}, !r/!s conversions and format specs. */
export function strFormat(fmt: string, args: unknown[], kwargs: Record<string, unknown>): string {
  let auto = 0;
  return fmt.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (whole, field: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const m = /^([^.[!:]*)((?:\.[^.[!:]+|\[[^\]]*\])*)(?:!([rsa]))?(?::(.*))?$/s.exec(field ?? '');
    if (!m) throw valueError(`bad format field {${field}}`);
    const [, name = '', chain = '', conv, spec = ''] = m;
    let value: unknown;
    if (name === '') {
      if (auto >= args.length)
        throw new PyError('IndexError', `Replacement index ${auto} out of range for positional args tuple`);
      value = args[auto++];
    } else if (/^\d+$/.test(name)) {
      const i = Number(name);
      if (i >= args.length) throw new PyError('IndexError', `Replacement index ${i} out of range for positional args tuple`);
      value = args[i];
    } else {
      if (!hasOwn(kwargs, name)) throw new PyError('KeyError', pyRepr(name));
      value = kwargs[name];
    }
    for (const part of chain.match(/\.[^.[]+|\[[^\]]*\]/g) ?? []) {
      value = part.startsWith('.')
        ? pyGetattr(value, part.slice(1))
        : pyGetitem(value, /^\d+$/.test(part.slice(1, -1)) ? Number(part.slice(1, -1)) : part.slice(1, -1));
    }
    if (conv === 'r' || conv === 'a') value = pyRepr(value);
    else if (conv === 's') value = pyStr(value);
    return formatValue(value, spec);
  });
}

/** printf-style `fmt % values`; a tuple supplies several values, a dict named ones. */
export function percentFormat(fmt: string, values: unknown): string {
  const args = isTuple(values) ? [...values] : [values];
  const mapping = isPlainObject(values) ? values : undefined;
  let used = 0;
  let usedMapping = false;
  const next = (): unknown => {
    if (used >= args.length) throw typeError('not enough arguments for format string');
    return args[used++];
  };
  const out = fmt.replace(
    /%(?:\(([^)]*)\))?([#0\- +]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])/g,
    (_w, key: string | undefined, flags: string, widthS: string | undefined, precS: string | undefined, conv: string) => {
      if (conv === '%') return '%';
      let value: unknown;
      if (key !== undefined) {
        if (!mapping) throw typeError('format requires a mapping');
        usedMapping = true;
        if (!hasOwn(mapping, key)) throw new PyError('KeyError', pyRepr(key));
        value = mapping[key];
      }
      const width = widthS === '*' ? toInt(next(), '* width') : widthS ? Number(widthS) : 0;
      const prec = precS === '*' ? toInt(next(), '* precision') : precS;
      if (key === undefined) value = next();
      const zeroPad = flags.includes('0') && !flags.includes('-') && !'sra'.includes(conv);
      let spec = flags.includes('-') ? '<' : zeroPad ? '0=' : '>';
      if (flags.includes('+')) spec += '+';
      else if (flags.includes(' ')) spec += ' ';
      if (flags.includes('#')) spec += '#';
      if (width) spec += String(width);
      if (prec !== undefined) spec += '.' + prec;
      switch (conv) {
        case 's':
          return formatValue(pyStr(value), spec);
        case 'r':
        case 'a':
          return formatValue(pyRepr(value), spec);
        case 'd':
        case 'i':
        case 'u':
          return formatValue(Math.trunc(toNum(value, `%${conv} format`)), spec.replace(/\.\d+$/, '') + 'd');
        case 'c':
          return formatValue(typeof value === 'number' ? String.fromCodePoint(value) : toStr(value, '%c'), spec);
        default:
          return formatValue(toNum(value, `%${conv} format`), spec + conv);
      }
    },
  );
  if (!usedMapping && !mapping && used < args.length) throw typeError('not all arguments converted during string formatting');
  return out;
}
