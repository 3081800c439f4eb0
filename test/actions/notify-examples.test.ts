/**
 * The jobs of examples/docs/actions-notify.yaml (docs/actions/{email,slack,webhook,sns,sqs}.md) run
 * as the pages say, against local peers: an smtp-server for ops-mail, a node:http server for the
 * ops-slack webhook and the webhook URLs, the SNS stand-in (no SNS emulator here:
 * test/support/aws-standins.ts), and the embedded realm's own worker queue for sqs.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookSignature } from '../../src/actions/webhook.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { useEnv } from '../support/aws.js';
import { startAwsStandins, type AwsStandins } from '../support/aws-standins.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/docs');
const mails: ParsedMail[] = [];
const posts: { url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
let smtp: SMTPServer;
let web: http.Server;
let base: string;
let standins: AwsStandins;
let restoreEnv: () => void;
let t: TestRealm;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _s, cb) {
      simpleParser(stream)
        .then((m) => {
          mails.push(m);
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  const smtpPort = (smtp as unknown as { server: { address(): AddressInfo } }).server.address().port;
  web = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      posts.push({ url: req.url ?? '', headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  standins = await startAwsStandins();
  restoreEnv = useEnv({ ...standins.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1' });

  t = await makeRealm();
  await t.backend.config.put('test', 'connections', {
    conn_id: 'ops-mail',
    type: 'email',
    subtype: 'smtp',
    enabled: true,
    host: '127.0.0.1',
    port: smtpPort,
    from: 'lava@example.com',
  });
  await t.backend.secrets.put('test', '/lava/test/slack/ops', `${base}/services/T1/B1/secret`);
  await t.backend.config.put('test', 'connections', {
    conn_id: 'ops-slack',
    type: 'slack',
    enabled: true,
    webhook_url: '/lava/test/slack/ops',
  });
  await t.backend.secrets.put('test', '/lava/default/webhook/signing', 'sign-me');
  const specs = parse(fs.readFileSync(path.join(EXAMPLES, 'actions-notify.yaml'), 'utf8')) as Record<string, unknown>[];
  for (const spec of specs) await t.putJob({ ...spec, worker: 'w' });
});

afterAll(async () => {
  await t?.close();
  restoreEnv?.();
  await standins?.stop();
  web?.closeAllConnections();
  await new Promise<void>((r) => (web ? web.close(() => r()) : r()));
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
});

async function run(jobId: string, globals?: Record<string, unknown>) {
  const runId = await t.dispatch(jobId, globals ? { globals } : {});
  await t.drain();
  const rec = await t.backend.events.get('test', jobId, runId);
  return { runId, statuses: (rec?.log ?? []).map((e) => e.status) };
}

describe('examples/docs/actions-notify.yaml', () => {
  it('docs/actions/email mails an HTML note with stdout attached', async () => {
    const r = await run('docs/actions/email');
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const m = mails.at(-1)!;
    expect(m.subject).toBe('docs/actions/email loaded');
    expect(m.from?.text).toBe('lava@example.com');
    expect(String(m.html)).toContain(`Run ${r.runId} of <b>docs/actions/email</b>`);
    expect(m.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([['stdout', '42 rows loaded\n']]);
  });

  it('docs/actions/slack posts the failure in the block style with colour danger', async () => {
    const r = await run('docs/actions/slack');
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'failed']);
    const p = posts.at(-1)!;
    expect(p.url).toBe('/services/T1/B1/secret');
    const body = JSON.parse(p.body) as { attachments: { color: string; blocks: { text?: { text: string } }[] }[] };
    expect(body.attachments[0]?.color).toBe('danger');
    expect(body.attachments[0]?.blocks[1]?.text?.text).toBe(`Run \`${r.runId}\` exited with 2: disk full`);
  });

  it('docs/actions/webhook posts a signed summary and a custom body', async () => {
    const before = posts.length;
    const r = await run('docs/actions/webhook', { hooks: base });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const [summary, custom] = posts.slice(before);
    expect(summary?.url).toBe('/lava/runs');
    expect(JSON.parse(summary!.body)).toMatchObject({ job_id: 'docs/actions/webhook', run_id: r.runId, status: 'complete' });
    expect(summary?.headers['x-lava-signature']).toBe(
      webhookSignature('sign-me', String(summary?.headers['x-lava-timestamp']), summary!.body),
    );
    expect(custom?.url).toBe('/lava/loads');
    expect(custom?.headers['x-team']).toBe('data');
    expect(JSON.parse(custom!.body)).toEqual({ job: 'docs/actions/webhook', run: r.runId, outcome: 'loaded' });
  });

  it('docs/actions/sns publishes JSON to the topic (stand-in endpoint)', async () => {
    const before = standins.requests.length;
    const r = await run('docs/actions/sns');
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const q = standins.requests.slice(before).find((x) => x.service === 'sns');
    expect(q?.body).toMatchObject({
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:lava-runs',
      Subject: 'docs/actions/sns finished',
      Message: JSON.stringify({ job_id: 'docs/actions/sns', run_id: r.runId }),
    });
  });

  it('docs/actions/sqs puts its message in the reports worker queue', async () => {
    const r = await run('docs/actions/sqs');
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const [m] = await t.backend.queue('test', 'reports').receive({ max: 1, waitSeconds: 0, visibilitySeconds: 30 });
    expect(JSON.parse(m!.body)).toEqual({ job_id: 'docs/actions/sqs', run_id: r.runId });
  });
});
