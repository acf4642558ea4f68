// The offer both warm-ups negotiate: the script thread's (workers/lua/warm-up.ts) as it is,
// and the main thread's (src/media/sdp/warm-up.ts) as a browser sends it, made from this text
// by adding the transport lines. One offer, so both threads warm the paths a browser's
// audio + video + data call takes.

/**
 * A browser's offer (audio, video, data) without its transport lines (ICE, DTLS, SSRCs) and
 * with the anonymised address, close to what the core hands scripts.
 */
export const WARM_UP_OFFER = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 1.1.1.1', 's=-', 't=0 0',
  'a=group:BUNDLE 0 1 2', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS stream',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126', 'c=IN IP4 1.1.1.1', 'a=sendrecv', 'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid', 'a=msid:stream audio',
  'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2', 'a=fmtp:63 111/111', 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000', 'a=rtpmap:13 CN/8000', 'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 102 103 39', 'c=IN IP4 1.1.1.1', 'a=sendrecv', 'a=mid:1',
  'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:13 urn:3gpp:video-orientation',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id', 'a=msid:stream video',
  ...[['96', 'VP8'], ['98', 'VP9'], ['102', 'H264'], ['39', 'AV1']].flatMap(([pt, codec]) => [
    `a=rtpmap:${pt} ${codec}/90000`, `a=rtcp-fb:${pt} goog-remb`, `a=rtcp-fb:${pt} transport-cc`,
    `a=rtcp-fb:${pt} ccm fir`, `a=rtcp-fb:${pt} nack`, `a=rtcp-fb:${pt} nack pli`,
  ]),
  'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96', 'a=fmtp:98 profile-id=0', 'a=rtpmap:99 rtx/90000', 'a=fmtp:99 apt=98',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:103 rtx/90000', 'a=fmtp:103 apt=102',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 1.1.1.1', 'a=mid:2', 'a=sctp-port:5000',
  'a=max-message-size:262144', '',
].join('\r\n');
