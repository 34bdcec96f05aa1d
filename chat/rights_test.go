package chat

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/internal/dbtest"
)

// rightsDelay is the promise of SECURITY.md: a rights change reaches live
// connections within 1 s. The path is pushed, never polled, so the bound
// is loose even on a loaded machine.
const rightsDelay = time.Second

// expectWithin returns the next frame of type typ (skipping skip) if it
// comes within d.
func (c *wsClient) expectWithin(d time.Duration, typ string, skip ...string) frame {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("connection ended: %v", c.err)
			}
			if contains(skip, f.Type) {
				continue
			}
			if f.Type != typ {
				c.t.Fatalf("got %s %s, want %s", f.Type, f.Data, typ)
			}
			return f
		case <-timeout:
			c.t.Fatalf("no %s within %v", typ, d)
		}
	}
}

// closedWithin waits at most d for the connection to end.
func (c *wsClient) closedWithin(d time.Duration) error {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return c.err
			}
		case <-timeout:
			c.t.Fatalf("connection still open after %v (%s)", d, time.Now().Format("15:04:05.000"))
		}
	}
}

func waitRights(t *testing.T, h *Hub) {
	t.Helper()
	select {
	case <-h.rightsReady:
	case <-time.After(10 * time.Second):
		t.Fatal("rights topic not subscribed")
	}
}

// TestHubRightsChange: on two hubs of one deployment (memory broker, then
// Redis), a pupil removed from the class channel through node 1's store
// gets "unsubscribed" on node 2 within 1 s, receives nothing more of it
// and cannot send there; a revoked user's connections on both nodes close
// with 4001 within 1 s, and others are unaffected.
func TestHubRightsChange(t *testing.T) {
	for _, kit := range brokerKits() {
		t.Run(kit.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				rightsChange(t, kit, d)
			})
		})
	}
}

func rightsChange(t *testing.T, kit brokerKit, d *db.DB) {
	checkLeaks(t)
	ctx := context.Background()
	f := newFixture(t, d)
	node := kit.cluster(t, 0)
	s1, s2 := NewStore(d), NewStore(d)
	conv := classChannel(t, s1, f)
	ns := uniqueTopic("rights")
	h1, url1 := startHub(t, s1, node(), Config{Namespace: ns}, nil)
	h2, url2 := startHub(t, s2, node(), Config{Namespace: ns}, nil)
	waitRights(t, h1)
	waitRights(t, h2)

	teacher := connect(t, url1, f.teacher)
	b1, b2 := connect(t, url1, f.pupilB), connect(t, url2, f.pupilB)
	a := connect(t, url2, f.pupilA)
	for _, c := range []*wsClient{teacher, b1, b2, a} {
		c.subscribe(conv.ID, 0)
		c.expect(TypeSubscribed)
	}

	// Pupil B leaves: both of B's connections are told, on both nodes.
	if err := s1.RemoveMember(ctx, conv.ID, f.pupilB); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*wsClient{b1, b2} {
		u := b.expectWithin(rightsDelay, TypeUnsubscribed)
		if string(u.Data) != `{"conversation":`+strconv.FormatInt(conv.ID, 10)+`}` {
			t.Fatalf("unsubscribed %s", u.Data)
		}
	}
	teacher.send(conv.ID, "t1", "Après le départ de Léo")
	teacher.expect(TypeAck, TypeMessage)
	if m := a.next().message(t); m.Seq != 1 {
		t.Fatalf("pupil A got %+v", m)
	}
	for _, b := range []*wsClient{b1, b2} {
		// Nothing of the conversation comes before the pong.
		b.request(TypePing, nil)
		b.expect(TypePong)
		b.send(conv.ID, "b1", "Je suis encore là ?")
		if e := b.expect(TypeError); !strings.Contains(string(e.Data), CodeNotFound) {
			t.Fatalf("send after removal: %s", e.Data)
		}
		b.request(TypeTyping, map[string]int64{"conversation": conv.ID})
		b.expect(TypeError)
	}

	// A's account is disabled on node 1: A's connection on node 2 closes,
	// and both nodes' OnRevoke hooks (the live rooms) are told.
	told1, told2 := make(chan int64, 4), make(chan int64, 4)
	h1.OnRevoke(func(u int64) { told1 <- u })
	h2.OnRevoke(func(u int64) { told2 <- u })
	a2 := connect(t, url1, f.pupilA)
	h1.Revoke(ctx, f.pupilA)
	for i, c := range []*wsClient{a, a2} {
		if err := c.closedWithin(rightsDelay); closeStatus(err) != StatusRevoked {
			t.Fatalf("revoked connection %d closed with %v", i, err)
		}
	}
	for i, told := range []chan int64{told1, told2} {
		select {
		case u := <-told:
			if u != f.pupilA {
				t.Errorf("node %d's OnRevoke got user %d, want %d", i+1, u, f.pupilA)
			}
		case <-time.After(rightsDelay):
			t.Errorf("node %d's OnRevoke not called within %v", i+1, rightsDelay)
		}
	}
	teacher.send(conv.ID, "t2", "Toujours là")
	teacher.expect(TypeAck, TypeMessage)
	teacher.request(TypePing, nil)
	teacher.expect(TypePong, TypeMessage)
	_ = h2
}

// TestSubscribeAfterRemoval: a user removed before subscribing is refused;
// a removal between the check and the join still ends the subscription.
func TestSubscribeAfterRemoval(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{}, nil)
	ctx := context.Background()
	if err := hs.store.RemoveMember(ctx, hs.conv.ID, hs.f.pupilB); err != nil {
		t.Fatal(err)
	}
	if err := hs.store.RemoveMember(ctx, hs.conv.ID, hs.f.pupilB); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second removal: %v", err)
	}
	b := connect(t, hs.url, hs.f.pupilB)
	b.subscribe(hs.conv.ID, 0)
	if e := b.expect(TypeError); !strings.Contains(string(e.Data), CodeNotFound) {
		t.Fatalf("subscribe after removal: %s", e.Data)
	}
	if n := hs.hub.Stats().Topics; n != 0 {
		t.Fatalf("%d topics left", n)
	}
}
