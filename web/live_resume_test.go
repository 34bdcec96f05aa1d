package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	livestore "preau/ent/live"
	"preau/sfu/placement"
)

// TestWithPrior: the roll call of a lesson re-created after its node died
// adds each person's time before the crash to their time after it, keeps
// their first arrival, and keeps those who did not come back as they were
// at the crash.
func TestWithPrior(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	l := lesson{prior: map[int64]livestore.Attendance{
		3: {UserID: 3, Name: "Paul Dupont", FirstJoin: at(0), LastLeave: at(20), Total: 20 * time.Minute, Sessions: 1},
		7: {UserID: 7, Name: "Léa Martin", FirstJoin: at(1), LastLeave: at(20), Total: 16 * time.Minute, Sessions: 2},
		9: {UserID: 9, Name: "Hugo Petit", FirstJoin: at(2), LastLeave: at(20), Total: 18 * time.Minute, Sessions: 1},
	}}
	after := []livestore.Attendance{
		{UserID: 9000, Name: "Nouvelle", FirstJoin: at(22), Sessions: 1, Since: at(22)},
		// The teacher is back at 21 and still there (a journal row).
		{UserID: 3, Name: "Paul Dupont", FirstJoin: at(21), Sessions: 1, Since: at(21)},
		// Léa is back at 21 and left at 25.
		{UserID: 7, Name: "Léa Martin", FirstJoin: at(21), LastLeave: at(25), Total: 4 * time.Minute, Sessions: 1},
	}
	got := l.withPrior(after)
	if len(got) != 4 {
		t.Fatalf("withPrior = %+v, want 4 rows", got)
	}
	byUser := map[int64]livestore.Attendance{}
	for i, a := range got {
		if i > 0 && got[i-1].UserID >= a.UserID {
			t.Errorf("rows not ordered by user: %+v", got)
		}
		byUser[a.UserID] = a
	}
	if a := byUser[3]; !a.FirstJoin.Equal(at(0)) || a.Total != 20*time.Minute || a.Sessions != 2 || !a.Since.Equal(at(21)) || !a.LastLeave.IsZero() {
		t.Errorf("the teacher: %+v", a)
	}
	if a := byUser[7]; !a.FirstJoin.Equal(at(1)) || a.Total != 20*time.Minute || a.Sessions != 3 || !a.LastLeave.Equal(at(25)) {
		t.Errorf("Léa: %+v", a)
	}
	if a := byUser[9]; a != l.prior[9] {
		t.Errorf("Hugo, who did not come back: %+v, want %+v", a, l.prior[9])
	}
	if a := byUser[9000]; a != after[0] {
		t.Errorf("a newcomer after the crash: %+v, want %+v", a, after[0])
	}
	// A lesson that was not re-created: rows as they are.
	if got := (&lesson{}).withPrior(after); len(got) != 3 || got[0] != after[0] {
		t.Errorf("withPrior without prior = %+v", got)
	}
}

// TestSweepPlacement: a node drops the registry entries of dead nodes that
// no page will bring back — a lesson no longer running in the database, a
// meeting whose window closed, an ended mark of a dead node — and keeps
// the ones pages may still re-create, and those of live nodes.
func TestSweepPlacement(t *testing.T) {
	f, live := liveFixture(t)
	ctx := context.Background()
	now := time.Now()
	live.ready()
	reg := live.Registry
	if _, err := livestore.NewStore(f.d).Start(ctx, livestore.Lesson{Room: "cours-1-1", Structure: f.college,
		ClassID: f.classA, StartedBy: f.teacher.ID, StartedAt: now}); err != nil {
		t.Fatal(err)
	}
	reg.Beat(ctx, placement.Node{ID: "alive", URL: "http://127.0.0.1:1"})
	lessonMeta := func(room string) json.RawMessage {
		b, _ := json.Marshal(placedLesson{Room: room, ClassID: 1, Structure: f.college})
		return b
	}
	meetingMeta := func(closes time.Time) json.RawMessage {
		b, _ := json.Marshal(placedMeeting{Closes: closes})
		return b
	}
	for _, r := range []placement.Room{
		{ID: "classe-1", Node: "dead", Meta: lessonMeta("cours-1-1")},                  // still running: kept
		{ID: "classe-2", Node: "dead", Meta: lessonMeta("cours-2-1")},                  // not running: dropped
		{ID: "classe-3", Node: "alive", Meta: lessonMeta("cours-3-1")},                 // a live node's: kept
		{ID: "rdv-1", Node: "dead", Meta: meetingMeta(now.Add(-time.Minute))},          // closed: dropped
		{ID: "rdv-2", Node: "dead", Meta: meetingMeta(now.Add(time.Hour))},             // still open: kept
		{ID: "rdv-3", Node: endedMark("dead"), Meta: meetingMeta(now.Add(time.Hour))},  // dead mark: dropped
		{ID: "rdv-4", Node: endedMark("alive"), Meta: meetingMeta(now.Add(time.Hour))}, // its node ends it: kept
	} {
		if _, ok, err := reg.Claim(ctx, r); !ok || err != nil {
			t.Fatalf("claim %s: %v %v", r.ID, ok, err)
		}
	}
	f.srv.sweepPlacement(ctx, now)
	rooms, err := reg.Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, r := range rooms {
		left = append(left, r.ID)
	}
	if want := []string{"classe-1", "classe-3", "rdv-2", "rdv-4"}; !slices.Equal(left, want) {
		t.Errorf("entries after the sweep: %v, want %v", left, want)
	}
}

// TestLivePlacedElsewhere: a node that was taken for dead (its lesson
// re-created on another node meanwhile) finds the registry entry on that
// node at its next beat; it abandons its room — the pages are cut without
// "ended" and reconnect there — and records no end: the lesson's row keeps
// running, for the other node to go on with.
func TestLivePlacedElsewhere(t *testing.T) {
	f, live := liveFixture(t)
	live.RollCallEvery = 50 * time.Millisecond
	w := f.do("POST", "/api/v1/live/lessons", classBody(f.classA), withCookie(f.session(t, f.teacher)))
	wantCode(t, w, http.StatusCreated, "teacher starts 3e A")
	l := decodeBody[lesson](t, w)
	ctx := context.Background()
	store := livestore.NewStore(f.d)
	waitUntil(t, 5*time.Second, "the lesson journaled", func() bool {
		_, err := store.Running(ctx, l.Room)
		return err == nil
	})
	// Another node re-created it: the entry is on that node now.
	reg, self := live.Registry, live.Node.ID
	reg.Beat(ctx, placement.Node{ID: "other", URL: "http://127.0.0.1:1"})
	if ok, err := reg.Move(ctx, lessonKey(f.classA), self, "other"); !ok || err != nil {
		t.Fatalf("move the entry: %v %v", ok, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.srv.RunPlacement(rctx) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, 5*time.Second, "the room abandoned here", func() bool { return live.Manager.Room(l.Room) == nil })
	time.Sleep(200 * time.Millisecond) // an end would have been saved by now
	if got, err := store.Running(ctx, l.Room); err != nil {
		t.Errorf("the lesson's row after the room moved: %+v, %v; want still running", got, err)
	}
	if r, err := reg.Get(ctx, lessonKey(f.classA)); err != nil || r.Node != "other" {
		t.Errorf("the entry after the room moved: %+v, %v; want on the other node", r, err)
	}
}

// TestLiveRefusedNode: a page comes back for a lesson whose node refuses
// connections and has missed its beats, before the registry's TTL says it
// is dead: the room is re-created here at once, under the same id, rather
// than after the TTL.
func TestLiveRefusedNode(t *testing.T) {
	f, live := liveFixture(t)
	ctx := context.Background()
	live.ready()
	reg, self := live.Registry, live.Node.ID
	room := fmt.Sprintf("cours-%d-1", f.classA)
	if _, err := livestore.NewStore(f.d).Start(ctx, livestore.Lesson{Room: room, Structure: f.college, ClassID: f.classA,
		StartedBy: f.teacher.ID, StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more
	reg.Beat(ctx, placement.Node{ID: "gone", URL: gone})
	meta, _ := json.Marshal(placedLesson{Room: room, ClassID: f.classA, Structure: f.college, StartedBy: f.teacher.ID})
	if _, ok, err := reg.Claim(ctx, placement.Room{ID: lessonKey(f.classA), Node: "gone", Meta: meta}); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	ws := httptest.NewServer(f.srv.LiveWS())
	defer ws.Close()
	get := func() {
		resp, err := http.Get(ws.URL + "/live/ws?room=" + room)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// Beating a moment ago: refused, but not taken for dead yet.
	get()
	if live.Manager.Room(room) != nil {
		t.Fatal("re-created while its node had just beaten")
	}
	time.Sleep(2*placementBeat + 100*time.Millisecond)
	if nodes, _ := reg.Nodes(ctx); !placement.Alive(nodes, "gone") {
		t.Fatal("the registry already takes the node for dead: the test needs a longer TTL")
	}
	get()
	if live.Manager.Room(room) == nil {
		t.Fatal("the room was not re-created here")
	}
	if r, err := reg.Get(ctx, lessonKey(f.classA)); err != nil || r.Node != self {
		t.Errorf("entry %+v, %v; want on this node", r, err)
	}
}
