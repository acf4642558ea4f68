// Compares two builds' main-thread SDP work per client offer, in one process, block by block
// (scripts/lib/paired-blocks.mjs). One unit is what the core does for an offer and the
// script's answer: parse, extract and anonymise the offer (clientJsepForScript), parse the
// answer, choose SSRCs, merge it with a transport's ICE/DTLS, negotiate, and copy both SDPs to
// UTF-8 as the bridge and the WebSocket do. Run by hand, from any checkout:
//
//   node scripts/ab-sdp.mjs <checkoutA> <checkoutB> [--offer wrtc-offer.sdp] \
//     [--answer lua-echotest-answer-wrtc.sdp] [--blocks 30] [--units 300]
//
// Each checkout needs its dist/ built. The SDPs are test/fixtures/sdp files of this checkout.
// Exits with 1 when the two builds' results differ (SSRCs and o= aside, which are random).
import { readFileSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { comparePaired, loadBuild } from './lib/paired-blocks.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    offer: { type: 'string', default: 'wrtc-offer.sdp' },
    answer: { type: 'string', default: 'lua-echotest-answer-wrtc.sdp' },
    blocks: { type: 'string', default: '30' },
    units: { type: 'string', default: '300' },
  },
});
if (positionals.length !== 2) {
  console.error('usage: ab-sdp.mjs <checkoutA> <checkoutB> [--offer F] [--answer F] [--blocks N] [--units N]');
  process.exit(2);
}
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'sdp');
const offer = readFileSync(join(fixtures, values.offer), 'utf8');
const answer = readFileSync(join(fixtures, values.answer), 'utf8');
const blocks = Math.min(Math.max(Number(values.blocks) || 30, 2), 1000);
const units = Math.min(Math.max(Number(values.units) || 300, 1), 100_000);
// A transport as mediasoup describes one (one host candidate, a sha-256 fingerprint).
const transport = {
  iceParameters: { usernameFragment: 'abcdefghijklmnop', password: 'abcdefghijklmnopqrstuvwxyz012345', iceLite: true },
  iceCandidates: [{ foundation: 'udpcandidate', priority: 1076302079, ip: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host' }],
  dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('AB').join(':') }] },
};

function side(checkout) {
  return loadBuild(checkout, (require) => {
    const sdp = (name) => require(resolve(checkout, 'dist/src/media/sdp', name));
    const { clientJsepForScript, ourDtlsRole } = sdp('client-sdp.js');
    const { localMediaOf, mergeLocalSdp } = sdp('merge.js');
    const { parseSdp } = sdp('sdp-text.js');
    const { chooseLocalSsrcs } = sdp('local-ssrcs.js');
    const { negotiate } = sdp('negotiation.js');
    const run = () => {
      const { jsep, client } = clientJsepForScript({ type: 'offer', sdp: offer });
      const plugin = parseSdp(answer);
      const media = localMediaOf(plugin, 'answer', client);
      const localSsrcs = chooseLocalSsrcs(media, { avoid: client.media.flatMap((m) => m.ssrcs), previous: {} });
      const merged = mergeLocalSdp(plugin, {
        type: 'answer', announcedIp: '127.0.0.1', ...transport, dtlsRole: ourDtlsRole(client.setup), client, localSsrcs, sctpMaxMessageSize: 262144,
      });
      const negotiation = negotiate({ client, local: merged.parsed, clientIsOfferer: true });
      Buffer.from(jsep.sdp);
      Buffer.from(merged.sdp);
      return { jsep, client, merged: merged.sdp, negotiation };
    };
    return { name: checkout, run };
  });
}

const sides = positionals.map(side);
// Random SSRCs and o= session ids aside, both builds must give the same results.
const comparable = (r) => JSON.stringify(r, (k, v) => (k === 'ssrc' || k === 'rtxSsrc' ? 0 : v))
  .replace(/a=ssrc[^\\]*\\r\\n/g, '').replace(/o=[^\\]*\\r\\n/g, '').replace(/FID \d+ \d+/g, 'FID');
if (comparable(sides[0].run()) !== comparable(sides[1].run())) {
  console.error('the two builds give different results for this offer and answer');
  process.exit(1);
}
comparePaired(sides, { blocks, runs: units, warmup: 2000, what: 'offer' });
