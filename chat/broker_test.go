package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"
)

// brokerKit makes the brokers of one contract run: cluster returns a
// function that gives a broker for one more node of the same cluster (the
// same MemoryBroker, or a new RedisBroker on the same server), closed at the
// end of the test.
type brokerKit struct {
	name    string
	cluster func(t *testing.T, buf int) func() Broker
}

func brokerKits() []brokerKit {
	return []brokerKit{
		{"memory", func(t *testing.T, buf int) func() Broker {
			b := NewMemoryBroker(buf)
			t.Cleanup(func() { b.Close() })
			return func() Broker { return b }
		}},
		{"redis", func(t *testing.T, buf int) func() Broker {
			u := redisURL(t)
			return func() Broker {
				b, err := NewRedisBroker(context.Background(), u, buf)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { b.Close() })
				return b
			}
		}},
	}
}

func uniqueTopic(name string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test:" + name + ":" + hex.EncodeToString(b)
}

func recv(t *testing.T, ch <-chan []byte) string {
	t.Helper()
	select {
	case p, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return string(p)
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received within 5 s")
	}
	return ""
}

func closedSoon(t *testing.T, ch <-chan []byte) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("subscription not closed within 5 s")
		}
	}
}

// TestBrokerContract runs one suite against every Broker.
func TestBrokerContract(t *testing.T) {
	for _, kit := range brokerKits() {
		t.Run(kit.name, func(t *testing.T) {
			t.Run("fan-out", func(t *testing.T) {
				checkLeaks(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				node := kit.cluster(t, 0)
				pub := node()
				topic, other := uniqueTopic("a"), uniqueTopic("b")
				var subs []<-chan []byte
				for range 3 {
					ch, err := node().Subscribe(ctx, topic)
					if err != nil {
						t.Fatal(err)
					}
					subs = append(subs, ch)
				}
				// Two subscribers on one node share its connection.
				same, err := pub.Subscribe(ctx, topic)
				if err != nil {
					t.Fatal(err)
				}
				subs = append(subs, same)
				elsewhere, err := pub.Subscribe(ctx, other)
				if err != nil {
					t.Fatal(err)
				}
				for i := range 3 {
					if err := pub.Publish(ctx, topic, fmt.Appendf(nil, "p%d", i)); err != nil {
						t.Fatal(err)
					}
				}
				for _, ch := range subs {
					for i := range 3 {
						if got := recv(t, ch); got != fmt.Sprintf("p%d", i) {
							t.Fatalf("got %q, want p%d (in order)", got, i)
						}
					}
				}
				select {
				case p := <-elsewhere:
					t.Fatalf("other topic received %q", p)
				case <-time.After(100 * time.Millisecond):
				}
			})
			t.Run("unsubscribe on cancel", func(t *testing.T) {
				checkLeaks(t)
				b := kit.cluster(t, 0)()
				topic := uniqueTopic("u")
				ctx1, cancel1 := context.WithCancel(context.Background())
				ctx2, cancel2 := context.WithCancel(context.Background())
				defer cancel2()
				ch1, err := b.Subscribe(ctx1, topic)
				if err != nil {
					t.Fatal(err)
				}
				ch2, err := b.Subscribe(ctx2, topic)
				if err != nil {
					t.Fatal(err)
				}
				cancel1()
				closedSoon(t, ch1)
				if err := b.Publish(context.Background(), topic, []byte("after")); err != nil {
					t.Fatal(err)
				}
				if got := recv(t, ch2); got != "after" {
					t.Fatalf("remaining subscriber got %q", got)
				}
				// The last one leaving, then a new subscriber: still works.
				cancel2()
				closedSoon(t, ch2)
				ctx3, cancel3 := context.WithCancel(context.Background())
				defer cancel3()
				ch3, err := b.Subscribe(ctx3, topic)
				if err != nil {
					t.Fatal(err)
				}
				b.Publish(context.Background(), topic, []byte("again"))
				if got := recv(t, ch3); got != "again" {
					t.Fatalf("resubscriber got %q", got)
				}
			})
			t.Run("slow subscriber drops, publisher never waits", func(t *testing.T) {
				checkLeaks(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				b := kit.cluster(t, 4)()
				topic := uniqueTopic("s")
				slow, err := b.Subscribe(ctx, topic)
				if err != nil {
					t.Fatal(err)
				}
				fast, err := b.Subscribe(ctx, topic)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				const n = 200
				for i := range n {
					if err := b.Publish(ctx, topic, fmt.Appendf(nil, "%d", i)); err != nil {
						t.Fatal(err)
					}
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Fatalf("publishing %d took %v", n, d)
				}
				// The slow one (never read) holds 4 and the rest was
				// dropped; the fast one keeps working.
				eventually(t, "drops counted", func() bool { return b.Dropped() >= n-4 })
				// The fast one may have dropped too while the burst lasted;
				// a marker published until it arrives shows it still works.
				deadline := time.After(5 * time.Second)
			marker:
				for {
					b.Publish(ctx, topic, []byte("marker"))
					tick := time.After(100 * time.Millisecond)
					for {
						select {
						case p := <-fast:
							if string(p) == "marker" {
								break marker
							}
						case <-tick:
							continue marker
						case <-deadline:
							t.Fatal("the fast subscriber receives nothing more")
						}
					}
				}
				if len(slow) != 4 {
					t.Fatalf("slow subscriber holds %d, want 4", len(slow))
				}
			})
			t.Run("close", func(t *testing.T) {
				checkLeaks(t)
				b := kit.cluster(t, 0)()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				ch, err := b.Subscribe(ctx, uniqueTopic("c"))
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Close(); err != nil {
					t.Fatal(err)
				}
				closedSoon(t, ch)
				if err := b.Publish(ctx, "x", nil); !errors.Is(err, ErrClosed) {
					t.Fatalf("publish after close: %v", err)
				}
				if _, err := b.Subscribe(ctx, "x"); !errors.Is(err, ErrClosed) {
					t.Fatalf("subscribe after close: %v", err)
				}
			})
		})
	}
}
