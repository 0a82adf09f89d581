// Package relay forwards MoQ Transport tracks from publishers to any number
// of subscribers: the `moq relay` command and `moq demo` are built on it.
//
// A Relay is the moqt.SetupHandler and moqt.TrackHandler of a moqt.Server
// (raw QUIC and WebTransport on one UDP port), built on the public moqt API
// (with the few hooks for relays in moqt/relay_hooks.go).
//
// # Routing
//
// A publisher announces broadcast paths (PUBLISH_NAMESPACE, which the
// relay takes without asking for it with SUBSCRIBE_NAMESPACE; a moqgo
// client session announces its TrackMux publications so by default, see
// moqt.Config.AnnounceMode). The relay registers each path
// and announces it in turn through its TrackMux, so a subscriber's
// SUBSCRIBE_NAMESPACE gets the matching announcements already made and every
// later one, with prefix matching done by moqt. A SUBSCRIBE goes to the
// publisher of the longest announced prefix of its path (the most recent
// one if several announced the same path). A SUBSCRIBE for a path nobody
// announced is refused with TRACK_DOES_NOT_EXIST, or waits up to
// Config.WaitForPublisher for a publisher to arrive.
//
// A subscriber that waited was there before any of the publisher's
// groups, so all of them are its own whatever its filter: "latest object"
// and "next group start" start at the oldest group the relay gets (absolute
// filters keep their start). Since a SUBSCRIBE only carries what is written
// after it reaches the publisher, the relay also FETCHes, through the
// SUBSCRIBE_OK's largest group, up to Config.CacheGroups groups the
// publisher wrote before, so that a publisher that writes a few groups and
// ends the track at once is still delivered, followed by PUBLISH_DONE; a
// subscriber that joins a track that ended meanwhile gets its cached groups
// and then PUBLISH_DONE. A group still open when the relay subscribes
// reaches such a subscriber as one stream: the fetched objects, then the
// live rest, each once: the fetched subgroups of the newest group are held
// open for their live continuation until it comes, a newer group starts, or
// 2 s pass (a FETCH does not tell whether the group was complete; if it
// was, its streams end that much late).
//
// # Fan-out and cache
//
// Each track has exactly one upstream subscription, shared by all its
// subscribers. Every upstream subgroup stream is read into the track's
// cache, an append-only list of objects per subgroup, and each subscriber
// has, per subgroup in flight, a sender that reads that list at the
// subscriber's own pace and writes what arrived since its last write in
// one batch: the same *moqt.Frame for everyone, and subgroup IDs,
// publisher priorities, object IDs, object status and extension headers
// as received. A sender that has caught up parks on its subgroup without
// a goroutine; the upstream reader, as it appends an object, queues it
// for every parked sender with a write that never waits
// (GroupWriter.TryWriteObjects into moqt's send scheduler), so a live
// object reaches N subscribers without N goroutine wake-ups. A
// subscriber's streams are opened in upstream order by one goroutine of
// its own, which ends when there is none left to open; only a sender
// that must wait (for room in a full send buffer, for its group's last
// bytes to be sent) runs on a goroutine of its own, and waits there
// alone.
//
// Payloads are not copied per subscriber. As the upstream reader takes
// the objects that arrived together, it encodes them once, in the wire
// format of a subgroup stream, into a moqt.ObjectRun (payloads of at most
// 1 KiB copied next to their headers, once, with the cached objects then
// sharing that memory; larger ones referenced); every subscriber's stream
// queues references to the same run (GroupWriter.WriteRun), and runs that
// follow each other in memory reach quic-go as one write; the subgroups
// the relay backfills with a FETCH are encoded the same way, an object a
// run. Datagram groups are forwarded as objects: every datagram is a
// packet of its own for each subscriber anyway. The cache keeps the most
// recent groups (Config.CacheGroups, CacheBytes, CacheAge, and the relay-wide
// MaxCacheBytes): a late joiner starts at a group boundary chosen by its
// filter — the start of the newest cached group for "latest object", the
// next group for "next group start", or its absolute start — and is
// served the cached groups first. FETCH (standalone or joining) is answered
// from the same cache (ServeFetch) when the cache holds its range from its
// start; an older range, or a track the relay does not carry, is fetched
// from the publisher and forwarded. TRACK_STATUS is answered from the relay's
// subscription or, for a track it does not carry, by its publisher. A
// track a publisher pushes with PUBLISH is fanned out the same way
// (ServePublish). The upstream subscription follows its subscribers
// (SUBSCRIBE_UPDATE, upstream_update.go): its subscriber priority is the
// most urgent any of them asked for, and it is paused (Forward 0) while
// all of them are paused, so that the publisher sends nothing nobody
// reads. When the last subscriber leaves, the upstream subscription
// lingers for Config.Linger so that a returning subscriber finds the track
// warm, then it is unsubscribed.
//
// # Slow subscribers
//
// Because senders only hold cursors into the shared cache, a slow
// subscriber costs no copies and never holds up the upstream reader, the
// publisher or the other subscribers. Its backlog is bounded twice: at most
// Config.MaxBacklogGroups groups are in flight to it (a newer group
// abandons the oldest one of which nothing was sent yet, or, if all have
// begun, the oldest: its stream is reset and delivery moves on; the group
// in progress is finished rather than cut), and
// a write blocked longer than its delivery timeout (the DELIVERY TIMEOUT
// parameter of its SUBSCRIBE, or Config.StallTimeout) abandons its group
// too. Groups dropped from the cache under the relay-wide memory cap are
// abandoned by every sender still on them, so the cache never holds more
// than MaxCacheBytes plus the newest group of each track. moqt's priority
// scheduler queues a subscriber's groups without copying them (up to
// moqt.Config.SendBuffer per subscription); a group stays in flight, and
// counts toward MaxBacklogGroups, until the scheduler has handed all of it
// to the transport (GroupWriter.AfterSent: no goroutine waits for it), so
// the scheduler cannot absorb a slow subscriber's backlog out of the
// relay's sight. Ending a stalled
// subscription (which may wait for its last groups) happens on that
// subscription's own goroutine: it never holds up the upstream reader or
// the other subscribers.
//
// A group that arrives as datagrams (GroupReader.Datagram) is forwarded as
// datagrams (TrackWriter.OpenDatagramGroup).
//
// # Publisher loss
//
// When a publisher's session ends, its announcements end (the relay sends
// PUBLISH_NAMESPACE_DONE downstream), its upstream subscriptions end, and
// every subscriber gets PUBLISH_DONE once the groups in flight to it were
// delivered; a publisher that announces the same path again is used by new
// subscriptions.
//
// # Authorization
//
// Config.Auth, an Authorizer such as JWTAuth, decides at setup which path
// prefixes a session may publish and subscribe under; the relay ignores
// announcements outside them and refuses such subscriptions with
// UNAUTHORIZED.
//
// # Observability
//
// Stats returns the relay's counters (sessions, tracks, subscriptions,
// objects and bytes in and out, cache bytes, evictions, skips, drops, and
// viewers per announced path); Collector exports them to Prometheus.
package relay
