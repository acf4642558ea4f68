// Video room: a publisher handle joins room 1234 and publishes audio and video; every other
// publisher (in `joined` or a later `publishers` event) gets a subscriber handle of its own
// (join with its streams, answer the offer, start), shown in a <video> until it leaves.
'use strict';

var ROOM = 1234;
var PLUGIN = 'janus.plugin.videoroom';

window.addEventListener('load', function () {
  var janus = null;
  var privateId = null;
  var myId = null;
  var subscribers = {}; // feed id -> { handle, box }

  function unsubscribe(feed) {
    var sub = subscribers[feed];
    if (!sub) return;
    delete subscribers[feed];
    sub.box.remove();
    sub.handle.detach();
  }

  function subscribe(publisher) {
    if (publisher.id === myId || subscribers[publisher.id]) return;
    var box = document.createElement('div');
    box.className = 'feed';
    box.id = 'feed-' + publisher.id;
    box.innerHTML = '<p></p><video autoplay playsinline></video>';
    box.querySelector('p').textContent = publisher.display || String(publisher.id);
    document.getElementById('feeds').appendChild(box);
    var sub = { handle: null, box: box };
    subscribers[publisher.id] = sub;
    janus.attach({
      plugin: PLUGIN,
      success: function (handle) {
        sub.handle = handle;
        handle.send({ message: { request: 'join', room: ROOM, ptype: 'subscriber', private_id: privateId, streams: [{ feed: publisher.id }] } });
      },
      error: function (error) { demo.log('attach error: ' + error); },
      onmessage: function (msg, jsep) {
        if (msg.error) demo.log('subscriber error: ' + msg.error);
        if (!jsep) return;
        sub.handle.createAnswer({
          jsep: jsep,
          tracks: [{ type: 'data' }],
          success: function (answer) { sub.handle.send({ message: { request: 'start', room: ROOM }, jsep: answer }); },
          error: function (error) { demo.log('WebRTC error: ' + error); },
        });
      },
      onremotetrack: function (track, mid, on) {
        if (on) demo.show(box.querySelector('video'), track);
      },
    });
  }

  function publishers(list) {
    for (var i = 0; i < (list || []).length; i++) subscribe(list[i]);
  }

  document.getElementById('join').onclick = function () {
    var name = document.getElementById('name').value || 'guest';
    document.getElementById('join').disabled = true;
    demo.connect(function (session) {
      janus = session;
      var leave = document.getElementById('leave');
      leave.disabled = false;
      leave.onclick = function () {
        leave.disabled = true;
        janus.destroy(); // our handles detach: the others get `leaving`
      };
      var me = null;
      janus.attach({
        plugin: PLUGIN,
        success: function (handle) {
          me = handle;
          handle.send({ message: { request: 'join', room: ROOM, ptype: 'publisher', display: name } });
        },
        error: function (error) { demo.log('attach error: ' + error); },
        onmessage: function (msg, jsep) {
          demo.log('event: ' + JSON.stringify(msg));
          if (msg.videoroom === 'joined') {
            myId = msg.id;
            privateId = msg.private_id;
            me.createOffer({
              tracks: [{ type: 'audio', capture: true, recv: false }, { type: 'video', capture: true, recv: false }],
              success: function (offer) { me.send({ message: { request: 'configure', audio: true, video: true }, jsep: offer }); },
              error: function (error) { demo.log('WebRTC error: ' + error); },
            });
            publishers(msg.publishers);
          } else if (msg.videoroom === 'event') {
            publishers(msg.publishers);
            if (msg.leaving !== undefined) unsubscribe(msg.leaving);
            if (msg.unpublished !== undefined) unsubscribe(msg.unpublished);
            if (msg.error) demo.log('error: ' + msg.error);
          }
          if (jsep) me.handleRemoteJsep({ jsep: jsep });
        },
        onlocaltrack: function (track, on) {
          if (on && track.kind === 'video') demo.show(document.getElementById('local'), track);
        },
      });
    });
  };
});
