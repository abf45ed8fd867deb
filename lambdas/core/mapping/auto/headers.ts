/** Header words: normalization (abbreviations, run-together words) and the small word helpers the auto-mapper shares. */

export const ABBREVIATIONS: Record<string, string> = {
  pt: 'patient',
  pat: 'patient',
  nm: 'name',
  fname: 'first name',
  lname: 'last name',
  fn: 'first name',
  ln: 'last name',
  mi: 'middle name',
  dob: 'birth date',
  bdate: 'birth date',
  birthdate: 'birth date',
  birthday: 'birth date',
  st: 'state',
  zip: 'zip',
  zipcode: 'zip',
  postcode: 'zip',
  postal: 'zip',
  cd: 'code',
  ins: 'insurance',
  addr: 'address',
  addr1: 'address 1',
  addr2: 'address 2',
  address1: 'address 1',
  address2: 'address 2',
  ph: 'phone',
  tel: 'phone',
  telephone: 'phone',
  cell: 'mobile',
  cellphone: 'mobile',
  mob: 'mobile',
  mobile: 'mobile',
  dt: 'date',
  amt: 'amount',
  bal: 'balance',
  appt: 'appointment',
  prov: 'provider',
  no: 'number',
  num: 'number',
  nbr: 'number',
  '#': 'number',
  dr: 'doctor',
  desc: 'description',
  tx: 'treatment',
  proc: 'procedure',
  procs: 'procedures',
  org: 'organization',
  co: 'company',
  emailaddress: 'email',
  mail: 'mail',
  www: 'website',
  web: 'website',
  url: 'website',
  site: 'website',
  homepage: 'website',
  firstname: 'first name',
  lastname: 'last name',
  surname: 'last name',
  given: 'first',
  family: 'last',
  middlename: 'middle name',
  dx: 'diagnosis',
  svc: 'service',
  stat: 'status',
  yr: 'year',
  emp: 'employer',
  acct: 'account',
  acctno: 'account number',
  doc: 'doctor',
  docno: 'doctor number',
  tm: 'time',
  descript: 'description',
  tot: 'total',
  tran: 'transaction',
  rsn: 'reason',
  conf: 'confirmed',
  oper: 'operatory',
  op: 'operatory',
  seq: 'sequence',
  surf: 'surface',
  hyg: 'hygienist',
  resp: 'responsible',
  emerg: 'emergency',
  emer: 'emergency',
  apt: 'appointment',
  appts: 'appointments',
  comm: 'communication',
  commlog: 'communication log',
  dept: 'department',
  est: 'estimated',
  dos: 'service date',
  insco: 'insurance company',
  hphone: 'home phone',
  wphone: 'work phone',
  cphone: 'mobile phone',
  mphone: 'mobile phone',
  homephone: 'home phone',
  workphone: 'work phone',
  mobilephone: 'mobile phone',
  phonenumber: 'phone number',
  middlei: 'middle initial',
  datetime: 'date time',
  txplan: 'treatment plan',
  txitems: 'treatment items',
  patmast: 'patient master',
  patname: 'patient name',
  docname: 'doctor name',
  lic: 'license',
  spec: 'specialty',
  len: 'length',
  chg: 'charge',
  pmt: 'payment',
  ref: 'referral',
  mrn: 'medical record number',
  prac: 'practitioner',
  init: 'middle initial',
};

/**
 * Words a run-together header may be built of ("APPTSTARTDATETIME", "PATIENTID", "procedurelog"):
 * a token that is not a word itself is split into these when it can be covered entirely by them.
 */
export const COMPOUND_WORDS = new Set([
  'patient',
  'pat',
  'provider',
  'prov',
  'doctor',
  'doc',
  'appt',
  'apt',
  'appointment',
  'start',
  'end',
  'date',
  'time',
  'datetime',
  'status',
  'type',
  'id',
  'num',
  'no',
  'number',
  'name',
  'first',
  'last',
  'middle',
  'full',
  'home',
  'work',
  'mobile',
  'cell',
  'phone',
  'email',
  'address',
  'city',
  'state',
  'zip',
  'dob',
  'sex',
  'birth',
  'department',
  'dept',
  'schd',
  'sched',
  'scheduled',
  'duration',
  'note',
  'notes',
  'text',
  'section',
  'document',
  'encounter',
  'rendering',
  'primary',
  'billing',
  'service',
  'svc',
  'procedure',
  'proc',
  'log',
  'comm',
  'plan',
  'items',
  'item',
  'tx',
  'code',
  'fee',
  'amount',
  'amt',
  'total',
  'tot',
  'carrier',
  'clinic',
  'is',
  'hidden',
  'secondary',
  'new',
  'hygiene',
  'hyg',
  'tooth',
  'surf',
  'descript',
  'description',
  'pattern',
  'confirmed',
  'sent',
  'or',
  'received',
  'user',
  'mode',
  'elect',
  'send',
  'license',
  'national',
  'abbr',
  'preferred',
  'position',
  'commlog',
  'ssn',
  'chart',
  'account',
  'acct',
  'guarantor',
  'insurance',
  'payer',
  'case',
  'claim',
  'message',
  'body',
  'channel',
  'recipient',
  'delivery',
  'result',
  'reason',
  'operatory',
  'op',
  'length',
  'fname',
  'lname',
  'mi',
  'postal',
  'street',
  'country',
  'fax',
  'web',
  'site',
  'website',
  'npi',
  'username',
  'initial',
  'suffix',
  'specialty',
  'degree',
  'title',
  'mast',
  'master',
  'list',
  'report',
]);

export function segment(token: string): string[] | null {
  if (token.length < 5 || COMPOUND_WORDS.has(token) || !/^[a-z]+$/.test(token)) return null;
  // Fewest pieces covering the token, each a known word of two letters or more.
  const best: (string[] | null)[] = [[]];
  for (let end = 1; end <= token.length; end++) {
    best[end] = null;
    for (let start = Math.max(0, end - 12); start <= end - 2; start++) {
      const prev = best[start];
      const piece = token.slice(start, end);
      if (prev === null || prev === undefined || !COMPOUND_WORDS.has(piece)) continue;
      const next = [...prev, piece];
      const current = best[end];
      if (current === null || current === undefined || next.length < current.length) best[end] = next;
    }
  }
  const result = best[token.length];
  return result !== null && result !== undefined && result.length > 1 ? result : null;
}

/**
 * Normalizes a header into lower-case words with abbreviations expanded: "Pt First Nm" →
 * "patient first name", "E-Mail Addr" → "email address", "D.O.B." → "birth date",
 * "Mobile #" → "mobile number", "ZipCd" → "zip code".
 */
export function normalizeHeader(header: string): string {
  const spaced = header
    .replace(/#/g, ' # ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([a-zA-Z])(\d)/g, '$1 $2')
    .toLowerCase()
    .replace(/[^a-z0-9#]+/g, ' ')
    .trim();
  const raw = (spaced === '' ? [] : spaced.split(' ')).flatMap((t) =>
    ABBREVIATIONS[t] !== undefined ? [t] : (segment(t) ?? [t]),
  );
  const merged: string[] = [];
  let letters = '';
  for (const t of raw) {
    if (t.length === 1 && /[a-z]/.test(t)) {
      letters += t;
      continue;
    }
    if (letters !== '') merged.push(letters);
    letters = '';
    merged.push(t);
  }
  if (letters !== '') merged.push(letters);
  const joined: string[] = [];
  for (let i = 0; i < merged.length; i++) {
    const t = merged[i] ?? '';
    if (t === 'e' && merged[i + 1] === 'mail') {
      joined.push('email');
      i++;
    } else if ((t === 'l' || t === 'f') && merged[i + 1] === 'name') {
      joined.push(t === 'l' ? 'last name' : 'first name');
      i++;
    } else if (t === 'middle' && (merged[i + 1] === 'i' || merged[i + 1] === 'initial')) {
      joined.push('middle name');
      i++;
    } else if ((t === 'address' || t === 'street') && /^[12]$/.test(merged[i + 1] ?? '')) {
      joined.push(`address ${merged[i + 1]}`);
      i++;
    } else joined.push(ABBREVIATIONS[t] ?? t);
  }
  return joined
    .join(' ')
    .replace(/\bzip code\b/, 'zip')
    .replace(/\s+/g, ' ')
    .trim();
}

export function camel(words: readonly string[]): string {
  const clean = words.filter((w) => /^[a-z0-9]+$/.test(w));
  const s = clean.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
  const named = /^[a-z]/.test(s) ? s : `field${s.charAt(0).toUpperCase()}${s.slice(1)}`;
  return named.slice(0, 63);
}

export function singular(word: string): string {
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses') || word.endsWith('uses')) return word.slice(0, -2);
  if (word.endsWith('ss')) return word;
  return word.endsWith('s') ? word.slice(0, -1) : word;
}

/** Twenty refuses a metadata label longer than this (as it does a name): "label exceeds 63 characters". */
export const MAX_LABEL_LENGTH = 63;

/** A field label from header words, capped at Twenty's label length (a long header would stop ApplySchema). */
export function titleCase(words: readonly string[]): string {
  const s = words.join(' ');
  return (s.charAt(0).toUpperCase() + s.slice(1)).slice(0, MAX_LABEL_LENGTH).trimEnd();
}

export function similarity(normalized: string, synonym: string): number {
  if (normalized === synonym) return 1;
  const a = new Set(normalized.split(' '));
  const b = synonym.split(' ');
  const common = b.filter((t) => a.has(t)).length;
  if (common === b.length) return 0.85 - 0.05 * (a.size - b.length);
  return common === 0 ? 0 : (0.6 * common) / Math.max(a.size, b.length);
}
