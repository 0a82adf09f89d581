package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The conformance vector runner. It loads every *.json vector file under the
// shared draft-14 set and under each directory in $MOQ_VECTORS
// (colon-separated), maps the file's message_type to a codec adapter and
// checks each vector as ../shared/README.md describes:
//
//   - a valid vector passes when decode(hex) yields every key/value of its
//     "decoded" object and, unless canonical is false, encode(decoded) == hex;
//   - an error vector passes when decode fails with an error of its category.
//
// Unknown message types and unknown field names are failures, never skips.

// sharedVectors is the shared set, relative to this package's directory.
const sharedVectors = "../../../shared/vectors/moqt-draft14"

type vectorFile struct {
	MessageType   string   `json:"message_type"`
	MessageTypeID string   `json:"message_type_id"`
	Vectors       []vector `json:"vectors"`
}

type vector struct {
	ID          string         `json:"id"`
	Description string         `json:"description"`
	Hex         string         `json:"hex"`
	Decoded     map[string]any `json:"decoded"`
	Canonical   *bool          `json:"canonical"`
	Error       string         `json:"error"`
	ErrorDetail string         `json:"error_detail"`
}

// vectorCodec adapts one message_type's codec to the vectors' JSON form.
// Values in the maps are what encoding/json produces: strings for integers,
// []any for arrays, map[string]any for objects.
type vectorCodec interface {
	// decode decodes b, which holds exactly one unit, into the JSON form.
	decode(b []byte) (map[string]any, error)
	// encode builds the unit from the JSON form. Unknown keys are an error.
	encode(fields map[string]any) ([]byte, error)
}

// vectorCodecs maps a file's message_type to its adapter. The message and
// data stream adapter files register themselves here in init functions.
var vectorCodecs = map[string]vectorCodec{}

// vectorDeviations lists vectors that contradict the spec, keyed by the name
// the runner reports ("<file name>/<vector id>"). Where a vector and the spec
// disagree the spec wins: the runner checks such a vector as an error vector
// of the category the spec requires and logs the reason. An entry applies only
// while the vector's hex is the one recorded, so that it never covers a
// different vector of the same name. Adapter files add entries in init
// functions, citing the spec.
var vectorDeviations = map[string]vectorDeviation{}

type vectorDeviation struct {
	Hex    string // the vector's hex
	Error  string // the error category the spec requires
	Reason string // why, citing the spec
}

func vectorDirs(t *testing.T) []string {
	dirs := []string{sharedVectors}
	if env := os.Getenv("MOQ_VECTORS"); env != "" {
		for _, d := range strings.Split(env, ":") {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("vector directory %s: %v", d, err)
		}
	}
	return dirs
}

func loadVectorFiles(t *testing.T) map[string]vectorFile {
	files := map[string]vectorFile{}
	for _, dir := range vectorDirs(t) {
		err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if de.IsDir() || !strings.HasSuffix(path, ".json") {
				return nil
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var probe map[string]json.RawMessage
			if err := json.Unmarshal(raw, &probe); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if _, ok := probe["vectors"]; !ok {
				return nil // meta.json and schemas are not vector files
			}
			var vf vectorFile
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&vf); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			files[path] = vf
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func TestVectors(t *testing.T) {
	files := loadVectorFiles(t)
	if len(files) == 0 {
		t.Fatal("no vector files found")
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	passed, failed := 0, 0
	for _, path := range paths {
		vf := files[path]
		codec := vectorCodecs[vf.MessageType]
		for _, v := range vf.Vectors {
			name := fmt.Sprintf("%s/%s", filepath.Base(path), v.ID)
			if dev, ok := vectorDeviations[name]; ok && dev.Hex == v.Hex {
				t.Logf("%s contradicts the spec, checked as an error of category %s instead: %s", name, dev.Error, dev.Reason)
				v.Decoded, v.Canonical, v.Error = nil, nil, dev.Error
			}
			var err error
			if codec == nil {
				err = fmt.Errorf("no codec for message_type %q", vf.MessageType)
			} else {
				err = checkVector(codec, v)
			}
			if err != nil {
				failed++
				t.Errorf("%s (%s): %v", name, v.Description, err)
			} else {
				passed++
			}
		}
	}
	t.Logf("%d vector files", len(files))
	fmt.Printf("vectors: %d passed, %d failed\n", passed, failed)
}

func checkVector(c vectorCodec, v vector) error {
	b, err := hex.DecodeString(v.Hex)
	if err != nil {
		return fmt.Errorf("bad hex: %v", err)
	}
	if v.Error != "" {
		got, err := c.decode(b)
		if err == nil {
			return fmt.Errorf("decode succeeded (%v), want %s error", got, v.Error)
		}
		if k := KindOf(err); k.String() != v.Error {
			return fmt.Errorf("decode error %q has category %q, want %q", err, k, v.Error)
		}
		return nil
	}
	if v.Decoded == nil {
		return fmt.Errorf("vector has neither decoded nor error")
	}
	want := normalizeJSON(v.Decoded).(map[string]any)
	got, err := c.decode(b)
	if err != nil {
		return fmt.Errorf("decode: %v", err)
	}
	if err := matchJSON("", want, normalizeJSON(got)); err != nil {
		return fmt.Errorf("decode: %v", err)
	}
	if v.Canonical != nil && !*v.Canonical {
		return nil
	}
	enc, err := c.encode(want)
	if err != nil {
		return fmt.Errorf("encode: %v", err)
	}
	if !bytes.Equal(enc, b) {
		return fmt.Errorf("encode:\n got %x\nwant %x", enc, b)
	}
	return nil
}

// normalizeJSON turns a value into the form encoding/json produces, so that
// adapters may return uint64s, []string and such.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeJSON(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeJSON(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case uint64:
		return strconv.FormatUint(x, 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		return x
	case string:
		return x
	case nil:
		return nil
	}
	panic(fmt.Sprintf("normalizeJSON: unexpected %T", v))
}

// matchJSON checks that got has every key of want with an equal value;
// objects are matched the same way recursively, arrays element by element.
func matchJSON(path string, want, got any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %v, want an object", path, got)
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s.%s: field not produced by the decoder (unknown field name?)", path, k)
			}
			if err := matchJSON(path+"."+k, w[k], gv); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, want %v", path, got, want)
		}
		for i := range w {
			if err := matchJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("%s: got %v, want %v", path, got, want)
	}
	return nil
}

// jsonFields is a helper for adapters' encode: it hands out fields by name
// and reports the ones never asked for, so unknown field names fail.
type jsonFields struct {
	m    map[string]any
	used map[string]bool
	err  error
}

func newJSONFields(m map[string]any) *jsonFields {
	return &jsonFields{m: m, used: map[string]bool{}}
}

func (f *jsonFields) fail(format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf(format, args...)
	}
}

func (f *jsonFields) has(k string) bool { _, ok := f.m[k]; return ok }

func (f *jsonFields) raw(k string) any {
	f.used[k] = true
	v, ok := f.m[k]
	if !ok {
		f.fail("missing field %q", k)
	}
	return v
}

func (f *jsonFields) u64(k string) uint64 {
	s, _ := f.raw(k).(string)
	return parseJSONUint(f, k, s)
}

// optU64 returns the value and true if k is present.
func (f *jsonFields) optU64(k string) (uint64, bool) {
	if !f.has(k) {
		f.used[k] = true
		return 0, false
	}
	return f.u64(k), true
}

func parseJSONUint(f *jsonFields, k, s string) uint64 {
	base := 10
	if strings.HasPrefix(s, "0x") {
		s, base = s[2:], 16
	}
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		f.fail("field %q: %v", k, err)
	}
	return v
}

func (f *jsonFields) str(k string) string {
	s, ok := f.raw(k).(string)
	if !ok && f.err == nil {
		f.fail("field %q is not a string", k)
	}
	return s
}

func (f *jsonFields) hexBytes(k string) []byte {
	b, err := hex.DecodeString(f.str(k))
	if err != nil {
		f.fail("field %q: %v", k, err)
	}
	return b
}

func (f *jsonFields) namespace(k string) Namespace {
	arr, ok := f.raw(k).([]any)
	if !ok && f.err == nil {
		f.fail("field %q is not an array", k)
	}
	ns := Namespace{}
	for _, e := range arr {
		s, _ := e.(string)
		ns = append(ns, s)
	}
	return ns
}

func (f *jsonFields) location(k string) Location {
	m, ok := f.raw(k).(map[string]any)
	if !ok {
		f.fail("field %q is not an object", k)
		return Location{}
	}
	sub := newJSONFields(m)
	l := Location{Group: sub.u64("group"), Object: sub.u64("object")}
	if err := sub.finish(); err != nil {
		f.fail("field %q: %v", k, err)
	}
	return l
}

func (f *jsonFields) params(k string) Params {
	m, ok := f.raw(k).(map[string]any)
	if !ok {
		f.fail("field %q is not an object", k)
		return nil
	}
	kvs, err := paramsFromJSON(m, messageParamNames)
	if err != nil {
		f.fail("field %q: %v", k, err)
	}
	return Params(kvs)
}

func (f *jsonFields) setupParams(k string) SetupParams {
	m, ok := f.raw(k).(map[string]any)
	if !ok {
		f.fail("field %q is not an object", k)
		return nil
	}
	kvs, err := paramsFromJSON(m, setupParamNames)
	if err != nil {
		f.fail("field %q: %v", k, err)
	}
	return SetupParams(kvs)
}

// finish reports the first error, or any key that was never read.
func (f *jsonFields) finish() error {
	if f.err != nil {
		return f.err
	}
	var unknown []string
	for k := range f.m {
		if !f.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown field names %v", unknown)
	}
	return nil
}

// Parameter names used by the vectors (the spec's names in snake_case).
var (
	messageParamNames = map[string]uint64{
		"delivery_timeout":    ParamDeliveryTimeout,
		"authorization_token": ParamAuthorizationToken,
		"max_cache_duration":  ParamMaxCacheDuration,
	}
	setupParamNames = map[string]uint64{
		"path":                      SetupPath,
		"max_request_id":            SetupMaxRequestID,
		"authorization_token":       SetupAuthorizationToken,
		"max_auth_token_cache_size": SetupMaxAuthTokenCacheSize,
		"authority":                 SetupAuthority,
		"moqt_implementation":       SetupMOQTImplementation,
	}
)

func paramName(names map[string]uint64, t uint64) string {
	for n, v := range names {
		if v == t {
			return n
		}
	}
	return ""
}

// paramsToJSON renders parameters the way the vectors do: known ones keyed by
// name (strings for byte values, a token object for AUTHORIZATION TOKEN),
// unknown ones as a list under "unknown".
func paramsToJSON(kvs []KeyValue, names map[string]uint64) map[string]any {
	out := map[string]any{}
	var unknown []any
	for _, kv := range kvs {
		name := paramName(names, kv.Type)
		switch {
		case name == "":
			u := map[string]any{"id": fmt.Sprintf("0x%x", kv.Type)}
			if kv.IsBytes() {
				u["length"] = strconv.Itoa(len(kv.Bytes))
				u["raw_hex"] = hex.EncodeToString(kv.Bytes)
			} else {
				u["value"] = strconv.FormatUint(kv.Value, 10)
			}
			unknown = append(unknown, u)
		case name == "authorization_token":
			tok, err := ParseAuthToken(kv.Bytes)
			if err != nil {
				out[name] = "invalid: " + err.Error()
				continue
			}
			tm := map[string]any{"alias_type": strconv.FormatUint(tok.AliasType, 10)}
			switch tok.AliasType {
			case AliasDelete, AliasUseAlias:
				tm["token_alias"] = strconv.FormatUint(tok.Alias, 10)
			case AliasRegister:
				tm["token_alias"] = strconv.FormatUint(tok.Alias, 10)
				fallthrough
			case AliasUseValue:
				tm["token_type"] = strconv.FormatUint(tok.TokenType, 10)
				tm["token_value"] = hex.EncodeToString(tok.Value)
			}
			out[name] = tm
		case kv.IsBytes():
			out[name] = string(kv.Bytes)
		default:
			out[name] = strconv.FormatUint(kv.Value, 10)
		}
	}
	if unknown != nil {
		out["unknown"] = unknown
	}
	return out
}

func paramsFromJSON(m map[string]any, names map[string]uint64) ([]KeyValue, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // JSON objects are unordered: vectors hold at most one known parameter each
	var kvs []KeyValue
	for _, k := range keys {
		v := m[k]
		if k == "unknown" {
			arr, _ := v.([]any)
			for _, e := range arr {
				um, _ := e.(map[string]any)
				f := newJSONFields(um)
				kv := KeyValue{Type: f.u64("id")}
				if kv.IsBytes() {
					f.u64("length")
					kv.Bytes = f.hexBytes("raw_hex")
				} else {
					kv.Value = f.u64("value")
				}
				if err := f.finish(); err != nil {
					return nil, fmt.Errorf("unknown parameter: %v", err)
				}
				kvs = append(kvs, kv)
			}
			continue
		}
		t, ok := names[k]
		if !ok {
			return nil, fmt.Errorf("unknown parameter name %q", k)
		}
		kv := KeyValue{Type: t}
		switch {
		case k == "authorization_token":
			tm, _ := v.(map[string]any)
			f := newJSONFields(tm)
			var tok AuthToken
			tok.AliasType = f.u64("alias_type")
			tok.Alias, _ = f.optU64("token_alias")
			tok.TokenType, _ = f.optU64("token_type")
			if f.has("token_value") {
				tok.Value = f.hexBytes("token_value")
			}
			if err := f.finish(); err != nil {
				return nil, fmt.Errorf("authorization_token: %v", err)
			}
			b, err := tok.Append(nil)
			if err != nil {
				return nil, err
			}
			kv.Bytes = b
		case kv.IsBytes():
			s, _ := v.(string)
			kv.Bytes = []byte(s)
		default:
			s, _ := v.(string)
			f := newJSONFields(nil)
			kv.Value = parseJSONUint(f, k, s)
			if f.err != nil {
				return nil, f.err
			}
		}
		kvs = append(kvs, kv)
	}
	return kvs, nil
}

// messageCodec adapts a control message type to the vectors. The vector's
// hex is a whole framed message; toJSON/fromJSON convert the payload fields.
type messageCodec struct {
	typ      MessageType
	toJSON   func(m Message) map[string]any
	fromJSON func(f *jsonFields) Message
}

func (c messageCodec) decode(b []byte) (map[string]any, error) {
	m, n, err := ParseMessage(b, Draft14)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("decoded %d of %d bytes", n, len(b))
	}
	if m.Type() != c.typ {
		return nil, fmt.Errorf("decoded a %v, want %v", m.Type(), c.typ)
	}
	return c.toJSON(m), nil
}

func (c messageCodec) encode(fields map[string]any) ([]byte, error) {
	f := newJSONFields(fields)
	m := c.fromJSON(f)
	if err := f.finish(); err != nil {
		return nil, err
	}
	return AppendMessage(nil, m, Draft14)
}

// unknownMessageCodec serves vector files of message_type "unknown": any
// message whose type the version does not define.
type unknownMessageCodec struct{}

func (unknownMessageCodec) decode(b []byte) (map[string]any, error) {
	m, _, err := ParseMessage(b, Draft14)
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("decoded a %v from an unknown-type vector", m.Type())
}

func (unknownMessageCodec) encode(map[string]any) ([]byte, error) {
	return nil, fmt.Errorf("unknown messages cannot be encoded")
}

func registerMessageCodec(name string, c messageCodec) {
	if _, dup := vectorCodecs[name]; dup {
		panic("duplicate vector codec " + name)
	}
	vectorCodecs[name] = c
}

func init() {
	vectorCodecs["unknown"] = unknownMessageCodec{}
	registerMessageCodec("client_setup", messageCodec{
		typ: TypeClientSetup,
		toJSON: func(m Message) map[string]any {
			cs := m.(*ClientSetup)
			vs := make([]any, len(cs.SupportedVersions))
			for i, v := range cs.SupportedVersions {
				vs[i] = strconv.FormatUint(uint64(v), 10)
			}
			return map[string]any{"supported_versions": vs, "parameters": paramsToJSON(cs.Params, setupParamNames)}
		},
		fromJSON: func(f *jsonFields) Message {
			cs := &ClientSetup{Params: f.setupParams("parameters")}
			arr, _ := f.raw("supported_versions").([]any)
			for _, e := range arr {
				s, _ := e.(string)
				cs.SupportedVersions = append(cs.SupportedVersions, Version(parseJSONUint(f, "supported_versions", s)))
			}
			return cs
		},
	})
	registerMessageCodec("server_setup", messageCodec{
		typ: TypeServerSetup,
		toJSON: func(m Message) map[string]any {
			ss := m.(*ServerSetup)
			return map[string]any{
				"selected_version": strconv.FormatUint(uint64(ss.SelectedVersion), 10),
				"parameters":       paramsToJSON(ss.Params, setupParamNames),
			}
		},
		fromJSON: func(f *jsonFields) Message {
			return &ServerSetup{SelectedVersion: Version(f.u64("selected_version")), Params: f.setupParams("parameters")}
		},
	})
}

// varintCodec serves message_type "varint": one QUIC varint, {"value": ...}.
type varintCodec struct{}

func (varintCodec) decode(b []byte) (map[string]any, error) {
	v, n, err := ParseVarint(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("decoded %d of %d bytes", n, len(b))
	}
	return map[string]any{"value": strconv.FormatUint(v, 10)}, nil
}

func (varintCodec) encode(fields map[string]any) ([]byte, error) {
	f := newJSONFields(fields)
	v := f.u64("value")
	if err := f.finish(); err != nil {
		return nil, err
	}
	return AppendVarint(nil, v)
}

func init() { vectorCodecs["varint"] = varintCodec{} }
