import { BLANK, ok, type TransformResult } from './result.ts';

/** Twenty's RICH_TEXT_V2 composite; Twenty derives blocknote from markdown when it is null. */
export interface RichText {
  markdown: string;
  blocknote: null;
}

const INLINE_SPECIAL = /([\\`*_[\]<>])/g;
const BLOCK_START = /^(\s*)([#>+-]|\d+[.)])(?=\s|$)/;

/**
 * Escapes only what would change meaning as markdown: inline markers anywhere, and block markers
 * (`#`, `>`, `-`, `+`, `1.`) at a line start, so clinical notes read as typed.
 */
export function escapeMarkdown(line: string): string {
  const inline = line.replace(INLINE_SPECIAL, '\\$1');
  return inline.replace(BLOCK_START, (_m, space: string, marker: string) =>
    /^\d/.test(marker) ? `${space}${marker.slice(0, -1)}\\${marker.slice(-1)}` : `${space}\\${marker}`,
  );
}

/**
 * Plain text → RICH_TEXT_V2. Line breaks are kept: blank lines separate paragraphs, single
 * line breaks become markdown hard breaks (a trailing backslash).
 */
export function richText(raw: string): TransformResult<RichText | null> {
  const normalized = raw.replace(/\r\n?/g, '\n').trim();
  if (normalized === '') return BLANK;
  const paragraphs = normalized.split(/\n\s*\n/);
  const markdown = paragraphs
    .map((p) =>
      p
        .split('\n')
        .map((l) => escapeMarkdown(l.trimEnd()))
        .join('\\\n'),
    )
    .join('\n\n');
  return ok({ markdown, blocknote: null });
}
