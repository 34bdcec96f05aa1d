package chat

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"preau/internal/dbtest"
)

// BenchmarkPost: committed posts on SQLite, one after the other, across the
// conversations of one class (with the moderation checks Post makes).
func BenchmarkPost(b *testing.B) {
	d := dbtest.SQLite(b)
	sc := newSchool(b, d)
	s := NewStore(d)
	ctx := context.Background()
	c, err := s.EnsureClassChannel(ctx, sc.c3A)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Post(ctx, c.ID, sc.lea, fmt.Sprintf("b-%d", i), "message de test"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkPostConcurrent: committed posts/s with 64 posters per core at
// once over 50 group conversations, each post committed on its own
// ("direct", as every post was before the writer) or through the batching
// writer (writer.go), on both engines.
//
//	go test -run '^$' -bench PostConcurrent -benchtime 3000x -p 1 ./chat/
func BenchmarkPostConcurrent(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"direct", "batched"} {
			b.Run(engine+"/"+mode, func(b *testing.B) {
				d := dbtest.SQLite(b)
				if engine == "postgres" {
					d = dbtest.Postgres(b)
				}
				f := newFixture(b, d)
				s := NewStore(d)
				if s.writer = nil; mode == "batched" {
					s.writer = newPostWriter(s)
				}
				convs := make([]int64, 50)
				for i := range convs {
					convs[i] = groupConv(b, s, f, fmt.Sprintf("Groupe %d", i), f.pupilA, f.pupilB)
				}
				senders := []int64{f.pupilA, f.pupilB}
				var n atomic.Int64
				ctx := context.Background()
				b.SetParallelism(64)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						if _, err := s.Post(ctx, convs[i%int64(len(convs))], senders[i%2], fmt.Sprintf("b-%d", i), "message de test"); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
			})
		}
	}
}
