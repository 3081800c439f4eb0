/** Connector types by name and alias (type names are matched lower-cased, as upstream does). */
import { awsConnector } from './connectors/aws.js';
import { dockerConnector } from './connectors/docker.js';
import { emailConnector } from './connectors/email.js';
import { genericConnector } from './connectors/generic.js';
import { gitConnector } from './connectors/git.js';
import { mssqlConnector } from './connectors/mssql.js';
import { mysqlConnector } from './connectors/mysql.js';
import { oracleConnector } from './connectors/oracle.js';
import { postgresConnector } from './connectors/postgres.js';
import { redshiftConnector } from './connectors/redshift.js';
import { sharepointConnector } from './connectors/sharepoint.js';
import { slackConnector } from './connectors/slack.js';
import { smbConnector } from './connectors/smb.js';
import { sshConnector } from './connectors/ssh.js';
import { sqliteConnector } from './connectors/sqlite.js';
import type { Connector } from './types.js';

export const CONNECTORS: readonly Connector[] = [
  postgresConnector,
  redshiftConnector,
  mysqlConnector,
  sqliteConnector,
  mssqlConnector,
  oracleConnector,
  genericConnector,
  emailConnector,
  slackConnector,
  awsConnector,
  dockerConnector,
  sshConnector,
  gitConnector,
  smbConnector,
  sharepointConnector,
];

const byName = new Map<string, Connector>();
for (const c of CONNECTORS) for (const name of [c.type, ...c.aliases]) byName.set(name, c);

/** Upstream connector types this port does not have (yet). */
export const UNSUPPORTED_TYPES = ['ses'];

export function connectorFor(type: string): Connector | undefined {
  return byName.get(type.toLowerCase());
}

/** Every accepted type name, sorted. */
export function connectorTypeNames(): string[] {
  return [...byName.keys()].sort();
}
