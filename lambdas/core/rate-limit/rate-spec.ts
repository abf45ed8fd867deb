import { ConfigError } from '../errors.ts';

/** At most `limit` requests in any `windowMs` span: one of Twenty's rate-limit windows. */
export interface RateWindow {
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * The rate a Twenty workspace accepts. Twenty enforces a short and a long window at once
 * (self-hosted defaults: 100 per second AND 100 per minute), so a spec holds one or two windows,
 * shortest first, and every one of them must hold.
 */
export interface RateSpec {
  /** Human label for reports and logs, e.g. `cloud` or `600/60s`. */
  readonly label: string;
  readonly windows: readonly RateWindow[];
}

const MINUTE = 60_000;
const SECOND = 1_000;

/**
 * Named presets. `cloud` is the figure users observe on Twenty Cloud (50/min, below the documented
 * 100/min); `pro` and `org` are the plan-level limits; `self-hosted` is Twenty's default
 * configuration (`API_RATE_LIMITING_SHORT_*` and `API_RATE_LIMITING_LONG_*`).
 */
export const ratePresets: Readonly<Record<'cloud' | 'pro' | 'org' | 'self-hosted', RateSpec>> = {
  cloud: { label: 'cloud', windows: [{ limit: 50, windowMs: MINUTE }] },
  pro: { label: 'pro', windows: [{ limit: 100, windowMs: MINUTE }] },
  org: { label: 'org', windows: [{ limit: 200, windowMs: MINUTE }] },
  'self-hosted': {
    label: 'self-hosted',
    windows: [
      { limit: 100, windowMs: SECOND },
      { limit: 100, windowMs: MINUTE },
    ],
  },
};

const RULE =
  'must be a preset (cloud, pro, org, self-hosted) or one or two windows N/<duration> joined by "+", ' +
  'e.g. 600/60s, 100/1s+100/60s, 20/500ms or 50/min';

const WINDOW_PATTERN = /^(\d+)\/(\d*)(ms|s|min|m)$/;

function parseWindow(text: string, field: string): RateWindow {
  const match = WINDOW_PATTERN.exec(text);
  if (!match) throw new ConfigError(`${field} ${RULE}`);
  const limit = Number(match[1]);
  const amount = match[2] === '' ? 1 : Number(match[2]);
  const unit = match[3];
  const unitMs = unit === 'ms' ? 1 : unit === 's' ? SECOND : MINUTE;
  const windowMs = amount * unitMs;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new ConfigError(`${field}: the request count of a window must be a whole number of at least 1`);
  }
  if (!Number.isSafeInteger(windowMs) || windowMs < 10 || windowMs > 24 * 60 * MINUTE) {
    throw new ConfigError(`${field}: a window must last between 10ms and 24h`);
  }
  return { limit, windowMs };
}

/**
 * Parses the `--rate` option / `FERRY_RATE_PRESET` value. Errors name the option and the accepted
 * forms; they never echo the input back.
 */
export function parseRate(spec: string, field = 'rate'): RateSpec {
  const text = spec.trim().toLowerCase().replaceAll(' ', '');
  if (text === '') throw new ConfigError(`${field} is empty: it ${RULE}`);
  if (Object.hasOwn(ratePresets, text)) return ratePresets[text as keyof typeof ratePresets];
  const parts = text.split(/[+,]/);
  if (parts.length > 2) throw new ConfigError(`${field} has more than two windows: it ${RULE}`);
  const windows = parts.map((part) => parseWindow(part, field)).sort((a, b) => a.windowMs - b.windowMs);
  if (windows.length === 2 && windows[0]?.windowMs === windows[1]?.windowMs) {
    throw new ConfigError(`${field} has two windows of the same length: give a short and a long window`);
  }
  return { label: windows.map((w) => `${w.limit}/${formatDuration(w.windowMs)}`).join('+'), windows };
}

function formatDuration(ms: number): string {
  return ms % SECOND === 0 ? `${ms / SECOND}s` : `${ms}ms`;
}

/** Sustained requests per minute the spec allows (the tightest window wins). */
export function requestsPerMinute(spec: RateSpec): number {
  return Math.min(...spec.windows.map((w) => (w.limit * MINUTE) / w.windowMs));
}
