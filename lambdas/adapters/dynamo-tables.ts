/**
 * The three DynamoDB tables, one definition for both runtimes: `lib/infra` creates them in AWS and
 * the local runtime creates them in the embedded DynamoDB. Every table has a string partition key
 * `pk` and a string sort key `sk`; item layouts are documented by the adapters that write them.
 */
export interface TableDefinition {
  /** Logical name, used in CDK construct ids and local table names. */
  readonly logicalName: 'Runs' | 'Ledger' | 'RateLimit';
  readonly partitionKey: 'pk';
  readonly sortKey: 'sk';
}

export const tableDefinitions: readonly TableDefinition[] = [
  { logicalName: 'Runs', partitionKey: 'pk', sortKey: 'sk' },
  { logicalName: 'Ledger', partitionKey: 'pk', sortKey: 'sk' },
  { logicalName: 'RateLimit', partitionKey: 'pk', sortKey: 'sk' },
];

/** Table names used by the local runtime (AWS names come from CloudFormation). */
export const localTableNames = {
  Runs: 'ferry-runs',
  Ledger: 'ferry-ledger',
  RateLimit: 'ferry-rate-limit',
} as const;
