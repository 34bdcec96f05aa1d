package web

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestLivePages: the teacher starts 3e A's lesson from /direct; its pupils
// see it listed and may open it; the others get 404 for the lesson page.
func TestLivePages(t *testing.T) {
	f, _ := liveFixture(t)
	teacher, lea, hugo, mother := f.session(t, f.teacher), f.session(t, f.lea), f.session(t, f.hugo), f.session(t, f.mother)
	form := func(c *http.Cookie) reqOpt {
		return func(r *http.Request) {
			r.AddCookie(c)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	page := func(c *http.Cookie, path string, code int, what string) *httptest.ResponseRecorder {
		t.Helper()
		w := f.do("GET", path, "", withCookie(c))
		wantCode(t, w, code, what)
		return w
	}

	w := page(teacher, "/direct", http.StatusOK, "teacher's list")
	if !strings.Contains(w.Body.String(), `name="class_id" value="`+strconv.FormatInt(f.classA, 10)+`"`) ||
		strings.Contains(w.Body.String(), `value="`+strconv.FormatInt(f.classB, 10)+`"`) {
		t.Fatalf("the teacher's start forms are not 3e A's only:\n%s", w.Body.String())
	}
	if w := page(lea, "/direct", http.StatusOK, "pupil's list"); strings.Contains(w.Body.String(), `name="class_id"`) ||
		!strings.Contains(w.Body.String(), "Aucun cours en direct") {
		t.Fatalf("pupil's list before the lesson:\n%s", w.Body.String())
	}

	// Someone else's class: 404; 3e A: to the lesson page.
	w = f.do("POST", "/direct", "class_id="+strconv.FormatInt(f.classB, 10), form(teacher))
	wantCode(t, w, http.StatusNotFound, "start 3e B")
	w = f.do("POST", "/direct", "class_id="+strconv.FormatInt(f.classA, 10), form(lea))
	wantCode(t, w, http.StatusNotFound, "pupil starts 3e A")
	w = f.do("POST", "/direct", "class_id="+strconv.FormatInt(f.classA, 10), form(teacher))
	wantCode(t, w, http.StatusSeeOther, "start 3e A")
	path := w.Header().Get("Location")
	room := strings.TrimPrefix(path, "/direct/")
	if room == path || room == "" {
		t.Fatalf("redirected to %q", path)
	}

	w = page(teacher, path, http.StatusOK, "teacher's lesson page")
	if !strings.Contains(w.Body.String(), `data-room="`+room+`"`) || !strings.Contains(w.Body.String(), "Terminer le cours") {
		t.Fatalf("teacher's lesson page:\n%s", w.Body.String())
	}
	if w := page(lea, "/direct", http.StatusOK, "pupil's list"); !strings.Contains(w.Body.String(), `href="`+path+`"`) {
		t.Fatalf("the pupil's list lacks the lesson:\n%s", w.Body.String())
	}
	w = page(lea, path, http.StatusOK, "pupil's lesson page")
	if !strings.Contains(w.Body.String(), "Lever la main") || strings.Contains(w.Body.String(), "Terminer le cours") {
		t.Fatalf("pupil's lesson page:\n%s", w.Body.String())
	}
	for _, c := range []*http.Cookie{hugo, mother} {
		if w := page(c, "/direct", http.StatusOK, "list outside the class"); strings.Contains(w.Body.String(), path) {
			t.Fatalf("the lesson is listed outside the class:\n%s", w.Body.String())
		}
		page(c, path, http.StatusNotFound, "lesson page outside the class")
	}
	page(teacher, "/direct/cours-0-0", http.StatusNotFound, "no such room")
}

// TestLivePagesExtras: the start form's waiting room, the device check page
// for any signed-in user (a parent too), its WebSocket behind the session,
// and the history page's link on /direct for adults of the school only.
func TestLivePagesExtras(t *testing.T) {
	f, live := liveFixture(t)
	teacher, lea, mother := f.session(t, f.teacher), f.session(t, f.lea), f.session(t, f.mother)
	w := f.do("POST", "/direct", "class_id="+strconv.FormatInt(f.classA, 10)+"&waiting_room=on", func(r *http.Request) {
		r.AddCookie(teacher)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	})
	wantCode(t, w, http.StatusSeeOther, "start 3e A with the waiting room")
	room := strings.TrimPrefix(w.Header().Get("Location"), "/direct/")
	if r := live.Manager.Room(room); r == nil || !r.WaitingRoom() {
		t.Fatalf("room %q: waiting room not on", room)
	}
	w = f.do("GET", "/direct/"+room, "", withCookie(teacher))
	for _, want := range []string{"Partager l'écran", "Caméra et écran", "Verrouiller la salle", "Salle d'attente", "Présences"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("teacher's lesson page lacks %q", want)
		}
	}
	for _, c := range []*http.Cookie{mother, lea, teacher} {
		w := f.do("GET", "/direct/test", "", withCookie(c))
		wantCode(t, w, http.StatusOK, "device check page")
		if !strings.Contains(w.Body.String(), "Tester mon matériel") || !strings.Contains(w.Body.String(), "/static/live_check.js") {
			t.Fatalf("device check page:\n%s", w.Body.String())
		}
	}
	if w := f.do("GET", "/live/check", ""); w.Code == http.StatusSwitchingProtocols || w.Code == http.StatusOK {
		t.Errorf("/live/check without a session: %d", w.Code)
	}
	if w := f.do("GET", "/direct", "", withCookie(teacher)); !strings.Contains(w.Body.String(), `href="/direct/historique"`) {
		t.Error("no history link for the teacher")
	}
	for _, c := range []*http.Cookie{mother, lea} {
		if w := f.do("GET", "/direct", "", withCookie(c)); strings.Contains(w.Body.String(), `href="/direct/historique"`) {
			t.Error("history link for a pupil or parent")
		}
	}
}
