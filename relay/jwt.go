package relay

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/moqgo/moqgo/moqt"
)

// JWTAuth is an Authorizer taking JSON Web Tokens from the AUTHORIZATION
// TOKEN setup parameter or, for clients that cannot set it (browsers), from
// a "jwt" query parameter of the URL ("https://relay:4443/moq?jwt=...").
// Tokens are signed with HS256 (HMACKey) or ES256 (ECDSAKey); their
// "publish" and "subscribe" claims list the path prefixes they grant, and
// "exp" and "nbf" are enforced:
//
//	{"publish": ["/live/alice"], "subscribe": ["/live"], "exp": 1767225600}
type JWTAuth struct {
	// HMACKey, if set, verifies HS256 tokens.
	HMACKey []byte
	// ECDSAKey, if set, verifies ES256 tokens.
	ECDSAKey *ecdsa.PublicKey
	// Anonymous, if set, are the grants of a session presenting no token;
	// nil refuses such sessions.
	Anonymous *Grants
}

// Claims are the claims JWTAuth reads from a token.
type Claims struct {
	// Publish lists the path prefixes the bearer may publish under.
	Publish []string `json:"publish,omitempty"`
	// Subscribe lists the path prefixes the bearer may subscribe under.
	Subscribe []string `json:"subscribe,omitempty"`
	jwt.RegisteredClaims
}

// Authorize implements Authorizer.
func (a *JWTAuth) Authorize(req *moqt.SetupRequest) (*Grants, error) {
	tok := string(req.AuthorizationToken)
	if tok == "" {
		tok = queryToken(req.Path)
	}
	if tok == "" {
		if a.Anonymous != nil {
			return a.Anonymous, nil
		}
		return nil, &AuthError{Code: moqt.ErrCodeUnauthorized, Reason: "authorization token required"}
	}
	var c Claims
	_, err := jwt.ParseWithClaims(tok, &c, a.key, jwt.WithValidMethods(a.methods()))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired) || errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, &AuthError{Code: moqt.ErrCodeExpiredAuthToken, Reason: err.Error()}
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, &AuthError{Code: moqt.ErrCodeMalformedAuthToken, Reason: err.Error()}
	case err != nil:
		return nil, &AuthError{Code: moqt.ErrCodeUnauthorized, Reason: err.Error()}
	}
	g := &Grants{}
	for _, p := range c.Publish {
		g.Publish = append(g.Publish, moqt.BroadcastPath(p))
	}
	for _, p := range c.Subscribe {
		g.Subscribe = append(g.Subscribe, moqt.BroadcastPath(p))
	}
	return g, nil
}

func (a *JWTAuth) methods() []string {
	var m []string
	if a.HMACKey != nil {
		m = append(m, jwt.SigningMethodHS256.Alg())
	}
	if a.ECDSAKey != nil {
		m = append(m, jwt.SigningMethodES256.Alg())
	}
	return m
}

func (a *JWTAuth) key(t *jwt.Token) (any, error) {
	switch t.Method {
	case jwt.SigningMethodHS256:
		if a.HMACKey != nil {
			return a.HMACKey, nil
		}
	case jwt.SigningMethodES256:
		if a.ECDSAKey != nil {
			return a.ECDSAKey, nil
		}
	}
	return nil, fmt.Errorf("no key for signing method %v", t.Method.Alg())
}

// queryToken returns the "jwt" query parameter of a setup path.
func queryToken(path string) string {
	_, q, ok := strings.Cut(path, "?")
	if !ok {
		return ""
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return ""
	}
	return v.Get("jwt")
}
