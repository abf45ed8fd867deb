import { readFileSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAsl } from '../../lib/infra/asl.ts';
import { REPO_ROOT } from '../../lib/infra/ferry-stack.ts';
import { constructIdOf, groupStageFunctions, type StageTaskAccess } from '../../lib/infra/stage-task.ts';
import { ph, realTasks, resourcesOfType, synthFerry, testTasks } from './support.ts';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
type PolicyProps = { PolicyDocument: { Statement: Statement[] }; Roles: Array<{ Ref: string }> };

const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** Every Allow action granted to the role of the Lambda function with the given logical-id prefix. */
function actionsOfFunction(template: Template, functionIdPrefix: string): Statement[] {
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  const [, fn] = Object.entries(functions).find(([id]) => id.startsWith(functionIdPrefix)) ?? [];
  if (fn === undefined) throw new Error(`no function ${functionIdPrefix}`);
  const roleRef = (fn.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.['Fn::GetAtt'][0];
  const policies = resourcesOfType(template, 'AWS::IAM::Policy');
  return Object.values(policies)
    .map((policy) => policy.Properties as unknown as PolicyProps)
    .filter((policy) => policy.Roles.some((role) => role.Ref === roleRef))
    .flatMap((policy) => policy.PolicyDocument.Statement);
}

/** The environment variables of a Lambda function resource. */
function environmentOf(fn: { Properties?: Record<string, unknown> }): Record<string, unknown> {
  const environment = fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
  return environment?.Variables ?? {};
}

function logicalIdStartingWith(template: Template, type: string, prefix: string): string {
  const id = Object.keys(resourcesOfType(template, type)).find((candidate) => candidate.startsWith(prefix));
  if (id === undefined) throw new Error(`no ${type} ${prefix}`);
  return id;
}

type Mode = 'read' | 'readwrite';
interface Grants {
  drop?: Mode;
  work?: Mode;
  runs?: Mode;
  ledger?: Mode;
  rateLimit?: Mode;
  twenty: boolean;
  sendTaskResult: boolean;
}

/** What a function's role may do with each Ferry resource, read back from the template's policies. */
function grantsOf(template: Template, functionId: string): Grants {
  const statements = actionsOfFunction(template, `Stages${constructIdOf(functionId)}`);
  const on = (logicalId: string) =>
    statements.filter((statement) => JSON.stringify(statement.Resource).includes(`"${logicalId}"`));
  const bucketMode = (prefix: string): Mode | undefined => {
    const actions = on(logicalIdStartingWith(template, 'AWS::S3::Bucket', prefix)).flatMap(actionsOf);
    if (actions.length === 0) return undefined;
    return actions.some((action) => /^s3:(Put|DeleteObject)/.test(action)) ? 'readwrite' : 'read';
  };
  const tableMode = (prefix: string): Mode | undefined => {
    const actions = on(logicalIdStartingWith(template, 'AWS::DynamoDB::Table', prefix)).flatMap(actionsOf);
    if (actions.length === 0) return undefined;
    return actions.includes('dynamodb:PutItem') ? 'readwrite' : 'read';
  };
  const grants: Grants = {
    drop: bucketMode('BucketsDrop'),
    work: bucketMode('BucketsWork'),
    runs: tableMode('TablesRuns'),
    ledger: tableMode('TablesLedger'),
    rateLimit: tableMode('TablesRateLimit'),
    twenty: on(logicalIdStartingWith(template, 'AWS::SecretsManager::Secret', 'TwentyApi'))
      .flatMap(actionsOf)
      .includes('secretsmanager:GetSecretValue'),
    sendTaskResult: statements.flatMap(actionsOf).includes('states:SendTaskSuccess'),
  };
  return Object.fromEntries(Object.entries(grants).filter(([, value]) => value !== undefined)) as Grants;
}

/** The grants a registry access set should produce (the RateLimit table is read/write or nothing). */
function expectedGrants(access: StageTaskAccess): Grants {
  const grants: Grants = {
    drop: access.drop,
    work: access.work,
    runs: access.runs,
    ledger: access.ledger,
    rateLimit: access.rateLimit ? 'readwrite' : undefined,
    twenty: Boolean(access.twenty),
    sendTaskResult: Boolean(access.sendTaskResult),
  };
  return Object.fromEntries(Object.entries(grants).filter(([, value]) => value !== undefined)) as Grants;
}

/** Every statement of the policies attached to the role with the given logical-id prefix. */
function statementsOfRole(template: Template, rolePrefix: string): Statement[] {
  const role = logicalIdStartingWith(template, 'AWS::IAM::Role', rolePrefix);
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .map((policy) => policy.Properties as unknown as PolicyProps)
    .filter((policy) => policy.Roles.some((candidate) => candidate.Ref === role))
    .flatMap((policy) => policy.PolicyDocument.Statement);
}

describe('FerryStack', () => {
  let template: Template;
  beforeAll(() => {
    template = synthFerry().template;
  });

  describe('buckets', () => {
    it('encrypts the drop and work buckets with the customer-managed data key', () => {
      const dataKey = logicalIdStartingWith(template, 'AWS::KMS::Key', 'KeysData');
      for (const prefix of ['BucketsDrop', 'BucketsWork']) {
        const id = logicalIdStartingWith(template, 'AWS::S3::Bucket', prefix);
        expect(template.toJSON().Resources[id].Properties.BucketEncryption).toEqual({
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [dataKey, 'Arn'] },
              },
            },
          ],
        });
      }
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      expect(
        Object.values(resourcesOfType(template, 'AWS::KMS::Key')).every(
          (key) => key.Properties?.EnableKeyRotation,
        ),
      ).toBe(true);
    });

    it('blocks public access, versions and access-logs every data bucket', () => {
      const logBucket = logicalIdStartingWith(template, 'AWS::S3::Bucket', 'BucketsAccessLogs');
      const buckets = resourcesOfType(template, 'AWS::S3::Bucket');
      expect(Object.keys(buckets)).toHaveLength(3);
      for (const bucket of Object.values(buckets)) {
        expect(bucket.Properties?.PublicAccessBlockConfiguration).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
        expect(bucket.Properties?.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      }
      for (const prefix of ['BucketsDrop', 'BucketsWork']) {
        const id = logicalIdStartingWith(template, 'AWS::S3::Bucket', prefix);
        expect(buckets[id]?.Properties?.LoggingConfiguration).toMatchObject({
          DestinationBucketName: { Ref: logBucket },
        });
      }
    });

    it('denies every non-TLS request and TLS below 1.2 on all three buckets', () => {
      const policies = resourcesOfType(template, 'AWS::S3::BucketPolicy');
      expect(Object.keys(policies)).toHaveLength(3);
      for (const policy of Object.values(policies)) {
        const statements = (policy.Properties as { PolicyDocument: { Statement: Statement[] } })
          .PolicyDocument.Statement;
        expect(statements).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
        expect(statements).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        );
      }
    });

    it('sends drop bucket events to EventBridge and expires tagged chunks and old versions', () => {
      const drop = logicalIdStartingWith(template, 'AWS::S3::Bucket', 'BucketsDrop');
      const work = logicalIdStartingWith(template, 'AWS::S3::Bucket', 'BucketsWork');
      const resources = template.toJSON().Resources;
      expect(resources[drop].Properties.NotificationConfiguration).toEqual({
        EventBridgeConfiguration: { EventBridgeEnabled: true },
      });
      const rules = resources[work].Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
      expect(rules).toContainEqual(
        expect.objectContaining({
          Id: 'expire-chunks',
          Prefix: 'runs/',
          TagFilters: [{ Key: 'ferry-artifact', Value: 'chunk' }],
          ExpirationInDays: 30,
          Status: 'Enabled',
        }),
      );
      expect(rules).toContainEqual(
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
      );
      // No custom-resource Lambda for notifications.
      expect(Object.keys(resourcesOfType(template, 'Custom::S3BucketNotifications'))).toHaveLength(0);
    });
  });

  describe('tables', () => {
    it('creates Runs, Ledger and RateLimit on demand with PITR and the customer-managed key', () => {
      const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
      expect(Object.keys(tables).map((id) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual([
        'TablesRuns',
        'TablesLedger',
        'TablesRateLimit',
      ]);
      for (const table of Object.values(tables)) {
        expect(table.Properties).toMatchObject({
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: {
            SSEEnabled: true,
            SSEType: 'KMS',
            KMSMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^KeysData/), 'Arn'] },
          },
        });
      }
    });

    it('protects and retains the Ledger', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      const ledger = logicalIdStartingWith(template, 'AWS::DynamoDB::Table', 'TablesLedger');
      expect(template.toJSON().Resources[ledger].Properties.DeletionProtectionEnabled).toBe(true);
    });
  });

  describe('stage functions', () => {
    it('runs one Node 24 ARM64 function per functionId with active tracing and its own log group', () => {
      const functions = resourcesOfType(template, 'AWS::Lambda::Function');
      expect(Object.keys(functions)).toHaveLength(new Set(realTasks.map((task) => task.functionId)).size);
      for (const fn of Object.values(functions)) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/^Stages.*Logs/) } },
        });
      }
      const logGroups = Object.values(resourcesOfType(template, 'AWS::Logs::LogGroup'));
      expect(logGroups).toHaveLength(new Set(realTasks.map((task) => task.functionId)).size + 3);
      for (const group of logGroups) {
        expect(group.Properties).toMatchObject({
          RetentionInDays: 365,
          KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^KeysTelemetry/), 'Arn'] },
        });
      }
    });

    it('sets only resource names and the secret ARN in the environment, never a secret value', () => {
      const secret = logicalIdStartingWith(template, 'AWS::SecretsManager::Secret', 'TwentyApi');
      const names = new Map<string, string>([
        ['FERRY_DROP_BUCKET', logicalIdStartingWith(template, 'AWS::S3::Bucket', 'BucketsDrop')],
        ['FERRY_WORK_BUCKET', logicalIdStartingWith(template, 'AWS::S3::Bucket', 'BucketsWork')],
        ['FERRY_RUNS_TABLE', logicalIdStartingWith(template, 'AWS::DynamoDB::Table', 'TablesRuns')],
        ['FERRY_LEDGER_TABLE', logicalIdStartingWith(template, 'AWS::DynamoDB::Table', 'TablesLedger')],
        [
          'FERRY_RATE_LIMIT_TABLE',
          logicalIdStartingWith(template, 'AWS::DynamoDB::Table', 'TablesRateLimit'),
        ],
        ['FERRY_TWENTY_SECRET_ARN', secret],
      ]);
      for (const fn of Object.values(resourcesOfType(template, 'AWS::Lambda::Function'))) {
        const variables = environmentOf(fn);
        expect(Object.keys(variables).sort()).toEqual([...names.keys()].sort());
        for (const [name, logicalId] of names) expect(variables[name]).toEqual({ Ref: logicalId });
      }
    });

    it('keeps the Twenty API key out of the template: generated at deploy time, never a literal', () => {
      const secrets = Object.values(resourcesOfType(template, 'AWS::SecretsManager::Secret'));
      expect(secrets).toHaveLength(1);
      expect(secrets[0]?.Properties).not.toHaveProperty('SecretString');
      expect(secrets[0]?.Properties?.GenerateSecretString).toMatchObject({ GenerateStringKey: 'apiKey' });
      expect(JSON.stringify(template.toJSON())).not.toMatch(/"SecretString"|apiKey"\s*:\s*"/);
    });

    it('grants each deployed function exactly its registry access, nothing more', () => {
      for (const spec of groupStageFunctions(realTasks)) {
        expect({ fn: spec.functionId, ...grantsOf(template, spec.functionId) }).toEqual({
          fn: spec.functionId,
          ...expectedGrants(spec.access),
        });
      }
    });

    it('gives LoadChunk, Prepare and FailRun the access their stages need and no more', () => {
      expect(grantsOf(template, 'load-chunk')).toEqual({
        drop: 'read',
        work: 'readwrite',
        runs: 'readwrite',
        ledger: 'readwrite',
        rateLimit: 'readwrite',
        twenty: true,
        sendTaskResult: false,
      });
      // Prepare is S3 in, S3 out: it never calls Twenty, so it cannot read the API key. It reads the
      // id map (an incremental FHIR export's references to records earlier runs loaded), never writes it.
      expect(grantsOf(template, 'prepare')).toEqual({
        drop: 'read',
        work: 'readwrite',
        ledger: 'read',
        twenty: false,
        sendTaskResult: false,
      });
      expect(grantsOf(template, 'fail-run')).toEqual({
        runs: 'readwrite',
        twenty: false,
        sendTaskResult: false,
      });
      const reconcile = grantsOf(template, 'reconcile');
      expect(reconcile.ledger).toBe('read');
    });

    it('grants SendTask* on the three workflows only to a function whose access asks for it', () => {
      const widened = synthFerry({ tasks: testTasks }).template;
      const approval = actionsOfFunction(widened, 'StagesAwaitApproval');
      const sendTask = approval.filter((statement) =>
        actionsOf(statement).includes('states:SendTaskSuccess'),
      );
      expect(sendTask).toHaveLength(1);
      expect(actionsOf(sendTask[0] as Statement)).toEqual(
        expect.arrayContaining(['states:SendTaskSuccess', 'states:SendTaskFailure']),
      );
      const resources = JSON.stringify(sendTask[0]?.Resource);
      for (const name of ['migrate', 'delta', 'rollback'])
        expect(resources).toContain(`:stateMachine:FerryTest-${name}`);
      for (const spec of groupStageFunctions(testTasks).filter(
        (candidate) => !candidate.access.sendTaskResult,
      )) {
        const actions = actionsOfFunction(widened, `Stages${constructIdOf(spec.functionId)}`).flatMap(
          actionsOf,
        );
        expect(actions.some((action) => action.startsWith('states:'))).toBe(false);
      }
    });

    it('limits drop-bucket reads to drop/ and never lets a read-only task write there', () => {
      const drop = logicalIdStartingWith(template, 'AWS::S3::Bucket', 'BucketsDrop');
      const statements = actionsOfFunction(template, 'StagesInventory').filter((statement) =>
        JSON.stringify(statement.Resource).includes(drop),
      );
      // One statement for the objects under drop/, one to list the bucket; nothing to write.
      expect(statements).toHaveLength(2);
      const objects = statements.find((statement) => actionsOf(statement).includes('s3:GetObject'));
      expect(actionsOf(objects as Statement)).toEqual(['s3:GetObject']);
      expect(JSON.stringify(objects?.Resource)).toContain('/drop/*');
      const listing = statements.find((statement) => statement !== objects);
      expect(actionsOf(listing as Statement)).toEqual(['s3:ListBucket']);
    });
  });

  describe('state machines', () => {
    it('logs ALL without execution data and traces all three workflows', () => {
      const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine');
      expect(Object.values(machines).map((machine) => machine.Properties?.StateMachineName)).toEqual([
        'FerryTest-migrate',
        'FerryTest-delta',
        'FerryTest-rollback',
      ]);
      for (const machine of Object.values(machines)) {
        expect(machine.Properties).toMatchObject({
          LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
          TracingConfiguration: { Enabled: true },
        });
      }
    });

    it('substitutes every Task placeholder of the ASL, the Distributed Map included, from the registry', () => {
      const migrate = logicalIdStartingWith(template, 'AWS::StepFunctions::StateMachine', 'WorkflowsMigrate');
      const props = template.toJSON().Resources[migrate].Properties;
      const substitutions = props.DefinitionSubstitutions as Record<string, unknown>;
      const asl = readFileSync(`${REPO_ROOT}statemachines/migrate.asl.json`, 'utf8');
      const taskStates = readAsl(asl, 'migrate.asl.json').taskStates.map((task) => task.stateName);
      expect([...taskStates].sort()).toEqual(
        [
          'ApplySchema',
          'AwaitPlanApproval',
          'FailRun',
          'Inventory',
          'LoadChunk',
          'Prepare',
          'Reconcile',
          'ResolveOwners',
          'SampleLoad',
          'AwaitSampleApproval',
          'Segment',
        ].sort(),
      );
      expect(Object.keys(substitutions).sort()).toEqual(
        [...taskStates.map((state) => `${state}FunctionArn`), 'WorkBucketName'].sort(),
      );
      for (const stateName of taskStates) {
        const task = realTasks.find((candidate) => candidate.stateName === stateName);
        expect(task, stateName).toBeDefined();
        const functionId = logicalIdStartingWith(
          template,
          'AWS::Lambda::Function',
          `Stages${constructIdOf(task?.functionId ?? '')}`,
        );
        expect(substitutions[`${stateName}FunctionArn`]).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
      }
      const work = logicalIdStartingWith(template, 'AWS::S3::Bucket', 'BucketsWork');
      expect(substitutions.WorkBucketName).toEqual({ Ref: work });
      // The definition keeps its placeholders; CloudFormation substitutes them at deploy time.
      const definition = JSON.stringify(props.DefinitionString);
      expect(definition).toContain(ph('LoadChunkFunctionArn'));
      expect(definition).toContain(ph('WorkBucketName'));
    });

    it('lets migrate and delta read their load item lists and run their Distributed Map children', () => {
      const work = logicalIdStartingWith(template, 'AWS::S3::Bucket', 'BucketsWork');
      for (const name of ['Migrate', 'Delta']) {
        const statements = statementsOfRole(template, `Workflows${name}Role`);
        const read = statements.find(
          (statement) =>
            JSON.stringify(statement.Resource).includes(work) &&
            actionsOf(statement).includes('s3:GetObject'),
        );
        expect(actionsOf(read as Statement)).toEqual(['s3:GetObject']);
        expect(actionsOf(read as Statement).some((action) => action.startsWith('s3:Put'))).toBe(false);
        expect(JSON.stringify(read?.Resource)).toContain('/runs/*/load/*.json');
        const start = statements.find((statement) => actionsOf(statement).includes('states:StartExecution'));
        expect(JSON.stringify(start?.Resource)).toContain(`:stateMachine:FerryTest-${name.toLowerCase()}"`);
        const children = statements.find((statement) =>
          actionsOf(statement).includes('states:StopExecution'),
        );
        expect(JSON.stringify(children?.Resource)).toContain(`:execution:FerryTest-${name.toLowerCase()}/*`);
      }
      const rollback = JSON.stringify(statementsOfRole(template, 'WorkflowsRollbackRole'));
      expect(rollback).not.toContain('states:StartExecution');
      expect(rollback).not.toContain('s3:');
    });

    it('lets each state machine invoke only the functions its definition names', () => {
      const rollbackRole = logicalIdStartingWith(template, 'AWS::IAM::Role', 'WorkflowsRollbackRole');
      const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).map(
        (policy) => policy.Properties as unknown as PolicyProps,
      );
      const rollback = policies.filter((policy) => policy.Roles.some((role) => role.Ref === rollbackRole));
      const invokes = rollback
        .flatMap((policy) => policy.PolicyDocument.Statement)
        .filter((statement) => actionsOf(statement).includes('lambda:InvokeFunction'));
      const functionIds = Object.keys(resourcesOfType(template, 'AWS::Lambda::Function'));
      const invoked = functionIds.filter((id) => JSON.stringify(invokes).includes(`"${id}"`)).sort();
      const named = ['rollback', 'fail-run'].map((id) =>
        logicalIdStartingWith(template, 'AWS::Lambda::Function', `Stages${constructIdOf(id)}`),
      );
      expect(invoked).toEqual(named.sort());
    });
  });

  describe('triggers', () => {
    it('starts migrate when drop/<folder>/ferry.json is created, passing the manifest key', () => {
      const drop = logicalIdStartingWith(template, 'AWS::S3::Bucket', 'BucketsDrop');
      const migrate = logicalIdStartingWith(template, 'AWS::StepFunctions::StateMachine', 'WorkflowsMigrate');
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: { bucket: { name: [{ Ref: drop }] }, object: { key: [{ wildcard: 'drop/*/ferry.json' }] } },
        },
        Targets: [
          Match.objectLike({
            Arn: { Ref: migrate },
            InputTransformer: {
              InputPathsMap: { 'detail-object-key': '$.detail.object.key' },
              InputTemplate: '{"manifestKey":<detail-object-key>}',
            },
          }),
        ],
      });
    });

    it('creates the delta schedule disabled when no expression is configured', () => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', { State: 'DISABLED' });
    });

    it('enables the delta schedule with the configured expression, folder and cutover window', () => {
      const configured = synthFerry({
        deltaSchedule: 'cron(30 1 * * ? *)',
        deltaFolder: 'drop/nightly/',
        deltaWindowStart: new Date('2026-12-05T00:00:00Z'),
        deltaWindowEnd: new Date('2026-12-07T00:00:00Z'),
      }).template;
      configured.hasResourceProperties('AWS::Scheduler::Schedule', {
        StartDate: '2026-12-05T00:00:00.000Z',
        EndDate: '2026-12-07T00:00:00.000Z',
      });
      expect(() =>
        synthFerry({
          deltaSchedule: 'cron(30 1 * * ? *)',
          deltaWindowStart: new Date('2026-12-07T00:00:00Z'),
          deltaWindowEnd: new Date('2026-12-05T00:00:00Z'),
        }),
      ).toThrow(/deltaWindowEnd/);
      configured.hasResourceProperties('AWS::Scheduler::Schedule', {
        State: 'ENABLED',
        ScheduleExpression: 'cron(30 1 * * ? *)',
        Target: Match.objectLike({ Input: JSON.stringify({ folder: 'drop/nightly/' }) }),
      });
    });

    it('refuses a delta schedule that is not a Scheduler expression', () => {
      expect(() => synthFerry({ deltaSchedule: '0 2 * * *' })).toThrow(/deltaSchedule/);
    });
  });

  describe('alarms', () => {
    it('alarms on failed and timed-out executions of every workflow into a KMS-encrypted topic', () => {
      const topic = logicalIdStartingWith(template, 'AWS::SNS::Topic', 'AlarmsTopic');
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
      expect(alarms.map((alarm) => alarm.Properties?.MetricName).sort()).toEqual([
        'ExecutionsFailed',
        'ExecutionsFailed',
        'ExecutionsFailed',
        'ExecutionsTimedOut',
        'ExecutionsTimedOut',
        'ExecutionsTimedOut',
      ]);
      for (const alarm of alarms) expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topic }]);
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });
  });

  describe('imported Twenty secret', () => {
    it('passes only the imported ARN and creates no secret', () => {
      const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:ferry/twenty-AbCdEf';
      const imported = synthFerry({ twentySecretArn: arn }).template;
      expect(Object.keys(resourcesOfType(imported, 'AWS::SecretsManager::Secret'))).toHaveLength(0);
      for (const fn of Object.values(resourcesOfType(imported, 'AWS::Lambda::Function'))) {
        const variables = environmentOf(fn);
        expect(variables.FERRY_TWENTY_SECRET_ARN).toBe(arn);
      }
    });
  });
});
