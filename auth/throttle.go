package auth

import (
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
	maxTracked   = 200_000 // entries per map before old ones are swept
)

// Throttle limits login and activation attempts, in memory. It keys accounts
// by the identifier as typed (normalised), whether or not it exists, so that
// an unknown identifier is throttled exactly like a real one and reveals
// nothing.
type Throttle struct {
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

// NewThrottle returns an empty Throttle.
func NewThrottle() *Throttle {
	return &Throttle{now: time.Now, fails: map[string]*failures{}, ips: map[string]*window{}}
}

func accountKey(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// Allow reports whether an attempt for login from ip may proceed now, and if
// not, how long to wait. An allowed attempt counts against the IP.
func (t *Throttle) Allow(login, ip string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if f := t.fails[accountKey(login)]; f != nil && now.Before(f.lockedUntil) {
		return false, f.lockedUntil.Sub(now)
	}
	w := t.ips[ip]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if len(t.ips) >= maxTracked {
			t.sweep(now)
		}
		w = &window{start: now}
		t.ips[ip] = w
	}
	if w.n >= ipPerMinute {
		return false, w.start.Add(time.Minute).Sub(now)
	}
	w.n++
	return true, 0
}

// Locked reports how long login must still wait (0: not locked), without
// counting an attempt; for re-checks of a signed-in person's password.
func (t *Throttle) Locked(login string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.fails[accountKey(login)]; f != nil {
		if d := f.lockedUntil.Sub(t.now()); d > 0 {
			return d
		}
	}
	return 0
}

// Fail records a failed attempt for login; from the sixth on, the account
// waits 30 s, then 1 min, 2 min… up to 15 min.
func (t *Throttle) Fail(login string) {
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
	if f.n >= freeFailures {
		d := firstDelay << min(f.n-freeFailures, 10)
		if d > maxDelay {
			d = maxDelay
		}
		f.lockedUntil = now.Add(d)
	}
}

// Succeed forgets the failures of login.
func (t *Throttle) Succeed(login string) {
	t.mu.Lock()
	delete(t.fails, accountKey(login))
	t.mu.Unlock()
}

// sweep drops entries that no longer matter. Called with mu held.
func (t *Throttle) sweep(now time.Time) {
	for k, f := range t.fails {
		if now.Sub(f.last) > 2*maxDelay && now.After(f.lockedUntil) {
			delete(t.fails, k)
		}
	}
	for k, w := range t.ips {
		if now.Sub(w.start) >= time.Minute {
			delete(t.ips, k)
		}
	}
}
