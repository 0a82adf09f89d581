// Package wire encodes and decodes the IETF MoQ Transport wire format.
//
// The package is the only place in moqgo that knows how bytes look on the
// wire. Everything above it (package moqt, the relay, the tools) works with
// the Go values defined here and never with raw bytes, so that a new draft of
// the protocol is supported by adding tables and small functions here rather
// than by forking the session logic.
//
// # Versions
//
// Every encode and decode function takes a [Version]. Draft-14
// ([Draft14], 0xff00000e) is the first supported version. Differences between
// drafts are expressed as data: the message type table of a version
// ([Version.MessageTypes]) and per-message branches on the version where a
// field layout changed.
//
// # Control messages
//
// Control messages are framed as Type (varint), Length (16 bits), Payload
// (draft-14 §9). [AppendMessage] frames a [Message]; [ParseMessage] and
// [ReadMessage] take one off a buffer or a stream. An unknown message type is
// reported as an [*Error] of kind [KindUnknownMessage] together with the type,
// so the session can decide what to do with it.
//
// # Data streams and datagrams
//
// Subgroup streams, fetch streams and datagrams (draft-14 §10) are decoded
// header by header from a buffered reader. The object header paths allocate
// nothing: extension headers are kept as the raw bytes received (so that a
// relay forwards them byte for byte) and payloads are never copied by the codec
// unless the caller asks for it.
//
// A receiver reads the stream type with [ReadStreamType], then the header
// with [ReadSubgroupHeader] or [ReadFetchHeader], then objects with
// [SubgroupReader.ReadObject] or [FetchReader.ReadObject] until io.EOF,
// reading or skipping each payload itself. A sender appends the header and
// then each object's header with [SubgroupWriter] or [FetchWriter] and writes
// the payload after it. Datagrams are whole: [ParseDatagram] and
// [AppendDatagram].
//
// # Errors
//
// Decode errors are [*Error] values with a [ErrorKind]. [KindIncomplete] means
// the input ended inside a field; [Error.NeedMore] tells whether the whole
// input buffer was too short (read more bytes and retry) as opposed to a
// length-delimited unit that was internally truncated (a malformed peer).
// All other kinds mean the peer sent something malformed and the session
// should be closed with the error's [Error.SessionCode].
package wire
