// Makes the race between a mediasoup object's creation and its transport's close deterministic:
// the first `transport.consume` (or `transport.produceData`) request goes out to the worker at
// once, but its answer reaches mediasoup's Transport method only after `meanwhile` (say, a
// detach and the teardown it causes) has resolved, as when the worker's answer is read after a
// close was sent.

import { Channel } from 'mediasoup/node/lib/Channel';
import { Transport } from 'mediasoup/node/lib/Transport';

/** The Transport method behind each raced request. */
const MAKERS = { 'transport.consume': 'consume', 'transport.produceData': 'produceData' } as const;

export interface AnswerRace {
  /** Every object the Transport method made while the race was set (any transport kind). */
  readonly made: Array<{ readonly closed: boolean }>;
  /** How many answers were held (at most one). */
  readonly held: number;
  /** Puts mediasoup's Channel.request and the Transport method back. */
  restore(): void;
}

export function raceFirstAnswer(method: keyof typeof MAKERS, meanwhile: () => Promise<void>): AnswerRace {
  const made: Array<{ readonly closed: boolean }> = [];
  let held = 0;
  const request = Channel.prototype.request;
  Channel.prototype.request = function (this: Channel, name: string, handlerId?: string, data?: object) {
    const answer = request.call(this, name, handlerId, data);
    if (name !== method || held > 0) return answer;
    held++;
    return answer.then(async (value) => {
      await meanwhile();
      return value;
    });
  };
  const prototype = Transport.prototype as unknown as Record<string, (...args: unknown[]) => Promise<{ closed: boolean }>>;
  const maker = MAKERS[method];
  const original = prototype[maker]!;
  prototype[maker] = async function (this: Transport, ...args: unknown[]) {
    const object = await original.apply(this, args);
    made.push(object);
    return object;
  };
  return {
    made,
    get held() {
      return held;
    },
    restore() {
      Channel.prototype.request = request;
      prototype[maker] = original;
    },
  };
}
