import { hash as digest } from 'node:crypto';

/** Ferry's UUIDv5 namespace: fixed forever, or every id of every past run would change. */
export const FERRY_ID_NAMESPACE = '6f1d7c2e-3b8a-5e4f-9a61-0c2d4e8b7f35';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

const namespaceBytes = uuidBytes(FERRY_ID_NAMESPACE);

/**
 * UUIDv5 (RFC 9562, SHA-1) of the parts joined with U+001F, so ('a b','c') ≠ ('a','b c').
 * Records use (sourceInstance, sourceSystem, entity, sourceId): a retried batch, a delta run and
 * a rollback all compute the same Twenty id, and a child's foreign key needs no lookup.
 */
export function deterministicId(
  namespaceParts: readonly string[],
  namespace: string = FERRY_ID_NAMESPACE,
): string {
  const ns = namespace === FERRY_ID_NAMESPACE ? namespaceBytes : uuidBytes(namespace);
  // One-shot digest (no Hash object): Prepare computes several ids per record.
  const hash = digest(
    'sha1',
    Buffer.concat([ns, Buffer.from(namespaceParts.join('\u001f'), 'utf8')]),
    'buffer',
  );
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The Twenty id of a source record (the one formula the loader and FK computation share). */
export function recordId(
  sourceInstance: string,
  sourceSystem: string,
  entity: string,
  sourceId: string,
): string {
  return deterministicId([sourceInstance, sourceSystem, entity, sourceId]);
}
