package moqt

// # Priorities
//
// Draft-14 §Priorities orders what a publisher sends: subscriber priority
// first, then publisher priority, then (within a subscription) group order,
// then the lowest subgroup ID; the control stream above all. A Session
// enforces that order itself instead of delegating it to the transport:
//
//   - quic-go offers 8 urgency levels (round-robin or in order within a
//     level), so 256×256 priority pairs would collapse onto 8 levels and
//     group order could not be expressed at all; webtransport-go offers no
//     stream priorities. A MoQ-level gate works the same on both.
//   - Only a gate in front of the transport's send buffers can make a
//     priority change take effect at once: bytes already handed to quic-go
//     are sent in quic-go's order.
//
// So every subgroup stream a TrackWriter opens is a scheduled stream:
// GroupWriter writes are queued on the stream and return at once, and one
// sender goroutine per session repeatedly picks the best
// stream with pending bytes by the draft-14 order and writes at most
// 16 KiB of it to its QUIC stream. quic-go's Write returns only once the
// bytes are packed, so when the path is congestion or flow-control limited
// the sender waits there holding one chunk, and everything else waits in
// the MoQ buffers where the order is decided; a more urgent object waits
// at most one chunk. Subscriptions that tie take turns chunk by chunk, and
// within a subscription an object already begun is finished first. Data
// streams get a lower transport urgency than the control stream, which
// keeps quic-go's default, so control messages overtake all data.
// SUBSCRIBE_UPDATE changes the subscriber priority of data already
// buffered.
//
// A queued object is its header, copied into a small pooled buffer, and
// a reference to its payload: Frames are immutable, so the queue holds the
// Frame's own memory until the transport has taken it, and a relay that
// writes one Frame to a thousand subscriptions queues a thousand
// references, not a thousand copies (only payloads of at most 1 KiB are
// copied next to their header: quic-go copies writes that small into its
// packet buffer anyway, so one more copy is cheaper than a separate
// write). Config.SendBuffer counts the referenced bytes like the copied
// ones.
//
// The first write of a stream, made while nothing at all is buffered and
// no write is in the transport, skips the queue: the writer's goroutine
// hands it to QUIC itself, since it is exactly what the sender would pick
// next, in one transport write when the payload is small enough to be
// joined to its header. An uncongested live source (a small object per
// group) so costs no goroutine hand-off, and its stream never takes a
// queue from the pool. Later writes queue, so that the sender
// hands the transport a stream's small objects in chunks, and as soon as
// anything queues the order above applies again.
//
// A FETCH response is scheduled the same way (draft-14 counts its next
// object as a schedulable object): its one stream is a scheduled stream of
// a pseudo-subscription with the FETCH's subscriber priority, competing by
// the publisher priority of its next object and otherwise in the stream's
// own order, with no delivery timeout. A bulk FETCH so waits behind more
// urgent live tracks and overtakes less urgent ones; with equal priorities
// (an order the draft leaves to the implementation) it takes turns with
// subscriptions chunk by chunk. Its objects queue by reference like a
// subgroup's, Config.SendBuffer bounds its queue (FetchWriter.WriteObject
// then waits), FetchWriter.Close waits until the queue is handed to the
// transport, and FETCH_CANCEL drops what is queued and resets the stream.
//
// Because control messages overtake data, TrackWriter.Close first waits
// (bounded by Config.CloseTimeout and the delivery timeout) until the
// subscription's closed groups have left the buffers with their FIN, and
// only then sends PUBLISH_DONE with its Stream Count; the subscriber in
// turn waits for the streams that count announces, for as long as they
// keep arriving (Config.PendingStreamTimeout between two).
//
// Under congestion, new groups do not queue behind stale ones:
//
//   - A subscription's DELIVERY TIMEOUT drops data that waited longer: the
//     stream is reset with DELIVERY_TIMEOUT and further writes to the
//     GroupWriter fail with that GroupError.
//   - Config.SendBuffer bounds the bytes buffered per subscription. A write
//     that would exceed it drops the subscription's stream that would be
//     sent last, if that is not the one written (with descending group
//     order: the stalest group, reset with DELIVERY_TIMEOUT); otherwise
//     (ascending order: the writer's own group is last) the writer waits,
//     which is the backpressure a live source sees when its path is too
//     slow.
//
// The cost, once data queues, is a goroutine hand-off per chunk (and a
// transport write per header and per payload in it);
// BenchmarkScheduler compares it with Config.DisableScheduler, which writes
// straight to the streams and maps the priorities onto quic-go's urgency
// levels. The gate does not reorder datagrams.
