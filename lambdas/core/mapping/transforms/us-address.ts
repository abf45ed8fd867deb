import type { WarningCode } from '../../validation/codes.ts';
import { BLANK, ok, type TransformResult } from './result.ts';

const STATES: Record<string, string> = {
  alabama: 'AL',
  alaska: 'AK',
  arizona: 'AZ',
  arkansas: 'AR',
  california: 'CA',
  colorado: 'CO',
  connecticut: 'CT',
  delaware: 'DE',
  'district of columbia': 'DC',
  florida: 'FL',
  georgia: 'GA',
  hawaii: 'HI',
  idaho: 'ID',
  illinois: 'IL',
  indiana: 'IN',
  iowa: 'IA',
  kansas: 'KS',
  kentucky: 'KY',
  louisiana: 'LA',
  maine: 'ME',
  maryland: 'MD',
  massachusetts: 'MA',
  michigan: 'MI',
  minnesota: 'MN',
  mississippi: 'MS',
  missouri: 'MO',
  montana: 'MT',
  nebraska: 'NE',
  nevada: 'NV',
  'new hampshire': 'NH',
  'new jersey': 'NJ',
  'new mexico': 'NM',
  'new york': 'NY',
  'north carolina': 'NC',
  'north dakota': 'ND',
  ohio: 'OH',
  oklahoma: 'OK',
  oregon: 'OR',
  pennsylvania: 'PA',
  'rhode island': 'RI',
  'south carolina': 'SC',
  'south dakota': 'SD',
  tennessee: 'TN',
  texas: 'TX',
  utah: 'UT',
  vermont: 'VT',
  virginia: 'VA',
  washington: 'WA',
  'west virginia': 'WV',
  wisconsin: 'WI',
  wyoming: 'WY',
  'puerto rico': 'PR',
  guam: 'GU',
  'virgin islands': 'VI',
  'american samoa': 'AS',
  'northern mariana islands': 'MP',
  'washington dc': 'DC',
  'washington d.c.': 'DC',
};
const CODES = new Set(Object.values(STATES));
const ABBREVIATIONS: Record<string, string> = {
  'n.y.': 'NY',
  calif: 'CA',
  'calif.': 'CA',
  penn: 'PA',
  mass: 'MA',
  'd.c.': 'DC',
};

/**
 * US state → 2-letter USPS code from names, codes or common abbreviations. Unknown values are
 * kept as written (Twenty's addressState is free text) with a STATE_UNRECOGNIZED warning.
 */
export function usState(raw: string): TransformResult<string | null> {
  const value = raw.trim();
  if (value === '') return BLANK;
  const upper = value.toUpperCase();
  if (upper.length === 2 && CODES.has(upper)) return ok(upper);
  const lower = value.toLowerCase().replace(/\s+/g, ' ');
  const code = STATES[lower] ?? ABBREVIATIONS[lower];
  if (code !== undefined) return ok(code);
  return ok(value, ['STATE_UNRECOGNIZED']);
}

const ZIP5 = /^\d{5}$/;
const ZIP9 = /^(\d{5})[- ]?(\d{4})$/;

/**
 * US ZIP codes, restoring the leading zeros spreadsheets strip (4 digits → `0xxxx`, 8 digits →
 * `0xxxx-xxxx`, warning ZIP_RESTORED). Anything else is kept as written with ZIP_UNRECOGNIZED:
 * a foreign postcode is not an error.
 */
export function zip(raw: string): TransformResult<string | null> {
  const value = raw.trim();
  if (value === '') return BLANK;
  if (ZIP5.test(value)) return ok(value);
  const m9 = ZIP9.exec(value);
  if (m9 !== null) return ok(`${m9[1]}-${m9[2]}`);
  if (/^\d{1,4}$/.test(value)) return ok(value.padStart(5, '0'), ['ZIP_RESTORED']);
  if (/^\d{6,8}$/.test(value)) {
    const nine = value.padStart(9, '0');
    return ok(`${nine.slice(0, 5)}-${nine.slice(5)}`, ['ZIP_RESTORED']);
  }
  return ok(value, ['ZIP_UNRECOGNIZED']);
}

/** Twenty's ADDRESS composite (lat/lng are left for Twenty to fill). */
export interface Address {
  addressStreet1: string;
  addressStreet2: string;
  addressCity: string;
  addressState: string;
  addressPostcode: string;
  addressCountry: string;
}

/** Source column roles of an address, as named in a mapping's `from` map. */
export interface AddressParts {
  street1?: string;
  street2?: string;
  city?: string;
  state?: string;
  postcode?: string;
  country?: string;
}

const US_NAMES = new Set([
  'us',
  'usa',
  'u.s.',
  'u.s.a.',
  'united states',
  'united states of america',
  'america',
]);

/**
 * ADDRESS from its part cells. For US addresses (country blank or a US spelling, when the
 * default country is US) the state and ZIP are normalized and the country spelled out as
 * Twenty's UI does ("United States").
 */
export function address(parts: AddressParts, defaultCountry: string): TransformResult<Address | null> {
  const street1 = parts.street1?.trim() ?? '';
  const street2 = parts.street2?.trim() ?? '';
  const city = parts.city?.trim() ?? '';
  const stateRaw = parts.state ?? '';
  const postRaw = parts.postcode ?? '';
  let country = parts.country?.trim() ?? '';
  if (
    street1 === '' &&
    street2 === '' &&
    city === '' &&
    stateRaw.trim() === '' &&
    postRaw.trim() === '' &&
    country === ''
  )
    return BLANK;
  const isUs = country === '' ? defaultCountry === 'US' : US_NAMES.has(country.toLowerCase());
  let warnings: WarningCode[] | undefined;
  let state = stateRaw.trim();
  let postcode = postRaw.trim();
  if (isUs) {
    country = 'United States';
    const s = usState(stateRaw);
    if (s.ok) {
      state = s.value ?? '';
      if (s.warnings) warnings = [...(warnings ?? []), ...s.warnings];
    }
    const z = zip(postRaw);
    if (z.ok) {
      postcode = z.value ?? '';
      if (z.warnings) warnings = [...(warnings ?? []), ...z.warnings];
    }
  }
  return ok(
    {
      addressStreet1: street1,
      addressStreet2: street2,
      addressCity: city,
      addressState: state,
      addressPostcode: postcode,
      addressCountry: country,
    },
    warnings,
  );
}
