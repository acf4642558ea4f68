// Page side of the browser tests: a thin layer over the real janus.js (Janus 1.1.2 API:
// new Janus({server}), attach, createOffer/createAnswer with `tracks`, send, data,
// handleRemoteJsep). It keeps what janus.js reports (messages, remote tracks, data, webrtc
// state) so the test (Node, through playwright) can poll it, and summarises getStats.
/* global Janus */
'use strict';

window.lsfu = (function () {
  const handles = {};
  let janus = null;
  const errors = [];

  function init() {
    return new Promise((resolve) => Janus.init({ debug: false, callback: resolve }));
  }

  async function connect(server) {
    await init();
    return new Promise((resolve, reject) => {
      janus = new Janus({
        server,
        iceServers: [],
        success: () => resolve(janus.getSessionId()),
        error: (error) => { errors.push(String(error)); reject(new Error(String(error))); },
        destroyed: () => {},
      });
    });
  }

  function attach(name, plugin) {
    const state = {
      handle: null, messages: [], data: [], dataOpen: [], webrtc: [], remoteTracks: [],
      media: [], slowLink: 0, cleanups: 0, detached: false,
    };
    handles[name] = state;
    return new Promise((resolve, reject) => {
      janus.attach({
        plugin,
        opaqueId: 'luasfu-' + name,
        success: (handle) => { state.handle = handle; resolve(handle.getId()); },
        error: (error) => { errors.push(String(error)); reject(new Error(String(error))); },
        onmessage: (msg, jsep) => { state.messages.push({ msg, jsep: jsep || null }); },
        webrtcState: (on, reason) => { state.webrtc.push({ on, reason: reason || null }); },
        mediaState: (medium, on, mid) => { state.media.push({ medium, on, mid }); },
        slowLink: () => { state.slowLink++; },
        onlocaltrack: () => {},
        onremotetrack: (track, mid, on) => {
          state.remoteTracks.push({ kind: track.kind, mid, on });
          if (!on) return;
          const id = 'remote-' + name + '-' + track.kind + '-' + mid;
          if (document.getElementById(id)) return;
          const el = document.createElement(track.kind === 'video' ? 'video' : 'audio');
          el.id = id;
          el.autoplay = true;
          el.playsInline = true;
          el.muted = true;
          document.getElementById('media').appendChild(el);
          Janus.attachMediaStream(el, new MediaStream([track]));
          el.play().catch((e) => errors.push('play: ' + e));
        },
        ondataopen: (label, protocol) => { state.dataOpen.push({ label, protocol: protocol || null }); },
        ondata: (data, label) => { state.data.push({ data, label }); },
        oncleanup: () => { state.cleanups++; },
        ondetached: () => { state.detached = true; },
      });
    });
  }

  function h(name) {
    const state = handles[name];
    if (!state || !state.handle) throw new Error('no handle ' + name);
    return state.handle;
  }

  /** Sends a message; resolves with the synchronous plugin reply (or undefined after an ack). */
  function send(name, message, jsep) {
    return new Promise((resolve, reject) => {
      const request = { message, success: (result) => resolve(result === undefined ? null : result), error: (e) => reject(new Error(String(e))) };
      if (jsep) request.jsep = jsep;
      h(name).send(request);
    });
  }

  function offer(name, tracks) {
    return new Promise((resolve, reject) => {
      h(name).createOffer({ tracks, success: resolve, error: (e) => reject(new Error(String(e && e.message || e))) });
    });
  }

  function answer(name, jsep, tracks) {
    return new Promise((resolve, reject) => {
      h(name).createAnswer({ jsep, tracks, success: resolve, error: (e) => reject(new Error(String(e && e.message || e))) });
    });
  }

  function remoteJsep(name, jsep) {
    return new Promise((resolve, reject) => {
      h(name).handleRemoteJsep({ jsep, success: () => resolve(true), error: (e) => reject(new Error(String(e && e.message || e))) });
    });
  }

  function sendData(name, text) {
    return new Promise((resolve, reject) => {
      h(name).data({ text, success: () => resolve(true), error: (e) => reject(new Error(String(e))) });
    });
  }

  /** Counters from getStats, summed per kind. */
  async function stats(name) {
    const pc = h(name).webrtcStuff.pc;
    const out = {
      audioPacketsReceived: 0, audioBytesReceived: 0,
      videoPacketsReceived: 0, videoBytesReceived: 0, framesDecoded: 0, frameWidth: 0,
      videoBytesSent: 0, audioBytesSent: 0, framesEncoded: 0, sendWidth: 0, qualityLimitation: null,
      timestamp: performance.now(),
    };
    if (!pc) return out;
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.audioPacketsReceived += s.packetsReceived || 0;
        out.audioBytesReceived += s.bytesReceived || 0;
      } else if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.videoPacketsReceived += s.packetsReceived || 0;
        out.videoBytesReceived += s.bytesReceived || 0;
        out.framesDecoded += s.framesDecoded || 0;
        out.frameWidth = Math.max(out.frameWidth, s.frameWidth || 0);
      } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.videoBytesSent += s.bytesSent || 0;
        out.framesEncoded += s.framesEncoded || 0;
        out.sendWidth = Math.max(out.sendWidth, s.frameWidth || 0);
        out.qualityLimitation = s.qualityLimitationReason || null;
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.audioBytesSent += s.bytesSent || 0;
      }
    });
    return out;
  }

  /** The remote video elements of a handle: size and playback position. */
  function videos(name) {
    const prefix = 'remote-' + name + '-video-';
    return Array.from(document.querySelectorAll('video'))
      .filter((el) => el.id.startsWith(prefix))
      .map((el) => ({ id: el.id, videoWidth: el.videoWidth, videoHeight: el.videoHeight, currentTime: el.currentTime, paused: el.paused, readyState: el.readyState }));
  }

  /** What a test polls: messages and the rest, without the handle objects. */
  function state(name) {
    const s = handles[name];
    if (!s) return null;
    return { messages: s.messages, data: s.data, dataOpen: s.dataOpen, webrtc: s.webrtc, remoteTracks: s.remoteTracks, media: s.media, cleanups: s.cleanups, detached: s.detached };
  }

  function hangup(name) { h(name).hangup(); return true; }
  function detach(name) {
    return new Promise((resolve) => h(name).detach({ success: () => resolve(true), error: () => resolve(false) }));
  }
  function destroy() {
    return new Promise((resolve) => {
      if (!janus) return resolve(false);
      janus.destroy({ success: () => resolve(true), error: () => resolve(false) });
    });
  }

  return { connect, attach, send, offer, answer, remoteJsep, sendData, stats, videos, state, hangup, detach, destroy, errors, handles };
})();
