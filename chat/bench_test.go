package chat

import (
	"context"
	"fmt"
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
