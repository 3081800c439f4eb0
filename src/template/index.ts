/**
 * Jinja templating for Lava job specs: Jinja2 semantics over Python-compatible value shims.
 * See docs/templating.md.
 */
export { renderTemplate, renderStructure, jsonDumps } from './render.js';
export type { RenderOptions } from './render.js';
export {
  DEFAULT_TEMPLATE_LIMITS,
  TEMPLATE_LIMITS,
  TEMPLATE_LIMIT_KEYS,
  TemplateLimitError,
  withTemplateLimits,
} from './limits.js';
export type { TemplateLimits } from './limits.js';
export { buildTemplateContext } from './context.js';
export type { TemplateContextInput } from './context.js';
export { utils } from './utils.js';
export { s3Split } from './utils-s3.js';
export {
  PyDate,
  PyDatetime,
  PyError,
  PyObject,
  PyRelativedelta,
  PyTime,
  PyTimedelta,
  PyTzInfo,
  TZ_TZUTC,
  TZ_UTC,
  gettz,
  localZoneName,
  pyBool,
  pyRepr,
  pyStr,
  tzLocal,
} from './pytypes.js';
