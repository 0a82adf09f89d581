package moqt

// Frame is the payload of one object: a video frame, an audio sample, a chat
// message. A Frame is immutable once built, so the same Frame may be written
// to any number of groups and subscribers without copying.
//
// A Frame returned by GroupReader.ReadFrame belongs to the caller for as
// long as it likes; to save allocations, small frames are carved from
// shared chunks of memory (a retained small frame keeps at most 16 KiB
// alive), which is one more reason never to modify Bytes.
type Frame struct {
	b []byte
}

// NewFrame returns a Frame holding b without copying it. The caller must not
// modify b afterwards: writing a Frame queues a reference to b, not a copy
// (see Priorities in the package docs), so bytes changed even after
// WriteFrame returned may be what the subscriber receives. To reuse a
// buffer, build Frames with a FrameBuilder, whose Frame method copies.
func NewFrame(b []byte) *Frame { return &Frame{b: b} }

// Bytes returns the payload. The returned slice must not be modified.
func (f *Frame) Bytes() []byte {
	if f == nil {
		return nil
	}
	return f.b
}

// Len returns the payload length in bytes.
func (f *Frame) Len() int {
	if f == nil {
		return 0
	}
	return len(f.b)
}

// Cap returns the capacity of the buffer holding the payload.
func (f *Frame) Cap() int {
	if f == nil {
		return 0
	}
	return cap(f.b)
}

// Clone returns a deep copy of f.
func (f *Frame) Clone() *Frame {
	if f == nil {
		return nil
	}
	return &Frame{b: append([]byte(nil), f.b...)}
}

// FrameBuilder builds Frames from pieces, reusing its buffer between frames.
// Each Frame it returns has memory of its own, so Reset and further
// Appends never change a Frame still queued for sending. The zero value is
// ready to use.
type FrameBuilder struct {
	buf []byte
}

// NewFrameBuilder returns a FrameBuilder whose buffer starts with capacity
// size.
func NewFrameBuilder(size int) *FrameBuilder {
	return &FrameBuilder{buf: make([]byte, 0, size)}
}

// Append appends p to the frame being built.
func (fb *FrameBuilder) Append(p []byte) { fb.buf = append(fb.buf, p...) }

// Frame returns an immutable Frame holding a copy of the bytes appended since
// the last Reset.
func (fb *FrameBuilder) Frame() *Frame {
	return &Frame{b: append(make([]byte, 0, len(fb.buf)), fb.buf...)}
}

// Reset empties the builder, keeping its buffer for the next frame.
func (fb *FrameBuilder) Reset() { fb.buf = fb.buf[:0] }
