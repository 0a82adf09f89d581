package moqt

import (
	"io"
	"testing"
)

// TestDetachedTrackWriter: a handler that detaches its TrackWriter returns
// from ServeTrack and the subscription goes on: groups written afterwards
// arrive, SUBSCRIBE_UPDATE reaches onUpdate, and the handler's Close ends
// the subscription. Without Detach, returning ends it.
func TestDetachedTrackWriter(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			ctx := testContext(t)
			served := make(chan *TrackWriter, 1)
			updated := make(chan struct{}, 4)
			mux := NewTrackMux()
			mux.PublishFunc(ctx, "/live", func(tw *TrackWriter) {
				if tw.WriteInfo(Info{}) != nil {
					return
				}
				if tw.TrackName == "detached" {
					tw.Detach(func() { updated <- struct{}{} })
				}
				served <- tw
			})
			e := startServer(t, &Server{TrackMux: mux})
			sess := e.dial(t, scheme, nil)

			tr, err := sess.Subscribe("/live", "detached", nil)
			if err != nil {
				t.Fatal(err)
			}
			tw := <-served
			gw, err := tw.OpenGroup(0)
			if err != nil {
				t.Fatalf("OpenGroup after ServeTrack returned: %v", err)
			}
			if err := gw.WriteFrame(NewFrame([]byte("after return"))); err != nil {
				t.Fatal(err)
			}
			gw.Close()
			gr, err := tr.AcceptGroup(ctx)
			if err != nil {
				t.Fatalf("AcceptGroup: %v", err)
			}
			f, err := gr.ReadFrame()
			if err != nil || string(f.Bytes()) != "after return" {
				t.Fatalf("ReadFrame = %v, %v", f, err)
			}

			if err := tr.Update(&TrackConfig{Priority: 7}); err != nil {
				t.Fatal(err)
			}
			select {
			case <-updated:
			case <-ctx.Done():
				t.Fatal("onUpdate not called")
			}
			if p := tw.TrackConfig().Priority; p != 7 {
				t.Errorf("priority after update %d, want 7", p)
			}

			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := tr.AcceptGroup(ctx); err != io.EOF {
				t.Fatalf("AcceptGroup after Close = %v, want io.EOF", err)
			}

			attached, err := sess.Subscribe("/live", "attached", nil)
			if err != nil {
				t.Fatal(err)
			}
			<-served
			if _, err := attached.AcceptGroup(ctx); err != io.EOF {
				t.Fatalf("AcceptGroup of a subscription whose handler returned = %v, want io.EOF", err)
			}
		})
	}
}
