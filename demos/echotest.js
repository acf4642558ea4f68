// Echo test: one handle on janus.plugin.echolua; an offer with audio, video and a data
// channel; the echo plays in #remote, data comes back into #received.
'use strict';

window.addEventListener('load', function () {
  var start = document.getElementById('start');
  start.onclick = function () {
    start.disabled = true;
    demo.connect(function (janus) {
      var echo = null;
      janus.attach({
        plugin: 'janus.plugin.echolua',
        success: function (handle) {
          echo = handle;
          demo.log('attached to ' + handle.getPlugin());
          handle.createOffer({
            tracks: [
              { type: 'audio', capture: true, recv: true },
              { type: 'video', capture: true, recv: true },
              { type: 'data' },
            ],
            success: function (jsep) { handle.send({ message: { audio: true, video: true, data: true }, jsep: jsep }); },
            error: function (error) { demo.log('WebRTC error: ' + error); },
          });
        },
        error: function (error) { demo.log('attach error: ' + error); },
        onmessage: function (msg, jsep) {
          demo.log('event: ' + JSON.stringify(msg));
          if (jsep) echo.handleRemoteJsep({ jsep: jsep });
        },
        onlocaltrack: function (track, on) {
          if (on && track.kind === 'video') demo.show(document.getElementById('local'), track);
        },
        onremotetrack: function (track, mid, on) {
          if (on) demo.show(document.getElementById('remote'), track);
        },
        ondataopen: function () {
          document.getElementById('text').disabled = false;
          document.getElementById('send').disabled = false;
        },
        ondata: function (data) { document.getElementById('received').textContent = data; },
        webrtcState: function (on) { demo.log('PeerConnection ' + (on ? 'up' : 'down')); },
      });
      document.getElementById('send').onclick = function () {
        echo.data({ text: document.getElementById('text').value, error: function (e) { demo.log('data error: ' + e); } });
      };
    });
  };
});
