import { z } from 'zod';
import type { WorkspaceMember } from '../../ports/twenty.ts';

/**
 * Owner resolution: source records name their owner (provider, coordinator, account manager) by a
 * staff email; Twenty wants a workspace member id. Matching is by normalized email only — names are
 * ambiguous and staff emails are what both systems share. Unmatched emails fall back to one
 * operator-chosen member, or stay unassigned; either way the report says so.
 */

/** The comparison form of an email: trimmed and lower-cased ('' means no owner). */
export function normalizeEmail(raw: string | undefined | null): string {
  return (raw ?? '').trim().toLowerCase();
}

export const OwnerEntityStatsSchema = z.object({
  object: z.string(),
  joinColumn: z.string(),
  /** Rows whose owner column is not blank. */
  rowsWithOwner: z.number().int().nonnegative(),
  distinctEmails: z.number().int().nonnegative(),
  matched: z.number().int().nonnegative(),
  unmatched: z.number().int().nonnegative(),
  /** Rows that will carry the fallback owner. */
  rowsOnFallback: z.number().int().nonnegative(),
  /** Rows left unassigned (no member and no usable fallback). */
  rowsUnassigned: z.number().int().nonnegative(),
});
export type OwnerEntityStats = z.infer<typeof OwnerEntityStatsSchema>;

/**
 * `runs/<runId>/owners.json`: normalized owner email → member id (null = unassigned), read by
 * Prepare. Staff emails, not patient data; it stays in the work bucket and never enters a payload.
 */
export const OwnersFileSchema = z.object({
  runId: z.string().min(1),
  byEmail: z.record(z.string(), z.string().nullable()),
  /** Distinct emails that matched a member. */
  matched: z.number().int().nonnegative(),
  /** Distinct emails that matched none. */
  unmatched: z.number().int().nonnegative(),
  /** The distinct emails that matched no member (shown in the report; staff emails, not PHI). */
  unmatchedEmails: z.array(z.string()),
  /** Distinct unmatched emails given the fallback owner. */
  fallbackUsed: z.number().int().nonnegative(),
  /** The fallback member id, or null (no fallback asked for, or the email is not a member). */
  fallbackOwner: z.string().nullable(),
  entities: z.record(z.string(), OwnerEntityStatsSchema),
  /** Codes: FALLBACK_OWNER_NOT_A_MEMBER, OWNERS_UNASSIGNED. */
  warnings: z.array(z.string()),
  /**
   * Normalized emails of `skipIfMember` columns (providers/staff) that belong to a workspace member:
   * Prepare skips those rows (MATCHED_MEMBER) instead of loading the member as a person.
   */
  memberEmails: z.array(z.string()).default([]),
});
export type OwnersFile = z.infer<typeof OwnersFileSchema>;

// ResolveOwners' keys live in run-layout.ts; these names stay here for the tests.
export { ownersKeyFor, ownersReportKeyFor } from '../run-layout.ts';

/** What a scan of one entity's owner column found: normalized email → rows naming it. */
export interface OwnerColumnScan {
  readonly entity: string;
  readonly object: string;
  readonly joinColumn: string;
  readonly emails: ReadonlyMap<string, number>;
}

/** Workspace members by normalized `userEmail` (the first member wins on a duplicate). */
export function membersByEmail(members: readonly WorkspaceMember[]): Map<string, string> {
  const byEmail = new Map<string, string>();
  for (const member of members) {
    const email = normalizeEmail(member.userEmail);
    if (email !== '' && !byEmail.has(email)) byEmail.set(email, member.id);
  }
  return byEmail;
}

/**
 * Resolves every scanned owner email to a member id: exact normalized match, else the fallback
 * member (when `fallbackOwnerEmail` is a member), else null. Pure: the stage does the I/O.
 */
export function resolveOwners(
  runId: string,
  scans: readonly OwnerColumnScan[],
  members: readonly WorkspaceMember[],
  fallbackOwnerEmail?: string,
): OwnersFile {
  const byMember = membersByEmail(members);
  const fallbackEmail = normalizeEmail(fallbackOwnerEmail);
  const fallbackOwner = fallbackEmail === '' ? null : (byMember.get(fallbackEmail) ?? null);
  const warnings: string[] = [];
  if (fallbackEmail !== '' && fallbackOwner === null) warnings.push('FALLBACK_OWNER_NOT_A_MEMBER');

  const byEmail: Record<string, string | null> = {};
  const entities: Record<string, OwnerEntityStats> = {};
  for (const scan of scans) {
    const stats = {
      object: scan.object,
      joinColumn: scan.joinColumn,
      rowsWithOwner: 0,
      distinctEmails: scan.emails.size,
      matched: 0,
      unmatched: 0,
      rowsOnFallback: 0,
      rowsUnassigned: 0,
    };
    for (const [email, rows] of scan.emails) {
      stats.rowsWithOwner += rows;
      const member = byMember.get(email);
      if (member !== undefined) {
        stats.matched++;
        byEmail[email] = member;
        continue;
      }
      stats.unmatched++;
      byEmail[email] = fallbackOwner;
      if (fallbackOwner === null) stats.rowsUnassigned += rows;
      else stats.rowsOnFallback += rows;
    }
    entities[scan.entity] = stats;
  }
  const emails = Object.keys(byEmail);
  const unmatchedEmails = emails.filter((e) => !byMember.has(e)).sort();
  const matched = emails.length - unmatchedEmails.length;
  const unmatched = unmatchedEmails.length;
  if (unmatched > 0 && fallbackOwner === null) warnings.push('OWNERS_UNASSIGNED');
  return {
    runId,
    byEmail,
    matched,
    unmatched,
    unmatchedEmails,
    fallbackUsed: fallbackOwner === null ? 0 : unmatched,
    fallbackOwner,
    entities,
    warnings,
    memberEmails: [],
  };
}

/** Skip reason of a row that stands for a workspace member (`skipIfMember`): not loaded as a record. */
export const MATCHED_MEMBER = 'MATCHED_MEMBER';

/**
 * The emails among `scanned` (already normalized, from `skipIfMember` columns) that belong to a
 * workspace member, sorted: what owners.json carries as `memberEmails`.
 */
export function memberEmailsAmong(scanned: Iterable<string>, members: readonly WorkspaceMember[]): string[] {
  const byMember = membersByEmail(members);
  return [...new Set([...scanned].filter((e) => byMember.has(e)))].sort();
}

/**
 * Whether a source row is skipped as a workspace member: its entity names a `skipIfMember` column
 * and the row's email there, normalized like member emails, is one of `memberEmails`. Prepare and
 * the generator's reconciliation harness decide with this one rule.
 */
export function skipsAsMember(
  entity: { readonly skipIfMember?: { readonly from: string } | undefined },
  cells: Readonly<Record<string, string | undefined>>,
  memberEmails: ReadonlySet<string>,
): boolean {
  if (entity.skipIfMember === undefined) return false;
  const email = normalizeEmail(cells[entity.skipIfMember.from]);
  return email !== '' && memberEmails.has(email);
}

/**
 * The member id a source row's owner cell resolves to (Prepare calls this per row): null for a blank
 * cell, an unassigned email, or an email the scan never saw.
 */
export function ownerIdFor(owners: Pick<OwnersFile, 'byEmail'>, raw: string | undefined): string | null {
  const email = normalizeEmail(raw);
  if (email === '') return null;
  return owners.byEmail[email] ?? null;
}

/** Providers of a profile-flagged provider entity, split by whether they are workspace members. */
export interface ProviderScan {
  readonly entity: string;
  readonly providers: number;
  readonly members: number;
}

function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const line = (cells: ReadonlyArray<string | number>) =>
    `| ${cells.map((c) => String(c).replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * The operator's mismatch report (`owners-report.md`). It lists unmatched staff emails — the only
 * place they appear: never in logs, payloads or errors — so the operator can invite those users or
 * pick a fallback before loading.
 */
export function renderOwnersReport(
  owners: OwnersFile,
  scans: readonly OwnerColumnScan[],
  providers: readonly ProviderScan[] = [],
  fallbackOwnerEmail?: string,
): string {
  const out: string[] = [`# Owners — run ${owners.runId}`, ''];
  out.push(
    `Distinct owner emails: ${owners.matched + owners.unmatched} — matched to a workspace member: ${owners.matched}, unmatched: ${owners.unmatched}.`,
  );
  const fallback = normalizeEmail(fallbackOwnerEmail);
  if (fallback === '') out.push('No fallback owner was given: unmatched records are left unassigned.');
  else if (owners.fallbackOwner === null)
    out.push(
      `The fallback owner ${fallback} is not a workspace member: unmatched records are left unassigned.`,
    );
  else out.push(`Unmatched records are assigned to the fallback owner ${fallback}.`);
  out.push('', '## Per entity', '');
  out.push(
    table(
      [
        'entity',
        'object.column',
        'rows with owner',
        'emails',
        'matched',
        'unmatched',
        'rows on fallback',
        'rows unassigned',
      ],
      Object.entries(owners.entities).map(([entity, s]) => [
        entity,
        `${s.object}.${s.joinColumn}`,
        s.rowsWithOwner,
        s.distinctEmails,
        s.matched,
        s.unmatched,
        s.rowsOnFallback,
        s.rowsUnassigned,
      ]),
    ),
  );
  const unmatchedSet = new Set(owners.unmatchedEmails);
  const unmatchedRows: Array<[string, string, number]> = [];
  for (const scan of scans) {
    for (const [email, rows] of scan.emails)
      if (unmatchedSet.has(email)) unmatchedRows.push([email, scan.entity, rows]);
  }
  out.push('', '## Unmatched emails', '');
  if (unmatchedRows.length === 0) out.push('None: every owner email belongs to a workspace member.');
  else
    out.push(
      table(
        ['email', 'entity', 'rows'],
        unmatchedRows.sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1])),
      ),
    );
  if (providers.length > 0) {
    out.push('', '## Providers', '');
    out.push(
      table(
        ['entity', 'providers', 'workspace members', 'loaded as people flagged isProvider'],
        providers.map((p) => [p.entity, p.providers, p.members, p.providers - p.members]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}
