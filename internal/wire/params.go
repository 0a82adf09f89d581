package wire

import (
	"fmt"
	"time"
)

// KeyValue is one Key-Value-Pair (draft-14 §1.4.2). The Type's parity decides
// the form: an even Type carries a varint in Value, an odd Type carries bytes
// in Bytes. Parameters and extension headers both use it.
type KeyValue struct {
	Type  uint64
	Value uint64 // even Type
	Bytes []byte // odd Type
}

// IsBytes reports whether the pair carries bytes (odd Type).
func (kv KeyValue) IsBytes() bool { return kv.Type&1 == 1 }

// Setup parameter types (draft-14 §9.3.2). Setup parameters use a namespace
// that is constant across versions.
const (
	SetupPath                  uint64 = 0x01
	SetupMaxRequestID          uint64 = 0x02
	SetupAuthorizationToken    uint64 = 0x03
	SetupMaxAuthTokenCacheSize uint64 = 0x04
	SetupAuthority             uint64 = 0x05
	// SetupMOQTImplementation: draft-14 §9.3.2.6 gives it type 0x05, the same
	// as AUTHORITY, which cannot be (and 0x05 is AUTHORITY in the conformance
	// vectors). moqgo uses 0x07, the value later drafts assign.
	SetupMOQTImplementation uint64 = 0x07
)

// Version-specific parameter types for non-setup messages (draft-14 §9.2.1).
const (
	ParamDeliveryTimeout    uint64 = 0x02
	ParamAuthorizationToken uint64 = 0x03
	ParamMaxCacheDuration   uint64 = 0x04
)

// Params is an ordered list of version-specific message parameters. Unknown
// parameters are kept as received, so that a relay can forward them.
type Params []KeyValue

// SetupParams is an ordered list of CLIENT_SETUP / SERVER_SETUP parameters.
type SetupParams []KeyValue

func kvFind(kvs []KeyValue, t uint64) (KeyValue, bool) {
	for _, kv := range kvs {
		if kv.Type == t {
			return kv, true
		}
	}
	return KeyValue{}, false
}

func kvSet(kvs []KeyValue, kv KeyValue) []KeyValue {
	for i := range kvs {
		if kvs[i].Type == kv.Type {
			kvs[i] = kv
			return kvs
		}
	}
	return append(kvs, kv)
}

func kvUint(kvs []KeyValue, t uint64) (uint64, bool) {
	kv, ok := kvFind(kvs, t)
	return kv.Value, ok && !kv.IsBytes()
}

func kvBytes(kvs []KeyValue, t uint64) ([]byte, bool) {
	kv, ok := kvFind(kvs, t)
	return kv.Bytes, ok && kv.IsBytes()
}

func kvTokens(kvs []KeyValue, t uint64) ([]AuthToken, error) {
	var toks []AuthToken
	for _, kv := range kvs {
		if kv.Type != t {
			continue
		}
		tok, err := ParseAuthToken(kv.Bytes)
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok)
	}
	return toks, nil
}

// Get returns the first parameter of type t.
func (p Params) Get(t uint64) (KeyValue, bool) { return kvFind(p, t) }

// Uint returns the varint value of the even-typed parameter t.
func (p Params) Uint(t uint64) (uint64, bool) { return kvUint(p, t) }

// BytesValue returns the value of the odd-typed parameter t.
func (p Params) BytesValue(t uint64) ([]byte, bool) { return kvBytes(p, t) }

// Set replaces the first parameter of kv.Type or appends kv.
func (p *Params) Set(kv KeyValue) { *p = kvSet(*p, kv) }

// DeliveryTimeout returns the DELIVERY TIMEOUT parameter (§9.2.1.2).
func (p Params) DeliveryTimeout() (time.Duration, bool) {
	v, ok := p.Uint(ParamDeliveryTimeout)
	return msDuration(v), ok
}

// SetDeliveryTimeout sets the DELIVERY TIMEOUT parameter, in whole milliseconds.
func (p *Params) SetDeliveryTimeout(d time.Duration) {
	p.Set(KeyValue{Type: ParamDeliveryTimeout, Value: uint64(d.Milliseconds())})
}

// MaxCacheDuration returns the MAX CACHE DURATION parameter (§9.2.1.3).
func (p Params) MaxCacheDuration() (time.Duration, bool) {
	v, ok := p.Uint(ParamMaxCacheDuration)
	return msDuration(v), ok
}

// SetMaxCacheDuration sets the MAX CACHE DURATION parameter, in whole milliseconds.
func (p *Params) SetMaxCacheDuration(d time.Duration) {
	p.Set(KeyValue{Type: ParamMaxCacheDuration, Value: uint64(d.Milliseconds())})
}

// AuthorizationTokens returns every AUTHORIZATION TOKEN parameter (§9.2.1.1),
// which may repeat.
func (p Params) AuthorizationTokens() ([]AuthToken, error) {
	return kvTokens(p, ParamAuthorizationToken)
}

// AddAuthorizationToken appends an AUTHORIZATION TOKEN parameter.
func (p *Params) AddAuthorizationToken(t AuthToken) error {
	b, err := t.Append(nil)
	if err != nil {
		return err
	}
	*p = append(*p, KeyValue{Type: ParamAuthorizationToken, Bytes: b})
	return nil
}

// Get returns the first parameter of type t.
func (p SetupParams) Get(t uint64) (KeyValue, bool) { return kvFind(p, t) }

// Uint returns the varint value of the even-typed parameter t.
func (p SetupParams) Uint(t uint64) (uint64, bool) { return kvUint(p, t) }

// BytesValue returns the value of the odd-typed parameter t.
func (p SetupParams) BytesValue(t uint64) ([]byte, bool) { return kvBytes(p, t) }

// Set replaces the first parameter of kv.Type or appends kv.
func (p *SetupParams) Set(kv KeyValue) { *p = kvSet(*p, kv) }

// Path returns the PATH parameter (§9.3.2.2).
func (p SetupParams) Path() (string, bool) {
	b, ok := p.BytesValue(SetupPath)
	return string(b), ok
}

// SetPath sets the PATH parameter.
func (p *SetupParams) SetPath(path string) {
	p.Set(KeyValue{Type: SetupPath, Bytes: []byte(path)})
}

// Authority returns the AUTHORITY parameter (§9.3.2.1).
func (p SetupParams) Authority() (string, bool) {
	b, ok := p.BytesValue(SetupAuthority)
	return string(b), ok
}

// SetAuthority sets the AUTHORITY parameter.
func (p *SetupParams) SetAuthority(a string) {
	p.Set(KeyValue{Type: SetupAuthority, Bytes: []byte(a)})
}

// MaxRequestID returns the MAX_REQUEST_ID parameter (§9.3.2.3); absent means 0.
func (p SetupParams) MaxRequestID() (uint64, bool) { return p.Uint(SetupMaxRequestID) }

// SetMaxRequestID sets the MAX_REQUEST_ID parameter.
func (p *SetupParams) SetMaxRequestID(id uint64) {
	p.Set(KeyValue{Type: SetupMaxRequestID, Value: id})
}

// MaxAuthTokenCacheSize returns the MAX_AUTH_TOKEN_CACHE_SIZE parameter (§9.3.2.4).
func (p SetupParams) MaxAuthTokenCacheSize() (uint64, bool) {
	return p.Uint(SetupMaxAuthTokenCacheSize)
}

// SetMaxAuthTokenCacheSize sets the MAX_AUTH_TOKEN_CACHE_SIZE parameter.
func (p *SetupParams) SetMaxAuthTokenCacheSize(n uint64) {
	p.Set(KeyValue{Type: SetupMaxAuthTokenCacheSize, Value: n})
}

// Implementation returns the MOQT IMPLEMENTATION parameter (§9.3.2.6).
func (p SetupParams) Implementation() (string, bool) {
	b, ok := p.BytesValue(SetupMOQTImplementation)
	return string(b), ok
}

// SetImplementation sets the MOQT IMPLEMENTATION parameter.
func (p *SetupParams) SetImplementation(s string) {
	p.Set(KeyValue{Type: SetupMOQTImplementation, Bytes: []byte(s)})
}

// AuthorizationTokens returns every AUTHORIZATION TOKEN setup parameter.
func (p SetupParams) AuthorizationTokens() ([]AuthToken, error) {
	return kvTokens(p, SetupAuthorizationToken)
}

// AddAuthorizationToken appends an AUTHORIZATION TOKEN setup parameter.
func (p *SetupParams) AddAuthorizationToken(t AuthToken) error {
	b, err := t.Append(nil)
	if err != nil {
		return err
	}
	*p = append(*p, KeyValue{Type: SetupAuthorizationToken, Bytes: b})
	return nil
}

func msDuration(ms uint64) time.Duration {
	const max = uint64(1<<63-1) / uint64(time.Millisecond)
	if ms > max {
		ms = max
	}
	return time.Duration(ms) * time.Millisecond
}

// Alias types of the Token structure (draft-14 §9.2.1.1).
const (
	AliasDelete   uint64 = 0x0
	AliasRegister uint64 = 0x1
	AliasUseAlias uint64 = 0x2
	AliasUseValue uint64 = 0x3
)

// AuthToken is the Token structure carried by AUTHORIZATION TOKEN.
// Which fields are meaningful depends on AliasType.
type AuthToken struct {
	AliasType uint64
	Alias     uint64 // DELETE, REGISTER, USE_ALIAS
	TokenType uint64 // REGISTER, USE_VALUE
	Value     []byte // REGISTER, USE_VALUE
}

// Append appends the Token structure to b.
func (t AuthToken) Append(b []byte) ([]byte, error) {
	b = appendVarint(b, t.AliasType)
	var err error
	switch t.AliasType {
	case AliasDelete, AliasUseAlias:
		return AppendVarint(b, t.Alias)
	case AliasRegister:
		if b, err = AppendVarint(b, t.Alias); err != nil {
			return b, err
		}
		fallthrough
	case AliasUseValue:
		if b, err = AppendVarint(b, t.TokenType); err != nil {
			return b, err
		}
		return append(b, t.Value...), nil
	}
	return b, fmt.Errorf("moq wire: unknown token alias type %d", t.AliasType)
}

// ParseAuthToken decodes a Token structure from the whole of b. The Value
// aliases b. A malformed token fails with KindInvalidParameter.
func ParseAuthToken(b []byte) (AuthToken, error) {
	d := decoder{b: b}
	var t AuthToken
	t.AliasType = d.varint("alias_type")
	switch t.AliasType {
	case AliasDelete, AliasUseAlias:
		t.Alias = d.varint("token_alias")
	case AliasRegister:
		t.Alias = d.varint("token_alias")
		t.TokenType = d.varint("token_type")
		t.Value = d.raw("token_value", uint64(d.remaining()))
	case AliasUseValue:
		t.TokenType = d.varint("token_type")
		t.Value = d.raw("token_value", uint64(d.remaining()))
	default:
		if d.err == nil {
			d.fail(errInvalid("alias_type", "unknown alias type %d", t.AliasType))
		}
	}
	if err := d.done(); err != nil {
		e := *(err.(*Error))
		e.Kind = KindInvalidParameter
		e.needMore = false
		return AuthToken{}, &e
	}
	return t, nil
}

// appendKVs appends a count followed by the pairs.
func appendKVs(b []byte, kvs []KeyValue) ([]byte, error) {
	b = appendVarint(b, uint64(len(kvs)))
	for _, kv := range kvs {
		var err error
		if b, err = appendKV(b, kv); err != nil {
			return b, err
		}
	}
	return b, nil
}

func appendKV(b []byte, kv KeyValue) ([]byte, error) {
	b, err := AppendVarint(b, kv.Type)
	if err != nil {
		return b, err
	}
	if !kv.IsBytes() {
		return AppendVarint(b, kv.Value)
	}
	if len(kv.Bytes) > MaxKeyValueLen {
		return b, errLimit("parameter", "value of type %#x is %d bytes, the maximum is %d", kv.Type, len(kv.Bytes), MaxKeyValueLen)
	}
	b = appendVarint(b, uint64(len(kv.Bytes)))
	return append(b, kv.Bytes...), nil
}

// kv reads one Key-Value-Pair. Byte values are copied: control messages
// never alias the buffer they were decoded from. An error names the
// parameters field (not "field.type", which would allocate on every read).
func (d *decoder) kv(field string) KeyValue {
	var kv KeyValue
	kv.Type = d.varint(field)
	if kv.IsBytes() {
		if p := d.bytes(field, MaxKeyValueLen); p != nil {
			kv.Bytes = append(make([]byte, 0, len(p)), p...)
		}
	} else {
		kv.Value = d.varint(field)
	}
	return kv
}

// paramRules says which known parameter types may appear once only, and how
// to validate them. It is a table per parameter namespace.
type paramRules struct {
	single map[uint64]bool // known types that must not repeat
	token  uint64          // the AUTHORIZATION TOKEN type, validated on decode
}

var (
	setupRules = paramRules{
		single: map[uint64]bool{SetupPath: true, SetupMaxRequestID: true, SetupMaxAuthTokenCacheSize: true,
			SetupAuthority: true, SetupMOQTImplementation: true},
		token: SetupAuthorizationToken,
	}
	messageRules = paramRules{
		single: map[uint64]bool{ParamDeliveryTimeout: true, ParamMaxCacheDuration: true},
		token:  ParamAuthorizationToken,
	}
)

// kvs reads Number of Parameters followed by that many pairs, checking the
// rules. The number of pairs is bounded by the input: each takes two bytes at
// least, so a hostile count cannot make the decoder allocate ahead.
func (d *decoder) kvs(field string, rules paramRules) []KeyValue {
	n := d.varint(field)
	if d.err != nil {
		return nil
	}
	if n > uint64(d.remaining())/2 {
		// Not enough input for that many pairs: read what is there, which fails.
		n = uint64(d.remaining())/2 + 1
	}
	var kvs []KeyValue
	for i := uint64(0); i < n && d.err == nil; i++ {
		kv := d.kv(field)
		if d.err != nil {
			return nil
		}
		if rules.single[kv.Type] {
			if _, dup := kvFind(kvs, kv.Type); dup {
				d.fail(&Error{Kind: KindDuplicateParameter, Field: field, Detail: fmt.Sprintf("parameter %#x repeated", kv.Type)})
				return nil
			}
		}
		if kv.Type == rules.token {
			if _, err := ParseAuthToken(kv.Bytes); err != nil {
				d.fail(err.(*Error))
				return nil
			}
		}
		kvs = append(kvs, kv)
	}
	return kvs
}

func (d *decoder) params(field string) Params { return Params(d.kvs(field, messageRules)) }

func (d *decoder) setupParams(field string) SetupParams {
	return SetupParams(d.kvs(field, setupRules))
}
