package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-json-experiment/json"

	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
	"preau/sfu"
)

// TestLiveAttendance: a lesson started with the waiting room; the teacher and
// a pupil connect over the signaling socket (the pupil twice: one merged
// record), the teacher admits her; when the lesson ends the roll call is
// stored, listed, and exported as CSV for the class's teachers and staff
// only. On SQLite and PostgreSQL.
func TestLiveAttendance(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		signer := sfu.Signer{Key: []byte("0123456789abcdef0123456789abcdef-live-test")}
		m, err := sfu.New(sfu.Config{Logger: testLogger(t)}, signer)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		f.srv.cfg.Live = &Live{Manager: m, Signer: signer}
		ws := httptest.NewServer(m.Handler())
		t.Cleanup(ws.Close)

		cookies := map[int64]*http.Cookie{}
		for _, p := range []directory.Person{f.teacher, f.lea, f.hugo, f.mother, f.cpe, f.head, f.lyceeHead} {
			cookies[p.ID] = f.session(t, p)
		}
		do := func(method, path, body string, who int64) *httptest.ResponseRecorder {
			return f.do(method, path, body, withCookie(cookies[who]))
		}
		w := do("POST", "/api/v1/live/lessons", `{"class_id":`+strconv.FormatInt(f.classA, 10)+`,"waiting_room":true}`, f.teacher.ID)
		wantCode(t, w, http.StatusCreated, "start with a waiting room")
		l := decodeBody[lesson](t, w)
		if !l.WaitingRoom || !m.Room(l.Room).WaitingRoom() {
			t.Fatalf("lesson %+v: waiting room not on", l)
		}

		// join dials the signaling socket with the user's grant and
		// returns the first event's type.
		join := func(who int64) (*websocket.Conn, string) {
			t.Helper()
			w := do("POST", "/api/v1/live/rooms/"+l.Room+"/grant", "", who)
			wantCode(t, w, http.StatusOK, "grant")
			g := decodeBody[grantResponse](t, w)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ws.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			c.SetReadLimit(1 << 20)
			c.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"join","room":"`+l.Room+`","grant":"`+g.Grant+`"}`))
			_, b, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var e sfu.Event
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatal(err)
			}
			return c, e.Type
		}
		teacher, typ := join(f.teacher.ID)
		defer teacher.CloseNow()
		if typ != sfu.TypeJoined {
			t.Fatalf("teacher's first event %q", typ)
		}
		lea, typ := join(f.lea.ID)
		if typ != sfu.TypeWaiting {
			t.Fatalf("pupil's first event %q, want waiting", typ)
		}
		ctx := context.Background()
		teacher.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"admit","user":"`+strconv.FormatInt(f.lea.ID, 10)+`"}`))
		waitFor := func(what string, ok func() bool) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for !ok() {
				if time.Now().After(deadline) {
					t.Fatalf("no %s", what)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		present := func(n int) func() bool {
			return func() bool {
				c := 0
				for _, a := range m.Room(l.Room).Attendance() {
					if a.Present {
						c++
					}
				}
				return c == n
			}
		}
		waitFor("pupil admitted", present(2))
		lea.CloseNow()
		waitFor("pupil gone", present(1))
		lea2, typ := join(f.lea.ID) // admitted once: no waiting again
		defer lea2.CloseNow()
		if typ != sfu.TypeJoined {
			t.Fatalf("pupil's return: %q, want joined", typ)
		}
		waitFor("pupil back", present(2))
		time.Sleep(20 * time.Millisecond)

		wantCode(t, do("POST", "/api/v1/live/rooms/"+l.Room+"/end", "", f.teacher.ID), http.StatusNoContent, "end")

		// The history: the class's teacher, the CPE, the head; not the
		// pupil, a parent or another school's head.
		var hist []pastLesson
		waitFor("the saved lesson", func() bool {
			w := do("GET", "/api/v1/live/history", "", f.teacher.ID)
			hist = decodeBody[[]pastLesson](t, w)
			return len(hist) == 1
		})
		if hist[0].Room != l.Room || hist[0].People != 2 || hist[0].ClassName != "3e A" {
			t.Fatalf("history %+v", hist)
		}
		for _, who := range []int64{f.cpe.ID, f.head.ID} {
			if h := decodeBody[[]pastLesson](t, do("GET", "/api/v1/live/history", "", who)); len(h) != 1 {
				t.Errorf("history of %d: %+v", who, h)
			}
		}
		for _, who := range []int64{f.lea.ID, f.mother.ID, f.lyceeHead.ID, f.hugo.ID} {
			if h := decodeBody[[]pastLesson](t, do("GET", "/api/v1/live/history", "", who)); len(h) != 0 {
				t.Errorf("history of %d: %+v", who, h)
			}
			wantCode(t, do("GET", hist[0].CSV, "", who), http.StatusNotFound, "CSV for an outsider")
		}
		wantCode(t, do("GET", "/api/v1/live/history/999999/attendance.csv", "", f.teacher.ID), http.StatusNotFound, "CSV of no lesson")

		w = do("GET", hist[0].CSV, "", f.cpe.ID)
		wantCode(t, w, http.StatusOK, "CSV for the CPE")
		if ct := w.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" ||
			!strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment;") {
			t.Errorf("headers %v", w.Header())
		}
		body := w.Body.Bytes()
		if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
			t.Fatal("CSV without BOM")
		}
		r := csv.NewReader(bytes.NewReader(body[3:]))
		r.Comma = ';'
		rows, err := r.ReadAll()
		if err != nil || len(rows) != 3 || rows[0][0] != "Nom" || rows[0][3] != "Première arrivée" {
			t.Fatalf("CSV %q %v", rows, err)
		}
		byID := map[string][]string{}
		for _, row := range rows[1:] {
			byID[row[1]] = row
		}
		if p := byID[strconv.FormatInt(f.lea.ID, 10)]; p == nil || p[2] != "Participant" || p[6] != "2" {
			t.Errorf("pupil's row %q (want two connections merged)", p)
		}
		if p := byID[strconv.FormatInt(f.teacher.ID, 10)]; p == nil || p[2] != "Enseignant" || p[6] != "1" {
			t.Errorf("teacher's row %q", p)
		}

		// The page lists it with the link.
		w = do("GET", "/direct/historique", "", f.teacher.ID)
		wantCode(t, w, http.StatusOK, "history page")
		if !strings.Contains(w.Body.String(), `href="`+hist[0].CSV+`"`) || !strings.Contains(w.Body.String(), "3e A") {
			t.Errorf("history page:\n%s", w.Body.String())
		}
		w = do("GET", "/direct/historique", "", f.lea.ID)
		if !strings.Contains(w.Body.String(), "Aucun cours terminé") {
			t.Errorf("pupil's history page lists lessons:\n%s", w.Body.String())
		}
	})
}
