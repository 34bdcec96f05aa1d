package web

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"preau/internal/dbtest"
	"preau/sfu"
)

// liveFixture is the directory fixture with an SFU behind the live routes.
func liveFixture(t *testing.T) (*fixture, *Live) {
	t.Helper()
	f := newFixture(t, dbtest.SQLite(t))
	signer := sfu.Signer{Key: []byte("0123456789abcdef0123456789abcdef-live-test")}
	m, err := sfu.New(sfu.Config{Logger: testLogger(t)}, signer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	live := &Live{Manager: m, Signer: signer}
	f.srv.cfg.Live = live
	return f, live
}

func classBody(id int64) string { return `{"class_id":` + strconv.FormatInt(id, 10) + `}` }

// TestLiveLessons walks a lesson's life: who may start it, who sees it, who
// gets which grant, who may end it; everything outside a caller's scope is
// 404.
func TestLiveLessons(t *testing.T) {
	f, live := liveFixture(t)
	cookie := map[int64]*http.Cookie{}
	for _, p := range []struct {
		id int64
		c  *http.Cookie
	}{
		{f.teacher.ID, f.session(t, f.teacher)}, {f.lea.ID, f.session(t, f.lea)}, {f.hugo.ID, f.session(t, f.hugo)},
		{f.ines.ID, f.session(t, f.ines)}, {f.mother.ID, f.session(t, f.mother)}, {f.cpe.ID, f.session(t, f.cpe)},
		{f.head.ID, f.session(t, f.head)}, {f.lyceeHead.ID, f.session(t, f.lyceeHead)},
	} {
		cookie[p.id] = p.c
	}
	do := func(method, path, body string, who int64) *httptest.ResponseRecorder {
		return f.do(method, path, body, withCookie(cookie[who]))
	}

	// Starting: the teacher of 3e A, once; nobody else, nor for another class.
	w := do("POST", "/api/v1/live/lessons", classBody(f.classA), f.teacher.ID)
	wantCode(t, w, http.StatusCreated, "teacher starts 3e A")
	started := decodeBody[lesson](t, w)
	if started.Room == "" || started.ClassID != f.classA || started.StartedBy != f.teacher.ID || started.StartedAt.IsZero() {
		t.Fatalf("started %+v", started)
	}
	if live.Manager.Room(started.Room) == nil {
		t.Fatal("no SFU room for the lesson")
	}
	w = do("POST", "/api/v1/live/lessons", classBody(f.classA), f.teacher.ID)
	wantCode(t, w, http.StatusOK, "teacher starts 3e A again")
	if again := decodeBody[lesson](t, w); again.Room != started.Room {
		t.Fatalf("second start made room %q, want the running %q", again.Room, started.Room)
	}
	for _, tt := range []struct {
		what  string
		who   int64
		class int64
	}{
		{"teacher, a class not taught", f.teacher.ID, f.classB},
		{"teacher, last year's class", f.teacher.ID, f.lastYearClass},
		{"pupil of the class", f.lea.ID, f.classA},
		{"parent of a pupil of the class", f.mother.ID, f.classA},
		{"CPE", f.cpe.ID, f.classA},
		{"head of another school", f.lyceeHead.ID, f.classA},
		{"a class that does not exist", f.teacher.ID, 999999},
	} {
		wantCode(t, do("POST", "/api/v1/live/lessons", classBody(tt.class), tt.who), http.StatusNotFound, "start: "+tt.what)
	}
	for _, body := range []string{`{}`, `{"class_id":"x"}`, `{"class_id":1,"room":"mine"}`, `{"class_id":1,"class_id":2}`} {
		wantCode(t, do("POST", "/api/v1/live/lessons", body, f.teacher.ID), http.StatusBadRequest, "start with "+body)
	}
	// The head starts 3e B's lesson: the school's staff see both.
	w = do("POST", "/api/v1/live/lessons", classBody(f.classB), f.head.ID)
	wantCode(t, w, http.StatusCreated, "head starts 3e B")
	lessonB := decodeBody[lesson](t, w)

	// Listing: who may join what.
	rooms := func(who int64) []string {
		t.Helper()
		w := do("GET", "/api/v1/live/lessons", "", who)
		wantCode(t, w, http.StatusOK, "list lessons")
		var out []string
		for _, l := range decodeBody[[]lesson](t, w) {
			out = append(out, l.Room)
		}
		return out
	}
	for _, tt := range []struct {
		what string
		who  int64
		want []string
	}{
		{"pupil of 3e A", f.lea.ID, []string{started.Room}},
		{"pupil of 3e B", f.hugo.ID, []string{lessonB.Room}},
		{"teacher of 3e A", f.teacher.ID, []string{started.Room}},
		{"CPE", f.cpe.ID, []string{started.Room, lessonB.Room}},
		{"head", f.head.ID, []string{started.Room, lessonB.Room}},
		{"parent", f.mother.ID, nil},
		{"lycée pupil", f.ines.ID, nil},
		{"lycée head", f.lyceeHead.ID, nil},
	} {
		got := rooms(tt.who)
		if len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1])) {
			t.Errorf("%s sees %v, want %v", tt.what, got, tt.want)
		}
	}

	// Grants.
	grantPath := "/api/v1/live/rooms/" + started.Room + "/grant"
	grant := func(who int64) sfu.Grant {
		t.Helper()
		w := do("POST", grantPath, "", who)
		wantCode(t, w, http.StatusOK, "grant")
		resp := decodeBody[grantResponse](t, w)
		now := time.Now()
		g, err := live.Signer.Verify(resp.Grant, started.Room, now)
		if err != nil {
			t.Fatalf("grant does not verify: %v", err)
		}
		if resp.Room != started.Room || g.UserID != strconv.FormatInt(who, 10) || !g.Expires.Equal(resp.ExpiresAt) ||
			g.Expires.Sub(now) > sfu.MaxGrantTTL || g.Expires.Sub(now) < sfu.MaxGrantTTL-time.Minute {
			t.Fatalf("grant %+v for response %+v", g, resp)
		}
		return g
	}
	if g := grant(f.lea.ID); g.Role != sfu.RoleParticipant || g.CanPublishAudio || g.CanPublishVideo || g.CanPublishScreen || g.Name != "Léa Martin" {
		t.Errorf("pupil's grant %+v: want a participant who publishes nothing", g)
	}
	if g := grant(f.cpe.ID); g.Role != sfu.RoleParticipant || g.CanPublishAudio || g.CanPublishVideo || g.CanPublishScreen {
		t.Errorf("CPE's grant %+v: want a participant who publishes nothing", g)
	}
	for _, who := range []int64{f.teacher.ID, f.head.ID} {
		if g := grant(who); g.Role != sfu.RoleModerator || !g.CanPublishAudio || !g.CanPublishVideo || !g.CanPublishScreen {
			t.Errorf("grant %+v: want a moderator who publishes audio, video and screen", g)
		}
	}
	for _, tt := range []struct {
		what string
		who  int64
		path string
	}{
		{"pupil of another class", f.hugo.ID, grantPath},
		{"parent", f.mother.ID, grantPath},
		{"lycée head", f.lyceeHead.ID, grantPath},
		{"teacher, another class's room", f.teacher.ID, "/api/v1/live/rooms/" + lessonB.Room + "/grant"},
		{"unknown room", f.teacher.ID, "/api/v1/live/rooms/cours-1-1/grant"},
	} {
		wantCode(t, do("POST", tt.path, "", tt.who), http.StatusNotFound, "grant: "+tt.what)
	}
	wantCode(t, f.do("POST", grantPath, ""), http.StatusUnauthorized, "grant without a session")

	// Ending: moderators only.
	endPath := "/api/v1/live/rooms/" + started.Room + "/end"
	for _, who := range []int64{f.lea.ID, f.cpe.ID, f.hugo.ID, f.mother.ID} {
		wantCode(t, do("POST", endPath, "", who), http.StatusNotFound, "end by a non-moderator")
	}
	if live.Manager.Room(started.Room) == nil {
		t.Fatal("a refused end ended the room")
	}
	wantCode(t, do("POST", endPath, "", f.teacher.ID), http.StatusNoContent, "end by the teacher")
	if live.Manager.Room(started.Room) != nil {
		t.Fatal("the SFU room is still open after the end")
	}
	wantCode(t, do("POST", grantPath, "", f.lea.ID), http.StatusNotFound, "grant after the end")
	wantCode(t, do("POST", endPath, "", f.teacher.ID), http.StatusNotFound, "end twice")
	if got := rooms(f.lea.ID); len(got) != 0 {
		t.Errorf("after the end the pupil still sees %v", got)
	}

	// A room ended elsewhere (over the socket, at shutdown) leaves the list,
	// and the class may start a new lesson.
	live.Manager.Room(lessonB.Room).End()
	if got := rooms(f.cpe.ID); len(got) != 0 {
		t.Errorf("after the SFU ended 3e B's room the CPE still sees %v", got)
	}
	w = do("POST", "/api/v1/live/lessons", classBody(f.classB), f.head.ID)
	wantCode(t, w, http.StatusCreated, "new lesson after the end")
	if l := decodeBody[lesson](t, w); l.Room == lessonB.Room {
		t.Errorf("the new lesson reuses the ended room %q", l.Room)
	}
}

// TestLiveConcurrentStarts: teachers who click at once share one lesson.
func TestLiveConcurrentStarts(t *testing.T) {
	f, live := liveFixture(t)
	c := f.session(t, f.teacher)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	rooms := make([]string, 8)
	for i := range codes {
		wg.Go(func() {
			w := f.do("POST", "/api/v1/live/lessons", classBody(f.classA), withCookie(c))
			codes[i] = w.Code
			if w.Code < 300 {
				rooms[i] = decodeBody[lesson](t, w).Room
			}
		})
	}
	wg.Wait()
	created := 0
	for i := range codes {
		if codes[i] == http.StatusCreated {
			created++
		}
		if rooms[i] != rooms[0] || rooms[i] == "" {
			t.Errorf("start %d: %d room %q, start 0: room %q", i, codes[i], rooms[i], rooms[0])
		}
	}
	if created != 1 || live.Manager.Rooms() != 1 {
		t.Errorf("%d starts answered 201, %d rooms open; want 1 and 1", created, live.Manager.Rooms())
	}
}

// TestLiveWithoutSFU: without Config.Live the routes exist (they are in the
// OpenAPI document) but answer 404.
func TestLiveWithoutSFU(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	c := f.session(t, f.teacher)
	wantCode(t, f.do("POST", "/api/v1/live/lessons", classBody(f.classA), withCookie(c)), http.StatusNotFound, "start")
	wantCode(t, f.do("GET", "/api/v1/live/lessons", "", withCookie(c)), http.StatusNotFound, "list")
	wantCode(t, f.do("POST", "/api/v1/live/rooms/x/grant", "", withCookie(c)), http.StatusNotFound, "grant")
	wantCode(t, f.do("POST", "/api/v1/live/rooms/x/end", "", withCookie(c)), http.StatusNotFound, "end")
}
