/**
 * Python-compatible value shims for Lava templates.
 *
 * Lava job specs are Jinja templates evaluated against *Python* objects: `start.strftime(...)`,
 * `'a,b'.split(',')`, `{{ globals }}` printing a Python dict repr, `ustart - utils.timedelta(hours=4)`.
 * This module gathers the Python object model the template runtime (render.ts) dispatches to:
 *
 * - py-object.ts: call-argument binding, type helpers and the `PyObject` base of every shim;
 * - py-calendar.ts, py-tz.ts, py-timedelta.ts, py-datetime.ts, py-relativedelta.ts and
 *   py-datetime-classes.ts: tzinfo, timedelta, date, time, datetime, relativedelta and the
 *   callable classes; py-datetime-text.ts: `strftime` / `strptime` and ISO-8601 parsing;
 * - py-ops.ts: `str()` / `repr()` / truthiness / `==` / ordering / arithmetic with Python semantics;
 * - py-lookup.ts and py-methods.ts: attribute and item lookup (`pyGetattr` / `pyGetitem` /
 *   `pySlice`) including the str, list and dict methods templates call;
 * - py-format.ts: `str.format` and `%` formatting.
 */
export * from './py-object.js';
export * from './py-calendar.js';
export * from './py-tz.js';
export * from './py-timedelta.js';
export * from './py-datetime-text.js';
export * from './py-datetime.js';
export * from './py-relativedelta.js';
export * from './py-datetime-classes.js';
export * from './py-ops.js';
export * from './py-lookup.js';
export * from './py-methods.js';
export * from './py-format.js';
