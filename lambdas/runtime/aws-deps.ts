import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { artifactTagsFor } from '../adapters/artifact-tags.ts';
import { powertoolsLog } from '../adapters/logger.ts';
import { createS3Client, S3ObjectStore } from '../adapters/s3-object-store.ts';
import { withoutSdkLogging } from '../adapters/sdk-client.ts';
import { parseStageEnv, type StageEnv } from '../config.ts';
import type { SharedBucketGate } from '../core/rate-limit/shared-bucket-gate.ts';
import { systemClock } from '../ports/clock.ts';
import { AuthError, ConfigError, TransientError } from '../ports/errors.ts';
import type { Log } from '../ports/log.ts';
import type { TwentyApi } from '../ports/twenty.ts';
import type { TaskDeps } from '../tasks/deps.ts';
import { TwentyClient } from '../twenty/client.ts';
import { createDynamoPorts } from './dynamo-ports.ts';

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

/** The Twenty secret's JSON (`FERRY_TWENTY_SECRET_ARN`): the workspace URL and its API key. */
export const TwentySecretSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  apiKey: z.string().min(1),
});
export type TwentySecret = z.infer<typeof TwentySecretSchema>;

/** Reads a secret's string value; the port keeps the reader testable without AWS. */
export type SecretReader = (secretId: string) => Promise<string | undefined>;

/** A Secrets Manager reader on one client (created on first use, reused by warm starts). */
export function secretsManagerReader(
  client: SecretsManagerClient = new SecretsManagerClient({}),
): SecretReader {
  return async (secretId) => {
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      return out.SecretString;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      if (name === 'AccessDeniedException')
        throw new AuthError('this stage may not read the Twenty secret (FERRY_TWENTY_SECRET_ARN)');
      if (name === 'ResourceNotFoundException')
        throw new ConfigError('the Twenty secret named by FERRY_TWENTY_SECRET_ARN does not exist');
      throw new TransientError(`reading the Twenty secret failed (${name})`, { cause: error });
    }
  };
}

/**
 * The Twenty target from Secrets Manager, read once per container and cached (a rotation is picked
 * up by new containers). A malformed secret is a ConfigError naming the key, never its value.
 */
export function twentySecretLoader(secretId: string, read: SecretReader): () => Promise<TwentySecret> {
  let secret: Promise<TwentySecret> | undefined;
  return () => {
    secret ??= (async () => {
      const text = await read(secretId);
      if (text === undefined)
        throw new ConfigError('the Twenty secret (FERRY_TWENTY_SECRET_ARN) has no string value');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new ConfigError('the Twenty secret (FERRY_TWENTY_SECRET_ARN) is not JSON {"url","apiKey"}');
      }
      const parsed = TwentySecretSchema.safeParse(json);
      if (!parsed.success) {
        const keys = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
        throw new ConfigError(`the Twenty secret (FERRY_TWENTY_SECRET_ARN) is invalid: check ${keys}`);
      }
      return parsed.data;
    })();
    secret.catch(() => {
      secret = undefined;
    });
    return secret;
  };
}

/**
 * `TaskDeps.twenty` in Lambda: the secret read at run time, one shared-bucket gate per container
 * (FERRY_RATE_PRESET), a fresh client per call so each stage sees the workspace's current metadata.
 */
export function awsTwentyFactory(options: {
  readonly secret: () => Promise<TwentySecret>;
  readonly gate: (url: string) => SharedBucketGate;
  readonly batchMax: number;
  readonly log: Log;
}): () => Promise<TwentyApi> {
  return async () => {
    const { url, apiKey } = await options.secret();
    return new TwentyClient({
      baseUrl: url,
      apiKey,
      limiter: options.gate(url),
      batchMax: options.batchMax,
      log: options.log,
    });
  };
}

/** TaskDeps for a parsed stage environment; exported so tests can build them without the cache. */
export function buildAwsDeps(env: StageEnv, readSecret?: SecretReader): TaskDeps {
  const s3 = createS3Client();
  const log = powertoolsLog({ level: env.FERRY_LOG_LEVEL });
  const work = new S3ObjectStore(s3, env.FERRY_WORK_BUCKET, { tagsFor: artifactTagsFor });
  const ports = createDynamoPorts({
    client: withoutSdkLogging(new DynamoDBClient({})),
    tables: {
      runs: env.FERRY_RUNS_TABLE,
      ledger: env.FERRY_LEDGER_TABLE,
      rateLimit: env.FERRY_RATE_LIMIT_TABLE,
    },
    work,
    log,
  });
  const gates = new Map<string, SharedBucketGate>();
  return {
    drop: new S3ObjectStore(s3, env.FERRY_DROP_BUCKET),
    work,
    clock: systemClock,
    log,
    runStore: ports.runStore,
    ledger: ports.ledger,
    twenty: awsTwentyFactory({
      secret: twentySecretLoader(env.FERRY_TWENTY_SECRET_ARN, readSecret ?? secretsManagerReader()),
      gate: (url) => {
        let gate = gates.get(url);
        if (gate === undefined) {
          gate = ports.rateLimiter(url, env.FERRY_RATE_PRESET);
          gates.set(url, gate);
        }
        return gate;
      },
      batchMax: env.FERRY_BATCH_MAX,
      log,
    }),
  };
}
