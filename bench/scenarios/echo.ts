// Scenario `echo`: N concurrent WebRTC echo sessions. Each is a libwebrtc peer sending a
// generated video (--width x --height at --fps) and a tone (and with --data a data channel
// message every 100 ms), negotiated with the echo plugin ({"audio":true,"video":true}, the
// peer's offer, trickled candidates). Once every session is up, media runs for --duration
// seconds; per session we count what came back (RTP packets, decoded frames, audio chunks,
// data messages). Packets relayed = RTP packets the peers received back in that window
// (each one crossed the server); offer->answer and offer->webrtcup per session. Without
// --ramp the offers go out together once every peer has made its own, and the generated media
// starts once every session is up; the bench's event loop and the CPU of both processes are
// watched while the sessions join, and join latencies taken while the loop had no slack are
// marked client-bound. With --events-port, each join also comes on the server's clock and
// with the time each message took to cross between the two processes.

import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { JsonObject } from '../../src/plugin/json';
import { isJsonObject } from '../../src/plugin/json';
import { once } from '../../src/common/once';
import { BenchFailure, JanusReplyError, errorCode, oneLine } from '../lib/errors';
import { MediaPeer, type PeerCounters, addCounters, holdGeneratedMedia, subtractCounters, zeroCounters } from '../lib/peer';
import { treeRunNs } from '../lib/proc';
import { type Counters, type RunContext, type Scenario, type ScenarioOutcome, cpuPer } from '../lib/run';
import type { JoinTimes, ServerJoinPhases } from '../lib/server-events';
import { Tally, histogram, rate, summarize } from '../lib/stats';
import { HandleWatch, type OpenSession, fmtMs, fmtRate, openSession } from './common';

interface EchoSession extends OpenSession {
  index: number;
  peer: MediaPeer;
  watch: HandleWatch;
  offerToAnswerMs: number;
  offerToWebrtcupMs: number;
  /** performance.now() when the offer went out and when the client had applied the answer. */
  sentAt: number;
  appliedAt: number;
  upAt: number;
}

/** Where offer -> webrtcup went, per session (ms); the client's states are its libwebrtc's. */
interface JoinPhases {
  /** The client's setRemoteDescription(answer). */
  applyAnswer: number;
  /** Answer applied -> the client's ICE connected (its checks answered, nominated). */
  ice: number;
  /** The client's ICE connected -> its PeerConnection connected (DTLS done). */
  dtls: number;
  /** The client's DTLS done -> webrtcup received (the server's own DTLS notification, setupMedia, the event). */
  toWebrtcup: number;
}

/**
 * What crossing between the two processes took, per session (ms, both on the machine's wall
 * clock): the server's event minus the client's moment or the reverse. Large values with short
 * server phases mean a process's event loop held the message, not the network.
 */
interface Crossings {
  /** The client sent the offer -> the server's offer event (the server parses it first). */
  offerIn: number;
  /** The server's answer event -> the client had the answer. */
  answerOut: number;
  /** The server's webrtcup event -> the client had webrtcup. */
  webrtcupOut: number;
}

function crossingsOf(s: EchoSession, t: Readonly<JoinTimes> | undefined): Crossings | undefined {
  if (t?.offer === undefined || t.answer === undefined || t.up === undefined) return undefined;
  const wall = (at: number): number => performance.timeOrigin + at;
  return {
    offerIn: t.offer / 1000 - wall(s.sentAt),
    answerOut: wall(s.sentAt + s.offerToAnswerMs) - t.answer / 1000,
    webrtcupOut: wall(s.upAt) - t.up / 1000,
  };
}

function phasesOf(s: EchoSession): JoinPhases | undefined {
  const { iceConnectedAt, connectedAt } = s.peer;
  if (iceConnectedAt === undefined || connectedAt === undefined) return undefined;
  const answeredAt = s.sentAt + s.offerToAnswerMs;
  return {
    applyAnswer: s.appliedAt - answeredAt,
    ice: iceConnectedAt - s.appliedAt,
    dtls: connectedAt - iceConnectedAt,
    toWebrtcup: s.upAt - connectedAt,
  };
}

/** The bench's own event loop from the first offer to the last session up. */
interface ClientDuringJoins {
  /** Busy share of the event loop (1 = no slack: every message waited for the loop). */
  eventLoopUtilization: number;
  /** How late a 1 ms timer fired, p50 / p99 / max (ms). */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
}

/** CPU the server's process tree and the bench used from the first offer to the last session up. */
interface CpuDuringJoins {
  windowMs: number;
  /** Every thread of the server and its children (schedstat, ns precision); null without --server-pid. */
  serverCpuMs: number | null;
  /** The bench process, libwebrtc's threads included. */
  clientCpuMs: number;
}

/**
 * Join latencies are marked client-bound when the bench's event loop had no slack while the
 * sessions joined: each answer and webrtcup then waited in its queue, on either server.
 */
const JOINS_CLIENT_BOUND_ELU = 0.9;

function watchDuringJoins(serverPid: number | undefined): { end(): { client: ClientDuringJoins; cpu: CpuDuringJoins } } {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  const client = process.cpuUsage();
  const server = serverPid === undefined ? undefined : { pid: serverPid, ranNs: treeRunNs(serverPid) };
  return {
    end() {
      const serverNs = server && treeRunNs(server.pid) - server.ranNs;
      const used = process.cpuUsage(client);
      delay.disable();
      const ms = (ns: number): number => Number((ns / 1e6).toFixed(2));
      return {
        client: {
          eventLoopUtilization: Number(performance.eventLoopUtilization(elu).utilization.toFixed(3)),
          delayP50Ms: ms(delay.percentile(50)),
          delayP99Ms: ms(delay.percentile(99)),
          delayMaxMs: ms(delay.max),
        },
        cpu: {
          windowMs: Number((performance.now() - t0).toFixed(2)),
          serverCpuMs: serverNs === undefined ? null : ms(serverNs),
          clientCpuMs: Number(((used.user + used.system) / 1000).toFixed(2)),
        },
      };
    },
  };
}

/**
 * "All at once" (no --ramp) means the offers: each session first opens its handle and creates
 * its peer and offer, and the offers go out together once every session is that far (or has
 * failed), so no join's latency includes the bench making the other peers' offers.
 */
class OfferGate {
  private left: number;
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => {
    this.open = resolve;
  });

  constructor(count: number) {
    this.left = count;
    if (count <= 0) this.open();
  }

  /**
   * One session's place at the gate: calling it says the session is ready to send its offer,
   * or will never send one (counted once however often it is called), and waits for the rest.
   */
  ticket(): () => Promise<void> {
    const arrive = once(() => {
      if (--this.left === 0) this.open();
    });
    return () => {
      arrive();
      return this.opened;
    };
  }
}

/** How long after the media window the server's last events may take to arrive (handlers batch them). */
const SERVER_EVENTS_WAIT_MS = 3000;

export class EchoScenario implements Scenario {
  readonly unit = 'pkts';
  private sessionsUp = 0;
  private relayed = 0;
  private readonly errors = new Tally();

  counters(): Counters {
    return { sessionsUp: this.sessionsUp, operations: this.relayed, errors: this.errors.total };
  }

  async run(context: RunContext): Promise<ScenarioOutcome> {
    const { options } = context;
    const sessions: EchoSession[] = [];
    const leftovers: Array<{ close(): Promise<void> | void }> = [];
    // Joining all at once, the camera and microphone start once every session is up (a frame
    // handed over while the peers' encoders were set up blocked the bench for up to 80 ms,
    // holding the other joins' messages on either server). Ramped joins keep them running.
    const releaseMedia = options.ramp > 0 ? undefined : holdGeneratedMedia();
    try {
      const gate = options.ramp > 0 ? undefined : new OfferGate(options.sessions);
      const serverPid = context.server?.pid;
      let joinWatch = gate ? undefined : watchDuringJoins(serverPid);
      void gate?.opened.then(() => {
        joinWatch = watchDuringJoins(serverPid);
      });
      const results = await context.ramp(options.sessions, async (index) => {
        const session = await this.start(context, index, leftovers, gate);
        sessions.push(session);
        this.sessionsUp++;
        return session;
      });
      const duringJoins = (joinWatch ?? watchDuringJoins(serverPid)).end();
      releaseMedia?.();
      for (const r of results) if (r.status === 'rejected') this.errors.add(errorCode(r.reason), oneLine(r.reason));
      if (sessions.length === 0) throw new BenchFailure(`no echo session came up: ${this.errors.first ?? oneLine(context.signal.reason)}`);
      sessions.sort((a, b) => a.index - b.index);

      // The measured window: all sessions up, the warm-up over, media for --duration seconds.
      await context.sleep(options.warmup * 1000);
      const cpu = context.cpuWindow();
      const start = await snapshot(sessions);
      const t0 = performance.now();
      const end = t0 + options.duration * 1000;
      while (!context.stopped && performance.now() < end) {
        await context.sleep(Math.min(1000, end - performance.now()));
        const now = await snapshot(sessions);
        this.relayed = sumOf(now, start).packetsReceived;
      }
      const stop = await snapshot(sessions);
      const seconds = (performance.now() - t0) / 1000;
      const used = cpu.end();
      const handles = sessions.map((s) => s.handleId);
      await context.events?.settle(handles, SERVER_EVENTS_WAIT_MS, context.signal);
      const events = context.events;
      const crossings = events && sessions.flatMap((s) => crossingsOf(s, events.times(s.handleId)) ?? []);
      return this.outcome(context, sessions, start, stop, seconds, results.length, used, { server: events?.phases(handles), crossings, client: duringJoins.client, cpu: duringJoins.cpu });
    } finally {
      releaseMedia?.();
      await Promise.all([
        ...sessions.map(async (s) => {
          s.watch.close();
          s.peer.close();
          await s.connection.close([s.handleId]);
        }),
        ...leftovers.map((l) => l.close()),
      ]);
    }
  }

  private async start(
    context: RunContext, index: number, leftovers: Array<{ close(): Promise<void> | void }>, gate: OfferGate | undefined,
  ): Promise<EchoSession> {
    const { options } = context;
    const ready = gate?.ticket() ?? (() => Promise.resolve());
    let opened: OpenSession;
    try {
      opened = await openSession(context);
    } catch (error) {
      void ready();
      throw error;
    }
    const { connection, handleId } = opened;
    const watch = new HandleWatch(connection, handleId);
    let peer: MediaPeer | undefined;
    try {
      peer = new MediaPeer(
        { audio: options.audio, video: options.video, data: options.data, width: options.width, height: options.height, fps: options.fps },
        (candidate) => connection.trickle(handleId, candidate),
      );
      const offer = await peer.offer();
      await ready();
      const sentAt = performance.now();
      const reply = await connection.message(handleId, { audio: options.audio, video: options.video, data: options.data }, { ...offer });
      const offerToAnswerMs = performance.now() - sentAt;
      const jsep = reply.jsep;
      if (!isJsonObject(jsep) || jsep.type !== 'answer' || typeof jsep.sdp !== 'string') {
        throw new JanusReplyError('no-answer', `the plugin's reply carries no SDP answer: ${JSON.stringify(reply).slice(0, 200)}`);
      }
      await peer.accept({ type: 'answer', sdp: jsep.sdp });
      const appliedAt = performance.now();
      const upAt = await watch.wait('webrtcup', Math.max(options.timeoutMs, 10_000), context.signal);
      return { index, connection, handleId, peer, watch, offerToAnswerMs, offerToWebrtcupMs: upAt - sentAt, sentAt, appliedAt, upAt };
    } catch (error) {
      void ready();
      watch.close();
      const failedPeer = peer;
      leftovers.push({ close: () => failedPeer?.close() }, { close: () => connection.close([handleId]) });
      throw error;
    }
  }

  private outcome(
    context: RunContext, sessions: EchoSession[], start: PeerCounters[], stop: PeerCounters[], seconds: number, attempted: number,
    used: { serverCpuMs: number | null; clientCpuMs: number },
    joins: { server: ServerJoinPhases[] | undefined; crossings: Crossings[] | undefined; client: ClientDuringJoins; cpu: CpuDuringJoins },
  ): ScenarioOutcome {
    const { options } = context;
    const { server: serverJoins, crossings, client: duringJoins, cpu: joinCpu } = joins;
    const joinsClientBound = duringJoins.eventLoopUtilization > JOINS_CLIENT_BOUND_ELU;
    const perSession: JsonObject[] = sessions.map((s, i) => {
      const d = subtractCounters(stop[i]!, start[i]!);
      return {
        session: s.index,
        packetsReceived: d.packetsReceived,
        packetsReceivedAudio: d.packetsReceivedAudio,
        packetsReceivedVideo: d.packetsReceivedVideo,
        packetsLost: d.packetsLost,
        framesDecoded: d.framesDecoded,
        videoFramesRendered: s.peer.videoFrames,
        frameSize: s.peer.lastFrameSize,
        audioChunks: s.peer.audioChunks,
        dataSent: s.peer.dataSent,
        dataReceived: s.peer.dataReceived,
        packetsSent: d.packetsSent,
        offerToAnswerMs: Number(s.offerToAnswerMs.toFixed(2)),
        offerToWebrtcupMs: Number(s.offerToWebrtcupMs.toFixed(2)),
      };
    });
    const phases = sessions.map(phasesOf).filter((p): p is JoinPhases => p !== undefined);
    const phase = (key: keyof JoinPhases) => summarize(phases.map((p) => p[key]));
    const joinPhasesMs = { applyAnswer: phase('applyAnswer'), ice: phase('ice'), dtls: phase('dtls'), toWebrtcup: phase('toWebrtcup') };
    const server = serverJoins && {
      sessions: serverJoins.length,
      answer: summarize(serverJoins.map((p) => p.answer)),
      ice: summarize(serverJoins.map((p) => p.ice)),
      dtls: summarize(serverJoins.map((p) => p.dtls)),
      webrtcup: summarize(serverJoins.map((p) => p.webrtcup)),
      total: summarize(serverJoins.map((p) => p.total)),
    };
    const crossed = crossings && {
      sessions: crossings.length,
      offerIn: summarize(crossings.map((c) => c.offerIn)),
      answerOut: summarize(crossings.map((c) => c.answerOut)),
      webrtcupOut: summarize(crossings.map((c) => c.webrtcupOut)),
    };
    const total = sumOf(stop, start);
    this.relayed = total.packetsReceived;
    const missing: string[] = [];
    perSession.forEach((s) => {
      if (options.video && Number(s.framesDecoded) === 0) missing.push(`session ${String(s.session)} decoded no video`);
      if (options.audio && Number(s.packetsReceivedAudio) === 0) missing.push(`session ${String(s.session)} received no audio`);
      if (options.data && Number(s.dataReceived) === 0) missing.push(`session ${String(s.session)} got no data channel echo`);
    });
    const webrtcup = summarize(sessions.map((s) => s.offerToWebrtcupMs));
    const answer = summarize(sessions.map((s) => s.offerToAnswerMs));
    const packetsPerSec = rate(total.packetsReceived, seconds);
    // Server CPU per 1,000 relayed packets: comparable across servers on a busy machine.
    const serverCpuMsPer1kPackets = cpuPer(used.serverCpuMs, total.packetsReceived, 1000);
    return {
      figures: {
        unit: this.unit,
        sessions: sessions.length,
        sessionsFailed: attempted - sessions.length,
        measuredSec: Number(seconds.toFixed(3)),
        packetsRelayed: total.packetsReceived,
        packetsRelayedAudio: total.packetsReceivedAudio,
        packetsRelayedVideo: total.packetsReceivedVideo,
        packetsRelayedPerSec: packetsPerSec,
        packetsSentByPeers: total.packetsSent,
        packetsLost: total.packetsLost,
        framesDecoded: total.framesDecoded,
        serverCpuMsPer1kPackets: serverCpuMsPer1kPackets ?? 'not measured',
        clientCpuMsPer1kPackets: cpuPer(used.clientCpuMs, total.packetsReceived, 1000),
        offerToAnswerMs: { ...answer },
        offerToWebrtcupMs: { ...webrtcup },
        clientDuringJoins: { ...duringJoins },
        cpuDuringJoins: { ...joinCpu, serverCpuMs: joinCpu.serverCpuMs ?? 'not measured' },
        joinsClientBound,
        joinPhasesMs: {
          applyAnswer: { ...joinPhasesMs.applyAnswer },
          ice: { ...joinPhasesMs.ice },
          dtls: { ...joinPhasesMs.dtls },
          toWebrtcup: { ...joinPhasesMs.toWebrtcup },
        },
        serverJoinPhasesMs: server
          ? { sessions: server.sessions, answer: { ...server.answer }, ice: { ...server.ice }, dtls: { ...server.dtls }, webrtcup: { ...server.webrtcup }, total: { ...server.total } }
          : 'not measured (give --events-port)',
        crossingsMs: crossed
          ? { sessions: crossed.sessions, offerIn: { ...crossed.offerIn }, answerOut: { ...crossed.answerOut }, webrtcupOut: { ...crossed.webrtcupOut } }
          : 'not measured (give --events-port)',
        perSession,
      },
      rows: [
        ['sessions', `${sessions.length} up of ${attempted} (${options.audio ? 'audio' : ''}${options.audio && options.video ? ' + ' : ''}${options.video ? `video ${options.width}x${options.height}@${options.fps}` : ''}${options.data ? ' + data' : ''})`],
        ['packets relayed', `${total.packetsReceived} in ${seconds.toFixed(1)} s = ${fmtRate(packetsPerSec)} pkt/s (audio ${total.packetsReceivedAudio}, video ${total.packetsReceivedVideo}; peers sent ${total.packetsSent}, lost ${total.packetsLost})`],
        ['server CPU / 1,000 pkts', serverCpuMsPer1kPackets === null ? 'not measured' : `${serverCpuMsPer1kPackets} ms`],
        ['frames decoded', `${total.framesDecoded} (per session ${perSession.map((s) => s.framesDecoded).join(', ')})`],
        ['offer -> answer', `p50 ${fmtMs(answer.p50)}, max ${fmtMs(answer.max)}`],
        ['offer -> webrtcup', `p50 ${fmtMs(webrtcup.p50)}, p90 ${fmtMs(webrtcup.p90)}, max ${fmtMs(webrtcup.max)}${joinsClientBound ? ' (client-bound)' : ''}`],
        ['  client while joining', `event loop busy ${(duringJoins.eventLoopUtilization * 100).toFixed(0)}%, timer late p50 ${fmtMs(duringJoins.delayP50Ms)}, ` +
          `p99 ${fmtMs(duringJoins.delayP99Ms)}, max ${fmtMs(duringJoins.delayMaxMs)}${joinsClientBound ? ': the join latencies are the client\'s, not the server\'s' : ''}`],
        ['  CPU while joining', `${fmtMs(joinCpu.windowMs)}: server ${joinCpu.serverCpuMs === null ? 'not measured' : fmtMs(joinCpu.serverCpuMs)}, bench ${fmtMs(joinCpu.clientCpuMs)}`],
        ['  after the answer (p50)', `client applies it ${fmtMs(joinPhasesMs.applyAnswer.p50)}, then ICE ${fmtMs(joinPhasesMs.ice.p50)}, DTLS ${fmtMs(joinPhasesMs.dtls.p50)}, then webrtcup ${fmtMs(joinPhasesMs.toWebrtcup.p50)}`],
        ...(server ? [[
          '  server clock (p50)',
          `offer event -> answer event ${fmtMs(server.answer.p50)}, -> ICE connected ${fmtMs(server.ice.p50)}, -> DTLS ${fmtMs(server.dtls.p50)}, ` +
            `-> webrtcup ${fmtMs(server.webrtcup.p50)}; offer -> webrtcup ${fmtMs(server.total.p50)} (${server.sessions} of ${sessions.length} sessions)`,
        ] as [string, string]] : []),
        ...(crossed ? [[
          '  crossings (p50, p90)',
          `client offer -> server event ${fmtMs(crossed.offerIn.p50)}, ${fmtMs(crossed.offerIn.p90)}; server answer -> client ${fmtMs(crossed.answerOut.p50)}, ` +
            `${fmtMs(crossed.answerOut.p90)}; server webrtcup -> client ${fmtMs(crossed.webrtcupOut.p50)}, ${fmtMs(crossed.webrtcupOut.p90)}`,
        ] as [string, string]] : []),
        ...(options.data ? [['data channel', `echoes per session ${perSession.map((s) => s.dataReceived).join(', ')}`] as [string, string]] : []),
      ],
      histograms: [{ name: 'offerToWebrtcupMs', title: 'Offer to webrtcup', buckets: histogram(sessions.map((s) => s.offerToWebrtcupMs), 12) }],
      errors: this.errors,
      attempts: attempted,
      failure: missing.length > 0 && !context.stopped ? `media missing: ${missing.slice(0, 3).join('; ')}${missing.length > 3 ? ` (+${missing.length - 3} more)` : ''}` : undefined,
    };
  }
}

function snapshot(sessions: Array<{ peer: MediaPeer }>): Promise<PeerCounters[]> {
  return Promise.all(sessions.map((s) => s.peer.counters()));
}

function sumOf(now: PeerCounters[], then: PeerCounters[]): PeerCounters {
  return now.reduce((sum, c, i) => addCounters(sum, subtractCounters(c, then[i]!)), zeroCounters());
}
