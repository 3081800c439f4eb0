/**
 * smb_get and smb_put (upstream §4.18): copy one file from an SMB share to a storage URI or local
 * file, or the other way, with the smb connector's smbclient (see ./transfer.ts). The payload is
 * ignored. Result `{exit_status, source, destination}`; smbclient's output is stored as the run's
 * `stdout` and `stderr`.
 */
import type { Handler } from '../../run/handler.js';
import { SMB_OPTIONAL, SMB_REQUIRED, smbTransfer } from './transfer.js';

export const smbGetHandler: Handler = {
  type: 'smb_get',
  // Upstream rejects every optional parameter of smb_get (its optional set is an intersection);
  // here they all work (docs/compatibility.md).
  parameters: { required: SMB_REQUIRED, optional: [...SMB_OPTIONAL, 'kms_key_id'] },
  run: (ctx) => smbTransfer(ctx, 'get'),
};

export const smbPutHandler: Handler = {
  type: 'smb_put',
  parameters: { required: SMB_REQUIRED, optional: [...SMB_OPTIONAL, 'create_dirs'] },
  run: (ctx) => smbTransfer(ctx, 'put'),
};
