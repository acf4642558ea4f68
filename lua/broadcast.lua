-- broadcast.lua: one publisher, many viewers, with a data channel relayed both ways.
--
-- A complete example of a luasfu (Janus Lua plugin) script, written to be read beside
-- docs/scripts.md. It registers as `janus.plugin.broadcast` (the package name can be changed
-- with the script config `{"package": "..."}`).
--
-- Requests (the `body` of a Janus "message"; answers carry `broadcast`):
--   status                    sync: { broadcast = "status", live, viewers }
--   publish   + JSEP offer    async: answer; this handle becomes the publisher
--                             (only one at a time: error 480 "Already live")
--   watch                     async: { broadcast = "offer" } + JSEP offer built from the
--                             publisher's answer; error 481 "Not live" when nobody publishes
--   start     + JSEP answer   async: { broadcast = "started" } (the viewer's answer)
--   stop                      async: the publisher ends the broadcast, a viewer stops watching
--
-- Unsolicited events:
--   viewers get { broadcast = "ended" } when the publisher stops or hangs up;
--   the publisher gets { broadcast = "viewers", viewers = n } when the count changes.
--
-- Data: text sent by the publisher on its data channel reaches every viewer whose channel is
-- open; text a viewer sends reaches the publisher, prefixed with "[viewer <n>] ". Because the
-- script defines incomingTextData, the core does not relay data by itself: the script does.

local json = require('json')
local sdp = require('sdp')

local NAME = "broadcast.lua (luasfu)"
local packageName = "janus.plugin.broadcast"

local ERR = { INVALID_REQUEST = 470, MISSING_JSEP = 471, INVALID_SDP = 472, ALREADY_LIVE = 480, NOT_LIVE = 481, NOT_WATCHING = 482 }

-- sessions[id] = { id, role = "publisher" | "viewer" | nil, started, dataReady, number }
local sessions = {}
-- The publisher's session and the SDP template viewers' offers are built from.
local publisher = nil
local template = nil
local viewerCount = 0
local nextViewerNumber = 1
-- Async requests waiting for resumeScheduler (handleMessage must not push events itself
-- before it has returned its ack).
local queue = {}

local function log(level, text) janusLog(level, "[" .. NAME .. "] " .. text) end

-- JSON null decodes to a sentinel function: treat it as absent.
local function value(v)
  if type(v) == "function" or type(v) == "userdata" then return nil end
  return v
end

local function event(fields)
  fields.broadcast = fields.broadcast or "event"
  return json.encode(fields)
end

local function errorEvent(code, text) return event({ error_code = code, error = text }) end

local function tellPublisher()
  if publisher ~= nil then pushEvent(publisher, nil, event({ broadcast = "viewers", viewers = viewerCount }), nil) end
end

-- A viewer starts receiving: the publisher's media and data are relayed to it.
local function connectViewer(s)
  if publisher == nil or not sessions[publisher].started or s.connected then return end
  addRecipient(publisher, s.id)
  sendPli(publisher) -- a keyframe, so the new viewer can decode at once
  s.connected = true
  viewerCount = viewerCount + 1
  tellPublisher()
end

local function disconnectViewer(s)
  if not s.connected then return end
  if publisher ~= nil then removeRecipient(publisher, s.id) end
  s.connected = false
  viewerCount = viewerCount - 1
  tellPublisher()
end

-- The broadcast ends: viewers are told and unlinked; their PeerConnections stay until they stop.
local function endBroadcast()
  if publisher == nil then return end
  local ending = publisher
  for id, s in pairs(sessions) do
    if s.role == "viewer" then
      if s.connected then removeRecipient(ending, id) end
      s.connected = false
      s.role = nil
      pushEvent(id, nil, event({ broadcast = "ended" }), nil)
      if s.started then closePc(id) end
    end
  end
  viewerCount = 0
  sessions[ending].role = nil
  publisher, template = nil, nil
end

---------------------------------------------------------------------------------------
-- Callbacks
---------------------------------------------------------------------------------------

function init(config)
  -- config: the script's "config" string; here optional JSON such as {"package": "..."}.
  local ok, settings = pcall(json.decode, config or "")
  if not ok then settings = nil end
  if type(settings) == "table" and type(value(settings.package)) == "string" then packageName = settings.package end
  log(4, "initialised as " .. packageName)
end

function destroy() end

function getPackage() return packageName end
function getName() return "luasfu broadcast (Lua)" end
function getDescription() return "One publisher, many viewers, data relayed both ways" end
function getVersion() return 1 end
function getVersionString() return "0.0.1" end

function createSession(id)
  sessions[id] = { id = id, started = false, dataReady = false }
end

function destroySession(id)
  local s = sessions[id]
  if s == nil then return end
  if s.role == "publisher" then endBroadcast() elseif s.role == "viewer" then disconnectViewer(s) end
  sessions[id] = nil
end

function querySession(id)
  local s = sessions[id]
  if s == nil then return nil end
  return json.encode({ role = s.role, started = s.started, data_ready = s.dataReady, connected = s.connected == true })
end

local requests = {}

function requests.publish(s, body, jsep)
  if publisher ~= nil then return errorEvent(ERR.ALREADY_LIVE, "Already live") end
  if jsep == nil or jsep.type ~= "offer" then return errorEvent(ERR.MISSING_JSEP, "An offer is needed") end
  local offer = sdp.parse(value(jsep.sdp))
  if offer == nil then return errorEvent(ERR.INVALID_SDP, "Invalid SDP") end
  -- The publisher only sends: answer its offer as if it said sendonly (we answer recvonly).
  sdp.replaceDirection(offer, "sendrecv", "sendonly")
  local answer = sdp.generateAnswer(offer, {})
  -- Viewers' offers: our answer seen from the sending side, without rejected sections.
  template = sdp.copy(answer)
  sdp.removeRejected(template)
  sdp.replaceDirection(template, "recvonly", "sendonly")
  publisher = s.id
  s.role = "publisher"
  -- "out": what this user sends may be relayed to its recipients; "in": nothing is
  -- delivered to the publisher except data (its viewers' messages).
  for _, medium in ipairs({ "audio", "video", "data" }) do configureMedium(s.id, medium, "out", true) end
  configureMedium(s.id, "audio", "in", false)
  configureMedium(s.id, "video", "in", false)
  configureMedium(s.id, "data", "in", true)
  return event({ broadcast = "publishing" }), json.encode({ type = "answer", sdp = sdp.render(answer) })
end

function requests.watch(s)
  if publisher == nil or template == nil then return errorEvent(ERR.NOT_LIVE, "Not live") end
  if s.role ~= nil then return errorEvent(ERR.INVALID_REQUEST, "Already " .. s.role) end
  s.role = "viewer"
  s.number = nextViewerNumber
  nextViewerNumber = nextViewerNumber + 1
  -- "in": media relayed from the publisher may be delivered to this viewer; "out": only
  -- its data goes anywhere (to the script's incomingTextData).
  for _, medium in ipairs({ "audio", "video", "data" }) do configureMedium(s.id, medium, "in", true) end
  configureMedium(s.id, "audio", "out", false)
  configureMedium(s.id, "video", "out", false)
  configureMedium(s.id, "data", "out", true)
  return event({ broadcast = "offer" }), json.encode({ type = "offer", sdp = sdp.render(template) })
end

function requests.start(s, body, jsep)
  if s.role ~= "viewer" then return errorEvent(ERR.NOT_WATCHING, "Send watch first") end
  if jsep == nil or jsep.type ~= "answer" then return errorEvent(ERR.MISSING_JSEP, "An answer is needed") end
  -- The answer went to the core with this message; media flows from setupMedia on.
  return event({ broadcast = "started" })
end

function requests.stop(s)
  if s.role == "publisher" then
    endBroadcast()
    closePc(s.id)
  elseif s.role == "viewer" then
    disconnectViewer(s)
    s.role = nil
    if s.started then closePc(s.id) end
  else
    return errorEvent(ERR.INVALID_REQUEST, "Nothing to stop")
  end
  return event({ broadcast = "stopped" })
end

function handleMessage(id, tr, msg, jsep)
  local s = sessions[id]
  if s == nil then return -1, "No such session" end
  local body = msg and json.decode(msg) -- body and jsep arrive as JSON strings
  if type(body) ~= "table" then return -1, "Invalid message" end
  local request = value(body.request)
  if request == "status" then
    return 0, event({ broadcast = "status", live = publisher ~= nil, viewers = viewerCount })
  end
  if requests[request] == nil then return 0, errorEvent(ERR.INVALID_REQUEST, "Unknown request") end
  -- Asynchronous: ack now (return 1), answer from resumeScheduler with pushEvent.
  queue[#queue + 1] = { id = id, tr = tr, request = request, body = body, jsep = jsep and json.decode(jsep) }
  pokeScheduler()
  return 1
end

function resumeScheduler()
  local tasks = queue
  queue = {}
  for _, task in ipairs(tasks) do
    local s = sessions[task.id]
    if s ~= nil then
      local ok, result, jsep = pcall(requests[task.request], s, task.body, task.jsep)
      if not ok then
        log(2, task.request .. " failed: " .. tostring(result))
        result, jsep = errorEvent(ERR.INVALID_REQUEST, "Internal error"), nil
      end
      pushEvent(task.id, task.tr, result, jsep)
    end
  end
end

function setupMedia(id)
  local s = sessions[id]
  if s == nil then return end
  s.started = true
  if s.role == "publisher" then
    -- Viewers who were waiting for the publisher's PeerConnection.
    for _, other in pairs(sessions) do
      if other.role == "viewer" and other.started then connectViewer(other) end
    end
  elseif s.role == "viewer" then
    connectViewer(s)
  end
end

function hangupMedia(id)
  local s = sessions[id]
  if s == nil then return end
  s.started = false
  s.dataReady = false
  if s.role == "publisher" then endBroadcast() elseif s.role == "viewer" then disconnectViewer(s) end
end

function dataReady(id)
  local s = sessions[id]
  if s ~= nil then s.dataReady = true end
end

function incomingTextData(id, text, length)
  local s = sessions[id]
  if s == nil then return end
  if s.role == "publisher" then
    for viewerId, viewer in pairs(sessions) do
      if viewer.role == "viewer" and viewer.connected and viewer.dataReady then relayTextData(viewerId, text, length) end
    end
  elseif s.role == "viewer" and publisher ~= nil and sessions[publisher].dataReady then
    local line = "[viewer " .. s.number .. "] " .. text
    relayTextData(publisher, line, #line)
  end
end

log(4, "loaded")
