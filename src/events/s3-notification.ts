/**
 * Object events from the messages that carry them (spec §2.5 steps 1–2): S3 event notification
 * records, the same inside an SQS body or an SNS message (either as a Lambda record or as the JSON
 * envelope SNS puts into an SQS queue), and S3 events from EventBridge. Each becomes the canonical
 * `info` an object trigger sees, with the raw record beside it. `s3:TestEvent` (sent by S3 when a
 * notification configuration is saved) yields nothing; anything else is an error.
 */
import { ValidationError } from '../core/errors.js';

/** The canonical description of an object event (upstream's `info`). */
export interface ObjectInfo {
  bucket: string;
  /** Decoded: `+` is a space and `%xx` escapes are undone (S3 notifications encode keys). */
  key: string;
  /** Bytes; null where the event does not say (deletes). */
  size: number | null;
  source_ip: string | null;
  /** ISO 8601 with its offset. */
  event_time: string;
  /** `ObjectCreated:Put`, `ObjectRemoved:Delete`, … (EventBridge: `ObjectCreated:PutObject`). */
  event_type: string;
  aws_region: string | null;
}

/** One object event: its info, the raw record, and what makes this event of the object unique. */
export interface ObjectEvent {
  info: ObjectInfo;
  /** The raw record (the template's `event`). */
  record: Record<string, unknown>;
  /**
   * Tells apart two events of one key (S3's sequencer, else etag/version; a watched file's mtime and
   * size), so replicas and redeliveries fire each event once.
   */
  version: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** S3 encodes keys in notifications as a form value: `+` for space, `%xx` for the rest. */
export function decodeS3Key(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key.replace(/\+/g, ' ');
  }
}

/** The inverse, for records Lava makes itself (the file watcher). */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** Object events in a message body (JSON text or already parsed). Throws on anything unrecognised. */
export function objectEvents(message: unknown, depth = 0): ObjectEvent[] {
  if (depth > 4) throw new ValidationError('object event nested too deeply (SQS/SNS envelopes within envelopes)');
  let body = message;
  if (typeof message === 'string') {
    try {
      body = JSON.parse(message) as unknown;
    } catch {
      throw new ValidationError(`not an S3 event: the message is not JSON: ${JSON.stringify(message.slice(0, 200))}`);
    }
  }
  if (!isObject(body)) throw new ValidationError('not an S3 event: the message is not a JSON object');
  if (body.Event === 's3:TestEvent') return [];
  // SNS into SQS without raw delivery: the S3 event is the envelope's Message.
  if (body.Type === 'Notification' && typeof body.Message === 'string') return objectEvents(body.Message, depth + 1);
  if ('detail-type' in body) return [eventBridgeEvent(body)];
  if (Array.isArray(body.Records)) {
    return body.Records.flatMap((r: unknown): ObjectEvent[] => {
      if (!isObject(r)) throw new ValidationError('not an S3 event: a record is not an object');
      if (r.eventSource === 'aws:s3') return [s3Record(r)];
      if (r.eventSource === 'aws:sqs' && typeof r.body === 'string') return objectEvents(r.body, depth + 1);
      if (isObject(r.Sns) && typeof r.Sns.Message === 'string') return objectEvents(r.Sns.Message, depth + 1);
      throw new ValidationError(`not an S3 event: a record from ${JSON.stringify(r.eventSource ?? r.EventSource ?? null)}`);
    });
  }
  throw new ValidationError('not an S3 event: no Records, no EventBridge detail-type, not s3:TestEvent');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function s3Record(r: Record<string, unknown>): ObjectEvent {
  const s3 = isObject(r.s3) ? r.s3 : {};
  const bucket = str(isObject(s3.bucket) ? s3.bucket.name : undefined);
  const object = isObject(s3.object) ? s3.object : {};
  const key = str(object.key);
  const eventName = str(r.eventName);
  if (!bucket || key === undefined || !eventName) {
    throw new ValidationError('not an S3 event: a record lacks s3.bucket.name, s3.object.key or eventName');
  }
  const params = isObject(r.requestParameters) ? r.requestParameters : {};
  return {
    info: {
      bucket,
      key: decodeS3Key(key),
      size: num(object.size),
      source_ip: str(params.sourceIPAddress) ?? null,
      event_time: str(r.eventTime) ?? new Date().toISOString(),
      event_type: eventName,
      aws_region: str(r.awsRegion) ?? null,
    },
    record: r,
    version: String(object.sequencer ?? object.versionId ?? object.eTag ?? r.eventTime ?? ''),
  };
}

function eventBridgeEvent(e: Record<string, unknown>): ObjectEvent {
  const detail = isObject(e.detail) ? e.detail : {};
  const bucket = str(isObject(detail.bucket) ? detail.bucket.name : undefined);
  const object = isObject(detail.object) ? detail.object : {};
  const key = str(object.key);
  if (!bucket || key === undefined) {
    throw new ValidationError('not an S3 event: an EventBridge event lacks detail.bucket.name or detail.object.key');
  }
  const reason = str(detail.reason) ?? '';
  return {
    info: {
      bucket,
      // EventBridge keys are not encoded.
      key,
      size: num(object.size),
      source_ip: str(detail['source-ip-address']) ?? null,
      event_time: str(e.time) ?? new Date().toISOString(),
      event_type: `${String(e['detail-type'])}:${reason}`.replace(/\s+/g, ''),
      aws_region: str(e.region) ?? null,
    },
    record: e,
    version: String(object.sequencer ?? object['version-id'] ?? object.etag ?? e.id ?? ''),
  };
}
