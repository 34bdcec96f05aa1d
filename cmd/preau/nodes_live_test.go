//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"preau/sfu/placement"
	"preau/web"
)

// TestNodesLiveAcross (issue 8, "Live rooms"): a lesson started through
// node A opens on the least-loaded node; the next one, asked of the node
// that runs the first, opens on the other. Each node lists both lessons,
// hands out grants for them and forwards the signaling socket to the room's
// node (/live/ws?room=…): the pupil joins through the node that does not
// run the room and the teacher sees them. Starting the class's lesson again
// on either node returns the running one; ending it through the other node
// is forwarded to its node, which ends it for everyone.
func TestNodesLiveAcross(t *testing.T) {
	cl := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	classes := map[string]int64{}
	for _, name := range []string{"3e A", "6e A"} {
		var id int64
		if err := cl.d.QueryRow(ctx, "SELECT id FROM classes WHERE name = ?", name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		classes[name] = id
	}
	_, teacher := cl.session(t, "prof.demo")
	pupilID, pupil := cl.session(t, "eleve.demo")
	start := func(base, class string, want int) string {
		t.Helper()
		r := do(base, teacher, "POST", "/api/v1/live/lessons", "application/json", fmt.Appendf(nil, `{"class_id":%d}`, classes[class]))
		if r.code != want {
			t.Fatalf("start %s through %s: %s, want %d", class, base, r, want)
		}
		var l struct{ Room string }
		r.decode(t, &l)
		return l.Room
	}
	nodes := []*nodeProc{cl.a, cl.b}
	// Wait until both nodes beat, so that either may be picked.
	reg := cl.registry(t, ctx)

	room1 := start(cl.a.url, "3e A", http.StatusCreated)
	owner, other := nodes[0], nodes[1]
	if liveRooms(t, cl.b) == 1 {
		owner, other = other, owner
	}
	if liveRooms(t, owner) != 1 || liveRooms(t, other) != 0 {
		t.Fatalf("rooms after the first start: A %d, B %d", liveRooms(t, cl.a), liveRooms(t, cl.b))
	}
	teacherLive, teacherWS := joinLiveConn(t, ctx, cl.a.url, teacher, room1)
	if e, ok := waitLive(teacherLive, 10*time.Second, func(e liveEvent) bool { return e.Type == "joined" || e.Type == "error" }); !ok || e.Type != "joined" {
		t.Fatalf("the teacher joins through A: %+v", e)
	}
	// Once the owner's beat carries its participant, a new lesson asked of
	// the owner opens on the other node.
	waitFor(t, 5*time.Second, "the owner's load in the registry", func() bool {
		ns, err := reg.Nodes(ctx)
		if err != nil {
			return false
		}
		for _, n := range ns {
			if n.URL == owner.url && n.Participants >= 1 {
				return true
			}
		}
		return false
	})
	start(owner.url, "6e A", http.StatusCreated)
	if liveRooms(t, owner) != 1 || liveRooms(t, other) != 1 {
		t.Errorf("rooms after the second start: owner %d, other %d; want 1 and 1", liveRooms(t, owner), liveRooms(t, other))
	}

	// Both nodes list the first lesson; starting it again gives it back.
	for _, n := range nodes {
		waitFor(t, 5*time.Second, "node "+n.name+" to list the lesson", func() bool {
			r := do(n.url, pupil, "GET", "/api/v1/live/lessons", "", nil)
			return r.code == http.StatusOK && strings.Contains(string(r.body), room1)
		})
		if again := start(n.url, "3e A", http.StatusOK); again != room1 {
			t.Errorf("start 3e A again through %s: room %s, want %s", n.name, again, room1)
		}
	}
	// The pupil comes through the other node: grant there, socket forwarded.
	pupilLive := joinLive(t, ctx, other.url, pupil, room1)
	if e, ok := waitLive(pupilLive, 10*time.Second, func(e liveEvent) bool { return e.Type == "joined" || e.Type == "error" }); !ok || e.Type != "joined" {
		t.Fatalf("the pupil joins through %s: %+v", other.name, e)
	}
	if _, ok := waitLive(teacherLive, 5*time.Second, func(e liveEvent) bool {
		return e.Type == "participant_joined" && e.Participant != nil && e.Participant.User == fmt.Sprint(pupilID)
	}); !ok {
		t.Fatal("the teacher did not see the pupil who came through the other node")
	}
	// Revocation across nodes (fault test 6): the teacher, whose socket
	// came through A, removes a second pupil whose socket came through B;
	// the pupil is cut off within 1 s, wherever the room runs.
	var kickedID int64
	if err := cl.d.QueryRow(ctx, `SELECT e.user_id FROM enrolments e WHERE e.class_id = ? AND e.user_id <> ?
		ORDER BY e.user_id LIMIT 1`, classes["3e A"], pupilID).Scan(&kickedID); err != nil || cl.cookie[kickedID] == "" {
		t.Fatalf("a second pupil of 3e A with a session: %d, %v", kickedID, err)
	}
	kickedLive := joinLive(t, ctx, cl.b.url, cl.cookie[kickedID], room1)
	if e, ok := waitLive(kickedLive, 10*time.Second, func(e liveEvent) bool { return e.Type == "joined" || e.Type == "error" }); !ok || e.Type != "joined" {
		t.Fatalf("the second pupil joins through B: %+v", e)
	}
	kick, _ := json.Marshal(map[string]any{"v": 1, "type": "kick", "user": fmt.Sprint(kickedID)})
	kickedAt := time.Now()
	if err := teacherWS.Write(ctx, websocket.MessageText, kick); err != nil {
		t.Fatal(err)
	}
	if e, ok := waitLive(kickedLive, time.Second, func(e liveEvent) bool { return e.Type == "error" || e.Type == "closed" }); !ok ||
		(e.Type == "error" && e.Code != "kicked") {
		t.Errorf("the kicked pupil (through B, room on %s) was not cut off within 1 s: %+v", owner.name, e)
	} else {
		t.Logf("kick across nodes: the pupil's socket through B got %q %v after the teacher's kick through A", e.Code, time.Since(kickedAt).Round(100*time.Microsecond))
	}
	// Nor may they come back through the other node.
	again := joinLive(t, ctx, cl.a.url, cl.cookie[kickedID], room1)
	if e, ok := waitLive(again, 10*time.Second, func(e liveEvent) bool { return e.Type == "joined" || e.Type == "error" }); !ok || e.Type != "error" {
		t.Errorf("the kicked pupil rejoins through A: %+v, want an error", e)
	}

	// A parent may not end it, through the other node either.
	_, parent := cl.session(t, "parent.demo")
	if r := do(other.url, parent, "POST", "/api/v1/live/rooms/"+room1+"/end", "", nil); r.code != http.StatusNotFound {
		t.Errorf("a parent ends the lesson through %s: %s, want 404", other.name, r)
	}

	// Ended through the other node: its node ends it, everyone is told.
	if r := do(other.url, teacher, "POST", "/api/v1/live/rooms/"+room1+"/end", "", nil); r.code != http.StatusNoContent {
		t.Fatalf("end through %s: %s", other.name, r)
	}
	for name, ch := range map[string]<-chan liveEvent{"teacher": teacherLive, "pupil": pupilLive} {
		if _, ok := waitLive(ch, 5*time.Second, func(e liveEvent) bool { return e.Type == "ended" }); !ok {
			t.Errorf("the %s was not told the lesson ended", name)
		}
	}
	for _, n := range nodes {
		waitFor(t, 5*time.Second, "node "+n.name+" to stop listing the lesson", func() bool {
			r := do(n.url, pupil, "GET", "/api/v1/live/lessons", "", nil)
			return r.code == http.StatusOK && !strings.Contains(string(r.body), room1)
		})
	}
}

// liveRooms reads preau_sfu_rooms from the node's /metrics.
func liveRooms(t *testing.T, n *nodeProc) int {
	t.Helper()
	r := do(n.url, "", "GET", "/metrics", "", nil)
	if r.code != http.StatusOK {
		t.Fatalf("node %s /metrics: %d", n.name, r.code)
	}
	sc := bufio.NewScanner(strings.NewReader(string(r.body)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "preau_sfu_rooms "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(f)
		}
	}
	t.Fatalf("node %s: no preau_sfu_rooms in /metrics", n.name)
	return 0
}

// registry is the nodes' placement registry in their Redis, once both
// nodes beat in it (so that either may be picked for a new room).
func (cl *cluster) registry(t *testing.T, ctx context.Context) *placement.Redis {
	t.Helper()
	opts, err := redis.ParseURL(cl.redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	reg := placement.NewRedis(rdb, "preau", web.PlacementTTL)
	waitFor(t, 5*time.Second, "both nodes in the registry", func() bool {
		ns, err := reg.Nodes(ctx)
		return err == nil && len(ns) == 2
	})
	return reg
}
