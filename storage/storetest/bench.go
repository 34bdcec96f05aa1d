package storetest

import (
	"io"
	"testing"
	"time"

	"preau/storage"
)

// Benchmark puts and gets a LargeSize object in s and reports the
// throughput of each, in MB/s.
func Benchmark(b *testing.B, s storage.Store) {
	var put, get time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		if err := s.Put(ctx(b), "bench/large", newPattern(14, LargeSize), LargeSize); err != nil {
			b.Fatal(err)
		}
		put += time.Since(start)
		start = time.Now()
		rc, err := s.Get(ctx(b), "bench/large", 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
		get += time.Since(start)
		n++
	}
	mb := float64(n) * LargeSize / 1e6
	b.ReportMetric(mb/put.Seconds(), "put-MB/s")
	b.ReportMetric(mb/get.Seconds(), "get-MB/s")
	b.SetBytes(2 * LargeSize)
}
