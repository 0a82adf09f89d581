// Package netsim is a UDP impairment proxy for tests: a real bottleneck
// between two real endpoints on loopback, without root.
//
// A Proxy listens on a loopback UDP port and forwards every datagram to a
// target address, and the target's replies back to the sender. Each
// direction is a Link with its own rate, queue, one-way delay, loss and
// reordering, so a QUIC client that dials the proxy instead of the server
// sees a constrained path: its congestion controller meets a real
// queue that fills, delays and drops, exactly as on a slow access link.
//
// # Model
//
// A Link is a FIFO drop-tail queue in front of a serializer of Rate bytes
// per second (a token bucket whose burst is one packet, like tc tbf with a
// small burst): each datagram occupies the link for len/Rate, so a
// datagram that arrives while QueueBytes are still waiting is dropped.
// After serialization a datagram is delayed by Delay (propagation), plus
// ReorderDelay with probability Reorder, which lets later datagrams
// overtake it. Loss is decided on arrival with Loss probability. Every
// random decision comes from a PCG generator seeded with Config.Seed, so a
// given sequence of datagrams meets the same fate in every run.
//
// The model runs on a virtual clock computed from arrival times, so the
// average rate is exact even when the delivering goroutine is scheduled
// late on a loaded machine (late datagrams then leave in a burst, never
// faster on average).
package netsim
