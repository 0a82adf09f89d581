// Package moqt implements Media over QUIC Transport (MoQT,
// draft-ietf-moq-transport-14) sessions over raw QUIC and WebTransport.
//
// # Why this shape
//
// MoQT moves live media as a hierarchy: a track holds groups (join points,
// such as a video GOP), a group holds subgroups (each on its own QUIC
// stream, so that a lost packet in an enhancement layer never stalls the
// base layer), and a subgroup holds objects (frames). The package mirrors
// that hierarchy with small types — TrackWriter/TrackReader,
// GroupWriter/GroupReader, Frame — and routes subscriptions like net/http
// routes requests: a Server (or Client) serves the peer's subscriptions
// through a TrackMux of TrackHandlers, and a Session subscribes to the
// peer's tracks. Every wire detail lives in internal packages, so the API
// stays the same as the protocol drafts change.
//
// # Mapping onto draft-14
//
//   - BroadcastPath is a Track Namespace tuple, one field per path segment:
//     "/a/b" is ["a", "b"]. TrackName is the Track Name.
//   - Session.Subscribe sends SUBSCRIBE; its Request ID is the SubscribeID.
//     TrackConfig holds the subscriber priority, group order, filter
//     (latest object, next group start, absolute start, absolute range) and
//     forward flag (Paused). TrackReader.Update sends SUBSCRIBE_UPDATE, which
//     the publisher sees on TrackWriter.Updated; it can only narrow the
//     range (a peer widening it is closed with PROTOCOL_VIOLATION). While
//     Paused (Forward = 0) OpenGroup, and writes to groups already open,
//     return ErrPaused: nothing is sent until the subscriber resumes.
//     TrackReader.Close sends UNSUBSCRIBE.
//   - A TrackHandler gets a TrackWriter per SUBSCRIBE. WriteInfo (or the
//     first OpenGroup) answers SUBSCRIBE_OK; Info is what SUBSCRIBE_OK
//     carries. CloseWithError before that answers SUBSCRIBE_ERROR; Close or
//     CloseWithError after it sends PUBLISH_DONE (Close once the groups
//     queued for sending are on their way); the subscriber's track ends
//     once the streams PUBLISH_DONE counts arrived and were accepted, and
//     a count of 0 while streams still arrive (as @moq/net sends) only
//     after Config.PublishDoneGrace without a new one. A path with no handler
//     is refused with TRACK_DOES_NOT_EXIST. The publisher chooses the track
//     alias; data streams that arrive before their SUBSCRIBE_OK are held
//     (Config.MaxPendingStreams, Config.PendingStreamTimeout).
//   - OpenGroup opens a subgroup stream (subgroup 0); OpenSubgroup opens any
//     subgroup with its own publisher priority. WriteFrame writes the next
//     object; WriteObject and ReadObject expose object IDs, object status
//     (normal, end of group, end of track) and extension headers.
//     ReadFrame returns a Frame the caller keeps; AppendFrame reads the
//     same payloads into a buffer the caller reuses, allocating nothing.
//     WriteObjects writes a batch; TryWriteObjects queues one without ever
//     waiting (ErrWouldBlock when the send buffer is full), for a relay
//     that forwards an object to many subscribers from one goroutine.
//     GroupWriter.Close ends the stream (end of group); CancelWrite and
//     CancelRead reset or stop it with a GroupErrorCode. A reset stream
//     still delivers its subgroup header over raw QUIC (RESET_STREAM_AT, which both ends enable, with
//     a reliable size covering the header: draft-14 "Closing Subgroup
//     Streams"), so that the subscriber counts it toward PUBLISH_DONE's
//     Stream Count instead of waiting Config.PendingStreamTimeout for it,
//     and AcceptGroup returns the group, whose reads fail with the
//     GroupError of the reset. That holds when the header's flow-control
//     credit could be taken as it was written (a connection blocked on the
//     peer's window sends a plain reset instead, which the subscriber
//     counts only after PendingStreamTimeout); webtransport-go offers no
//     such reset for the application's bytes.
//   - OpenDatagramGroup sends each object of a group as an OBJECT_DATAGRAM
//     and Close as an End of Group status datagram (§10.3); an object too
//     large for a datagram goes on a subgroup stream instead. Subscribers
//     read datagram groups through the same GroupReader; GroupReader tells
//     when such a group ends (Config.DatagramGroupTimeout,
//     Config.MaxDatagramGroups, Config.MaxDatagramObjects).
//   - History lives with the publisher of a track, not in the session: a
//     Track (one per track name, grouped under a path by a Broadcast) is a
//     TrackHandler that writes each object once, records it in its
//     TrackHistory (bounded by groups, bytes and age; Frames shared, never
//     copied) and fans it out to every subscriber. Handlers that also
//     implement FetchHandler answer FETCH, and TrackStatusHandler
//     TRACK_STATUS; Track, Broadcast and TrackHistory do so from the
//     history, and a relay can reuse TrackHistory as its cache. This keeps
//     the net/http shape: the mux routes by path, optional interfaces add
//     capabilities, and a handler without them refuses with NOT_SUPPORTED.
//   - Session.Fetch sends a standalone FETCH; TrackReader.Join and JoinFrom
//     send a relative or absolute joining FETCH for a subscription, and
//     Session.SubscribeJoining does SUBSCRIBE plus joining FETCH ("the last
//     N groups") in one call. The publisher's FetchWriter answers with
//     FETCH_OK (WriteInfo) or FETCH_ERROR (CloseWithError before it) and
//     writes the objects on one fetch stream in the requested group order;
//     FetchReader.ReadObject yields them and checks that order, and
//     FetchReader.Close sends FETCH_CANCEL, which the publisher sees on
//     FetchWriter.Context. A joining fetch's range is computed from the
//     largest location its subscription's SUBSCRIBE_OK carried (§9.16.2.1).
//     The fetch stream is scheduled by the FETCH's subscriber priority
//     beside the subscriptions (see Priorities).
//   - Session.TrackStatus sends TRACK_STATUS and returns TRACK_STATUS_OK as
//     an Info (or TRACK_STATUS_ERROR as a *SubscribeError).
//   - Session.Publish sends PUBLISH (publisher-initiated subscription) and
//     returns a TrackWriter once the peer answers PUBLISH_OK. A TrackMux
//     accepts the peer's PUBLISH for a path registered with HandlePublish,
//     giving its PublishHandler a TrackReader; other paths get
//     PUBLISH_ERROR (UNINTERESTED).
//   - TrackMux publications are announced with PUBLISH_NAMESPACE; an
//     Announcement ends with PUBLISH_NAMESPACE_DONE. A client session
//     announces all of them proactively (draft-14 §6: a publisher needs no
//     SUBSCRIBE_NAMESPACE to send PUBLISH_NAMESPACE), which is how a
//     publisher makes itself known to a relay; a server session announces
//     only under the prefixes a peer subscribed to (Session.AcceptAnnounce
//     sends SUBSCRIBE_NAMESPACE), so that a server with many publications
//     does not flood every client. Config.AnnounceMode overrides either.
//   - Clients use even Request IDs and servers odd ones; each side limits
//     the other's concurrent requests with MAX_REQUEST_ID
//     (Config.MaxRequests), waits when blocked (sending REQUESTS_BLOCKED)
//     and closes a peer that exceeds the limit with TOO_MANY_REQUESTS.
//   - Client.Dial("moqt://host:port/path") runs over raw QUIC with ALPN
//     "moq-00" and the PATH and AUTHORITY setup parameters;
//     "https://host:port/path" runs over WebTransport. A Server accepts both
//     on one UDP port and hands every CLIENT_SETUP (path, authority,
//     authorization token) to its SetupHandler. Server.Shutdown sends GOAWAY,
//     which clients see on Session.GoAway. Both ends send QUIC keep-alives
//     (Config.KeepAlive), so a quiet session is not ended by QUIC's idle
//     timeout.
//
// Every protocol error closes only the offending session, with the draft-14
// termination code (SessionError) and a reason; all queues are bounded by
// Config fields. A session whose connection fails under it (a QUIC
// transport error, an idle timeout) ends with a SessionError that carries
// the failure in Err and no code, and says "session lost".
//
// # Receivers
//
// The Track/Group/Frame API page this package follows lists value receivers
// for TrackWriter.SubscribeID and Updated and TrackReader.Context and
// SubscribeID. Here every method has a pointer receiver: the types carry
// locks and atomics, which must not be copied (go vet's copylocks check),
// and callers always hold a *TrackWriter or *TrackReader, so code written
// against that page compiles unchanged.
package moqt
