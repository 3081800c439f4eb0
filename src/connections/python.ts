/**
 * What the `lava` Python package (python/lava, see docs/python.md) needs from a job run:
 *
 * - `python/` on PYTHONPATH (after the job's own entries), so `import lava` works in exe and pkg jobs;
 * - the connections file: a 0600 JSON file in the run's 0700 `conn.*` directory holding the resolved
 *   specs (secrets included) of the database and generic connections the job declared in its
 *   `connections` parameter, and only those. LAVA_CONNECTIONS_FILE holds its path (not a secret).
 *   `lava.connection.get_pysql_connection(conn_id)` reads it; a conn_id the job did not declare is
 *   not in the file, so the job cannot reach it. The file goes with the directory when the job ends.
 */
import path from 'node:path';
import { REPO_ROOT } from './cli-dir.js';
import { genericAttributes } from './connectors/generic.js';
import { sqliteFile } from './connectors/sqlite.js';
import type { CliDir, ResolvedConnection } from './types.js';

/** The directory holding the `lava` Python package. */
export const PYTHON_DIR = path.join(REPO_ROOT, 'python');

/** The environment variable naming the connections file. */
export const CONNECTIONS_FILE_VAR = 'LAVA_CONNECTIONS_FILE';

/** PYTHONPATH with Lava's python/ appended (a job's own entries come first). */
export function lavaPythonPath(existing: string | undefined): string {
  const parts = (existing ?? '').split(path.delimiter).filter(Boolean);
  if (!parts.includes(PYTHON_DIR)) parts.push(PYTHON_DIR);
  return parts.join(path.delimiter);
}

const PY_DIALECTS = new Set(['postgres', 'redshift', 'mysql', 'sqlite3', 'mssql', 'oracle', 'generic']);

/** The entry of one connection in the connections file, or undefined for types Python does not get. */
export function connectionFileEntry(c: ResolvedConnection): Record<string, unknown> | undefined {
  const dialect = c.connector.dialect;
  if (!PY_DIALECTS.has(dialect) || (dialect === 'generic' && c.connector.type !== 'generic')) return undefined;
  const s = c.spec;
  if (dialect === 'generic') return { conn_id: c.connId, type: c.type, dialect, attributes: genericAttributes(c) };
  const entry: Record<string, unknown> = {
    conn_id: c.connId,
    type: c.type,
    dialect,
    application_name: c.applicationName,
  };
  for (const f of ['host', 'port', 'database', 'user', 'ssl', 'ca_cert', 'sid', 'service_name', 'preserve_case', 'subtype']) {
    if (s[f] !== undefined) entry[f] = s[f];
  }
  if (c.secrets.password !== undefined) entry.password = c.secrets.password;
  if (dialect === 'sqlite3') entry.host = sqliteFile(c);
  return entry;
}

/** Write the connections file into the run's connector directory; its path, or undefined when there is nothing to write. */
export async function writeConnectionsFile(
  dir: CliDir,
  o: { realm: string; jobId: string },
  connections: readonly ResolvedConnection[],
): Promise<string | undefined> {
  const entries: Record<string, unknown> = {};
  for (const c of connections) {
    const e = connectionFileEntry(c);
    if (e) entries[c.connId] = e;
  }
  if (!Object.keys(entries).length) return undefined;
  return dir.writePrivate(
    'lava-connections.json',
    `${JSON.stringify({ version: 1, realm: o.realm, job_id: o.jobId, connections: entries }, null, 2)}\n`,
  );
}
