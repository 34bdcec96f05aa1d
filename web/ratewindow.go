package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"preau/db"
)

// Fixed-window counters in the database (table rate_windows), for the form
// limits every node must count together (issue 8: a sender of the help form
// gets its 5 requests an hour across the cluster, not 5 per node). Each
// count is one atomic upsert, so concurrent requests on several nodes
// neither lose a count nor restart a window. The login throttle has its own
// tables (auth.DBThrottle); chat limits are per connection, on the node
// that holds it (docs/operations.md).

// countInWindow counts one event for key in its current window of length
// window (a window starts at the key's first event after the previous one
// ended) and returns the events counted in it, this one included.
func countInWindow(ctx context.Context, d *db.DB, key string, window time.Duration, now time.Time) (int, error) {
	sum := sha256.Sum256([]byte(key))
	at := now.UnixMilli()
	var hits int
	// In an upsert's SET, every right-hand side reads the row as it was.
	err := d.QueryRow(ctx, `INSERT INTO rate_windows (key_hash, window_end_ms, hits) VALUES (?, ?, 1)
		ON CONFLICT (key_hash) DO UPDATE SET
			hits = CASE WHEN rate_windows.window_end_ms <= ? THEN 1 ELSE rate_windows.hits + 1 END,
			window_end_ms = CASE WHEN rate_windows.window_end_ms <= ? THEN excluded.window_end_ms ELSE rate_windows.window_end_ms END
		RETURNING hits`, hex.EncodeToString(sum[:]), at+window.Milliseconds(), at, at).Scan(&hits)
	if err != nil {
		return 0, fmt.Errorf("web: rate window: %w", err)
	}
	return hits, nil
}

// PurgeRateWindows drops the windows that are over; `preau serve` calls it
// with its other periodic purges.
func (s *Server) PurgeRateWindows(ctx context.Context) (int64, error) {
	res, err := s.db.Exec(ctx, "DELETE FROM rate_windows WHERE window_end_ms <= ?", time.Now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("web: purge rate windows: %w", err)
	}
	return res.RowsAffected()
}
