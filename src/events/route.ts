// replaced by the event rules module
/**
 * Temporary stand-in for the event rules module (src/events/route.ts), written so that the event
 * action can call it before that module is merged. It delivers to no rule.
 */
import type { Backend } from '../backends/ports.js';
import type { Logger } from '../core/logger.js';

export async function routeEvent(
  backend: Backend,
  realm: string,
  event: { source: string; 'detail-type': string; detail: unknown; resources?: string[]; time?: string; id?: string },
  options?: { logger?: Logger },
): Promise<{ trigger_id: string; job_id: string; run_id: string }[]> {
  void backend;
  void realm;
  void event;
  void options;
  return [];
}
