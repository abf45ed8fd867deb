import { createHash } from 'node:crypto';

/**
 * The RateLimit item key of a Twenty workspace: a hash of its normalized base URL. Every loader
 * pointed at the same Twenty shares one bucket; the API key never enters the key (it is a secret,
 * and two keys of one workspace share Twenty's limit anyway).
 */
export function workspaceKey(twentyUrl: string): string {
  let normalized: string;
  try {
    const url = new URL(twentyUrl);
    normalized = `${url.protocol}//${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    normalized = twentyUrl.trim().toLowerCase().replace(/\/+$/, '');
  }
  return createHash('sha256').update(normalized).digest('hex').slice(0, 32);
}
