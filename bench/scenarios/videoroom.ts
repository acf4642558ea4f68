// Scenario `videoroom`: P publishers and S subscribers per publisher (fan-out) in one room,
// over the VideoRoom API: the legacy one of Janus's videoroom.lua and luasfu's lua/videoroom.lua
// (subscriber `join` with `feed`, publisher `configure` with the offer), or with
// --videoroom-api 1.x the one of Janus 1.x's janus.plugin.videoroom (`publish`, subscriber
// `join` with `streams`). A room is created for the run and destroyed after it, unless --room
// names one. Reports per subscriber the time from its `join` to its first decoded frame, and
// over --duration seconds once everybody is up, RTP packets delivered to subscribers vs
// expected (what each publisher sent, times its subscribers), and loss.

import { performance } from 'node:perf_hooks';
import type { JsonObject } from '../../src/plugin/json';
import { isJsonObject } from '../../src/plugin/json';
import { BenchFailure, JanusReplyError, errorCode, oneLine } from '../lib/errors';
import { MediaPeer, type PeerCounters, subtractCounters } from '../lib/peer';
import { type Counters, type RunContext, type Scenario, type ScenarioOutcome, cpuPer } from '../lib/run';
import { Tally, histogram, rate, summarize } from '../lib/stats';
import { HandleWatch, type OpenSession, fmtMs, fmtRate, openSession } from './common';

interface Participant extends OpenSession {
  peer: MediaPeer;
  watch: HandleWatch;
}

interface Publisher extends Participant {
  index: number;
  feedId: number | string;
  subscribers: Subscriber[];
}

interface Subscriber extends Participant {
  /** join sent -> first decoded video frame (or first audio when video is off). */
  joinedAt: number;
  /** webrtcup received: what comes after it is the wait for media (a key frame for video). */
  upAt: number;
}

function pluginData(reply: JsonObject): JsonObject {
  const plugindata = reply.plugindata;
  return isJsonObject(plugindata) && isJsonObject(plugindata.data) ? plugindata.data : {};
}

function jsepOf(reply: JsonObject, type: 'offer' | 'answer'): string {
  const jsep = reply.jsep;
  if (!isJsonObject(jsep) || jsep.type !== type || typeof jsep.sdp !== 'string') {
    throw new JanusReplyError(`no-${type}`, `expected an SDP ${type} in ${JSON.stringify(pluginData(reply)).slice(0, 200)}`);
  }
  return jsep.sdp;
}

export class VideoRoomScenario implements Scenario {
  readonly unit = 'pkts';
  private up = 0;
  private delivered = 0;
  private readonly errors = new Tally();

  counters(): Counters {
    return { sessionsUp: this.up, operations: this.delivered, errors: this.errors.total };
  }

  async run(context: RunContext): Promise<ScenarioOutcome> {
    const { options } = context;
    const publishers: Publisher[] = [];
    const closers: Array<() => Promise<void>> = [];
    const admin = await openSession(context);
    let room = options.room;
    let createdRoom = false;
    try {
      if (room === undefined) {
        const created = pluginData(await admin.connection.message(admin.handleId, {
          request: 'create', description: 'luasfu-bench', publishers: options.publishers, is_private: true,
        }).catch((error: unknown) => {
          throw new BenchFailure(`create room with ${options.plugin}: ${oneLine(error)} (or name an existing room with --room)`);
        }));
        if (typeof created.room !== 'number') throw new BenchFailure(`create room: no room in the reply ${JSON.stringify(created)}`);
        room = created.room;
        createdRoom = true;
      }
      const roomId = room;

      const pubResults = await context.ramp(options.publishers, (index) => this.publish(context, roomId, index, closers));
      for (const r of pubResults) {
        if (r.status === 'fulfilled') publishers.push(r.value);
        else this.errors.add(errorCode(r.reason), `publisher: ${oneLine(r.reason)}`);
      }
      if (publishers.length === 0) throw new BenchFailure(`no publisher came up: ${this.errors.first ?? oneLine(context.signal.reason)}`);
      publishers.sort((a, b) => a.index - b.index);

      let attempts = pubResults.length;
      const subResults = await context.ramp(publishers.length * options.subscribers, (i) => {
        const publisher = publishers[i % publishers.length]!;
        return this.subscribe(context, roomId, publisher, closers);
      });
      attempts += subResults.length;
      for (const r of subResults) if (r.status === 'rejected') this.errors.add(errorCode(r.reason), `subscriber: ${oneLine(r.reason)}`);

      // Wait (bounded) for every subscriber's first frame, then the measured window.
      const subscribers = publishers.flatMap((p) => p.subscribers);
      const firstFrameBy = performance.now() + Math.max(options.timeoutMs, 10_000);
      while (!context.stopped && performance.now() < firstFrameBy && subscribers.some((s) => firstMedia(s.peer, options.video) === undefined)) {
        await context.sleep(100);
      }
      await context.sleep(options.warmup * 1000);
      const cpu = context.cpuWindow();
      const start = await snapshot(publishers);
      const t0 = performance.now();
      const end = t0 + options.duration * 1000;
      while (!context.stopped && performance.now() < end) {
        await context.sleep(Math.min(1000, end - performance.now()));
        this.delivered = deliveredSince(await snapshot(publishers), start).delivered;
      }
      const stop = await snapshot(publishers);
      return this.outcome(context, publishers, start, stop, (performance.now() - t0) / 1000, attempts, cpu.end().serverCpuMs);
    } finally {
      await Promise.all(closers.map((close) => close()));
      if (createdRoom && room !== undefined) {
        await admin.connection.message(admin.handleId, { request: 'destroy', room }, undefined, 3000).catch(() => undefined);
      }
      await admin.connection.close([admin.handleId]);
    }
  }

  private async publish(context: RunContext, room: number, index: number, closers: Array<() => Promise<void>>): Promise<Publisher> {
    const { options } = context;
    const { connection, handleId } = await openSession(context);
    const watch = new HandleWatch(connection, handleId);
    const peer = new MediaPeer(
      { audio: options.audio, video: options.video, data: false, width: options.width, height: options.height, fps: options.fps },
      (candidate) => connection.trickle(handleId, candidate),
    );
    closers.push(async () => {
      watch.close();
      peer.close();
      await connection.close([handleId]);
    });
    const joined = pluginData(await connection.message(handleId, { request: 'join', ptype: 'publisher', room, display: `bench-pub-${index}` }));
    const feedId = joined.id;
    if (typeof feedId !== 'number' && typeof feedId !== 'string') throw new JanusReplyError('protocol', `join: no publisher id in ${JSON.stringify(joined)}`);
    const offer = await peer.offer();
    const request = options.videoroomApi === '1.x' ? 'publish' : 'configure';
    const answered = await connection.message(handleId, { request, audio: options.audio, video: options.video }, { ...offer });
    await peer.accept({ type: 'answer', sdp: jsepOf(answered, 'answer') });
    await watch.wait('webrtcup', Math.max(options.timeoutMs, 10_000), context.signal);
    this.up++;
    return { index, connection, handleId, peer, watch, feedId, subscribers: [] };
  }

  private async subscribe(context: RunContext, room: number, publisher: Publisher, closers: Array<() => Promise<void>>): Promise<Subscriber> {
    const { options } = context;
    const { connection, handleId } = await openSession(context);
    const watch = new HandleWatch(connection, handleId);
    const peer = new MediaPeer(undefined, (candidate) => connection.trickle(handleId, candidate));
    closers.push(async () => {
      watch.close();
      peer.close();
      await connection.close([handleId]);
    });
    const join: JsonObject = options.videoroomApi === '1.x'
      ? { request: 'join', ptype: 'subscriber', room, streams: [{ feed: publisher.feedId }] }
      : { request: 'join', ptype: 'subscriber', room, feed: publisher.feedId };
    const joinedAt = performance.now();
    const attached = await connection.message(handleId, join);
    const answer = await peer.answer({ type: 'offer', sdp: jsepOf(attached, 'offer') });
    await connection.message(handleId, { request: 'start', room }, { ...answer });
    const upAt = await watch.wait('webrtcup', Math.max(options.timeoutMs, 10_000), context.signal);
    const subscriber: Subscriber = { connection, handleId, peer, watch, joinedAt, upAt };
    publisher.subscribers.push(subscriber);
    this.up++;
    return subscriber;
  }

  private outcome(
    context: RunContext, publishers: Publisher[], start: Snapshot, stop: Snapshot, seconds: number, attempts: number, serverCpuMs: number | null,
  ): ScenarioOutcome {
    const { options } = context;
    const subscribers = publishers.flatMap((p) => p.subscribers);
    const firstFrame = subscribers
      .map((s) => {
        const at = firstMedia(s.peer, options.video);
        return at === undefined ? undefined : at - s.joinedAt;
      })
      .filter((t): t is number => t !== undefined);
    const firstFrameMs = summarize(firstFrame);
    // The two parts of it: signalling up to webrtcup (offer, answer, ICE, DTLS), then the wait
    // for the first decodable frame (for video, a key frame from the publisher).
    const joinToWebrtcupMs = summarize(subscribers.map((s) => s.upAt - s.joinedAt));
    const webrtcupToFirstFrameMs = summarize(subscribers
      .map((s) => {
        const at = firstMedia(s.peer, options.video);
        return at === undefined ? undefined : Math.max(0, at - s.upAt);
      })
      .filter((t): t is number => t !== undefined));
    // Until the measured window: how often the publishers were asked for a key frame, and how
    // many they sent (libwebrtc ignores a PLI that comes within 300 ms of the last one it took).
    const pliReceived = start.publishers.reduce((sum, c) => sum + c.pliReceived, 0);
    const keyFramesEncoded = start.publishers.reduce((sum, c) => sum + c.keyFramesEncoded, 0);
    const { delivered, expected, lost } = deliveredSince(stop, start);
    this.delivered = delivered;
    const perPublisher: JsonObject[] = publishers.map((p, i) => {
      const sent = subtractCounters(stop.publishers[i]!, start.publishers[i]!).packetsSent;
      return {
        publisher: p.index,
        feed: p.feedId,
        packetsSent: sent,
        subscribers: p.subscribers.length,
        packetsDelivered: p.subscribers.reduce((sum, _s, j) => sum + subtractCounters(stop.subscribers[i]![j]!, start.subscribers[i]![j]!).packetsReceived, 0),
      };
    });
    const noFrame = subscribers.length - firstFrame.length;
    const serverCpuMsPer1kPackets = cpuPer(serverCpuMs, delivered, 1000);
    const lossPercent = expected > 0 ? Number(Math.max(0, (1 - delivered / expected) * 100).toFixed(2)) : null;
    let failure: string | undefined;
    if (!context.stopped && noFrame > 0) failure = `${noFrame} of ${subscribers.length} subscribers got no ${options.video ? 'decoded frame' : 'audio'}`;
    if (!context.stopped && options.subscribers > 0 && subscribers.length === 0) failure = `no subscriber came up: ${this.errors.first ?? '?'}`;
    return {
      figures: {
        unit: this.unit,
        publishers: publishers.length,
        subscribers: subscribers.length,
        room: publishers.length > 0 ? (options.room ?? null) : null,
        measuredSec: Number(seconds.toFixed(3)),
        firstFrameMs: { ...firstFrameMs },
        joinToWebrtcupMs: { ...joinToWebrtcupMs },
        webrtcupToFirstFrameMs: { ...webrtcupToFirstFrameMs },
        publisherPliReceivedBeforeWindow: pliReceived,
        publisherKeyFramesBeforeWindow: keyFramesEncoded,
        subscribersWithoutFrame: noFrame,
        packetsExpected: expected,
        packetsDelivered: delivered,
        packetsDeliveredPerSec: rate(delivered, seconds),
        packetsLostReported: lost,
        lossPercent,
        serverCpuMsPer1kPackets: serverCpuMsPer1kPackets ?? 'not measured',
        perPublisher,
      },
      rows: [
        ['room', `${publishers.length} publishers x ${options.subscribers} subscribers (${options.videoroomApi} API), ${subscribers.length} subscribers up`],
        ['join -> first frame', `p50 ${fmtMs(firstFrameMs.p50)}, p90 ${fmtMs(firstFrameMs.p90)}, max ${fmtMs(firstFrameMs.max)}${noFrame > 0 ? `; ${noFrame} without a frame` : ''}`],
        ['  of which join -> webrtcup', `p50 ${fmtMs(joinToWebrtcupMs.p50)}, p90 ${fmtMs(joinToWebrtcupMs.p90)}, max ${fmtMs(joinToWebrtcupMs.max)}`],
        ['  then webrtcup -> first frame', `p50 ${fmtMs(webrtcupToFirstFrameMs.p50)}, p90 ${fmtMs(webrtcupToFirstFrameMs.p90)}, max ${fmtMs(webrtcupToFirstFrameMs.max)}`],
        ['publishers before the window', `${pliReceived} PLIs received, ${keyFramesEncoded} key frames sent`],
        ['packets', `${delivered} delivered of ${expected} expected in ${seconds.toFixed(1)} s (${fmtRate(rate(delivered, seconds))} pkt/s)`],
        ['server CPU / 1,000 pkts', serverCpuMsPer1kPackets === null ? 'not measured' : `${serverCpuMsPer1kPackets} ms (delivered packets)`],
        ['loss', `${lossPercent ?? '-'}% (receivers reported ${lost} lost)`],
      ],
      histograms: [{ name: 'firstFrameMs', title: 'Subscriber join to first decoded frame', buckets: histogram(firstFrame, 12) }],
      errors: this.errors,
      attempts,
      failure,
    };
  }
}

/** When the peer's first decoded frame came (its first audio when there is no video). */
function firstMedia(peer: MediaPeer, video: boolean): number | undefined {
  return video ? peer.firstFrameAt : peer.firstAudioAt;
}

interface Snapshot {
  publishers: PeerCounters[];
  /** By publisher, then subscriber. */
  subscribers: PeerCounters[][];
}

async function snapshot(publishers: Publisher[]): Promise<Snapshot> {
  return {
    publishers: await Promise.all(publishers.map((p) => p.peer.counters())),
    subscribers: await Promise.all(publishers.map((p) => Promise.all(p.subscribers.map((s) => s.peer.counters())))),
  };
}

function deliveredSince(now: Snapshot, then: Snapshot): { delivered: number; expected: number; lost: number } {
  let delivered = 0;
  let expected = 0;
  let lost = 0;
  now.publishers.forEach((pub, i) => {
    const subs = now.subscribers[i]!;
    expected += subtractCounters(pub, then.publishers[i]!).packetsSent * subs.length;
    subs.forEach((sub, j) => {
      const d = subtractCounters(sub, then.subscribers[i]![j]!);
      delivered += d.packetsReceived;
      lost += d.packetsLost;
    });
  });
  return { delivered, expected, lost };
}
