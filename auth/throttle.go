package auth

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Throttle figures (SECURITY.md): per account a growing delay after 5
// failures, capped at 15 minutes; per IP address 20 attempts a minute.
const (
	freeFailures = 5
	firstDelay   = 30 * time.Second
	maxDelay     = 15 * time.Minute
	ipPerMinute  = 20
	ipWindow     = time.Minute
	// forgetAfter: the failures of an unlocked account are forgotten this
	// long after the last one (by Purge, or a sweep of a full map).
	forgetAfter = 2 * maxDelay
	maxTracked  = 200_000 // entries per map before old ones are swept
)

// Throttle limits login and activation attempts. It keys accounts by the
// identifier as typed (normalised), whether or not it exists, so that an
// unknown identifier is throttled exactly like a real one and reveals
// nothing. MemoryThrottle keeps the counts in this process (tests, one node);
// DBThrottle keeps them in the database, so that every node sees the same
// counts. One contract test (throttle_test.go) runs against both.
type Throttle interface {
	// Allow reports whether an attempt for login from ip may proceed now,
	// and if not, how long to wait. An allowed attempt counts against the IP.
	Allow(ctx context.Context, login, ip string) (ok bool, wait time.Duration, err error)
	// Locked reports how long login must still wait (0: not locked), without
	// counting an attempt; for re-checks of a signed-in person's password.
	Locked(ctx context.Context, login string) (time.Duration, error)
	// Fail records a failed attempt for login; from the sixth on, the
	// account waits 30 s, then 1 min, 2 min… up to 15 min.
	Fail(ctx context.Context, login string) error
	// Succeed forgets the failures of login.
	Succeed(ctx context.Context, login string) error
	// Purge drops what no longer matters (windows past, failures forgotten)
	// and reports how many entries went; called periodically.
	Purge(ctx context.Context) (int64, error)
}

var (
	_ Throttle = (*MemoryThrottle)(nil)
	_ Throttle = (*DBThrottle)(nil)
)

func accountKey(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// lockFor is how long an account with n failures waits (0: not locked).
func lockFor(n int) time.Duration {
	if n < freeFailures {
		return 0
	}
	return min(firstDelay<<min(n-freeFailures, 10), maxDelay)
}

// MemoryThrottle is a Throttle in this process's memory: for tests and a
// single node. Several nodes need DBThrottle, or each would allow its own 20
// attempts a minute.
type MemoryThrottle struct {
	mu    sync.Mutex
	now   func() time.Time
	fails map[string]*failures
	ips   map[string]*window
}

type failures struct {
	n           int
	lockedUntil time.Time
	last        time.Time
}

type window struct {
	start time.Time
	n     int
}

// NewMemoryThrottle returns an empty MemoryThrottle.
func NewMemoryThrottle() *MemoryThrottle {
	return &MemoryThrottle{now: time.Now, fails: map[string]*failures{}, ips: map[string]*window{}}
}

// Allow implements Throttle.
func (t *MemoryThrottle) Allow(_ context.Context, login, ip string) (bool, time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if f := t.fails[accountKey(login)]; f != nil && now.Before(f.lockedUntil) {
		return false, f.lockedUntil.Sub(now), nil
	}
	w := t.ips[ip]
	if w == nil || now.Sub(w.start) >= ipWindow {
		if len(t.ips) >= maxTracked {
			t.sweep(now)
		}
		w = &window{start: now}
		t.ips[ip] = w
	}
	if w.n >= ipPerMinute {
		return false, w.start.Add(ipWindow).Sub(now), nil
	}
	w.n++
	return true, 0, nil
}

// Locked implements Throttle.
func (t *MemoryThrottle) Locked(_ context.Context, login string) (time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.fails[accountKey(login)]; f != nil {
		if d := f.lockedUntil.Sub(t.now()); d > 0 {
			return d, nil
		}
	}
	return 0, nil
}

// Fail implements Throttle.
func (t *MemoryThrottle) Fail(_ context.Context, login string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	k := accountKey(login)
	f := t.fails[k]
	if f == nil {
		if len(t.fails) >= maxTracked {
			t.sweep(now)
		}
		f = &failures{}
		t.fails[k] = f
	}
	f.n++
	f.last = now
	if d := lockFor(f.n); d > 0 {
		f.lockedUntil = now.Add(d)
	}
	return nil
}

// Succeed implements Throttle.
func (t *MemoryThrottle) Succeed(_ context.Context, login string) error {
	t.mu.Lock()
	delete(t.fails, accountKey(login))
	t.mu.Unlock()
	return nil
}

// Purge implements Throttle.
func (t *MemoryThrottle) Purge(context.Context) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int64(t.sweep(t.now())), nil
}

// sweep drops entries that no longer matter. Called with mu held.
func (t *MemoryThrottle) sweep(now time.Time) int {
	n := 0
	for k, f := range t.fails {
		if now.Sub(f.last) > forgetAfter && now.After(f.lockedUntil) {
			delete(t.fails, k)
			n++
		}
	}
	for k, w := range t.ips {
		if now.Sub(w.start) >= ipWindow {
			delete(t.ips, k)
			n++
		}
	}
	return n
}
