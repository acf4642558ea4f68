// Makes the race between a Consumer's creation and its transport's close deterministic: the
// first `transport.consume` request goes out to the worker at once, but its answer reaches
// mediasoup's Transport.consume() only after `meanwhile` (say, a detach and the teardown it
// causes) has resolved, as when the worker's answer is read after a close was sent.

import { Channel } from 'mediasoup/node/lib/Channel';
import type { Consumer } from 'mediasoup/node/lib/Consumer';
import { Transport } from 'mediasoup/node/lib/Transport';

export interface ConsumeRace {
  /** Every Consumer Transport.consume() made while the race was set (any transport kind). */
  readonly made: Consumer[];
  /** How many consume answers were held (at most one). */
  readonly held: number;
  /** Puts mediasoup's Channel.request and Transport.consume back. */
  restore(): void;
}

export function raceFirstConsume(meanwhile: () => Promise<void>): ConsumeRace {
  const made: Consumer[] = [];
  let held = 0;
  const request = Channel.prototype.request;
  Channel.prototype.request = function (this: Channel, method: string, handlerId?: string, data?: object) {
    const answer = request.call(this, method, handlerId, data);
    if (method !== 'transport.consume' || held > 0) return answer;
    held++;
    return answer.then(async (value) => {
      await meanwhile();
      return value;
    });
  };
  const consume = Transport.prototype.consume;
  Transport.prototype.consume = async function (this: Transport, options: Parameters<typeof consume>[0]) {
    const consumer = await consume.call(this, options);
    made.push(consumer);
    return consumer;
  } as typeof consume;
  return {
    made,
    get held() {
      return held;
    },
    restore() {
      Channel.prototype.request = request;
      Transport.prototype.consume = consume;
    },
  };
}
