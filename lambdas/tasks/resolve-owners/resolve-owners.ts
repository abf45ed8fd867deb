import { NotFoundError } from '../../core/errors.ts';
import type { ChunkManifest } from '../../core/inventory/manifest.ts';
import type { Plan } from '../../core/inventory/plan.ts';
import { memberEmailsAmong, renderOwnersReport, resolveOwners } from '../../core/owners/resolve.ts';
import {
  ownerWorkOf,
  readsChunks,
  scanMemberSkipping,
  scanOwnerColumns,
  scanProviders,
} from '../../core/owners/scan.ts';
import { ownersKeyFor, ownersReportKeyFor } from '../../core/run-layout.ts';
import { readManifest, readRunMapping, readRunPlan } from '../../core/schema/run-inputs.ts';
import type { TaskDeps } from '../deps.ts';
import type { ResolveOwnersInput, ResolveOwnersOutput } from './schema.ts';

// The column scans live in lambdas/core/owners/scan.ts; this name stays exported here.
export { PROVIDER_FLAG_FIELD } from '../../core/owners/scan.ts';

/**
 * The fallback owner's email: the explicit input, else the operator's option in plan.json (`options`,
 * written by Inventory) — it travels there so the staff email stays out of the execution history.
 */
function fallbackOwnerOf(input: ResolveOwnersInput, plan: Plan): string | undefined {
  const planOptions = (plan as { options?: { fallbackOwnerEmail?: unknown } }).options;
  return (
    input.fallbackOwnerEmail ??
    (typeof planOptions?.fallbackOwnerEmail === 'string' ? planOptions.fallbackOwnerEmail : undefined)
  );
}

/**
 * The ResolveOwners stage: for every entity whose mapping names an `owner` column, collects the
 * distinct normalized staff emails from the Segment chunks, matches them to workspace members, applies
 * the fallback owner to the rest, and writes `owners.json` (email → member id, read by Prepare) and
 * the mismatch report `owners-report.md`. Entities flagged as providers (an `isProvider` field on
 * people) are counted in the report: providers who are not members are loaded as flagged people.
 * For entities with `skipIfMember`, the column's emails that belong to a member are listed in
 * owners.json (`memberEmails`), so Prepare skips those rows instead of loading members as people.
 * Emails go to those two files only; the output is counts.
 */
export async function resolveOwnersStage(
  input: ResolveOwnersInput,
  deps: TaskDeps,
): Promise<ResolveOwnersOutput> {
  const { runId, planKey } = input;
  const plan = await readRunPlan(deps.work, runId, planKey);
  const fallbackOwnerEmail = fallbackOwnerOf(input, plan);
  const mapping = await readRunMapping(deps.work, runId, plan);
  const work = ownerWorkOf(mapping);
  let manifest: ChunkManifest | null = null;
  if (readsChunks(work)) {
    manifest = (await readManifest(deps.work, runId)) ?? null;
    if (manifest === null)
      throw new NotFoundError(`run ${runId} has no chunk manifest: ResolveOwners runs after Segment`);
  }
  const source = { store: deps.work, plan, manifest };

  const scans = await scanOwnerColumns(source, work.owned);
  const twenty = await deps.twenty();
  const members = await twenty.members();
  const owners = resolveOwners(runId, scans, members, fallbackOwnerEmail);
  // Staff rows that are workspace members (skipIfMember): Prepare skips them as MATCHED_MEMBER.
  owners.memberEmails = memberEmailsAmong(await scanMemberSkipping(source, work.memberSkipping), members);
  const providers = await scanProviders(source, work.providers, members);

  const ownersKey = ownersKeyFor(runId);
  const reportKey = ownersReportKeyFor(runId);
  await deps.work.put(ownersKey, `${JSON.stringify(owners, null, 2)}\n`, 'application/json');
  await deps.work.put(
    reportKey,
    renderOwnersReport(owners, scans, providers, fallbackOwnerEmail),
    'text/markdown; charset=utf-8',
  );
  for (const warning of owners.warnings) deps.log.warn('owner resolution warning', { runId, code: warning });
  deps.log.info('owners resolved', {
    runId,
    entities: scans.length,
    matched: owners.matched,
    unmatched: owners.unmatched,
    fallbackUsed: owners.fallbackUsed,
    members: members.length,
  });
  return {
    runId,
    ownersKey,
    reportKey,
    entities: scans.length,
    distinctEmails: owners.matched + owners.unmatched,
    matched: owners.matched,
    unmatched: owners.unmatched,
    fallbackUsed: owners.fallbackUsed,
    fallbackOwnerFound: owners.fallbackOwner !== null,
  };
}
