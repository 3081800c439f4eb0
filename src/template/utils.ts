/**
 * The `utils` object Lava passes to every template (upstream `JINJA_UTILS`): Python's datetime
 * classes, dateutil, os.path, re, S3 name splitting and uuid4 — reimplemented on the shims in
 * pytypes.ts. Filesystem-touching os.path functions (exists, isfile, abspath, ...) are left out on
 * purpose: templates should not probe the worker's disk.
 *
 * The modules: utils-re.ts, utils-path.ts, utils-s3.ts (S3 names and uuid) and utils-dateutil.ts.
 */
import { randomUUID } from 'node:crypto';
import { makeDateClass, makeDatetimeClass, makeTimeClass, makeTimedeltaClass, pyStr, pyfunc, toStr } from './pytypes.js';
import { dateutilModule, parserModule } from './utils-dateutil.js';
import { pathModule } from './utils-path.js';
import { reModule } from './utils-re.js';
import { PyUuid, s3Split } from './utils-s3.js';

const s3Arg = (name: string, part: 0 | 1) =>
  pyfunc(name, ['s'], (a) => s3Split(toStr(a.s, `${name}() argument`))[part], { required: 1 });

/** The `utils` template variable (upstream JINJA_UTILS). Frozen: templates cannot alter it. */
export const utils: Record<string, unknown> = Object.freeze({
  date: makeDateClass(),
  datetime: makeDatetimeClass(),
  time: makeTimeClass(),
  timedelta: makeTimedeltaClass(),
  dateutil: dateutilModule,
  parsedate: parserModule,
  path: pathModule,
  re: reModule,
  s3bucket: s3Arg('s3bucket', 0),
  s3key: s3Arg('s3key', 1),
  uuid: pyfunc('uuid4', [], () => new PyUuid(randomUUID())),
});

/** Exposed for tests and other modules that need the same Python-ish text of a value. */
export { pyStr };
