-- luasfu's video room, written for the Janus Lua plugin contract.
--
-- It speaks the legacy (pre-1.0) VideoRoom API that Janus's videoroom.lua speaks, so
-- clients written for it work unchanged. The plugin registers as `janus.plugin.lua`
-- (no getPackage), like Janus's videoroom.lua.
--
-- Synchronous requests (reply in the `success`):
--   create, destroy, list, exists, listparticipants
-- Asynchronous requests (`ack`, then an event on the same transaction):
--   join (ptype publisher | subscriber), configure, publish, unpublish, start,
--   switch, leave
--
-- Flow: create a room; a publisher joins (gets `joined` with the current publishers)
-- and publishes an offer (gets an answer; everybody else in the room gets a
-- `publishers` event once its PeerConnection is up); a subscriber joins with
-- `feed` = the publisher's id and gets `attached` with an offer built from the
-- publisher's answer (same payload types, so the core relays packets unchanged),
-- then sends `start` with its answer. Leaving or hanging up sends `unpublished` and
-- `leaving` to the room.
--
-- Ids (rooms, users, private ids) that we generate are in 1..2^31-1: safe for 32-bit
-- Lua integers (Fengari) and for JSON/JavaScript numbers.

local json = require('json')
local sdp = require('sdp')

local NAME = "videoroom.lua (luasfu)"

-- Error codes, as Janus's video room uses them.
local ERR = {
  UNKNOWN_ERROR = 499,
  NO_MESSAGE = 421,
  INVALID_JSON = 422,
  INVALID_REQUEST = 423,
  JOIN_FIRST = 424,
  ALREADY_JOINED = 425,
  NO_SUCH_ROOM = 426,
  ROOM_EXISTS = 427,
  NO_SUCH_FEED = 428,
  MISSING_ELEMENT = 429,
  INVALID_ELEMENT = 430,
  INVALID_SDP_TYPE = 431,
  PUBLISHERS_FULL = 432,
  UNAUTHORIZED = 433,
  ALREADY_PUBLISHED = 434,
  NOT_PUBLISHED = 435,
  ID_EXISTS = 436,
  INVALID_SDP = 437,
}

local MAX_ID = 2147483647

-- rooms[roomId] = {
--   id, description, secret, publishers (max number), audioCodecs, videoCodecs (lists),
--   vp9Profile, h264Profile, bitrate, firFreq, requirePvtId, notifyJoining,
--   participants = { [userId] = sessionId },      -- publishers (joined, maybe not publishing)
--   subscribers = { [sessionId] = true },
--   privateIds = { [privateId] = sessionId } }
local rooms = {}
-- sessions[id] = { id, ptype ("publisher"|"subscriber"|nil), room, started, ... }
local sessions = {}
-- Coroutines waiting for the scheduler (see resumeScheduler).
local tasks = {}

local function log(level, text)
  janusLog(level, "[" .. NAME .. "] " .. text)
end

-- json.decode turns JSON null into a sentinel that is not nil: treat it as absent.
local function value(v)
  if type(v) == "function" or type(v) == "userdata" then return nil end
  return v
end

-- An empty Lua table encodes as a JSON object ({}); lists that may be empty are marked as
-- arrays with the json module's InitArray (luajson's API, which luasfu's module offers too).
local function array(t)
  if json.util and json.util.InitArray then return json.util.InitArray(t) end
  return t
end

local function encode(tbl) return json.encode(tbl) end

local function errorReply(code, text)
  return encode({ videoroom = "error", error_code = code, error = text })
end

local function errorEvent(code, text)
  return encode({ videoroom = "event", error_code = code, error = text })
end

-- A random id in 1..2^31-1 not used as a key of `used`.
local function newId(used)
  while true do
    local id = math.random(1, MAX_ID)
    if used[id] == nil then return id end
  end
end

-- Split "opus,pcmu" into { "opus", "pcmu" } (lower-case, spaces dropped).
local function splitList(text)
  local out = {}
  for item in tostring(text):gmatch("[^,%s]+") do out[#out + 1] = item:lower() end
  return out
end

local function contains(list, item)
  for _, v in ipairs(list) do
    if v == item then return true end
  end
  return false
end

-- Public description of a publisher, as `publishers` lists carry it.
local function publisherInfo(p)
  return { id = p.userId, display = p.display, audio_codec = p.audioCodec, video_codec = p.videoCodec }
end

-- Is this session a publisher whose media is flowing (so others can subscribe)?
local function isActivePublisher(p)
  return p ~= nil and p.ptype == "publisher" and p.template ~= nil and p.started == true
end

-- Send an unsolicited event to every publisher-participant of the room except `except`.
local function notifyParticipants(room, eventJson, except)
  for _, sid in pairs(room.participants) do
    if sid ~= except and sessions[sid] ~= nil then pushEvent(sid, nil, eventJson, nil) end
  end
end

-- Stop relaying a publisher's media to its subscribers and, if it was publishing,
-- tell the room. Idempotent: the core calls hangupMedia after our own closePc.
local function stopPublishing(s)
  local wasPublishing = s.template ~= nil or s.started
  for subId in pairs(s.subscribers or {}) do removeRecipient(s.id, subId) end
  s.subscribers = {}
  s.template = nil
  s.started = false
  local room = rooms[s.room]
  if wasPublishing and room ~= nil then
    notifyParticipants(room, encode({ videoroom = "event", room = room.id, unpublished = s.userId }), s.id)
  end
end

-- Detach a subscriber from the publisher it receives.
local function stopSubscription(s)
  local feed = sessions[s.feedSession]
  if feed ~= nil then
    if feed.subscribers ~= nil then feed.subscribers[s.id] = nil end
    removeRecipient(feed.id, s.id)
  end
  s.started = false
end

-- Remove a session from its room (leave, destroySession, room destroyed).
local function removeFromRoom(s, notify)
  local room = rooms[s.room]
  if s.ptype == "publisher" then
    stopPublishing(s)
    if room ~= nil then
      room.participants[s.userId] = nil
      if s.privateId ~= nil then room.privateIds[s.privateId] = nil end
      if notify then
        notifyParticipants(room, encode({ videoroom = "event", room = room.id, leaving = s.userId }), s.id)
      end
      -- Rooms that require private ids also drop the subscriptions this user made.
      if room.requirePvtId then
        for _, sub in ipairs(s.subscriptions or {}) do
          if sessions[sub] ~= nil then endSession(sub) end
        end
      end
    end
    s.subscriptions = {}
  elseif s.ptype == "subscriber" then
    stopSubscription(s)
    if room ~= nil then room.subscribers[s.id] = nil end
  end
  s.ptype, s.room, s.userId, s.privateId, s.feed, s.feedSession = nil, nil, nil, nil, nil, nil
end

---------------------------------------------------------------------------------------
-- Plugin callbacks
---------------------------------------------------------------------------------------

function init(config)
  log(4, "initialised" .. (config and (" (config: " .. config .. ")") or ""))
end

function destroy()
  log(4, "destroyed")
end

function createSession(id)
  sessions[id] = { id = id, started = false }
end

function destroySession(id)
  local s = sessions[id]
  if s == nil then return end
  removeFromRoom(s, true)
  sessions[id] = nil
end

function querySession(id)
  local s = sessions[id]
  if s == nil then return nil end
  return json.encode({
    script = NAME, room = s.room, ptype = s.ptype, id = s.userId, display = s.display,
    feed = s.feed, started = s.started, publishing = (s.template ~= nil),
    audio = s.audio, video = s.video, data = s.data,
    audio_codec = s.audioCodec, video_codec = s.videoCodec, bitrate = s.bitrate,
  })
end

---------------------------------------------------------------------------------------
-- Synchronous requests
---------------------------------------------------------------------------------------

local sync = {}

function sync.create(s, msg)
  local roomId = value(msg.room)
  if roomId == nil then roomId = newId(rooms) end
  if rooms[roomId] ~= nil then return errorReply(ERR.ROOM_EXISTS, "Room exists") end
  rooms[roomId] = {
    id = roomId,
    description = value(msg.description),
    secret = value(msg.secret),
    publishers = tonumber(value(msg.publishers)) or 3,
    audioCodecs = splitList(value(msg.audiocodec) or "opus"),
    videoCodecs = splitList(value(msg.videocodec) or "vp8"),
    vp9Profile = value(msg.vp9_profile),
    h264Profile = value(msg.h264_profile),
    bitrate = value(msg.bitrate),
    firFreq = value(msg.fir_freq),
    requirePvtId = value(msg.require_pvtid) == true,
    notifyJoining = value(msg.notify_joining) == true,
    participants = {}, subscribers = {}, privateIds = {},
  }
  log(4, "created room " .. tostring(roomId))
  return encode({ videoroom = "created", room = roomId })
end

function sync.destroy(s, msg)
  local roomId = value(msg.room)
  if roomId == nil then return errorReply(ERR.MISSING_ELEMENT, "Missing element (room)") end
  local room = rooms[roomId]
  if room == nil then return errorReply(ERR.NO_SUCH_ROOM, "No such room") end
  if room.secret ~= nil and room.secret ~= value(msg.secret) then
    return errorReply(ERR.UNAUTHORIZED, "Unauthorized (wrong secret)")
  end
  -- Tell everybody in the room, close their PeerConnections, forget the room.
  local event = encode({ videoroom = "destroyed", room = roomId })
  local members = {}
  for _, sid in pairs(room.participants) do members[#members + 1] = sid end
  for sid in pairs(room.subscribers) do members[#members + 1] = sid end
  -- Forget the room first, so kicking members sends no unpublished/leaving events.
  rooms[roomId] = nil
  for _, sid in ipairs(members) do
    local p = sessions[sid]
    if p ~= nil then
      pushEvent(sid, nil, event, nil)
      local started = p.started
      removeFromRoom(p, false)
      if started then closePc(sid) end
    end
  end
  return encode({ videoroom = "destroyed", room = roomId })
end

function sync.list(s, msg)
  local list = array({})
  for _, room in pairs(rooms) do
    local count = 0
    for _ in pairs(room.participants) do count = count + 1 end
    list[#list + 1] = {
      room = room.id, description = room.description, max_publishers = room.publishers,
      bitrate = room.bitrate, fir_freq = room.firFreq,
      audiocodec = table.concat(room.audioCodecs, ","), videocodec = table.concat(room.videoCodecs, ","),
      require_pvtid = room.requirePvtId, notify_joining = room.notifyJoining,
      num_participants = count,
    }
  end
  return encode({ videoroom = "success", list = list })
end

function sync.exists(s, msg)
  local roomId = value(msg.room)
  return encode({ videoroom = "success", room = roomId, exists = (roomId ~= nil and rooms[roomId] ~= nil) })
end

function sync.listparticipants(s, msg)
  local roomId = value(msg.room)
  if roomId == nil then return errorReply(ERR.MISSING_ELEMENT, "Missing element (room)") end
  local room = rooms[roomId]
  if room == nil then return errorReply(ERR.NO_SUCH_ROOM, "No such room") end
  local participants = array({})
  for _, sid in pairs(room.participants) do
    local p = sessions[sid]
    if sid ~= s.id and isActivePublisher(p) then participants[#participants + 1] = publisherInfo(p) end
  end
  return encode({ videoroom = "participants", room = roomId, participants = participants })
end

---------------------------------------------------------------------------------------
-- Asynchronous requests: each returns (eventJson, jsepJson) for the requester
---------------------------------------------------------------------------------------

local async = {}

local function joinPublisher(s, room, msg)
  local userId = value(msg.id)
  if userId == nil then userId = newId(room.participants) end
  if room.participants[userId] ~= nil then return errorEvent(ERR.ID_EXISTS, "User ID already exists") end
  s.ptype, s.room, s.userId = "publisher", room.id, userId
  s.display = value(msg.display)
  s.privateId = newId(room.privateIds)
  s.subscribers, s.subscriptions = {}, {}
  s.audioCodec, s.videoCodec = nil, nil
  room.participants[userId] = s.id
  room.privateIds[s.privateId] = s.id
  if room.bitrate ~= nil then
    s.bitrate = room.bitrate
    setBitrate(s.id, room.bitrate)
  end
  if room.firFreq ~= nil then setPliFreq(s.id, room.firFreq) end
  -- A publisher only sends.
  for _, medium in ipairs({ "audio", "video", "data" }) do
    configureMedium(s.id, medium, "out", true)
    configureMedium(s.id, medium, "in", false)
  end
  local event = { videoroom = "joined", room = room.id, description = room.description,
    id = userId, private_id = s.privateId, publishers = array({}) }
  if room.notifyJoining then event.attendees = array({}) end
  for _, sid in pairs(room.participants) do
    local p = sessions[sid]
    if sid ~= s.id and p ~= nil then
      if isActivePublisher(p) then
        event.publishers[#event.publishers + 1] = publisherInfo(p)
      elseif room.notifyJoining then
        event.attendees[#event.attendees + 1] = { id = p.userId, display = p.display }
      end
    end
  end
  if room.notifyJoining then
    notifyParticipants(room, encode({ videoroom = "event", event = "joining", room = room.id,
      id = userId, display = s.display }), s.id)
  end
  return encode(event)
end

local function joinSubscriber(s, room, msg)
  local feedId = value(msg.feed)
  if feedId == nil then return errorEvent(ERR.MISSING_ELEMENT, "Missing element (feed)") end
  local f = sessions[room.participants[feedId]]
  if not isActivePublisher(f) then return errorEvent(ERR.NO_SUCH_FEED, "No such feed") end
  local privateId = value(msg.private_id)
  if room.requirePvtId then
    local owner = sessions[room.privateIds[privateId]]
    if owner == nil then
      return errorEvent(ERR.UNAUTHORIZED, "Unauthorized (this room requires a valid private_id)")
    end
    owner.subscriptions[#owner.subscriptions + 1] = s.id
  end
  -- Build the offer from the publisher's answer; drop what the subscriber doesn't want.
  local offer = sdp.copy(f.template)
  local wanted = {}
  for _, medium in ipairs({ "audio", "video", "data" }) do
    local kind = (medium == "data") and "application" or medium
    wanted[medium] = value(msg[medium]) ~= false and value(msg["offer_" .. medium]) ~= false
    if value(msg["offer_" .. medium]) == false then sdp.removeMedia(offer, kind) end
  end
  if #offer.media == 0 then return errorEvent(ERR.INVALID_ELEMENT, "Nothing to subscribe to") end
  s.ptype, s.room, s.feed, s.feedSession = "subscriber", room.id, feedId, f.id
  s.privateId = privateId
  room.subscribers[s.id] = true
  f.subscribers[s.id] = true
  -- A subscriber only receives.
  for _, medium in ipairs({ "audio", "video", "data" }) do
    configureMedium(s.id, medium, "in", wanted[medium])
    configureMedium(s.id, medium, "out", false)
    s[medium] = wanted[medium]
  end
  s.offer = sdp.render(offer)
  local event = encode({ videoroom = "attached", room = room.id, id = feedId, display = f.display })
  return event, json.encode({ type = "offer", sdp = s.offer })
end

function async.join(s, msg)
  if s.ptype ~= nil then
    return errorEvent(ERR.ALREADY_JOINED, "Already in as a " .. s.ptype .. " on this handle")
  end
  local roomId = value(msg.room)
  if roomId == nil then return errorEvent(ERR.MISSING_ELEMENT, "Missing element (room)") end
  local room = rooms[roomId]
  if room == nil then return errorEvent(ERR.NO_SUCH_ROOM, "No such room") end
  local ptype = value(msg.ptype)
  if ptype == "publisher" then return joinPublisher(s, room, msg) end
  if ptype == "subscriber" then return joinSubscriber(s, room, msg) end
  return errorEvent(ERR.INVALID_ELEMENT, "Invalid element (ptype)")
end

-- Pick the publisher's codec for one kind: the requested one if the room allows it,
-- else the first of the room's codecs the offer has. Returns codec, or nil + error.
local function pickCodec(room, offer, kind, requested)
  local allowed = (kind == "audio") and room.audioCodecs or room.videoCodecs
  if requested ~= nil then
    requested = tostring(requested):lower()
    if not contains(allowed, requested) then
      return nil, (kind == "audio" and "Audio" or "Video") .. " codec unavailable in this room"
    end
    return requested
  end
  for _, codec in ipairs(allowed) do
    local profile = nil
    if codec == "vp9" then profile = room.vp9Profile elseif codec == "h264" then profile = room.h264Profile end
    if sdp.findPayloadType(offer, kind, codec, profile) ~= nil then return codec end
  end
  return nil
end

local function configurePublisher(s, msg, jsep)
  local room = rooms[s.room]
  if room == nil then return errorEvent(ERR.NO_SUCH_ROOM, "No such room") end
  local event = { videoroom = "event", room = room.id, configured = "ok" }
  local answerJson = nil
  if jsep ~= nil then
    if jsep.type ~= "offer" then return errorEvent(ERR.INVALID_SDP_TYPE, "Invalid SDP type (expected an offer)") end
    local offer = sdp.parse(value(jsep.sdp))
    if offer == nil then return errorEvent(ERR.INVALID_SDP, "Invalid SDP") end
    if s.template == nil then
      -- A new publisher: respect the room's limit.
      local publishing = 0
      for _, sid in pairs(room.participants) do
        local p = sessions[sid]
        if sid ~= s.id and p ~= nil and p.template ~= nil then publishing = publishing + 1 end
      end
      if publishing >= room.publishers then
        return errorEvent(ERR.PUBLISHERS_FULL, "Maximum number of publishers (" .. room.publishers .. ") already reached")
      end
    end
    local audioCodec, audioErr = pickCodec(room, offer, "audio", value(msg.audiocodec))
    if audioErr then return errorEvent(ERR.INVALID_ELEMENT, audioErr) end
    local videoCodec, videoErr = pickCodec(room, offer, "video", value(msg.videocodec))
    if videoErr then return errorEvent(ERR.INVALID_ELEMENT, videoErr) end
    -- Publishers only send: answer as if the offer said sendonly (we say recvonly).
    sdp.replaceDirection(offer, "sendrecv", "sendonly")
    local answer = sdp.generateAnswer(offer, {
      audio = audioCodec ~= nil, audioCodec = audioCodec,
      video = videoCodec ~= nil, videoCodec = videoCodec,
      vp9Profile = room.vp9Profile, h264Profile = room.h264Profile,
    })
    s.audioCodec = sdp.negotiatedCodec(answer, "audio")
    s.videoCodec = sdp.negotiatedCodec(answer, "video")
    answerJson = json.encode({ type = "answer", sdp = sdp.render(answer) })
    -- The template for subscriber offers: our answer, seen from the sending side.
    local template = sdp.copy(answer)
    sdp.removeRejected(template)
    sdp.replaceDirection(template, "recvonly", "sendonly")
    s.template = template
    event.audio_codec = s.audioCodec
    event.video_codec = s.videoCodec
  end
  for _, medium in ipairs({ "audio", "video", "data" }) do
    local enabled = value(msg[medium])
    if enabled == true or enabled == false then
      configureMedium(s.id, medium, "out", enabled)
      s[medium] = enabled
      if medium == "video" and enabled then sendPli(s.id) end
    end
  end
  if type(value(msg.bitrate)) == "number" then
    s.bitrate = msg.bitrate
    setBitrate(s.id, msg.bitrate)
  end
  if type(value(msg.fir_freq)) == "number" then setPliFreq(s.id, msg.fir_freq) end
  return encode(event), answerJson
end

local function configureSubscriber(s, msg)
  local feed = sessions[s.feedSession]
  for _, medium in ipairs({ "audio", "video", "data" }) do
    local enabled = value(msg[medium])
    if enabled == true or enabled == false then
      configureMedium(s.id, medium, "in", enabled)
      s[medium] = enabled
      -- Resuming video needs a keyframe from the publisher.
      if medium == "video" and enabled and feed ~= nil then sendPli(feed.id) end
    end
  end
  local jsepJson = nil
  if value(msg.restart) == true and s.offer ~= nil then
    jsepJson = json.encode({ type = "offer", sdp = s.offer, restart = true })
  end
  return encode({ videoroom = "event", room = s.room, configured = "ok" }), jsepJson
end

function async.configure(s, msg, jsep)
  if s.ptype == "publisher" then return configurePublisher(s, msg, jsep) end
  if s.ptype == "subscriber" then return configureSubscriber(s, msg) end
  return errorEvent(ERR.JOIN_FIRST, "Join first")
end

function async.publish(s, msg, jsep)
  if s.ptype == "publisher" then
    if jsep == nil and s.template == nil then return errorEvent(ERR.MISSING_ELEMENT, "Missing SDP offer") end
    return configurePublisher(s, msg, jsep)
  end
  if s.ptype == "subscriber" then return errorEvent(ERR.INVALID_REQUEST, "Invalid request") end
  return errorEvent(ERR.JOIN_FIRST, "Join first")
end

function async.unpublish(s, msg)
  if s.ptype ~= "publisher" then return errorEvent(ERR.INVALID_REQUEST, "Invalid request") end
  if s.template == nil then return errorEvent(ERR.NOT_PUBLISHED, "Can't unpublish, not published") end
  local roomId = s.room
  stopPublishing(s)
  closePc(s.id)
  return encode({ videoroom = "event", room = roomId, unpublished = "ok" })
end

function async.start(s, msg)
  if s.ptype ~= "subscriber" then return errorEvent(ERR.INVALID_REQUEST, "Invalid request") end
  -- The answer (if any) went to the core; media starts flowing at setupMedia.
  return encode({ videoroom = "event", room = s.room, started = "ok" })
end

function async.switch(s, msg)
  if s.ptype ~= "subscriber" then return errorEvent(ERR.INVALID_REQUEST, "Invalid request") end
  local feedId = value(msg.feed)
  if feedId ~= nil and feedId ~= s.feed then
    -- Relay another publisher of the same room on the same PeerConnection. Works when
    -- both publishers negotiated the same codecs and payload types (same browser).
    local room = rooms[s.room]
    local f = room and sessions[room.participants[feedId]]
    if not isActivePublisher(f) then return errorEvent(ERR.NO_SUCH_FEED, "No such feed") end
    local wasStarted = s.started
    stopSubscription(s)
    s.started = wasStarted
    s.feed, s.feedSession = feedId, f.id
    f.subscribers[s.id] = true
    if s.started then
      addRecipient(f.id, s.id)
      sendPli(f.id)
    end
    return encode({ videoroom = "event", room = s.room, switched = "ok", id = feedId })
  end
  return encode({ videoroom = "event", room = s.room, switched = "ok" })
end

function async.leave(s, msg)
  if s.ptype == nil then return errorEvent(ERR.JOIN_FIRST, "Join first") end
  local roomId = s.room
  local started = s.started
  removeFromRoom(s, true)
  if started then closePc(s.id) end
  return encode({ videoroom = "event", room = roomId, leaving = "ok" })
end

-- Run one asynchronous request (inside a coroutine) and push its result.
local function runAsync(id, tr, msg, jsep)
  local s = sessions[id]
  if s == nil then return end
  local ok, eventJson, jsepJson = pcall(async[msg.request], s, msg, jsep)
  if not ok then
    log(2, "request " .. tostring(msg.request) .. " failed: " .. tostring(eventJson))
    eventJson, jsepJson = errorEvent(ERR.UNKNOWN_ERROR, "Internal error"), nil
  end
  pushEvent(id, tr, eventJson, jsepJson)
end

function handleMessage(id, tr, msg, jsep)
  local s = sessions[id]
  if s == nil then return -1, "Session not found" end
  local body = msg and json.decode(msg)
  if type(body) ~= "table" then return -1, "Invalid message" end
  local request = value(body.request)
  if sync[request] ~= nil then return 0, sync[request](s, body) end
  if async[request] ~= nil then
    local jsepT = jsep and json.decode(jsep)
    tasks[#tasks + 1] = { id, tr, body, jsepT }
    pokeScheduler()
    return 1, nil
  end
  return 0, errorReply(ERR.INVALID_REQUEST, "Unknown request")
end

function setupMedia(id)
  local s = sessions[id]
  if s == nil then return end
  s.started = true
  if s.ptype == "publisher" then
    if s.bitrate ~= nil then setBitrate(id, s.bitrate) end
    local room = rooms[s.room]
    if room ~= nil and s.template ~= nil then
      -- Everybody else in the room may now subscribe.
      notifyParticipants(room, encode({ videoroom = "event", room = room.id,
        publishers = { publisherInfo(s) } }), id)
    end
  elseif s.ptype == "subscriber" then
    local feed = sessions[s.feedSession]
    if feed ~= nil then
      feed.subscribers[id] = true
      addRecipient(feed.id, id)
      -- Ask the publisher for a keyframe so the new subscriber can decode at once.
      sendPli(feed.id)
    end
  end
end

function hangupMedia(id)
  local s = sessions[id]
  if s == nil then return end
  if s.ptype == "publisher" then
    stopPublishing(s)
  elseif s.ptype == "subscriber" then
    stopSubscription(s)
  end
  s.started = false
end

-- Called once per pokeScheduler(): run every queued request in its own coroutine.
-- Requests queued while we run are kept for the next call (each has its own poke).
function resumeScheduler()
  local queue = tasks
  tasks = {}
  for _, task in ipairs(queue) do
    local co = coroutine.create(runAsync)
    local ok, err = coroutine.resume(co, task[1], task[2], task[3], task[4])
    if not ok then log(2, "async request failed: " .. tostring(err)) end
  end
end

log(4, "loaded")
