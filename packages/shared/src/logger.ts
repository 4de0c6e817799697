import { type Logger, pino } from 'pino';

export type { Logger };

/** Paths that may carry secrets; pino replaces their values before anything is written. */
const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'GEMINI_API_KEY',
  '*.GEMINI_API_KEY',
  'password',
  '*.password',
  'token',
  '*.token',
  'headers.authorization',
  '*.headers.authorization',
  'redisUrl',
  '*.redisUrl',
];

export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    name: service,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service, pid: process.pid },
  });
}
