// Structured, leveled logging on pino: one JSON object per line on stderr, or pino-pretty's
// coloured lines when `format` is 'pretty'. Child loggers carry fixed fields (component,
// session, handle, plugin, script). The level is shared by a logger and all its children, so
// Admin `set_log_level` takes effect everywhere at once.

import { pino, stdSerializers, type Logger as PinoLogger, type DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

const RANK: Record<LogLevel, number> = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

export type LogFormat = 'json' | 'pretty';

export type LogFields = Record<string, unknown>;

export interface LogSink {
  write(line: string): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; default stderr (synchronous writes, so nothing is lost on exit). */
  sink?: LogSink;
  /** Pretty format only: ANSI colours; default when stderr is a terminal (FORCE_COLOR / NO_COLOR override). */
  color?: boolean;
}

interface LoggerState {
  level: LogLevel;
}

/** Janus's debug levels 0 (none) … 7 (debug) as ours; 0 and 1 both keep only fatal. */
const FROM_JANUS: readonly LogLevel[] = ['fatal', 'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'trace'];
const TO_JANUS: Record<LogLevel, number> = { fatal: 1, error: 2, warn: 3, info: 4, debug: 5, trace: 7 };

export function logLevelOfJanus(level: number): LogLevel {
  return FROM_JANUS[level] ?? 'info';
}

/** Our level as Janus's debug_level number (what scripts see). */
export function janusDebugLevel(level: LogLevel): number {
  return TO_JANUS[level];
}

function defaultColor(): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined) return process.env.FORCE_COLOR !== '0';
  return process.stderr.isTTY === true;
}

function destination(options: LoggerOptions): DestinationStream {
  const format = options.format ?? 'json';
  if (format === 'json') return options.sink ?? pino.destination({ dest: 2, sync: true });
  // pino-pretty as a synchronous formatter in front of the sink (its stream mode is async).
  const prettify = prettyFactory({
    colorize: options.color ?? defaultColor(),
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    singleLine: true,
    errorLikeObjectKeys: ['error', 'err'],
  });
  const out: LogSink = options.sink ?? pino.destination({ dest: 2, sync: true });
  return { write: (line: string) => out.write(prettify(line)) };
}

export class Logger {
  private constructor(
    private readonly state: LoggerState,
    private readonly pino: PinoLogger,
  ) {}

  static create(options: LoggerOptions = {}): Logger {
    const format = options.format ?? 'json';
    const root = pino(
      {
        // Level filtering is ours (shared state); pino formats whatever we pass on.
        level: 'trace',
        base: undefined,
        timestamp: pino.stdTimeFunctions.isoTime,
        // JSON lines name the level ("info"); pino-pretty wants pino's numbers.
        formatters: format === 'json' ? { level: (label: string) => ({ level: label }) } : {},
        serializers: { error: stdSerializers.err, err: stdSerializers.err },
      },
      destination(options),
    );
    return new Logger({ level: options.level ?? 'info' }, root);
  }

  /** A logger sharing this one's level and sink, with extra fixed fields. */
  child(fields: LogFields): Logger {
    return new Logger(this.state, this.pino.child(fields));
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
    if (!fields) {
      this.pino[level](msg);
      return;
    }
    // pino serializes Errors only under its serializer keys; any other field gets the same.
    let record = fields;
    for (const [key, value] of Object.entries(fields)) {
      if (value instanceof Error && key !== 'error' && key !== 'err') {
        if (record === fields) record = { ...fields };
        record[key] = stdSerializers.err(value);
      }
    }
    this.pino[level](record, msg);
  }
}

/** A logger that drops everything: for tests and embedders that bring their own. */
export function silentLogger(): Logger {
  return Logger.create({ level: 'fatal', sink: { write: () => undefined } });
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}
