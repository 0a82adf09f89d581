// Command chat is a chat room over MoQT. Every participant publishes its
// messages under /chat/<name> (each message is a group of one object); the
// room server discovers participants through their announcements
// (SUBSCRIBE_NAMESPACE / PUBLISH_NAMESPACE), subscribes to them and relays
// every message on the /chat "room" track.
//
// Without flags it runs a room with two participants in one process.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"

	"github.com/moqgo/moqgo/examples/internal/exutil"
	"github.com/moqgo/moqgo/moqt"
)

func main() {
	if err := demo(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// Room relays the messages of every participant to everybody.
type Room struct {
	out exutil.Broadcast
}

// ServeSetup accepts a participant and follows its announcements.
func (r *Room) ServeSetup(w moqt.SetupResponseWriter, req *moqt.SetupRequest) {
	mux := moqt.NewTrackMux()
	mux.Publish(context.Background(), "/chat", &r.out)
	sess, err := w.Accept(mux)
	if err != nil {
		return
	}
	go r.follow(sess)
}

// follow subscribes to every participant the session announces.
func (r *Room) follow(sess *moqt.Session) {
	ar, err := sess.AcceptAnnounce("/chat")
	if err != nil {
		return
	}
	defer ar.Close()
	for {
		a, err := ar.ReceiveAnnouncement(sess.Context())
		if err != nil {
			return
		}
		name := strings.TrimPrefix(string(a.BroadcastPath), "/chat/")
		tr, err := sess.Subscribe(a.BroadcastPath, "messages", nil)
		if err != nil {
			continue
		}
		go r.relay(sess.Context(), name, tr)
	}
}

func (r *Room) relay(ctx context.Context, name string, tr *moqt.TrackReader) {
	defer tr.Close()
	for {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			return
		}
		f, err := gr.ReadFrame()
		if err != nil {
			continue
		}
		r.out.Send(moqt.NewFrame([]byte(name + ": " + string(f.Bytes()))))
	}
}

// Participant is a chat user connected to a room.
type Participant struct {
	Name string
	sess *moqt.Session
	out  exutil.Broadcast
	room *moqt.TrackReader
}

// Join connects to the room at url as name.
func Join(ctx context.Context, c *moqt.Client, url, name string) (*Participant, error) {
	p := &Participant{Name: name}
	mux := moqt.NewTrackMux()
	mux.Publish(ctx, moqt.BroadcastPath("/chat/"+name), &p.out)
	sess, err := c.Dial(ctx, url, mux)
	if err != nil {
		return nil, err
	}
	p.sess = sess
	if p.room, err = sess.Subscribe("/chat", "room", &moqt.TrackConfig{Filter: moqt.FilterNextGroupStart}); err != nil {
		sess.Close()
		return nil, err
	}
	return p, nil
}

// Say sends a message to the room.
func (p *Participant) Say(msg string) { p.out.Send(moqt.NewFrame([]byte(msg))) }

// Next returns the next message of the room.
func (p *Participant) Next(ctx context.Context) (string, error) {
	gr, err := p.room.AcceptGroup(ctx)
	if err != nil {
		return "", err
	}
	f, err := gr.ReadFrame()
	if err != nil {
		return "", err
	}
	return string(f.Bytes()), nil
}

// Leave closes the participant's session.
func (p *Participant) Leave() { p.sess.Close() }

// demo runs a room and lets alice talk to bob, one over raw QUIC and one
// over WebTransport.
func demo(ctx context.Context, out io.Writer) error {
	srvTLS, cliTLS, err := exutil.SelfSigned()
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer pc.Close()
	srv := &moqt.Server{TLSConfig: srvTLS, SetupHandler: &Room{}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pc) }()
	defer func() { srv.Close(); <-done }()
	client := &moqt.Client{TLSConfig: cliTLS}
	addr := pc.LocalAddr().String()
	alice, err := Join(ctx, client, "moqt://"+addr+"/", "alice")
	if err != nil {
		return err
	}
	defer alice.Leave()
	bob, err := Join(ctx, client, "https://"+addr+"/", "bob")
	if err != nil {
		return err
	}
	defer bob.Leave()
	// Wait until the room follows alice: her first message is relayed.
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan string, 1)
	go func() {
		msg, err := bob.Next(waitCtx)
		if err == nil {
			got <- msg
		}
		close(got)
	}()
	// The room subscribes to alice once it sees her announcement.
	select {
	case <-alice.out.Subscribed():
	case <-ctx.Done():
		return ctx.Err()
	}
	alice.Say("hello bob")
	msg, ok := <-got
	if !ok {
		return fmt.Errorf("bob did not receive the message")
	}
	fmt.Fprintln(out, msg)
	return nil
}
