package bench

import (
	"testing"
	"time"
)

// TestPushSmoke makes a few pushes of each library at each delay,
// through the same child process as the full measurement, and checks
// that each came, once, after it was sent.
func TestPushSmoke(t *testing.T) {
	const n = 30
	res, err := MeasurePush(n, testSpawner)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(PushLibs) * len(PushDelays); len(res) != want {
		t.Fatalf("%d results, want %d", len(res), want)
	}
	for _, r := range res {
		if len(r.Latencies) != n {
			t.Errorf("%s, delay %v: %d pushes, want %d", r.Lib, r.Delay, len(r.Latencies), n)
		}
		for _, l := range r.Latencies {
			// One clock for both processes: a push cannot arrive
			// before it was sent, nor take longer than the wait for it.
			if l <= 0 || l > pushTimeout {
				t.Errorf("%s, delay %v: latency %v", r.Lib, r.Delay, l)
			}
		}
		if len(r.Gaps) != n || r.MedianGap() < r.Delay {
			t.Errorf("%s, delay %v: %d gaps, median %v", r.Lib, r.Delay, len(r.Gaps), r.MedianGap())
		}
		t.Logf("%-11s delay %-5s (median %v) p50 %v, max %v", r.Lib, DelayName(r.Delay), r.MedianGap(), r.Quantile(0.5), r.Max())
	}
}

// TestPushQuantiles checks the nearest-rank quantiles on latencies of 1
// to 1,000 ms, given shuffled.
func TestPushQuantiles(t *testing.T) {
	r := PushResult{}
	for i := range 1000 {
		r.Latencies = append(r.Latencies, time.Duration((i*617)%1000+1)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500}, {0.99, 990}, {0.999, 999}, {1, 1000}, {0.0001, 1}} {
		if got := r.Quantile(c.q); got != c.want*time.Millisecond {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want*time.Millisecond)
		}
	}
	if got := r.Max(); got != time.Second {
		t.Errorf("Max = %v, want 1s", got)
	}
	if got := r.Over(2 * time.Millisecond); got != 998 {
		t.Errorf("Over(2ms) = %d, want 998", got)
	}
	if got := (PushResult{}).Quantile(0.5); got != 0 {
		t.Errorf("Quantile of nothing = %v, want 0", got)
	}
	for d, want := range map[time.Duration]string{0: "0ms", 200 * time.Microsecond: "0.2ms", time.Millisecond: "1ms", 3 * time.Millisecond: "3ms"} {
		if got := DelayName(d); got != want {
			t.Errorf("DelayName(%v) = %q, want %q", d, got, want)
		}
	}
}

// BenchmarkPush makes b.N pushes of each library at each delay, as
// BenchmarkPush/<lib>/delay=<ms>, the server in a child process. Besides
// ns/op (a call and the push that follows it), each reports the pushes'
// p50, p99 and max latency. cmd/benchreport interleaves the libraries
// and delays instead, with MeasurePush.
func BenchmarkPush(b *testing.B) {
	srv, err := StartPushServer(testSpawner)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := srv.Close(); err != nil {
			b.Error(err)
		}
	})
	for _, d := range PushDelays {
		for _, lib := range PushLibs {
			b.Run(lib+"/delay="+DelayName(d), func(b *testing.B) {
				c, err := srv.Dial(lib, d)
				if err != nil {
					b.Fatal(err)
				}
				defer func() {
					if err := c.Close(); err != nil {
						b.Error(err)
					}
				}()
				r := PushResult{Lib: lib, Delay: d, Latencies: make([]time.Duration, 0, b.N)}
				b.ResetTimer()
				for range b.N {
					l, _, err := c.Push()
					if err != nil {
						b.Fatal(err)
					}
					r.Latencies = append(r.Latencies, l)
				}
				b.StopTimer()
				b.ReportMetric(float64(r.Quantile(0.5)), "p50-ns/push")
				b.ReportMetric(float64(r.Quantile(0.99)), "p99-ns/push")
				b.ReportMetric(float64(r.Max()), "max-ns/push")
			})
		}
	}
}
