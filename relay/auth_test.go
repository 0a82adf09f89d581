package relay

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/moqgo/moqgo/moqt"
)

func sign(t *testing.T, method jwt.SigningMethod, key any, c Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sessionCode(err error) (moqt.SessionErrorCode, bool) {
	var se *moqt.SessionError
	if errors.As(err, &se) {
		return se.Code, true
	}
	return 0, false
}

// TestJWTAuth: tokens grant publishing and subscribing by path prefix;
// everything else is refused with the draft-14 unauthorized codes.
func TestJWTAuth(t *testing.T) {
	hmacKey := []byte("test secret, not for production")
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := startRelay(t, Config{Auth: &JWTAuth{HMACKey: hmacKey, ECDSAKey: &ecKey.PublicKey}})
	ctx := testContext(t)
	exp := jwt.NewNumericDate(time.Now().Add(time.Hour))

	// A publisher allowed under /live/alice only.
	pubTok := sign(t, jwt.SigningMethodHS256, hmacKey, Claims{Publish: []string{"/live/alice"}, RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}})
	f := newFeed()
	mux := moqt.NewTrackMux()
	mux.PublishFunc(ctx, "/live/alice", f.serve)
	mux.PublishFunc(ctx, "/live/bob", f.serve)
	pub := e.dialToken(t, "moqt", mux, []byte(pubTok), "")
	waitAnnounced(t, ctx, e.relay, "/live/alice")

	// A viewer of /live, with an ES256 token in the URL over WebTransport.
	subTok := sign(t, jwt.SigningMethodES256, ecKey, Claims{Subscribe: []string{"/live"}, RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}})
	viewer := e.dialToken(t, "https", nil, nil, "?jwt="+subTok)
	tr, err := viewer.Subscribe("/live/alice", "video", nil)
	if err != nil {
		t.Fatalf("authorized Subscribe: %v", err)
	}
	f.push(t, ctx, writeGroup(0, 2, 10))
	if g, objs := readGroup(t, ctx, tr); g != 0 || len(objs) != 2 {
		t.Fatalf("got group %d with %d objects", g, len(objs))
	}
	if _, err := viewer.Subscribe("/other", "video", nil); !isSubscribeError(err, moqt.SubscribeErrorUnauthorized) {
		t.Errorf("Subscribe outside the grant = %v, want UNAUTHORIZED", err)
	}
	if _, err := viewer.AcceptAnnounce("/secret"); !isSubscribeError(err, moqt.SubscribeErrorUnauthorized) {
		t.Errorf("SUBSCRIBE_NAMESPACE outside the grant = %v, want UNAUTHORIZED", err)
	}
	// /live/bob was refused: nothing routes to it.
	if _, err := viewer.Subscribe("/live/bob", "video", nil); !isSubscribeError(err, moqt.SubscribeErrorTrackDoesNotExist) {
		t.Errorf("Subscribe to an unauthorized announcement = %v, want TRACK_DOES_NOT_EXIST", err)
	}
	// The publisher may not subscribe.
	if _, err := pub.Subscribe("/live/alice", "video", nil); !isSubscribeError(err, moqt.SubscribeErrorUnauthorized) {
		t.Errorf("publisher's Subscribe = %v, want UNAUTHORIZED", err)
	}
	if st := e.relay.Stats(); st.Refused < 4 {
		t.Errorf("Refused = %d, want at least 4", st.Refused)
	}

	for _, c := range []struct {
		name  string
		token string
		want  moqt.SessionErrorCode
	}{
		{"none", "", moqt.ErrCodeUnauthorized},
		{"garbage", "not-a-jwt", moqt.ErrCodeMalformedAuthToken},
		{"wrong-key", sign(t, jwt.SigningMethodHS256, []byte("other"), Claims{}), moqt.ErrCodeUnauthorized},
		{"expired", sign(t, jwt.SigningMethodHS256, hmacKey, Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(-time.Minute))}}), moqt.ErrCodeExpiredAuthToken},
	} {
		for _, scheme := range transports {
			var tok []byte
			if c.token != "" {
				tok = []byte(c.token)
			}
			s, err := e.tryDial(scheme, nil, tok, "")
			if err == nil {
				s.Close()
				t.Errorf("%s/%s: session accepted", c.name, scheme)
				continue
			}
			if code, ok := sessionCode(err); !ok || code != c.want {
				t.Errorf("%s/%s: Dial = %v, want session code %#x", c.name, scheme, err, uint64(c.want))
			}
		}
	}
}

// TestAnonymous: with Anonymous grants, a session without a token gets
// them.
func TestAnonymous(t *testing.T) {
	e := startRelay(t, Config{Auth: &JWTAuth{HMACKey: []byte("k"), Anonymous: &Grants{Subscribe: []moqt.BroadcastPath{"/public"}}}})
	sess := e.dial(t, "moqt", nil)
	if _, err := sess.Subscribe("/public/x", "t", nil); !isSubscribeError(err, moqt.SubscribeErrorTrackDoesNotExist) {
		t.Errorf("anonymous Subscribe under /public = %v, want TRACK_DOES_NOT_EXIST (allowed, nothing published)", err)
	}
	if _, err := sess.Subscribe("/private", "t", nil); !isSubscribeError(err, moqt.SubscribeErrorUnauthorized) {
		t.Errorf("anonymous Subscribe under /private = %v, want UNAUTHORIZED", err)
	}
}
