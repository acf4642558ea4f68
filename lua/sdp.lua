-- luasfu SDP helpers for scripts (pure Lua, no host functions needed).
--
-- The Janus core (luasfu's, like Janus's) gives a script an anonymised copy of the
-- client's SDP and later merges the script's SDP with the ICE/DTLS/candidate/SSRC
-- details of the handle's transport. A script therefore only deals with codecs,
-- directions and a few header extensions, and its answers can be minimal.
--
-- Representation (what parse returns and render takes):
--
--   desc = {
--     session = { line, line, ... },          -- lines before the first m=
--     media = {                               -- one entry per m= line, in order
--       { kind = "audio", port = 9, proto = "UDP/TLS/RTP/SAVPF",
--         fmts = { "111", "0" }, lines = { line, ... } },
--       ...
--     }
--   }
--   line = { type = "a", name = "rtpmap", value = "111 opus/48000/2" }   -- a=name:value
--        | { type = "a", name = "sendrecv" }                            -- a=name (no value)
--        | { type = "o", text = "- 123 2 IN IP4 1.1.1.1" }              -- any other x=text
--
-- All functions tolerate nil input (they return nil or do nothing).

local M = {}

-- Codec preference when the caller asks for none: the first of these present in the
-- offer wins (per kind). Names are lower-case rtpmap encoding names.
M.AUDIO_CODECS = { "opus", "multiopus", "pcmu", "pcma", "g722" }
M.VIDEO_CODECS = { "vp8", "vp9", "h264" }

-- Header extensions an answer keeps (everything else is dropped, as in Janus).
local KEPT_EXTENSIONS = {
  ["urn:ietf:params:rtp-hdrext:sdes:mid"] = true,
  ["urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"] = true,
  ["urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"] = true,
}
local TRANSPORT_CC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

-- Static RTP payload types that need no rtpmap (RFC 3551).
local STATIC_PT = { ["0"] = "pcmu", ["8"] = "pcma", ["9"] = "g722" }

local SWAPPED = { sendonly = "recvonly", recvonly = "sendonly" }

-- Split a string on spaces into a list of words.
local function words(s)
  local out = {}
  for w in s:gmatch("%S+") do out[#out + 1] = w end
  return out
end

-- Parse one "x=..." line into a line record.
local function parseLine(raw)
  local t, rest = raw:match("^(%a)=(.*)$")
  if t == nil then return nil end
  if t ~= "a" then return { type = t, text = rest } end
  local name, value = rest:match("^([^:]*):(.*)$")
  if name == nil then return { type = "a", name = rest } end
  return { type = "a", name = name, value = value }
end

-- Fill kind/port/proto/fmts of a media section from the text of its m= line.
local function parseMLine(text)
  local w = words(text)
  local section = { kind = w[1] or "", port = tonumber(w[2]) or 0, proto = w[3] or "", fmts = {}, lines = {} }
  for i = 4, #w do section.fmts[#section.fmts + 1] = w[i] end
  return section
end

--- Parse SDP text (CRLF or LF line endings) into a description table.
function M.parse(text)
  if type(text) ~= "string" then return nil end
  local desc = { session = {}, media = {} }
  local current = nil
  for raw in text:gmatch("[^\r\n]+") do
    local line = parseLine(raw)
    if line ~= nil then
      if line.type == "m" then
        current = parseMLine(line.text)
        desc.media[#desc.media + 1] = current
      elseif current ~= nil then
        current.lines[#current.lines + 1] = line
      else
        desc.session[#desc.session + 1] = line
      end
    end
  end
  return desc
end

local function renderLine(line)
  if line.type ~= "a" then return line.type .. "=" .. (line.text or "") end
  if line.value == nil then return "a=" .. line.name end
  return "a=" .. line.name .. ":" .. line.value
end

--- Render a description back to SDP text, every line ending in CRLF.
function M.render(desc)
  if desc == nil then return nil end
  local out = {}
  for _, line in ipairs(desc.session) do out[#out + 1] = renderLine(line) end
  for _, m in ipairs(desc.media) do
    out[#out + 1] = "m=" .. m.kind .. " " .. m.port .. " " .. m.proto
      .. (#m.fmts > 0 and (" " .. table.concat(m.fmts, " ")) or "")
    for _, line in ipairs(m.lines) do out[#out + 1] = renderLine(line) end
  end
  out[#out + 1] = ""
  return table.concat(out, "\r\n")
end

-- First word of an attribute value (the payload type of rtpmap/fmtp/rtcp-fb).
local function ptOf(line)
  return line.value and line.value:match("^(%S+)")
end

-- Lower-case encoding name of payload type `pt` in section `m`, or nil.
local function encodingOf(m, pt)
  for _, line in ipairs(m.lines) do
    if line.name == "rtpmap" and ptOf(line) == pt then
      local enc = line.value:match("^%S+%s+([^/%s]+)")
      return enc and enc:lower()
    end
  end
  return STATIC_PT[pt]
end

-- fmtp parameters of payload type `pt` in section `m` ("" when there is none).
local function fmtpOf(m, pt)
  for _, line in ipairs(m.lines) do
    if line.name == "fmtp" and ptOf(line) == pt then
      return line.value:match("^%S+%s*(.*)$") or ""
    end
  end
  return ""
end

-- Does the fmtp of `pt` satisfy the requested profile? vp9 compares profile-id (absent
-- means 0), h264 compares profile-level-id case-insensitively. No profile: anything goes.
local function profileMatches(m, pt, codec, profile)
  if profile == nil then return true end
  local fmtp = fmtpOf(m, pt):lower()
  profile = tostring(profile):lower()
  if codec == "vp9" then
    local id = fmtp:match("profile%-id=(%w+)") or "0"
    return id == profile
  elseif codec == "h264" then
    return fmtp:match("profile%-level%-id=(%x+)") == profile
  end
  return true
end

--- Payload type (a string, as it appears in the m= line) of `codec` in media section
--- `m`, optionally with a profile (vp9 profile-id / h264 profile-level-id); nil if absent.
function M.sectionPayloadType(m, codec, profile)
  if m == nil or codec == nil then return nil end
  codec = codec:lower()
  for _, pt in ipairs(m.fmts) do
    if encodingOf(m, pt) == codec and profileMatches(m, pt, codec, profile) then
      return pt
    end
  end
  return nil
end

--- First media section of a kind ("audio", "video", "application") with a non-zero port.
function M.firstSection(desc, kind)
  if desc == nil then return nil end
  for _, m in ipairs(desc.media) do
    if m.kind == kind and m.port ~= 0 then return m end
  end
  return nil
end

--- Payload type of `codec` in the first section of its kind in `desc` (nil if absent).
function M.findPayloadType(desc, kind, codec, profile)
  return M.sectionPayloadType(M.firstSection(desc, kind), codec, profile)
end

--- Lower-case codec name of the first payload type of the first section of `kind`
--- (in an answer that is the negotiated codec), or nil.
function M.negotiatedCodec(desc, kind)
  local m = M.firstSection(desc, kind)
  if m == nil or m.fmts[1] == nil then return nil end
  return encodingOf(m, m.fmts[1])
end

-- Pick the payload type to answer with in section `m`: the requested codec (with its
-- profile) if given, else the first codec of `preferences` present in the section.
local function choosePayloadType(m, requested, preferences, profiles)
  if requested ~= nil then
    requested = requested:lower()
    return M.sectionPayloadType(m, requested, profiles[requested])
  end
  for _, codec in ipairs(preferences) do
    local pt = M.sectionPayloadType(m, codec, profiles[codec])
    if pt ~= nil then return pt end
  end
  return nil
end

-- Answer-side copy of an extmap line, or nil when the extension isn't negotiated.
-- "a=extmap:3/sendonly uri" becomes "a=extmap:3/recvonly uri".
local function answerExtmap(line, disableTwcc)
  local id, dir, rest = line.value:match("^(%d+)/?(%a*)%s+(%S+.*)$")
  if id == nil then return nil end
  local uri = rest:match("^(%S+)")
  if not (KEPT_EXTENSIONS[uri] or (uri == TRANSPORT_CC and not disableTwcc)) then return nil end
  local value = id
  if dir ~= "" then value = value .. "/" .. (SWAPPED[dir] or dir) end
  return { type = "a", name = "extmap", value = value .. " " .. rest }
end

-- A rejected copy of an m-line: port 0, nothing else of interest.
local function rejected(m)
  local fmts = { "0" }
  if m.kind == "application" then fmts = m.fmts end
  local proto = m.proto
  if m.kind == "audio" or m.kind == "video" then proto = "UDP/TLS/RTP/SAVPF" end
  return { kind = m.kind, port = 0, proto = proto, fmts = fmts, lines = { { type = "a", name = "inactive" } } }
end

-- Answer for an accepted audio/video section using payload type `pt`.
local function answerSection(m, pt, disableTwcc)
  local out = { kind = m.kind, port = 9, proto = "UDP/TLS/RTP/SAVPF", fmts = { pt }, lines = {} }
  for _, line in ipairs(m.lines) do
    if line.type == "a" then
      local copy = nil
      if line.value == nil then
        -- Value-less attributes (direction, rtcp-mux, ...) are kept, direction swapped.
        copy = { type = "a", name = SWAPPED[line.name] or line.name }
      elseif line.name == "rtpmap" or line.name == "fmtp" or line.name == "rtcp-fb" then
        local p = ptOf(line)
        if p == pt or (p == "*" and line.name == "rtcp-fb") then copy = line end
      elseif line.name == "extmap" then
        copy = answerExtmap(line, disableTwcc)
      end
      if copy ~= nil then out.lines[#out.lines + 1] = copy end
    end
  end
  return out
end

--- Generate a minimal answer to an offer description.
--- options (all optional):
---   audio, video, data     false rejects that kind (default: accept)
---   audioCodec, videoCodec  force a codec (rejects the m-line if the offer lacks it)
---   vp9Profile, h264Profile profile the vp9/h264 payload type must have
---   disableTwcc             drop the transport-cc extension
--- Only the first m-line of each kind can be accepted; others get port 0.
function M.generateAnswer(offer, options)
  if offer == nil then return nil end
  options = options or {}
  local profiles = { vp9 = options.vp9Profile, h264 = options.h264Profile }
  local answer = { session = {}, media = {} }
  for _, line in ipairs(offer.session) do
    -- v= o= s= t= and value-less session attributes; c=, ICE and DTLS are the core's.
    if line.type == "v" or line.type == "o" or line.type == "s" or line.type == "t"
        or (line.type == "a" and line.value == nil) then
      answer.session[#answer.session + 1] = line
    end
  end
  local seen = {}
  for _, m in ipairs(offer.media) do
    local out = nil
    local first = not seen[m.kind] and m.port ~= 0
    seen[m.kind] = true
    if first and m.kind == "audio" and options.audio ~= false then
      local pt = choosePayloadType(m, options.audioCodec, M.AUDIO_CODECS, profiles)
      if pt ~= nil then out = answerSection(m, pt, options.disableTwcc) end
    elseif first and m.kind == "video" and options.video ~= false then
      local pt = choosePayloadType(m, options.videoCodec, M.VIDEO_CODECS, profiles)
      if pt ~= nil then out = answerSection(m, pt, options.disableTwcc) end
    elseif first and m.kind == "application" and options.data ~= false then
      -- The data channel m-line is copied as is (the core adds sctp-port and friends).
      out = { kind = m.kind, port = m.port, proto = m.proto, fmts = m.fmts, lines = {} }
      for _, line in ipairs(m.lines) do
        if line.type == "a" and line.value == nil then out.lines[#out.lines + 1] = line end
      end
    end
    answer.media[#answer.media + 1] = out or rejected(m)
  end
  return answer
end

--- Replace a direction attribute (e.g. "sendrecv" -> "sendonly") everywhere in `desc`;
--- with `kind` given, only in sections of that kind.
function M.replaceDirection(desc, from, to, kind)
  if desc == nil then return end
  if kind == nil then
    for _, line in ipairs(desc.session) do
      if line.type == "a" and line.name == from and line.value == nil then line.name = to end
    end
  end
  for _, m in ipairs(desc.media) do
    if kind == nil or m.kind == kind then
      for _, line in ipairs(m.lines) do
        if line.type == "a" and line.name == from and line.value == nil then line.name = to end
      end
    end
  end
end

--- Remove every media section of `kind` ("audio", "video", "application") from `desc`.
function M.removeMedia(desc, kind)
  if desc == nil then return end
  local kept = {}
  for _, m in ipairs(desc.media) do
    if m.kind ~= kind then kept[#kept + 1] = m end
  end
  desc.media = kept
end

--- Remove every rejected (port 0) media section from `desc`.
function M.removeRejected(desc)
  if desc == nil then return end
  local kept = {}
  for _, m in ipairs(desc.media) do
    if m.port ~= 0 then kept[#kept + 1] = m end
  end
  desc.media = kept
end

--- Deep copy of a description, so a template can be edited per use.
function M.copy(desc)
  if desc == nil then return nil end
  local function copyLines(lines)
    local out = {}
    for i, line in ipairs(lines) do
      out[i] = { type = line.type, name = line.name, value = line.value, text = line.text }
    end
    return out
  end
  local out = { session = copyLines(desc.session), media = {} }
  for i, m in ipairs(desc.media) do
    local fmts = {}
    for j, f in ipairs(m.fmts) do fmts[j] = f end
    out.media[i] = { kind = m.kind, port = m.port, proto = m.proto, fmts = fmts, lines = copyLines(m.lines) }
  end
  return out
end

return M
