import type { ObjectStore } from '../../ports/object-store.ts';
import type { Plan } from '../inventory/plan.ts';
import { workflowsKey } from '../run-layout.ts';
import {
  buildWorkflowReference,
  MAX_AUTOMATION_JSON_BYTES,
  type WorkflowDefinition,
  workflowReferenceOf,
  workflowRowsFromJson,
} from '../sources/workflows.ts';

/**
 * Automation/workflow exports in JSON (a file no profile reads as rows) become the rebuild reference
 * `workflows.json` like a profile's workflow CSV: one entry per automation with its trigger,
 * conditions and actions. Written only when Prepare wrote none.
 */
async function automationsFromJson(
  drop: ObjectStore,
  work: ObjectStore,
  runId: string,
  attachments: readonly { key: string; name: string; bytes: number }[],
): Promise<void> {
  const workflows: WorkflowDefinition[] = [];
  for (const file of attachments) {
    if (!file.name.toLowerCase().endsWith('.json') || file.bytes > MAX_AUTOMATION_JSON_BYTES) continue;
    const found = workflowRowsFromJson(await drop.getText(file.key));
    if (found !== null) workflows.push(...buildWorkflowReference(found.rows, found.header).workflows);
  }
  if (workflows.length === 0) return;
  const body = workflowReferenceOf(workflows);
  await work.put(workflowsKey(runId), `${JSON.stringify(body, null, 2)}\n`, 'application/json');
}

/**
 * The run's `workflows.json` key, or undefined when there is none: Prepare's, else one built from
 * the plan's automation JSON attachments ({@link automationsFromJson}).
 */
export async function workflowsReference(
  drop: ObjectStore,
  work: ObjectStore,
  runId: string,
  plan: Plan | undefined,
): Promise<string | undefined> {
  if (!(await work.exists(workflowsKey(runId))) && plan !== undefined)
    await automationsFromJson(drop, work, runId, plan.attachments);
  return (await work.exists(workflowsKey(runId))) ? workflowsKey(runId) : undefined;
}
