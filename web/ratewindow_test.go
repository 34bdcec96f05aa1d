package web

import (
	"context"
	"sync"
	"testing"
	"time"

	"preau/db"
	"preau/internal/dbtest"
)

// TestCountInWindow: the database's fixed windows count every event once,
// however many requests (nodes) count at the same moment; a window over
// starts again at 1; keys are counted apart; the purge drops windows over.
// On SQLite and PostgreSQL.
func TestCountInWindow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
		const hour = time.Hour
		// 40 events at once, as from several nodes: 40 distinct counts.
		var wg sync.WaitGroup
		seen := make([]bool, 41)
		var mu sync.Mutex
		for range 40 {
			wg.Go(func() {
				n, err := countInWindow(ctx, d, "help:ip:203.0.113.7", hour, t0.Add(time.Minute))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if n < 1 || n > 40 || seen[n] {
					t.Errorf("count %d twice or out of range", n)
					return
				}
				seen[n] = true
			})
		}
		wg.Wait()
		if n, err := countInWindow(ctx, d, "help:ip:203.0.113.8", hour, t0.Add(time.Minute)); err != nil || n != 1 {
			t.Errorf("another key: %d, %v; want 1", n, err)
		}
		// The window started at t0+1min: still on at t0+60min, over after.
		if n, err := countInWindow(ctx, d, "help:ip:203.0.113.7", hour, t0.Add(60*time.Minute)); err != nil || n != 41 {
			t.Errorf("within the window: %d, %v; want 41", n, err)
		}
		if n, err := countInWindow(ctx, d, "help:ip:203.0.113.7", hour, t0.Add(61*time.Minute)); err != nil || n != 1 {
			t.Errorf("a new window: %d, %v; want 1", n, err)
		}
		s := &Server{db: d}
		if n, err := s.PurgeRateWindows(ctx); err != nil || n != 2 {
			t.Errorf("purge (now, long after the windows): %d, %v; want 2", n, err)
		}
	})
}
