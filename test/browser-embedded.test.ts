// janus.js in headless Chromium against luasfu embedded in a node:http + ws service
// (examples/http-ws-service): the Janus API on the service's own port and path through the
// transport adapter, our lua/echotest.lua, real mediasoup. Echoed video plays, echoed audio
// arrives, data comes back with the script's prefix.

import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { startService } from '../examples/http-ws-service';
import { silentLogger } from '../src/log';
import { expectAudioArriving, expectVideoPlaying, js, startEchoSession } from './browser/echo-session';
import { pollPage } from './browser/harness';
import { useBrowserRig } from './browser/rig';
import { ourScript, scriptConfig } from './lua-fixtures';

describe('browser: janus.js through luasfu embedded in a node:http + ws service', function () {
  this.timeout(120000);
  const rig = useBrowserRig({
    script: () => scriptConfig(ourScript('echotest.lua')),
    mediaWorkers: 1,
    server: async (script, workers) => {
      const service = await startService({
        sfu: { scripts: [script], media: { workers, listenIps: [{ ip: '127.0.0.1' }] }, logger: silentLogger() },
      });
      return { wsUrl: `${service.url.replace('http', 'ws')}/sfu/janus`, close: () => service.close() };
    },
  });
  let page: Page;
  before(function () {
    [page] = rig.pages;
  });

  it('echo session: echoed video plays, echoed audio arrives, data comes back with the prefix', async () => {
    expect(rig.wsUrl).to.match(/^ws:\/\/127\.0\.0\.1:\d+\/sfu\/janus$/);
    const event = await startEchoSession(page, rig.wsUrl, 'echo');
    expect(event.msg).to.deep.include({ echotest: 'event', result: 'ok' });
    await expectVideoPlaying(page, 'echo');
    await expectAudioArriving(page, 'echo');
    await pollPage<{ dataOpen: unknown[] }>(page, `lsfu.state('echo')`, (s) => s.dataOpen.length > 0, 15000, 'ondataopen');
    await page.evaluate(`lsfu.sendData('echo', ${js('hello embedded')})`);
    const st = await pollPage<{ data: Array<{ data: string }> }>(page, `lsfu.state('echo')`, (s) => s.data.length > 0, 10000, 'echoed data');
    expect(st.data[0].data).to.equal('[luasfu echotest] hello embedded');
  });
});
