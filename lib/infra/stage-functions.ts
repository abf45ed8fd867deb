import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, type IFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { StageEnv } from '../../lambdas/config.ts';
import { grantItems, grantObjects } from './data-grants.ts';
import { secureDefaults } from './secure-defaults.ts';
import { constructIdOf, type StageFunctionSpec, type StageTaskAccess } from './stage-task.ts';
import type { WildcardAllowlist } from './wildcard-allowlist.ts';

/** Object-key prefixes stage functions may touch (contract (5)). */
export const DROP_PREFIX = 'drop/';
export const RUNS_PREFIX = 'runs/';

/** ESM bundles need `require` for the CommonJS dependencies esbuild inlines (middy 7 is ESM-only). */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export interface StageFunctionsProps {
  readonly functions: readonly StageFunctionSpec[];
  /** Absolute path of the repository (handler entries are repo-relative). */
  readonly repoRoot: string;
  readonly drop: IBucket;
  readonly work: IBucket;
  readonly runs: ITable;
  readonly ledger: ITable;
  readonly rateLimit: ITable;
  readonly twentySecret: ISecret;
  /** Key for the functions' log groups. */
  readonly logKey: IKey;
  /** ARNs of the state machines whose callback tokens `sendTaskResult` functions answer. */
  readonly stateMachineArns: readonly string[];
  readonly allowlist: WildcardAllowlist;
  readonly ratePreset?: string;
  readonly batchMax?: number;
  readonly logLevel?: StageEnv['FERRY_LOG_LEVEL'];
  /** Reserved concurrency per function; unset leaves the account pool (new accounts cannot reserve). */
  readonly reservedConcurrency?: number;
}

type EnvName = keyof StageEnv;

/**
 * One NodejsFunction per `functionId` of the task registry: Node 24 on ARM64, an ESM bundle, its own
 * KMS-encrypted log group with retention, active tracing, and an execution role holding exactly the
 * grants its registry `access` asks for. Each grant and the environment variable naming the granted
 * resource are set together in `grantAccess`, so a function can never name a resource it may not use.
 */
export class StageFunctions extends Construct {
  /** Functions by `functionId`. */
  public readonly byFunctionId: ReadonlyMap<string, NodejsFunction>;
  /** Functions by ASL state name (several states may share a function). */
  public readonly byStateName: ReadonlyMap<string, IFunction>;

  private readonly props: StageFunctionsProps;

  constructor(scope: Construct, id: string, props: StageFunctionsProps) {
    super(scope, id);
    this.props = props;
    const byFunctionId = new Map<string, NodejsFunction>();
    const byStateName = new Map<string, IFunction>();

    for (const spec of props.functions) {
      const fn = this.createFunction(spec);
      byFunctionId.set(spec.functionId, fn);
      for (const stateName of spec.stateNames) byStateName.set(stateName, fn);
    }
    this.byFunctionId = byFunctionId;
    this.byStateName = byStateName;
  }

  private createFunction(spec: StageFunctionSpec): NodejsFunction {
    const props = this.props;
    const cid = constructIdOf(spec.functionId);
    const logGroup = new LogGroup(this, `${cid}Logs`, {
      retention: secureDefaults.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: secureDefaults.statefulRemovalPolicy,
    });
    // An explicit role instead of the default one: no AWSLambdaBasicExecutionRole managed policy,
    // only this function's own log group.
    const role = new Role(this, `${cid}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Ferry stage function ${spec.functionId} (${spec.stateNames.join(', ')})`,
    });
    logGroup.grantWrite(role);

    const fn = new NodejsFunction(this, cid, {
      description: `Ferry stage: ${spec.stateNames.join(', ')}`,
      entry: join(props.repoRoot, spec.handlerEntry),
      handler: 'handler',
      projectRoot: props.repoRoot,
      depsLockFilePath: join(props.repoRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role,
      logGroup,
      tracing: Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrency,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: false,
        externalModules: ['@aws-sdk/*'],
      },
    });
    this.grantAccess(fn, role, spec.access);

    const reasons: Array<[string, string]> = [
      [
        'HIPAA.Security-LambdaDLQ',
        'Invoked synchronously by Step Functions only; failures surface in the execution (Retry/Catch), a DLQ applies to asynchronous invocations.',
      ],
      [
        'HIPAA.Security-LambdaInsideVPC',
        'Talks only to S3, DynamoDB, Secrets Manager and the Twenty HTTPS API; there is no private resource to reach and no NAT to pay for.',
      ],
    ];
    if (props.reservedConcurrency === undefined) {
      reasons.push([
        'HIPAA.Security-LambdaConcurrency',
        'Concurrency is bounded by the Distributed Map MaxConcurrency and the shared DynamoDB token bucket; reservedConcurrency is a stack prop where the account quota allows.',
      ]);
    }
    Validations.of(fn).acknowledge(...reasons.map(([ruleId, reason]) => ({ id: ruleId, reason })));
    props.allowlist.allowResource(
      fn,
      fn.functionArn,
      ':*',
      `Versions and aliases of stage function ${spec.functionId} (CDK grantInvoke).`,
    );
    return fn;
  }

  /**
   * Grants exactly `access` and, in the same step, names the granted resource in the environment.
   * Names of resources the function is not granted are still set: lambdas/config.ts parses every
   * name at load, and a bucket or table name alone confers nothing.
   */
  private grantAccess(fn: NodejsFunction, role: IRole, access: StageTaskAccess): void {
    const props = this.props;
    const env = (name: EnvName, value: string) => fn.addEnvironment(name, value);
    const { allowlist } = props;

    // Every function gets the bucket's name; objects under its prefix as far as its access asks.
    const bucket = (
      name: EnvName,
      target: IBucket,
      prefix: string,
      mode: 'read' | 'readwrite' | undefined,
      why: string,
    ) => {
      env(name, target.bucketName);
      if (mode === undefined) return;
      grantObjects(fn, target, `${prefix}*`, mode);
      allowlist.allowResource(fn, target.bucketArn, `/${prefix}*`, why);
    };
    bucket(
      'FERRY_DROP_BUCKET',
      props.drop,
      DROP_PREFIX,
      access.drop,
      'Objects under drop/: operator export folders have run-time names.',
    );
    bucket(
      'FERRY_WORK_BUCKET',
      props.work,
      RUNS_PREFIX,
      access.work,
      'Objects under runs/: run ids are execution names created at run time.',
    );

    const table = (name: EnvName, target: ITable, mode: 'read' | 'readwrite' | undefined) => {
      env(name, target.tableName);
      if (mode !== undefined) grantItems(fn, target, mode);
    };
    table('FERRY_RUNS_TABLE', props.runs, access.runs);
    table('FERRY_LEDGER_TABLE', props.ledger, access.ledger);
    table('FERRY_RATE_LIMIT_TABLE', props.rateLimit, access.rateLimit ? 'readwrite' : undefined);

    env('FERRY_TWENTY_SECRET_ARN', props.twentySecret.secretArn);
    if (access.twenty) props.twentySecret.grantRead(fn);

    if (access.sendTaskResult && props.stateMachineArns.length > 0) {
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [...props.stateMachineArns],
        }),
      );
    }

    if (props.ratePreset !== undefined) env('FERRY_RATE_PRESET', props.ratePreset);
    if (props.batchMax !== undefined) env('FERRY_BATCH_MAX', String(props.batchMax));
    if (props.logLevel !== undefined) env('FERRY_LOG_LEVEL', props.logLevel);
  }
}
