package moqt

import (
	"errors"
	"strings"
	"testing"
)

// refusingPublisher refuses PUBLISH under /nope before it is accepted
// (PublishAcceptor) and reports the tracks it serves.
type refusingPublisher struct {
	served chan BroadcastPath
}

func (h refusingPublisher) AcceptPublish(s *Session, path BroadcastPath, name TrackName) error {
	if strings.HasPrefix(string(path), "/nope") {
		return &SubscribeError{Code: SubscribeErrorNotSupported, Reason: "not here"}
	}
	return nil
}

func (h refusingPublisher) ServePublish(tr *TrackReader) {
	h.served <- tr.BroadcastPath
	<-tr.Context().Done()
}

// TestPublishRefusedBeforeOK: a PUBLISH the session's namespace filter
// refuses gets PUBLISH_ERROR UNAUTHORIZED, and one a PublishAcceptor
// refuses gets the acceptor's code, both without reaching ServePublish.
func TestPublishRefusedBeforeOK(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			h := refusingPublisher{served: make(chan BroadcastPath, 3)}
			mux := NewTrackMux()
			mux.HandlePublish("/", h)
			srv := &Server{SetupHandler: SetupHandlerFunc(func(w SetupResponseWriter, r *SetupRequest) {
				_, _ = AcceptSession(w, mux, func(s *Session) {
					s.SetNamespaceFilter(func(path BroadcastPath, publish bool) error {
						if publish && strings.HasPrefix(string(path), "/secret") {
							return errors.New("no publishing here")
						}
						return nil
					})
				})
			})}
			env := startServer(t, srv)
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			for _, tt := range []struct {
				path BroadcastPath
				code SubscribeErrorCode
			}{
				{"/secret/cam", SubscribeErrorUnauthorized},
				{"/nope/cam", SubscribeErrorNotSupported},
			} {
				_, err := sess.Publish(ctx, tt.path, "video", nil)
				var se *SubscribeError
				if !errors.As(err, &se) || se.Code != tt.code || se.Done {
					t.Errorf("Publish %s: %v, want PUBLISH_ERROR %d", tt.path, err, tt.code)
				}
			}
			tw, err := sess.Publish(ctx, "/ok/cam", "video", nil)
			if err != nil {
				t.Fatalf("Publish /ok/cam: %v", err)
			}
			defer tw.Close()
			if got := <-h.served; got != "/ok/cam" {
				t.Errorf("ServePublish got %s first, want /ok/cam", got)
			}
		})
	}
}
