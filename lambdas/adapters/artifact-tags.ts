/**
 * Intermediate run artefacts (Segment's raw chunks and LoadChunk's intent records) hold patient data
 * and are only needed while a run can still be resumed. The work bucket's lifecycle rule expires
 * objects carrying this tag; tagging happens in the S3 adapter, by key, so no stage needs to know
 * about storage lifecycle. Prepare's mapped load lines (`load/`) stay: rollback reads from them which
 * fields a run wrote. Reports, plans and the audit stay too.
 */
export const INTERMEDIATE_ARTIFACT_TAG = { key: 'ferry-artifact', value: 'chunk' } as const;

const INTERMEDIATE_KEY = /^runs\/[^/]+\/(chunks|load-intent)\//;

/** The tags an object written under `key` carries (none for anything that is not intermediate). */
export function artifactTagsFor(key: string): Readonly<Record<string, string>> | undefined {
  return INTERMEDIATE_KEY.test(key)
    ? { [INTERMEDIATE_ARTIFACT_TAG.key]: INTERMEDIATE_ARTIFACT_TAG.value }
    : undefined;
}
