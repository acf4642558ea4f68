// Shared by the demo pages: the Janus API address (this server's HTTP listener, or ?server=),
// a log line helper, and attaching a track to a <video>.
'use strict';

var demo = {
  server: new URLSearchParams(location.search).get('server') || (location.protocol + '//' + location.host + '/janus'),
  log: function (text) {
    var log = document.getElementById('log');
    if (log) log.textContent += text + '\n';
    console.log(text);
  },
  /** Shows `track` in `video`, adding it to the MediaStream the element already plays. */
  show: function (video, track) {
    var stream = video.srcObject || new MediaStream();
    stream.addTrack(track);
    if (!video.srcObject) video.srcObject = stream;
    video.play().catch(function () {});
  },
  /** Starts janus.js, then calls `ready(janus)`. */
  connect: function (ready) {
    Janus.init({
      debug: false,
      callback: function () {
        var janus = new Janus({
          server: demo.server,
          success: function () { ready(janus); },
          error: function (error) { demo.log('Janus error: ' + error); },
          destroyed: function () { demo.log('Janus session destroyed'); },
        });
      },
    });
  },
};
