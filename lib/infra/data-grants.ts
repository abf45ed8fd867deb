import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';

/**
 * Grants on the data resources (buckets, tables and their customer-managed key) as named actions
 * only — what Ferry's adapters call, no `s3:GetObject*`-style groups: CDK's grant helpers add
 * prefix wildcards that reach ACLs, versions, legal holds and key pairs nobody uses.
 */
export type DataMode = 'read' | 'readwrite';

/** S3 calls of S3ObjectStore: Get/Head, Put (single and multipart, with tags), Delete, Abort. */
const OBJECT_ACTIONS: Record<DataMode, string[]> = {
  read: ['s3:GetObject'],
  readwrite: [
    's3:GetObject',
    's3:PutObject',
    's3:PutObjectTagging',
    's3:DeleteObject',
    's3:AbortMultipartUpload',
  ],
};

/** DynamoDB calls of the Dynamo adapters. */
const ITEM_ACTIONS: Record<DataMode, string[]> = {
  read: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:DescribeTable',
  ],
  readwrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:DescribeTable',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:ConditionCheckItem',
  ],
};

/** SSE-KMS on S3 (bucket keys): reading decrypts; writing also asks for data keys (multipart decrypts). */
const BUCKET_KEY_ACTIONS: Record<DataMode, string[]> = {
  read: ['kms:Decrypt'],
  readwrite: ['kms:Decrypt', 'kms:GenerateDataKey'],
};

/** DynamoDB encryption with a customer-managed key, by name (what CDK's table grants allow, without the pair keys). */
const TABLE_KEY_ACTIONS: Record<DataMode, string[]> = {
  read: ['kms:Decrypt', 'kms:DescribeKey'],
  readwrite: [
    'kms:Decrypt',
    'kms:DescribeKey',
    'kms:Encrypt',
    'kms:GenerateDataKey',
    'kms:GenerateDataKeyWithoutPlaintext',
    'kms:ReEncryptFrom',
    'kms:ReEncryptTo',
  ],
};

function grantKey(grantee: IGrantable, key: IKey | undefined, actions: string[]): void {
  if (key === undefined) return;
  grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [key.keyArn] }));
}

/** Objects matching `pattern` (e.g. `runs/*`), the listing of the bucket, and the bucket's key. */
export function grantObjects(grantee: IGrantable, bucket: IBucket, pattern: string, mode: DataMode): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: OBJECT_ACTIONS[mode], resources: [bucket.arnForObjects(pattern)] }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
  );
  grantKey(grantee, bucket.encryptionKey, BUCKET_KEY_ACTIONS[mode]);
}

/** The items of a table and the table's key. */
export function grantItems(grantee: IGrantable, table: ITable, mode: DataMode): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ITEM_ACTIONS[mode], resources: [table.tableArn] }),
  );
  grantKey(grantee, table.encryptionKey, TABLE_KEY_ACTIONS[mode]);
}
