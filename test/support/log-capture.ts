// A Logger whose JSON lines are kept in memory, so tests can assert that something was logged.

import { Logger, type LogLevel } from '../../src/log';

export interface CapturedLog {
  logger: Logger;
  records: Array<Record<string, unknown>>;
  /** Records whose `msg` contains `text`. */
  find(text: string): Array<Record<string, unknown>>;
}

export function captureLogger(level: LogLevel = 'debug'): CapturedLog {
  const records: Array<Record<string, unknown>> = [];
  const logger = Logger.create({
    level,
    format: 'json',
    sink: { write: (line) => { records.push(JSON.parse(line) as Record<string, unknown>); } },
  });
  return {
    logger,
    records,
    find: (text) => records.filter((record) => String(record.msg).includes(text)),
  };
}
