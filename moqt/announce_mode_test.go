package moqt

import (
	"testing"
)

// A client session announces its TrackMux publications without being
// asked (draft-14 §6), so a relay learns them; a server session waits for
// SUBSCRIBE_NAMESPACE unless its Config says AnnounceProactive.
func TestAnnounceMode(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			ctx := testContext(t)
			srvMux := NewTrackMux()
			srvMux.Publish(ctx, "/srv/a", TrackHandlerFunc(holdTrack))
			peerAnns := make(chan *Announcement, 4)
			sessions := make(chan *Session, 4)
			srv := &Server{SetupHandler: SetupHandlerFunc(func(w SetupResponseWriter, r *SetupRequest) {
				s, err := AcceptSession(w, srvMux, func(s *Session) {
					s.HandlePeerAnnouncements(func(a *Announcement) { peerAnns <- a })
				})
				if err == nil {
					sessions <- s
				}
			})}
			env := startServer(t, srv)

			// Default client: announces /cli/a and, later, /cli/b by itself.
			mux := NewTrackMux()
			mux.Publish(ctx, "/cli/a", TrackHandlerFunc(holdTrack))
			env.dial(t, scheme, mux)
			ss := <-sessions
			if ss.announceAll {
				t.Error("a default server session announces proactively")
			}
			wantAnn(t, peerAnns, "/cli/a")
			mux.Publish(ctx, "/cli/b", TrackHandlerFunc(holdTrack))
			wantAnn(t, peerAnns, "/cli/b")

			// A client that opted out announces only on request.
			env.client.Config = &Config{AnnounceMode: AnnounceOnRequest}
			quiet := env.dial(t, scheme, mux)
			if quiet.announceAll {
				t.Error("AnnounceOnRequest client announces proactively")
			}
			qs := <-sessions
			ar, err := qs.AcceptAnnounce("/cli")
			if err != nil {
				t.Fatal(err)
			}
			got := map[BroadcastPath]bool{}
			for range 2 {
				a, err := ar.ReceiveAnnouncement(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got[a.BroadcastPath] = true
			}
			if !got["/cli/a"] || !got["/cli/b"] {
				t.Fatalf("announcements on request: %v", got)
			}
			// The server's handler sees every PUBLISH_NAMESPACE, these too.
			wantAnn(t, peerAnns, "/cli/a", "/cli/b")
		})
	}
}

func TestAnnounceModeProactiveServer(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			ctx := testContext(t)
			srvMux := NewTrackMux()
			srvMux.Publish(ctx, "/srv/a", TrackHandlerFunc(holdTrack))
			env := startServer(t, &Server{TrackMux: srvMux, Config: &Config{AnnounceMode: AnnounceProactive}})
			cs := env.dial(t, scheme, nil)
			anns := make(chan *Announcement, 4)
			cs.HandlePeerAnnouncements(func(a *Announcement) { anns <- a })
			wantAnn(t, anns, "/srv/a")
		})
	}
}

// wantAnn receives len(paths) announcements from ch, in any order, and
// checks they are paths.
func wantAnn(t *testing.T, ch <-chan *Announcement, paths ...BroadcastPath) {
	t.Helper()
	want := map[BroadcastPath]bool{}
	for _, p := range paths {
		want[p] = true
	}
	ctx := testContext(t)
	for range paths {
		select {
		case a := <-ch:
			if !want[a.BroadcastPath] {
				t.Fatalf("announcement %s, want one of %v", a.BroadcastPath, paths)
			}
			delete(want, a.BroadcastPath)
		case <-ctx.Done():
			t.Fatalf("missing announcements %v", want)
		}
	}
}
