import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { type MappingSpecInput, parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import { ownersKeyFor } from '../../../lambdas/core/owners/resolve.ts';
import { diffSchema, isSchemaUpToDate } from '../../../lambdas/core/schema/diff.ts';
import { bindProfile, profileFor } from '../../../lambdas/core/sources/index.ts';
import { applySchema } from '../../../lambdas/tasks/apply-schema/apply-schema.ts';
import { resolveOwnersStage } from '../../../lambdas/tasks/resolve-owners/resolve-owners.ts';
import { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { startSandbox } from '../../../lib/sandbox/index.ts';
import { seedRun, stageDeps } from '../../unit/schema/fake-twenty.ts';

type Rows = Array<Record<string, string>>;

/** The bundled example export (synthetic), parsed once: rows per file name. */
function readExport(source: 'apms' | 'pbn'): Record<string, Rows> {
  const dir = join(import.meta.dirname, '../../../examples', source);
  const files: Record<string, Rows> = {};
  for (const name of readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.csv'))) {
    const bytes = readFileSync(join(dir, name));
    // Replacement characters for the export's deliberate bad bytes; the BOM is dropped by the decoder.
    const text = new TextDecoder('utf-8').decode(bytes);
    files[name] = parse(text, { columns: true, relax_column_count: true, skip_empty_lines: true });
  }
  return files;
}

/** The profile bound to the files present, with appointments owned by their provider's email. */
function boundMapping(source: 'apms' | 'pbn', files: Record<string, Rows>): MappingSpecInput {
  const sourceFiles = Object.entries(files).map(([name, rows]) => ({
    stem: name.toLowerCase().replace(/\.csv$/, ''),
    header: Object.keys(rows[0] ?? {}),
  }));
  const names = Object.fromEntries(Object.keys(files).map((n) => [n.toLowerCase().replace(/\.csv$/, ''), n]));
  const mapping = bindProfile(profileFor(source), sourceFiles, names);
  const appointments = mapping.entities.appointments;
  if (appointments) appointments.owner = { from: 'Provider Email', joinColumn: 'assigneeId' };
  return mapping;
}

const running: Array<{ stop(): Promise<void> }> = [];
afterAll(async () => {
  for (const server of running) await server.stop();
});

describe('ApplySchema and ResolveOwners against the sandbox', () => {
  for (const flavor of ['v1', 'v2'] as const) {
    for (const source of ['apms', 'pbn'] as const) {
      it(`prepares a ${flavor} workspace for the ${source} profile once, then creates nothing`, async () => {
        const files = readExport(source);
        const providerEmail =
          files['Appointments.csv']?.[0]?.['Provider Email'] ??
          files['appointments.csv']?.[0]?.['Provider Email'];
        expect(providerEmail).toBeTruthy();
        const sandbox = await startSandbox({
          flavor,
          rateShort: null,
          rateLong: null,
          members: [
            { email: (providerEmail as string).toUpperCase(), firstName: 'Known', lastName: 'Provider' },
            { email: 'front.desk@example.test', firstName: 'Front', lastName: 'Desk' },
          ],
        });
        running.push(sandbox);
        const client = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, baseBackoffMs: 10 });
        const deps = stageDeps(client);
        const runId = `e2e-${source}-${flavor}`;
        const mappingInput = boundMapping(source, files);
        const { planKey } = await seedRun(deps.work, runId, files, mappingInput, 5000);

        const first = await applySchema({ runId, planKey }, deps);
        expect(first.objectsCreated).toBe(parseMappingSpec(mappingInput).customObjects.length);
        expect(first.fieldsCreated).toBeGreaterThan(10);
        expect(first.relationsCreated).toBeGreaterThan(0);
        const model = await client.refreshMetadata();
        expect(model.hasField('person', 'city')).toBe(true);
        expect(isSchemaUpToDate(diffSchema(parseMappingSpec(mappingInput), model))).toBe(true);
        for (const custom of parseMappingSpec(mappingInput).customObjects)
          expect(model.joinColumns(custom.nameSingular)).toContain('personId');

        const second = await applySchema({ runId, planKey }, deps);
        expect(second).toEqual({
          runId,
          objectsCreated: 0,
          fieldsCreated: 0,
          optionsAdded: 0,
          relationsCreated: 0,
        });

        const owners = await resolveOwnersStage(
          { runId, planKey, fallbackOwnerEmail: 'Front.Desk@example.test' },
          deps,
        );
        expect(owners.matched).toBe(1);
        expect(owners.fallbackOwnerFound).toBe(true);
        expect(owners.fallbackUsed).toBe(owners.unmatched);
        const ownersFile = JSON.parse(await deps.work.getText(ownersKeyFor(runId)));
        const memberIds = new Set((await client.members()).map((m) => m.id));
        for (const id of Object.values(ownersFile.byEmail)) expect(memberIds.has(id as string)).toBe(true);
      });
    }
  }
});
