/** The classes templates call: utils.datetime, utils.date, utils.time, utils.timedelta, relativedelta. */
import { EPOCH_ORDINAL, US_PER_DAY, wallOf } from './py-calendar.js';
import { MAX_TD_DAYS, PyTimedelta } from './py-timedelta.js';
import { PyDate, PyDatetime, PyTime, combine, datetimeFromIso, datetimeNow, fromTimestamp } from './py-datetime.js';
import { PyNamespace, optInt, pyfunc, toInt, toStr, valueError } from './py-object.js';
import { PyRelativedelta, RD_ABS, RD_REL } from './py-relativedelta.js';
import { parseIso } from './py-datetime-text.js';
import { pyRepr } from './py-ops.js';
import { toTz } from './py-tz.js';

const DT_PARAMS = ['year', 'month', 'day', 'hour', 'minute', 'second', 'microsecond', 'tzinfo'];

export function makeDatetimeClass(): PyNamespace {
  const proto = new PyDatetime(0n, null); // a donor for the class methods
  return new PyNamespace(
    'datetime.datetime',
    'class',
    {
      now: proto.now.bind(proto),
      utcnow: proto.utcnow.bind(proto),
      today: proto.today.bind(proto),
      fromtimestamp: pyfunc('fromtimestamp', ['timestamp', 'tz'], (a) => fromTimestamp(a.timestamp, toTz(a.tz, 'tz')), {
        required: 1,
      }),
      utcfromtimestamp: proto.utcfromtimestamp.bind(proto),
      fromisoformat: datetimeFromIso,
      strptime: proto.strptime.bind(proto),
      fromordinal: proto.fromordinal.bind(proto),
      combine: pyfunc('combine', ['date', 'time', 'tzinfo'], (a) => combine(a.date, a.time, a.tzinfo), { required: 2 }),
      min: new PyDatetime(wallOf({ year: 1, month: 1, day: 1, hour: 0, minute: 0, second: 0, microsecond: 0 }), null),
      max: new PyDatetime(
        wallOf({ year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, microsecond: 999_999 }),
        null,
      ),
    },
    pyfunc(
      'datetime',
      DT_PARAMS,
      (a) =>
        PyDatetime.of(
          {
            year: toInt(a.year, 'year'),
            month: toInt(a.month, 'month'),
            day: toInt(a.day, 'day'),
            hour: optInt(a.hour, 'hour', 0),
            minute: optInt(a.minute, 'minute', 0),
            second: optInt(a.second, 'second', 0),
            microsecond: optInt(a.microsecond, 'microsecond', 0),
          },
          toTz(a.tzinfo, 'tzinfo'),
        ),
      { required: 3 },
    ),
  );
}

export function makeDateClass(): PyNamespace {
  const today = (): PyDate => datetimeNow(null).date();
  return new PyNamespace(
    'datetime.date',
    'class',
    {
      today,
      fromtimestamp: pyfunc('fromtimestamp', ['timestamp'], (a) => fromTimestamp(a.timestamp, null).date(), { required: 1 }),
      fromordinal: pyfunc('fromordinal', ['ordinal'], (a) => PyDate.fromDays(toInt(a.ordinal, 'ordinal') - EPOCH_ORDINAL), {
        required: 1,
      }),
      fromisoformat: pyfunc('fromisoformat', ['date_string'], (a) => {
        const s = toStr(a.date_string, 'fromisoformat: argument');
        const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(s);
        if (!m) throw valueError(`Invalid isoformat string: ${pyRepr(s)}`);
        return new PyDate(Number(m[1]), Number(m[2]), Number(m[3]));
      }),
      min: new PyDate(1, 1, 1),
      max: new PyDate(9999, 12, 31),
    },
    pyfunc(
      'date',
      ['year', 'month', 'day'],
      (a) => new PyDate(toInt(a.year, 'year'), toInt(a.month, 'month'), toInt(a.day, 'day')),
      { required: 3 },
    ),
  );
}

export function makeTimeClass(): PyNamespace {
  return new PyNamespace(
    'datetime.time',
    'class',
    {
      fromisoformat: pyfunc('fromisoformat', ['time_string'], (a) => {
        const dt = parseIso(`2000-01-01T${toStr(a.time_string, 'fromisoformat: argument')}`, 'timezone');
        if (!dt) throw valueError(`Invalid isoformat string: ${pyRepr(a.time_string)}`);
        return dt.timetz();
      }),
    },
    pyfunc(
      'time',
      ['hour', 'minute', 'second', 'microsecond', 'tzinfo'],
      (a) =>
        new PyTime(
          optInt(a.hour, 'hour', 0),
          optInt(a.minute, 'minute', 0),
          optInt(a.second, 'second', 0),
          optInt(a.microsecond, 'microsecond', 0),
          toTz(a.tzinfo, 'tzinfo'),
        ),
    ),
  );
}

export function makeTimedeltaClass(): PyNamespace {
  return new PyNamespace(
    'datetime.timedelta',
    'class',
    {
      resolution: new PyTimedelta(1n),
      min: new PyTimedelta(-MAX_TD_DAYS * US_PER_DAY),
      max: new PyTimedelta((MAX_TD_DAYS + 1n) * US_PER_DAY - 1n),
    },
    pyfunc('timedelta', ['days', 'seconds', 'microseconds', 'milliseconds', 'minutes', 'hours', 'weeks'], (a) =>
      PyTimedelta.make(a),
    ),
  );
}

export function makeRelativedeltaClass(): PyNamespace {
  return new PyNamespace(
    'dateutil.relativedelta.relativedelta',
    'class',
    {},
    pyfunc('relativedelta', ['dt1', 'dt2', ...RD_REL, 'weeks', ...RD_ABS], (a) => PyRelativedelta.make(a)),
  );
}
