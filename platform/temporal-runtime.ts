import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from './logger';

let installed = false;

/** Routes the Temporal SDK's own logs into pino; must run once, before the first connection. */
export function installTemporalRuntime(logger: Logger, level: LogLevel = 'WARN'): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const meta = { ...entry.meta, sdk: 'temporal' };
      switch (entry.level) {
        case 'TRACE':
        case 'DEBUG':
          return logger.debug(meta, entry.message);
        case 'INFO':
          return logger.info(meta, entry.message);
        case 'WARN':
          return logger.warn(meta, entry.message);
        case 'ERROR':
          return logger.error(meta, entry.message);
      }
    }),
  });
}
