-- luasfu's video room, written for the Janus Lua plugin contract.
--
-- It speaks the Janus 1.x VideoRoom API (janus.plugin.videoroom), so Janus's own demo pages
-- (videoroomtest.html, mvideoroomtest.html) and 1.x clients work, and still answers the legacy
-- (pre-1.0) requests and fields that Janus's videoroom.lua speaks (subscriber `feed`,
-- `offer_audio`/`offer_video`/`offer_data`, publisher `audio`/`video`/`data` booleans).
--
-- Script config (a JSON object, all optional; anything else is ignored):
--   package   the package to register as (default "janus.plugin.videoroom"; use another one to
--             run beside a script that already has that name)
--   rooms     rooms created at startup (default: room 1234 as in Janus's sample config:
--             "Demo Room", secret "adminpwd", 6 publishers, 128 kbps, PLI every 10 s);
--             each entry takes the fields of `create`; [] creates none
--
-- Synchronous requests (reply in the `success`):
--   create, edit, destroy, exists, list, listparticipants, allowed, kick
-- Asynchronous requests (`ack`, then an event on the same transaction):
--   publishers: join (ptype "publisher"), joinandconfigure, configure, publish, unpublish, leave
--   subscribers: join (ptype "subscriber", with `streams` or the legacy `feed`), start, pause,
--   configure (substream, temporal, per-stream `send`, legacy media booleans), switch,
--   update (subscribe/unsubscribe), leave
--
-- Flow: a publisher joins (`joined`, with the room's publishers and their `streams`) and
-- publishes an offer (answer + `configured`; everybody else in the room gets `publishers` once
-- its PeerConnection is up); a subscriber joins with `streams` = [{feed, mid?}] (or `feed`) and
-- gets `attached` with an offer built from the publisher's answer (same payload types, so the
-- core relays packets unchanged), then sends `start` with its answer. Leaving or hanging up
-- sends `unpublished` and `leaving` to the room.
--
-- One subscriber handle receives from one publisher at a time (the Lua contract gives each
-- session one sender): a subscription naming streams of several feeds is refused (error 428).
--
-- Ids (rooms, users, private ids) that we generate are in 1..2^31-1: safe for 32-bit
-- Lua integers (Fengari) and for JSON/JavaScript numbers.

local json = require('json')
local sdp = require('sdp')

local NAME = "videoroom.lua (luasfu)"
local packageName = "janus.plugin.videoroom"
-- Room 1234 as Janus's sample janus.plugin.videoroom.jcfg has it.
local DEFAULT_ROOMS = {
  { room = 1234, description = "Demo Room", secret = "adminpwd", publishers = 6, bitrate = 128000, fir_freq = 10 },
}

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

-- The 428 a subscription naming a second feed gets (see the note at the top).
local ONE_FEED_PER_SUBSCRIBER = "One publisher per subscriber handle: the Lua plugin contract gives a recipient one sender; "
  .. "attach one subscriber handle per feed (luasfu's videoroom.lua)"

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
-- Defined with the synchronous requests; init uses it.
local createStartupRooms

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
  return { id = p.userId, display = p.display, audio_codec = p.audioCodec, video_codec = p.videoCodec,
    streams = array(p.streams or {}) }
end

-- The streams a subscriber receives, as 1.x events list them (mids are the offer's m-line
-- indexes, as the core numbers them).
local function subscriberStreams(s)
  local f = sessions[s.feedSession]
  local list = array({})
  for i, st in ipairs(s.streams or {}) do
    local entry = { type = st.type, active = st.active ~= false and f ~= nil, mindex = i - 1, mid = tostring(i - 1),
      ready = s.started == true, send = st.send ~= false }
    if st.type == "data" then
      entry.sources = 1
      entry.source_ids = array({ s.feed })
    else
      entry.feed_id = s.feed
      entry.feed_display = f and f.display or nil
      entry.feed_mid = st.feedMid
      entry.codec = st.codec
    end
    list[#list + 1] = entry
  end
  return list
end

-- Whether this subscriber should receive `medium` now: offered, wanted, sent, not paused.
local function subscriberWants(s, medium)
  if s.paused then return false end
  for _, st in ipairs(s.streams or {}) do
    if st.type == medium and st.active ~= false and st.send ~= false and s[medium] ~= false then return true end
  end
  return false
end

local function applySubscriberMedia(s)
  for _, medium in ipairs({ "audio", "video", "data" }) do
    configureMedium(s.id, medium, "in", subscriberWants(s, medium))
    configureMedium(s.id, medium, "out", false)
  end
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
  s.streams, s.paused, s.audio, s.video, s.data = nil, nil, nil, nil, nil
end

---------------------------------------------------------------------------------------
-- Plugin callbacks
---------------------------------------------------------------------------------------

function init(config)
  local ok, settings = pcall(json.decode, config or "")
  if not ok or type(settings) ~= "table" then settings = {} end
  if type(value(settings.package)) == "string" then packageName = settings.package end
  local rooms = value(settings.rooms)
  createStartupRooms(type(rooms) == "table" and rooms or DEFAULT_ROOMS)
  log(4, "initialised as " .. packageName)
end

function getPackage() return packageName end

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
  if type(roomId) ~= "number" then return errorReply(ERR.INVALID_ELEMENT, "Invalid element (room)") end
  if rooms[roomId] ~= nil then return errorReply(ERR.ROOM_EXISTS, "Room exists") end
  rooms[roomId] = {
    id = roomId,
    description = value(msg.description),
    secret = value(msg.secret),
    pin = value(msg.pin),
    isPrivate = value(msg.is_private) == true,
    allowed = nil, -- tokens when access control is on (the `allowed` request)
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
  return encode({ videoroom = "created", room = roomId, permanent = false })
end

createStartupRooms = function(list)
  for _, entry in ipairs(list) do
    if type(entry) == "table" then
      local reply = json.decode(sync.create(nil, entry))
      if reply.videoroom ~= "created" then log(3, "startup room not created: " .. tostring(reply.error)) end
    end
  end
end

-- The room named by msg.room, checking its secret (when `needSecret`) and pin (when
-- `needPin`): room, or nil + error reply text.
local function accessRoom(msg, needSecret, needPin, reply)
  reply = reply or errorReply
  local roomId = value(msg.room)
  if roomId == nil then return nil, reply(ERR.MISSING_ELEMENT, "Missing element (room)") end
  local room = rooms[roomId]
  if room == nil then return nil, reply(ERR.NO_SUCH_ROOM, "No such room") end
  if needSecret and room.secret ~= nil and room.secret ~= value(msg.secret) then
    return nil, reply(ERR.UNAUTHORIZED, "Unauthorized (wrong secret)")
  end
  if needPin and room.pin ~= nil and room.pin ~= value(msg.pin) then
    return nil, reply(ERR.UNAUTHORIZED, "Unauthorized (wrong pin)")
  end
  return room
end

function sync.edit(s, msg)
  local room, err = accessRoom(msg, true, false)
  if room == nil then return err end
  local function set(field, key, convert)
    local v = value(msg[key])
    if v ~= nil then room[field] = convert and convert(v) or v end
  end
  set("description", "new_description")
  set("secret", "new_secret")
  set("pin", "new_pin")
  set("isPrivate", "new_is_private")
  set("requirePvtId", "new_require_pvtid")
  set("bitrate", "new_bitrate")
  set("firFreq", "new_fir_freq")
  set("publishers", "new_publishers", tonumber)
  return encode({ videoroom = "edited", room = room.id, permanent = false })
end

function sync.allowed(s, msg)
  local room, err = accessRoom(msg, true, false)
  if room == nil then return err end
  local action = value(msg.action)
  local list = value(msg.allowed)
  if action == "enable" then
    room.allowed = room.allowed or {}
  elseif action == "disable" then
    room.allowed = nil
  elseif action == "add" or action == "remove" then
    if type(list) ~= "table" then return errorReply(ERR.MISSING_ELEMENT, "Missing element (allowed)") end
    room.allowed = room.allowed or {}
    for _, token in ipairs(list) do
      if type(token) == "string" then room.allowed[token] = (action == "add") or nil end
    end
  else
    return errorReply(ERR.INVALID_ELEMENT, "Unsupported action '" .. tostring(action) .. "' (allowed)")
  end
  local reply = { videoroom = "success", room = room.id }
  if room.allowed ~= nil then
    reply.allowed = array({})
    for token in pairs(room.allowed) do reply.allowed[#reply.allowed + 1] = token end
    table.sort(reply.allowed)
  end
  return encode(reply)
end

function sync.destroy(s, msg)
  local room, err = accessRoom(msg, true, false)
  if room == nil then return err end
  local roomId = room.id
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
  return encode({ videoroom = "destroyed", room = roomId, permanent = false })
end

function sync.kick(s, msg)
  local room, err = accessRoom(msg, true, false)
  if room == nil then return err end
  local userId = value(msg.id)
  if userId == nil then return errorReply(ERR.MISSING_ELEMENT, "Missing element (id)") end
  local p = sessions[room.participants[userId]]
  if p == nil then return errorReply(ERR.NO_SUCH_FEED, "No such user " .. tostring(userId) .. " in room " .. tostring(room.id)) end
  pushEvent(p.id, nil, encode({ videoroom = "event", room = room.id, leaving = "ok", reason = "kicked" }), nil)
  local started = p.started
  removeFromRoom(p, true)
  if started then closePc(p.id) end
  return encode({ videoroom = "success" })
end

function sync.list(s, msg)
  local list = array({})
  for _, room in pairs(rooms) do
    if not room.isPrivate then
      local count = 0
      for _ in pairs(room.participants) do count = count + 1 end
      list[#list + 1] = {
        room = room.id, description = room.description, pin_required = room.pin ~= nil, is_private = false,
        max_publishers = room.publishers, bitrate = room.bitrate or 0, fir_freq = room.firFreq or 0,
        audiocodec = table.concat(room.audioCodecs, ","), videocodec = table.concat(room.videoCodecs, ","),
        require_pvtid = room.requirePvtId, require_e2ee = false, notify_joining = room.notifyJoining,
        record = false, lock_record = false, num_participants = count,
      }
    end
  end
  table.sort(list, function(a, b) return a.room < b.room end)
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
    if p ~= nil then
      participants[#participants + 1] = { id = p.userId, display = p.display, publisher = isActivePublisher(p) }
    end
  end
  table.sort(participants, function(a, b) return a.id < b.id end)
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

-- The feed and the mids a subscription names: `streams` = [{feed, mid?}] (1.x) or `feed`
-- (legacy). Returns feedId, wanted mids (nil: all), legacy, or nil + error event.
local function subscription(msg)
  local streams = value(msg.streams)
  if streams == nil then
    local feedId = value(msg.feed)
    if feedId == nil then return nil, errorEvent(ERR.MISSING_ELEMENT, "Missing element (feed)") end
    return feedId, nil, true
  end
  if type(streams) ~= "table" or #streams == 0 then return nil, errorEvent(ERR.INVALID_ELEMENT, "Invalid element (streams)") end
  local feedId, mids = nil, {}
  for _, entry in ipairs(streams) do
    local feed = type(entry) == "table" and value(entry.feed) or nil
    if feed == nil then return nil, errorEvent(ERR.MISSING_ELEMENT, "Missing element (feed)") end
    if feedId ~= nil and feed ~= feedId then
      return nil, errorEvent(ERR.NO_SUCH_FEED, ONE_FEED_PER_SUBSCRIBER)
    end
    feedId = feed
    local mid = value(entry.mid)
    if mid == nil then mids = nil elseif mids ~= nil then mids[tostring(mid)] = true end
  end
  return feedId, mids, false
end

-- Points subscriber `s` at publisher `f`, taking the publisher streams whose mids are in
-- `mids` (nil: all) and the legacy offer_* flags: the offer text, or nil when nothing is left.
local function buildSubscription(s, f, mids, msg)
  local offer = sdp.copy(f.template)
  local kept, streams = {}, {}
  for i, m in ipairs(offer.media) do
    local ps = f.streams[i]
    local medium = ps and ps.type or ((m.kind == "application") and "data" or m.kind)
    local offered = value(msg["offer_" .. medium]) ~= false
    if ps ~= nil and offered and (mids == nil or mids[ps.mid]) then
      kept[#kept + 1] = m
      streams[#streams + 1] = { type = medium, feedMid = ps.mid, codec = ps.codec, send = true }
    end
  end
  if #kept == 0 then return nil end
  offer.media = kept
  s.streams = streams
  for _, medium in ipairs({ "audio", "video", "data" }) do
    local wanted = value(msg[medium])
    if wanted == false then s[medium] = false elseif s[medium] == nil then s[medium] = true end
  end
  return sdp.render(offer)
end

local function joinSubscriber(s, room, msg)
  local feedId, mids, legacy = subscription(msg)
  if feedId == nil then return mids end
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
  local offer = buildSubscription(s, f, mids, msg)
  if offer == nil then return errorEvent(ERR.INVALID_SDP, "Can't offer an SDP with no stream") end
  s.ptype, s.room, s.feed, s.feedSession = "subscriber", room.id, feedId, f.id
  s.privateId = privateId
  room.subscribers[s.id] = true
  f.subscribers[s.id] = true
  applySubscriberMedia(s)
  s.offer = offer
  local event = { videoroom = "attached", room = room.id, streams = subscriberStreams(s) }
  if legacy then
    event.id = feedId
    event.display = f.display
  end
  return encode(event), json.encode({ type = "offer", sdp = s.offer })
end

function async.join(s, msg)
  if s.ptype ~= nil then
    return errorEvent(ERR.ALREADY_JOINED, "Already in as a " .. s.ptype .. " on this handle")
  end
  local ptype = value(msg.ptype)
  local room, err = accessRoom(msg, false, ptype == "publisher", errorEvent)
  if room == nil then return err end
  if ptype == "publisher" then
    if room.allowed ~= nil and not room.allowed[value(msg.token) or ""] then
      return errorEvent(ERR.UNAUTHORIZED, "Unauthorized (not in the allowed list)")
    end
    return joinPublisher(s, room, msg)
  end
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
    -- The published streams, as 1.x lists them (mid: the client's; aligned with the template).
    s.streams = {}
    for i, m in ipairs(offer.media) do
      local answered = answer.media[i]
      if answered ~= nil and answered.port ~= 0 then
        local medium = (m.kind == "application") and "data" or m.kind
        local mid = tostring(i - 1)
        for _, line in ipairs(m.lines) do
          if line.type == "a" and line.name == "mid" and line.value ~= nil then mid = line.value end
        end
        local entry = { type = medium, mindex = i - 1, mid = mid }
        if medium == "audio" then entry.codec = s.audioCodec elseif medium == "video" then entry.codec = s.videoCodec end
        s.streams[#s.streams + 1] = entry
      end
    end
    answerJson = json.encode({ type = "answer", sdp = sdp.render(answer) })
    -- The template for subscriber offers: our answer, seen from the sending side.
    local template = sdp.copy(answer)
    sdp.removeRejected(template)
    sdp.replaceDirection(template, "recvonly", "sendonly")
    s.template = template
    event.audio_codec = s.audioCodec
    event.video_codec = s.videoCodec
    event.streams = array(s.streams)
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

-- The stream of this subscriber at offer mid `mid` (a string), or nil.
local function streamAtMid(s, mid)
  local index = tonumber(mid)
  return index and s.streams and s.streams[index + 1] or nil
end

local function configureSubscriber(s, msg)
  local feed = sessions[s.feedSession]
  local hadVideo = subscriberWants(s, "video")
  -- Legacy: audio/video/data booleans for the whole subscription.
  for _, medium in ipairs({ "audio", "video", "data" }) do
    local enabled = value(msg[medium])
    if enabled == true or enabled == false then s[medium] = enabled end
  end
  -- 1.x: per-stream `send`, in `streams` or as `mid` + `send`.
  local changes = value(msg.streams)
  if type(changes) ~= "table" then changes = { { mid = value(msg.mid), send = value(msg.send) } } end
  for _, change in ipairs(changes) do
    if type(change) == "table" and value(change.send) ~= nil then
      local st = streamAtMid(s, tostring(value(change.mid)))
      if st ~= nil then st.send = value(change.send) == true end
    end
  end
  applySubscriberMedia(s)
  -- Resuming video needs a keyframe from the publisher.
  if feed ~= nil and not hadVideo and subscriberWants(s, "video") then sendPli(feed.id) end
  local substream, temporal = value(msg.substream), value(msg.temporal)
  if type(substream) == "number" then setSubstream(s.id, substream) end
  if type(temporal) == "number" then setTemporalLayer(s.id, temporal) end
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

-- join as a publisher and configure (publish) in one request.
function async.joinandconfigure(s, msg, jsep)
  if value(msg.ptype) ~= "publisher" then return errorEvent(ERR.INVALID_ELEMENT, "Invalid element (ptype)") end
  local joinedJson, err = async.join(s, msg)
  local joined = json.decode(joinedJson)
  if joined.videoroom ~= "joined" then return joinedJson, err end
  if jsep == nil then return joinedJson end
  local configuredJson, answerJson = configurePublisher(s, msg, jsep)
  local configured = json.decode(configuredJson)
  if configured.error_code ~= nil then return configuredJson end
  joined.audio_codec, joined.video_codec, joined.streams = configured.audio_codec, configured.video_codec, configured.streams
  return encode(joined), answerJson
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
  -- The answer (if any) went to the core; media starts flowing at setupMedia. After a pause,
  -- start resumes.
  if s.paused then
    s.paused = false
    applySubscriberMedia(s)
    local feed = sessions[s.feedSession]
    if feed ~= nil then sendPli(feed.id) end
  end
  return encode({ videoroom = "event", room = s.room, started = "ok" })
end

function async.pause(s, msg)
  if s.ptype ~= "subscriber" then return errorEvent(ERR.INVALID_REQUEST, "Invalid request") end
  s.paused = true
  applySubscriberMedia(s)
  return encode({ videoroom = "event", room = s.room, paused = "ok" })
end

-- Relay another publisher of the same room on the same PeerConnection. Works when both
-- publishers negotiated the same codecs and payload types (the same browser).
local function switchFeed(s, feedId)
  local room = rooms[s.room]
  local f = room and sessions[room.participants[feedId]]
  if not isActivePublisher(f) then return errorEvent(ERR.NO_SUCH_FEED, "No such feed") end
  local wasStarted = s.started
  stopSubscription(s)
  s.started = wasStarted
  s.feed, s.feedSession = feedId, f.id
  f.subscribers[s.id] = true
  for i, st in ipairs(s.streams or {}) do
    if f.streams[i] ~= nil then st.feedMid, st.codec = f.streams[i].mid, f.streams[i].codec end
  end
  if s.started then
    addRecipient(f.id, s.id)
    sendPli(f.id)
  end
  return nil
end

function async.switch(s, msg)
  if s.ptype ~= "subscriber" then return errorEvent(ERR.INVALID_REQUEST, "Invalid request") end
  local streams = value(msg.streams)
  if type(streams) == "table" then
    -- 1.x: [{feed, mid, sub_mid}]; all must name one feed (one sender per handle).
    local feedId = nil
    for _, entry in ipairs(streams) do
      local feed = type(entry) == "table" and value(entry.feed) or nil
      if feed == nil then return errorEvent(ERR.MISSING_ELEMENT, "Missing element (feed)") end
      if feedId ~= nil and feed ~= feedId then
        return errorEvent(ERR.NO_SUCH_FEED, ONE_FEED_PER_SUBSCRIBER)
      end
      feedId = feed
    end
    if feedId == nil then return errorEvent(ERR.MISSING_ELEMENT, "Missing element (streams)") end
    local changes = 0
    if feedId ~= s.feed then
      local err = switchFeed(s, feedId)
      if err then return err end
      changes = #streams
    end
    return encode({ videoroom = "event", room = s.room, switched = "ok", changes = changes, streams = subscriberStreams(s) })
  end
  local feedId = value(msg.feed)
  if feedId ~= nil and feedId ~= s.feed then
    local err = switchFeed(s, feedId)
    if err then return err end
    return encode({ videoroom = "event", room = s.room, switched = "ok", id = feedId })
  end
  return encode({ videoroom = "event", room = s.room, switched = "ok" })
end

-- update / subscribe / unsubscribe: streams of the subscribed feed are switched on and off;
-- streams of another feed are refused (one sender per handle). No new offer is needed: the
-- m-lines stay, only what is relayed changes.
function async.update(s, msg)
  if s.ptype ~= "subscriber" then return errorEvent(ERR.INVALID_REQUEST, "Invalid request") end
  local function apply(list, active)
    if type(list) ~= "table" then return nil end
    for _, entry in ipairs(list) do
      local feed = type(entry) == "table" and value(entry.feed) or nil
      local mid = type(entry) == "table" and value(entry.mid) or nil
      local subMid = type(entry) == "table" and value(entry.sub_mid) or nil
      if feed ~= nil and feed ~= s.feed then
        -- Dropping a feed we don't receive is a no-op; adding one is not possible here.
        if active then return errorEvent(ERR.NO_SUCH_FEED, ONE_FEED_PER_SUBSCRIBER) end
      else
        for i, st in ipairs(s.streams or {}) do
          if (subMid ~= nil and tostring(i - 1) == tostring(subMid)) or (subMid == nil and (mid == nil or st.feedMid == tostring(mid))) then
            st.active = active
          end
        end
      end
    end
    return nil
  end
  local err = apply(value(msg.unsubscribe), false) or apply(value(msg.subscribe), true)
  if err then return err end
  applySubscriberMedia(s)
  return encode({ videoroom = "updated", room = s.room, streams = subscriberStreams(s) })
end

function async.subscribe(s, msg)
  return async.update(s, { subscribe = value(msg.streams) })
end

function async.unsubscribe(s, msg)
  return async.update(s, { unsubscribe = value(msg.streams) })
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
