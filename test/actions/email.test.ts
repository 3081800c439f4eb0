/**
 * The email action through an smtp email connection: an in-process smtp-server (with AUTH) receives
 * the mail, mailparser reads it. The password (a realm secret) must appear in no event, log line or
 * error, even when the server refuses it.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { emailConnector } from '../../src/connections/connectors/email.js';
import { resolveConnection } from '../../src/connections/resolve.js';
import { clearSecretCache } from '../../src/connections/secrets.js';
import { createLogger } from '../../src/core/logger.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const PASSWORD = 'pa55-Very-Secret-smtp';
const received: { from: string; to: string[]; mail: ParsedMail }[] = [];
let server: SMTPServer;
let port: number;

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'mailer' && auth.password === PASSWORD) cb(null, { user: 'mailer' });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            mail,
          });
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let t: TestRealm;
let logs: string[];
const logger = () =>
  createLogger({
    level: 'debug',
    json: true,
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    }),
  });

beforeEach(async () => {
  t = await makeRealm({ SES_FROM: 'fallback@example.com' });
  logs = [];
  received.length = 0;
  clearSecretCache();
  await t.backend.secrets.put('test', '/lava/test/smtp/password', PASSWORD);
  await t.backend.secrets.put('test', '/lava/test/smtp/wrong', 'not-the-password-XYZ');
  const conn = { type: 'email', subtype: 'smtp', enabled: true, host: '127.0.0.1', port, user: 'mailer', tls: false };
  await t.backend.config.put('test', 'connections', {
    conn_id: 'mail',
    ...conn,
    password: '/lava/test/smtp/password',
    from: 'lava@example.com',
  });
  await t.backend.config.put('test', 'connections', { conn_id: 'mail-wrong', ...conn, password: '/lava/test/smtp/wrong' });
  await t.backend.config.put('test', 'connections', {
    conn_id: 'mail-alias',
    type: 'smtp',
    enabled: true,
    host: '127.0.0.1',
    port,
    user: 'mailer',
    password: '/lava/test/smtp/password',
  });
});
afterEach(async () => {
  await t.close();
});

async function run(spec: Record<string, unknown>) {
  await t.putJob(spec);
  const runId = await t.dispatch(String(spec.job_id));
  await t.drain({ logger: logger() });
  const rec = await t.backend.events.get('test', String(spec.job_id), runId);
  const log = rec?.log ?? [];
  return { runId, statuses: log.map((e) => e.status), log, last: log.at(-1)?.info };
}

describe('email action over SMTP', () => {
  it('sends the rendered subject and body to the recipients, from the connection', async () => {
    const r = await run({
      job_id: 'mail/ok',
      type: 'log',
      on_success: [
        {
          action: 'email',
          email_conn: 'mail',
          to: ['a@example.com', 'b@example.com'],
          subject: '{{ job.job_id }} finished',
          message: 'run {{ job.run_id }} exit {{ result.exit_status }}',
        },
      ],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(received).toHaveLength(1);
    const m = received[0]!;
    expect(m.from).toBe('lava@example.com');
    expect(m.to).toEqual(['a@example.com', 'b@example.com']);
    expect(m.mail.subject).toBe('mail/ok finished');
    expect(m.mail.text?.trim()).toBe(`run ${r.runId} exit 0`);
    expect(m.mail.html).toBe(false);
    expect(logs.join('')).not.toContain(PASSWORD);
  });

  it('sends HTML when the body starts with <html> (any case), with the action from and an attachment', async () => {
    t.writePayload('reports/summary.csv', 'a,b\n1,2\n');
    const r = await run({
      job_id: 'mail/html',
      type: 'cmd',
      payload: 'echo hello output',
      on_success: [
        {
          action: 'email',
          email_conn: 'mail-alias',
          from: 'me@example.com',
          to: 'c@example.com',
          subject: 'html {{ job.job_id }}',
          message: '<Html><body><p>{{ job.job_id }}</p></body></Html>',
          attachments: ['stdout', `${t.realm.s3_payloads}/reports/summary.csv`],
        },
      ],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const m = received[0]!;
    expect(m.from).toBe('me@example.com');
    expect(String(m.mail.html)).toContain('<p>mail/html</p>');
    expect(m.mail.attachments.map((a) => [a.filename, a.content.toString('utf8')])).toEqual([
      ['stdout', 'hello output\n'],
      ['summary.csv', 'a,b\n1,2\n'],
    ]);
  });

  it('refuses attachments outside the realm areas', async () => {
    fs.writeFileSync(`${t.dir}/outside.txt`, 'x');
    const r = await run({
      job_id: 'mail/outside',
      type: 'log',
      on_success: [
        {
          action: 'email',
          email_conn: 'mail',
          to: 'a@example.com',
          subject: 's',
          message: 'm',
          attachments: [`file://${t.dir}/outside.txt`],
        },
      ],
    });
    expect(r.statuses.at(-1)).toBe('action_failed');
    expect(String(r.last)).toContain('is outside the realm');
    expect(received).toHaveLength(0);
  });

  it('a wrong password is action_failed, and the password is in no event, log line or error', async () => {
    const r = await run({
      job_id: 'mail/wrong',
      type: 'log',
      on_success: [{ action: 'email', email_conn: 'mail-wrong', to: 'a@example.com', subject: 's', message: 'm' }],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'action_failed']);
    expect(String(r.last)).toMatch(
      /^on_success action: email: cannot send through email connection "mail-wrong" \(smtp:\/\/127\.0\.0\.1:\d+ as mailer\): /,
    );
    const everything = JSON.stringify(await t.events(r.runId)) + logs.join('');
    expect(everything).not.toContain('not-the-password-XYZ');
    expect(everything).not.toContain(PASSWORD);
    expect(received).toHaveLength(0);
  });

  it('checks fields strictly, as upstream', async () => {
    const r = await run({
      job_id: 'mail/typo',
      type: 'log',
      on_success: [{ action: 'email', email_conn: 'mail', to: 'a@example.com', subject: 's', mesage: 'm' }],
    });
    expect(String(r.last)).toContain('email action: unknown field "mesage"');
  });

  it('lava conn test: connects, says EHLO and logs in, sends nothing; a wrong password fails without it', async () => {
    const ok = await resolveConnection('mail', { backend: t.backend, realm: 'test' });
    expect(await emailConnector.test!(ok)).toMatch(
      /^mail \(email, smtp\): connected to smtp:\/\/127\.0\.0\.1:\d+, EHLO and login accepted/,
    );
    const bad = await resolveConnection('mail-wrong', { backend: t.backend, realm: 'test' });
    const err = await emailConnector.test!(bad).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toContain('cannot connect to email connection "mail-wrong"');
    expect(String((err as Error).message)).not.toContain('not-the-password-XYZ');
    expect(received).toHaveLength(0);
  });
});
