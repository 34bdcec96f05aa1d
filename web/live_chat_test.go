package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"preau/chat"
	"preau/internal/dbtest"
	"preau/sfu"
)

// TestLessonChat: starting a lesson opens its chat; the class's pupils find
// it on the lesson page and write in it; the head who joins the lesson joins
// its chat; a pupil of another class has neither.
func TestLessonChat(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	store := chat.NewStore(d)
	broker := chat.NewMemoryBroker(0)
	hub := chat.NewHub(chat.Config{}, store, broker, testLogger(t))
	signer := sfu.Signer{Key: []byte("0123456789abcdef0123456789abcdef-live-test")}
	m, err := sfu.New(sfu.Config{Logger: testLogger(t)}, signer)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(t, d, Config{Chat: store, ChatHub: hub, Live: &Live{Manager: m, Signer: signer}}, testLogger(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		broker.Close()
		m.Close()
	})
	h := srv.Handler()
	teacher, lea, hugo, head := f.session(t, f.teacher), f.session(t, f.lea), f.session(t, f.hugo), f.session(t, f.head)

	w := serve(h, "POST", "/api/v1/live/lessons", classBody(f.classA), withCookie(teacher))
	wantCode(t, w, http.StatusCreated, "start")
	room := decodeBody[lesson](t, w).Room
	conv, err := store.LessonChatOf(context.Background(), room)
	if err != nil || conv.Kind != chat.KindLesson || !strings.HasPrefix(conv.Title, "Cours en direct — 3e A") {
		t.Fatalf("lesson chat: %+v %v", conv, err)
	}
	page := "/direct/" + room
	w = serve(h, "GET", page, "", withCookie(lea))
	wantCode(t, w, http.StatusOK, "pupil's lesson page")
	for _, want := range []string{`data-testid="lesson-chat"`, fmt.Sprintf(`data-conversation="%d"`, conv.ID), "/static/chat.js", `id="composer"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("lesson page lacks %q", want)
		}
	}
	// Léa writes with the page's form (no script needed).
	form := url.Values{"texte": {"On ne voit pas le tableau."}, "client_id": {"lc-1"}}
	w = serve(h, "POST", fmt.Sprintf("/messagerie/%d", conv.ID), "", withCookie(lea), withFormBody(form))
	if w.Code != http.StatusSeeOther {
		t.Fatalf("post in the lesson chat: %d %s", w.Code, w.Body.String())
	}
	w = serve(h, "GET", page, "", withCookie(teacher))
	if !strings.Contains(w.Body.String(), "On ne voit pas le tableau.") {
		t.Error("the teacher's lesson page does not show the pupil's message")
	}
	// The head joins the lesson, and so its chat; Hugo has neither.
	wantCode(t, serve(h, "GET", page, "", withCookie(head)), http.StatusOK, "head's lesson page")
	if ok, _ := store.IsMember(context.Background(), conv.ID, f.head.ID); !ok {
		t.Error("the head who opened the lesson is not in its chat")
	}
	wantCode(t, serve(h, "GET", page, "", withCookie(hugo)), http.StatusNotFound, "another class's pupil")
	if ok, _ := store.IsMember(context.Background(), conv.ID, f.hugo.ID); ok {
		t.Error("a pupil of another class is in the lesson chat")
	}
	wantCode(t, serve(h, "GET", fmt.Sprintf("/messagerie/%d", conv.ID), "", withCookie(hugo)), http.StatusNotFound, "the chat by its Messagerie page")
}
