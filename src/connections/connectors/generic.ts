/**
 * generic: a map of named attributes, plain or from the secret store. CLI: `$LAVA_CONN_X name`
 * prints the value of attribute `name` (read from a 0600 file); an unknown name exits 1.
 */
import { sq, shScript } from '../cli-dir.js';
import { genericSchema } from '../schemas.js';
import type { CliDir, Connector, ResolvedConnection } from '../types.js';

/** Attribute values with secrets filled in. */
export function genericAttributes(c: ResolvedConnection): Record<string, string | number | boolean> {
  const attrs = (c.spec.attributes ?? {}) as Record<string, unknown>;
  const out: Record<string, string | number | boolean> = {};
  for (const [name, v] of Object.entries(attrs)) {
    if (v && typeof v === 'object') {
      const o = v as { type: string; value?: string | number | boolean };
      out[name] = o.type === 'ssm' ? (c.secrets[`attributes.${name}`] ?? '') : (o.value as string | number | boolean);
    } else out[name] = v as string | number | boolean;
  }
  return out;
}

export async function writeGenericCli(c: ResolvedConnection, dir: CliDir): Promise<string> {
  const attrs = genericAttributes(c);
  const cases: string[] = [];
  for (const [name, value] of Object.entries(attrs)) {
    const file = await dir.writePrivate(`${c.connId.replace(/[^\w.-]/g, '_')}.attr.${name}`, `${String(value)}\n`);
    cases.push(`  ${sq(name)}) exec cat ${sq(file)} ;;`);
  }
  const names = Object.keys(attrs).join(', ') || '(none)';
  return dir.writeScript(
    `${c.connId.replace(/[^\w.-]/g, '_')}.generic`,
    shScript([
      'if [ "$#" -ne 1 ]; then',
      `  echo ${sq(`usage: LAVA_CONN_<LABEL> ATTRIBUTE (one of: ${names})`)} >&2`,
      '  exit 2',
      'fi',
      'case "$1" in',
      ...cases,
      `  *) echo "unknown attribute $1 of connection ${c.connId.replace(/[^\w./-]/g, '_')}: use one of: ${names}" >&2; exit 1 ;;`,
      'esac',
    ]),
  );
}

export const genericConnector: Connector = {
  type: 'generic',
  aliases: [],
  dialect: 'generic',
  schema: genericSchema,
  required: ['attributes'],
  secretFields: [],
  writeCli: (c, dir) => writeGenericCli(c, dir),
};
