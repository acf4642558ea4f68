import { expect } from 'chai';
import { SLOW_LINK_INTERVAL_MS, SlowLinkGate, lostPackets } from '../src/media/slowlink';

describe('media: slow link reports', () => {
  it('reports a bad score once per interval, never a good one', () => {
    const gate = new SlowLinkGate();
    expect(gate.report(10, 0)).to.equal(false);
    expect(gate.report(7, 0)).to.equal(false);
    expect(gate.report(6, 1000)).to.equal(true);
    expect(gate.report(2, 1000 + SLOW_LINK_INTERVAL_MS - 1)).to.equal(false);
    expect(gate.report(2, 1000 + SLOW_LINK_INTERVAL_MS)).to.equal(true);
  });

  it('sums packetsLost over streams, 0 when stats fail', async () => {
    expect(await lostPackets({ getStats: async () => [{ packetsLost: 3 }, {}, { packetsLost: 4 }] })).to.equal(7);
    expect(await lostPackets({ getStats: async () => Promise.reject(new Error('closed')) })).to.equal(0);
  });
});
