package moqt

import "sync"

// batchAlloc hands out zeroed *T carved from slices of batchSize values, so
// that the per-group objects of the data path (GroupWriter, GroupReader,
// Frame) cost one heap allocation per batch rather than one each.
//
// A slot is handed out once and never reused, so there is no ownership rule
// to follow and no use-after-free to fear: a slot lives as long as anything
// points into its batch. The price is retention: one reachable slot keeps
// its whole batch (batchSize values) alive. Batches sit in a sync.Pool, so
// goroutines on different Ps carve from different batches without locking.
type batchAlloc[T any] struct{ pool sync.Pool }

// batch is a run of unused slots.
type batch[T any] struct{ free []T }

const batchSize = 32

// new returns a pointer to a zero T.
func (a *batchAlloc[T]) new() *T {
	b, _ := a.pool.Get().(*batch[T])
	if b == nil {
		b = new(batch[T])
	}
	if len(b.free) == 0 {
		b.free = make([]T, batchSize)
	}
	p := &b.free[0]
	b.free = b.free[1:]
	a.pool.Put(b)
	return p
}

// payloadAlloc carves small frame payloads out of shared chunks, for the
// same reason and with the same retention trade-off as batchAlloc: a
// retained small frame keeps at most payloadChunk bytes alive. Payloads
// larger than maxCarved get their own allocation.
type payloadAlloc struct{ pool sync.Pool }

type payloadChunk struct{ free []byte }

const (
	payloadChunkSize = 16 << 10
	maxCarved        = 1 << 10
)

// make returns a slice of n bytes whose capacity is n, so that appending to
// it never writes into a neighbour's bytes.
func (a *payloadAlloc) make(n int) []byte {
	if n > maxCarved || n == 0 {
		return make([]byte, n)
	}
	c, _ := a.pool.Get().(*payloadChunk)
	if c == nil {
		c = new(payloadChunk)
	}
	if len(c.free) < n {
		c.free = make([]byte, payloadChunkSize)
	}
	p := c.free[:n:n]
	c.free = c.free[n:]
	a.pool.Put(c)
	return p
}

var (
	groupWriters batchAlloc[GroupWriter]
	groupReaders batchAlloc[GroupReader]
	frames       batchAlloc[Frame]
	payloads     payloadAlloc
)

// newFrame returns a Frame with a fresh payload buffer of n bytes for the
// caller to fill before handing the Frame out.
func newFrame(n int) *Frame {
	f := frames.new()
	f.b = payloads.make(n)
	return f
}
