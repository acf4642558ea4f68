// Edit series 40: a `sctpStreamId` option of Transport.consumeData() (Node side only).
// Why: a WebRTC data channel is one bidirectional SCTP stream. When the client opens
// `JanusDataChannel` on stream N, our replies must go out on stream N too, but stock
// consumeData() always takes mediasoup's next free stream id, which can even be the id of
// another client channel. The worker accepts any stream id for a DataConsumer.
// Upstream: no issue; mediasoup models DataProducers and DataConsumers as separate streams.

/** @type {import('./edits.mjs').Edit[]} */
export default [
  {
    id: 'node-consume-data-stream-id-option',
    target: 'node',
    file: 'node/lib/Transport.js',
    why: 'Accept the new `sctpStreamId` option.',
    find: 'async consumeData({ dataProducerId, ordered, maxPacketLifeTime, maxRetransmits, appData }) {\n',
    replace: 'async consumeData({ dataProducerId, ordered, maxPacketLifeTime, maxRetransmits, appData, sctpStreamId: wantedSctpStreamId }) {\n',
  },
  {
    id: 'node-consume-data-stream-id-use',
    target: 'node',
    file: 'node/lib/Transport.js',
    why: 'Use the given stream id (validated) instead of the next free one.',
    find: `            // This may throw.
            sctpStreamId = this.getNextSctpStreamId();
            this.#sctpStreamIds[sctpStreamId] = 1;
`,
    replace: `            // luasfu edit: reply on the client's own stream (patches/mediasoup/40-node-consume-data-stream.mjs).
            if (wantedSctpStreamId !== undefined) {
                const numStreams = this.#data.sctpParameters ? this.#data.sctpParameters.MIS : 0;
                if (!this.#sctpStreamIds && numStreams > 0) {
                    this.#sctpStreamIds = Buffer.alloc(numStreams, 0);
                }
                if (!Number.isInteger(wantedSctpStreamId) || wantedSctpStreamId < 0 ||
                    wantedSctpStreamId >= numStreams) {
                    throw new TypeError('invalid sctpStreamId');
                }
                sctpStreamId = wantedSctpStreamId;
            }
            else {
                // This may throw.
                sctpStreamId = this.getNextSctpStreamId();
            }
            this.#sctpStreamIds[sctpStreamId] = 1;
`,
  },
  {
    id: 'node-consume-data-stream-id-types',
    target: 'node',
    file: 'node/lib/DataConsumer.d.ts',
    why: 'Type the new option.',
    find: `    maxRetransmits?: number;
    /**
     * Custom application data.
     */
    appData?: DataConsumerAppData;
};`,
    replace: `    maxRetransmits?: number;
    /**
     * luasfu edit: SCTP stream id to send on (default: the next free one).
     */
    sctpStreamId?: number;
    /**
     * Custom application data.
     */
    appData?: DataConsumerAppData;
};`,
  },
];
