/** The CLI connector for databases without a native client here (mssql, oracle): `lava sql --conn-id`. */
import { sq, shScript } from '../cli-dir.js';
import type { CliDir, CliOptions, ResolvedConnection } from '../types.js';

/**
 * A script running `lava sql --conn-id <id> "$@"` against the same backend and realm. The script
 * holds no credentials: `lava sql` resolves them from the secret store itself.
 */
export async function writeLavaSqlCli(c: ResolvedConnection, dir: CliDir, options: CliOptions): Promise<string> {
  return dir.writeScript(
    `${c.connId.replace(/[^\w.-]/g, '_')}.lava-sql`,
    shScript([
      `LAVA_BACKEND=${sq(c.backendUrl)}; export LAVA_BACKEND`,
      `LAVA_REALM=${sq(c.realm)}; export LAVA_REALM`,
      `exec ${options.lavaCommand.map(sq).join(' ')} sql --conn-id ${sq(c.connId)} "$@"`,
    ]),
  );
}
