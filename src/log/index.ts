/**
 * Structured logs with pino. Each module takes a child logger (`log.child({ module: 'api' })`);
 * event names are stable and dotted (`operation.failed`) so they double as metric names.
 * Secrets (passwords, tokens, AUTH payloads) are redacted by path and must never be logged.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'facteur' },
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'req.headers.authorization', 'req.headers.cookie', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  });
}
