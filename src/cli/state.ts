/** `lava state put/get/ls/rm`: the state table (upstream's `lava-state`). */
import type { Command } from 'commander';
import type { Backend } from '../backends/ports.js';
import { Config } from '../core/config.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { StateItem } from '../core/schemas.js';
import { processSetting } from '../core/settings.js';
import { expandPairs } from '../dispatch/params.js';
import { getState, putState, type StateType } from '../state/state.js';
import { renderTemplate } from '../template/index.js';
import { collect, printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';

const TYPES: readonly string[] = ['json', 'raw', 'secure'];
const SECURE = '<secure>';
const VALUE_WIDTH = 60;

interface PutOptions {
  value?: string;
  param?: string[];
  type?: string;
  ttl?: string;
  publisher?: string;
  kmsKey?: string;
}

/** Epoch seconds as an ISO timestamp (UTC). */
const expiry = (ttl: number): string => new Date(ttl * 1000).toISOString().replace(/\.000Z$/, 'Z');

/** A stored item's value for listing, never decrypting secure items. */
function shownValue(item: StateItem): unknown {
  if (item.type === 'secure') return SECURE;
  if (item.type === 'json') {
    try {
      return JSON.parse(String(item.value)) as unknown;
    } catch {
      return item.value;
    }
  }
  return item.value;
}

function cell(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
  return s.length > VALUE_WIDTH ? `${s.slice(0, VALUE_WIDTH - 1)}…` : s;
}

async function realmConfig(backend: Backend, g: GlobalOptions): Promise<{ realm: string; config: Config }> {
  const realm = await resolveRealm(backend, g);
  return { realm: realm.realm, config: new Config(realm.config ?? {}) };
}

export function registerState(program: Command, g: () => GlobalOptions): void {
  const cmd = program
    .command('state')
    .description('manage state items: small named values jobs share across runs (the state table)');

  cmd
    .command('put')
    .argument('<state_id>', 'state id (ids starting with "lava" are reserved)')
    .description('add or replace a state item')
    .option('-v, --value <string>', 'the value: this string')
    .option('-p, --param <name=value>', 'the value: a map built from name=value pairs (repeatable; dotted names nest)', collect)
    .option('--type <type>', 'json (default), raw or secure (encrypted with the realm key)')
    .option('--ttl <duration>', 'time to live, e.g. 12h or 30d (default STATE_TTL 7d, at most STATE_MAX_TTL 366d)')
    .option('--publisher <text>', 'who wrote it (default LAVA_JOB_ID, else "lava-state CLI")')
    .option('--kms-key <key>', 'for type secure only: accepted for compatibility; the realm secret key is used')
    .addHelpText(
      'after',
      `
Examples:
  lava state put orders/cutoff -v 2026-11-01
  lava state put db/creds --type secure -p user=etl -p password=hunter2
  lava state put batch/limits -p max.rows=1000 -p max.bytes=10M --ttl 30d`,
    )
    .action((stateId: string, o: PutOptions) => putStateItem(g(), stateId, o));

  cmd
    .command('get')
    .argument('<state_id>')
    .argument('[template]', 'template rendered with `state` (the value) and `s` (the item)', '{{ state }}')
    .description('print a state item, through a template')
    .option('-i, --ignore-missing', 'print an empty line when the item is missing (default: an error, exit 1)')
    .addHelpText(
      'after',
      `
Examples:
  lava state get orders/cutoff
  lava state get -i batch/limits '{{ state.max.rows }}'
  lava state get batch/limits '{{ state | tojson }}'
  lava state get orders/cutoff '{{ s.publisher }} {{ s.timestamp }}'`,
    )
    .action((stateId: string, template: string, o: { ignoreMissing?: boolean }) => showStateItem(g(), stateId, template, o));

  cmd
    .command('ls')
    .argument('[prefix]', 'only ids starting with this')
    .description('list state items (secure values are never shown)')
    .option('--json', 'print JSON')
    .action((prefix: string | undefined, o: { json?: boolean }) => listStateItems(g(), prefix, o));

  cmd
    .command('rm')
    .argument('<state_id...>')
    .description('delete state items')
    .action((ids: string[]) => removeStateItems(g(), ids));
}

function cliValue(o: PutOptions): unknown {
  const pairs = o.param ?? [];
  if (o.value !== undefined && pairs.length) throw new ValidationError('give either -v STRING or -p name=value pairs, not both');
  if (o.value !== undefined) return o.value;
  if (pairs.length) return expandPairs(pairs, '-p');
  throw new ValidationError('no value: give -v STRING, or one or more -p name=value pairs');
}

/** `lava state put`: the value from -v or -p, checked and stored. */
async function putStateItem(opts: GlobalOptions, stateId: string, o: PutOptions): Promise<void> {
  const value = cliValue(o);
  const type = (o.type ?? 'json') as StateType;
  if (!TYPES.includes(type)) throw new ValidationError(`--type ${o.type}: use json, raw or secure`);
  if (o.kmsKey !== undefined && type !== 'secure') {
    throw new ValidationError(`--kms-key only applies to --type secure (this item is ${type})`);
  }
  await withBackend(opts, async (backend) => {
    const { realm, config } = await realmConfig(backend, opts);
    const item = await putState(backend, realm, config, stateId, value, {
      type,
      ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
      publisher: o.publisher ?? processSetting('JOB_ID') ?? 'lava-state CLI',
      checkReserved: true,
      overMaxTtl: 'error',
    });
    process.stdout.write(`stored state item ${stateId} (${type}, expires ${expiry(item.ttl)})\n`);
  });
}

/** `lava state get`: the item rendered through a template. */
async function showStateItem(
  opts: GlobalOptions,
  stateId: string,
  template: string,
  o: { ignoreMissing?: boolean },
): Promise<void> {
  await withBackend(opts, async (backend) => {
    const realm = await resolveRealm(backend, opts);
    const got = await getState(backend, realm.realm, stateId);
    if (!got.found || !got.item) {
      if (o.ignoreMissing) return void process.stdout.write('\n');
      throw new NotFoundError(
        'state item',
        stateId,
        `store it with \`lava state put ${stateId} -v VALUE\`, list them with \`lava state ls\`, or pass -i to print nothing`,
      );
    }
    const s = {
      state_id: got.item.state_id,
      type: got.item.type,
      value: got.value,
      timestamp: got.item.timestamp,
      ttl: got.item.ttl,
      publisher: got.item.publisher ?? null,
    };
    process.stdout.write(renderTemplate(template, { state: got.value, s }) + '\n');
  });
}

/** `lava state ls`: secure values are never shown. */
async function listStateItems(opts: GlobalOptions, prefix: string | undefined, o: { json?: boolean }): Promise<void> {
  await withBackend(opts, async (backend) => {
    const realm = await resolveRealm(backend, opts);
    const now = Date.now() / 1000;
    const items = (await backend.state.list(realm.realm, prefix ?? '')).filter((it) => it.ttl >= now);
    if (o.json) {
      return printJson(
        items.map((it) => ({
          state_id: it.state_id,
          type: it.type,
          value: shownValue(it),
          timestamp: it.timestamp,
          ttl: it.ttl,
          publisher: it.publisher ?? null,
        })),
      );
    }
    printTable(
      ['STATE_ID', 'TYPE', 'PUBLISHER', 'TIMESTAMP', 'EXPIRES', 'VALUE'],
      items.map((it) => [it.state_id, it.type, it.publisher ?? '', it.timestamp, expiry(it.ttl), cell(shownValue(it))]),
    );
  });
}

/** `lava state rm`. */
async function removeStateItems(opts: GlobalOptions, ids: string[]): Promise<void> {
  await withBackend(opts, async (backend) => {
    const realm = await resolveRealm(backend, opts);
    for (const id of ids) {
      if (!(await backend.state.delete(realm.realm, id))) {
        throw new NotFoundError('state item', id, 'list them with `lava state ls`');
      }
      process.stdout.write(`deleted state item ${id}\n`);
    }
  });
}
