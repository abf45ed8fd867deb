import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { taskManifest } from '../../lambdas/tasks/manifest.ts';
import { taskByState, taskRegistry, taskRuns } from '../../lambdas/tasks/registry.ts';
import {
  loadDefinition,
  machineNames,
  machinePath,
  placeholdersIn,
  taskStateNames,
  walkStates,
} from '../../lib/local/asl-definition.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const aslFiles = readdirSync(join(repoRoot, 'statemachines')).filter((file) => file.endsWith('.asl.json'));
const statesByFile = new Map(
  aslFiles.map((file) => [file, taskStateNames(loadDefinition(join(repoRoot, 'statemachines', file)))]),
);
const allTaskStates = new Set([...statesByFile.values()].flat());

describe('taskRegistry', () => {
  it('covers the three workflows', () => {
    expect(aslFiles.sort()).toEqual(machineNames.map((m) => `${m}.asl.json`).sort());
    for (const machine of machineNames) expect(existsSync(machinePath(machine))).toBe(true);
  });

  it.each([...statesByFile])('has an entry for every Task state of %s', (_file, states) => {
    for (const state of states)
      expect(
        taskRegistry.map((t) => t.stateName),
        state,
      ).toContain(state);
  });

  it.each(aslFiles)('gives every Lambda Task state of %s the TimeoutSeconds of its function', (file) => {
    // Without one, Step Functions and the local executor differ (the ASL default is 60 s locally).
    walkStates(loadDefinition(join(repoRoot, 'statemachines', file)), (name, state) => {
      if (state.Type !== 'Task' || String(state.Resource ?? '').endsWith('.waitForTaskToken')) return;
      if (name.endsWith('ItemReader')) return;
      expect(state.TimeoutSeconds, name).toBe(taskByState(name)?.timeoutSeconds);
    });
  });

  it('has no entry without a Task state in some ASL file', () => {
    for (const task of taskRegistry) expect(allTaskStates.has(task.stateName), task.stateName).toBe(true);
  });

  it('has unique state names and one handler file per function id', () => {
    const names = taskRegistry.map((t) => t.stateName);
    expect(new Set(names).size).toBe(names.length);
    const entryByFunction = new Map<string, string>();
    for (const task of taskRegistry) {
      expect(task.functionId).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      expect(task.handlerEntry).toBe(`lambdas/tasks/${task.functionId}/handler.ts`);
      const seen = entryByFunction.get(task.functionId);
      if (seen !== undefined) expect(task.handlerEntry).toBe(seen);
      entryByFunction.set(task.functionId, task.handlerEntry);
    }
  });

  it.each(taskRegistry.map((t) => [t.stateName, t.handlerEntry] as const))(
    '%s: %s exists and exports a handler function',
    async (_state, handlerEntry) => {
      const path = join(repoRoot, handlerEntry);
      expect(existsSync(path)).toBe(true);
      const module = (await import(path)) as { handler?: unknown };
      expect(typeof module.handler).toBe('function');
    },
  );

  it('gives every Task placeholder in the ASL a registry entry', () => {
    for (const file of aslFiles) {
      for (const placeholder of placeholdersIn(loadDefinition(join(repoRoot, 'statemachines', file)))) {
        if (placeholder.endsWith('FunctionArn')) {
          expect(() => taskByState(placeholder.slice(0, -'FunctionArn'.length)), placeholder).not.toThrow();
        } else {
          expect(['WorkBucketName', 'DropBucketName']).toContain(placeholder);
        }
      }
    }
  });

  it('throws naming the state for an unknown state', () => {
    expect(() => taskByState('NoSuchState')).toThrow(/NoSuchState/);
  });

  it('keeps Lambda limits within what Lambda accepts', () => {
    for (const task of taskRegistry) {
      expect(task.timeoutSeconds).toBeGreaterThan(0);
      expect(task.timeoutSeconds).toBeLessThanOrEqual(900);
      expect(task.memoryMb).toBeGreaterThanOrEqual(128);
      expect(task.memoryMb).toBeLessThanOrEqual(10_240);
    }
  });

  it('joins every manifest state with exactly one runnable core, and no core without a manifest entry', () => {
    expect(Object.keys(taskRuns).sort()).toEqual(taskManifest.map((task) => task.stateName).sort());
    expect(taskRegistry.map((task) => task.stateName)).toEqual(taskManifest.map((task) => task.stateName));
  });

  it('keeps the manifest CDK reads data only: it imports no module, so synth never loads task code', () => {
    const source = readFileSync(join(repoRoot, 'lambdas/tasks/manifest.ts'), 'utf8');
    expect(source).not.toMatch(/^\s*(import|export .* from)\b/m);
  });
});
