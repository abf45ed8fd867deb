import { Validations } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { secureDefaults } from './secure-defaults.ts';

export interface FerryBucketsProps {
  /** Customer-managed key for the drop and work buckets. */
  readonly key: IKey;
}

/**
 * The drop bucket (operator exports, `drop/<folder>/…`), the work bucket (`runs/<runId>/…`) and
 * the bucket receiving both buckets' server access logs. Both data buckets are KMS-encrypted,
 * TLS-only, private, versioned and access-logged; the drop bucket emits EventBridge events so a
 * `drop/<folder>/ferry.json` upload can start a run.
 */
export class FerryBuckets extends Construct {
  public readonly drop: Bucket;
  public readonly work: Bucket;
  public readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: FerryBucketsProps) {
    super(scope, id);

    // Every bucket: TLS only, no public access, owner-enforced objects, versioned, kept on stack deletion.
    const baseline = {
      enforceSSL: true,
      minimumTLSVersion: secureDefaults.minimumTlsVersion,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: secureDefaults.statefulRemovalPolicy,
    } as const;

    // S3 server access logging can only deliver to SSE-S3 buckets (not SSE-KMS).
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      ...baseline,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: secureDefaults.accessLogExpiration,
          noncurrentVersionExpiration: secureDefaults.noncurrentVersionExpiration,
        },
      ],
    });
    Validations.of(this.accessLogs).acknowledge(
      {
        id: 'AwsSolutions-S1',
        reason:
          'This is the access-log target of the drop and work buckets; logging it into itself would loop.',
      },
      {
        id: 'HIPAA.Security-S3BucketLoggingEnabled',
        reason:
          'This is the access-log target of the drop and work buckets; logging it into itself would loop.',
      },
      {
        id: 'HIPAA.Security-S3DefaultEncryptionKMS',
        reason:
          'S3 server access logging delivers only to SSE-S3 encrypted buckets; the logs hold no PHI (keys are run ids).',
      },
      {
        id: 'HIPAA.Security-S3BucketReplicationEnabled',
        reason:
          'Access logs are kept in-region for 365 days; cross-region replication is an account-level decision.',
      },
    );

    const dataBucket = (name: 'Drop' | 'Work', logPrefix: string) =>
      new Bucket(this, name, {
        encryption: BucketEncryption.KMS,
        encryptionKey: props.key,
        bucketKeyEnabled: true,
        ...baseline,
        serverAccessLogsBucket: this.accessLogs,
        serverAccessLogsPrefix: logPrefix,
        lifecycleRules: [
          {
            id: 'expire-noncurrent-versions',
            noncurrentVersionExpiration: secureDefaults.noncurrentVersionExpiration,
            abortIncompleteMultipartUploadAfter: secureDefaults.abortIncompleteMultipartUpload,
          },
        ],
      });

    this.drop = dataBucket('Drop', 'drop-bucket/');
    this.work = dataBucket('Work', 'work-bucket/');

    // `runs/<runId>/chunks/` cannot be matched by a lifecycle prefix, so chunks carry an object tag.
    this.work.addLifecycleRule({
      id: 'expire-chunks',
      prefix: 'runs/',
      tagFilters: { [secureDefaults.chunkTag.key]: secureDefaults.chunkTag.value },
      expiration: secureDefaults.chunkExpiration,
    });

    // EventBridge delivery set natively on the bucket: the L2 `eventBridgeEnabled` flag would add a
    // custom-resource Lambda (BucketNotificationsHandler) for a setting CloudFormation supports directly.
    const cfnDrop = this.drop.node.defaultChild as CfnBucket;
    cfnDrop.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };

    for (const bucket of [this.drop, this.work]) {
      Validations.of(bucket).acknowledge({
        id: 'HIPAA.Security-S3BucketReplicationEnabled',
        reason:
          'Versioned, KMS-encrypted and in-region by design: replicating PHI to another region needs the practice’s BAA scope; operators add replication per deployment.',
      });
    }
  }
}
