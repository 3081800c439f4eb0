// Verify a signed Lava webhook (docs/actions/webhook.md). Node.js, no dependencies.
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * True when `rawBody` (the request body exactly as received, a string or Buffer) was signed with
 * `secret` less than `toleranceSeconds` ago. `headers` are the request's headers (lower-case names,
 * as node:http gives them).
 */
export function verifyLavaWebhook(secret, headers, rawBody, toleranceSeconds = 300) {
  const timestamp = headers['x-lava-timestamp'];
  const signature = headers['x-lava-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  // Refuse old (replayed) deliveries.
  const age = Math.abs(Date.now() / 1000 - Number(timestamp));
  if (!Number.isFinite(age) || age > toleranceSeconds) return false;
  const expected =
    'sha256=' + createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
  const a = Buffer.from(signature);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
