/** One piece of a byte stream as a Buffer: Node streams yield Buffers, strings (UTF-8) or Uint8Arrays. */
export function asBuffer(part: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(part)) return part;
  return typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part);
}
