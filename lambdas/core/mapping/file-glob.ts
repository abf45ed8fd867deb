/**
 * A mapping's file pattern (`Patient*.csv`, `appt?.csv`) as a case-insensitive regular expression
 * over a whole name: `*` any run of characters, `?` one character, everything else literal. Entities
 * name their files this way; Inventory, Prepare, ApplySchema and source detection all read the
 * patterns through this one function.
 */
export function fileGlob(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`, 'i');
}
