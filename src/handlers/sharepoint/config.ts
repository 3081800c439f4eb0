/** Configuration keys of the SharePoint job types (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const SHAREPOINT_CONFIG = defineKeys({
  SP_LIST_DELIMITER: { kind: 'str', default: '|', doc: 'CSV delimiter of SharePoint list files' },
  SP_LIST_DOUBLEQUOTE: { kind: 'bool', default: false, doc: 'CSV doublequote of SharePoint list files' },
  SP_LIST_ESCAPECHAR: { kind: 'str', default: null, doc: 'CSV escape character of SharePoint list files' },
  SP_LIST_QUOTECHAR: { kind: 'str', default: '"', doc: 'CSV quote character of SharePoint list files' },
  SP_LIST_QUOTING: { kind: 'str', default: 'minimal', doc: 'CSV quoting of SharePoint list files' },
  SP_LOGGING: { kind: 'bool', default: false, doc: 'log each Microsoft Graph request of the SharePoint job types' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof SHAREPOINT_CONFIG> {}
}
