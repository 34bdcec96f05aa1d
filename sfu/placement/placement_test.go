package placement

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"preau/internal/testsvc"
)

const testTTL = 400 * time.Millisecond

// registries returns the implementations under test: Memory, and Redis in a
// fresh namespace.
func registries(t *testing.T) map[string]Registry {
	t.Helper()
	u := os.Getenv("PREAU_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/15"
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out := map[string]Registry{"memory": NewMemory(testTTL)}
	if err := rdb.Ping(ctx).Err(); err != nil {
		testsvc.Missing(t, "Redis", fmt.Sprintf("%s: %v", u, err))
		return out
	}
	b := make([]byte, 6)
	rand.Read(b)
	ns := "placement-test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		keys, _ := rdb.Keys(ctx, ns+":*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	out["redis"] = NewRedis(rdb, ns, testTTL)
	return out
}

func TestRegistry(t *testing.T) {
	for name, reg := range registries(t) {
		t.Run(name, func(t *testing.T) { contract(t, reg) })
	}
}

func contract(t *testing.T, reg Registry) {
	ctx := context.Background()

	// Nodes beat; the least loaded, not draining, is picked.
	for _, n := range []Node{
		{ID: "a", URL: "http://10.0.0.1:8080", Rooms: 3, Participants: 90},
		{ID: "b", URL: "http://10.0.0.2:8080", Rooms: 1, Participants: 30},
		{ID: "c", URL: "http://10.0.0.3:8080", Rooms: 0, Participants: 0, Draining: true},
	} {
		if err := reg.Beat(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	nodes, err := reg.Nodes(ctx)
	if err != nil || len(nodes) != 3 || nodes[0].ID != "a" || nodes[1].URL != "http://10.0.0.2:8080" || !nodes[2].Draining {
		t.Fatalf("Nodes = %+v, %v", nodes, err)
	}
	if n, ok := Pick(nodes); !ok || n.ID != "b" {
		t.Errorf("Pick = %+v %v, want b (c drains, a is busier)", n, ok)
	}
	if err := reg.Leave(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if nodes, _ := reg.Nodes(ctx); len(nodes) != 2 || Alive(nodes, "c") {
		t.Errorf("after c left: %+v", nodes)
	}

	// Ten nodes claim one room at once: one places it, all see the same.
	meta := []byte(`{"class_id":9007199254740993,"name":"3e A"}`) // beyond a float64's integers
	var wg sync.WaitGroup
	results := make([]Room, 10)
	placed := make([]bool, 10)
	for i := range 10 {
		wg.Go(func() {
			r, ok, err := reg.Claim(ctx, Room{ID: "cours-1", Node: fmt.Sprint("n", i), Meta: meta})
			if err != nil {
				t.Error(err)
			}
			results[i], placed[i] = r, ok
		})
	}
	wg.Wait()
	winners := 0
	for i := range 10 {
		if placed[i] {
			winners++
		}
		if results[i].Node != results[0].Node || string(results[i].Meta) != string(meta) {
			t.Errorf("claim %d saw %+v, claim 0 saw %+v", i, results[i], results[0])
		}
	}
	if winners != 1 {
		t.Fatalf("%d claims placed the room, want 1", winners)
	}
	owner := results[0].Node
	if r, err := reg.Get(ctx, "cours-1"); err != nil || r.Node != owner || string(r.Meta) != string(meta) {
		t.Fatalf("Get = %+v, %v", r, err)
	}

	// Its node died: two nodes race to move it; one does.
	var moved [2]bool
	for i, to := range []string{"a", "b"} {
		wg.Go(func() {
			ok, err := reg.Move(ctx, "cours-1", owner, to)
			if err != nil {
				t.Error(err)
			}
			moved[i] = ok
		})
	}
	wg.Wait()
	if moved[0] == moved[1] {
		t.Fatalf("moves %v, want exactly one", moved)
	}
	now := map[bool]string{true: "a", false: "b"}[moved[0]]
	if r, _ := reg.Get(ctx, "cours-1"); r.Node != now || string(r.Meta) != string(meta) {
		t.Errorf("after the move: %+v, want on %s with its meta", r, now)
	}
	if ok, _ := reg.Move(ctx, "inconnue", "a", "b"); ok {
		t.Error("moved a room that is not placed")
	}

	// Rooms lists; a release by another node does nothing; by its own, it goes.
	if _, _, err := reg.Claim(ctx, Room{ID: "reunion-2", Node: "a"}); err != nil {
		t.Fatal(err)
	}
	if rooms, err := reg.Rooms(ctx); err != nil || len(rooms) != 2 || rooms[0].ID != "cours-1" || rooms[1].ID != "reunion-2" || rooms[1].Meta != nil {
		t.Fatalf("Rooms = %+v, %v", rooms, err)
	}
	other := map[string]string{"a": "b", "b": "a"}[now]
	if err := reg.Release(ctx, "cours-1", other); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Get(ctx, "cours-1"); err != nil {
		t.Fatalf("released by a node that does not hold it: %v", err)
	}
	if err := reg.Release(ctx, "cours-1", now); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Get(ctx, "cours-1"); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("Get after release: %v, want ErrNoRoom", err)
	}
	if rooms, _ := reg.Rooms(ctx); len(rooms) != 1 || rooms[0].ID != "reunion-2" {
		t.Errorf("Rooms after release = %+v", rooms)
	}

	// A node that stops beating expires; one that goes on stays.
	deadline := time.Now().Add(10 * testTTL)
	for {
		reg.Beat(ctx, Node{ID: "b", URL: "http://10.0.0.2:8080"})
		nodes, err := reg.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !Alive(nodes, "a") {
			if !Alive(nodes, "b") {
				t.Fatalf("b expired while beating: %+v", nodes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a still alive %v after its last beat (TTL %v): %+v", 10*testTTL, testTTL, nodes)
		}
		time.Sleep(testTTL / 4)
	}
}

func TestPick(t *testing.T) {
	if _, ok := Pick(nil); ok {
		t.Error("picked a node among none")
	}
	if _, ok := Pick([]Node{{ID: "a", Draining: true}}); ok {
		t.Error("picked a draining node")
	}
	n, _ := Pick([]Node{{ID: "b", Participants: 5, Rooms: 1}, {ID: "a", Participants: 5, Rooms: 1}, {ID: "c", Participants: 5, Rooms: 2}})
	if n.ID != "a" {
		t.Errorf("Pick among equals = %s, want a (smallest id)", n.ID)
	}
}
