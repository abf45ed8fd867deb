import type { SourceProfile } from './profile.ts';

/**
 * Any CSV set with a user-written (or auto-mapper proposed, then edited) mapping file: the
 * profile contributes nothing but the source name, so detection can fall back to it honestly
 * instead of forcing a wrong vendor layout onto unknown files.
 */
export const genericProfile: SourceProfile = {
  source: 'generic',
  label: 'Generic CSV export (user-written mapping)',
  mapping: { version: 1, source: 'generic', entities: {} },
  headerAliases: {},
  pivots: [],
  references: [],
};
