/** S3 names (utils.s3bucket, utils.s3key) and utils.uuid. */
import { PyObject, valueError } from './pytypes.js';

/** Port of lava.lib.aws.s3_split: accepts s3://b/k, s3:b/k, /b/k and b/k. */
export function s3Split(name: string): [string, string] {
  let s = name;
  for (const p of ['s3://', 's3:']) {
    if (s.startsWith(p)) {
      s = s.slice(p.length);
      break;
    }
  }
  const trimmed = s.replace(/^\/+|\/+$/g, '');
  const slash = trimmed.indexOf('/');
  const bucket = slash < 0 ? trimmed : trimmed.slice(0, slash);
  if (!bucket) throw valueError(`Invalid S3 object name: ${s}`);
  return [bucket, slash < 0 ? '' : trimmed.slice(slash + 1).replace(/^\/+|\/+$/g, '')];
}

/** uuid.UUID: renders as the canonical form; .hex, .urn, .version. */
export class PyUuid extends PyObject {
  readonly hex: string;
  readonly urn: string;
  readonly version = 4;
  constructor(readonly _text: string) {
    super();
    this.hex = _text.replace(/-/g, '');
    this.urn = `urn:uuid:${_text}`;
  }
  get int(): bigint {
    return BigInt('0x' + this.hex);
  }
  _typeName(): string {
    return 'uuid.UUID';
  }
  _str(): string {
    return this._text;
  }
  override _repr(): string {
    return `UUID('${this._text}')`;
  }
  override _eq(other: unknown): boolean {
    return other instanceof PyUuid && other._text === this._text;
  }
}
