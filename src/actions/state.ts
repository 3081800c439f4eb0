/**
 * state action: write a state item (upstream §5.2 `state`) that later runs import through their
 * job's `state` map, or that other jobs, the CLI and the API read.
 */
import { LavaError } from '../core/errors.js';
import { putState, type StateType } from '../state/state.js';
import { renderStructure, renderTemplate } from '../template/index.js';
import type { Action, ActionSpec } from '../run/action.js';

const FIELDS = ['action', 'state_id', 'value', 'type', 'ttl', 'publisher', 'kms_key'] as const;
const TYPES: readonly string[] = ['json', 'raw', 'secure'];

function fail(message: string): never {
  throw new LavaError('LAVA_ACTION', `state action: ${message}`);
}

/** Upstream checks the keys of a state action strictly: a typo must not pass silently. */
function checkFields(spec: ActionSpec): void {
  const unknown = Object.keys(spec).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length) {
    fail(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: use ${FIELDS.join(', ')}`);
  }
}

export const stateAction: Action = {
  type: 'state',
  async run(spec, ctx) {
    checkFields(spec);
    if (typeof spec.state_id !== 'string' || !spec.state_id) {
      fail('needs a string "state_id", e.g. {"action": "state", "state_id": "{{ job.job_id }}/last", "value": "..."}');
    }
    if (spec.value === undefined) fail('needs a "value" (any JSON value; strings in it are rendered)');
    if (spec.type !== undefined && (typeof spec.type !== 'string' || !TYPES.includes(spec.type))) {
      fail(`type ${JSON.stringify(spec.type)}: use json (the default), raw or secure`);
    }
    const type = (spec.type ?? 'json') as StateType;
    if (spec.kms_key !== undefined && type !== 'secure') {
      fail(`kms_key only applies to type secure (this item is ${type}): remove it or set "type": "secure"`);
    }
    if (spec.publisher !== undefined && typeof spec.publisher !== 'string') fail('"publisher" must be a string');
    if (spec.ttl !== undefined && typeof spec.ttl !== 'string' && typeof spec.ttl !== 'number') {
      fail(`ttl ${JSON.stringify(spec.ttl)}: use a duration such as "12h", "7d" or a number of seconds`);
    }

    const render = <T>(what: string, fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        throw new LavaError('LAVA_ACTION', `state action: bad ${what}: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
    };
    const stateId = render('state_id', () => renderTemplate(spec.state_id as string, ctx.templateContext));
    const publisher =
      spec.publisher === undefined
        ? ctx.job.job_id
        : render('publisher', () => renderTemplate(spec.publisher as string, ctx.templateContext));
    const value = render('value', () => renderStructure(spec.value, ctx.templateContext));

    // The embedded backend encrypts secure items with the realm's secret key; kms_key is
    // accepted for spec compatibility and will select the KMS key on the AWS backend.
    const item = await putState(ctx.backend, ctx.job.realm, ctx.config, stateId, value, {
      type,
      ...(spec.ttl !== undefined ? { ttl: spec.ttl } : {}),
      publisher,
      checkReserved: true,
    });
    ctx.logger.info(
      { job_id: ctx.job.job_id, run_id: ctx.job.run_id, action: 'state', state_id: stateId, type, ttl: item.ttl },
      'state action',
    );
  },
};
