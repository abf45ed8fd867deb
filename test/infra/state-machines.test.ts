import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadChunkKey, phaseManifestKey } from '../../lambdas/core/load/format.ts';
import { waveManifestKey } from '../../lambdas/tasks/prepare/prepare.ts';
import { FerryStack, loadWorkflowDefinitions } from '../../lib/infra/ferry-stack.ts';
import type { StageTask } from '../../lib/infra/stage-task.ts';
import { LOAD_MANIFEST_PATTERN, type WorkflowDefinition } from '../../lib/infra/state-machines.ts';
import { nestedAsl, ph, testApp, testTasks } from './support.ts';

/** The registry plus the nested definition's callback state, which no real workflow has. */
const nestedTasks: StageTask[] = [
  ...testTasks,
  {
    stateName: 'Gate',
    functionId: 'gate',
    handlerEntry: 'lambdas/tasks/await-approval/handler.ts',
    access: { runs: 'readwrite' },
    timeoutSeconds: 30,
    memoryMb: 256,
  },
];

function withMigrate(aslText: string): WorkflowDefinition[] {
  return loadWorkflowDefinitions().map((definition) =>
    definition.name === 'migrate'
      ? { ...definition, aslText, fileName: 'statemachines/migrate.asl.json' }
      : definition,
  );
}

type Statement = { Action: string | string[]; Resource: unknown };

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('FerryStateMachines', () => {
  it('grants a Distributed Map its manifest reads and its own child executions', () => {
    const stack = new FerryStack(testApp(), 'Nested', {
      tasks: nestedTasks,
      definitions: withMigrate(nestedAsl),
    });
    const template = Template.fromStack(stack);
    const role = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('WorkflowsMigrateRole'),
    );
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: role }]))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
    const text = JSON.stringify(statements);
    expect(text).toContain('/runs/*/load/*.json');
    expect(text).not.toContain('/runs/*"');
    expect(text).toContain(':stateMachine:Nested-migrate');
    expect(text).toContain(':execution:Nested-migrate/*');
    const startExecution = statements.find((statement) => statement.Action === 'states:StartExecution');
    expect(JSON.stringify(startExecution?.Resource)).toContain(':stateMachine:Nested-migrate');

    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).find(
      (candidate) => candidate.Properties.StateMachineName === 'Nested-migrate',
    );
    expect(Object.keys(machine?.Properties.DefinitionSubstitutions ?? {}).sort()).toEqual([
      'GateFunctionArn',
      'InventoryFunctionArn',
      'LoadChunkFunctionArn',
      'ReconcileFunctionArn',
      'WorkBucketName',
    ]);
  });

  it('does not grant child executions or manifest reads to a machine without a Distributed Map', () => {
    const plain = JSON.stringify({
      StartAt: 'Inventory',
      States: { Inventory: { Type: 'Task', Resource: ph('InventoryFunctionArn'), End: true } },
    });
    const stack = new FerryStack(testApp(), 'Plain', { tasks: testTasks, definitions: withMigrate(plain) });
    const template = Template.fromStack(stack);
    const role = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('WorkflowsMigrateRole'),
    );
    const text = JSON.stringify(
      Object.values(template.findResources('AWS::IAM::Policy')).filter(
        (policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: role }]),
      ),
    );
    expect(text).toContain('lambda:InvokeFunction');
    expect(text).not.toContain(':execution:');
    expect(text).not.toContain('states:StartExecution');
    expect(text).not.toContain('/load/');
  });

  it('covers every item list Prepare writes with the manifest grant, and no load chunk', () => {
    const pattern = new RegExp(`^${LOAD_MANIFEST_PATTERN.split('*').map(escapeRegExp).join('[^]*')}$`);
    expect(phaseManifestKey('run-1', '02-people')).toMatch(pattern);
    expect(waveManifestKey('run-1', '02-people', 2)).toMatch(pattern);
    expect(loadChunkKey('run-1', '02-people', 'person', 1)).not.toMatch(pattern);
  });

  it('fails the synth naming the file and state when a Task state has no registry entry', () => {
    const migrate = readFileSync(new URL('../../statemachines/migrate.asl.json', import.meta.url), 'utf8');
    const tasks = testTasks.filter((task) => task.stateName !== 'Segment');
    expect(() => new FerryStack(testApp(), 'Missing', { tasks, definitions: withMigrate(migrate) })).toThrow(
      'statemachines/migrate.asl.json: state Segment has no entry in the task registry',
    );
  });

  it('fails the synth on a placeholder that is neither a function ARN nor the work bucket', () => {
    const asl = JSON.stringify({
      StartAt: 'P',
      States: { P: { Type: 'Pass', Result: ph('Mystery'), End: true } },
    });
    expect(
      () => new FerryStack(testApp(), 'Mystery', { tasks: testTasks, definitions: withMigrate(asl) }),
    ).toThrow(/placeholder \$\{Mystery\} is neither/);
  });
});
