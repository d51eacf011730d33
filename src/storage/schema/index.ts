import type { PartialDB as TufFiles } from './tuf-files.js';
import type { PartialDB as Changefeed } from './changefeed.js';
import type { PartialDB as ServerKeys } from './server-keys.js';
import type { PartialDB as AuditLog } from './audit-log.js';

/** The Kysely database type: one interface per table, see the files next to this one. */
export type DatabaseSchema = TufFiles & Changefeed & ServerKeys & AuditLog;

export type { TufFilesTable } from './tuf-files.js';
export type { ChangefeedTable } from './changefeed.js';
export type { ServerKeysTable } from './server-keys.js';
export type { AuditLogTable } from './audit-log.js';
