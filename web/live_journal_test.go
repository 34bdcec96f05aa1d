package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"preau/db"
	"preau/ent/directory"
	livestore "preau/ent/live"
	"preau/internal/dbtest"
	"preau/sfu"
)

// TestLiveJournalCrash: the roll call is written while the lesson runs. The
// teacher and two pupils join, one pupil leaves; then the node "dies": the
// journal stops and the room never ends (no OnEnd, the in-memory manager and
// registry are dropped). After the restart the lesson is in the database
// with its roll call up to the last heartbeat; once its heartbeat is older
// than OrphanAfter, reading the history sweeps it: listed as interrupted,
// its CSV has every person, and the class may start a new lesson. On SQLite
// and PostgreSQL.
func TestLiveJournalCrash(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		signer := sfu.Signer{Key: []byte("0123456789abcdef0123456789abcdef-live-test")}
		var skew atomic.Int64 // the clock's advance, to age the heartbeat
		now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		newLive := func() *Live {
			m, err := sfu.New(sfu.Config{Logger: testLogger(t)}, signer)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			return &Live{Manager: m, Signer: signer, Now: now,
				RollCallEvery: 20 * time.Millisecond, HeartbeatEvery: 100 * time.Millisecond, OrphanAfter: time.Minute}
		}
		live := newLive()
		f.srv.cfg.Live = live
		ws := httptest.NewServer(live.Manager.Handler())
		t.Cleanup(ws.Close)

		cookies := map[int64]*http.Cookie{}
		for _, p := range []directory.Person{f.teacher, f.lea, f.tom, f.cpe} {
			cookies[p.ID] = f.session(t, p)
		}
		do := func(method, path, body string, who int64) *httptest.ResponseRecorder {
			return f.do(method, path, body, withCookie(cookies[who]))
		}
		w := do("POST", "/api/v1/live/lessons", `{"class_id":`+strconv.FormatInt(f.classA, 10)+`}`, f.teacher.ID)
		wantCode(t, w, http.StatusCreated, "start")
		started := decodeBody[lesson](t, w)

		join := func(who int64) *websocket.Conn {
			t.Helper()
			w := do("POST", "/api/v1/live/rooms/"+started.Room+"/grant", "", who)
			wantCode(t, w, http.StatusOK, "grant")
			g := decodeBody[grantResponse](t, w)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ws.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			c.SetReadLimit(1 << 20)
			c.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"join","room":"`+started.Room+`","grant":"`+g.Grant+`"}`))
			if _, _, err := c.Read(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.CloseNow() })
			return c
		}
		waitFor := func(what string, ok func() bool) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for !ok() {
				if time.Now().After(deadline) {
					t.Fatalf("no %s", what)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		st := livestore.NewStore(d)
		lessonID := func() int64 {
			var id int64
			d.QueryRow(context.Background(), `SELECT id FROM live_lessons WHERE room = ?`, started.Room).Scan(&id)
			return id
		}
		waitFor("the running lesson in the database", func() bool { return lessonID() != 0 })
		id := lessonID()

		join(f.teacher.ID)
		join(f.lea.ID)
		tom := join(f.tom.ID)
		time.Sleep(30 * time.Millisecond)
		tom.CloseNow() // Tom leaves before the crash
		tomID := strconv.FormatInt(f.tom.ID, 10)
		waitFor("Tom's departure in memory", func() bool {
			for _, a := range live.Manager.Room(started.Room).Attendance() {
				if a.User == tomID {
					return !a.Present
				}
			}
			return false
		})
		// The journal writes it within RollCallEvery.
		waitFor("the roll call in the database", func() bool {
			roll, err := st.Roll(context.Background(), id)
			if err != nil || len(roll) != 3 {
				return false
			}
			for _, a := range roll {
				if a.UserID == f.tom.ID && a.Sessions == 1 && !a.LastLeave.IsZero() {
					return true
				}
			}
			return false
		})
		time.Sleep(250 * time.Millisecond) // a few heartbeats: the present count on

		// The crash: the journal stops, the end path never runs, and the
		// restarted node has a new manager and an empty registry.
		inMemory, ok := f.srv.lessons.byRoom(live.Manager, started.Room)
		if !ok {
			t.Fatal("the lesson is not in the registry")
		}
		inMemory.room.OnEnd(nil)
		inMemory.journal.stop()
		<-inMemory.journal.exited
		crashed := time.Now()
		f.srv.lessons.mu.Lock()
		f.srv.lessons.byClass = nil
		f.srv.lessons.mu.Unlock()
		f.srv.cfg.Live = newLive()

		// Reopened: the lesson is still "running" (its heartbeat is fresh),
		// not listed yet, but its roll call is there.
		if h := decodeBody[[]pastLesson](t, do("GET", "/api/v1/live/history", "", f.teacher.ID)); len(h) != 0 {
			t.Fatalf("a lesson with a fresh heartbeat is listed: %+v", h)
		}
		l, err := st.Lesson(context.Background(), id)
		if err != nil || l.Status != livestore.StatusRunning || crashed.Sub(l.Heartbeat) > time.Second {
			t.Fatalf("after the crash: %+v, %v", l, err)
		}

		// Two minutes later (OrphanAfter is one), the history's sweep closes
		// it as interrupted at its last heartbeat.
		skew.Store(int64(2 * time.Minute))
		hist := decodeBody[[]pastLesson](t, do("GET", "/api/v1/live/history", "", f.teacher.ID))
		if len(hist) != 1 || hist[0].ID != id || !hist[0].Interrupted || hist[0].People != 3 || !hist[0].EndedAt.Equal(l.Heartbeat) {
			t.Fatalf("history after the sweep: %+v (heartbeat %v)", hist, l.Heartbeat)
		}
		roll, err := st.Roll(context.Background(), id)
		if err != nil || len(roll) != 3 {
			t.Fatalf("roll call %+v, %v", roll, err)
		}
		for _, a := range roll {
			if a.Total <= 0 || a.LastLeave.Before(a.FirstJoin) || a.LastLeave.After(l.Heartbeat) {
				t.Errorf("row %+v (heartbeat %v)", a, l.Heartbeat)
			}
			if a.UserID != f.tom.ID && !a.LastLeave.Equal(l.Heartbeat) {
				t.Errorf("%s was present at the crash: last seen %v, want the heartbeat %v", a.Name, a.LastLeave, l.Heartbeat)
			}
		}

		w = do("GET", hist[0].CSV, "", f.cpe.ID)
		wantCode(t, w, http.StatusOK, "CSV of the interrupted lesson")
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(w.Body.Bytes(), []byte("\xEF\xBB\xBF"))))
		r.Comma = ';'
		if rows, err := r.ReadAll(); err != nil || len(rows) != 4 {
			t.Fatalf("CSV %q, %v", rows, err)
		}
		w = do("GET", "/direct/historique", "", f.teacher.ID)
		if !strings.Contains(w.Body.String(), "(interrompu)") {
			t.Errorf("history page without the interruption:\n%s", w.Body.String())
		}
		// The class may start again, on the new node.
		w = do("POST", "/api/v1/live/lessons", `{"class_id":`+strconv.FormatInt(f.classA, 10)+`}`, f.teacher.ID)
		wantCode(t, w, http.StatusCreated, "start after the crash")
	})
}
