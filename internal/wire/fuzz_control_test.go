package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzControlMessage checks that ParseMessage never panics and that whatever
// it accepts survives a round trip: re-encoding decodes to an equal message,
// and encoding that again gives the same bytes.
func FuzzControlMessage(f *testing.F) {
	for _, b := range messageVectorBytes(f) {
		f.Add(b)
	}
	for _, c := range roundTripCases() {
		if b := mustAppend(f, c.msg); len(b) <= 1024 { // long names are for the unit tests
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := ParseMessage(b, Draft14)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a codec error", err)
			}
			if n != 0 && e.Kind != KindUnknownMessage {
				t.Fatalf("failed decode consumed %d bytes", n)
			}
			return
		}
		if n < 3 || n > len(b) {
			t.Fatalf("decode consumed %d of %d bytes", n, len(b))
		}
		enc, err := AppendMessage(nil, m, Draft14)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", m, err)
		}
		m2, n2, err := ParseMessage(enc, Draft14)
		if err != nil || n2 != len(enc) {
			t.Fatalf("decoding the re-encoding %x: n=%d err=%v", enc, n2, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n got %#v\nwant %#v", m2, m)
		}
		if enc2, err := AppendMessage(nil, m2, Draft14); err != nil || !bytes.Equal(enc2, enc) {
			t.Fatalf("encoding is not stable: %x then %x (%v)", enc, enc2, err)
		}
	})
}

// messageVectorBytes returns the wire bytes of every control message vector.
func messageVectorBytes(t testing.TB) [][]byte {
	paths, err := filepath.Glob(filepath.Join(sharedVectors, "messages", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no message vectors under %s: %v", sharedVectors, err)
	}
	var out [][]byte
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var vf struct {
			Vectors []struct {
				Hex string `json:"hex"`
			} `json:"vectors"`
		}
		if err := json.Unmarshal(raw, &vf); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, v := range vf.Vectors {
			b, err := hex.DecodeString(v.Hex)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			out = append(out, b)
		}
	}
	return out
}
