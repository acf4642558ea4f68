// Why a run cannot go on. Each carries a one-line reason for the command's last line.

/** The run cannot produce meaningful figures (server unreachable, plugin missing, all replies errors). */
export class BenchFailure extends Error {
  override readonly name = 'BenchFailure';
}

/** Bad command-line arguments. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The server answered a request with a Janus error or a plugin error. */
export class JanusReplyError extends Error {
  override readonly name = 'JanusReplyError';

  /** Janus or plugin error code as a string ("458", "462", …), for tallies by code. */
  constructor(
    readonly code: string,
    reason: string,
  ) {
    super(`error ${code}: ${reason}`);
  }
}

/** No reply in time, or the connection is gone. */
export class TransportError extends Error {
  override readonly name = 'TransportError';

  constructor(
    readonly code: 'timeout' | 'closed' | 'connect' | 'http',
    message: string,
  ) {
    super(message);
  }
}

/** The error's tally key: the Janus/plugin code, or the transport failure kind. */
export function errorCode(error: unknown): string {
  if (error instanceof JanusReplyError) return error.code;
  if (error instanceof TransportError) return error.code;
  return 'other';
}

export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 300);
}

/** Ctrl-C before anything could be measured. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
}
