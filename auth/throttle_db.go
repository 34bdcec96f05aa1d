package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"preau/db"
)

// DBThrottle is a Throttle kept in the database (tables throttle_accounts and
// throttle_ips), so that every node of a cluster sees the same counts and a
// restart forgets nothing. It is what `preau serve` uses, on SQLite as on
// PostgreSQL: it needs no engine beyond the one every deployment has, and
// its one or two small writes per attempt are cheap beside the argon2id hash
// every attempt costs anyway.
//
// Each change is a single atomic statement (an upsert, or an update guarded
// by the count it saw), so concurrent attempts on several nodes neither lose
// a count nor shorten a lock.
type DBThrottle struct {
	db  *db.DB
	now func() time.Time
}

// NewDBThrottle returns a DBThrottle on d.
func NewDBThrottle(d *db.DB) *DBThrottle { return &DBThrottle{db: d, now: time.Now} }

// throttleKey is what is stored for an identifier or an address: a hex
// SHA-256, so that any bytes typed fit a TEXT column (PostgreSQL refuses NUL
// and bad UTF-8) and a password typed into the identifier field is not kept
// in clear.
func throttleKey(kind, s string) string {
	sum := sha256.Sum256([]byte("preau-throttle-" + kind + ":" + s))
	return hex.EncodeToString(sum[:])
}

// Allow implements Throttle.
func (t *DBThrottle) Allow(ctx context.Context, login, ip string) (bool, time.Duration, error) {
	now := t.now().UnixMilli()
	if wait, err := t.locked(ctx, login, now); err != nil || wait > 0 {
		return false, wait, err
	}
	// Open a new window when the last one is over, else count in it. The
	// right-hand sides all read the row as it was.
	var start int64
	var n int
	err := t.db.QueryRow(ctx, `INSERT INTO throttle_ips (key_hash, window_start_ms, attempts) VALUES (?, ?, 1)
		ON CONFLICT (key_hash) DO UPDATE SET
			window_start_ms = CASE WHEN throttle_ips.window_start_ms <= ? THEN excluded.window_start_ms ELSE throttle_ips.window_start_ms END,
			attempts = CASE WHEN throttle_ips.window_start_ms <= ? THEN 1 ELSE throttle_ips.attempts + 1 END
		RETURNING window_start_ms, attempts`,
		throttleKey("ip", ip), now, now-ipWindow.Milliseconds(), now-ipWindow.Milliseconds()).Scan(&start, &n)
	if err != nil {
		return false, 0, fmt.Errorf("auth: throttle: %w", err)
	}
	if n > ipPerMinute { // refused attempts count too, harmlessly: the window does not move
		return false, time.Duration(start+ipWindow.Milliseconds()-now) * time.Millisecond, nil
	}
	return true, 0, nil
}

// Locked implements Throttle.
func (t *DBThrottle) Locked(ctx context.Context, login string) (time.Duration, error) {
	return t.locked(ctx, login, t.now().UnixMilli())
}

func (t *DBThrottle) locked(ctx context.Context, login string, now int64) (time.Duration, error) {
	var until int64
	err := t.db.QueryRow(ctx, "SELECT locked_until_ms FROM throttle_accounts WHERE key_hash = ?",
		throttleKey("account", accountKey(login))).Scan(&until)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("auth: throttle: %w", err)
	case until > now:
		return time.Duration(until-now) * time.Millisecond, nil
	}
	return 0, nil
}

// Fail implements Throttle.
func (t *DBThrottle) Fail(ctx context.Context, login string) error {
	now := t.now().UnixMilli()
	k := throttleKey("account", accountKey(login))
	var n int
	err := t.db.QueryRow(ctx, `INSERT INTO throttle_accounts (key_hash, failures, locked_until_ms, last_failure_ms) VALUES (?, 1, 0, ?)
		ON CONFLICT (key_hash) DO UPDATE SET failures = throttle_accounts.failures + 1, last_failure_ms = excluded.last_failure_ms
		RETURNING failures`, k, now).Scan(&n)
	if err != nil {
		return fmt.Errorf("auth: throttle: %w", err)
	}
	if d := lockFor(n); d > 0 {
		// Only if no later failure came in between: that one sets a lock at
		// least as long.
		if _, err := t.db.Exec(ctx, "UPDATE throttle_accounts SET locked_until_ms = ? WHERE key_hash = ? AND failures = ?",
			now+d.Milliseconds(), k, n); err != nil {
			return fmt.Errorf("auth: throttle: %w", err)
		}
	}
	return nil
}

// Succeed implements Throttle.
func (t *DBThrottle) Succeed(ctx context.Context, login string) error {
	if _, err := t.db.Exec(ctx, "DELETE FROM throttle_accounts WHERE key_hash = ?",
		throttleKey("account", accountKey(login))); err != nil {
		return fmt.Errorf("auth: throttle: %w", err)
	}
	return nil
}

// Purge implements Throttle: windows that are over, and the failures of
// unlocked accounts with none for 30 minutes.
func (t *DBThrottle) Purge(ctx context.Context) (int64, error) {
	now := t.now()
	a, err := t.db.Exec(ctx, "DELETE FROM throttle_accounts WHERE last_failure_ms < ? AND locked_until_ms < ?",
		now.Add(-forgetAfter).UnixMilli(), now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("auth: throttle purge: %w", err)
	}
	b, err := t.db.Exec(ctx, "DELETE FROM throttle_ips WHERE window_start_ms <= ?", now.Add(-ipWindow).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("auth: throttle purge: %w", err)
	}
	na, _ := a.RowsAffected()
	nb, _ := b.RowsAffected()
	return na + nb, nil
}
