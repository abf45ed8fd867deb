import { MATCHED_MEMBER } from '../../lambdas/core/owners/resolve.ts';
import type { EntityWriter } from './entity-writer.ts';
import type { Random } from './random.ts';
import {
  CREDENTIALS,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  MIDDLE_INITIALS,
  NOTE_PHRASES,
  PLACES,
  type Place,
  SPECIALTIES,
  STREET_NAMES,
  STREET_SUFFIXES,
} from './vocab.ts';

/** The fixed "today" of every generated export, so relative dates never depend on the clock. */
export const AS_OF = Date.UTC(2025, 5, 1);
const DAY_MS = 86_400_000;

export interface Household {
  readonly lastName: string;
  readonly street: string;
  readonly place: Place;
  readonly homePhone: string;
  /** Set when the household shares one email address across its members. */
  readonly sharedEmail: string | null;
}

export interface Patient {
  readonly index: number;
  readonly firstName: string;
  readonly middleInitial: string;
  readonly lastName: string;
  readonly birth: number;
  readonly email: string;
  readonly cellPhone: string;
  readonly household: Household;
  readonly created: number;
  readonly modified: number;
}

export interface Provider {
  readonly id: string;
  readonly firstName: string;
  readonly lastName: string;
  /** As the source system spells it (may differ in case/whitespace from the member email). */
  readonly sourceEmail: string;
  readonly specialty: string;
  readonly credentials: string;
  /** Whether a Twenty workspace member with this (normalized) email exists. */
  readonly isMember: boolean;
}

export interface WorkspaceMember {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
}

/** A fictional US number in the 555-01xx range, formatted as front desks type them. */
export function phone(rng: Random, area: string): string {
  const line = `01${String(rng.int(0, 99)).padStart(2, '0')}`;
  return rng.weighted([
    [`(${area}) 555-${line}`, 5],
    [`${area}-555-${line}`, 3],
    [`${area}.555.${line}`, 1],
  ]);
}

function ascii(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

export function emailFor(rng: Random, first: string, last: string, n: number): string {
  const local = rng.weighted([
    [`${ascii(first)}.${ascii(last)}${n}`, 3],
    [`${ascii(first)[0] ?? 'x'}${ascii(last)}${n}`, 2],
  ]);
  return `${local}@${rng.pick(EMAIL_DOMAINS)}`;
}

/** Builds households of 1–5 people sharing a last name, address and home phone; some share an email. */
export class PatientFactory {
  readonly #rng: Random;
  #household: Household | null = null;
  #remaining = 0;
  #count = 0;

  constructor(rng: Random) {
    this.#rng = rng;
  }

  next(): Patient {
    const rng = this.#rng;
    const index = this.#count++;
    let firstInHousehold = false;
    if (this.#household === null || this.#remaining === 0) {
      const size = rng.weighted([
        [1, 50],
        [2, 25],
        [3, 12],
        [4, 10],
        [5, 3],
      ] as const);
      const last = rng.pick(LAST_NAMES);
      const place = rng.pick(PLACES);
      const sharesEmail = size > 1 && rng.chance(0.35);
      this.#household = {
        lastName: last,
        street: `${rng.int(1, 9899)} ${rng.pick(STREET_NAMES)} ${rng.pick(STREET_SUFFIXES)}`,
        place,
        homePhone: phone(rng, place.area),
        sharedEmail: sharesEmail
          ? `${ascii(last) || 'family'}.family${index}@${rng.pick(EMAIL_DOMAINS)}`
          : null,
      };
      this.#remaining = size;
      firstInHousehold = true;
    }
    this.#remaining--;
    const household = this.#household;
    const firstName = rng.pick(FIRST_NAMES);
    const adult = firstInHousehold || rng.chance(0.4);
    const ageYears = adult ? rng.int(19, 88) : rng.int(1, 17);
    const birth = AS_OF - ageYears * 365.25 * DAY_MS - rng.int(0, 364) * DAY_MS;
    const birthDay = Math.floor(birth / DAY_MS) * DAY_MS;
    let email = household.sharedEmail ?? emailFor(rng, firstName, household.lastName, index);
    // Front desks retype shared addresses: same mailbox, different case.
    if (household.sharedEmail && !firstInHousehold && rng.chance(0.3)) email = email.toUpperCase();
    const created = AS_OF - rng.int(30, 3650) * DAY_MS - rng.int(0, 86_399) * 1000;
    const modified = Math.min(AS_OF - 1000, created + rng.int(0, 900) * DAY_MS + rng.int(0, 86_399) * 1000);
    return {
      index,
      firstName,
      middleInitial: rng.chance(0.4) ? rng.pick(MIDDLE_INITIALS) : '',
      lastName: household.lastName,
      birth: birthDay,
      email: rng.chance(0.08) ? '' : email,
      cellPhone: rng.chance(0.85) ? phone(rng, household.place.area) : '',
      household,
      created,
      modified,
    };
  }
}

/**
 * A handful of providers: about two thirds are workspace members, whose source email differs
 * from the member email only by case and surrounding whitespace (what owner resolution must
 * normalize); the rest match nobody and fall back.
 */
export function makeProviders(
  rng: Random,
  count: number,
  idPrefix: string,
): { providers: Provider[]; members: WorkspaceMember[] } {
  const providers: Provider[] = [];
  const members: WorkspaceMember[] = [];
  for (let i = 0; i < count; i++) {
    const firstName = rng.pick(FIRST_NAMES);
    const lastName = rng.pick(LAST_NAMES);
    const email = `${ascii(firstName)}.${ascii(lastName)}.${i + 1}@example.org`;
    const isMember = i % 3 !== 2;
    const sourceEmail = isMember
      ? rng.weighted([
          [email, 2],
          [email.replace(/^./, (c) => c.toUpperCase()).replace('@example.org', '@Example.org'), 2],
          [` ${email.toUpperCase()} `, 1],
        ])
      : `${ascii(firstName)[0] ?? 'd'}${ascii(lastName)}.dr${i + 1}@example.net`;
    providers.push({
      id: `${idPrefix}${String(i + 1).padStart(3, '0')}`,
      firstName,
      lastName,
      sourceEmail,
      specialty: rng.pick(SPECIALTIES),
      credentials: rng.pick(CREDENTIALS),
      isMember,
    });
    if (isMember) members.push({ email, firstName, lastName });
  }
  return { providers, members };
}

/**
 * Writes one provider row. A provider who is a workspace member (its source email equals a member
 * email up to case and surrounding whitespace, as owner resolution normalizes) is skipped as
 * MATCHED_MEMBER — the profiles' `skipIfMember` — so only the others load as people.
 */
export function writeProvider(writer: EntityWriter, provider: Provider, row: Record<string, string>): void {
  if (provider.isMember) writer.writeSkipped(row, MATCHED_MEMBER);
  else writer.write(row, null);
}

/** A note body of 1–4 sentences joined by line breaks; always includes some punctuation. */
export function noteText(rng: Random): string {
  const n = rng.int(1, 4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(rng.pick(NOTE_PHRASES));
  return parts.join(rng.chance(0.5) ? '\n' : '\r\n');
}

/** A UTC instant a given number of days from AS_OF, at a plausible clinic hour. */
export function clinicTime(rng: Random, dayOffset: number): number {
  return AS_OF + dayOffset * DAY_MS + (rng.int(8, 17) * 60 + rng.pick([0, 15, 30, 45])) * 60_000;
}

export function daysAgo(rng: Random, min: number, max: number): number {
  return AS_OF - rng.int(min, max) * DAY_MS;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `MM/DD/YYYY`, as US practice software prints dates. */
export function mdy(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()}`;
}

/** `YYYY-MM-DD`. */
export function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `MM/DD/YYYY HH:mm:ss`. */
export function mdyTime(ms: number): string {
  const d = new Date(ms);
  return `${mdy(ms)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `YYYY-MM-DD HH:mm:ss`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** `$1,234.50`. */
export function dollars(amount: number): string {
  const [whole, cents] = amount.toFixed(2).split('.') as [string, string];
  return `$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}
