import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { type TableDefinition, tableDefinitions } from '../../lambdas/adapters/dynamo-tables.ts';
import { secureDefaults } from './secure-defaults.ts';

export interface FerryTablesProps {
  readonly key: IKey;
}

/**
 * The Runs, Ledger and RateLimit tables, from the same definitions the local runtime uses
 * (lambdas/adapters/dynamo-tables.ts). On-demand, point-in-time recovery, customer-managed KMS.
 * The Ledger is the audit trail and the rollback source: deletion-protected and retained; Runs is
 * retained too; the RateLimit table only holds token buckets and may be destroyed with the stack.
 */
export class FerryTables extends Construct {
  public readonly runs: Table;
  public readonly ledger: Table;
  public readonly rateLimit: Table;

  constructor(scope: Construct, id: string, props: FerryTablesProps) {
    super(scope, id);
    const make = (definition: TableDefinition) => {
      const isLedger = definition.logicalName === 'Ledger';
      const table = new Table(this, definition.logicalName, {
        partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
        sortKey: { name: definition.sortKey, type: AttributeType.STRING },
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.key,
        deletionProtection: isLedger,
        removalPolicy:
          definition.logicalName === 'RateLimit'
            ? RemovalPolicy.DESTROY
            : secureDefaults.statefulRemovalPolicy,
      });
      Validations.of(table).acknowledge({
        id: 'HIPAA.Security-DynamoDBInBackupPlan',
        reason:
          'Point-in-time recovery (35 days) is enabled on this table; AWS Backup plans are assigned account-wide by the operator’s organisation policy.',
      });
      return table;
    };
    const tables = new Map(tableDefinitions.map((definition) => [definition.logicalName, make(definition)]));
    const get = (name: TableDefinition['logicalName']) => {
      const table = tables.get(name);
      if (table === undefined)
        throw new Error(`lambdas/adapters/dynamo-tables.ts: table ${name} is not defined`);
      return table;
    };
    this.runs = get('Runs');
    this.ledger = get('Ledger');
    this.rateLimit = get('RateLimit');
  }
}
