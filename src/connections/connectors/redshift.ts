/**
 * redshift (alias redshift-serverless): the PostgreSQL wire protocol through `pg`; CLI via psql.
 * IAM-generated credentials (GetClusterCredentials) are not supported: give a password secret.
 */
import { redshiftSchema } from '../schemas.js';
import type { Connector } from '../types.js';
import { openPg, pgKysely, writePsqlCli } from './postgres.js';

export const redshiftConnector: Connector = {
  type: 'redshift',
  aliases: ['redshift-serverless'],
  dialect: 'redshift',
  schema: redshiftSchema,
  required: ['host', 'port', 'database', 'user', 'password'],
  secretFields: ['password'],
  open: (c) => openPg(c, 'redshift'),
  kysely: pgKysely,
  writeCli: (c, dir) => writePsqlCli(c, dir),
};
