/**
 * Upstream's checks on an UNLOAD target bucket (skipped with `insecure`): no public grant in its ACL,
 * default encryption on, server access logging on, and owned by the worker's own account (the ACL
 * owner equals the ListBuckets owner). Made with the worker's own AWS credentials, as upstream does.
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../../backends/blob/s3.js';
import { errorMessage } from '../../core/errors.js';
import { loadOptional } from '../../core/optional.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

/** Throws the reason the bucket is insecure, or why that cannot be verified. */
export async function checkBucketSecurity(bucket: string): Promise<void> {
  const sdk = await loadOptional<typeof S3Sdk>('@aws-sdk/client-s3', 'redshift_unload bucket security checks');
  const s3 = new sdk.S3Client(s3ClientConfig());
  try {
    const acl = await s3.send(new sdk.GetBucketAclCommand({ Bucket: bucket }));
    const isPublic = (acl.Grants ?? []).some((g) => g.Grantee?.Type?.toLowerCase() === 'group' && g.Grantee.URI === ALL_USERS);
    if (isPublic) throw new Error('Insecure due to public access');

    let encrypted: boolean;
    try {
      await s3.send(new sdk.GetBucketEncryptionCommand({ Bucket: bucket }));
      encrypted = true;
    } catch (err) {
      if (String((err as { name?: unknown }).name) === 'ServerSideEncryptionConfigurationNotFoundError') encrypted = false;
      else throw new Error(`Cannot verify bucket is encrypted - ${errorMessage(err)}`);
    }
    if (!encrypted) throw new Error('Insecure due to lack of default encryption');

    const logging = await s3.send(new sdk.GetBucketLoggingCommand({ Bucket: bucket }));
    if (!logging.LoggingEnabled) throw new Error('Insecure due to lack of server logging');

    const mine = (await s3.send(new sdk.ListBucketsCommand({}))).Owner?.ID;
    const owner = acl.Owner?.ID;
    if (!mine || !owner || mine !== owner) throw new Error('Insecure due to foreign owned bucket');
  } finally {
    s3.destroy();
  }
}
