import { Duration } from 'aws-cdk-lib';
import { EventField, Match, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** The object whose creation marks a drop folder complete (ARCHITECTURE.md: S3 layout). */
export const DROP_MANIFEST_WILDCARD = 'drop/*/ferry.json';

export interface DropTriggerProps {
  readonly drop: IBucket;
  readonly migrate: IStateMachine;
}

/**
 * Starts `migrate` when an operator uploads `drop/<folder>/ferry.json`. An EventBridge input
 * transformer cannot cut a string, so the execution input is `{"manifestKey": "drop/<folder>/ferry.json"}`
 * and the migrate definition derives `folder` from it; the execution carries a key, never file content.
 */
export class DropTrigger extends Construct {
  public readonly rule: Rule;

  constructor(scope: Construct, id: string, props: DropTriggerProps) {
    super(scope, id);
    this.rule = new Rule(this, 'ManifestCreated', {
      description: 'Ferry: a drop folder is complete (ferry.json uploaded): start the migrate workflow',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.drop.bucketName] },
          object: { key: Match.wildcard(DROP_MANIFEST_WILDCARD) },
        },
      },
    });
    this.rule.addTarget(
      new SfnStateMachine(props.migrate, {
        input: RuleTargetInput.fromObject({ manifestKey: EventField.fromPath('$.detail.object.key') }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(2),
      }),
    );
  }
}

export interface DeltaScheduleProps {
  readonly delta: IStateMachine;
  /** EventBridge Scheduler expression, e.g. `cron(0 2 * * ? *)`; absent = schedule created disabled. */
  readonly expression?: string;
  /** Drop folder the delta run reads, e.g. `drop/nightly/`. */
  readonly folder: string;
  /** The cutover window (e.g. the 48 hours after the full run): no delta starts before or after it. */
  readonly windowStart?: Date;
  readonly windowEnd?: Date;
}

/** Placeholder expression of an unconfigured (disabled) delta schedule. */
export const DISABLED_DELTA_EXPRESSION = 'cron(0 2 * * ? *)';

/**
 * Runs `delta` during the cutover window. Created disabled unless a cron/rate expression is
 * configured, so deploying the stack never starts syncs on its own; the Scheduler L2 target gives it
 * its own role allowed only `states:StartExecution` on the delta machine.
 */
export class DeltaSchedule extends Construct {
  public readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: DeltaScheduleProps) {
    super(scope, id);
    if (props.expression !== undefined && !/^(cron|rate)\(.+\)$/.test(props.expression)) {
      throw new Error('deltaSchedule: must be an EventBridge Scheduler cron(...) or rate(...) expression');
    }
    if (!/^drop\/[^/]+\/$/.test(props.folder)) {
      throw new Error('deltaFolder: must look like drop/<folder>/');
    }
    if (props.windowStart && props.windowEnd && props.windowEnd <= props.windowStart) {
      throw new Error('deltaWindowEnd: must be after deltaWindowStart');
    }
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'Ferry: delta sync during the cutover window',
      schedule: ScheduleExpression.expression(props.expression ?? DISABLED_DELTA_EXPRESSION),
      enabled: props.expression !== undefined,
      ...(props.windowStart === undefined ? {} : { start: props.windowStart }),
      ...(props.windowEnd === undefined ? {} : { end: props.windowEnd }),
      target: new StepFunctionsStartExecution(props.delta, {
        input: ScheduleTargetInput.fromObject({ folder: props.folder }),
        retryAttempts: 2,
      }),
    });
  }
}
