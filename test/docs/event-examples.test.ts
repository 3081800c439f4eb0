/**
 * docs/event-rules.md and docs/dispatch-helper.md, run: the rule validates and is stored, every row of
 * the pattern table matches and fails to match as it says, the message formats parse, and the shell
 * examples (sh, curl, jq) give the output the pages show against a real `lava serve` over an embedded
 * realm. The ```bash blocks (AWS CLI) are not run.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { checkSpec } from '../../src/core/validate.js';
import { parseHelperBody } from '../../src/events/dispatch-helper.js';
import { eventPatternProblems, matchesPattern } from '../../src/events/pattern.js';
import { Server } from '../../src/server/server.js';
import { createToken } from '../../src/server/tokens.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { REPO_ROOT } from '../e2e/cli-helpers.js';

const page = (name: string) => fs.readFileSync(path.join(REPO_ROOT, 'docs', name), 'utf8');
const blocks = (text: string, lang: string) =>
  [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] as string);

const rules = page('event-rules.md');
const helper = page('dispatch-helper.md');
const rule = YAML.parse(blocks(rules, 'yaml')[0] as string) as Record<string, unknown>;

describe('docs/event-rules.md', () => {
  it('shows a rule that lava check accepts, and the error it quotes for a bad one', () => {
    expect(checkSpec('trigger', rule).errors).toEqual([]);
    const bad = structuredClone(rule) as { event_pattern: { detail: { amount: unknown } } };
    bad.event_pattern.detail.amount = [{ numeric: ['>=', '100'] }];
    const [error] = checkSpec('trigger', bad).errors;
    expect(rules.replace(/\s+/g, ' ')).toContain(`(\`${error}\`)`);
  });

  const rows = [...rules.matchAll(/^\| ([^|]+) \| `(\{.*\})` \| `(\{.*\})` \| `(\{.*\})` \|$/gm)];
  it('has the pattern table', () => expect(rows.length).toBe(15));
  it.each(rows.map((r) => [r[1] as string, r[2] as string, r[3] as string, r[4] as string]))(
    'pattern table: %s',
    (_name, pattern, yes, no) => {
      const p = JSON.parse(pattern) as Record<string, unknown>;
      expect(eventPatternProblems(p)).toEqual([]);
      expect(matchesPattern(p, JSON.parse(yes))).toBe(true);
      expect(matchesPattern(p, JSON.parse(no))).toBe(false);
    },
  );
});

describe('docs/dispatch-helper.md', () => {
  it('shows JSON and text messages that parse', () => {
    const json = parseHelperBody(blocks(helper, 'json')[0] as string);
    expect(json.errors).toEqual([]);
    expect(json.requests.map((r) => r.request.job_id)).toEqual(['orders/load', 'orders/report']);
    const text = parseHelperBody(blocks(helper, 'text')[0] as string);
    expect(text.errors).toEqual([]);
    expect(text.requests.map((r) => r.request)).toEqual([
      { job_id: 'orders/load', delay: '5m', parameters: { vars: { day: '2026-01-05', note: 'late orders' } } },
      { job_id: 'orders/report', globals: { team: 'data' } },
    ]);
  });
});

describe('the pages’ shell examples', () => {
  let t: TestRealm;
  let server: Server;
  let env: NodeJS.ProcessEnv;

  const sh = (script: string): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile('sh', ['-ec', script], { env, cwd: t.dir, timeout: 30_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${script}\nfailed: ${stderr || err.message}`)) : resolve(stdout),
      );
    });

  beforeAll(async () => {
    t = await makeRealm();
    for (const job_id of ['orders/load', 'orders/report']) await t.putJob({ job_id, type: 'log', payload: null });
    await t.backend.config.put('test', 'triggers', rule);
    server = new Server({ backend: t.backend, realm: t.realm, host: '127.0.0.1', port: 0, tz: 'UTC', logger: silentLogger });
    const url = (await server.start()).replace(/\/$/, '');
    const { token } = await createToken(t.backend, 'test', 'operator');
    env = { PATH: process.env.PATH, LAVA_URL: url, TOKEN: token };
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await t?.close();
  });

  it('docs/event-rules.md', async () => {
    const [fire, none, ...rest] = blocks(rules, 'sh');
    expect(rest).toEqual([]);
    expect(await sh(fire as string)).toBe('{"trigger_id":"orders/placed","job_id":"orders/load"}\n');
    expect(rules).toContain('prints `{"trigger_id":"orders/placed","job_id":"orders/load"}`');
    expect(await sh(none as string)).toBe('[]\n');
    const [run] = await t.backend.events.query('test', { jobId: 'orders/load', limit: 1 });
    const rec = await t.backend.events.get('test', 'orders/load', run!.run_id);
    expect(rec!.log[0]!.info).toMatchObject({
      delay: 30,
      parameters: { vars: { order: 'A-1017' } },
      trigger: { trigger_id: 'orders/placed', source: 'shop.orders', detail_type: 'Order Placed' },
    });
  });

  it('docs/dispatch-helper.md', async () => {
    const [json, text, ...rest] = blocks(helper, 'sh');
    expect(rest).toEqual([]);
    expect(await sh(json as string)).toBe('["orders/load","orders/report"]\n');
    expect(helper).toContain('prints `["orders/load","orders/report"]`');
    expect(await sh(text as string)).toBe('{"dispatched":["orders/load"],"errors":["line 3"]}\n');
    expect(helper).toContain('prints `{"dispatched":["orders/load"],"errors":["line 3"]}`');
  });
});
