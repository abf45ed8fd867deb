import { CfnResource, type IAspect, Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** Actions that AWS does not scope to a resource: their statements must say `Resource: *`. */
const RESOURCE_LESS_ACTIONS: ReadonlySet<string> = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

interface PolicyStatementJson {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * Flattens a resolved CloudFormation reference the way cdk-nag names IAM5 findings
 * (`{"Fn::GetAtt": ["X", "Arn"]}` → `<X.Arn>`, `Fn::Join` concatenated, `${…}` → `<…>`).
 */
export function flattenReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    const join = record['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, items] = join as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (record['Fn::Sub'] !== undefined) return flattenReference(record['Fn::Sub']);
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${flattenReference(getAtt[0])}.${flattenReference(getAtt[1])}>`;
    if (record['Fn::ImportValue'] !== undefined) return flattenReference(record['Fn::ImportValue']);
    if (record.Ref !== undefined) return `<${flattenReference(record.Ref)}>`;
  }
  return JSON.stringify(node);
}

/**
 * The wildcard findings (cdk-nag `AwsSolutions-IAM5[…]`) this stack accepts, each with its reason.
 * Constructs register exact findings next to the grant that causes them (a bucket prefix, a
 * Lambda's version ARN); as an Aspect it then acknowledges, on each IAM policy, only the registered
 * findings that policy actually has. A wildcard nobody registered stays a nag error, a wildcard
 * action always does (grants name their actions: data-grants.ts), and `Resource::*` is accepted only
 * on statements whose every action has no resource scope.
 * It also records, per policy, why the CDK grant policies stay inline (HIPAA IAMNoInlinePolicy).
 */
export class WildcardAllowlist implements IAspect {
  private readonly reasons = new Map<string, string>();

  /** Accepts the finding for the resource ARN `arn` (a token or string) followed by `suffix`. */
  public allowResource(scope: IConstruct, arn: string, suffix: string, reason: string): void {
    this.reasons.set(`Resource::${flattenReference(Stack.of(scope).resolve(arn))}${suffix}`, reason);
  }

  public visit(node: IConstruct): void {
    if (!(node instanceof CfnPolicy) || !CfnResource.isCfnResource(node)) return;
    Validations.of(node).acknowledge({
      id: 'HIPAA.Security-IAMNoInlinePolicy',
      reason:
        'A CDK grant policy owned by exactly one role and scoped to that role’s resources; an inline policy cannot be attached elsewhere and is deleted with its role.',
    });
    const document = Stack.of(node).resolve(node.policyDocument) as { Statement?: PolicyStatementJson[] };
    const unscopedActions = new Set<string>();
    let unscopedOnlyResourceLess = true;
    for (const statement of document.Statement ?? []) {
      if (statement.Effect !== 'Allow') continue;
      const actions = asArray(statement.Action);
      for (const resource of asArray(statement.Resource).map(flattenReference)) {
        if (resource === '*') {
          for (const action of actions) unscopedActions.add(action);
          if (!actions.every((action) => RESOURCE_LESS_ACTIONS.has(action))) unscopedOnlyResourceLess = false;
        } else if (resource.includes('*')) {
          this.acknowledge(node, `Resource::${resource}`);
        }
      }
    }
    // The finding is per policy, so it is accepted only when every `*` statement is resource-less.
    if (unscopedActions.size > 0 && unscopedOnlyResourceLess) {
      Validations.of(node).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `Only ${[...unscopedActions].sort().join(', ')} on Resource *: these actions support no resource-level permissions.`,
      });
    }
  }

  private acknowledge(node: IConstruct, finding: string): void {
    const reason = this.reasons.get(finding);
    if (reason !== undefined)
      Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}
