// Edit series 10: per-Consumer header extension ids, payload types and SSRCs on the wire.
// Why: in Janus's model the client's offer fixes extension ids and PTs for both directions;
// stock mediasoup Consumers send with the router's fixed ids and PTs, so browsers drop the
// echoed video. Stands in for mediasoup issue #1126 / PR #1783 (unmerged).
//
// How: Node's Transport.consume() takes a new option `wire` ({ headerExtensions, codecs,
// ssrc, rtxSsrc }). SSRCs simply replace the random ones in the consumer's rtpParameters.
// Ids and PTs stay the router's inside the worker (all of mediasoup's logic keeps working on
// them); Node passes the worker two maps (router id -> recipient id, router PT -> recipient
// PT), and the worker's Transport rewrites the packet's bytes just before handing a
// consumer's packet (first send or retransmission) to the concrete transport's send
// (SRTP for WebRtcTransport, plain UDP for PlainTransport, Node for DirectTransport), then
// restores them, since one packet object is shared by all consumers of a producer.
// Extensions the recipient did not negotiate are blanked to padding (all their bytes set to
// 0: RFC 8285 parsers skip 0 bytes one at a time), so the packet's size never changes.

/** @type {import('./edits.mjs').Edit[]} */
export default [
  {
    id: 'consumer-wire-hpp-methods',
    target: 'worker',
    file: 'include/RTC/Consumer.hpp',
    why: 'Declare the wire rewrite/restore methods the Transport calls around each send.',
    find: `		const struct RTC::RtpHeaderExtensionIds& GetRtpHeaderExtensionIds() const
		{
			return this->rtpHeaderExtensionIds;
		}
`,
    replace: `		const struct RTC::RtpHeaderExtensionIds& GetRtpHeaderExtensionIds() const
		{
			return this->rtpHeaderExtensionIds;
		}
		// luasfu edit (mediasoup #1126): this Consumer's own extension ids and PTs on the wire.
		bool HasWireRewrite() const
		{
			return this->wireRewriteExtensions || this->wireRewritePayloadTypes;
		}
		void ApplyWireRewrite(RTC::RtpPacket* packet);
		void RestoreWireRewrite(RTC::RtpPacket* packet);
`,
  },
  {
    id: 'consumer-wire-hpp-members',
    target: 'worker',
    file: 'include/RTC/Consumer.hpp',
    why: 'The maps (router value -> recipient value) and the bytes saved for the restore.',
    find: `		std::bitset<128u> supportedCodecPayloadTypes;
`,
    replace: `		std::bitset<128u> supportedCodecPayloadTypes;
		// luasfu edit: wire rewrite state. wireExtensionIds[routerId] = recipient id, 0 = blank.
		bool wireRewriteExtensions{ false };
		bool wireRewritePayloadTypes{ false };
		uint8_t wireExtensionIds[256]{};
		uint8_t wirePayloadTypes[128]{};
		std::vector<uint8_t> wireSavedExtensions;
		uint8_t wireSavedPayloadType{ 0u };
`,
  },
  {
    id: 'consumer-wire-cpp-parse',
    target: 'worker',
    file: 'src/RTC/Consumer.cpp',
    why: 'Parse data.wire = { headerExtensionIds: [[routerId, id], ...], payloadTypes: [[routerPt, pt], ...] } sent by our Node edit.',
    find: `		auto jsonPausedIt = data.find("paused");
`,
    replace: `		// luasfu edit: optional wire rewrite maps.
		for (size_t pt{ 0u }; pt < 128u; ++pt)
			this->wirePayloadTypes[pt] = static_cast<uint8_t>(pt);

		auto jsonWireIt = data.find("wire");

		if (jsonWireIt != data.end() && jsonWireIt->is_object())
		{
			auto parsePairs = [](const json& list, const char* name, uint32_t min, uint32_t max, uint8_t* map)
			{
				if (!list.is_array())
					MS_THROW_TYPE_ERROR("wire.%s must be an array", name);

				for (const auto& pair : list)
				{
					if (
					  !pair.is_array() || pair.size() != 2u || !pair[0].is_number_unsigned() ||
					  !pair[1].is_number_unsigned())
						MS_THROW_TYPE_ERROR("wire.%s entries must be [from, to]", name);

					const auto from = pair[0].get<uint32_t>();
					const auto to   = pair[1].get<uint32_t>();

					if (from < min || from > max || to < min || to > max)
						MS_THROW_TYPE_ERROR("wire.%s value out of range", name);

					map[from] = static_cast<uint8_t>(to);
				}
			};

			auto jsonExtIdsIt = jsonWireIt->find("headerExtensionIds");

			if (jsonExtIdsIt != jsonWireIt->end())
			{
				parsePairs(*jsonExtIdsIt, "headerExtensionIds", 1u, 255u, this->wireExtensionIds);
				this->wireRewriteExtensions = true;
			}

			auto jsonPtsIt = jsonWireIt->find("payloadTypes");

			if (jsonPtsIt != jsonWireIt->end())
			{
				parsePairs(*jsonPtsIt, "payloadTypes", 0u, 127u, this->wirePayloadTypes);
				this->wireRewritePayloadTypes = true;
			}
		}

		auto jsonPausedIt = data.find("paused");
`,
  },
  {
    id: 'consumer-wire-cpp-rewrite',
    target: 'worker',
    file: 'src/RTC/Consumer.cpp',
    why: 'The rewrite: map the PT byte; walk the extension block (one-byte or two-byte form) in place, giving each element its recipient id or blanking it (all bytes 0 = padding); restore from the saved bytes afterwards.',
    find: `} // namespace RTC
`,
    replace: `
	void Consumer::ApplyWireRewrite(RTC::RtpPacket* packet)
	{
		MS_TRACE();

		this->wireSavedPayloadType = packet->GetPayloadType();

		if (this->wireRewritePayloadTypes)
			packet->SetPayloadType(this->wirePayloadTypes[this->wireSavedPayloadType & 0x7Fu]);

		if (!this->wireRewriteExtensions || !packet->HasHeaderExtension())
			return;

		uint8_t* ext     = packet->GetHeaderExtensionValue();
		const size_t len = packet->GetHeaderExtensionLength();

		this->wireSavedExtensions.assign(ext, ext + len);

		size_t pos{ 0u };

		if (packet->HasOneByteExtensions())
		{
			while (pos < len)
			{
				const uint8_t id = ext[pos] >> 4;

				// 0: padding byte. 15: stop parsing (RFC 8285 4.2).
				if (id == 0u)
				{
					++pos;
					continue;
				}
				if (id == 15u)
					break;

				const size_t elemLen = 1u + (ext[pos] & 0x0Fu) + 1u;

				if (pos + elemLen > len)
					break;

				const uint8_t to = this->wireExtensionIds[id];

				// One-byte ids are 1..14; anything else can't be written here: blank it.
				if (to >= 1u && to <= 14u)
					ext[pos] = static_cast<uint8_t>((to << 4) | (ext[pos] & 0x0Fu));
				else
					std::memset(ext + pos, 0, elemLen);

				pos += elemLen;
			}
		}
		else if (packet->HasTwoBytesExtensions())
		{
			while (pos < len)
			{
				const uint8_t id = ext[pos];

				if (id == 0u)
				{
					++pos;
					continue;
				}
				if (pos + 2u > len)
					break;

				const size_t elemLen = 2u + ext[pos + 1];

				if (pos + elemLen > len)
					break;

				const uint8_t to = this->wireExtensionIds[id];

				if (to != 0u)
					ext[pos] = to;
				else
					std::memset(ext + pos, 0, elemLen);

				pos += elemLen;
			}
		}
	}

	void Consumer::RestoreWireRewrite(RTC::RtpPacket* packet)
	{
		MS_TRACE();

		if (this->wireRewritePayloadTypes)
			packet->SetPayloadType(this->wireSavedPayloadType);

		if (
		  this->wireRewriteExtensions && packet->HasHeaderExtension() &&
		  packet->GetHeaderExtensionLength() == this->wireSavedExtensions.size())
		{
			std::memcpy(
			  packet->GetHeaderExtensionValue(),
			  this->wireSavedExtensions.data(),
			  this->wireSavedExtensions.size());
		}
	}
} // namespace RTC
`,
  },
  {
    id: 'consumer-wire-cpp-include',
    target: 'worker',
    file: 'src/RTC/Consumer.cpp',
    why: 'std::memset/std::memcpy for the rewrite.',
    find: `#include <iterator> // std::ostream_iterator
`,
    replace: `#include <cstring>  // std::memset, std::memcpy (luasfu edit)
#include <iterator> // std::ostream_iterator
`,
  },
  {
    id: 'transport-wire-hpp',
    target: 'worker',
    file: 'include/RTC/Transport.hpp',
    why: 'One wrapper around the concrete SendRtpPacket() for consumer packets: rewrite, send, restore.',
    find: `		virtual void SendRtpPacket(
		  RTC::Consumer* consumer, RTC::RtpPacket* packet, onSendCallback* cb = nullptr) = 0;
`,
    replace: `		virtual void SendRtpPacket(
		  RTC::Consumer* consumer, RTC::RtpPacket* packet, onSendCallback* cb = nullptr) = 0;
		// luasfu edit (mediasoup #1126): consumer packets get the consumer's wire ids/PTs.
		void SendConsumerRtpPacket(
		  RTC::Consumer* consumer, RTC::RtpPacket* packet, onSendCallback* cb = nullptr)
		{
			if (!consumer || !consumer->HasWireRewrite())
			{
				SendRtpPacket(consumer, packet, cb);

				return;
			}

			consumer->ApplyWireRewrite(packet);
			SendRtpPacket(consumer, packet, cb);
			consumer->RestoreWireRewrite(packet);
		}
		// luasfu edit: bandwidth probation packets (no consumer) borrow the wire ids of a video
		// consumer of this transport (one PeerConnection: one extmap numbering), so that the
		// peer counts them for transport-cc and does not misread their MID.
		void SendProbationRtpPacket(RTC::RtpPacket* packet, onSendCallback* cb = nullptr)
		{
			RTC::Consumer* wireConsumer{ nullptr };

			for (const auto& kv : this->mapConsumers)
			{
				if (kv.second->GetKind() == RTC::Media::Kind::VIDEO && kv.second->HasWireRewrite())
				{
					wireConsumer = kv.second;

					break;
				}
			}

			if (!wireConsumer)
			{
				SendRtpPacket(nullptr, packet, cb);

				return;
			}

			wireConsumer->ApplyWireRewrite(packet);
			SendRtpPacket(nullptr, packet, cb);
			wireConsumer->RestoreWireRewrite(packet);
		}
`,
  },
  {
    id: 'transport-wire-send-cb',
    target: 'worker',
    file: 'src/RTC/Transport.cpp',
    why: 'Consumer sends and retransmissions (with transport-cc callback) go through the wrapper, after abs-send-time and transport-cc were written at the router ids.',
    find: '			SendRtpPacket(consumer, packet, cb);\n',
    replace: '			SendConsumerRtpPacket(consumer, packet, cb);\n',
    count: 4,
  },
  {
    id: 'transport-wire-send',
    target: 'worker',
    file: 'src/RTC/Transport.cpp',
    why: 'Same, without transport-cc.',
    find: '			SendRtpPacket(consumer, packet);\n',
    replace: '			SendConsumerRtpPacket(consumer, packet);\n',
    count: 2,
  },
  {
    id: 'transport-wire-probation-cb',
    target: 'worker',
    file: 'src/RTC/Transport.cpp',
    why: 'Probation packets (transport-cc bandwidth probing) get the wire ids too.',
    find: '			SendRtpPacket(nullptr, packet, cb);\n',
    replace: '			SendProbationRtpPacket(packet, cb);\n',
    count: 2,
  },
  {
    id: 'transport-wire-probation',
    target: 'worker',
    file: 'src/RTC/Transport.cpp',
    why: 'Same, without transport-cc.',
    find: '			SendRtpPacket(nullptr, packet);\n',
    replace: '			SendProbationRtpPacket(packet);\n',
  },
];
