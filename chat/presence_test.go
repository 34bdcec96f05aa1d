package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

// presenceKits gives, per engine, a function returning the Presence of one
// more node of the same cluster.
func presenceKits() []struct {
	name    string
	cluster func(t *testing.T) func() Presence
} {
	return []struct {
		name    string
		cluster func(t *testing.T) func() Presence
	}{
		{"memory", func(t *testing.T) func() Presence {
			p := NewMemoryPresence()
			return func() Presence { return p }
		}},
		{"redis", func(t *testing.T) func() Presence {
			u := redisURL(t)
			ns := uniqueTopic("presence")
			return func() Presence {
				p, err := NewRedisPresence(context.Background(), u, ns)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { p.Close() })
				return p
			}
		}},
	}
}

// TestPresenceContract: one contract for both stores — the best state over
// nodes, Offline removes a node's report, reports expire.
func TestPresenceContract(t *testing.T) {
	for _, kit := range presenceKits() {
		t.Run(kit.name, func(t *testing.T) {
			ctx := context.Background()
			node := kit.cluster(t)
			a, b := node(), node()
			if err := a.Report(ctx, 1, map[int64]State{10: Away, 11: Online}, time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := b.Report(ctx, 2, map[int64]State{10: Online, 12: Away}, time.Minute); err != nil {
				t.Fatal(err)
			}
			got, err := a.States(ctx, []int64{10, 11, 12, 13})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(map[int64]State{10: Online, 11: Online, 12: Away}) {
				t.Fatalf("states %v", got)
			}
			b.Report(ctx, 2, map[int64]State{10: Offline}, time.Minute)
			if got, _ := b.States(ctx, []int64{10}); got[10] != Away {
				t.Fatalf("after node 2 left: %v", got[10])
			}
			a.Report(ctx, 1, map[int64]State{14: Online}, 50*time.Millisecond)
			time.Sleep(120 * time.Millisecond)
			if got, _ := a.States(ctx, []int64{14}); got[14] != Offline {
				t.Fatalf("an expired report still counts: %v", got[14])
			}
		})
	}
}

func presenceOfFrame(t *testing.T, f frame) map[int64]string {
	t.Helper()
	if f.Type != TypePresence {
		t.Fatalf("got %s %s, want presence", f.Type, f.Data)
	}
	var d PresenceData
	if err := json.Unmarshal(f.Data, &d); err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for _, m := range d.Members {
		out[m.User] = m.State
	}
	return out
}

// waitPresence reads presence frames (skipping others) until user has
// state.
func waitPresence(t *testing.T, c *wsClient, user int64, state string) {
	t.Helper()
	for {
		f := c.next(TypeMessage, TypeTyping, TypeAck, TypeSubscribed, TypePong)
		if presenceOfFrame(t, f)[user] == state {
			return
		}
	}
}

// TestPresenceTwoNodes: two hubs share a broker and a presence store (Redis
// for real nodes): in a small conversation, a member on the other node is
// seen coming online, away, typing and leaving; a large conversation gives
// counts only and relays no typing.
func TestPresenceTwoNodes(t *testing.T) {
	kits := brokerKits()
	pkits := presenceKits()
	for i := range kits {
		t.Run(kits[i].name, func(t *testing.T) {
			checkLeaks(t)
			d := dbtest.SQLite(t)
			presenceTwoNodes(t, d, kits[i].cluster(t, 0), pkits[i].cluster(t))
		})
	}
}

func presenceTwoNodes(t *testing.T, d *db.DB, broker func() Broker, presence func() Presence) {
	ctx := context.Background()
	sc := newSchool(t, d)
	s := NewStore(d)
	small, err := s.EnsureClassChannel(ctx, sc.c3A)
	if err != nil {
		t.Fatal(err)
	}
	// A large conversation: Léa, Tom, their teacher and 40 others.
	large, err := s.CreateConversation(ctx, Conversation{Kind: KindGroup, StructureID: sc.college, Title: "Collège", CreatedBy: sc.prof})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		p, err := directory.CreatePerson(ctx, d, directory.Person{FirstName: "N", LastName: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		s.AddMember(ctx, large.ID, p.ID, RoleMember)
	}
	s.AddMember(ctx, large.ID, sc.lea, RoleMember)
	s.AddMember(ctx, large.ID, sc.tom, RoleMember)

	ns := uniqueTopic("presence-nodes")
	_, url1 := startHub(t, s, broker(), Config{Namespace: ns, Presence: presence()}, nil)
	_, url2 := startHub(t, NewStore(d), broker(), Config{Namespace: ns, Presence: presence()}, nil)

	lea := connect(t, url1, sc.lea)
	lea.subscribe(small.ID, 0)
	lea.expect(TypeSubscribed)
	// Léa asks who is there: her own connection shows up online.
	eventually(t, "Léa online", func() bool {
		lea.request(TypePresence, map[string]int64{"conversation": small.ID})
		return presenceOfFrame(t, lea.next())[sc.lea] == "online"
	})
	tom := connect(t, url2, sc.tom)
	waitPresence(t, lea, sc.tom, "online")
	tom.subscribe(small.ID, 0)
	tom.expect(TypeSubscribed)
	tom.request(TypeTyping, map[string]int64{"conversation": small.ID})
	f := lea.expect(TypeTyping, TypePresence)
	var td TypingData
	json.Unmarshal(f.Data, &td)
	if td.User != sc.tom {
		t.Fatalf("typing %+v", td)
	}
	tom.request(TypeStatus, map[string]string{"state": "away"})
	waitPresence(t, lea, sc.tom, "away")
	tom.request(TypeStatus, map[string]string{"state": "online"})
	waitPresence(t, lea, sc.tom, "online")

	// The large conversation: counts, and no typing relayed.
	lea.subscribe(large.ID, 0)
	lea.expect(TypeSubscribed, TypePresence)
	tom.subscribe(large.ID, 0)
	tom.expect(TypeSubscribed, TypePresence, TypeTyping)
	lea.request(TypePresence, map[string]int64{"conversation": large.ID})
	f = lea.expect(TypePresenceCount, TypePresence)
	var counts PresenceCountData
	json.Unmarshal(f.Data, &counts)
	if counts.Members != 43 || counts.Online != 2 || counts.Away != 0 {
		t.Fatalf("counts %+v", counts)
	}
	tom.request(TypeTyping, map[string]int64{"conversation": large.ID})
	tom.request(TypePing, nil)
	tom.expect(TypePong, TypePresence, TypeTyping)
	lea.request(TypePing, nil)
	if f := lea.next(TypePresence); f.Type != TypePong {
		t.Fatalf("got %s %s before the pong: typing relayed in a large conversation?", f.Type, f.Data)
	}

	tom.conn.Close(1000, "")
	waitPresence(t, lea, sc.tom, "offline")
}

// TestPresenceJoinStorm: 200 members of one large conversation connect and
// all watch its presence: no per-member presence frame is fanned out (the
// cost of the storm is linear: one report per user), and the counts see
// everyone.
func TestPresenceJoinStorm(t *testing.T) {
	checkLeaks(t)
	d := dbtest.SQLite(t)
	ctx := context.Background()
	sc := newSchool(t, d)
	s := NewStore(d)
	conv, err := s.CreateConversation(ctx, Conversation{Kind: KindGroup, StructureID: sc.college, Title: "Tout le collège"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	users := make([]int64, n)
	err = d.InTx(ctx, func(tx *db.Tx) error {
		for i := range users {
			p, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "M", LastName: fmt.Sprint(i)})
			if err != nil {
				return err
			}
			users[i] = p.ID
		}
		return addMembers(ctx, tx, conv.ID, users, RoleMember, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	b := NewMemoryBroker(0)
	t.Cleanup(func() { b.Close() })
	h, url := startHub(t, s, b, Config{}, nil)
	clients := make([]*wsClient, n)
	for i, u := range users {
		clients[i] = connect(t, url, u)
		clients[i].subscribe(conv.ID, 0)
		clients[i].request(TypePresence, map[string]int64{"conversation": conv.ID})
	}
	for _, c := range clients {
		c.expect(TypeSubscribed)
		c.expect(TypePresenceCount)
	}
	eventually(t, "everyone reported online", func() bool {
		st, err := h.presence.States(ctx, users)
		return err == nil && len(st) == n
	})
	h.pmu.Lock()
	clear(h.counts) // counts are cached for 5 s
	h.pmu.Unlock()
	clients[0].request(TypePresence, map[string]int64{"conversation": conv.ID})
	var counts PresenceCountData
	json.Unmarshal(clients[0].expect(TypePresenceCount).Data, &counts)
	if counts.Online != n || counts.Members != n {
		t.Errorf("counts %+v, want %d online of %d", counts, n, n)
	}
	if got := h.Stats().Delivered; got != 0 {
		t.Errorf("%d frames fanned out during a join storm of %d in a large conversation, want 0", got, n)
	}
}

// downPresence is a presence store that is away, like Redis stopped.
type downPresence struct{}

func (downPresence) Report(context.Context, uint64, map[int64]State, time.Duration) error {
	return fmt.Errorf("presence store down")
}
func (downPresence) States(context.Context, []int64) (map[int64]State, error) {
	return nil, fmt.Errorf("presence store down")
}

// TestPresenceStoreDown: with the shared store away, a node still answers
// with its own users, and messages flow as usual.
func TestPresenceStoreDown(t *testing.T) {
	checkLeaks(t)
	d := dbtest.SQLite(t)
	sc := newSchool(t, d)
	s := NewStore(d)
	c, err := s.EnsureClassChannel(context.Background(), sc.c3A)
	if err != nil {
		t.Fatal(err)
	}
	b := NewMemoryBroker(0)
	t.Cleanup(func() { b.Close() })
	_, url := startHub(t, s, b, Config{Presence: downPresence{}}, nil)
	lea, tom := connect(t, url, sc.lea), connect(t, url, sc.tom)
	lea.subscribe(c.ID, 0)
	lea.expect(TypeSubscribed)
	lea.request(TypePresence, map[string]int64{"conversation": c.ID})
	got := presenceOfFrame(t, lea.next())
	if got[sc.lea] != "online" || got[sc.tom] != "online" || got[sc.prof] != "offline" {
		t.Fatalf("presence with the store down: %v", got)
	}
	tom.send(c.ID, "t1", "toujours là")
	tom.expect(TypeAck)
	if m := lea.expect(TypeMessage).message(t); m.Body != "toujours là" {
		t.Fatalf("message %+v", m)
	}
}
