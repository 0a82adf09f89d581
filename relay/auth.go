package relay

import (
	"strings"

	"github.com/moqgo/moqgo/moqt"
)

// Authorizer decides whether a session may start and what it may do.
type Authorizer interface {
	// Authorize returns the grants of the session req asks for, or an
	// error refusing it (an *AuthError chooses the termination code;
	// otherwise it is UNAUTHORIZED).
	Authorize(req *moqt.SetupRequest) (*Grants, error)
}

// AuthError refuses a session with a draft-14 termination code such as
// moqt.ErrCodeUnauthorized, moqt.ErrCodeMalformedAuthToken or
// moqt.ErrCodeExpiredAuthToken.
type AuthError struct {
	Code   moqt.SessionErrorCode
	Reason string
}

func (e *AuthError) Error() string { return "relay: " + e.Reason }

// Grants are the broadcast path prefixes a session may publish and
// subscribe under. "/" (or "") grants everything; "/live" grants "/live"
// and "/live/x" but not "/lively".
type Grants struct {
	Publish   []moqt.BroadcastPath
	Subscribe []moqt.BroadcastPath
}

// AllowAll grants publishing and subscribing everywhere.
var AllowAll = &Grants{Publish: []moqt.BroadcastPath{"/"}, Subscribe: []moqt.BroadcastPath{"/"}}

// CanPublish reports whether path may be announced.
func (g *Grants) CanPublish(path moqt.BroadcastPath) bool { return matchAny(g.Publish, path) }

// CanSubscribe reports whether path may be subscribed to.
func (g *Grants) CanSubscribe(path moqt.BroadcastPath) bool { return matchAny(g.Subscribe, path) }

func (g *Grants) publishNone() bool { return len(g.Publish) == 0 }

func matchAny(prefixes []moqt.BroadcastPath, path moqt.BroadcastPath) bool {
	p := "/" + strings.Trim(string(path), "/")
	for _, pre := range prefixes {
		q := strings.Trim(string(pre), "/")
		if q == "" {
			return true
		}
		q = "/" + q
		if p == q || strings.HasPrefix(p, q+"/") {
			return true
		}
	}
	return false
}
