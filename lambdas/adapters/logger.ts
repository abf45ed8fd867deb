import { Logger } from '@aws-lambda-powertools/logger';
import type { Log, LogFields } from '../ports/log.ts';

/** Log levels Ferry exposes; the same names as `FERRY_LOG_LEVEL`. */
export type FerryLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/**
 * The Log port on Powertools Logger: structured JSON lines that CloudWatch Logs Insights can query.
 * Only the port's flat fields are passed on (ids, counts, durations, error names), so a caller cannot
 * smuggle a record into a log line by passing an object.
 */
export function powertoolsLog(options: { serviceName?: string; level?: FerryLogLevel } = {}): Log {
  const logger = new Logger({
    serviceName: options.serviceName ?? 'ferry',
    logLevel: options.level ?? 'INFO',
  });
  const fields = (extra?: LogFields): Record<string, string | number | boolean | null> => {
    const out: Record<string, string | number | boolean | null> = {};
    for (const [key, value] of Object.entries(extra ?? {})) if (value !== undefined) out[key] = value;
    return out;
  };
  return {
    debug: (message, extra) => logger.debug(message, fields(extra)),
    info: (message, extra) => logger.info(message, fields(extra)),
    warn: (message, extra) => logger.warn(message, fields(extra)),
    error: (message, extra) => logger.error(message, fields(extra)),
  };
}

/**
 * A Log that writes one readable line per entry to a stream (stderr by default). The local CLI uses
 * it with `--debug`; otherwise it stays silent so the CLI's own summary is the only output.
 */
export function lineLog(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  level: FerryLogLevel = 'INFO',
): Log {
  const order: Record<FerryLogLevel, number> = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 };
  const emit = (entryLevel: FerryLogLevel, message: string, extra?: LogFields): void => {
    if (order[entryLevel] < order[level]) return;
    const suffix = Object.entries(extra ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(' ');
    write(`[${entryLevel.toLowerCase()}] ${message}${suffix ? ` ${suffix}` : ''}`);
  };
  return {
    debug: (message, extra) => emit('DEBUG', message, extra),
    info: (message, extra) => emit('INFO', message, extra),
    warn: (message, extra) => emit('WARN', message, extra),
    error: (message, extra) => emit('ERROR', message, extra),
  };
}
