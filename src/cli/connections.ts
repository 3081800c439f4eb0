/**
 * Connection commands: `lava conn test ID`, `lava secret put/get/ls/rm`, and `lava sql`, a batch
 * (and, on a terminal, interactive) SQL client over any database connection. Secret values are
 * never printed unless asked for with `lava secret get NAME --show`.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Command } from 'commander';
import type { Backend } from '../backends/ports.js';
import { Config } from '../core/config.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { openResolved } from '../connections/api.js';
import { genericAttributes } from '../connections/connectors/generic.js';
import { csvFormat, type CsvFormat } from '../connections/csv.js';
import { resolveConnection } from '../connections/resolve.js';
import { clearSecretCache } from '../connections/secrets.js';
import { CsvWriter, JsonlWriter, runScript, type ResultWriter } from '../connections/sql-runner.js';
import { splitStatements } from '../connections/split.js';
import type { DbClient } from '../connections/types.js';
import { collect, printJson, resolveRealm, withBackend, type GlobalOptions } from './context.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Read a line from the terminal without echoing it. */
function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream };
    process.stderr.write(prompt);
    out._writeToOutput = () => {};
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

function registerConnTest(program: Command, g: () => GlobalOptions): void {
  let conn = program.commands.find((c) => c.name() === 'conn');
  conn ??= program.command('conn').description('manage connection specs (the connections table)');
  conn
    .command('test')
    .argument('<conn_id>')
    .description(
      'connect and run SELECT 1 (generic: resolve every attribute; email: SMTP connect and EHLO, or SES credentials; slack: check the webhook URL, nothing posted; aws: credentials resolve); prints ok or the error',
    )
    .action(async (connId: string) => {
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const c = await resolveConnection(connId, { backend, realm: realm.realm, config: new Config(realm.config ?? {}) });
        if (c.connector.test) {
          process.stdout.write(`ok: ${await c.connector.test(c)}\n`);
          return;
        }
        if (!c.connector.open) {
          const names = Object.keys(genericAttributes(c));
          process.stdout.write(`ok: ${connId} (${c.type}): ${names.length} attributes resolved (${names.join(', ')})\n`);
          return;
        }
        const client = await openResolved(c);
        try {
          const sql = client.dialect === 'oracle' ? 'SELECT 1 FROM DUAL' : 'SELECT 1';
          const r = await client.query(sql);
          const value = r.rows[0] ? Object.values(r.rows[0])[0] : undefined;
          process.stdout.write(`ok: ${connId} (${c.type}): ${sql} returned ${String(value)}\n`);
        } finally {
          await client.close();
        }
      });
    });
}

function registerSecret(program: Command, g: () => GlobalOptions): void {
  const cmd = program
    .command('secret')
    .description('manage secrets (passwords named by connection specs), encrypted in the backend');
  const withRealm = <T>(fn: (backend: Backend, realm: string) => Promise<T>) =>
    withBackend(g(), async (backend) => fn(backend, (await resolveRealm(backend, g())).realm));

  cmd
    .command('put')
    .argument('<name>', 'secret name, by convention /lava/<realm>/…')
    .argument(
      '[value]',
      'the value, or - (the default) to read it from stdin; a value on the command line is visible to other users',
    )
    .description('store a secret (replacing any value of that name)')
    .action(async (name: string, value?: string) => {
      let v = value;
      if (v === undefined || v === '-') {
        v = process.stdin.isTTY ? await readHidden(`value for ${name}: `) : (await readStdin()).replace(/\r?\n$/, '');
      } else {
        process.stderr.write(
          'warning: a value given on the command line is visible to other users (ps, shell history): prefer -\n',
        );
      }
      if (!v) throw new ValidationError(`secret ${name}: the value is empty`);
      await withRealm(async (backend, realm) => {
        if (!name.startsWith(`/lava/${realm}/`)) {
          process.stderr.write(`warning: by convention secret names start with /lava/${realm}/\n`);
        }
        await backend.secrets.put(realm, name, v);
        clearSecretCache();
        process.stdout.write(`stored secret ${name}\n`);
      });
    });

  cmd
    .command('get')
    .argument('<name>')
    .option('--show', 'print the value itself')
    .description('say whether a secret is set; --show prints its value')
    .action(async (name: string, o: { show?: boolean }) => {
      await withRealm(async (backend, realm) => {
        const v = await backend.secrets.get(realm, name);
        if (v === undefined) throw new NotFoundError('secret', name, 'list them with `lava secret ls`');
        if (o.show) process.stdout.write(`${v}\n`);
        else process.stdout.write(`${name}: set (${[...v].length} characters); add --show to print the value\n`);
      });
    });

  cmd
    .command('ls')
    .option('--json', 'print JSON')
    .description('list secret names (never values)')
    .action(async (o: { json?: boolean }) => {
      await withRealm(async (backend, realm) => {
        const names = await backend.secrets.list(realm);
        if (o.json) return printJson(names);
        process.stdout.write(names.map((n) => `${n}\n`).join(''));
      });
    });

  cmd
    .command('rm')
    .argument('<name...>')
    .description('delete secrets')
    .action(async (names: string[]) => {
      await withRealm(async (backend, realm) => {
        for (const name of names) {
          if (!(await backend.secrets.delete(realm, name))) {
            throw new NotFoundError('secret', name, 'list them with `lava secret ls`');
          }
          process.stdout.write(`deleted secret ${name}\n`);
        }
        clearSecretCache();
      });
    });
}

interface SqlOptions {
  connId?: string;
  execute?: string[];
  format: string;
  header?: boolean;
  output?: string;
  transaction?: boolean;
  raw?: boolean;
  batchSize?: string;
  delimiter?: string;
  dialect?: string;
  doublequote?: boolean;
  escapechar?: string;
  quotechar?: string;
  quoting?: string;
  tag?: string;
  level?: string;
}

function sqlCsvFormat(o: SqlOptions, config: Config): CsvFormat {
  return csvFormat({
    dialect: o.dialect ?? config.optStr('SQL_DIALECT') ?? 'excel',
    delimiter: o.delimiter ?? config.optStr('SQL_DELIMITER') ?? '|',
    escapechar: o.escapechar ?? config.optStr('SQL_ESCAPECHAR') ?? null,
    quotechar: o.quotechar ?? config.optStr('SQL_QUOTECHAR') ?? null,
    quoting: o.quoting ?? config.optStr('SQL_QUOTING') ?? 'minimal',
    doublequote: o.doublequote ?? config.bool('SQL_DOUBLEQUOTE'),
  });
}

function registerSql(program: Command, g: () => GlobalOptions): void {
  program
    .command('sql')
    .argument('[args...]', 'CONN_ID, then SQL files (none: SQL from stdin, or an interactive prompt on a terminal)')
    .option('--conn-id <id>', 'the connection (instead of the first argument)')
    .option('-e, --execute <sql>', 'run this SQL (repeatable; instead of files)', collect)
    .option('--format <format>', 'result format: csv or jsonl', 'csv')
    .option('--header', 'csv: write a header row for each result set')
    .option('-o, --output <file>', 'write results to this file (default stdout)')
    .option('--transaction', 'run everything in one transaction; roll back on error')
    .option('--raw', 'do not split scripts into statements')
    .option('--batch-size <n>', 'rows written per batch (default SQL_BATCH_SIZE)')
    .option('--delimiter <char>', 'csv delimiter (default SQL_DELIMITER, |)')
    .option('--dialect <name>', 'csv dialect: excel, excel-tab or unix (default SQL_DIALECT)')
    .option('--doublequote', 'csv: double quote characters inside quoted fields')
    .option('--no-doublequote', 'csv: escape quote characters with the escapechar instead')
    .option('--escapechar <char>', 'csv escape character (default none)')
    .option('--quotechar <char>', 'csv quote character (default ")')
    .option('--quoting <style>', 'csv quoting: minimal, all, nonnumeric or none (default SQL_QUOTING)')
    .option('--tag <text>', 'identifies the caller in the application name (sqlv passes JOB_ID:RUN_ID)')
    .option('--level <level>', 'log level (accepted for compatibility)')
    .description('run SQL on a connection and print result sets as CSV or JSON Lines')
    .addHelpText(
      'after',
      `
Examples:
  lava sql pg -e 'select * from t' --header
  lava sql pg report.sql --format jsonl -o report.jsonl
  echo 'select 1;' | lava sql --conn-id pg`,
    )
    .action((args: string[], o: SqlOptions) => runSql(g(), args, o));
}

/** `lava sql`: run SQL files, -e statements or stdin on a connection; a terminal with no SQL gets a prompt. */
async function runSql(opts: GlobalOptions, args: string[], o: SqlOptions): Promise<void> {
  const rest = [...args];
  const connId = o.connId ?? rest.shift();
  if (!connId) throw new ValidationError('lava sql needs a connection id: lava sql CONN_ID [FILE…] or --conn-id CONN_ID');
  if (o.format !== 'csv' && o.format !== 'jsonl') {
    throw new ValidationError(`--format ${o.format}: use csv or jsonl`);
  }
  if (o.execute?.length && rest.length) throw new ValidationError('give SQL files or -e SQL, not both');
  await withBackend(opts, async (backend) => {
    const realm = await resolveRealm(backend, opts);
    const config = new Config(realm.config ?? {});
    const batchSize = o.batchSize === undefined ? config.int('SQL_BATCH_SIZE') : Number(o.batchSize);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValidationError('--batch-size must be an integer >= 1');
    const format = o.format === 'csv' ? sqlCsvFormat(o, config) : undefined;
    const c = await resolveConnection(connId, {
      backend,
      realm: realm.realm,
      config,
      ...(o.tag ? { jobId: o.tag.split(':')[0] } : {}),
    });
    const client = await openResolved(c);
    const fd = o.output ? fs.openSync(o.output, 'w') : 1;
    const writer = (): ResultWriter =>
      format ? new CsvWriter(fd, format, o.header === true, batchSize) : new JsonlWriter(fd, batchSize);
    try {
      const scripts: [string, string][] = o.execute?.length
        ? o.execute.map((sql, i) => [`-e[${i}]`, sql])
        : rest.length
          ? rest.map((f) => [path.basename(f), fs.readFileSync(f, 'utf8')])
          : process.stdin.isTTY
            ? []
            : [['stdin', await readStdin()]];
      if (!scripts.length && process.stdin.isTTY && !o.execute?.length && !rest.length) {
        await repl(client, connId, writer);
        return;
      }
      if (o.transaction) await client.beginTransaction();
      try {
        for (const [name, text] of scripts) {
          await runScript(client, text, { name, raw: o.raw === true, writerFor: writer });
        }
        if (o.transaction) await client.commit();
      } catch (err) {
        if (client.inTransaction) await client.rollback().catch(() => {});
        throw err;
      }
    } finally {
      if (fd !== 1) fs.closeSync(fd);
      await client.close();
    }
  });
}

/** A minimal interactive loop: statements end with `;`; \q or an empty EOF quits. */
async function repl(client: DbClient, connId: string, writer: () => ResultWriter): Promise<void> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: `${connId}=> ` });
  process.stdout.write(`connected to ${connId} (${client.dialect}). End statements with ; and quit with \\q\n`);
  let buffer = '';
  rl.prompt();
  for await (const line of rl) {
    if (!buffer && /^\s*(\\q|quit|exit)\s*;?\s*$/i.test(line)) break;
    buffer += `${line}\n`;
    const parts = splitStatements(buffer);
    const complete = parts.filter((s) => s.endsWith(';'));
    buffer = parts.length && !(parts.at(-1) as string).endsWith(';') ? `${parts.at(-1) as string}\n` : '';
    for (const sql of complete) {
      try {
        await runScript(client, sql, { name: 'input', raw: true, writerFor: writer });
      } catch (err) {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    rl.setPrompt(buffer ? `${connId}-> ` : `${connId}=> `);
    rl.prompt();
  }
  rl.close();
}

/** `lava conn test`, `lava secret …`, `lava sql`. Call after registerItemCommands (it extends `lava conn`). */
export function registerConnections(program: Command, g: () => GlobalOptions): void {
  registerConnTest(program, g);
  registerSecret(program, g);
  registerSql(program, g);
}
