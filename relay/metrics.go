package relay

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns a Prometheus collector exporting the relay's Stats
// under the "moq_relay_" prefix. The counters are read when Prometheus
// scrapes, so the data path pays only for atomic additions.
func (r *Relay) Collector() prometheus.Collector { return collector{r} }

type collector struct{ r *Relay }

var (
	descSessions      = desc("sessions", "Open MoQT sessions.")
	descSessionsLost  = desc("sessions_lost_total", "Sessions whose connection failed under them (transport error, idle timeout) instead of being closed.")
	descTracks        = desc("tracks", "Upstream track subscriptions.")
	descSubscriptions = desc("subscriptions", "Downstream track subscriptions.")
	descWaiting       = desc("waiting_subscriptions", "Subscriptions waiting for a publisher.")
	descObjectsIn     = desc("objects_in_total", "Objects received from publishers.")
	descBytesIn       = desc("bytes_in_total", "Payload bytes received from publishers.")
	descObjectsOut    = desc("objects_out_total", "Objects written to subscribers.")
	descBytesOut      = desc("bytes_out_total", "Payload bytes written to subscribers.")
	descCacheBytes    = desc("cache_bytes", "Payload bytes held by the group caches.")
	descEvictions     = desc("cache_evictions_total", "Groups evicted from a cache by its limits.")
	descSkips         = desc("skips_total", "Groups abandoned for slow subscribers.")
	descDrops         = desc("drops_total", "Subgroups lost by subscribers because they left the cache first.")
	descRefused       = desc("refused_total", "Sessions, announcements and subscriptions refused by authorization.")
	descUpFetches     = desc("upstream_fetches_total", "FETCHes forwarded to publishers because the cache did not hold their range.")
	descViewers       = prometheus.NewDesc("moq_relay_viewers", "Subscriptions per announced broadcast path.", []string{"namespace"}, nil)
)

func desc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("moq_relay_"+name, help, nil, nil)
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSessions, descSessionsLost, descTracks, descSubscriptions, descWaiting,
		descObjectsIn, descBytesIn, descObjectsOut, descBytesOut, descCacheBytes,
		descEvictions, descSkips, descDrops, descRefused, descUpFetches, descViewers} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Stats()
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge(descSessions, s.Sessions)
	counter(descSessionsLost, s.SessionsLost)
	gauge(descTracks, s.Tracks)
	gauge(descSubscriptions, s.Subscriptions)
	gauge(descWaiting, s.Waiting)
	counter(descObjectsIn, s.ObjectsIn)
	counter(descBytesIn, s.BytesIn)
	counter(descObjectsOut, s.ObjectsOut)
	counter(descBytesOut, s.BytesOut)
	gauge(descCacheBytes, s.CacheBytes)
	counter(descEvictions, s.Evictions)
	counter(descSkips, s.Skips)
	counter(descDrops, s.Drops)
	counter(descRefused, s.Refused)
	counter(descUpFetches, s.UpstreamFetches)
	for ns, n := range s.Viewers {
		ch <- prometheus.MustNewConstMetric(descViewers, prometheus.GaugeValue, float64(n), string(ns))
	}
}
