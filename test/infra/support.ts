import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { taskManifest } from '../../lambdas/tasks/manifest.ts';
import { FerryStack, type FerryStackProps, REPO_ROOT } from '../../lib/infra/ferry-stack.ts';
import type { StageTask } from '../../lib/infra/stage-task.ts';

/** The feature flags of cdk.json: tests must synthesize what `cdk synth` synthesizes. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(`${REPO_ROOT}cdk.json`, 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/** The real task manifest: the stack under test is the one `bin/app.ts` deploys. */
export const realTasks: readonly StageTask[] = taskManifest;

/**
 * The real registry with the one grant path no deployed task uses switched on: the approval function
 * may answer callback tokens (SendTask*), so that path is synthesized and nag-checked too.
 */
export const testTasks: readonly StageTask[] = realTasks.map((task) =>
  task.stateName === 'AwaitPlanApproval'
    ? { ...task, access: { ...task.access, sendTaskResult: true } }
    : task,
);

/** An App that skips esbuild bundling (Template assertions do not need the code). */
export function testApp(extraContext: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...extraContext } });
}

export function synthFerry(props: Partial<FerryStackProps> = {}): { stack: FerryStack; template: Template } {
  const app = testApp();
  const stack = new FerryStack(app, 'FerryTest', { tasks: realTasks, ...props });
  return { stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** An ASL `${…}` placeholder, spelled without a `${` in a plain string literal. */
export const ph = (name: string): string => `\${${name}}`;

/** A definition using every nesting the walker must follow: Distributed Map with ItemReader, Parallel, callback. */
export const nestedAsl = JSON.stringify({
  StartAt: 'Inventory',
  States: {
    Inventory: { Type: 'Task', Resource: ph('InventoryFunctionArn'), Next: 'Gate' },
    Gate: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: ph('GateFunctionArn'), Payload: { 'taskToken.$': '$$.Task.Token' } },
      Next: 'Load',
    },
    Load: {
      Type: 'Map',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { Bucket: ph('WorkBucketName'), 'Key.$': '$.manifestKey' },
      },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'LoadChunk',
        States: { LoadChunk: { Type: 'Task', Resource: ph('LoadChunkFunctionArn'), End: true } },
      },
      Next: 'Finish',
    },
    Finish: {
      Type: 'Parallel',
      Branches: [
        {
          StartAt: 'Reconcile',
          States: { Reconcile: { Type: 'Task', Resource: ph('ReconcileFunctionArn'), End: true } },
        },
      ],
      End: true,
    },
  },
});
