/**
 * Jinja2 rendering for Lava templates, on top of nunjucks.
 *
 * Nunjucks parses Jinja syntax but evaluates it with JavaScript semantics. Lava templates were
 * written against Python objects, so this module compiles templates with a nunjucks Parser and
 * Compiler subclass whose generated code calls Python-semantics helpers (pytypes.ts) instead of
 * JS operators:
 *
 * - operators: `+ - * / // % **`, comparisons (incl. chains), `in`, `~`, unary minus compile to
 *   `runtime.pyBinop(...)` etc., which dispatch on shim types (datetime - timedelta, str * int,
 *   list + list) and otherwise apply Python number/str rules. A `valueOf` trick cannot do this
 *   (JS `+` on two objects cannot produce an object, and it cannot raise TypeErrors);
 * - truthiness: `if`, `and`, `or`, `not` and inline-if use Python truthiness ([] and {} are false);
 * - lookups: `a.b` is Python getattr (methods of str/list/dict shims, then keys) and `a[b]` is
 *   getitem (negative indexes, then attributes); slices `s[1:3]` have Python semantics;
 * - output: values print as Python str() (True, None, {'a': 1}), undefined prints '';
 * - string literals use Python escapes ('\d' stays a backslash-d, as in Jinja).
 *
 * The generated code receives our runtime object instead of nunjucks's global one, so nothing in
 * the shared nunjucks module is patched and other nunjucks users are unaffected.
 *
 * The parts: jinja-nunjucks.ts (the nunjucks internals we extend, and our AST nodes),
 * jinja-parser.ts, jinja-compiler.ts, jinja-runtime.ts (what compiled code calls) and
 * jinja-filters.ts (filters, tests and globals); this module compiles, caches and renders.
 */
import { nj } from './jinja-nunjucks.js';
import type { NjEnvironment, NjTemplate, RootFn } from './jinja-nunjucks.js';
import { PyCompiler } from './jinja-compiler.js';
import { PyParser, jinjaTokens } from './jinja-parser.js';
import { TEMPLATE_LIMITS, TemplateLimitError, resolveLimits, withinLimits } from './limits.js';
import type { TemplateLimits } from './limits.js';
import { TemplateError } from '../core/errors.js';
import { makeEnvironment } from './jinja-filters.js';
import { pyRuntime } from './jinja-runtime.js';
import { pyTypeName } from './pytypes.js';

export { jsonDumps } from './json.js';

export interface RenderOptions {
  /** HTML-escape substituted values (upstream does this for sqlc/sqlv files named *.html / *.xml). */
  autoescape?: boolean;
  /** Bounds on this render; over the context's own (TEMPLATE_LIMITS key) and the defaults. */
  limits?: Partial<TemplateLimits>;
}

const environments = new Map<boolean, NjEnvironment>();
const templateCache = new Map<string, NjTemplate>();
const CACHE_LIMIT = 1000;

function environment(autoescape: boolean): NjEnvironment {
  let env = environments.get(autoescape);
  if (!env) {
    env = makeEnvironment(autoescape);
    environments.set(autoescape, env);
  }
  return env;
}

function compileTemplate(source: string, env: NjEnvironment): NjTemplate {
  const ast = new PyParser(jinjaTokens(source, env.opts)).parseAsRoot();
  // nunjucks's transformer pass is skipped: it only rewrites async filters and block super(),
  // neither of which a standalone (loader-less) template can use.
  const compiler = new PyCompiler('template', false);
  compiler.compile(ast, undefined);
  // Evaluating the generated code is how nunjucks itself loads a compiled template.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const props = new Function(compiler.getCode())() as Record<string, unknown>;
  const root = props.root as RootFn;
  props.root = (e: unknown, ctx: unknown, frame: unknown, _rt: unknown, cb: unknown) => root(e, ctx, frame, pyRuntime, cb);
  return new nj.Template({ type: 'code', obj: props }, env);
}

function getTemplate(source: string, autoescape: boolean): NjTemplate {
  const key = `${autoescape ? 1 : 0}${source}`;
  let t = templateCache.get(key);
  if (!t) {
    t = compileTemplate(source, environment(autoescape));
    if (templateCache.size >= CACHE_LIMIT) templateCache.clear();
    templateCache.set(key, t);
  }
  return t;
}

/** Jinja reads any newline style as \n and drops one trailing newline (keep_trailing_newline=False). */
function normaliseSource(source: string): string {
  return source.replace(/\r\n?/g, '\n').replace(/\n$/, '');
}

const truncate = (s: string, n = 200): string => (s.length > n ? `${s.slice(0, n)}...` : s);

function renderError(err: unknown, source: string): TemplateError {
  const raw = err instanceof Error ? err.message : String(err);
  const msg = raw.replace(/^\(unknown path\)\s*/, '').replace(/\s*\n\s*/g, ' ');
  // Parse errors carry their (1-based) position; nunjucks only puts it in the message at render time.
  const { lineno, colno } = (err ?? {}) as { lineno?: unknown; colno?: unknown };
  const where =
    typeof lineno === 'number' && lineno > 0 && !msg.includes('[Line') ? ` (line ${lineno}, column ${String(colno)})` : '';
  return new TemplateError(
    `Jinja template failed to render: ${msg}${where}. Check the template's syntax and the variables it uses. Template: ${JSON.stringify(truncate(source))}`,
    { cause: err },
  );
}

/**
 * Render a Jinja template with Jinja2 default semantics: undefined names (and attributes of
 * undefined) render as '', no autoescape, one trailing newline dropped, Python value printing.
 */
export function renderTemplate(source: string, context: Record<string, unknown>, options: RenderOptions = {}): string {
  if (typeof source !== 'string') throw new TemplateError(`a template must be a string, got ${pyTypeName(source)}`);
  const text = normaliseSource(source);
  if (!/\{[{%#]/.test(text)) return text; // nothing to evaluate
  const limits = resolveLimits(
    (context as Record<symbol, unknown>)[TEMPLATE_LIMITS] as Partial<TemplateLimits> | undefined,
    options.limits,
  );
  try {
    const template = getTemplate(text, options.autoescape ?? false);
    return withinLimits(limits, () => template.render(context));
  } catch (err) {
    if (err instanceof TemplateLimitError)
      throw new TemplateLimitError(err.limit, `${err.detail}. Template: ${JSON.stringify(truncate(source))}`);
    throw renderError(err, source);
  }
}

/**
 * Lava's "JSON trick" for structured values: JSON-encode, render the whole text as one template,
 * JSON-decode. Leaves that were templated become strings.
 */
export function renderStructure(value: unknown, context: Record<string, unknown>, options: RenderOptions = {}): unknown {
  const text = JSON.stringify(value);
  if (text === undefined) return value;
  const rendered = renderTemplate(text, context, options);
  try {
    return JSON.parse(rendered) as unknown;
  } catch (err) {
    throw new TemplateError(
      'rendering produced invalid JSON: a value substituted into the structure probably contains a double quote, backslash or ' +
        'newline, which breaks the JSON encoding (upstream Lava behaves the same way, quirk A22). Escape or avoid such ' +
        `characters in the substituted value (e.g. with the replace filter). Rendered text: ${JSON.stringify(truncate(rendered))}`,
      { cause: err },
    );
  }
}
