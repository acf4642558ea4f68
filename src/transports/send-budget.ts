// Bytes queued for WebSocket clients that do not read fast enough (uWS's per-socket buffer,
// beyond what the kernel took). One connection may queue up to its cap; all connections
// together up to the budget. Over either, the connection is dropped at once (not a graceful
// close, which would queue behind the backlog), so a slow or stalled reader cannot grow the
// process without bound.

/** What the budget needs of a connection: how much it has queued, and how to drop it. */
export interface BufferedConnection {
  readonly id: string;
  /** Drop the connection now; `why` goes in the log line. */
  drop(why: string): void;
}

export class SendBudget {
  private readonly queued = new Map<BufferedConnection, number>();
  private total = 0;

  constructor(
    readonly perConnection: number,
    readonly overall: number,
  ) {}

  get totalQueued(): number {
    return this.total;
  }

  /** Record what `connection` has queued now; drops it (or the largest queue) when over a limit. */
  update(connection: BufferedConnection, bytes: number): void {
    this.set(connection, bytes);
    if (bytes > this.perConnection) {
      this.forget(connection);
      connection.drop(`${bytes} bytes queued, over the per-connection cap of ${this.perConnection}`);
      return;
    }
    while (this.total > this.overall) {
      const largest = this.largest();
      if (!largest) break;
      const [victim, size] = largest;
      this.forget(victim);
      victim.drop(`${size} bytes queued while all connections queue ${this.total + size}, over the budget of ${this.overall}`);
    }
  }

  /** The connection closed: its queue is gone. */
  forget(connection: BufferedConnection): void {
    this.set(connection, 0);
  }

  private set(connection: BufferedConnection, bytes: number): void {
    this.total += bytes - (this.queued.get(connection) ?? 0);
    if (bytes > 0) this.queued.set(connection, bytes);
    else this.queued.delete(connection);
  }

  private largest(): [BufferedConnection, number] | undefined {
    let best: [BufferedConnection, number] | undefined;
    for (const entry of this.queued) if (!best || entry[1] > best[1]) best = entry;
    return best;
  }
}
