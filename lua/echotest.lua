-- luasfu's echo test, written for the Janus Lua plugin contract.
--
-- A client attaches, sends its offer in a `message`, and gets back what it sends:
-- audio, video (addRecipient(id, id)) and data channel text (with a prefix, see
-- incomingTextData). It speaks the same client-visible protocol as Janus's
-- janus.plugin.echotest / echotest.lua, and registers under the same package name as
-- Janus's Lua echo test (`janus.plugin.echolua`), so the stock janus.js echotest page
-- works unchanged with `?plugin=lua`. Only one echo test script is loaded at a time.
--
-- Requests (all fields optional, any combination in one body):
--   audio, video, data : booleans, enable/disable echoing that medium
--   bitrate            : REMB cap in bits per second (0 = none)
--   substream/temporal : simulcast targets (0..2); a PLI is sent so the switch is quick
--   keyframe           : any value; sends a PLI
--   record + filename  : true starts recording (.mjr per medium), false stops
--   audiocodec, videocodec, videoprofile : codec choice when an offer comes along
-- Without a JSEP the reply is synchronous: {"echotest":"response","result":"ok"}.
-- With one, the reply is an ack, then an event {"echotest":"event","result":"ok"}
-- carrying the answer.

local json = require('json')
local sdp = require('sdp')

local NAME = "echotest.lua (luasfu)"

-- Error codes, as Janus's echo test plugin uses them.
local ERROR_INVALID_SDP = 414

-- Per plugin session state, keyed by session id.
local sessions = {}
-- Coroutines waiting for the scheduler (see resumeScheduler).
local tasks = {}

local function log(level, text)
  janusLog(level, "[" .. NAME .. "] " .. text)
end

-- Session ids may arrive as floats (1234.0); print them without the ".0".
local function idString(id)
  return string.format("%.0f", id)
end

-- json.decode turns JSON null into a sentinel that is not nil: treat it as absent.
local function value(v)
  if type(v) == "function" or type(v) == "userdata" then return nil end
  return v
end

-- Plugin information (the core registers the plugin under getPackage()).
function getVersion() return 1 end
function getVersionString() return "0.1.0" end
function getDescription() return "luasfu's echo test in Lua: echoes audio, video and data back" end
function getName() return "luasfu Lua EchoTest" end
function getAuthor() return "luasfu" end
function getPackage() return "janus.plugin.echolua" end

function init(config)
  log(4, "initialised" .. (config and (" (config: " .. config .. ")") or ""))
  local enabled = eventsIsEnabled()
  if enabled == 1 or enabled == true then
    notifyEvent(0, json.encode({ event = "loaded", script = NAME }))
  end
end

function destroy()
  log(4, "destroyed")
end

function createSession(id)
  sessions[id] = {
    id = id,
    -- audio/video/data mirror the core's media flags: nil until a request sets them
    -- (the core starts with all flags off and resets them on every hangup).
    audio = nil, video = nil, data = nil,
    bitrate = 0, recording = false, started = false,
  }
end

function destroySession(id)
  -- The core has already called hangupMedia; recordings end with the session.
  sessions[id] = nil
end

function querySession(id)
  local s = sessions[id]
  if s == nil then return nil end
  return json.encode({
    script = NAME,
    audio_active = (s.audio == true), video_active = (s.video == true),
    data_active = (s.data == true),
    bitrate = s.bitrate, recording = s.recording, started = s.started,
    audio_codec = s.audioCodec, video_codec = s.videoCodec,
    substream = s.substream, temporal = s.temporal,
  })
end

-- Enable or disable echoing one medium both ways.
local function setMedium(s, medium, enabled)
  configureMedium(s.id, medium, "in", enabled)
  configureMedium(s.id, medium, "out", enabled)
  s[medium] = enabled
end

-- Start recording what was negotiated: after an answer only its media (plus data), before
-- any negotiation opus and vp8 (the recorder only writes what actually arrives).
local function startRecordingFor(s, filename)
  local base = value(filename)
  if type(base) ~= "string" then
    local now = (os and os.time and os.time()) or 0
    local ok, socket = pcall(require, 'socket')
    if ok and type(socket) == "table" and socket.gettime then now = socket.gettime() end
    base = "luasfu-echotest-" .. idString(s.id) .. "-" .. string.format("%.0f", now * 1000)
  end
  local audioCodec, videoCodec = s.audioCodec, s.videoCodec
  if not s.negotiated then audioCodec, videoCodec = "opus", "vp8" end
  if s.videoFmtp ~= nil and (videoCodec == "vp9" or videoCodec == "h264") then
    videoCodec = videoCodec .. "/fmtp=" .. s.videoFmtp
  end
  -- Always 13 arguments: a nil codec skips that group.
  local rc = startRecording(s.id,
    "audio", audioCodec, nil, base .. "-audio",
    "video", videoCodec, nil, base .. "-video",
    "data", "text", nil, base .. "-data")
  s.recording = (rc == 0)
end

-- Apply the fields of a request body to the session (shared by sync and async paths).
local function applyRequest(s, msg)
  local id = s.id
  if msg.audio == true or msg.audio == false then setMedium(s, "audio", msg.audio) end
  if msg.video == true or msg.video == false then
    setMedium(s, "video", msg.video)
    -- A receiver that (re)enables video needs a keyframe to start decoding.
    if msg.video then sendPli(id) end
  end
  if msg.data == true or msg.data == false then setMedium(s, "data", msg.data) end
  if type(value(msg.bitrate)) == "number" then
    s.bitrate = msg.bitrate
    setBitrate(id, msg.bitrate)
  end
  if type(value(msg.substream)) == "number" then
    s.substream = msg.substream
    setSubstream(id, msg.substream)
    sendPli(id)
  end
  if type(value(msg.temporal)) == "number" then
    s.temporal = msg.temporal
    setTemporalLayer(id, msg.temporal)
    sendPli(id)
  end
  if value(msg.keyframe) ~= nil then sendPli(id) end
  if msg.record == true and not s.recording then
    startRecordingFor(s, msg.filename)
  elseif msg.record == false and s.recording then
    stopRecording(id, "audio", "video", "data")
    s.recording = false
  end
end

-- Asynchronous part of a request with a JSEP: answer the offer, apply the request,
-- push the event with the answer. Runs inside a coroutine resumed by the scheduler.
local function negotiate(id, tr, msg, jsep)
  local s = sessions[id]
  if s == nil then return end
  local offer = nil
  if jsep.type == "offer" then offer = sdp.parse(value(jsep.sdp)) end
  if offer == nil then
    pushEvent(id, tr, json.encode({ echotest = "event", error_code = ERROR_INVALID_SDP,
      error = "Expected an SDP offer" }), nil)
    return
  end
  local profile = value(msg.videoprofile)
  local answer = sdp.generateAnswer(offer, {
    audioCodec = value(msg.audiocodec), videoCodec = value(msg.videocodec),
    vp9Profile = profile, h264Profile = profile,
  })
  -- Remember the negotiated codecs (for recordings and simulcast events).
  s.negotiated = true
  s.audioCodec = sdp.negotiatedCodec(answer, "audio")
  s.videoCodec = sdp.negotiatedCodec(answer, "video")
  s.videoFmtp = nil
  local video = sdp.firstSection(answer, "video")
  if video ~= nil then
    for _, line in ipairs(video.lines) do
      if line.name == "fmtp" then s.videoFmtp = line.value:match("^%S+%s+(.*)$") end
    end
  end
  applyRequest(s, msg)
  pushEvent(id, tr, json.encode({ echotest = "event", result = "ok" }),
    json.encode({ type = "answer", sdp = sdp.render(answer) }))
  local enabled = eventsIsEnabled()
  if enabled == 1 or enabled == true then
    notifyEvent(id, json.encode({ event = "processed", request = msg }))
  end
end

function handleMessage(id, tr, msg, jsep)
  local s = sessions[id]
  if s == nil then return -1, "Session not found" end
  local body = json.decode(msg)
  if type(body) ~= "table" then return -1, "Invalid message" end
  if jsep == nil then
    applyRequest(s, body)
    return 0, '{"echotest":"response","result":"ok"}'
  end
  local jsepT = json.decode(jsep)
  if type(jsepT) ~= "table" then return -1, "Invalid JSEP" end
  tasks[#tasks + 1] = { fn = negotiate, args = { id, tr, body, jsepT } }
  pokeScheduler()
  return 1, nil
end

function handleAdminMessage(message)
  -- Nothing to administer: echo the request back, as the Admin API sample does.
  return message
end

function setupMedia(id)
  local s = sessions[id]
  if s == nil then return end
  s.started = true
  -- The echo: this session is its own recipient.
  addRecipient(id, id)
end

function hangupMedia(id)
  removeRecipient(id, id)
  local s = sessions[id]
  if s == nil then return end
  -- The core resets media flags and bitrate on hangup; mirror that in our state.
  s.started = false
  s.audio, s.video, s.data = nil, nil, nil
  s.bitrate = 0
  s.substream, s.temporal = nil, nil
  s.negotiated, s.audioCodec, s.videoCodec, s.videoFmtp = false, nil, nil, nil
end

-- Text messages come back with this prefix, so a user sees the server answered.
local DATA_PREFIX = "[luasfu echotest] "

-- Data is echoed unless the client turned it off with {"data":false}.
function incomingTextData(id, text, len, label, protocol)
  local s = sessions[id]
  if s == nil or s.data == false then return end
  local reply = DATA_PREFIX .. text
  relayTextData(id, reply, #reply, label, protocol)
end

function incomingBinaryData(id, bytes, len, label, protocol)
  local s = sessions[id]
  if s == nil or s.data == false then return end
  relayBinaryData(id, bytes, #bytes, label, protocol)
end

function dataReady(id)
  -- Nothing to flush: we only ever answer what arrives.
end

-- Simulcast: tell the user which layer it now receives.
function substreamChanged(id, substream)
  local s = sessions[id]
  pushEvent(id, nil, json.encode({ echotest = "event",
    videocodec = (s and s.videoCodec) or "vp8", substream = substream }), nil)
end

function temporalLayerChanged(id, temporal)
  local s = sessions[id]
  pushEvent(id, nil, json.encode({ echotest = "event",
    videocodec = (s and s.videoCodec) or "vp8", temporal = temporal }), nil)
end

-- Called once per pokeScheduler(): run every queued task in its own coroutine.
-- Tasks queued while we run are kept for the next call (each has its own poke).
function resumeScheduler()
  local queue = tasks
  tasks = {}
  for _, task in ipairs(queue) do
    local co = coroutine.create(task.fn)
    local ok, err = coroutine.resume(co, table.unpack(task.args))
    if not ok then log(2, "async request failed: " .. tostring(err)) end
  end
end

log(4, "loaded")
