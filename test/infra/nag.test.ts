import { Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FerryStack, loadWorkflowDefinitions } from '../../lib/infra/ferry-stack.ts';
import { nestedAsl, realTasks, testApp, testTasks } from './support.ts';

function appWithNag() {
  const app = testApp();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  return app;
}

describe('cdk-nag on FerryStack', () => {
  it('synthesizes the deployed stack with the AwsSolutions and HIPAA Security packs and no unacknowledged finding', () => {
    const app = appWithNag();
    new FerryStack(app, 'Ferry', { tasks: realTasks });
    expect(() => app.synth()).not.toThrow();
  });

  it('passes with every grant path in use (tables, rate limit, secret, SendTask*)', () => {
    const app = appWithNag();
    new FerryStack(app, 'Ferry', { tasks: testTasks });
    expect(() => app.synth()).not.toThrow();
  });

  it('fails the synth when a grant adds a wildcard nobody gave a reason for', () => {
    const app = appWithNag();
    const stack = new FerryStack(app, 'Ferry', { tasks: testTasks });
    const segment = stack.functions.byFunctionId.get('segment');
    segment?.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:*'], resources: [stack.tables.runs.tableArn] }),
    );
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
  });

  it('also passes with a nested definition (Parallel branch, callback task, Distributed Map acknowledged)', () => {
    const app = appWithNag();
    new FerryStack(app, 'Ferry', {
      tasks: [
        ...testTasks,
        {
          stateName: 'Gate',
          functionId: 'gate',
          handlerEntry: 'lambdas/tasks/await-approval/handler.ts',
          access: {},
          timeoutSeconds: 30,
          memoryMb: 256,
        },
      ],
      definitions: loadWorkflowDefinitions().map((definition) =>
        definition.name === 'migrate' ? { ...definition, aslText: nestedAsl } : definition,
      ),
    });
    expect(() => app.synth()).not.toThrow();
  });
});
