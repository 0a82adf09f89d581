package wire

import (
	"testing"
	"time"
)

// benchSubscribe is a typical SUBSCRIBE: a three-field namespace, an
// absolute range and one parameter.
func benchSubscribe() *Subscribe {
	m := &Subscribe{
		RequestID:          42,
		TrackNamespace:     Namespace{"example.com", "meeting=123", "participant=100"},
		TrackName:          "video/hd",
		SubscriberPriority: 128,
		GroupOrder:         GroupOrderAscending,
		Forward:            true,
		FilterType:         FilterAbsoluteRange,
		Start:              Location{Group: 1000},
		EndGroup:           2000,
	}
	m.Params.SetDeliveryTimeout(5 * time.Second)
	return m
}

func BenchmarkSubscribeEncode(b *testing.B) {
	m := benchSubscribe()
	buf := mustAppend(b, m)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendMessage(buf[:0], m, Draft14); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSubscribeDecode(b *testing.B) {
	enc := mustAppend(b, benchSubscribe())
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseMessage(enc, Draft14); err != nil {
			b.Fatal(err)
		}
	}
}
