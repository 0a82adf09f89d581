package relay

import (
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// tokenGrants is an Authorizer mapping a setup's auth token to its grants.
type tokenGrants map[string]*Grants

func (m tokenGrants) Authorize(req *moqt.SetupRequest) (*Grants, error) {
	if g := m[string(req.AuthorizationToken)]; g != nil {
		return g, nil
	}
	return nil, &AuthError{Code: moqt.ErrCodeUnauthorized, Reason: "unknown token"}
}

// TestTrackStatusAuth: TRACK_STATUS is a read of a track and needs the
// same subscribe grant as SUBSCRIBE and FETCH; otherwise a viewer learns
// (and makes the relay ask the publisher about) tracks it may not see.
func TestTrackStatusAuth(t *testing.T) {
	e := startRelay(t, Config{Auth: tokenGrants{
		"pub":    AllowAll,
		"viewer": {Subscribe: []moqt.BroadcastPath{"/public"}},
	}})
	ctx := testContext(t)
	f := newFeed()
	mux := moqt.NewTrackMux()
	mux.PublishFunc(ctx, "/secret", f.serve)
	e.dialToken(t, "moqt", mux, []byte("pub"), "")
	waitAnnounced(t, ctx, e.relay, "/secret")

	for _, scheme := range transports {
		viewer := e.dialToken(t, scheme, nil, []byte("viewer"), "")
		if info, err := viewer.TrackStatus(ctx, "/secret", "video"); !isSubscribeError(err, moqt.SubscribeErrorUnauthorized) {
			t.Errorf("%s: TrackStatus outside the grant = %+v, %v; want UNAUTHORIZED", scheme, info, err)
		}
		if _, err := viewer.TrackStatus(ctx, "/public/x", "video"); !isSubscribeError(err, moqt.SubscribeErrorTrackDoesNotExist) {
			t.Errorf("%s: TrackStatus inside the grant = %v; want TRACK_DOES_NOT_EXIST (allowed, nothing published)", scheme, err)
		}
	}
	if st := e.relay.Stats(); st.Refused < 2 {
		t.Errorf("Refused = %d, want at least 2", st.Refused)
	}
}
