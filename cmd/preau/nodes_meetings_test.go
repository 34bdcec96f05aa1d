//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestNodesMeetingAcross (issue 8, "Live rooms", for meetings): the demo's
// video meeting of prof.demo, open now, reached through two nodes — the
// teacher through B, parent.demo (Léa's other guardian) through A. Both are
// in one room, on one node: the teacher sees the parent come in. The
// teacher ends it through the node that does not run it (forwarded): both
// are told. Opened again, the teacher cancels the booking through the
// other node: the room ends on its node, for both. Booked again and
// joined, the room's node is killed (SIGKILL): the two pages come back
// through the survivor with the grants they hold, and find a room of the
// same id re-created there.
func TestNodesMeetingAcross(t *testing.T) {
	cl := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var slot, child int64
	if err := cl.d.QueryRow(ctx, `SELECT s.id, b.child_id FROM meeting_slots s JOIN users u ON u.id = s.teacher_id
		JOIN meeting_bookings b ON b.slot_id = s.id WHERE s.mode = 'video' AND u.login = 'prof.demo'
		ORDER BY s.starts_at_ms, s.id LIMIT 1`).Scan(&slot, &child); err != nil {
		t.Fatal(err)
	}
	room := fmt.Sprintf("rdv-%d", slot)
	_, teacher := cl.session(t, "prof.demo")
	parentID, parent := cl.session(t, "parent.demo")
	reg := cl.registry(t, ctx)
	isJoined := func(e liveEvent) bool { return e.Type == "joined" || e.Type == "error" || e.Type == "closed" }
	sawParent := func(e liveEvent) bool {
		return e.Type == "participant_joined" && e.Participant != nil && e.Participant.User == fmt.Sprint(parentID)
	}
	// join: the teacher through B, then the parent through A; one room, on
	// one node, returned with the other node and the events.
	join := func(step string) (owner, other *nodeProc, teacherLive, parentLive <-chan liveEvent) {
		t.Helper()
		teacherLive = joinLive(t, ctx, cl.b.url, teacher, room)
		if e, _ := waitLive(teacherLive, 10*time.Second, isJoined); e.Type != "joined" {
			t.Fatalf("%s: the teacher joins through B: %+v", step, e)
		}
		parentLive = joinLive(t, ctx, cl.a.url, parent, room)
		if e, _ := waitLive(parentLive, 10*time.Second, isJoined); e.Type != "joined" {
			t.Fatalf("%s: the parent joins through A: %+v", step, e)
		}
		if _, ok := waitLive(teacherLive, 5*time.Second, sawParent); !ok {
			t.Fatalf("%s: the teacher (through B) did not see the parent (through A) come in: two rooms?", step)
		}
		a, b := liveRooms(t, cl.a), liveRooms(t, cl.b)
		switch {
		case a == 1 && b == 0:
			owner, other = cl.a, cl.b
		case a == 0 && b == 1:
			owner, other = cl.b, cl.a
		default:
			t.Fatalf("%s: rooms: A %d, B %d; want the meeting on one node", step, a, b)
		}
		return owner, other, teacherLive, parentLive
	}
	bothEnded := func(step string, chans ...<-chan liveEvent) {
		t.Helper()
		for i, ch := range chans {
			if e, ok := waitLive(ch, 5*time.Second, func(e liveEvent) bool { return e.Type == "ended" || e.Type == "closed" }); !ok || e.Type != "ended" {
				t.Errorf("%s: participant %d was not told the meeting ended: %+v", step, i, e)
			}
		}
		for _, n := range []*nodeProc{cl.a, cl.b} {
			waitFor(t, 5*time.Second, step+": no room left on node "+n.name, func() bool { return liveRooms(t, n) == 0 })
		}
	}

	// 1. One room across the nodes; ended through the other node.
	start := time.Now()
	owner, other, teacherLive, parentLive := join("first join")
	t.Logf("first join: the room runs on node %s (%v)", owner.name, time.Since(start).Round(time.Millisecond))
	if r := do(other.url, parent, "POST", "/api/v1/live/rooms/"+room+"/end", "", nil); r.code != http.StatusNotFound {
		t.Errorf("the parent ends the meeting through %s: %s, want 404", other.name, r)
	}
	if r := do(other.url, teacher, "POST", "/api/v1/live/rooms/"+room+"/end", "", nil); r.code != http.StatusNoContent {
		t.Fatalf("the teacher ends the meeting through %s: %s", other.name, r)
	}
	bothEnded("end", teacherLive, parentLive)

	// 2. Opened again; the booking cancelled through the other node.
	owner, other, teacherLive, parentLive = join("second join")
	cancelled := time.Now()
	if r := do(other.url, teacher, "DELETE", fmt.Sprintf("/api/v1/meetings/slots/%d/booking", slot), "", nil); r.code != http.StatusNoContent {
		t.Fatalf("the teacher cancels through %s: %s", other.name, r)
	}
	bothEnded("cancel", teacherLive, parentLive)
	t.Logf("cancelled through node %s: the room on node %s ended within %v", other.name, owner.name, time.Since(cancelled).Round(time.Millisecond))
	if r := do(owner.url, parent, "POST", "/api/v1/live/rooms/"+room+"/grant", "", nil); r.code != http.StatusNotFound {
		t.Errorf("a grant after the cancellation: %s, want 404", r)
	}

	// 3. Booked again by parent.demo; the room's node dies.
	if r := do(cl.a.url, parent, "POST", fmt.Sprintf("/api/v1/meetings/slots/%d/booking", slot), "application/json",
		fmt.Appendf(nil, `{"child_id":%d}`, child)); r.code != http.StatusCreated {
		t.Fatalf("parent.demo books the slot again: %s", r)
	}
	teacherGrant := meetingGrant(t, cl.b.url, teacher, room)
	parentGrant := meetingGrant(t, cl.a.url, parent, room)
	owner, other, _, _ = join("third join")
	owner.kill(t)
	killed := time.Now()
	// What live.js does: reconnect, with the grant it holds, to whatever
	// node answers, until it is in.
	teacherBack := rejoinLive(t, ctx, other.url, teacher, room, teacherGrant)
	rejoinLive(t, ctx, other.url, parent, room, parentGrant)
	back := time.Since(killed)
	if _, ok := waitLive(teacherBack, 5*time.Second, sawParent); !ok {
		t.Error("after the kill, the teacher did not see the parent in the re-created room")
	}
	if n := liveRooms(t, other); n != 1 {
		t.Errorf("rooms on the survivor %s: %d, want 1", other.name, n)
	}
	r, err := reg.Get(ctx, room)
	ns, _ := reg.Nodes(ctx)
	if err != nil || len(ns) != 1 || r.Node != ns[0].ID || ns[0].URL != other.url {
		t.Errorf("registry after the kill: %s on %+v (%v), live nodes %+v; want the survivor %s", room, r, err, ns, other.url)
	}
	t.Logf("kill -9 of node %s: both back in %s on node %s after %v", owner.name, room, other.name, back.Round(time.Millisecond))
}

// meetingGrant asks base for a grant to room with the session cookie.
func meetingGrant(t *testing.T, base, cookie, room string) string {
	t.Helper()
	r := do(base, cookie, "POST", "/api/v1/live/rooms/"+room+"/grant", "", nil)
	if r.code != http.StatusOK {
		t.Fatalf("grant to %s on %s: %s", room, base, r)
	}
	var g struct{ Grant string }
	r.decode(t, &g)
	return g.Grant
}

// rejoinLive joins room over base's /live/ws with grant, again every
// 500 ms until "joined", for up to 15 s, and returns the events of the
// connection that got in.
func rejoinLive(t *testing.T, ctx context.Context, base, cookie, room, grant string) <-chan liveEvent {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ch, err := dialLive(ctx, base, cookie, room, grant)
		if err == nil {
			e, _ := waitLive(ch, 5*time.Second, func(e liveEvent) bool {
				return e.Type == "joined" || e.Type == "error" || e.Type == "closed"
			})
			if e.Type == "joined" {
				return ch
			}
			last = fmt.Sprintf("%+v", e)
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("rejoin %s through %s: not in after 15 s (last: %s)", room, base, last)
	return nil
}

// dialLive is joinLive with a grant in hand; the socket closes with ctx.
func dialLive(ctx context.Context, base, cookie, room, grant string) (<-chan liveEvent, error) {
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(base, "http")+"/live/ws?room="+url.QueryEscape(room),
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie}}})
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(map[string]any{"v": 1, "type": "join", "room": room, "grant": grant})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		ws.CloseNow()
		return nil, err
	}
	ch := make(chan liveEvent, 64)
	go func() {
		defer close(ch)
		defer ws.CloseNow()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			var e liveEvent
			if json.Unmarshal(b, &e) == nil {
				select {
				case ch <- e:
				default:
				}
			}
		}
	}()
	return ch, nil
}
