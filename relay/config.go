package relay

import (
	"log/slog"
	"time"
)

// Config holds a Relay's limits and policies. A zero field means its
// default; every limit is explicit so that no peer can make the relay grow
// without bound.
type Config struct {
	// Linger is how long an upstream subscription stays open after its last
	// subscriber left, so that a subscriber coming back soon (a page reload,
	// a switch between renditions) finds the track warm. Default 2s;
	// negative unsubscribes at once.
	Linger time.Duration
	// WaitForPublisher is how long a SUBSCRIBE for a path no publisher has
	// announced waits for one. Zero (the default) refuses it at once with
	// TRACK_DOES_NOT_EXIST.
	WaitForPublisher time.Duration

	// CacheGroups is how many of a track's most recent groups are cached
	// for late joiners. Default 4.
	CacheGroups int
	// CacheBytes bounds the payload bytes cached per track. Default 16 MiB.
	CacheBytes int64
	// CacheAge drops cached groups older than this. Default 30s.
	CacheAge time.Duration
	// MaxCacheBytes bounds the payload bytes cached across all tracks. A
	// track over it keeps only its newest group, and the groups it drops
	// are abandoned even by the subscribers they were in flight to.
	// Default 256 MiB.
	MaxCacheBytes int64

	// MaxBacklogGroups is how many groups may be in flight to one
	// subscriber. When a newer group arrives for a subscriber that already
	// has that many, one is abandoned (its stream is reset) and delivery
	// moves on to newer groups: the oldest of which nothing was sent yet,
	// so that the group in progress is finished, or else the oldest.
	// Default 16.
	MaxBacklogGroups int
	// StallTimeout is how long one object write to a subscriber may block
	// before its group is abandoned, when the subscriber set no delivery
	// timeout of its own. Default 2s.
	StallTimeout time.Duration

	// Auth, if set, decides what each session may publish and subscribe
	// to. Nil allows everything.
	Auth Authorizer

	// Logger receives the relay's structured logs; nil discards them.
	Logger *slog.Logger
}

// Defaults for Config.
const (
	DefaultLinger           = 2 * time.Second
	DefaultCacheGroups      = 4
	DefaultCacheBytes       = 16 << 20
	DefaultCacheAge         = 30 * time.Second
	DefaultMaxCacheBytes    = 256 << 20
	DefaultMaxBacklogGroups = 16
	DefaultStallTimeout     = 2 * time.Second
)

func (c Config) withDefaults() Config {
	def(&c.Linger, DefaultLinger)
	def(&c.CacheGroups, DefaultCacheGroups)
	def(&c.CacheBytes, DefaultCacheBytes)
	def(&c.CacheAge, DefaultCacheAge)
	def(&c.MaxCacheBytes, DefaultMaxCacheBytes)
	def(&c.MaxBacklogGroups, DefaultMaxBacklogGroups)
	def(&c.StallTimeout, DefaultStallTimeout)
	if c.Linger < 0 {
		c.Linger = 0
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func def[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
