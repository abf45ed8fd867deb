import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseStageEnv, type StageEnv } from '../config.ts';
import { systemClock } from '../ports/clock.ts';
import type { TaskDeps } from '../tasks/deps.ts';
import { DynamoRunStore } from './dynamo-run-store.ts';
import { powertoolsLog } from './logger.ts';
import { createS3Client, S3ObjectStore } from './s3-object-store.ts';

let cached: Promise<TaskDeps> | undefined;

/**
 * Builds a Lambda stage's TaskDeps from `lambdas/config.ts` once per container: the env is parsed on
 * the first invocation (fail fast, naming the key) and the SDK clients are reused by warm starts.
 */
export function awsDeps(env: Record<string, string | undefined> = process.env): Promise<TaskDeps> {
  cached ??= Promise.resolve().then(() => buildAwsDeps(parseStageEnv(env)));
  // A failed build is not cached: the next invocation reports the configuration problem again.
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/** TaskDeps for a parsed stage environment; exported so tests can build them without the cache. */
export function buildAwsDeps(env: StageEnv): TaskDeps {
  const s3 = createS3Client();
  return {
    drop: new S3ObjectStore(s3, env.FERRY_DROP_BUCKET),
    work: new S3ObjectStore(s3, env.FERRY_WORK_BUCKET),
    clock: systemClock,
    log: powertoolsLog({ level: env.FERRY_LOG_LEVEL }),
    runStore: new DynamoRunStore({ client: new DynamoDBClient({}), tableName: env.FERRY_RUNS_TABLE }),
  };
}
