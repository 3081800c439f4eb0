/** Action types by name: adding one is one file exporting an Action, listed here. */
import { dispatchAction } from './dispatch.js';
import { emailAction } from './email.js';
import { eventAction } from './event.js';
import { logAction } from './log.js';
import { slackAction } from './slack.js';
import { snsAction } from './sns.js';
import { sqsAction } from './sqs.js';
import { stateAction } from './state.js';
import { webhookAction } from './webhook.js';
import type { Action, ActionRegistry } from '../run/action.js';

export type { ActionRegistry };

export function builtinActions(): Map<string, Action> {
  return new Map(
    [logAction, dispatchAction, stateAction, eventAction, emailAction, slackAction, webhookAction, snsAction, sqsAction].map(
      (a) => [a.type, a],
    ),
  );
}
