// Structured, leveled logging: one JSON object per line on stderr (or a human-readable line
// when `format` is 'pretty'). Child loggers carry fixed fields (component, session, handle).

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

const RANK: Record<LogLevel, number> = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

export type LogFields = Record<string, unknown>;

export interface LogSink {
  write(line: string): void;
}

interface LoggerState {
  level: LogLevel;
  format: 'json' | 'pretty';
  sink: LogSink;
}

export class Logger {
  private constructor(
    private readonly state: LoggerState,
    private readonly fields: LogFields,
  ) {}

  static create(options: { level?: LogLevel; format?: 'json' | 'pretty'; sink?: LogSink } = {}): Logger {
    return new Logger(
      {
        level: options.level ?? 'info',
        format: options.format ?? 'json',
        sink: options.sink ?? { write: (line) => process.stderr.write(line) },
      },
      {},
    );
  }

  /** A logger sharing this one's level and sink, with extra fixed fields. */
  child(fields: LogFields): Logger {
    return new Logger(this.state, { ...this.fields, ...fields });
  }

  get level(): LogLevel {
    return this.state.level;
  }

  set level(level: LogLevel) {
    this.state.level = level;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.state.level];
  }

  fatal(msg: string, fields?: LogFields): void { this.log('fatal', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.log('error', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.log('warn', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.log('info', msg, fields); }
  debug(msg: string, fields?: LogFields): void { this.log('debug', msg, fields); }
  trace(msg: string, fields?: LogFields): void { this.log('trace', msg, fields); }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const record: LogFields = { time: new Date().toISOString(), level, msg, ...this.fields, ...fields };
    for (const [key, value] of Object.entries(record)) {
      if (value instanceof Error) record[key] = { message: value.message, stack: value.stack };
    }
    if (this.state.format === 'pretty') {
      const { time, level: lvl, msg: text, ...rest } = record;
      const extra = Object.keys(rest).length > 0 ? ' ' + JSON.stringify(rest) : '';
      this.state.sink.write(`${String(time)} ${String(lvl).toUpperCase().padEnd(5)} ${String(text)}${extra}\n`);
    } else {
      this.state.sink.write(JSON.stringify(record) + '\n');
    }
  }
}

/** A logger that drops everything: for tests and embedders that bring their own. */
export function silentLogger(): Logger {
  return Logger.create({ level: 'fatal', sink: { write: () => undefined } });
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}
