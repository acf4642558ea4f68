// Edit series 20: pass DCEP (SCTP ppid 50, RFC 8832) messages up to Node.
// Why: the stock worker drops every DCEP message ("ignoring SCTP data with ppid:50"), so Node
// never learns a data channel's label and protocol, which Janus scripts see. With this edit a
// DATA_CHANNEL_OPEN arriving on stream N is delivered to the DataProducer on stream N like any
// other message (ppid 50), so a DataConsumer of it on a DirectTransport gets it in Node, which
// parses it and may answer DATA_CHANNEL_ACK (DataProducer.send(ack, 50) on a DirectTransport
// already reaches the peer in stock mediasoup). The Router does not forward a peer's DCEP to
// other SCTP associations: each association runs its own DCEP. Upstream: none (mediasoup
// leaves DCEP to the endpoints; its clients pre-negotiate channels).

/** @type {import('./edits.mjs').Edit[]} */
export default [
  {
    id: 'sctp-dcep-pass-up',
    target: 'worker',
    file: 'src/RTC/SctpAssociation.cpp',
    why: 'Stop dropping ppid 50 in the SCTP association; it follows the normal message path.',
    find: `		// Ignore WebRTC DataChannel Control DATA chunks.
		if (ppid == 50)
		{
			MS_WARN_TAG(sctp, "ignoring SCTP data with ppid:50 (WebRTC DataChannel Control)");

			return;
		}
`,
    replace: `		// luasfu edit: WebRTC DataChannel Control (ppid 50) goes up like other data; the Router
		// hands it to DIRECT DataConsumers (Node) only.
`,
  },
  {
    id: 'router-dcep-direct-only',
    target: 'worker',
    file: 'src/RTC/Router.cpp',
    why: "A peer's DCEP message goes only to DIRECT DataConsumers (Node), never to another peer's SCTP association.",
    find: `		for (auto* consumer : dataConsumers)
		{
			consumer->SendMessage(ppid, msg, len);
		}
`,
    replace: `		for (auto* consumer : dataConsumers)
		{
			// luasfu edit: a peer's DCEP (ppid 50) goes to Node only.
			if (
			  ppid == 50u && dataProducer->GetType() == RTC::DataProducer::Type::SCTP &&
			  consumer->GetType() != RTC::DataConsumer::Type::DIRECT)
			{
				continue;
			}

			consumer->SendMessage(ppid, msg, len);
		}
`,
  },
];
