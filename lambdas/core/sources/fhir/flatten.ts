/**
 * FHIR R4 resources → flat canonical rows, one column set per resource type, so a bulk export
 * goes through the same Segment chunks, mapping spec and validator as a CSV export. Only the
 * elements the default map reads are kept; extensions, narrative and anything unknown are
 * ignored (never an error). Choices follow the spec's own ranking rules: a HumanName with
 * `use: official` first, a ContactPoint by `rank` then `use`, the home address. References
 * (`Patient/123`, an absolute URL ending in `Patient/123`, `urn:uuid:123`) become the bare id
 * of the expected type; a reference to a `contained` resource is read from it (its name).
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string =>
  typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
const at = (o: unknown, ...path: string[]): unknown => {
  let v: unknown = o;
  for (const p of path) v = isObject(v) ? v[p] : undefined;
  return v;
};

/** Column names shared by every resource type. */
const COMMON = ['resourceType', 'id', 'meta.lastUpdated'] as const;

const ADDRESS = [
  'address.line1',
  'address.line2',
  'address.city',
  'address.state',
  'address.postalCode',
  'address.country',
];
const NAME = ['name.given', 'name.family', 'name.text'];

/** The columns a Claim and an ExplanationOfBenefit (its adjudicated form) both carry, read alike. */
const CLAIM_HEAD = ['status', 'use', 'type', 'patient', 'insurer', 'provider', 'created'];

/** The canonical columns of each resource type Ferry flattens (order is the chunk's column order). */
export const FHIR_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  Patient: [
    ...COMMON,
    'identifier',
    'identifier.others',
    ...NAME,
    'telecom.phone',
    'telecom.phone2',
    'telecom.email',
    ...ADDRESS,
    'birthDate',
    'birthDate.partial',
    'gender',
    'managingOrganization',
    'generalPractitioner',
  ],
  Organization: [
    ...COMMON,
    'identifier',
    'name',
    'telecom.phone',
    'telecom.email',
    'telecom.url',
    ...ADDRESS,
    'partOf',
  ],
  Practitioner: [...COMMON, 'identifier', ...NAME, 'telecom.email', 'telecom.phone', 'qualification'],
  PractitionerRole: [...COMMON, 'practitioner', 'organization', 'specialty'],
  Coverage: [
    ...COMMON,
    'status',
    'type',
    'subscriberId',
    'beneficiary',
    'payor',
    'payor.name',
    'relationship',
    'period.start',
    'period.end',
  ],
  Encounter: [
    ...COMMON,
    'status',
    'class',
    'type',
    'subject',
    'practitioner',
    'serviceProvider',
    'period.start',
    'period.end',
    'reason',
  ],
  Appointment: [
    ...COMMON,
    'status',
    'serviceType',
    'description',
    'start',
    'end',
    'patient',
    'practitioner',
    /** The practitioner's email, joined in by Segment from the Practitioner file (owner matching). */
    'practitioner.email',
    'comment',
  ],
  Claim: [...COMMON, ...CLAIM_HEAD, 'total.value', 'total.currency', 'coverage'],
  ExplanationOfBenefit: [
    ...COMMON,
    ...CLAIM_HEAD,
    'outcome',
    'total.value',
    'total.currency',
    'payment.value',
    'claim',
  ],
  DocumentReference: [
    ...COMMON,
    'status',
    'type',
    'description',
    'date',
    'subject',
    'author',
    'attachment.title',
    'attachment.contentType',
    'attachment.path',
    'attachment.inline',
    'attachment.size',
  ],
};

/** Columns of a resource type Ferry has no map for: its rows are counted and skipped, never read. */
export const UNKNOWN_TYPE_COLUMNS: readonly string[] = COMMON;

/** The canonical header of a resource type. */
export function columnsOf(type: string): readonly string[] {
  return FHIR_COLUMNS[type] ?? UNKNOWN_TYPE_COLUMNS;
}

/**
 * The id a reference points at when it names a resource of `type`; '' otherwise (another type, a
 * logical identifier only, a contained `#ref`). `_history` versions are dropped.
 */
export function referenceId(ref: unknown, type: string): string {
  const r = str(at(ref, 'reference'));
  if (r === '' || r.startsWith('#')) return '';
  if (r.startsWith('urn:uuid:')) {
    const refType = str(at(ref, 'type'));
    return refType === '' || refType === type ? r.slice('urn:uuid:'.length) : '';
  }
  const parts = r
    .replace(/\/_history\/[^/]+$/, '')
    .split('/')
    .filter((p) => p !== '');
  const id = parts.at(-1) ?? '';
  const refType = parts.at(-2) ?? '';
  return refType === type ? id : '';
}

/** A contained resource a `#id` reference points at. */
function containedOf(resource: Json, ref: unknown): Json | undefined {
  const r = str(at(ref, 'reference'));
  if (!r.startsWith('#')) return undefined;
  return list(resource.contained).find((c) => str(c.id) === r.slice(1));
}

/** The first reference of `refs` naming a `type` resource. */
function firstOfType(refs: readonly unknown[], type: string): string {
  for (const ref of refs) {
    const id = referenceId(ref, type);
    if (id !== '') return id;
  }
  return '';
}

/** Text of a CodeableConcept: its `text`, else the first coding's display, else its code. */
export function conceptText(concept: unknown): string {
  const c = Array.isArray(concept) ? concept[0] : concept;
  const text = str(at(c, 'text'));
  if (text !== '') return text;
  for (const coding of list(at(c, 'coding'))) {
    const display = str(coding.display) || str(coding.code);
    if (display !== '') return display;
  }
  return '';
}

/** Whether an element's `period` has ended (an old name, address or phone). */
function ended(element: Json): boolean {
  const end = str(at(element, 'period', 'end'));
  return end !== '' && end < new Date().toISOString().slice(0, 10);
}

const NAME_USE_ORDER = ['official', 'usual', '', 'nickname', 'temp', 'anonymous', 'maiden', 'old'];

/** The name to keep: `use: official` first, then usual, unlabelled…; old and ended names last. */
function bestName(names: Json[]): Json | undefined {
  const score = (n: Json): number => {
    const use = NAME_USE_ORDER.indexOf(str(n.use));
    return (use < 0 ? NAME_USE_ORDER.length : use) + (ended(n) ? 100 : 0);
  };
  return [...names].sort((a, b) => score(a) - score(b))[0];
}

function nameCells(name: Json | undefined): Record<string, string> {
  const given = Array.isArray(name?.given) ? (name.given as unknown[]).map(str).filter((g) => g !== '') : [];
  return {
    'name.given': given.join(' '),
    'name.family': str(name?.family),
    'name.text': str(name?.text),
  };
}

const PHONE_USE_ORDER = ['mobile', 'home', 'work', '', 'temp', 'old'];

/** ContactPoints of one system, best first: `rank` (1 = preferred), then use (mobile, home, work…), ended last. */
export function contactsBySystem(telecom: unknown, system: string): string[] {
  const points = list(telecom).filter((t) => str(t.system) === system && str(t.value) !== '');
  const rank = (t: Json): number => (typeof t.rank === 'number' && t.rank > 0 ? t.rank : 1_000);
  const use = (t: Json): number => {
    const i = PHONE_USE_ORDER.indexOf(str(t.use));
    return i < 0 ? PHONE_USE_ORDER.length : i;
  };
  return points
    .map((t, i) => ({ t, i }))
    .sort(
      (a, b) =>
        Number(ended(a.t)) - Number(ended(b.t)) || rank(a.t) - rank(b.t) || use(a.t) - use(b.t) || a.i - b.i,
    )
    .map(({ t }) => str(t.value));
}

/** The address to keep: home (or unlabelled) before work, billing, temp; old and ended ones last. */
function addressCells(addresses: unknown): Record<string, string> {
  const order = ['home', '', 'work', 'billing', 'temp', 'old'];
  const score = (a: Json): number => {
    const i = order.indexOf(str(a.use));
    return (i < 0 ? order.length : i) + (ended(a) ? 100 : 0);
  };
  const address = [...list(addresses)].sort((a, b) => score(a) - score(b))[0];
  const lines = Array.isArray(address?.line)
    ? (address.line as unknown[]).map(str).filter((l) => l !== '')
    : [];
  return {
    'address.line1': lines[0] ?? '',
    'address.line2': lines.slice(1).join(', '),
    'address.city': str(address?.city),
    'address.state': str(address?.state),
    'address.postalCode': str(address?.postalCode),
    'address.country': str(address?.country),
  };
}

/**
 * Social security numbers are never migrated: an identifier with the SSA's system, type code SS,
 * or a system naming an SSN is dropped before anything reads the identifiers.
 */
export function isSsnIdentifier(identifier: Json): boolean {
  const system = str(identifier.system).toLowerCase();
  if (system.includes('us-ssn') || system === 'urn:oid:2.16.840.1.113883.4.1' || /\bssn\b/.test(system))
    return true;
  return list(at(identifier, 'type', 'coding')).some((c) => str(c.code) === 'SS' || str(c.code) === 'SB');
}

/**
 * The identifier to keep as the record's business id (the medical record number, `type` MR, else
 * an `official`/`usual` one, else the first) and the rest as `system|value` pairs — SSNs left out.
 */
function identifierCells(identifiers: unknown): Record<string, string> {
  const all = list(identifiers).filter((i) => str(i.value) !== '' && !isSsnIdentifier(i));
  const isMr = (i: Json): boolean => list(at(i, 'type', 'coding')).some((c) => str(c.code) === 'MR');
  const main =
    all.find(isMr) ??
    all.find((i) => str(i.use) === 'official') ??
    all.find((i) => str(i.use) === 'usual') ??
    all[0];
  return {
    identifier: str(main?.value),
    'identifier.others': all
      .filter((i) => i !== main)
      .map((i) => (str(i.system) === '' ? str(i.value) : `${str(i.system)}|${str(i.value)}`))
      .join('; '),
  };
}

/**
 * A relative attachment `url` as a path inside the drop folder (`..` and leading `/` dropped, so
 * it can never leave the folder); '' for an absolute URL (`https:`, `file:`…), which Ferry does not
 * fetch — the row is then refused MISSING_FILE.
 */
export function folderPath(url: string): string {
  if (url === '' || /^[a-z][a-z0-9+.-]*:/i.test(url)) return '';
  let decoded = url;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    decoded = url;
  }
  return (decoded.split(/[?#]/, 1)[0] ?? '')
    .replaceAll('\\', '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.' && s !== '..')
    .join('/');
}

function money(value: unknown, prefix: string): Record<string, string> {
  return { [`${prefix}.value`]: str(at(value, 'value')), [`${prefix}.currency`]: str(at(value, 'currency')) };
}

/**
 * FHIR's `date` type allows a year (`1980`) or a year and month (`1980-05`). Twenty's DATE needs a
 * day, and inventing one would load a wrong value, so a partial birth date leaves the date empty and
 * is kept as written in its own text column; a full date (or anything else, which the date rule
 * then judges) stays in `birthDate`.
 */
function birthDateCells(value: string): { birthDate: string; 'birthDate.partial': string } {
  const v = value.trim();
  return /^\d{4}(-(0[1-9]|1[0-2]))?$/.test(v)
    ? { birthDate: '', 'birthDate.partial': v }
    : { birthDate: value, 'birthDate.partial': '' };
}

/** The {@link CLAIM_HEAD} cells of a Claim or an ExplanationOfBenefit. */
function claimHeadCells(r: Json): Record<string, string> {
  return {
    status: str(r.status),
    use: str(r.use),
    type: conceptText(r.type),
    patient: referenceId(r.patient, 'Patient'),
    insurer: referenceId(r.insurer, 'Organization'),
    provider: referenceId(r.provider, 'Practitioner') || referenceId(r.provider, 'Organization'),
    created: str(r.created),
  };
}

const FLATTENERS: Readonly<Record<string, (r: Json) => Record<string, string>>> = {
  Patient: (r) => ({
    ...identifierCells(r.identifier),
    ...nameCells(bestName(list(r.name))),
    'telecom.phone': contactsBySystem(r.telecom, 'phone')[0] ?? '',
    'telecom.phone2': contactsBySystem(r.telecom, 'phone')[1] ?? '',
    'telecom.email': contactsBySystem(r.telecom, 'email')[0] ?? '',
    ...addressCells(r.address),
    ...birthDateCells(str(r.birthDate)),
    gender: str(r.gender),
    managingOrganization: referenceId(r.managingOrganization, 'Organization'),
    generalPractitioner: firstOfType(list(r.generalPractitioner), 'Practitioner'),
  }),
  Organization: (r) => ({
    identifier: identifierCells(r.identifier).identifier ?? '',
    name: str(r.name),
    'telecom.phone': contactsBySystem(r.telecom, 'phone')[0] ?? '',
    'telecom.email': contactsBySystem(r.telecom, 'email')[0] ?? '',
    'telecom.url': contactsBySystem(r.telecom, 'url')[0] ?? '',
    ...addressCells(r.address),
    partOf: referenceId(r.partOf, 'Organization'),
  }),
  Practitioner: (r) => ({
    identifier: identifierCells(r.identifier).identifier ?? '',
    ...nameCells(bestName(list(r.name))),
    'telecom.email': contactsBySystem(r.telecom, 'email')[0] ?? '',
    'telecom.phone': contactsBySystem(r.telecom, 'phone')[0] ?? '',
    qualification: list(r.qualification)
      .map((q) => conceptText(q.code))
      .filter((q) => q !== '')
      .join(', '),
  }),
  PractitionerRole: (r) => ({
    practitioner: referenceId(r.practitioner, 'Practitioner'),
    organization: referenceId(r.organization, 'Organization'),
    specialty: conceptText(r.specialty),
  }),
  Coverage: (r) => {
    const payors = list(r.payor);
    const payorId = firstOfType(payors, 'Organization');
    const contained = payors.map((p) => containedOf(r, p)).find((c) => c !== undefined);
    return {
      status: str(r.status),
      type: conceptText(r.type),
      subscriberId: str(r.subscriberId),
      beneficiary: referenceId(r.beneficiary, 'Patient'),
      payor: payorId,
      'payor.name': str(contained?.name) || str(payors[0]?.display),
      relationship: conceptText(r.relationship),
      'period.start': str(at(r, 'period', 'start')),
      'period.end': str(at(r, 'period', 'end')),
    };
  },
  Encounter: (r) => ({
    status: str(r.status),
    class: str(at(r, 'class', 'display')) || str(at(r, 'class', 'code')),
    type: conceptText(r.type),
    subject: referenceId(r.subject, 'Patient'),
    practitioner: firstOfType(
      list(r.participant).map((p) => p.individual),
      'Practitioner',
    ),
    serviceProvider: referenceId(r.serviceProvider, 'Organization'),
    'period.start': str(at(r, 'period', 'start')),
    'period.end': str(at(r, 'period', 'end')),
    reason: conceptText(r.reasonCode),
  }),
  Appointment: (r) => {
    const actors = list(r.participant).map((p) => p.actor);
    return {
      status: str(r.status),
      serviceType: conceptText(r.serviceType),
      description: str(r.description),
      start: str(r.start),
      end: str(r.end),
      patient: firstOfType(actors, 'Patient'),
      practitioner: firstOfType(actors, 'Practitioner'),
      comment: str(r.comment),
    };
  },
  Claim: (r) => ({
    ...claimHeadCells(r),
    ...money(r.total, 'total'),
    coverage: firstOfType(
      list(r.insurance).map((i) => i.coverage),
      'Coverage',
    ),
  }),
  ExplanationOfBenefit: (r) => {
    const totals = list(r.total);
    const submitted =
      totals.find((t) => list(at(t, 'category', 'coding')).some((c) => str(c.code) === 'submitted')) ??
      totals[0];
    return {
      ...claimHeadCells(r),
      outcome: str(r.outcome),
      ...money(submitted?.amount, 'total'),
      'payment.value': str(at(r, 'payment', 'amount', 'value')),
      claim: referenceId(r.claim, 'Claim'),
    };
  },
  DocumentReference: (r) => {
    // Several `content` entries are representations of one document (FHIR R4): the first that
    // carries its bytes inline is kept, else the first with a url, else the first.
    const attachments = list(r.content)
      .map((c) => c.attachment)
      .filter(isObject);
    const attachment =
      attachments.find((a) => typeof a.data === 'string' && a.data !== '') ??
      attachments.find((a) => str(a.url) !== '') ??
      attachments[0];
    return {
      status: str(r.status),
      type: conceptText(r.type),
      description: str(r.description),
      date: str(r.date),
      subject: referenceId(r.subject, 'Patient'),
      author: firstOfType(list(r.author), 'Practitioner'),
      'attachment.title': str(attachment?.title),
      'attachment.contentType': str(attachment?.contentType),
      'attachment.path': folderPath(str(attachment?.url)),
      'attachment.inline': typeof attachment?.data === 'string' ? attachment.data.replace(/\s+/g, '') : '',
    };
  },
};

/**
 * One resource as its type's canonical cells (every column present, '' when absent). The caller
 * has checked `resource.resourceType === type`.
 */
export function flattenResource(type: string, resource: Json): Record<string, string> {
  const cells: Record<string, string> = {
    resourceType: type,
    id: str(resource.id),
    'meta.lastUpdated': str(at(resource, 'meta', 'lastUpdated')),
    ...(FLATTENERS[type]?.(resource) ?? {}),
  };
  const out: Record<string, string> = {};
  for (const column of columnsOf(type)) out[column] = cells[column] ?? '';
  return out;
}
