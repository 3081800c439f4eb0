/**
 * MariaDB for tests: a throwaway server per test file (test/support/mariadb-throwaway.sh, MariaDB 10.11
 * from Debian packages), or the server in LAVA_TEST_MYSQL_URL when set
 * (`mysql://user:password@host:port/database`).
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mariadb-throwaway.sh');

export interface MariadbServer {
  /** `mysql://user:password@host:port/database` */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  stop(): Promise<void>;
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && fs.existsSync(path.join(dir, cmd)));
}

/** Why MariaDB tests cannot run on this machine, or undefined when they can. */
export const mariadbSkipReason: string | undefined = (() => {
  if (process.env.LAVA_TEST_MYSQL_URL) return undefined;
  if (onPath('mariadbd') || fs.existsSync('/usr/sbin/mariadbd')) return undefined;
  if (process.getuid?.() === 0) return undefined; // the script installs mariadb-server itself
  return 'mariadbd is not installed and we are not root to install it: apt-get install mariadb-server, or set LAVA_TEST_MYSQL_URL';
})();

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`mariadb-throwaway.sh ${args[0]} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function fromUrl(url: string, stop: () => Promise<void>): MariadbServer {
  const u = new URL(url);
  return {
    url,
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.replace(/^\//, ''),
    stop,
  };
}

/** A server for one test file: start it in beforeAll, stop it in afterAll. */
export async function startThrowawayMariadb(): Promise<MariadbServer> {
  const external = process.env.LAVA_TEST_MYSQL_URL;
  if (external) return fromUrl(external, async () => {});
  const out = await run(['start']);
  const vars = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
  const dir = vars.MARIADB_THROWAWAY_DIR;
  const url = vars.MYSQL_URL;
  if (!dir || !url) throw new Error(`mariadb-throwaway.sh start printed no MYSQL_URL:\n${out}`);
  const onExit = () => {
    try {
      execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore', timeout: 15_000 });
    } catch {
      // best effort
    }
  };
  process.once('exit', onExit);
  return fromUrl(url, async () => {
    process.off('exit', onExit);
    await run(['stop', dir]);
  });
}
