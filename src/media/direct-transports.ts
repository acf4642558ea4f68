// One user's DirectTransports (RTP reaching Node: the raw path's taps and injections, the
// recorders' taps), kept per router. A user's media moves to another router after a hangup
// and a new negotiation, or when its worker dies and is replaced; whoever needs the transport
// asks for the one of the user's current router, so nobody keeps using a transport of a
// router the user left. A transport is forgotten when it closes (its router closed, or the
// worker died), and the ones of other routers are closed when the user's router changes.

import type { DirectTransport } from 'mediasoup/node/lib/DirectTransport';
import type { Router } from 'mediasoup/node/lib/Router';
import { NamedError } from '../common/named-error';

export class DirectTransports {
  private readonly byRouter = new Map<string, Promise<DirectTransport>>();
  private closed = false;

  /** The DirectTransport on `router`, created on first use; the ones on other routers are closed. */
  get(router: Router): Promise<DirectTransport> {
    if (this.closed) return Promise.reject(new DirectTransportsClosedError());
    for (const routerId of [...this.byRouter.keys()]) if (routerId !== router.id) this.drop(routerId);
    let direct = this.byRouter.get(router.id);
    if (!direct) {
      direct = router.createDirectTransport();
      this.byRouter.set(router.id, direct);
      void direct.then(
        (transport) => {
          if (transport.closed) this.forget(router.id, direct!);
          else transport.observer.once('close', () => this.forget(router.id, direct!));
        },
        () => this.forget(router.id, direct!),
      );
    }
    return direct;
  }

  /** Closes every transport (their consumers and producers close with them). */
  close(): void {
    this.closed = true;
    for (const routerId of [...this.byRouter.keys()]) this.drop(routerId);
  }

  private drop(routerId: string): void {
    const direct = this.byRouter.get(routerId);
    this.byRouter.delete(routerId);
    void direct?.then((transport) => transport.close()).catch(() => undefined);
  }

  private forget(routerId: string, direct: Promise<DirectTransport>): void {
    if (this.byRouter.get(routerId) === direct) this.byRouter.delete(routerId);
  }
}

/** Asked for a transport after the user's media was torn down. */
export class DirectTransportsClosedError extends NamedError {
  constructor() {
    super('the user media is closed');
  }
}
