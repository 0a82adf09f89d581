package moqt

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestFetchCancelBeforeObject: a fetch the publisher accepts (FETCH_OK)
// and then abandons before its first object ends the subscriber's
// FetchReader. It used to leave ReadObject waiting for a stream that was
// never opened, until the session died (30 s of idle timeout here). Over
// raw QUIC the stream's header is the reset's reliable part, so
// ReadObject returns the reset's GroupError at once; over WebTransport
// the reset can overtake the header (webtransport-go), and the fetch ends
// with errFetchNoStream once Config.RequestTimeout has passed without its
// stream.
func TestFetchCancelBeforeObject(t *testing.T) {
	for _, scheme := range transports {
		for _, m := range schedModes {
			t.Run(scheme+"/"+m.name, func(t *testing.T) { testFetchCancelBeforeObject(t, scheme, m.direct) })
		}
	}
}

func testFetchCancelBeforeObject(t *testing.T, scheme string, direct bool) {
	mux := NewTrackMux()
	mux.Publish(context.Background(), "/f", fetchOnly{serve: func(fw *FetchWriter) {
		if err := fw.WriteInfo(FetchInfo{End: Location{1, 0}}); err != nil {
			t.Error(err)
			return
		}
		fw.CancelWrite(GroupErrorCancelled)
	}})
	env := startServer(t, &Server{TrackMux: mux, Config: &Config{DisableScheduler: direct}})
	env.client.Config = &Config{RequestTimeout: 500 * time.Millisecond}
	sess := env.dial(t, scheme, nil)
	fr, err := sess.Fetch(testContext(t), "/f", "log", &FetchConfig{End: Location{1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := fr.ReadObject()
		got <- err
	}()
	select {
	case err := <-got:
		var ge *GroupError
		reset := errors.As(err, &ge) && ge.Code == GroupErrorCancelled
		if !reset && (scheme == "moqt" || !errors.Is(err, errFetchNoStream)) {
			t.Fatalf("ReadObject: %v, want the reset's GroupError (cancelled)", err)
		}
	case <-time.After(10 * time.Second):
		fr.Close()
		<-got
		t.Fatal("ReadObject still waiting for the fetch's stream")
	}
	if err := fr.Close(); err != nil {
		t.Errorf("Close after the fetch ended: %v", err)
	}
}
