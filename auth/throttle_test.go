package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"preau/db"
	"preau/internal/dbtest"
)

// openThrottle makes a fresh Throttle reading the clock now (on a database:
// a fresh database each time).
type openThrottle func(now func() time.Time) Throttle

// eachThrottle runs fn against every engine: memory, SQLite, PostgreSQL.
func eachThrottle(t *testing.T, fn func(t *testing.T, open openThrottle)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, func(now func() time.Time) Throttle {
			th := NewMemoryThrottle()
			th.now = now
			return th
		})
	})
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(now func() time.Time) Throttle { return dbThrottles(dbtest.SQLite(t))(now) })
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, func(now func() time.Time) Throttle { return dbThrottles(dbtest.Postgres(t))(now) })
	})
}

// dbThrottles opens throttles on d: each call is another node on the same
// tables.
func dbThrottles(d *db.DB) openThrottle {
	return func(now func() time.Time) Throttle {
		th := NewDBThrottle(d)
		th.now = now
		return th
	}
}

// clock is a settable time for the throttles under test.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Unix(1_800_000_000, 0).UnixNano())
	return c
}
func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d)) }

func locked(t *testing.T, th Throttle, login string) time.Duration {
	t.Helper()
	d, err := th.Locked(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func purge(t *testing.T, th Throttle) int64 {
	t.Helper()
	n, err := th.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func allow(t *testing.T, th Throttle, login, ip string) (bool, time.Duration) {
	t.Helper()
	ok, wait, err := th.Allow(context.Background(), login, ip)
	if err != nil {
		t.Fatal(err)
	}
	return ok, wait
}

func fail(t *testing.T, th Throttle, login string) {
	t.Helper()
	if err := th.Fail(context.Background(), login); err != nil {
		t.Fatal(err)
	}
}

// TestThrottleContract is the behaviour every Throttle has (SECURITY.md:
// per account a growing delay after 5 failures, capped at 15 min; per IP 20
// attempts a minute).
func TestThrottleContract(t *testing.T) {
	eachThrottle(t, func(t *testing.T, open openThrottle) {
		ctx := context.Background()
		t.Run("account", func(t *testing.T) {
			c := newClock()
			th := open(c.now)
			for i := 0; i < 5; i++ {
				if ok, _ := allow(t, th, "Lea.Martin", fmt.Sprintf("ip-%d", i)); !ok {
					t.Fatalf("attempt %d refused", i+1)
				}
				fail(t, th, " lea.martin") // identifiers are compared as normalised
			}
			if ok, wait := allow(t, th, "lea.martin", "ip-z"); ok || wait != 30*time.Second {
				t.Fatalf("after 5 failures: ok=%v wait=%v, want locked 30s", ok, wait)
			}
			if wait := locked(t, th, "LEA.MARTIN"); wait != 30*time.Second {
				t.Fatalf("Locked = %v, want 30s", wait)
			}
			// Another identifier is not concerned.
			if ok, _ := allow(t, th, "tom.petit", "ip-z"); !ok {
				t.Fatal("another account is locked too")
			}
			// The delay doubles, then is capped at 15 minutes.
			for _, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
				c.add(want) // each failure after the lock ended
				fail(t, th, "lea.martin")
				if _, wait := allow(t, th, "lea.martin", "ip-y"); wait != want {
					t.Fatalf("wait = %v, want %v", wait, want)
				}
			}
			c.add(10 * time.Minute)
			if wait := locked(t, th, "lea.martin"); wait != 5*time.Minute {
				t.Fatalf("Locked after 10 of 15 min = %v, want 5m", wait)
			}
			c.add(5 * time.Minute)
			if ok, _ := allow(t, th, "lea.martin", "ip-x"); !ok {
				t.Fatal("still locked once the delay is over")
			}
			// One more failure locks again at once; success forgets all.
			fail(t, th, "lea.martin")
			if ok, _ := allow(t, th, "lea.martin", "ip-x"); ok {
				t.Fatal("a failure after the lock did not lock again")
			}
			if err := th.Succeed(ctx, "Lea.Martin"); err != nil {
				t.Fatal(err)
			}
			if wait := locked(t, th, "lea.martin"); wait != 0 {
				t.Fatalf("locked %v after a success", wait)
			}
			for i := 0; i < 4; i++ {
				fail(t, th, "lea.martin")
			}
			if ok, _ := allow(t, th, "lea.martin", "ip-w"); !ok {
				t.Fatal("a success did not reset the count")
			}
		})
		t.Run("ip", func(t *testing.T) {
			c := newClock()
			th := open(c.now)
			for i := 0; i < 20; i++ {
				if ok, _ := allow(t, th, fmt.Sprintf("user%d", i), "10.0.0.1"); !ok {
					t.Fatalf("IP attempt %d refused", i+1)
				}
				c.add(time.Second)
			}
			if ok, wait := allow(t, th, "someone", "10.0.0.1"); ok || wait != 40*time.Second {
				t.Fatalf("21st attempt in a minute: ok=%v wait=%v, want refused for 40s", ok, wait)
			}
			if ok, _ := allow(t, th, "someone", "10.0.0.2"); !ok {
				t.Fatal("another address is refused too")
			}
			// Refused attempts do not move the window.
			c.add(39 * time.Second)
			if ok, wait := allow(t, th, "someone", "10.0.0.1"); ok || wait != time.Second {
				t.Fatalf("just before the window ends: ok=%v wait=%v", ok, wait)
			}
			c.add(time.Second)
			for i := 0; i < 20; i++ {
				if ok, _ := allow(t, th, "someone", "10.0.0.1"); !ok {
					t.Fatalf("attempt %d of the new window refused", i+1)
				}
			}
			if ok, _ := allow(t, th, "someone", "10.0.0.1"); ok {
				t.Fatal("21st attempt of the new window allowed")
			}
		})
		t.Run("locked account does not count against the IP", func(t *testing.T) {
			c := newClock()
			th := open(c.now)
			for i := 0; i < 5; i++ {
				fail(t, th, "lea.martin")
			}
			for i := 0; i < 30; i++ {
				allow(t, th, "lea.martin", "10.0.0.9")
			}
			if ok, _ := allow(t, th, "tom.petit", "10.0.0.9"); !ok {
				t.Fatal("refused attempts on a locked account used up the IP's allowance")
			}
		})
		t.Run("any identifier", func(t *testing.T) {
			th := open(newClock().now)
			for _, login := range []string{"", "a\x00b", "\xff\xfe", strings.Repeat("é", 5000), "'; DROP TABLE users; --"} {
				for i := 0; i < 5; i++ {
					fail(t, th, login)
				}
				if ok, _ := allow(t, th, login, "\x00"); ok {
					t.Fatalf("%q not locked after 5 failures", login[:min(len(login), 10)])
				}
			}
		})
		t.Run("purge", func(t *testing.T) {
			c := newClock()
			th := open(c.now)
			for i := 0; i < 5; i++ {
				fail(t, th, "locked")
			}
			for i := 0; i < 4; i++ {
				fail(t, th, "quiet")
			}
			allow(t, th, "x", "10.0.0.1")
			if n := purge(t, th); n != 0 {
				t.Fatalf("purged %d entries that still matter", n)
			}
			c.add(time.Minute)
			if n := purge(t, th); n != 1 {
				t.Fatalf("purged %d, want the IP window only", n)
			}
			// 30 min without a failure: the unlocked account is forgotten;
			// a locked one stays until its lock ends.
			fail(t, th, "locked")
			fail(t, th, "locked")
			fail(t, th, "locked") // locked 4 min
			c.add(30*time.Minute + time.Second)
			if n := purge(t, th); n != 2 {
				t.Fatalf("purged %d, want both accounts", n)
			}
			for i := 0; i < 4; i++ {
				fail(t, th, "quiet")
			}
			if ok, _ := allow(t, th, "quiet", "10.0.0.1"); !ok {
				t.Fatal("failures older than the purge still count")
			}
		})
	})
}

// TestDBThrottleSharedByNodes: two throttles on one database — two nodes —
// share the counts, also under concurrent attempts.
func TestDBThrottleSharedByNodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newClock()
		a, b := dbThrottles(d)(c.now), dbThrottles(d)(c.now)
		ctx := context.Background()
		for i := 0; i < 5; i++ {
			fail(t, []Throttle{a, b}[i%2], "lea.martin")
		}
		if ok, wait := allow(t, b, "lea.martin", "10.0.0.1"); ok || wait != 30*time.Second {
			t.Fatalf("node B after 5 failures spread over A and B: ok=%v wait=%v", ok, wait)
		}
		if err := a.Succeed(ctx, "lea.martin"); err != nil {
			t.Fatal(err)
		}
		if wait := locked(t, b, "lea.martin"); wait != 0 {
			t.Fatalf("node B still locked %v after a success on node A", wait)
		}
		// 40 attempts at once from one address, half on each node: exactly
		// 20 pass.
		var wg sync.WaitGroup
		var passed atomic.Int32
		errs := make(chan error, 40)
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := []Throttle{a, b}[i%2].Allow(ctx, fmt.Sprintf("user%d", i), "192.0.2.7")
				if err != nil {
					errs <- err
				} else if ok {
					passed.Add(1)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := passed.Load(); n != ipPerMinute {
			t.Fatalf("%d concurrent attempts passed on two nodes, want %d", n, ipPerMinute)
		}
		// Concurrent failures are all counted: 5 from each node lock for
		// 30 s << 5 = 15 min (capped), whatever the order.
		errs2 := make(chan error, 10)
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := []Throttle{a, b}[i%2].Fail(ctx, "tom.petit"); err != nil {
					errs2 <- err
				}
			}()
		}
		wg.Wait()
		close(errs2)
		for err := range errs2 {
			t.Fatal(err)
		}
		if wait := locked(t, a, "tom.petit"); wait != 15*time.Minute {
			t.Fatalf("after 10 concurrent failures: locked %v, want 15m", wait)
		}
	})
}
