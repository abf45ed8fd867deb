import { ArnFormat, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  CustomerManagedEncryptionConfiguration,
  DefinitionBody,
  LogLevel,
  StateMachine,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { aslRuleViolations, readAsl, stateNameOfPlaceholder } from './asl.ts';
import { grantObjects } from './data-grants.ts';
import { secureDefaults } from './secure-defaults.ts';
import { RUNS_PREFIX } from './stage-functions.ts';
import type { WildcardAllowlist } from './wildcard-allowlist.ts';

/** The three workflows; their names are the ASL file stems under statemachines/. */
export const WORKFLOW_NAMES = ['migrate', 'delta', 'rollback'] as const;
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];

/** Placeholder (contract (2)) for the work bucket, read by Distributed Map ItemReaders. */
export const WORK_BUCKET_PLACEHOLDER = 'WorkBucketName';
/**
 * Key pattern of the item lists a Distributed Map reads: Prepare writes one per load phase
 * (`runs/<runId>/load/<phase>.json`, later waves `<phase>.w<n>.json`). The load chunks next to them
 * end in `.ndjson`, so the state machine role reads the lists and never a chunk of PHI.
 */
export const LOAD_MANIFEST_PATTERN = `${RUNS_PREFIX}*/load/*.json`;

const S3_GET_OBJECT_READER = 'arn:aws:states:::s3:getObject';

/** One workflow definition as read from disk. */
export interface WorkflowDefinition {
  readonly name: WorkflowName;
  /** For error messages, e.g. `statemachines/migrate.asl.json`. */
  readonly fileName: string;
  readonly aslText: string;
}

export interface FerryStateMachinesProps {
  readonly definitions: readonly WorkflowDefinition[];
  /** Stage functions by ASL state name. */
  readonly functionsByState: ReadonlyMap<string, IFunction>;
  readonly work: IBucket;
  /**
   * Encrypts the log groups and, as a second layer over AWS's own, the definitions and execution
   * histories (ids, keys and counts only, but an error's cause names files and fields).
   */
  readonly logKey: IKey;
  /** Physical state machine names (known up front so functions can be granted SendTask* on them). */
  readonly stateMachineNames: Readonly<Record<WorkflowName, string>>;
  readonly allowlist: WildcardAllowlist;
}

/** The ARN of a state machine from its name, without referencing the resource (avoids cycles). */
export function stateMachineArnOf(scope: Construct, stateMachineName: string): string {
  return Stack.of(scope).formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: stateMachineName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * The migrate, delta and rollback state machines, each defined only by its ASL file: the Lambda
 * ARNs and the work bucket name are substituted from the task registry by walking the definition
 * (nested Map and Parallel states included), and the role gets exactly what the definition uses:
 * invoke on its functions, the load-phase item lists for an ItemReader, its own executions for a
 * Distributed Map. Logs at level ALL without execution data (payloads carry ids, yet never PHI in
 * logs by construction), X-Ray tracing on.
 */
export class FerryStateMachines extends Construct {
  public readonly byName: Readonly<Record<WorkflowName, StateMachine>>;

  constructor(scope: Construct, id: string, props: FerryStateMachinesProps) {
    super(scope, id);
    const made: Partial<Record<WorkflowName, StateMachine>> = {};
    for (const definition of props.definitions) {
      made[definition.name] = this.createStateMachine(definition, props);
    }
    const missing = WORKFLOW_NAMES.filter((name) => made[name] === undefined);
    if (missing.length > 0) throw new Error(`statemachines/: missing definitions for ${missing.join(', ')}`);
    this.byName = made as Record<WorkflowName, StateMachine>;
  }

  private createStateMachine(definition: WorkflowDefinition, props: FerryStateMachinesProps): StateMachine {
    const { fileName, name } = definition;
    const features = readAsl(definition.aslText, fileName);
    const problems = aslRuleViolations(features, fileName);

    const substitutions: Record<string, string> = {};
    const invoked = new Set<IFunction>();
    for (const placeholder of features.placeholders) {
      if (placeholder === WORK_BUCKET_PLACEHOLDER) {
        substitutions[placeholder] = props.work.bucketName;
        continue;
      }
      const stateName = stateNameOfPlaceholder(placeholder);
      const fn = stateName === undefined ? undefined : props.functionsByState.get(stateName);
      if (stateName === undefined) {
        problems.push(
          `${fileName}: placeholder \${${placeholder}} is neither a <StateName>FunctionArn nor ${WORK_BUCKET_PLACEHOLDER}`,
        );
      } else if (fn === undefined) {
        problems.push(`${fileName}: state ${stateName} has no entry in the task registry`);
      } else {
        substitutions[placeholder] = fn.functionArn;
        invoked.add(fn);
      }
    }
    for (const reader of features.itemReaderResources) {
      if (reader !== S3_GET_OBJECT_READER)
        problems.push(`${fileName}: ItemReader must use ${S3_GET_OBJECT_READER}`);
    }
    if (problems.length > 0) throw new Error(problems.join('; '));

    const stateMachineName = props.stateMachineNames[name];
    const cid = name.charAt(0).toUpperCase() + name.slice(1);
    const logGroup = new LogGroup(this, `${cid}Logs`, {
      logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
      retention: secureDefaults.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: secureDefaults.statefulRemovalPolicy,
    });
    const machine = new StateMachine(this, cid, {
      stateMachineName,
      definitionBody: DefinitionBody.fromString(definition.aslText),
      definitionSubstitutions: substitutions,
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      encryptionConfiguration: new CustomerManagedEncryptionConfiguration(props.logKey),
    });

    for (const fn of invoked) fn.grantInvoke(machine);

    if (features.itemReaderResources.length > 0) {
      grantObjects(machine, props.work, LOAD_MANIFEST_PATTERN, 'read');
      props.allowlist.allowResource(
        machine,
        props.work.bucketArn,
        `/${LOAD_MANIFEST_PATTERN}`,
        'The Distributed Map reads the phase item lists runs/<runId>/load/<phase>.json; run ids are execution names.',
      );
    }
    if (features.hasDistributedMap) {
      const self = stateMachineArnOf(this, stateMachineName);
      const executions = Stack.of(this).formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${stateMachineName}/*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      machine.addToRolePolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [self] }));
      machine.addToRolePolicy(
        new PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [executions],
        }),
      );
      props.allowlist.allowResource(
        machine,
        executions,
        '',
        `Child executions of the ${name} Distributed Map, named by Step Functions at run time.`,
      );
    }
    return machine;
  }
}
