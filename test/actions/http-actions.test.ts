/**
 * The slack and webhook actions against a local node:http server: the JSON a Slack incoming webhook
 * gets per style, and signed webhook deliveries checked with the receiver code of
 * docs/actions/webhook.md (examples/docs/webhook-verify.mjs), retries on 5xx but not 4xx, and a
 * timeout. Webhook URLs and signing secrets must appear in no event, log line or error.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backoffMs, webhookSignature } from '../../src/actions/webhook.js';
import { slackConnector, slackColour } from '../../src/connections/connectors/slack.js';
import { resolveConnection } from '../../src/connections/resolve.js';
import { clearSecretCache } from '../../src/connections/secrets.js';
import { createLogger } from '../../src/core/logger.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { verifyLavaWebhook } = (await import(path.join(ROOT, 'examples/docs/webhook-verify.mjs'))) as {
  verifyLavaWebhook(secret: string, headers: http.IncomingHttpHeaders, body: string | Buffer, tolerance?: number): boolean;
};

const HOOK_TOKEN = 'T000/B000/XXXXsecretHookToken';
const SIGNING = 'whsec-signing-Secret-123';

interface Received {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
/** Answers per path, used in order; when none is left: 200. */
const answers = new Map<string, (number | 'hang')[]>();
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const next = answers.get(req.url ?? '')?.shift() ?? 200;
      if (next === 'hang') return; // never answer
      // Echo the path back in errors, as some servers do: it must still not leak.
      res.writeHead(next, { 'content-type': 'text/plain' });
      res.end(next >= 400 ? `error at ${req.url ?? ''}` : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let t: TestRealm;
let logs: string[];
beforeEach(async () => {
  t = await makeRealm();
  logs = [];
  received.length = 0;
  answers.clear();
  clearSecretCache();
  await t.backend.secrets.put('test', '/lava/test/slack/hook', `${base}/services/${HOOK_TOKEN}`);
  await t.backend.secrets.put('test', '/lava/test/webhook/signing', SIGNING);
  await t.backend.config.put('test', 'connections', {
    conn_id: 'slack',
    type: 'slack',
    enabled: true,
    webhook_url: '/lava/test/slack/hook',
    colour: 'ff0000',
    preamble: 'From the test realm',
  });
  await t.backend.config.put('test', 'connections', {
    conn_id: 'slack-plain-url',
    type: 'slack',
    enabled: true,
    webhook_url: `${base}/services/${HOOK_TOKEN}`,
    style: 'plain',
  });
});
afterEach(async () => {
  await t.close();
});

async function run(spec: Record<string, unknown>) {
  await t.putJob(spec);
  const runId = await t.dispatch(String(spec.job_id));
  await t.drain({
    logger: createLogger({
      level: 'debug',
      json: true,
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logs.push(chunk.toString('utf8'));
          done();
        },
      }),
    }),
  });
  const rec = await t.backend.events.get('test', String(spec.job_id), runId);
  const log = rec?.log ?? [];
  return { runId, statuses: log.map((e) => e.status), log, last: log.at(-1)?.info };
}

const json = (r: Received | undefined): Record<string, unknown> => JSON.parse(r?.body ?? 'null') as Record<string, unknown>;

describe('slack action', () => {
  it('posts each style with the connection defaults, rendered fields and limits', async () => {
    const r = await run({
      job_id: 'slack/styles',
      type: 'log',
      on_success: [
        { action: 'slack', slack_conn: 'slack', subject: '{{ job.job_id }} ok', message: 'run {{ job.run_id }}' },
        {
          action: 'slack',
          slack_conn: 'slack',
          style: 'attachment',
          colour: 'good',
          from: 'etl@{{ realm.realm }}',
          subject: 'x'.repeat(300),
          message: 'm'.repeat(3100),
        },
        { action: 'slack', slack_conn: 'slack-plain-url', subject: 'S', message: 'plain {{ job.job_id }}' },
      ],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(received.map((q) => q.url)).toEqual(Array(3).fill(`/services/${HOOK_TOKEN}`));
    expect(received[0]?.headers['content-type']).toBe('application/json');

    expect(json(received[0])).toEqual({
      text: 'From the test realm',
      attachments: [
        {
          color: '#ff0000',
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: '*slack/styles ok*' } },
            { type: 'section', text: { type: 'mrkdwn', text: `run ${r.runId}` } },
            { type: 'context', elements: [{ type: 'mrkdwn', text: 'From: lava@test' }] },
          ],
        },
      ],
    });

    const att = json(received[1]);
    expect(att.text).toBe('From the test realm');
    const a = (att.attachments as Record<string, unknown>[])[0]!;
    expect(a.color).toBe('good');
    expect(a.footer).toBe('etl@test');
    expect([...String(a.title)]).toHaveLength(250);
    expect(String(a.title).endsWith('…')).toBe(true);
    expect([...String(a.text)]).toHaveLength(3000);
    expect(typeof a.ts).toBe('number');

    expect(json(received[2])).toEqual({ text: '*S*\nplain slack/styles\n_from lava@test_' });
  });

  it('a refused post is action_failed without the webhook URL', async () => {
    answers.set(`/services/${HOOK_TOKEN}`, [500]);
    const r = await run({
      job_id: 'slack/500',
      type: 'log',
      on_success: [{ action: 'slack', slack_conn: 'slack', message: 'm' }],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'action_failed']);
    expect(String(r.last)).toBe(
      `on_success action: slack: slack connection "slack" (${base.slice('http://'.length)}) answered HTTP 500: error at ***`,
    );
    const everything = JSON.stringify(await t.events(r.runId)) + logs.join('');
    expect(everything).not.toContain(HOOK_TOKEN);
  });

  it('checks fields strictly and the style', async () => {
    const r = await run({
      job_id: 'slack/bad',
      type: 'log',
      on_success: [{ action: 'slack', slack_conn: 'slack', message: 'm', style: 'fancy' }],
    });
    expect(String(r.last)).toContain('slack action: style "fancy": use block, attachment, plain');
    const r2 = await run({
      job_id: 'slack/typo',
      type: 'log',
      on_success: [{ action: 'slack', slack_conn: 'slack', mesage: 'm' }],
    });
    expect(String(r2.last)).toContain('slack action: unknown field "mesage"');
  });

  it('lava conn test checks the URL shape only, posts nothing and prints no URL', async () => {
    const c = await resolveConnection('slack', { backend: t.backend, realm: 'test' });
    const line = await slackConnector.test!(c);
    expect(line).toContain('from secret /lava/test/slack/hook is a well-formed URL');
    expect(line).not.toContain(HOOK_TOKEN);
    expect(received).toHaveLength(0);
    expect(slackColour('warning')).toBe('warning');
    expect(slackColour('#123456')).toBe('#123456');
  });
});

describe('webhook action', () => {
  it('posts the default JSON summary, signed: the documented receiver verifies it', async () => {
    const r = await run({
      job_id: 'hook/default',
      type: 'log',
      on_success: [{ action: 'webhook', url: `${base}/hook/{{ job.job_id }}`, secret: '/lava/test/webhook/signing' }],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(received).toHaveLength(1);
    const q = received[0]!;
    expect(q.url).toBe('/hook/hook/default');
    expect(q.headers['content-type']).toBe('application/json');
    expect(JSON.parse(q.body)).toEqual({
      realm: 'test',
      job_id: 'hook/default',
      run_id: r.runId,
      status: 'complete',
      exit_status: 0,
      error: null,
    });
    expect(q.headers['x-lava-signature']).toBe(webhookSignature(SIGNING, String(q.headers['x-lava-timestamp']), q.body));
    expect(verifyLavaWebhook(SIGNING, q.headers, q.body)).toBe(true);
    expect(verifyLavaWebhook('another secret', q.headers, q.body)).toBe(false);
    expect(verifyLavaWebhook(SIGNING, q.headers, `${q.body} `)).toBe(false);
    expect(verifyLavaWebhook(SIGNING, { ...q.headers, 'x-lava-timestamp': '1000' }, q.body)).toBe(false);
    expect(JSON.stringify(await t.events(r.runId)) + logs.join('')).not.toContain(SIGNING);
  });

  it('renders a map body and headers; on_fail gives status failed; a string body is text', async () => {
    const r = await run({
      job_id: 'hook/fail',
      type: 'cmd',
      payload: "sh -c 'exit 4'",
      on_fail: [
        { action: 'webhook', url: `${base}/fail`, headers: { 'X-Team': '{{ job.job_id }}' } },
        { action: 'webhook', url: `${base}/map`, body: { job: '{{ job.job_id }}', n: 2 } },
        { action: 'webhook', url: `${base}/text`, body: 'failed: {{ result.error }}', retries: 0 },
      ],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'failed']);
    const [fail, map, text] = received;
    expect(JSON.parse(fail!.body)).toMatchObject({ status: 'failed', exit_status: 4, error: 'Failed with exit status 4' });
    expect(fail!.headers['x-team']).toBe('hook/fail');
    expect(fail!.headers['x-lava-signature']).toBeUndefined();
    expect(JSON.parse(map!.body)).toEqual({ job: 'hook/fail', n: 2 });
    expect(text!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text!.body).toBe('failed: Failed with exit status 4');
  });

  it('retries a 500 and succeeds on the next 200, re-signing each attempt', async () => {
    answers.set('/flaky', [500]);
    const r = await run({
      job_id: 'hook/retry',
      type: 'log',
      on_success: [{ action: 'webhook', url: `${base}/flaky`, secret: '/lava/test/webhook/signing' }],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(received).toHaveLength(2);
    for (const q of received) expect(verifyLavaWebhook(SIGNING, q.headers, q.body)).toBe(true);
    expect(logs.join('')).toMatch(/webhook action: HTTP 500: error at \/flaky; retrying/);
  });

  it('does not retry a 400: action_failed at once', async () => {
    answers.set('/bad?token=abc', [400, 200]);
    const r = await run({
      job_id: 'hook/400',
      type: 'log',
      on_success: [{ action: 'webhook', url: `${base}/bad?token=abc`, secret: '/lava/test/webhook/signing' }],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'action_failed']);
    expect(received).toHaveLength(1);
    expect(String(r.last)).toBe(
      `on_success action: webhook: webhook action: POST ${base}/bad failed: HTTP 400: error at /bad?token=abc (a 4xx answer is not retried)`,
    );
    expect(JSON.stringify(await t.events(r.runId)) + logs.join('')).not.toContain(SIGNING);
  });

  it('gives up after the retries, and times out a server that does not answer', async () => {
    answers.set('/down', [503, 503]);
    const r = await run({
      job_id: 'hook/down',
      type: 'log',
      on_success: [{ action: 'webhook', url: `${base}/down`, retries: 1 }],
    });
    expect(String(r.last)).toBe(
      `on_success action: webhook: webhook action: POST ${base}/down failed after 2 attempts: HTTP 503: error at /down`,
    );

    answers.set('/slow', ['hang']);
    const started = Date.now();
    const s = await run({
      job_id: 'hook/slow',
      type: 'log',
      on_success: [{ action: 'webhook', url: `${base}/slow`, timeout: 1, retries: 0 }],
    });
    expect(String(s.last)).toBe(`on_success action: webhook: webhook action: POST ${base}/slow failed: no answer within 1s`);
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('backoff doubles with jitter', () => {
    expect(backoffMs(0, () => 0)).toBe(250);
    expect(backoffMs(0, () => 1)).toBe(500);
    expect(backoffMs(3, () => 1)).toBe(4000);
    expect(backoffMs(20, () => 1)).toBe(30_000);
  });

  it('the receiver sample on the docs page is examples/docs/webhook-verify.mjs', () => {
    const page = fs.readFileSync(path.join(ROOT, 'docs/actions/webhook.md'), 'utf8');
    const sample = fs.readFileSync(path.join(ROOT, 'examples/docs/webhook-verify.mjs'), 'utf8');
    expect(page).toContain(sample.trim());
  });
});
