// Edit series 30: the Node side of series 10, a new `wire` option of Transport.consume().
// Why: stock consume() has no way to give a Consumer its recipient's extension ids and PTs,
// and it always draws random SSRCs, while Janus's answer SDP must carry the SSRCs the server
// will send with (chosen when writing the SDP, before the Consumer exists).
// Upstream: mediasoup issue #1126 / PR #1783 (which overrides RtpParameters in ConsumerOptions).
//
//   transport.consume({ producerId, rtpCapabilities, mid, wire: {
//     headerExtensions: [{ uri, id }],            // the recipient's extmap; others are blanked
//     codecs: [{ mimeType, payloadType, rtxPayloadType? }],   // the recipient's PTs
//     ssrc, rtxSsrc } })                          // our SSRCs, as written in the SDP
//
// consumer.rtpParameters keep the router's ids and PTs (what the worker works with), but
// carry the given SSRCs. Extensions are matched by URI (stock mediasoup matches the router's
// id), so rtpCapabilities may carry the recipient's real ids.

const WIRE_FUNCTION = `
// luasfu edit (mediasoup #1126): validates consume()'s \`wire\` option, puts its SSRCs into
// rtpParameters and returns the worker's maps: { headerExtensionIds: [[routerId, id]],
// payloadTypes: [[routerPt, pt]] } (see patches/mediasoup/30-node-consume-wire.mjs).
function luasfuWireMaps(wire, rtpParameters, routerRtpCapabilities, kind) {
    const inRange = (n, min, max) => Number.isInteger(n) && n >= min && n <= max;
    const isRtx = (codec) => codec.mimeType.toLowerCase().endsWith('/rtx');
    const maps = {};
    if (wire.headerExtensions !== undefined) {
        if (!Array.isArray(wire.headerExtensions)) {
            throw new TypeError('wire.headerExtensions must be an array');
        }
        const ids = new Set();
        maps.headerExtensionIds = [];
        for (const ext of wire.headerExtensions) {
            if (!ext || typeof ext.uri !== 'string' || !inRange(ext.id, 1, 255) || ids.has(ext.id)) {
                throw new TypeError(\`invalid or duplicate wire.headerExtensions entry \${JSON.stringify(ext)}\`);
            }
            ids.add(ext.id);
            for (const routerExt of routerRtpCapabilities.headerExtensions) {
                if (routerExt.kind === kind && routerExt.uri === ext.uri) {
                    maps.headerExtensionIds.push([routerExt.preferredId, ext.id]);
                }
            }
        }
    }
    if (wire.codecs !== undefined) {
        if (!Array.isArray(wire.codecs)) {
            throw new TypeError('wire.codecs must be an array');
        }
        maps.payloadTypes = [];
        for (const w of wire.codecs) {
            if (!w || typeof w.mimeType !== 'string' || !inRange(w.payloadType, 0, 127) ||
                (w.rtxPayloadType !== undefined && !inRange(w.rtxPayloadType, 0, 127))) {
                throw new TypeError(\`invalid wire.codecs entry \${JSON.stringify(w)}\`);
            }
        }
        for (const codec of rtpParameters.codecs) {
            if (isRtx(codec)) {
                continue;
            }
            const w = wire.codecs.find((c) => c.mimeType.toLowerCase() === codec.mimeType.toLowerCase());
            if (!w) {
                continue;
            }
            maps.payloadTypes.push([codec.payloadType, w.payloadType]);
            const rtx = rtpParameters.codecs.find((c) => isRtx(c) && c.parameters && c.parameters.apt === codec.payloadType);
            if (rtx && w.rtxPayloadType !== undefined) {
                maps.payloadTypes.push([rtx.payloadType, w.rtxPayloadType]);
            }
        }
    }
    const encoding = rtpParameters.encodings[0];
    if (wire.ssrc !== undefined) {
        if (!inRange(wire.ssrc, 1, 0xffffffff)) {
            throw new TypeError('wire.ssrc must be an integer in 1..2^32-1');
        }
        encoding.ssrc = wire.ssrc;
    }
    if (wire.rtxSsrc !== undefined) {
        if (!inRange(wire.rtxSsrc, 1, 0xffffffff)) {
            throw new TypeError('wire.rtxSsrc must be an integer in 1..2^32-1');
        }
        if (!encoding.rtx) {
            throw new TypeError('wire.rtxSsrc given but the consumer has no RTX');
        }
        encoding.rtx.ssrc = wire.rtxSsrc;
    }
    if (encoding.rtx && encoding.rtx.ssrc === encoding.ssrc) {
        throw new TypeError('wire.ssrc and the RTX ssrc must differ');
    }
    return maps;
}
`;

/** @type {import('./edits.mjs').Edit[]} */
export default [
  {
    id: 'node-consume-wire-option',
    target: 'node',
    file: 'node/lib/Transport.js',
    why: 'Accept the new `wire` option.',
    find: 'async consume({ producerId, rtpCapabilities, paused = false, mid, preferredLayers, ignoreDtx = false, enableRtx, pipe = false, appData }) {\n',
    replace: 'async consume({ producerId, rtpCapabilities, paused = false, mid, preferredLayers, ignoreDtx = false, enableRtx, pipe = false, appData, wire }) {\n',
  },
  {
    id: 'node-consume-wire-params',
    target: 'node',
    file: 'node/lib/Transport.js',
    why: 'With wire.headerExtensions, pick the router extensions by URI (not by id), then compute the maps and apply the SSRCs.',
    find: `        // This may throw.
        const rtpParameters = ortc.getConsumerRtpParameters({
            consumableRtpParameters: producer.consumableRtpParameters,
            remoteRtpCapabilities: rtpCapabilities,
            pipe,
            enableRtx
        });
`,
    replace: `        // luasfu edit (mediasoup #1126): see luasfuWireMaps() below.
        if (wire !== undefined && (pipe || !wire || typeof wire !== 'object')) {
            throw new TypeError('if given, wire must be an object (and pipe false)');
        }
        let remoteRtpCapabilities = rtpCapabilities;
        if (wire && wire.headerExtensions) {
            const uris = new Set(wire.headerExtensions.map((ext) => ext && ext.uri));
            remoteRtpCapabilities = {
                ...rtpCapabilities,
                headerExtensions: this.#getRouterRtpCapabilities().headerExtensions
                    .filter((ext) => ext.kind === producer.kind && uris.has(ext.uri))
            };
        }
        // This may throw.
        const rtpParameters = ortc.getConsumerRtpParameters({
            consumableRtpParameters: producer.consumableRtpParameters,
            remoteRtpCapabilities,
            pipe,
            enableRtx
        });
        const wireMaps = wire
            ? luasfuWireMaps(wire, rtpParameters, this.#getRouterRtpCapabilities(), producer.kind)
            : undefined;
`,
  },
  {
    id: 'node-consume-wire-request',
    target: 'node',
    file: 'node/lib/Transport.js',
    why: 'Send the maps to the worker (parsed by edit consumer-wire-cpp-parse).',
    find: `            preferredLayers,
            ignoreDtx
        };
`,
    replace: `            preferredLayers,
            ignoreDtx,
            wire: wireMaps
        };
`,
  },
  {
    id: 'node-consume-wire-function',
    target: 'node',
    file: 'node/lib/Transport.js',
    why: 'The helper that validates `wire` and builds the maps.',
    find: 'exports.Transport = Transport;\n',
    replace: 'exports.Transport = Transport;\n' + WIRE_FUNCTION,
  },
  {
    id: 'node-consume-wire-dts',
    target: 'node',
    file: 'node/lib/Consumer.d.ts',
    why: 'Type the new option (src/media/mediasoup-edits.ts declares the same shape for our code).',
    find: `    pipe?: boolean;
    /**
     * Custom application data.
     */
    appData?: ConsumerAppData;
};
`,
    replace: `    pipe?: boolean;
    /**
     * Custom application data.
     */
    appData?: ConsumerAppData;
    /**
     * luasfu edit (mediasoup #1126): the recipient's header extension ids and payload types,
     * and our SSRCs, as they go on the wire.
     */
    wire?: {
        headerExtensions?: {
            uri: string;
            id: number;
        }[];
        codecs?: {
            mimeType: string;
            payloadType: number;
            rtxPayloadType?: number;
        }[];
        ssrc?: number;
        rtxSsrc?: number;
    };
};
`,
  },
];
