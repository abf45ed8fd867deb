import type { Readable } from 'node:stream';
import { asBuffer } from './bytes.ts';

/**
 * Text encodings Ferry reads. Practice-management exports are UTF-8, UTF-8 with a BOM (Excel),
 * UTF-16 (some Windows "Unicode text" exports) or, very often, Windows-1252 from older systems.
 */
export const TEXT_ENCODINGS = ['utf-8', 'windows-1252', 'utf-16le', 'utf-16be'] as const;
export type TextEncodingName = (typeof TEXT_ENCODINGS)[number];

export const BOM_KINDS = ['none', 'utf-8', 'utf-16le', 'utf-16be', 'utf-32le', 'utf-32be'] as const;
export type BomKind = (typeof BOM_KINDS)[number];

/** Why a file cannot be read as text at all (a file-level error, not a row reject). */
export type EncodingProblem = 'BINARY_FILE' | 'UNSUPPORTED_ENCODING';

/**
 * What a first pass over a file's bytes found. The decision rule, documented once here:
 * - a BOM decides (UTF-8, UTF-16 LE/BE; UTF-32 is rejected as unsupported);
 * - no BOM and ASCII text with zero high bytes at alternating positions: UTF-16 without BOM;
 * - NUL bytes (or many control bytes) in a non-UTF-16 file: binary, not a data file;
 * - valid UTF-8 throughout: UTF-8;
 * - invalid UTF-8 and (almost) no valid multi-byte sequences: the file was written in Windows-1252 and
 *   is decoded as such, with a warning — every byte is a character there, no row is lost;
 * - invalid sequences in a file that is otherwise clearly UTF-8: stays UTF-8 and only the rows
 *   holding invalid bytes are rejected (ENCODING_ERROR), because guessing would corrupt them silently.
 */
export interface EncodingProfile {
  readonly bytes: number;
  readonly bom: BomKind;
  readonly encoding: TextEncodingName;
  /** True when Windows-1252 was chosen because the bytes are not UTF-8. */
  readonly fallback: boolean;
  readonly invalidUtf8Sequences: number;
  readonly validMultibyteSequences: number;
  readonly problem: EncodingProblem | null;
  /** The line (1-based) of the first NUL or stray control byte, so a BINARY_FILE error can point at it. */
  readonly firstBinaryLine: number | null;
}

/** Detects a byte-order mark at the start of `head` (which should hold at least 4 bytes if the file does). */
export function detectBom(head: Uint8Array): { kind: BomKind; length: number } {
  const [a, b, c, d] = [head[0], head[1], head[2], head[3]];
  if (a === 0xef && b === 0xbb && c === 0xbf) return { kind: 'utf-8', length: 3 };
  if (a === 0xff && b === 0xfe && c === 0 && d === 0) return { kind: 'utf-32le', length: 4 };
  if (a === 0 && b === 0 && c === 0xfe && d === 0xff) return { kind: 'utf-32be', length: 4 };
  if (a === 0xff && b === 0xfe) return { kind: 'utf-16le', length: 2 };
  if (a === 0xfe && b === 0xff) return { kind: 'utf-16be', length: 2 };
  return { kind: 'none', length: 0 };
}

/** UTF-16 without a BOM shows as a zero byte in every other position for ASCII-range text. */
function sniffBomlessUtf16(head: Uint8Array): TextEncodingName | null {
  const pairs = Math.floor(Math.min(head.length, 4096) / 2);
  if (pairs < 2) return null;
  let evenZero = 0;
  let oddZero = 0;
  for (let p = 0; p < pairs; p++) {
    if (head[2 * p] === 0) evenZero++;
    if (head[2 * p + 1] === 0) oddZero++;
  }
  if (oddZero / pairs > 0.3 && evenZero / pairs < 0.05) return 'utf-16le';
  if (evenZero / pairs > 0.3 && oddZero / pairs < 0.05) return 'utf-16be';
  return null;
}

/** Bytes below 0x20 that plain text may contain: tab, LF, VT, FF, CR and the DOS end-of-file mark. */
function isTextControl(byte: number): boolean {
  return byte === 9 || byte === 10 || byte === 11 || byte === 12 || byte === 13 || byte === 26;
}

/**
 * Length of the valid UTF-8 sequence starting at `i` (1–4), 0 when invalid, or -1 when `buf` ends
 * before the sequence could be judged. Follows the WHATWG/Unicode rules (no overlongs, no surrogates).
 */
function utf8SequenceLength(buf: Uint8Array, i: number): number {
  const lead = buf[i] as number;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) need = 1;
  else if (lead >= 0xe0 && lead <= 0xef) {
    need = 2;
    if (lead === 0xe0) lo = 0xa0;
    if (lead === 0xed) hi = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    need = 3;
    if (lead === 0xf0) lo = 0x90;
    if (lead === 0xf4) hi = 0x8f;
  } else return 0;
  for (let k = 1; k <= need; k++) {
    if (i + k >= buf.length) return -1;
    const byte = buf[i + k] as number;
    if (byte < lo || byte > hi) return 0;
    lo = 0x80;
    hi = 0xbf;
  }
  return need + 1;
}

/**
 * Chooses the encoding of a file in one streaming pass over its bytes (constant memory). The
 * parser needs the decision before it decodes a row, so Inventory runs this first and records the
 * result in the plan; Segment reads it from there, so both stages count rows identically.
 */
export async function profileEncoding(source: Readable): Promise<EncodingProfile> {
  let bytes = 0;
  let head: Buffer = Buffer.alloc(0);
  let bom = 'none' as BomKind;
  let utf16 = null as TextEncodingName | null;
  let decided = false;
  let carry: Buffer = Buffer.alloc(0);
  let nul = 0;
  let controls = 0;
  let invalid = 0;
  let multibyte = 0;
  let lf = 0;
  let cr = 0;
  let firstBinaryLine = null as number | null;

  const scan = (chunk: Buffer, final: boolean): void => {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    carry = Buffer.alloc(0);
    const n = buf.length;
    let i = 0;
    while (i < n) {
      const byte = buf[i] as number;
      if (byte < 0x80) {
        if (byte === 10) lf++;
        else if (byte === 13) cr++;
        else if (byte < 0x20 && !isTextControl(byte)) {
          if (byte === 0) nul++;
          else controls++;
          // Lines end in LF (or CRLF); a file without any LF so far ends them in CR alone.
          firstBinaryLine ??= 1 + (lf > 0 ? lf : cr);
        }
        i++;
        continue;
      }
      const len = utf8SequenceLength(buf, i);
      if (len === -1 && !final) {
        carry = Buffer.from(buf.subarray(i));
        return;
      }
      if (len > 0) {
        multibyte++;
        i += len;
      } else {
        invalid++;
        i++;
      }
    }
  };

  const decide = (final: boolean): void => {
    if (decided || (!final && head.length < 4096)) return;
    decided = true;
    const found = detectBom(head);
    bom = found.kind;
    if (bom === 'none') utf16 = sniffBomlessUtf16(head);
    if (bom === 'utf-8') scan(head.subarray(3), final);
    else if (bom === 'none' && utf16 === null) scan(head, final);
  };

  for await (const part of source) {
    const chunk = asBuffer(part);
    bytes += chunk.length;
    if (!decided) {
      head = Buffer.concat([head, chunk]);
      decide(false);
    } else if ((bom === 'none' && utf16 === null) || bom === 'utf-8') scan(chunk, false);
  }
  decide(true);
  if (carry.length > 0) scan(Buffer.alloc(0), true);

  const base = {
    bytes,
    bom,
    invalidUtf8Sequences: invalid,
    validMultibyteSequences: multibyte,
    fallback: false,
    firstBinaryLine,
  };
  if (bom === 'utf-32le' || bom === 'utf-32be') {
    return { ...base, encoding: 'utf-8', problem: 'UNSUPPORTED_ENCODING' };
  }
  if (bom === 'utf-16le' || bom === 'utf-16be') return { ...base, encoding: bom, problem: null };
  if (utf16 !== null) return { ...base, encoding: utf16, problem: null };
  if (nul > 0 || controls > Math.max(8, bytes / 100))
    return { ...base, encoding: 'utf-8', problem: 'BINARY_FILE' };
  if (bom === 'utf-8' || invalid === 0) return { ...base, encoding: 'utf-8', problem: null };
  if (multibyte * 20 < invalid) return { ...base, encoding: 'windows-1252', fallback: true, problem: null };
  return { ...base, encoding: 'utf-8', problem: null };
}
