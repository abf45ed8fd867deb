import type { ObjectStore } from '../../../ports/object-store.ts';
import type { PlanFile } from '../../inventory/plan.ts';
import type { FhirPlanSection } from './manifest.ts';
import { readFhirNdjson } from './reader.ts';

/**
 * Practitioner id → email over the export's Practitioner files: an Appointment names its
 * practitioner by reference only, and owner matching (ResolveOwners) needs the email, so Segment
 * reads these first and joins the email into each appointment row. Practitioners are staff, a few
 * hundred at most: the map stays in memory for the Segment invocation only.
 */
export async function practitionerEmails(
  drop: ObjectStore,
  files: readonly PlanFile[],
  fhir: FhirPlanSection,
): Promise<Map<string, string>> {
  const emails = new Map<string, string>();
  for (const file of files) {
    const entry = fhir.files[file.name];
    if (entry?.type !== 'Practitioner' || entry.role !== 'output') continue;
    let header: readonly string[] = [];
    await readFhirNdjson(
      await drop.getStream(file.key),
      { file: file.name, resourceType: 'Practitioner' },
      {
        header: (h) => {
          header = h;
        },
        row: (row) => {
          const id = row.cell(header.indexOf('id')).trim();
          const email = row.cell(header.indexOf('telecom.email')).trim();
          if (id !== '' && email !== '' && !emails.has(id)) emails.set(id, email);
        },
      },
    );
  }
  return emails;
}
