import { z } from 'zod';

/**
 * The side inputs of Prepare written by earlier stages: merge candidates (Inventory) and owner
 * resolution (ResolveOwners). Both are optional; their keys are normalized with the functions
 * below, which the writers must use too, or a match silently fails.
 */

/** Email key: trimmed and lower-cased (Twenty's unique index is on the literal string). */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Domain key of a company website: the host, lower-cased, without `www.`, scheme, port or path, so
 * `https://www.Smile.example/` and `smile.example` meet. Null when the value has no host.
 */
export function domainKey(url: string): string | null {
  const raw = url.trim();
  if (raw === '') return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  try {
    const host = new URL(withScheme).hostname.toLowerCase().replace(/^www\./, '');
    return host === '' ? null : host;
  } catch {
    return null;
  }
}

/**
 * `runs/<runId>/merge-candidates.json`: unique keys of records that already exist in the workspace
 * (found by Inventory paging people's primary emails and companies' primary links once) → their
 * Twenty id. A source record with the same key takes that id instead of its deterministic one.
 */
export const MergeCandidatesSchema = z.looseObject({
  people: z.record(z.string(), z.string()).default({}),
  companies: z.record(z.string(), z.string()).default({}),
});
export type MergeCandidates = z.infer<typeof MergeCandidatesSchema>;

/**
 * `runs/<runId>/owners.json` as ResolveOwners writes it; Prepare reads only `byEmail`
 * (normalized email → workspace member id, or null when neither the email nor a fallback matched)
 * and `memberEmails`.
 */
export const OwnersFileSchema = z.looseObject({
  byEmail: z.record(z.string(), z.string().nullable()).default({}),
  /** Normalized staff emails (`skipIfMember` columns) of workspace members: rows skipped MATCHED_MEMBER. */
  memberEmails: z.array(z.string()).default([]),
});
export type OwnersFile = z.infer<typeof OwnersFileSchema>;

/** An entity's owner column (EntitySpec `owner`, added by ResolveOwners' spec extension). */
export const OwnerSpecSchema = z.object({
  from: z.string().min(1),
  joinColumn: z.string().regex(/^[a-z][a-zA-Z0-9]*$/),
});
export type OwnerSpec = z.infer<typeof OwnerSpecSchema>;

/** The entity's owner spec when the mapping has one (read structurally: the key is optional). */
export function ownerOf(entity: object): OwnerSpec | undefined {
  const owner = (entity as { owner?: unknown }).owner;
  if (owner === undefined || owner === null) return undefined;
  const parsed = OwnerSpecSchema.safeParse(owner);
  return parsed.success ? parsed.data : undefined;
}
