/**
 * Built-in word lists for synthetic records. Small on purpose: the generator must never need
 * (or resemble) real patient data. Names mix accents and non-Latin scripts so every stage is
 * exercised with Unicode; phone numbers stay in the fictional 555-01xx range; emails use the
 * reserved example.* domains.
 */
export const FIRST_NAMES = [
  'Ana',
  'Ben',
  'Chloé',
  'Dmitri',
  'Elena',
  'Farid',
  'Grace',
  'Hiro',
  'Inés',
  'Jamal',
  'Kai',
  'Lena',
  'Mateo',
  'Nadia',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sven',
  'Tariq',
  'Uma',
  'Víctor',
  'Wen',
  'Ximena',
  'Yusuf',
  'Zoë',
  'Amélie',
  'Björn',
  'Céline',
  'Dara',
  'Emeka',
  'Freya',
  'Gustavo',
  'Hana',
  'Ivan',
  'Jonah',
  'Keiko',
  'Liam',
  'Maya',
  'Noor',
  'Olu',
  'Paulo',
  'Renée',
  'Sofía',
  'Thanh',
  'Ulla',
  'Vera',
  'Will',
] as const;

export const LAST_NAMES = [
  'Abbott',
  'Brennan',
  'Castillo',
  'Dubois',
  'Eriksen',
  'Fontaine',
  'García',
  'Haddad',
  'Ibarra',
  'Jovanović',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Quintero',
  'Rossi',
  'Schäfer',
  'Tanaka',
  'Umarov',
  'Valdés',
  'Whitfield',
  'Xu',
  'Yilmaz',
  'Zieliński',
  "O'Connor",
  'Nguyễn',
  'Müller',
  'Søndergaard',
  'de la Cruz',
  'Van Dyke',
  'MacLeod',
  'Ashby',
  'Bramwell',
  'Colquitt',
] as const;

export const MIDDLE_INITIALS = ['A', 'B', 'C', 'D', 'E', 'J', 'K', 'L', 'M', 'R', 'S', 'T'] as const;

export const STREET_NAMES = [
  'Maple',
  'Oak',
  'Cedar',
  'Elm',
  'Willow',
  'Harbor',
  'Summit',
  'Lakeview',
  'Birch',
  'Chestnut',
  'Juniper',
  'Meadow',
  'Orchard',
  'Ridge',
  'Sycamore',
  'Aspen',
  'Magnolia',
  'Riverside',
] as const;
export const STREET_SUFFIXES = ['St', 'Ave', 'Rd', 'Ln', 'Blvd', 'Ct', 'Dr', 'Way'] as const;

/** City, state, ZIP and area code; the New England rows have ZIPs with a leading zero. */
export const PLACES = [
  { city: 'Springfield', state: 'IL', zip: '62704', area: '217' },
  { city: 'Boston', state: 'MA', zip: '02134', area: '617' },
  { city: 'Hartford', state: 'CT', zip: '06103', area: '860' },
  { city: 'Newark', state: 'NJ', zip: '07102', area: '973' },
  { city: 'Austin', state: 'TX', zip: '78701', area: '512' },
  { city: 'Denver', state: 'CO', zip: '80203', area: '303' },
  { city: 'Portland', state: 'OR', zip: '97205', area: '503' },
  { city: 'Madison', state: 'WI', zip: '53703', area: '608' },
  { city: 'Tucson', state: 'AZ', zip: '85701', area: '520' },
  { city: 'Raleigh', state: 'NC', zip: '27601', area: '919' },
] as const;
export type Place = (typeof PLACES)[number];

export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net'] as const;

export const OCCUPATIONS = [
  'Teacher',
  'Nurse',
  'Engineer',
  'Accountant',
  'Electrician',
  'Student',
  'Retired',
  'Chef',
  'Designer',
  'Pharmacist',
  'Carpenter',
  'Librarian',
  'Software Developer',
  'Sales Manager',
  '',
] as const;

/** Phrases for clinical/administrative note bodies: commas, quotes, Unicode, emoji, CJK. */
export const NOTE_PHRASES = [
  'Patient reports mild sensitivity on the upper left, no swelling.',
  'Discussed flossing technique; patient said "I\'ll try harder".',
  'Reviewed X-rays, 2 BWX, no new caries.',
  'Allergies reviewed: penicillin, latex (mild).',
  'Pt prefers morning appointments, 8–10 am.',
  'Follow-up in 6 months 🦷 — reminder sent.',
  'Family history: diabetes, hypertension.',
  'Patient speaks Spanish; señora requested bilingual staff.',
  '患者は日本語を希望しています。',
  'Insurance card rescanned, front & back.',
  'Copay collected at check-in, receipt #A-17.',
  'Referred to specialist, "urgent" flagged by front desk.',
  'Crème and café stains noted; whitening discussed.',
  'Caller asked to reschedule 😊 — offered Tue/Thu.',
  'BP 118/76, pulse 72.',
] as const;

export const PRACTICE_NAMES = [
  'Harbor Family Health',
  'Summit Dental Group',
  'Lakeview Medical Associates',
  'Cedar Ridge Pediatrics',
  'Riverside Orthodontics',
  'Maple Street Clinic',
  'Orchard Valley Care',
  'Willow Creek Dental',
] as const;

export const SPECIALTIES = [
  'General Dentistry',
  'Orthodontics',
  'Periodontics',
  'Family Medicine',
  'Pediatrics',
  'Hygiene',
  'Endodontics',
  'Internal Medicine',
] as const;
export const CREDENTIALS = ['DDS', 'DMD', 'MD', 'DO', 'RDH', 'NP', 'PA-C'] as const;

export const INSURANCE_CARRIERS = [
  'Delta Dental',
  'Aetna',
  'Cigna',
  'MetLife',
  'Guardian',
  'United Concordia',
  'Blue Cross Blue Shield',
  'Humana',
  'Self Pay',
] as const;

export const REFERRAL_SOURCES = [
  'Internal Referral',
  'Google Ads',
  'Partner Practice',
  'Direct Mail',
  'Yelp',
  'Walk-in',
  'Insurance Directory',
  'Friend or Family',
] as const;

export const DENTAL_PROCEDURES = [
  { code: 'D0120', description: 'Periodic evaluation – established patient', fee: 65 },
  { code: 'D0274', description: 'Bitewings – four images', fee: 85 },
  { code: 'D1110', description: 'Prophylaxis – adult', fee: 110 },
  { code: 'D2391', description: 'Composite – one surface, posterior', fee: 195 },
  { code: 'D2740', description: 'Crown – porcelain/ceramic', fee: 1250 },
  { code: 'D3330', description: 'Root canal – molar', fee: 1150 },
  { code: 'D4341', description: 'Scaling and root planing – per quadrant', fee: 260 },
  { code: 'D6010', description: 'Implant body – surgical placement', fee: 2100 },
  { code: 'D7140', description: 'Extraction – erupted tooth', fee: 185 },
  { code: 'D8080', description: 'Orthodontic treatment – comprehensive', fee: 5400 },
] as const;

export const TOOTH_SURFACES = ['M', 'O', 'D', 'B', 'L', 'MO', 'DO', 'MOD', ''] as const;
