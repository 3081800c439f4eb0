/** Action types by name: adding one is one file exporting an Action, listed here. */
import { dispatchAction } from './dispatch.js';
import { eventAction } from './event.js';
import { logAction } from './log.js';
import { stateAction } from './state.js';
import type { Action, ActionRegistry } from '../run/action.js';

export type { ActionRegistry };

export function builtinActions(): Map<string, Action> {
  return new Map([logAction, dispatchAction, stateAction, eventAction].map((a) => [a.type, a]));
}
