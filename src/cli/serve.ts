/** `lava serve` (HTTP API, dashboard, metrics) and `lava token` (API tokens). */
import type { Command } from 'commander';
import { backendUrl, openBackend } from '../backends/index.js';
import type { Backend } from '../backends/ports.js';
import { ValidationError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { RealmSpec } from '../core/schemas.js';
import { processSetting } from '../core/settings.js';
import { Server } from '../server/server.js';
import { checkRole, createToken, deleteToken, listTokens } from '../server/tokens.js';
import { runDaemon, type Daemon } from './daemon.js';
import { dispatcherZone, printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';

export const DEFAULT_PORT = 8470;

export interface ServeFlags {
  host?: string;
  port?: string;
}

/** The server of `lava serve` and `lava up`: --host/--port > LAVA_SERVER_HOST/PORT > 127.0.0.1:8470. */
export function makeServer(backend: Backend, realm: RealmSpec, flags: ServeFlags, logger: Logger, tz?: string): Server {
  const host = processSetting('SERVER_HOST', { flag: flags.host }) ?? '127.0.0.1';
  const portText = processSetting('SERVER_PORT', { flag: flags.port }) ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ValidationError(`port "${portText}" is not a port number: use 0 to 65535 (0 picks a free one)`);
  }
  return new Server({ backend, realm, host, port, tz: dispatcherZone(tz), logger });
}

/** A started server as a daemon: a forced stop drops open connections. */
export function serverDaemon(server: Server): Daemon {
  return { run: () => server.run(), stop: () => server.stop(), kill: () => server.kill() };
}

export function registerServe(program: Command, g: () => GlobalOptions): void {
  program
    .command('serve')
    .description('serve the realm’s HTTP API, web dashboard and /metrics (SIGINT/SIGTERM/SIGHUP: stop)')
    .option(
      '--host <host>',
      'address to listen on (default LAVA_SERVER_HOST, else 127.0.0.1); beyond localhost a token is required',
    )
    .option('--port <n>', `port (default LAVA_SERVER_PORT, else ${DEFAULT_PORT}; 0 picks a free one)`)
    .option('--tz <zone>', 'zone cron lines are read in, for next fire times')
    .option('-l, --level <level>', 'log level')
    .action(async (o: ServeFlags & { tz?: string; level?: string }) => {
      const logger = createLogger(o.level ? { level: o.level } : {});
      const backend = await openBackend(backendUrl(g().backend));
      try {
        const realm = await resolveRealm(backend, g());
        const server = makeServer(backend, realm, o, logger, o.tz);
        const url = await server.start();
        process.stdout.write(`serving realm ${realm.realm} at ${url}\n`);
        await runDaemon(serverDaemon(server), logger);
      } finally {
        await backend.close();
      }
    });

  const token = program.command('token').description('API tokens for `lava serve` (stored hashed; shown once)');
  token
    .command('create')
    .description('make a token and print it on stdout')
    .requiredOption('--role <role>', 'viewer (read), operator (also dispatch and stop runs) or admin (also tokens)')
    .option('--name <name>', 'a label, e.g. who or what uses it')
    .action(async (o: { role: string; name?: string }) => {
      const role = checkRole(o.role);
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const { token: t, info } = await createToken(backend, realm.realm, role, o.name);
        process.stdout.write(`${t}\n`);
        process.stderr.write(`token ${info.id} (${info.role}) for realm ${realm.realm}: keep it safe, it is not shown again\n`);
      });
    });
  token
    .command('ls')
    .description('list tokens (id, role, name, created; never the secret)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withBackend(g(), async (backend) => {
        const tokens = await listTokens(backend, (await resolveRealm(backend, g())).realm);
        if (o.json) return printJson(tokens);
        printTable(
          ['ID', 'ROLE', 'NAME', 'CREATED'],
          tokens.map((t) => [t.id, t.role, t.name, t.created]),
        );
      });
    });
  token
    .command('rm')
    .argument('<id>')
    .description('revoke a token')
    .action(async (id: string) => {
      await withBackend(g(), async (backend) => {
        if (!(await deleteToken(backend, (await resolveRealm(backend, g())).realm, id))) {
          throw new ValidationError(`token ${id} not found: list tokens with \`lava token ls\``);
        }
        process.stdout.write(`revoked token ${id}\n`);
      });
    });
}
