package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/moqgo/moqgo/internal/testcert"
)

// window is the receiver's connection flow-control window in these tests:
// small, so that the sender can use it up without the receiver reading.
const window = 64 << 10

// quicPair returns the two ends of a raw QUIC connection over loopback,
// both with RESET_STREAM_AT enabled; the receiver's connection window is
// window bytes and does not grow.
func quicPair(t *testing.T) (sender, receiver *quic.Conn) {
	t.Helper()
	srvTLS, cliTLS, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	srvTLS.NextProtos = []string{"moqgo-test"}
	cliTLS.NextProtos = []string{"moqgo-test"}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conf := &quic.Config{
		EnableStreamResetPartialDelivery: true,
		InitialConnectionReceiveWindow:   window,
		MaxConnectionReceiveWindow:       window,
	}
	ln, err := quic.Listen(pc, srvTLS, conf)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	accepted := make(chan *quic.Conn, 1)
	go func() {
		c, err := ln.Accept(ctx)
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	sender, err = quic.DialAddr(ctx, pc.LocalAddr().String(), cliTLS, conf)
	if err != nil {
		t.Fatal(err)
	}
	receiver = <-accepted
	t.Cleanup(func() {
		sender.CloseWithError(0, "")
		if receiver != nil {
			receiver.CloseWithError(0, "")
		}
		ln.Close()
		pc.Close()
	})
	if receiver == nil {
		t.FailNow()
	}
	return sender, receiver
}

// fillWindow uses up the sender's connection credit with one stream's
// reserved writes, and returns that stream and its bytes.
func fillWindow(t *testing.T, c *quic.Conn) (*quic.SendStream, []byte) {
	t.Helper()
	st, err := c.OpenUniStream()
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, size := range []int{1024, 1} {
		for {
			b := bytes.Repeat([]byte{byte(len(all))}, size)
			if st.TryWriteAll(b) != nil {
				break
			}
			all = append(all, b...)
		}
	}
	if len(all) == 0 || len(all) > window {
		t.Fatalf("filled %d bytes of a %d-byte window", len(all), window)
	}
	return st, all
}

// readUni accepts the next unidirectional stream and reads it to its end,
// returning what it read and how it ended.
func readUni(ctx context.Context, t *testing.T, c *quic.Conn) ([]byte, error) {
	t.Helper()
	st, err := c.AcceptUniStream(ctx)
	if err != nil {
		t.Fatalf("accepting a stream: %v (connection: %v)", err, context.Cause(c.Context()))
	}
	if d, ok := ctx.Deadline(); ok {
		st.SetReadDeadline(d)
	}
	b, err := io.ReadAll(st)
	return b, quicErr(err)
}

// TestCancelWriteAfterBlockedConnection: a stream reset after its header
// while the connection has no flow-control credit left does not make its
// final size overrun the peer's window. quic-go's reset declares the
// reliable size as final size even if those bytes were never sent, while
// the sender's credit only counts bytes sent or reserved: the peer used to
// close the connection with FLOW_CONTROL_ERROR (seen as a relay subscriber
// dropped mid-stream under load). Now the header goes unreliable when its
// credit cannot be taken. The stream that used up the window is reset
// after it, so that the receiver counts all of the window at once, with
// nothing read yet (no window update in between).
func TestCancelWriteAfterBlockedConnection(t *testing.T) {
	sender, receiver := quicPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	full, _ := fillWindow(t, sender)
	st, err := NewQUIC(sender).OpenUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.CancelWriteAfter([]byte{0x10, 1, 2, 3, 4}, 7)
	full.CancelWrite(1)
	// A stream written after the resets: it arrives only if the
	// connection survived them.
	after, err := NewQUIC(sender).OpenUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := after.Write([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	after.Close()

	var se *StreamError
	if _, err := readUni(ctx, t, receiver); !errors.As(err, &se) || se.Code != 1 {
		t.Fatalf("first stream: %v, want stream error 1 (connection: %v)", err, context.Cause(receiver.Context()))
	}
	if b, err := readUni(ctx, t, receiver); !errors.As(err, &se) || se.Code != 7 || len(b) != 0 {
		t.Fatalf("reset stream: %q, %v; want nothing and stream error 7 (connection: %v)", b, err, context.Cause(receiver.Context()))
	}
	if b, err := readUni(ctx, t, receiver); err != nil || string(b) != "still here" {
		t.Fatalf("stream after the reset: %q, %v (connection: %v)", b, err, context.Cause(receiver.Context()))
	}
}

// TestCancelWriteAfterDeliversPrefix: with credit to spare, the prefix of
// a reset stream reaches the peer before the reset, and so does what
// TryWriteReliable wrote; what Write wrote after it may not.
func TestCancelWriteAfterDeliversPrefix(t *testing.T) {
	sender, receiver := quicPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := NewQUIC(sender)

	st, err := conn.OpenUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.CancelWriteAfter([]byte("header"), 7)
	var se *StreamError
	if b, err := readUni(ctx, t, receiver); !errors.As(err, &se) || se.Code != 7 || string(b) != "header" {
		t.Fatalf("CancelWriteAfter: read %q, %v; want \"header\" and stream error 7", b, err)
	}

	st, err = conn.OpenUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.TryWriteReliable([]byte("head")) || !st.TryWriteReliable([]byte("er")) {
		t.Fatal("TryWriteReliable refused a small write with credit to spare")
	}
	if st.TryWriteReliable(make([]byte, MaxReliableWrite+1)) {
		t.Fatal("TryWriteReliable took more than MaxReliableWrite")
	}
	if _, err := st.Write(bytes.Repeat([]byte("x"), 100)); err != nil {
		t.Fatal(err)
	}
	st.CancelWrite(7)
	b, err := readUni(ctx, t, receiver)
	if !errors.As(err, &se) || se.Code != 7 || !bytes.HasPrefix(b, []byte("header")) || len(b) > len("header")+100 {
		t.Fatalf("TryWriteReliable then reset: read %q, %v; want \"header\" first and stream error 7", b, err)
	}
}

// TestTryWriteReliableBlocked: with no connection credit, TryWriteReliable
// writes nothing and says so, and the stream is still usable.
func TestTryWriteReliableBlocked(t *testing.T) {
	sender, receiver := quicPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	full, filled := fillWindow(t, sender)
	if err := full.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := NewQUIC(sender).OpenUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.TryWriteReliable([]byte("header")) {
		t.Fatal("TryWriteReliable wrote without flow-control credit")
	}
	go func() {
		// Waits for the credit the receiver gives as it reads.
		if _, err := st.Write([]byte("header")); err == nil {
			st.Close()
		}
	}()
	if b, err := readUni(ctx, t, receiver); err != nil || !bytes.Equal(b, filled) {
		t.Fatalf("first stream: %d bytes (%v), want %d", len(b), err, len(filled))
	}
	if b, err := readUni(ctx, t, receiver); err != nil || string(b) != "header" {
		t.Fatalf("second stream: %q, %v", b, err)
	}
}
