/**
 * zod schemas of connection specs, per connector type (upstream §1.4, §6.3). Fields that name a
 * secret (`password`, generic `{type: ssm, parameter}`) hold a secret-store name such as
 * `/lava/<realm>/db/password`, never the value. SQL connector specs keep unknown fields (upstream
 * does not reject them); generic specs reject them (other than `x-*`).
 */
import { z } from 'zod';
import { isDuration, parseBool } from '../core/units.js';

const configBool = z.unknown().transform((v, ctx) => {
  try {
    return parseBool(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a boolean: true/false, yes/no, or 1/0' });
    return z.NEVER;
  }
});

const port = z
  .union([z.number().int().positive(), z.string().regex(/^\s*\d+\s*$/, 'must be a port number')])
  .transform((v) => Number(v));

const secretName = z
  .string()
  .min(1)
  .refine((s) => !/\s/.test(s), 'must be the name of a secret (e.g. /lava/<realm>/db/password), not the value itself');

/** Fields every connection has (§1.4). */
export const baseConnectionFields = {
  conn_id: z.string().min(1),
  type: z.string({ error: 'type is required: a connector type such as "postgres" or "generic"' }).min(1),
  enabled: z.boolean({ error: 'enabled must be true or false' }).optional(),
  description: z.string().optional(),
  owner: z.string().optional(),
  /** A secret whose value is JSON with fields to fill in (upstream: Secrets Manager). */
  secret_id: secretName.optional(),
};

/** Fields of SQL database connections. Required ones are checked after `secret_id` fill-in. */
const sqlFields = {
  ...baseConnectionFields,
  host: z.string().min(1).optional(),
  port: port.optional(),
  database: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  password: secretName.optional(),
  ssl: configBool.optional(),
  preserve_case: configBool.optional(),
  subtype: z.string().optional(),
  /** Connect timeout (duration, default 10s). */
  timeout: z.union([z.number(), z.string()]).refine(isDuration, 'bad duration: use seconds or e.g. "30s"').optional(),
};

export const postgresSchema = z.looseObject(sqlFields);
export const redshiftSchema = z.looseObject({
  ...sqlFields,
  cluster_id: z.string().optional(),
  password_duration: z.union([z.number(), z.string()]).optional(),
  workgroup: z.string().optional(),
  role_arn: z.string().optional(),
  external_id: z.string().optional(),
});
export const mysqlSchema = z.looseObject({ ...sqlFields, ca_cert: z.string().optional() });
export const sqliteSchema = z.looseObject({
  ...sqlFields,
  /** The database file (a path, or file:// URI). */
  host: z.string().min(1).optional(),
});
export const mssqlSchema = z.looseObject({
  ...sqlFields,
  /** ODBC driver name (upstream, pyodbc); ignored: the tedious driver is used. */
  driver: z.string().optional(),
  encrypt: configBool.optional(),
  trust_server_certificate: configBool.optional(),
  instance_name: z.string().optional(),
});
export const oracleSchema = z.looseObject({
  ...sqlFields,
  sid: z.string().optional(),
  service_name: z.string().optional(),
  edition: z.string().optional(),
});

export const GENERIC_ATTRIBUTE_NAME = /^[A-Za-z][\w-]*$/;

const genericValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.strictObject({ type: z.literal('local'), value: z.union([z.string(), z.number(), z.boolean()]) }),
  z.strictObject({ type: z.literal('ssm'), parameter: secretName }),
]);

export const genericSchema = z
  .looseObject({
    ...baseConnectionFields,
    attributes: z.record(z.string(), genericValue, {
      error: 'attributes is required: a map of name: value, {type: local, value: …} or {type: ssm, parameter: /lava/…}',
    }),
  })
  .superRefine((spec, ctx) => {
    for (const name of Object.keys(spec.attributes)) {
      if (!GENERIC_ATTRIBUTE_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: ['attributes', name], message: 'attribute names must match ^[A-Za-z][\\w-]*$' });
      }
    }
    for (const k of Object.keys(spec)) {
      if (k in baseConnectionFields || k === 'attributes' || /^x-/i.test(k)) continue;
      ctx.addIssue({ code: 'custom', path: [k], message: `unknown field "${k}" for a generic connection: put it in attributes` });
    }
  });

export type SqlConnectionSpec = z.infer<typeof postgresSchema> & z.infer<typeof mssqlSchema> & z.infer<typeof oracleSchema>;
export type GenericConnectionSpec = z.infer<typeof genericSchema>;

const addressList = z.union([z.string().min(1), z.array(z.string().min(1))]);

/** email: SES (the default subtype) or SMTP (type `smtp` is an alias of type email, subtype smtp). */
export const emailSchema = z.looseObject({
  ...baseConnectionFields,
  subtype: z
    .string()
    .transform((s) => s.toLowerCase())
    .refine((s) => s === 'ses' || s === 'smtp', 'subtype must be ses (the default) or smtp')
    .optional(),
  from: z.string().min(1).optional(),
  reply_to: addressList.optional(),
  // ses
  region: z.string().min(1).optional(),
  configuration_set: z.string().min(1).optional(),
  // smtp
  host: z.string().min(1).optional(),
  port: port.optional(),
  tls: configBool.optional(),
  user: z.string().min(1).optional(),
  password: secretName.optional(),
  /** Connect and greeting timeout (duration, default 10s). */
  timeout: z.union([z.number(), z.string()]).refine(isDuration, 'bad duration: use seconds or e.g. "30s"').optional(),
});

/** slack: an incoming webhook. `webhook_url` is the URL itself or the name of a secret holding it. */
export const slackSchema = z.looseObject({
  ...baseConnectionFields,
  webhook_url: z
    .string({ error: 'webhook_url is required: the incoming webhook URL, or the name of a secret holding it' })
    .min(1),
  from: z.string().optional(),
  colour: z.string().optional(),
  style: z.enum(['block', 'attachment', 'plain'], { error: 'style must be block (the default), attachment or plain' }).optional(),
  preamble: z.string().optional(),
  /** Request timeout (duration, default 10s). */
  timeout: z.union([z.number(), z.string()]).refine(isDuration, 'bad duration: use seconds or e.g. "30s"').optional(),
});

/** aws: credentials for the AWS SDK: access keys (a secret holding `key_id,secret`) or a shared-config profile. */
export const awsSchema = z.looseObject({
  ...baseConnectionFields,
  access_keys: secretName.optional(),
  role_arn: z.string().min(1).optional(),
  external_id: secretName.optional(),
  duration: z.union([z.number(), z.string()]).refine(isDuration, 'bad duration: use seconds or e.g. "1h"').optional(),
  policy_arns: z.array(z.string()).optional(),
  policy: z.unknown().optional(),
  tags: z.unknown().optional(),
  region: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
});
