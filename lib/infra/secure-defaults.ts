import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { INTERMEDIATE_ARTIFACT_TAG } from '../../lambdas/adapters/artifact-tags.ts';

/**
 * Every security- and retention-relevant default of the stack, in one place (STYLE.md: secure
 * defaults live in one place, constructs can override them through props). Ferry moves PHI, so
 * the defaults favour keeping evidence (RETAIN, versioning, one-year logs) over tidiness.
 */
export const secureDefaults = {
  /** CloudWatch log retention for stage functions and state machines (HIPAA asks for a period). */
  logRetention: RetentionDays.ONE_YEAR,
  /** Stateful resources holding PHI or the audit trail survive a `cdk destroy`. */
  statefulRemovalPolicy: RemovalPolicy.RETAIN,
  /** Chunks are intermediate copies of PHI: expire them once a run is long finished. */
  chunkExpiration: Duration.days(30),
  /** Overwritten or deleted object versions kept this long for recovery, then removed. */
  noncurrentVersionExpiration: Duration.days(30),
  /** Server access logs are audit evidence. */
  accessLogExpiration: Duration.days(365),
  abortIncompleteMultipartUpload: Duration.days(7),
  /** Tag the work-bucket adapter puts on intermediate run artefacts; lifecycle prefixes cannot wildcard `runs/*`. */
  chunkTag: INTERMEDIATE_ARTIFACT_TAG,
  /** Minimum TLS version accepted by the bucket policies. */
  minimumTlsVersion: 1.2,
} as const;
