package moqt

import (
	"time"

	"github.com/moqgo/moqgo/internal/wire"
	"github.com/quic-go/quic-go"
)

// Version is a MoQ Transport version number (draft-14 §9.3.1).
type Version uint32

// Draft14 is draft-ietf-moq-transport-14, the version moqgo speaks.
const Draft14 Version = Version(wire.Draft14)

// Config holds the limits and timeouts of a session. Every limit protects a
// session from a misbehaving peer: queues are bounded and overflowing one
// costs only the peer's own session (or the offending stream). A nil *Config
// or a zero field means the default.
type Config struct {
	// Versions lists the versions offered (client) or accepted (server),
	// most preferred first. Default: Draft14 only.
	Versions []Version
	// SetupTimeout bounds the CLIENT_SETUP / SERVER_SETUP exchange.
	// Default 10s.
	SetupTimeout time.Duration
	// RequestTimeout bounds how long Subscribe and AcceptAnnounce wait for
	// the peer's answer, and how long a fetch waits for its stream after
	// FETCH_OK. Default 10s.
	RequestTimeout time.Duration
	// MaxRequests is how many concurrent requests (subscriptions,
	// namespace subscriptions, announcements) the peer may have open; it is
	// advertised with MAX_REQUEST_ID and a peer exceeding it is closed with
	// TOO_MANY_REQUESTS. Default 100.
	MaxRequests uint64
	// MaxPendingGroups bounds the groups received for a track but not yet
	// accepted with AcceptGroup; further groups are refused with
	// STOP_SENDING. Default 64.
	MaxPendingGroups int
	// MaxPendingStreams bounds the data streams held while waiting for the
	// SUBSCRIBE_OK that tells their track alias. Default: the transport's
	// limit on concurrent incoming unidirectional streams (QUICConfig's
	// MaxIncomingUniStreams, quic-go's default 100). A publisher may open
	// that many streams as soon as it sent SUBSCRIBE_OK, and they can
	// overtake it on a loaded subscriber; a smaller default would refuse
	// the first groups of a fast publisher although the transport already
	// bounds what they cost.
	MaxPendingStreams int
	// PendingStreamTimeout is how long such a stream is held. It also
	// bounds how long a subscription that got PUBLISH_DONE waits for the
	// data streams the publisher says it still has in flight: the wait
	// ends once no stream of the subscription arrived or was accepted for
	// this long. Default 2s.
	PendingStreamTimeout time.Duration
	// PublishDoneGrace is how long a subscription keeps accepting data
	// streams after a PUBLISH_DONE whose Stream Count is 0 or smaller than
	// the streams already received: the wait ends once no stream arrived
	// for this long. This is an interoperability accommodation: some
	// publishers (the @moq/net browser client) always send a Stream Count
	// of 0, and trusting it would drop the groups still in flight.
	// Default 500ms.
	PublishDoneGrace time.Duration
	// KeepAlive is how often a session sends a QUIC PING while nothing
	// else is sent, so that a quiet session (a chat track with nothing
	// to say, a subscriber waiting for a group) outlives QUIC's idle
	// timeout (30 s by default) instead of ending with it; quic-go sends
	// it at most every half idle timeout. A QUICConfig.KeepAlivePeriod, if
	// set, is used instead. Negative disables keep-alives. Default 10s.
	KeepAlive time.Duration
	// CloseTimeout bounds how long TrackWriter.Close waits for the
	// subscription's group data queued in the priority scheduler to be
	// handed to the transport before it sends PUBLISH_DONE, so that
	// PUBLISH_DONE does not overtake the last groups; a subscription's
	// delivery timeout, if shorter, bounds it too. Default 5s.
	CloseTimeout time.Duration
	// MaxFrameSize is the largest object payload accepted. Default 16 MiB.
	MaxFrameSize int
	// MaxAnnouncements bounds the announcements queued for an
	// AnnouncementReader that are not read yet; further ones are dropped.
	// Default 1024.
	MaxAnnouncements int
	// DefaultPublisherPriority is the publisher priority of groups opened
	// with OpenGroup. Default 128.
	DefaultPublisherPriority uint8
	// MaxDatagramGroups bounds the datagram groups of one subscription
	// that the subscriber keeps track of; a newer group ends the oldest.
	// Default 8.
	MaxDatagramGroups int
	// MaxDatagramObjects bounds the received but unread objects of one
	// datagram group; more are dropped like lost datagrams. Default 256.
	MaxDatagramObjects int
	// DatagramGroupTimeout ends a datagram group whose End of Group
	// datagram was lost: once a newer group has begun, the group ends after
	// this long without a datagram. Default 1s.
	DatagramGroupTimeout time.Duration
	// SendBuffer bounds the group data of one subscription buffered for
	// the priority scheduler (see Priorities in the package docs). A
	// write that would exceed it first drops the subscription's stream
	// that would be sent last, if that is not the written one (descending
	// group order: a stale group), else waits. Default 1 MiB.
	SendBuffer int
	// AnnounceMode says when the publications of the session's TrackMux
	// are announced to the peer (PUBLISH_NAMESPACE). Default
	// (AnnounceDefault): proactively by a client, only on
	// SUBSCRIBE_NAMESPACE by a server.
	AnnounceMode AnnounceMode
	// DisableScheduler writes group data straight to the transport
	// streams, mapping priorities onto the transport's urgency levels
	// (8 levels on QUIC, none on WebTransport); delivery timeouts are then
	// not enforced. For comparison and benchmarks.
	DisableScheduler bool
}

const (
	defaultTimeout      = 10 * time.Second
	defaultMaxRequests  = 100
	defaultPendingGroup = 64
	defaultPendingStrm  = 100 // quic-go's default MaxIncomingUniStreams
	defaultPendingWait  = 2 * time.Second
	defaultDoneGrace    = 500 * time.Millisecond
	defaultCloseTimeout = 5 * time.Second
	defaultMaxFrame     = 16 << 20
	defaultMaxAnnounce  = 1024
	defaultPriority     = 128
	defaultSendBuffer   = 1 << 20
	defaultKeepAlive    = 10 * time.Second
)

// withDefaults returns a copy of c with every zero field set to its default.
func (c *Config) withDefaults() *Config {
	var n Config
	if c != nil {
		n = *c
	}
	if len(n.Versions) == 0 {
		n.Versions = []Version{Draft14}
	}
	setDefault(&n.SetupTimeout, defaultTimeout)
	setDefault(&n.RequestTimeout, defaultTimeout)
	setDefault(&n.MaxRequests, defaultMaxRequests)
	setDefault(&n.MaxPendingGroups, defaultPendingGroup)
	setDefault(&n.MaxPendingStreams, defaultPendingStrm)
	setDefault(&n.PendingStreamTimeout, defaultPendingWait)
	setDefault(&n.PublishDoneGrace, defaultDoneGrace)
	setDefault(&n.CloseTimeout, defaultCloseTimeout)
	setDefault(&n.KeepAlive, defaultKeepAlive)
	setDefault(&n.MaxFrameSize, defaultMaxFrame)
	setDefault(&n.MaxAnnouncements, defaultMaxAnnounce)
	setDefault(&n.DefaultPublisherPriority, defaultPriority)
	setDefault(&n.MaxDatagramGroups, 8)
	setDefault(&n.MaxDatagramObjects, 256)
	setDefault(&n.DatagramGroupTimeout, time.Second)
	setDefault(&n.SendBuffer, defaultSendBuffer)
	return &n
}

// withStreamLimit sets MaxPendingStreams, if the application left it zero,
// to the incoming unidirectional stream limit of the QUIC configuration
// (zero means quic-go's default, which defaultPendingStrm matches).
func (c *Config) withStreamLimit(user *Config, q *quic.Config) {
	if (user == nil || user.MaxPendingStreams == 0) && q != nil && q.MaxIncomingUniStreams > 0 {
		c.MaxPendingStreams = int(q.MaxIncomingUniStreams)
	}
}

// withKeepAlive sets q's keep-alive period to c.KeepAlive unless q has
// one of its own or c disables them.
func (c *Config) withKeepAlive(q *quic.Config) {
	if q.KeepAlivePeriod == 0 && c.KeepAlive > 0 {
		q.KeepAlivePeriod = c.KeepAlive
	}
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}
