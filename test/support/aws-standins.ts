/**
 * Stand-ins for SNS, SES v2 and EventBridge at the SDK boundary. No emulator for these services runs
 * here, so a local node:http server takes the place of the three endpoints: point
 * AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_SESV2 and AWS_ENDPOINT_URL_EVENTBRIDGE at it (the SDK's
 * variables: AWS_ENDPOINT_URL_ + the service id upper-cased: "SNS", "SESv2", "EventBridge"), and it
 * records each request the real SDK sends, decoded, and answers with a valid response of that
 * service's protocol (SNS: awsQuery XML; SES v2: REST JSON; EventBridge: awsJson 1.1). It checks
 * the protocol, not the service: nothing is delivered anywhere.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandinRequest {
  service: 'sns' | 'sesv2' | 'eventbridge';
  /** SNS: the form fields; SES v2 and EventBridge: the JSON body. */
  body: Record<string, unknown>;
  /** SNS: Action; EventBridge: the X-Amz-Target operation; SES v2: the path. */
  operation: string;
  headers: http.IncomingHttpHeaders;
}

export interface AwsStandins {
  endpoint: string;
  env: Record<string, string>;
  requests: StandinRequest[];
  /** Make the next EventBridge PutEvents answer with a failed entry. */
  failNextPutEvents(code: string, message: string): void;
  stop(): Promise<void>;
}

export async function startAwsStandins(): Promise<AwsStandins> {
  const requests: StandinRequest[] = [];
  let failPut: { code: string; message: string } | undefined;
  let n = 0;
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const id = `standin-${++n}`;
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.startsWith('AWSEvents.')) {
        const body = JSON.parse(raw) as Record<string, unknown>;
        requests.push({ service: 'eventbridge', operation: target.slice('AWSEvents.'.length), body, headers: req.headers });
        const entries = (body.Entries as unknown[] | undefined) ?? [];
        const fail = failPut;
        failPut = undefined;
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify(
            fail
              ? {
                  FailedEntryCount: entries.length,
                  Entries: entries.map(() => ({ ErrorCode: fail.code, ErrorMessage: fail.message })),
                }
              : { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `${id}-${i}` })) },
          ),
        );
        return;
      }
      if (req.url?.startsWith('/v2/email/')) {
        const body = JSON.parse(raw) as Record<string, unknown>;
        requests.push({ service: 'sesv2', operation: req.url, body, headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ MessageId: id }));
        return;
      }
      const form = Object.fromEntries(new URLSearchParams(raw));
      if (form.Action === 'Publish') {
        requests.push({ service: 'sns', operation: 'Publish', body: form, headers: req.headers });
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${id}</MessageId></PublishResult><ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></PublishResponse>`,
        );
        return;
      }
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`stand-in: unexpected request ${req.method ?? ''} ${req.url ?? ''}`);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_SNS: endpoint,
      AWS_ENDPOINT_URL_SESV2: endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
    },
    requests,
    failNextPutEvents(code, message) {
      failPut = { code, message };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}
