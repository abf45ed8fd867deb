/**
 * Twenty's 400 messages can echo the values they refused ("A duplicate entry was detected… value
 * "jane@example.test"", Postgres' "Key (email)=(…)"). Ferry keeps Twenty's message template, which
 * is what an operator needs, and masks every value-shaped part, which is PHI.
 */
export const MASK = '«…»';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const QUOTED = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|“[^”]*”/g;
const PG_KEY_VALUE = /\)=\((?:[^()]|\([^()]*\))*\)/g;
const EMAIL = /[^\s"'<>(),;:]+@[^\s"'<>(),;:]+/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const LONG_NUMBER = /\+?\d[\d\s().-]{5,}\d/g;
const AFTER_VALUE = /\b(values?|input|got|received)\s*[:=]\s*(?!«)[^\s,;.]+/gi;

/**
 * Masks values in one Twenty message. Quoted text survives only when it looks like a field or
 * object name in `knownNames` (the workspace's metadata), so "Field "emails" …" stays readable.
 * Record ids (UUIDs) are kept: they are Ferry's own deterministic ids, not patient data.
 */
export function sanitizeTwentyMessage(message: string, knownNames: ReadonlySet<string> = new Set()): string {
  const uuids: string[] = [];
  let text = message.replace(UUID, (uuid) => {
    uuids.push(uuid);
    return `\uE000${uuids.length - 1}\uE000`;
  });
  text = text.replace(PG_KEY_VALUE, `)=(${MASK})`);
  text = text.replace(QUOTED, (quoted) => {
    const inner = quoted.slice(1, -1);
    const keep = IDENTIFIER.test(inner) && inner.split('.').every((part) => knownNames.has(part));
    return keep || /^\uE000\d+\uE000$/.test(inner) ? quoted : `"${MASK}"`;
  });
  text = text.replace(EMAIL, MASK);
  text = text.replace(LONG_NUMBER, MASK);
  text = text.replace(AFTER_VALUE, (_match, word: string) => `${word}: ${MASK}`);
  text = text.replace(/\uE000(\d+)\uE000/g, (_match, index: string) => uuids[Number(index)] ?? MASK);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
