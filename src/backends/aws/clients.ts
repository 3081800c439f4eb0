/**
 * The SDK clients of the AWS backend, and helpers for their errors and values.
 *
 * Region, credentials and endpoints come from the SDK's standard sources: `AWS_REGION` /
 * `AWS_PROFILE` / the default credential chain, and `AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_<SERVICE>`
 * (`_DYNAMODB`, `_SQS`, `_SSM`, `_S3`) for emulators and VPC endpoints. `?region=` in the URL wins.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsUrl } from './url.js';

export { isAwsUrl, parseAwsUrl, type AwsUrl, type ExpireMode } from './url.js';

/** The clients one backend uses; destroyed when it closes. */
export class AwsClients {
  readonly dynamo: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;

  constructor(readonly opts: AwsUrl) {
    const common = opts.region ? { region: opts.region } : {};
    this.dynamo = new DynamoDBClient(common);
    // Upstream items hold numbers as DynamoDB decimals: read them as plain numbers (normalise() turns
    // the odd BigInt, Set and binary into JSON-friendly values); undefined fields are left out on write.
    this.doc = DynamoDBDocumentClient.from(this.dynamo, {
      marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
      unmarshallOptions: { wrapNumbers: false },
    });
    this.sqs = new SQSClient(common);
    this.ssm = new SSMClient(common);
  }

  destroy(): void {
    this.doc.destroy();
    this.dynamo.destroy();
    this.sqs.destroy();
    this.ssm.destroy();
  }
}

/** The error name of an AWS SDK error (`ConditionalCheckFailedException`, `QueueDoesNotExist`, …). */
export function awsErrorName(err: unknown): string {
  if (!err || typeof err !== 'object') return '';
  const e = err as { name?: unknown; Code?: unknown; code?: unknown };
  return String(e.name ?? e.Code ?? e.code ?? '');
}

export function isAwsError(err: unknown, ...names: string[]): boolean {
  const name = awsErrorName(err);
  return names.some((n) => name === n || name.endsWith(`.${n}`));
}

/** True for an aborted SDK call (AbortSignal). */
export function isAbort(err: unknown): boolean {
  return awsErrorName(err) === 'AbortError';
}

/**
 * A value read from DynamoDB made JSON-friendly: BigInt (integers past 2^53) → number, string and
 * number sets → sorted arrays, binary → Buffer.
 */
export function normalise(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Set) {
    return [...value]
      .map(normalise)
      .sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1));
  }
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalise(v);
    return out;
  }
  return value;
}

/**
 * What we write: plain JSON values, as the other backends store them (JSON.stringify semantics:
 * undefined fields dropped, Dates as ISO text, non-finite numbers as null), keeping binary as binary.
 */
export function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? null : value;
  if (value instanceof Uint8Array) return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return plain((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) return value.map(plain);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out[k] = plain(v);
  }
  return out;
}

/** A whole item to write (a record at the top). */
export function plainItem<T extends Record<string, unknown>>(item: T): Record<string, unknown> {
  return plain(item) as Record<string, unknown>;
}
