// Command chat is a chat room over MoQT. Every participant publishes its
// messages under /chat/<name> (each message is a group of one object); the
// room server discovers participants through their announcements
// (SUBSCRIBE_NAMESPACE / PUBLISH_NAMESPACE), subscribes to them and relays
// every message on the /chat "room" track.
//
// Both sides publish with moqt.Broadcast and moqt.Track, whose history
// lets the room catch up: it follows a participant with
// Session.SubscribeJoining, which fetches what was said before the room
// subscribed and then continues live, so no message is lost however late
// the announcement is seen.
//
// Without flags it runs a room with two participants in one process.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"

	"github.com/moqgo/moqgo/examples/internal/exutil"
	"github.com/moqgo/moqgo/moqt"
)

func main() {
	if err := demo(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// backlog is how many past messages the room fetches from a participant it
// starts to follow.
const backlog = 16

// feed writes each message as a new group of one object on a Track.
type feed struct {
	track *moqt.Track

	mu   sync.Mutex
	next moqt.GroupSequence
}

// newFeed adds a track named name to bc and returns its feed.
func newFeed(bc *moqt.Broadcast, name moqt.TrackName) *feed {
	return &feed{track: bc.AddTrack(name, nil)}
}

// send writes msg to every subscriber and to the track's history.
func (f *feed) send(msg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.track.OpenGroup(f.next)
	if err != nil {
		return err
	}
	f.next++
	if err := g.WriteFrame(moqt.NewFrame([]byte(msg))); err != nil {
		return err
	}
	return g.Close()
}

// Room relays the messages of every participant to everybody.
type Room struct {
	bc  *moqt.Broadcast
	out *feed
}

// NewRoom returns an empty room.
func NewRoom() *Room {
	bc := moqt.NewBroadcast()
	return &Room{bc: bc, out: newFeed(bc, "room")}
}

// ServeSetup accepts a participant and follows its announcements.
func (r *Room) ServeSetup(w moqt.SetupResponseWriter, req *moqt.SetupRequest) {
	mux := moqt.NewTrackMux()
	mux.Publish(context.Background(), "/chat", r.bc)
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
		m, err := subscribeMessages(sess, a.BroadcastPath, "messages")
		if err != nil {
			continue
		}
		go r.relay(sess.Context(), name, m)
	}
}

// relay posts everything name says on the room track.
func (r *Room) relay(ctx context.Context, name string, m *messages) {
	defer m.close()
	for {
		msg, err := m.next(ctx)
		if err != nil {
			return
		}
		r.out.send(name + ": " + msg)
	}
}

// messages reads a track of messages: first the recent ones fetched from
// the publisher's history, then live ones.
type messages struct {
	live *moqt.TrackReader
	past *moqt.FetchReader // nil once read
}

// subscribeMessages subscribes to a message track, with its last backlog
// messages.
func subscribeMessages(sess *moqt.Session, path moqt.BroadcastPath, name moqt.TrackName) (*messages, error) {
	live, past, err := sess.SubscribeJoining(path, name, backlog, nil)
	if err != nil {
		return nil, err
	}
	return &messages{live: live, past: past}, nil
}

// next returns the next message. Each message is a group of its own, and
// MoQT delivers groups independently: messages sent in quick succession
// may arrive out of order.
func (m *messages) next(ctx context.Context) (string, error) {
	for m.past != nil {
		o, err := m.past.ReadObject()
		if err != nil { // io.EOF: the past is read
			m.past.Close()
			m.past = nil
			break
		}
		if o.Status == moqt.StatusNormal {
			return string(o.Frame.Bytes()), nil
		}
	}
	for {
		gr, err := m.live.AcceptGroup(ctx)
		if err != nil {
			return "", err
		}
		if f, err := gr.ReadFrame(); err == nil {
			return string(f.Bytes()), nil
		}
	}
}

// close ends the subscription.
func (m *messages) close() {
	if m.past != nil {
		m.past.Close()
	}
	m.live.Close()
}

// Participant is a chat user connected to a room.
type Participant struct {
	Name string
	sess *moqt.Session
	out  *feed
	room *messages
}

// Join connects to the room at url as name. The participant sees the
// room's recent messages first.
func Join(ctx context.Context, c *moqt.Client, url, name string) (*Participant, error) {
	bc := moqt.NewBroadcast()
	p := &Participant{Name: name, out: newFeed(bc, "messages")}
	mux := moqt.NewTrackMux()
	mux.Publish(ctx, moqt.BroadcastPath("/chat/"+name), bc)
	sess, err := c.Dial(ctx, url, mux)
	if err != nil {
		return nil, err
	}
	p.sess = sess
	if p.room, err = subscribeMessages(sess, "/chat", "room"); err != nil {
		sess.Close()
		return nil, err
	}
	return p, nil
}

// Say sends a message to the room.
func (p *Participant) Say(msg string) error { return p.out.send(msg) }

// Next returns the next message of the room.
func (p *Participant) Next(ctx context.Context) (string, error) { return p.room.next(ctx) }

// Leave closes the participant's session.
func (p *Participant) Leave() {
	p.room.close()
	p.sess.Close()
}

// demo runs a room where alice (over raw QUIC) says hello before anybody
// else is there, perhaps even before the room follows her; bob (over
// WebTransport) joins later, sees her message from the room's history and
// answers.
func demo(ctx context.Context, out io.Writer) error {
	addr, cliTLS, stop, err := exutil.ServeLoopback(&moqt.Server{SetupHandler: NewRoom()})
	if err != nil {
		return err
	}
	defer stop()
	client := &moqt.Client{TLSConfig: cliTLS}
	alice, err := Join(ctx, client, "moqt://"+addr+"/", "alice")
	if err != nil {
		return err
	}
	defer alice.Leave()
	if err := alice.Say("hello, anyone here?"); err != nil {
		return err
	}
	bob, err := Join(ctx, client, "https://"+addr+"/", "bob")
	if err != nil {
		return err
	}
	defer bob.Leave()
	if err := hear(ctx, bob, out); err != nil {
		return err
	}
	if err := bob.Say("hi alice"); err != nil {
		return err
	}
	for range 2 { // her own message, then bob's
		if err := hear(ctx, alice, out); err != nil {
			return err
		}
	}
	return nil
}

// hear prints the next message p receives.
func hear(ctx context.Context, p *Participant, out io.Writer) error {
	msg, err := p.Next(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	fmt.Fprintf(out, "[%s] %s\n", p.Name, msg)
	return nil
}
