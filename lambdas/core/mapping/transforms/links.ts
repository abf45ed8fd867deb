import { BLANK, ok, type TransformResult } from './result.ts';

/** Twenty's LINKS composite. */
export interface Links {
  primaryLinkUrl: string;
  primaryLinkLabel: string;
  secondaryLinks: Array<{ url: string; label: string }>;
}

const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * Normalizes a website to `https://host/path` with a lower-case host and no trailing slash, so
 * company domainName (unique in Twenty) compares equal across spellings. Null when not a URL.
 */
export function normalizeUrl(raw: string): string | null {
  let value = raw.trim();
  if (value === '' || /\s/.test(value)) return null;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) value = `https://${value}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!HOST.test(url.hostname)) return null;
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.protocol}//${url.host}${path}${url.search}${url.hash}`;
}

/**
 * LINKS from one or more website cells: the first becomes primary, the rest secondary. A value
 * that is not a URL is dropped with LINK_DROPPED: losing a company for a typo'd website would
 * cost more than the website.
 */
export function links(cells: readonly string[]): TransformResult<Links | null> {
  let primary: string | null = null;
  const secondary: Array<{ url: string; label: string }> = [];
  let dropped = false;
  for (const cell of cells) {
    if (cell.trim() === '') continue;
    const url = normalizeUrl(cell);
    if (url === null) {
      dropped = true;
      continue;
    }
    if (primary === null) primary = url;
    else if (url !== primary) secondary.push({ url, label: '' });
  }
  if (primary === null) return dropped ? ok(null, ['LINK_DROPPED']) : BLANK;
  return ok(
    { primaryLinkUrl: primary, primaryLinkLabel: '', secondaryLinks: secondary },
    dropped ? ['LINK_DROPPED'] : undefined,
  );
}
