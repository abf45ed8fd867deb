import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { secureDefaults } from './secure-defaults.ts';

/**
 * The customer-managed KMS keys. Two keys, because their key policies serve different principals:
 * `data` protects PHI at rest (buckets, tables, the Twenty secret) and is used only by IAM
 * principals of this stack; `telemetry` protects CloudWatch Logs, the state machines' execution histories and the alarm
 * topic, whose service principals must be allowed in the key policy. Both rotate yearly.
 */
export class FerryKeys extends Construct {
  public readonly data: Key;
  public readonly telemetry: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const { region, account } = Stack.of(this);

    this.data = new Key(this, 'Data', {
      description: 'Ferry: PHI at rest (drop/work buckets, DynamoDB tables, Twenty API secret)',
      enableKeyRotation: true,
      removalPolicy: secureDefaults.statefulRemovalPolicy,
    });

    this.telemetry = new Key(this, 'Telemetry', {
      description: 'Ferry: CloudWatch Logs groups, Step Functions execution histories and the alarm topic',
      enableKeyRotation: true,
      removalPolicy: secureDefaults.statefulRemovalPolicy,
    });
    // CloudWatch Logs encrypts log groups of this account and region only.
    this.telemetry.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Stack.of(this).partition}:logs:${region}:${account}:*`,
          },
        },
      }),
    );
    // CloudWatch alarms publish to the KMS-encrypted alarm topic.
    this.telemetry.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
  }
}
