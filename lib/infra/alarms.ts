import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface FailureAlarmsProps {
  readonly stateMachines: Readonly<Record<string, StateMachine>>;
  readonly key: IKey;
  /** Optional e-mail subscribed to the topic. */
  readonly email?: string;
}

/**
 * Tells the operator when a workflow fails or times out: one alarm per state machine and metric
 * (ExecutionsFailed, ExecutionsTimedOut) into a KMS-encrypted, TLS-only SNS topic. A failed migration
 * leaves a half-loaded CRM until someone resumes or rolls back, so this must not go unnoticed.
 */
export class FailureAlarms extends Construct {
  public readonly topic: Topic;
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: FailureAlarmsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Ferry workflow failures',
      masterKey: props.key,
      enforceSSL: true,
    });
    if (props.email !== undefined) this.topic.addSubscription(new EmailSubscription(props.email));

    const alarms: Alarm[] = [];
    for (const [name, machine] of Object.entries(props.stateMachines)) {
      const cid = name.charAt(0).toUpperCase() + name.slice(1);
      const metrics = [
        ['Failed', machine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' })],
        ['TimedOut', machine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' })],
      ] as const;
      for (const [what, metric] of metrics) {
        const alarm = new Alarm(this, `${cid}${what}`, {
          alarmDescription: `Ferry ${name} workflow: an execution ${what === 'Failed' ? 'failed' : 'timed out'}`,
          metric,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        });
        alarm.addAlarmAction(new SnsAction(this.topic));
        alarms.push(alarm);
      }
    }
    this.alarms = alarms;
  }
}
