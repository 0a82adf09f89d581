package transport

import (
	"fmt"
	"io"
	"testing"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/webtransport-go"
	"go.uber.org/goleak"
)

var (
	sinkSend SendStream
	sinkRecv ReceiveStream
	sinkErr  error
)

// TestWrappersDoNotAllocate: wrapping a stream, done once per data stream
// on each side, and converting the errors every read returns cost no
// allocation.
func TestWrappersDoNotAllocate(t *testing.T) {
	var qs *quic.SendStream
	var qr *quic.ReceiveStream
	var ws *webtransport.SendStream
	var wr *webtransport.ReceiveStream
	cases := map[string]func(){
		"quic send":         func() { sinkSend = quicSend[*quic.SendStream]{qs} },
		"quic receive":      func() { sinkRecv = quicRecv[*quic.ReceiveStream]{qr} },
		"webtransport send": func() { sinkSend = wtSend[*webtransport.SendStream]{ws} },
		"webtransport recv": func() { sinkRecv = wtRecv[*webtransport.ReceiveStream]{wr} },
		"quic EOF":          func() { sinkErr = quicErr(io.EOF) },
		"webtransport EOF":  func() { sinkErr = wtErr(io.EOF) },
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

// TestErrorConversion: quic-go's and webtransport-go's errors become the
// transport-independent ones, also when wrapped.
func TestErrorConversion(t *testing.T) {
	cases := []struct {
		in     error
		want   error
		wtOnly bool // a webtransport-go error, which quicErr leaves alone
	}{
		{&quic.ApplicationError{ErrorCode: 3, ErrorMessage: "bye", Remote: true}, &ApplicationError{Code: 3, Reason: "bye", Remote: true}, false},
		{&quic.StreamError{ErrorCode: 5, Remote: true}, &StreamError{Code: 5, Remote: true}, false},
		{fmt.Errorf("wrapped: %w", &quic.DatagramTooLargeError{MaxDatagramPayloadSize: 1200}), &DatagramTooLargeError{Max: 1200}, false},
		{&webtransport.StreamError{ErrorCode: 9}, &StreamError{Code: 9}, true},
		{&webtransport.SessionError{ErrorCode: 4, Message: "done"}, &ApplicationError{Code: 4, Reason: "done"}, true},
	}
	for _, c := range cases {
		want := fmt.Sprintf("%#v", c.want)
		if got := wtErr(c.in); fmt.Sprintf("%#v", got) != want {
			t.Errorf("wtErr(%v) = %#v, want %s", c.in, got, want)
		}
		if got := quicErr(c.in); !c.wtOnly && fmt.Sprintf("%#v", got) != want {
			t.Errorf("quicErr(%v) = %#v, want %s", c.in, got, want)
		}
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
