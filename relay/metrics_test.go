package relay

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// gather scrapes the relay's collector: metric name (with the namespace
// label value appended for viewers) to value.
func gather(t testing.TB, r *Relay) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetValue() + "}"
			}
			switch {
			case m.Gauge != nil:
				out[name] = m.GetGauge().GetValue()
			case m.Counter != nil:
				out[name] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// checkMetrics compares scraped metrics with what a test knows happened.
func checkMetrics(t testing.TB, r *Relay, want map[string]float64) {
	t.Helper()
	got := gather(t, r)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("metric %s = %v, want %v", k, got[k], v)
		}
	}
}
