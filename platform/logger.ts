import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export function createLogger(name: string, level: LoggerOptions['level'] = 'info'): Logger {
  return pino({ name, level, base: { service: name } });
}
