package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Boundary values of a varint: each minimal encoding length's edges.
var varintEdges = []uint64{0, 63, 64, 16383, 16384, MaxVarint}

// namespaceN returns a namespace of n one-byte fields.
func namespaceN(n int) Namespace {
	ns := make(Namespace, n)
	for i := range ns {
		ns[i] = string(rune('a' + i%26))
	}
	return ns
}

var (
	ns32       = namespaceN(32)
	longReason = strings.Repeat("r", MaxReasonPhraseLen)
	// A Full Track Name of exactly MaxFullTrackName bytes: 32 + 4064.
	longName = strings.Repeat("n", MaxFullTrackName-32)
)

func someParams() Params {
	var p Params
	p.SetDeliveryTimeout(5 * time.Second)
	p.SetMaxCacheDuration(30 * time.Second)
	if err := p.AddAuthorizationToken(AuthToken{AliasType: AliasUseValue, TokenType: 1, Value: []byte("tok")}); err != nil {
		panic(err)
	}
	p = append(p, KeyValue{Type: 0x21, Bytes: []byte{0xde, 0xad}}, KeyValue{Type: 0x40, Value: MaxVarint})
	return p
}

type msgCase struct {
	name string
	msg  Message
}

// roundTripCases holds every message type with every field set, each
// optional-field branch and the boundary values.
func roundTripCases() []msgCase {
	cs := []msgCase{
		{"client_setup", &ClientSetup{SupportedVersions: []Version{Draft14, 0xff00000d}, Params: SetupParams{{Type: SetupMaxRequestID, Value: 100}}}},
		{"server_setup", &ServerSetup{SelectedVersion: Draft14, Params: SetupParams{{Type: SetupPath, Bytes: []byte("/moq")}}}},
		{"goaway/empty", &Goaway{}},
		{"goaway/uri", &Goaway{NewSessionURI: "https://relay.example/moq"}},
		{"goaway/max_uri", &Goaway{NewSessionURI: strings.Repeat("u", MaxNewSessionURILen)}},

		{"subscribe/next_group", &Subscribe{RequestID: 1, TrackNamespace: Namespace{"live"}, TrackName: "video",
			SubscriberPriority: 128, GroupOrder: GroupOrderPublisher, FilterType: FilterNextGroupStart}},
		{"subscribe/latest", &Subscribe{RequestID: 3, TrackNamespace: Namespace{"conf", "room"}, TrackName: "audio",
			SubscriberPriority: 255, GroupOrder: GroupOrderAscending, Forward: true, FilterType: FilterLatestObject, Params: someParams()}},
		{"subscribe/absolute_start", &Subscribe{RequestID: MaxVarint, TrackNamespace: ns32, TrackName: longName,
			GroupOrder: GroupOrderDescending, FilterType: FilterAbsoluteStart, Start: Location{Group: MaxVarint, Object: 16384}}},
		{"subscribe/absolute_range", &Subscribe{RequestID: 64, TrackNamespace: Namespace{strings.Repeat("x", MaxFullTrackName)},
			Forward: true, FilterType: FilterAbsoluteRange, Start: Location{Group: 63, Object: 64}, EndGroup: MaxVarint}},
		{"subscribe/empty_fields", &Subscribe{TrackNamespace: Namespace{"", ""}, FilterType: FilterAbsoluteRange}},

		{"subscribe_ok/no_content", &SubscribeOK{RequestID: 1, GroupOrder: GroupOrderAscending}},
		{"subscribe_ok/content", &SubscribeOK{RequestID: 16383, TrackAlias: MaxVarint, Expires: 16384, GroupOrder: GroupOrderDescending,
			ContentExists: true, Largest: Location{Group: MaxVarint, Object: MaxVarint}, Params: someParams()}},
		{"subscribe_update", &SubscribeUpdate{RequestID: 2, SubscriptionRequestID: MaxVarint, Start: Location{Group: 5, Object: 16383},
			EndGroup: 21, SubscriberPriority: 7, Forward: true, Params: someParams()}},
		{"subscribe_update/open", &SubscribeUpdate{Start: Location{Group: MaxVarint}}},
		{"unsubscribe", &Unsubscribe{RequestID: MaxVarint}},
		{"publish_done", &PublishDone{RequestID: 1, StatusCode: DoneTrackEnded, StreamCount: MaxVarint, ReasonPhrase: longReason}},
		{"publish_done/empty", &PublishDone{}},

		{"publish/no_content", &Publish{RequestID: 1, TrackNamespace: Namespace{"live"}, TrackName: "video", TrackAlias: 1,
			GroupOrder: GroupOrderAscending, Forward: true}},
		{"publish/content", &Publish{RequestID: MaxVarint, TrackNamespace: ns32, TrackName: longName, TrackAlias: MaxVarint,
			GroupOrder: GroupOrderDescending, ContentExists: true, Largest: Location{Group: 10, Object: 64}, Params: someParams()}},
		{"publish_ok/latest", &PublishOK{RequestID: 1, Forward: true, SubscriberPriority: 128, GroupOrder: GroupOrderAscending,
			FilterType: FilterLatestObject}},
		{"publish_ok/next_group", &PublishOK{RequestID: 1, GroupOrder: GroupOrderAscending, FilterType: FilterNextGroupStart}},
		{"publish_ok/absolute_start", &PublishOK{RequestID: 3, GroupOrder: GroupOrderDescending, FilterType: FilterAbsoluteStart,
			Start: Location{Group: 16384, Object: 63}, Params: someParams()}},
		{"publish_ok/absolute_range", &PublishOK{RequestID: 2, Forward: true, GroupOrder: GroupOrderDescending,
			FilterType: FilterAbsoluteRange, Start: Location{Group: 5}, EndGroup: MaxVarint}},

		{"fetch/standalone", &Fetch{RequestID: 2, SubscriberPriority: 128, GroupOrder: GroupOrderAscending, FetchType: FetchStandalone,
			TrackNamespace: ns32, TrackName: longName, Start: Location{Group: 0, Object: 0}, End: Location{Group: MaxVarint, Object: MaxVarint},
			Params: someParams()}},
		{"fetch/relative", &Fetch{RequestID: 6, GroupOrder: GroupOrderPublisher, FetchType: FetchRelativeJoining,
			JoiningRequestID: 1, JoiningStart: MaxVarint}},
		{"fetch/absolute", &Fetch{RequestID: 8, SubscriberPriority: 255, GroupOrder: GroupOrderDescending, FetchType: FetchAbsoluteJoining,
			JoiningRequestID: MaxVarint, JoiningStart: 16384, Params: someParams()}},
		{"fetch_ok", &FetchOK{RequestID: 2, GroupOrder: GroupOrderDescending, EndOfTrack: true,
			End: Location{Group: MaxVarint, Object: 64}, Params: someParams()}},
		{"fetch_ok/more", &FetchOK{GroupOrder: GroupOrderAscending}},
		{"fetch_cancel", &FetchCancel{RequestID: 16383}},

		{"track_status", &TrackStatus{RequestID: 1, TrackNamespace: Namespace{"live"}, TrackName: "video",
			FilterType: FilterAbsoluteRange, Start: Location{Group: 1, Object: 2}, EndGroup: 3, Params: someParams()}},
		{"track_status_ok", &TrackStatusOK{RequestID: 1, GroupOrder: GroupOrderAscending, ContentExists: true,
			Largest: Location{Group: 100, Object: 50}}},

		{"publish_namespace", &PublishNamespace{RequestID: 1, TrackNamespace: ns32, Params: someParams()}},
		{"publish_namespace_ok", &PublishNamespaceOK{RequestID: 64}},
		{"publish_namespace_done", &PublishNamespaceDone{TrackNamespace: Namespace{"live", "sports"}}},
		{"publish_namespace_cancel", &PublishNamespaceCancel{TrackNamespace: Namespace{strings.Repeat("c", MaxFullTrackName)},
			ErrorCode: MaxVarint, ReasonPhrase: longReason}},
		{"subscribe_namespace", &SubscribeNamespace{RequestID: MaxVarint, NamespacePrefix: Namespace{"conf"}, Params: someParams()}},
		{"subscribe_namespace_ok", &SubscribeNamespaceOK{RequestID: 0}},
		{"unsubscribe_namespace", &UnsubscribeNamespace{NamespacePrefix: ns32}},
		{"max_request_id", &MaxRequestID{RequestID: 100}},
		{"requests_blocked", &RequestsBlocked{MaxRequestID: MaxVarint}},
	}
	errs := []struct {
		name string
		mk   func(RequestError) Message
	}{
		{"subscribe_error", func(e RequestError) Message { m := SubscribeError(e); return &m }},
		{"publish_error", func(e RequestError) Message { m := PublishError(e); return &m }},
		{"fetch_error", func(e RequestError) Message { m := FetchError(e); return &m }},
		{"track_status_error", func(e RequestError) Message { m := TrackStatusError(e); return &m }},
		{"publish_namespace_error", func(e RequestError) Message { m := PublishNamespaceError(e); return &m }},
		{"subscribe_namespace_error", func(e RequestError) Message { m := SubscribeNamespaceError(e); return &m }},
	}
	for _, e := range errs {
		cs = append(cs,
			msgCase{e.name + "/empty", e.mk(RequestError{})},
			msgCase{e.name + "/max", e.mk(RequestError{RequestID: MaxVarint, ErrorCode: MaxVarint, ReasonPhrase: longReason})},
			msgCase{e.name + "/utf8", e.mk(RequestError{RequestID: 1, ErrorCode: ReqErrInvalidRange, ReasonPhrase: "range ≠ ok"})})
	}
	for _, v := range varintEdges {
		cs = append(cs,
			msgCase{"edge/max_request_id", &MaxRequestID{RequestID: v}},
			msgCase{"edge/subscribe_update", &SubscribeUpdate{RequestID: v, SubscriptionRequestID: v, Start: Location{Group: v, Object: v}, EndGroup: v}},
			msgCase{"edge/subscribe_ok", &SubscribeOK{RequestID: v, TrackAlias: v, Expires: v, GroupOrder: GroupOrderAscending,
				ContentExists: true, Largest: Location{Group: v, Object: v}}},
			msgCase{"edge/publish_done", &PublishDone{RequestID: v, StatusCode: v, StreamCount: v}},
			msgCase{"edge/subscribe_error", &SubscribeError{RequestID: v, ErrorCode: v}})
	}
	return cs
}

// normalize sets empty slices in a message struct to nil, so that a value
// built with Params{} compares equal to its decoding.
func normalize(m Message) Message {
	v := reflect.ValueOf(m).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Slice && f.Len() == 0 {
			f.Set(reflect.Zero(f.Type()))
		}
	}
	return m
}

func mustAppend(t testing.TB, m Message) []byte {
	t.Helper()
	b, err := AppendMessage(nil, m, Draft14)
	if err != nil {
		t.Fatalf("encode %T: %v", m, err)
	}
	return b
}

// checkRoundTrip encodes m, decodes it with ParseMessage and ReadMessage and
// compares.
func checkRoundTrip(t *testing.T, m Message) {
	t.Helper()
	b := mustAppend(t, m)
	got, n, err := ParseMessage(b, Draft14)
	if err != nil {
		t.Fatalf("decode %x: %v", b, err)
	}
	if n != len(b) {
		t.Fatalf("decode consumed %d of %d bytes", n, len(b))
	}
	if !reflect.DeepEqual(normalize(got), normalize(m)) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, m)
	}
	read, _, err := ReadMessage(bytes.NewReader(b), Draft14, nil)
	if err != nil || !reflect.DeepEqual(normalize(read), normalize(m)) {
		t.Fatalf("ReadMessage: %v, %#v", err, read)
	}
	if again := mustAppend(t, got); !bytes.Equal(again, b) {
		t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, b)
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, c := range roundTripCases() {
		t.Run(c.name, func(t *testing.T) { checkRoundTrip(t, c.msg) })
	}
}

// TestEveryMessageType round-trips a populated value of every type in the
// draft-14 table, so that a type added to the table without a test fails.
func TestEveryMessageType(t *testing.T) {
	byType := map[MessageType]Message{}
	for _, c := range roundTripCases() {
		byType[c.msg.Type()] = c.msg
	}
	types := Draft14.MessageTypes()
	if len(types) != len(typeNames) {
		t.Errorf("draft-14 table has %d types, typeNames %d", len(types), len(typeNames))
	}
	for _, mt := range types {
		t.Run(mt.String(), func(t *testing.T) {
			if got := Draft14.NewMessage(mt).Type(); got != mt {
				t.Fatalf("table constructor for %v makes a %v", mt, got)
			}
			m, ok := byType[mt]
			if !ok {
				t.Fatalf("no populated test value for %v", mt)
			}
			checkRoundTrip(t, m)
		})
	}
}

// frame builds a framed message from a raw payload.
func frame(t MessageType, payload []byte) []byte {
	b := appendVarint(nil, uint64(t))
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}

// payloadOf returns the payload of a framed message.
func payloadOf(t testing.TB, b []byte) []byte {
	_, n, err := ParseVarint(b)
	if err != nil {
		t.Fatal(err)
	}
	return b[n+2:]
}

// TestTruncation cuts every valid encoding at every byte offset: as a short
// input buffer (NeedMore) and as a complete frame whose payload ends early
// (malformed). Both must fail with KindIncomplete, consume nothing and not
// panic.
func TestTruncation(t *testing.T) {
	for _, c := range roundTripCases() {
		t.Run(c.name, func(t *testing.T) {
			b := mustAppend(t, c.msg)
			for i := 0; i < len(b); i++ {
				_, n, err := ParseMessage(b[:i], Draft14)
				if KindOf(err) != KindIncomplete || !IsNeedMore(err) || n != 0 {
					t.Fatalf("input cut at %d/%d: n=%d err=%v, want incomplete needing more", i, len(b), n, err)
				}
			}
			p := payloadOf(t, b)
			for i := 0; i < len(p); i++ {
				_, n, err := ParseMessage(frame(c.msg.Type(), p[:i]), Draft14)
				if KindOf(err) != KindIncomplete || IsNeedMore(err) || n != 0 {
					t.Fatalf("payload cut at %d/%d: n=%d err=%v, want malformed incomplete", i, len(p), n, err)
				}
			}
		})
	}
}

func TestTrailingBytes(t *testing.T) {
	for _, c := range roundTripCases() {
		b := mustAppend(t, c.msg)
		p := append(bytes.Clone(payloadOf(t, b)), 0)
		if _, _, err := ParseMessage(frame(c.msg.Type(), p), Draft14); KindOf(err) != KindInvalidValue {
			t.Errorf("%s with a trailing byte: %v, want invalid_value", c.name, err)
		}
	}
}

// pb builds payloads field by field for the decode error tests.
type pb []byte

func (p pb) v(x uint64) pb   { return appendVarint(p, x) }
func (p pb) u8(x byte) pb    { return append(p, x) }
func (p pb) str(s string) pb { return appendString(p, s) }
func (p pb) tuple(fields ...string) pb {
	p = p.v(uint64(len(fields)))
	for _, f := range fields {
		p = p.str(f)
	}
	return p
}

// subscribeHead is a SUBSCRIBE or TRACK_STATUS payload up to the filter:
// request 1, ["live"], "video", priority 128, order, forward.
func subscribeHead(order, forward byte) pb {
	return pb{}.v(1).tuple("live").str("video").u8(128).u8(order).u8(forward)
}

func TestDecodeErrors(t *testing.T) {
	over := strings.Repeat("x", MaxFullTrackName)
	badUTF8 := string([]byte{0xff, 0xfe})
	cases := []struct {
		name    string
		typ     MessageType
		payload pb
		kind    ErrorKind
	}{
		{"subscribe/filter_0", TypeSubscribe, subscribeHead(0, 0).v(0).v(0), KindInvalidValue},
		{"subscribe/filter_5", TypeSubscribe, subscribeHead(0, 0).v(5).v(0), KindInvalidValue},
		{"subscribe/group_order_3", TypeSubscribe, subscribeHead(3, 0).v(1).v(0), KindInvalidValue},
		{"subscribe/forward_2", TypeSubscribe, subscribeHead(0, 2).v(1).v(0), KindInvalidValue},
		{"subscribe/namespace_0", TypeSubscribe, pb{}.v(1).tuple().str("video").u8(0).u8(0).u8(0).v(1).v(0), KindInvalidValue},
		{"subscribe/namespace_33", TypeSubscribe, pb{}.v(1).tuple(namespaceN(33)...).str("v").u8(0).u8(0).u8(0).v(1).v(0), KindInvalidValue},
		{"subscribe/full_name_4097", TypeSubscribe, pb{}.v(1).tuple(over).str("v").u8(0).u8(0).u8(0).v(1).v(0), KindLimit},
		{"subscribe/field_4097", TypeSubscribe, pb{}.v(1).tuple(over + "x").str("").u8(0).u8(0).u8(0).v(1).v(0), KindLimit},
		{"subscribe/name_4097", TypeSubscribe, pb{}.v(1).tuple("").str(over + "x").u8(0).u8(0).u8(0).v(1).v(0), KindLimit},
		{"subscribe/duplicate_param", TypeSubscribe, subscribeHead(0, 0).v(1).v(2).v(ParamDeliveryTimeout).v(1).v(ParamDeliveryTimeout).v(2), KindDuplicateParameter},
		{"subscribe/bad_token", TypeSubscribe, subscribeHead(0, 0).v(1).v(1).v(ParamAuthorizationToken).v(1).u8(9), KindInvalidParameter},
		{"subscribe/param_count", TypeSubscribe, subscribeHead(0, 0).v(1).v(5).v(2).v(1), KindIncomplete},
		{"track_status/filter_9", TypeTrackStatus, subscribeHead(0, 0).v(9).v(0), KindInvalidValue},
		{"track_status/forward_255", TypeTrackStatus, subscribeHead(1, 255).v(1).v(0), KindInvalidValue},

		{"subscribe_ok/group_order_0", TypeSubscribeOK, pb{}.v(1).v(0).v(0).u8(0).u8(0).v(0), KindInvalidValue},
		{"subscribe_ok/group_order_3", TypeSubscribeOK, pb{}.v(1).v(0).v(0).u8(3).u8(0).v(0), KindInvalidValue},
		{"subscribe_ok/content_exists_2", TypeSubscribeOK, pb{}.v(1).v(0).v(0).u8(1).u8(2).v(0).v(0).v(0), KindInvalidValue},
		{"track_status_ok/group_order_0", TypeTrackStatusOK, pb{}.v(1).v(0).v(0).u8(0).u8(0).v(0), KindInvalidValue},
		{"subscribe_update/forward_2", TypeSubscribeUpdate, pb{}.v(2).v(1).v(5).v(0).v(0).u8(1).u8(2).v(0), KindInvalidValue},

		{"publish/group_order_0", TypePublish, pb{}.v(1).tuple("l").str("v").v(1).u8(0).u8(0).u8(1).v(0), KindInvalidValue},
		{"publish/content_exists_2", TypePublish, pb{}.v(1).tuple("l").str("v").v(1).u8(1).u8(2).u8(1).v(0), KindInvalidValue},
		{"publish/forward_2", TypePublish, pb{}.v(1).tuple("l").str("v").v(1).u8(1).u8(0).u8(2).v(0), KindInvalidValue},
		{"publish/namespace_33", TypePublish, pb{}.v(1).tuple(namespaceN(33)...).str("v").v(1).u8(1).u8(0).u8(1).v(0), KindInvalidValue},
		{"publish_ok/forward_2", TypePublishOK, pb{}.v(1).u8(2).u8(0).u8(1).v(1).v(0), KindInvalidValue},
		{"publish_ok/group_order_0", TypePublishOK, pb{}.v(1).u8(1).u8(0).u8(0).v(1).v(0), KindInvalidValue},
		{"publish_ok/filter_0", TypePublishOK, pb{}.v(1).u8(1).u8(0).u8(1).v(0).v(0), KindInvalidValue},

		{"fetch/type_0", TypeFetch, pb{}.v(1).u8(0).u8(0).v(0).v(0), KindInvalidValue},
		{"fetch/type_4", TypeFetch, pb{}.v(1).u8(0).u8(0).v(4).v(1).v(1).v(0), KindInvalidValue},
		{"fetch/group_order_3", TypeFetch, pb{}.v(1).u8(0).u8(3).v(2).v(1).v(1).v(0), KindInvalidValue},
		{"fetch/full_name_4097", TypeFetch, pb{}.v(1).u8(0).u8(1).v(1).tuple(over).str("v").v(0).v(0).v(1).v(0).v(0), KindLimit},
		{"fetch/namespace_0", TypeFetch, pb{}.v(1).u8(0).u8(1).v(1).tuple().str("v").v(0).v(0).v(1).v(0).v(0), KindInvalidValue},
		{"fetch_ok/group_order_0", TypeFetchOK, pb{}.v(1).u8(0).u8(0).v(5).v(1).v(0), KindInvalidValue},
		{"fetch_ok/end_of_track_2", TypeFetchOK, pb{}.v(1).u8(1).u8(2).v(5).v(1).v(0), KindInvalidValue},

		{"subscribe_error/reason_1025", TypeSubscribeError, pb{}.v(1).v(0).str(longReason + "r"), KindLimit},
		{"fetch_error/reason_utf8", TypeFetchError, pb{}.v(1).v(0).str(badUTF8), KindInvalidValue},
		{"publish_done/reason_1025", TypePublishDone, pb{}.v(1).v(0).v(0).str(longReason + "r"), KindLimit},
		{"publish_namespace_cancel/reason_1025", TypePublishNamespaceCancel, pb{}.tuple("a").v(0).str(longReason + "r"), KindLimit},
		{"publish_namespace_cancel/namespace_0", TypePublishNamespaceCancel, pb{}.tuple().v(0).str(""), KindInvalidValue},
		{"goaway/uri_8193", TypeGoaway, pb{}.str(strings.Repeat("u", MaxNewSessionURILen+1)), KindLimit},

		{"publish_namespace/namespace_0", TypePublishNamespace, pb{}.v(1).tuple().v(0), KindInvalidValue},
		{"publish_namespace/namespace_33", TypePublishNamespace, pb{}.v(1).tuple(namespaceN(33)...).v(0), KindInvalidValue},
		{"publish_namespace_done/namespace_33", TypePublishNamespaceDone, pb{}.tuple(namespaceN(33)...), KindInvalidValue},
		{"subscribe_namespace/prefix_0", TypeSubscribeNamespace, pb{}.v(1).tuple().v(0), KindInvalidValue},
		{"subscribe_namespace/prefix_4097", TypeSubscribeNamespace, pb{}.v(1).tuple(over, "x").v(0), KindLimit},
		{"unsubscribe_namespace/prefix_0", TypeUnsubscribeNamespace, pb{}.tuple(), KindInvalidValue},
		{"unsubscribe_namespace/prefix_33", TypeUnsubscribeNamespace, pb{}.tuple(namespaceN(33)...), KindInvalidValue},
		// Spec, not vector: PUBLISH_NAMESPACE_OK and SUBSCRIBE_NAMESPACE_OK
		// carry no parameters in draft-14.
		{"publish_namespace_ok/params", TypePublishNamespaceOK, pb{}.v(1).v(0), KindInvalidValue},
		{"subscribe_namespace_ok/params", TypeSubscribeNamespaceOK, pb{}.v(1).v(0), KindInvalidValue},
		{"max_request_id/empty", TypeMaxRequestID, pb{}, KindIncomplete},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, n, err := ParseMessage(frame(c.typ, c.payload), Draft14)
			if err == nil {
				t.Fatalf("decoded %#v, want a %v error", m, c.kind)
			}
			if k := KindOf(err); k != c.kind {
				t.Fatalf("error %q has kind %v, want %v", err, k, c.kind)
			}
			if n != 0 || IsNeedMore(err) {
				t.Fatalf("n=%d needMore=%v for a complete, malformed frame", n, IsNeedMore(err))
			}
			if e := err.(*Error); e.Type != uint64(c.typ) {
				t.Fatalf("error Type %#x, want %#x", e.Type, uint64(c.typ))
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	over := strings.Repeat("x", MaxFullTrackName+1)
	bigParams := Params{{Type: 0x1, Bytes: make([]byte, 40000)}, {Type: 0x3, Bytes: make([]byte, 40000)}}
	good := func() *Subscribe {
		return &Subscribe{TrackNamespace: Namespace{"a"}, FilterType: FilterAbsoluteRange}
	}
	with := func(f func(*Subscribe)) *Subscribe { s := good(); f(s); return s }
	cases := []struct {
		name string
		msg  Message
	}{
		{"subscribe/filter_0", with(func(s *Subscribe) { s.FilterType = 0 })},
		{"subscribe/filter_5", with(func(s *Subscribe) { s.FilterType = 5 })},
		{"subscribe/group_order_3", with(func(s *Subscribe) { s.GroupOrder = 3 })},
		{"subscribe/namespace_0", with(func(s *Subscribe) { s.TrackNamespace = nil })},
		{"subscribe/namespace_33", with(func(s *Subscribe) { s.TrackNamespace = namespaceN(33) })},
		{"subscribe/full_name_4097", with(func(s *Subscribe) { s.TrackName = over[:MaxFullTrackName] })},
		{"subscribe/request_id", with(func(s *Subscribe) { s.RequestID = MaxVarint + 1 })},
		{"subscribe/start", with(func(s *Subscribe) { s.Start.Object = MaxVarint + 1 })},
		{"subscribe/end_group", with(func(s *Subscribe) { s.EndGroup = 1 << 63 })},
		{"subscribe/message_too_long", with(func(s *Subscribe) { s.Params = bigParams })},
		{"subscribe/param_too_long", with(func(s *Subscribe) { s.Params = Params{{Type: 1, Bytes: make([]byte, MaxKeyValueLen+1)}} })},
		{"track_status/filter_0", &TrackStatus{TrackNamespace: Namespace{"a"}}},
		{"subscribe_ok/group_order_0", &SubscribeOK{}},
		{"subscribe_ok/expires", &SubscribeOK{GroupOrder: 1, Expires: MaxVarint + 1}},
		{"subscribe_ok/largest", &SubscribeOK{GroupOrder: 1, ContentExists: true, Largest: Location{Group: MaxVarint + 1}}},
		{"track_status_ok/group_order_3", &TrackStatusOK{GroupOrder: 3}},
		{"subscribe_update/end_group", &SubscribeUpdate{EndGroup: MaxVarint + 1}},
		{"publish/group_order_0", &Publish{TrackNamespace: Namespace{"a"}}},
		{"publish/name", &Publish{TrackNamespace: Namespace{"a"}, TrackName: over, GroupOrder: 1}},
		{"publish_ok/filter_0", &PublishOK{GroupOrder: 1}},
		{"publish_ok/group_order_0", &PublishOK{FilterType: FilterLatestObject}},
		{"fetch/type_0", &Fetch{}},
		{"fetch/type_4", &Fetch{FetchType: 4}},
		{"fetch/group_order_3", &Fetch{FetchType: FetchRelativeJoining, GroupOrder: 3}},
		{"fetch/namespace_0", &Fetch{FetchType: FetchStandalone}},
		{"fetch/name", &Fetch{FetchType: FetchStandalone, TrackNamespace: Namespace{over}}},
		{"fetch/end", &Fetch{FetchType: FetchStandalone, TrackNamespace: Namespace{"a"}, End: Location{Group: MaxVarint + 1}}},
		{"fetch/joining_start", &Fetch{FetchType: FetchAbsoluteJoining, JoiningStart: MaxVarint + 1}},
		{"fetch_ok/group_order_0", &FetchOK{}},
		{"subscribe_error/reason_1025", &SubscribeError{ReasonPhrase: longReason + "r"}},
		{"track_status_error/code", &TrackStatusError{ErrorCode: MaxVarint + 1}},
		{"publish_done/reason_1025", &PublishDone{ReasonPhrase: longReason + "r"}},
		{"publish_done/stream_count", &PublishDone{StreamCount: MaxVarint + 1}},
		{"publish_namespace_cancel/reason_1025", &PublishNamespaceCancel{TrackNamespace: Namespace{"a"}, ReasonPhrase: longReason + "r"}},
		{"publish_namespace_cancel/namespace_0", &PublishNamespaceCancel{}},
		{"goaway/uri_8193", &Goaway{NewSessionURI: strings.Repeat("u", MaxNewSessionURILen+1)}},
		{"publish_namespace/namespace_0", &PublishNamespace{}},
		{"publish_namespace_done/namespace_33", &PublishNamespaceDone{TrackNamespace: namespaceN(33)}},
		{"subscribe_namespace/prefix_0", &SubscribeNamespace{}},
		{"subscribe_namespace/prefix_long", &SubscribeNamespace{NamespacePrefix: Namespace{over}}},
		{"unsubscribe_namespace/prefix_33", &UnsubscribeNamespace{NamespacePrefix: namespaceN(33)}},
		{"unsubscribe/request_id", &Unsubscribe{RequestID: MaxVarint + 1}},
		{"max_request_id", &MaxRequestID{RequestID: 1 << 62}},
		{"requests_blocked", &RequestsBlocked{MaxRequestID: 1 << 62}},
	}
	prefix := []byte{0xaa, 0xbb}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := AppendMessage(bytes.Clone(prefix), c.msg, Draft14)
			if err == nil {
				t.Fatalf("encoded %#v as %x, want an error", c.msg, b)
			}
			if !bytes.Equal(b, prefix) {
				t.Fatalf("failed encode left %x in the buffer, want %x", b, prefix)
			}
		})
	}
}

// TestOptionalFieldsNotEncoded checks that fields a discriminator leaves out
// take no bytes: a value with stray optional fields encodes like one without.
func TestOptionalFieldsNotEncoded(t *testing.T) {
	loc := Location{Group: 9, Object: 9}
	pairs := []struct{ stray, clean Message }{
		{&Subscribe{TrackNamespace: Namespace{"a"}, FilterType: FilterLatestObject, Start: loc, EndGroup: 9},
			&Subscribe{TrackNamespace: Namespace{"a"}, FilterType: FilterLatestObject}},
		{&Subscribe{TrackNamespace: Namespace{"a"}, FilterType: FilterAbsoluteStart, Start: loc, EndGroup: 9},
			&Subscribe{TrackNamespace: Namespace{"a"}, FilterType: FilterAbsoluteStart, Start: loc}},
		{&PublishOK{GroupOrder: 1, FilterType: FilterNextGroupStart, Start: loc, EndGroup: 9},
			&PublishOK{GroupOrder: 1, FilterType: FilterNextGroupStart}},
		{&SubscribeOK{GroupOrder: 1, Largest: loc}, &SubscribeOK{GroupOrder: 1}},
		{&Publish{TrackNamespace: Namespace{"a"}, GroupOrder: 1, Largest: loc}, &Publish{TrackNamespace: Namespace{"a"}, GroupOrder: 1}},
		{&Fetch{FetchType: FetchRelativeJoining, TrackNamespace: Namespace{"a"}, TrackName: "b", Start: loc, End: loc},
			&Fetch{FetchType: FetchRelativeJoining}},
		{&Fetch{FetchType: FetchStandalone, TrackNamespace: Namespace{"a"}, JoiningRequestID: 9, JoiningStart: 9},
			&Fetch{FetchType: FetchStandalone, TrackNamespace: Namespace{"a"}}},
	}
	for _, p := range pairs {
		if a, b := mustAppend(t, p.stray), mustAppend(t, p.clean); !bytes.Equal(a, b) {
			t.Errorf("%T: stray optional fields encoded: %x, want %x", p.stray, a, b)
		}
	}
}

// TestDecodeResets checks that DecodePayload into a used value leaves no
// field of the previous message behind: every case is decoded into a value
// that held every other case of its type.
func TestDecodeResets(t *testing.T) {
	cases := roundTripCases()
	for _, prev := range cases {
		for _, c := range cases {
			if c.msg.Type() != prev.msg.Type() || c.msg.Type() == TypeClientSetup {
				continue // CLIENT_SETUP reuses its versions slice by design
			}
			m := Draft14.NewMessage(c.msg.Type())
			for _, from := range []Message{prev.msg, c.msg} {
				if err := m.DecodePayload(payloadOf(t, mustAppend(t, from)), Draft14); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(normalize(m), normalize(c.msg)) {
				t.Fatalf("%s decoded over %s: got %#v", c.name, prev.name, m)
			}
		}
	}
}

// TestMessageLayouts pins the byte layout of messages the vectors do not
// cover.
func TestMessageLayouts(t *testing.T) {
	cases := []struct {
		msg  Message
		want string
	}{
		{&PublishDone{RequestID: 1, StatusCode: DoneSubscriptionEnded, StreamCount: 3, ReasonPhrase: "ok"}, "0b0006010303026f6b"},
		{&FetchError{RequestID: 2, ErrorCode: ReqErrNoObjects, ReasonPhrase: "none"}, "190007020604" + "6e6f6e65"},
		{&TrackStatusError{RequestID: 1, ErrorCode: ReqErrTrackDoesNotExist}, "0f0003010400"},
		{&SubscribeNamespaceOK{RequestID: 3}, "12000103"},
		{&PublishNamespaceOK{RequestID: 1}, "07000101"},
		{&Fetch{RequestID: 1, FetchType: FetchAbsoluteJoining, GroupOrder: GroupOrderDescending, JoiningRequestID: 3, JoiningStart: 64},
			"16000801000203" + "03" + "4040" + "00"},
	}
	for _, c := range cases {
		if got := mustAppend(t, c.msg); !bytes.Equal(got, mustHex(t, c.want)) {
			t.Errorf("%T: got %x, want %s", c.msg, got, c.want)
		}
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
