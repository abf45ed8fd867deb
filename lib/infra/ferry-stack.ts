import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aspects, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StageEnv } from '../../lambdas/config.ts';
import { FailureAlarms } from './alarms.ts';
import { FerryBuckets } from './buckets.ts';
import { FerryKeys } from './keys.ts';
import { StageFunctions } from './stage-functions.ts';
import { groupStageFunctions, type StageTask } from './stage-task.ts';
import {
  FerryStateMachines,
  stateMachineArnOf,
  WORKFLOW_NAMES,
  type WorkflowDefinition,
  type WorkflowName,
} from './state-machines.ts';
import { FerryTables } from './tables.ts';
import { DeltaSchedule, DropTrigger } from './triggers.ts';
import { TwentySecret } from './twenty-secret.ts';
import { WildcardAllowlist } from './wildcard-allowlist.ts';

/** The repository root, where handler entries and statemachines/ are resolved from. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface FerryStackProps extends StackProps {
  /** The task manifest (lambdas/tasks/manifest.ts `taskManifest`): data only, no task code. */
  readonly tasks: readonly StageTask[];
  /** Workflow definitions; default: `statemachines/<name>.asl.json` under `repoRoot`. */
  readonly definitions?: readonly WorkflowDefinition[];
  readonly repoRoot?: string;
  /** Use an existing Twenty API secret instead of creating one. */
  readonly twentySecretArn?: string;
  /** Scheduler expression for delta runs; absent = the schedule exists but is disabled. */
  readonly deltaSchedule?: string;
  /** Drop folder a scheduled delta run reads (default `drop/delta/`). */
  readonly deltaFolder?: string;
  /** The cutover window: the delta schedule starts no earlier and ends no later than these. */
  readonly deltaWindowStart?: Date;
  readonly deltaWindowEnd?: Date;
  /** E-mail subscribed to the failure topic. */
  readonly alarmEmail?: string;
  readonly reservedConcurrency?: number;
  readonly ratePreset?: string;
  readonly batchMax?: number;
  readonly logLevel?: StageEnv['FERRY_LOG_LEVEL'];
}

/** Reads the three ASL files: they are the only definition of each workflow (STYLE.md). */
export function loadWorkflowDefinitions(repoRoot: string = REPO_ROOT): WorkflowDefinition[] {
  return WORKFLOW_NAMES.map((name) => {
    const fileName = `statemachines/${name}.asl.json`;
    return { name, fileName, aslText: readFileSync(join(repoRoot, fileName), 'utf8') };
  });
}

/**
 * Ferry in AWS: encrypted buckets and tables, one Lambda per task, the three workflows, the drop
 * trigger, the delta schedule and failure alarms. Composition only; each construct owns one job
 * and its secure defaults come from secure-defaults.ts.
 */
export class FerryStack extends Stack {
  public readonly keys: FerryKeys;
  public readonly buckets: FerryBuckets;
  public readonly tables: FerryTables;
  public readonly twentySecret: TwentySecret;
  public readonly functions: StageFunctions;
  public readonly workflows: FerryStateMachines;
  public readonly dropTrigger: DropTrigger;
  public readonly deltaSchedule: DeltaSchedule;
  public readonly alarms: FailureAlarms;

  constructor(scope: Construct, id: string, props: FerryStackProps) {
    super(scope, id, props);
    const repoRoot = props.repoRoot ?? REPO_ROOT;
    const allowlist = new WildcardAllowlist();

    this.keys = new FerryKeys(this, 'Keys');
    this.buckets = new FerryBuckets(this, 'Buckets', { key: this.keys.data });
    this.tables = new FerryTables(this, 'Tables', { key: this.keys.data });
    this.twentySecret = new TwentySecret(this, 'TwentyApi', {
      key: this.keys.data,
      existingSecretArn: props.twentySecretArn,
    });

    const stateMachineNames = Object.fromEntries(
      WORKFLOW_NAMES.map((name) => [name, `${this.stackName}-${name}`]),
    ) as Record<WorkflowName, string>;

    this.functions = new StageFunctions(this, 'Stages', {
      functions: groupStageFunctions(props.tasks),
      repoRoot,
      drop: this.buckets.drop,
      work: this.buckets.work,
      runs: this.tables.runs,
      ledger: this.tables.ledger,
      rateLimit: this.tables.rateLimit,
      twentySecret: this.twentySecret.secret,
      logKey: this.keys.telemetry,
      stateMachineArns: WORKFLOW_NAMES.map((name) => stateMachineArnOf(this, stateMachineNames[name])),
      allowlist,
      ratePreset: props.ratePreset,
      batchMax: props.batchMax,
      logLevel: props.logLevel,
      reservedConcurrency: props.reservedConcurrency,
    });

    this.workflows = new FerryStateMachines(this, 'Workflows', {
      definitions: props.definitions ?? loadWorkflowDefinitions(repoRoot),
      functionsByState: this.functions.byStateName,
      work: this.buckets.work,
      logKey: this.keys.telemetry,
      stateMachineNames,
      allowlist,
    });

    this.dropTrigger = new DropTrigger(this, 'DropTrigger', {
      drop: this.buckets.drop,
      migrate: this.workflows.byName.migrate,
    });
    this.deltaSchedule = new DeltaSchedule(this, 'DeltaSchedule', {
      delta: this.workflows.byName.delta,
      expression: props.deltaSchedule,
      folder: props.deltaFolder ?? 'drop/delta/',
      ...(props.deltaWindowStart === undefined ? {} : { windowStart: props.deltaWindowStart }),
      ...(props.deltaWindowEnd === undefined ? {} : { windowEnd: props.deltaWindowEnd }),
    });
    this.alarms = new FailureAlarms(this, 'Alarms', {
      stateMachines: this.workflows.byName,
      key: this.keys.telemetry,
      email: props.alarmEmail,
    });

    Aspects.of(this).add(allowlist);
  }
}
