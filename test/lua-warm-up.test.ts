// The script thread's warm-up (workers/lua/warm-up.ts): it negotiates its built-in offer through
// `json`, `sdp` and Lua patterns, one step at a time, within its step and time bounds, in a state
// of its own: the script never sees it, and tasks run between its steps as before.

import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Status, type CallMessage, type LoadTask } from '../src/common/bridge';
import { LuaRuntime } from '../workers/lua/lua-runtime';
import { WARM_UP_OFFER } from '../src/common/warm-up-offer';
import { LuaWarmUp, WARM_UP_NEGOTIATIONS } from '../workers/lua/warm-up';

/** Answers handleMessage with what the script's own state holds: its counter and `negotiate`. */
const PROBE_SCRIPT = `
local json = require('json')
local calls = 0
function init(config) end
function destroy() end
function createSession(id) end
function destroySession(id) end
function querySession(id) return nil end
function handleMessage(id, tr, msg, jsep)
  calls = calls + 1
  return 0, json.encode({ calls = calls, negotiate = type(negotiate) })
end
function setupMedia(id) end
function hangupMedia(id) end
function incomingData(id, buf, len) end
function resumeScheduler() end
function getVersion() return 1 end
function getVersionString() return "1" end
function getDescription() return "probe" end
function getName() return "probe" end
function getAuthor() return "luasfu" end
function getPackage() return "janus.plugin.probe" end
`;

describe('the script thread warm-up (workers/lua/warm-up.ts)', () => {
  it('makes its state, then negotiates its built-in offer once per step, up to its bound, then stops', () => {
    const warmUp = new LuaWarmUp(3, 60_000);
    const steps: boolean[] = [];
    for (let i = 0; i < 6; i++) steps.push(warmUp.step());
    expect(steps).to.deep.equal([true, true, true, true, false, false]);
    expect(warmUp.done).to.equal(3);
    expect(warmUp.failure).to.equal(undefined);
  });

  it('stops at its time budget', () => {
    const warmUp = new LuaWarmUp(WARM_UP_NEGOTIATIONS, 0);
    expect(warmUp.step()).to.equal(false);
    expect(warmUp.done).to.equal(0);
  });

  it('its offer is a browser offer with audio, video and data', () => {
    expect(WARM_UP_OFFER.match(/^m=(\w+)/gm)).to.deep.equal(['m=audio', 'm=video', 'm=application']);
    expect(WARM_UP_OFFER).to.include('a=rtpmap:111 opus/48000/2\r\n').and.include('a=rtpmap:96 VP8/90000\r\n');
    expect(WARM_UP_OFFER).to.not.match(/a=(candidate|fingerprint|ice-ufrag)/);
  });

  describe('in a LuaRuntime', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'luasfu-warm-up-'));
      writeFileSync(join(dir, 'probe.lua'), PROBE_SCRIPT);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const load = (runtime: LuaRuntime, warmUp = true): void => {
      const task: LoadTask = {
        runtime: 'lua', scriptPath: join(dir, 'probe.lua'), instructionLimit: 1_000_000, logLevel: 4,
        eventsEnabled: false, memoryLimitBytes: 256 * 1024 * 1024, maxResumeRounds: 16, warmUp,
      };
      expect(runtime.load(task).status).to.equal(Status.OK);
    };
    const message = (runtime: LuaRuntime, n: number): unknown => {
      const call: CallMessage = { session: 7, handleMessage: { transaction: `t${n}`, message: Buffer.from('{}'), jsep: null } };
      const outcome = runtime.call(call);
      expect(outcome.status).to.equal(Status.OK);
      const text = outcome.text;
      return JSON.parse(Buffer.from(text ?? new Uint8Array()).toString());
    };

    it('runs only after a load, between calls the script answers as before, and ends within its bound', () => {
      const runtime = new LuaRuntime();
      expect(runtime.warmUpStep()).to.equal(false);
      load(runtime);
      expect(runtime.call({ session: 7, createSession: {} }).status).to.equal(Status.OK);
      let steps = 0;
      let calls = 0;
      while (runtime.warmUpStep()) {
        steps++;
        expect(message(runtime, steps)).to.deep.equal({ calls: ++calls, negotiate: 'nil' });
        if (steps > WARM_UP_NEGOTIATIONS + 1) break;
      }
      expect(steps).to.be.within(2, WARM_UP_NEGOTIATIONS + 1);
      expect(runtime.warmUpStep()).to.equal(false);
      expect(message(runtime, steps + 1)).to.deep.equal({ calls: calls + 1, negotiate: 'nil' });
    });

    it('does not run when the load says warmUp: false (the script config\'s warmUp)', () => {
      const runtime = new LuaRuntime();
      load(runtime, false);
      expect(runtime.warmUpStep()).to.equal(false);
      expect(message(runtime, 1)).to.deep.equal({ calls: 1, negotiate: 'nil' });
    });
  });
});
