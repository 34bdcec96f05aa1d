package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"preau/chat"
	"preau/internal/dbtest"
)

var convLinkRE = regexp.MustCompile(`href="/messagerie/(\d+)"`)

// TestMessagerie: a pupil finds their class channel, writes in it with the
// plain form (no JavaScript) and sees the text escaped; a pupil of another
// class gets 404 on it; the teacher sees it unread; a parent is told what
// is coming.
func TestMessagerie(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	pupil := f.login(f.pupil)

	body := f.wantGet(pupil, "/accueil", http.StatusOK)
	if !strings.Contains(body, `href="/messagerie"`) {
		t.Error("the home page has no live Messagerie tile")
	}
	body = f.wantGet(pupil, "/messagerie", http.StatusOK)
	if !strings.Contains(body, "3A") {
		t.Fatalf("the pupil's list lacks their class channel:\n%s", body)
	}
	conv := "/messagerie/" + match(t, convLinkRE, body)
	body = f.wantGet(pupil, conv, http.StatusOK)
	for _, want := range []string{`id="chat"`, `data-last-seq="0"`, `action="` + conv + `"`, `src="/static/chat.js"`, "Aucun message"} {
		if !strings.Contains(body, want) {
			t.Errorf("conversation page lacks %q", want)
		}
	}

	// Another class's pupil: 404 for the page and the form, as for a
	// conversation that does not exist.
	other := f.login(f.pupilB)
	f.wantGet(other, conv, http.StatusNotFound)
	f.wantPost(other, conv, url.Values{"texte": {"intrus"}}, http.StatusNotFound)
	f.wantGet(pupil, "/messagerie/999999", http.StatusNotFound)
	f.wantGet(pupil, "/messagerie/abc", http.StatusNotFound)
	if body := f.wantGet(other, "/messagerie", http.StatusOK); strings.Contains(body, `href="`+conv+`"`) || !strings.Contains(body, "2nde 1") {
		t.Errorf("the other pupil's list is wrong:\n%s", body)
	}

	// The plain form: stored, then shown escaped; links are links that
	// are not followed by search engines and leak no referrer.
	resp, _ := f.wantPost(pupil, conv, url.Values{"texte": {"<b>x</b> voir https://exemple.fr/a?b=1."}, "client_id": {"form-1"}}, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, conv) {
		t.Fatalf("after posting: redirect to %q", loc)
	}
	f.wantPost(pupil, conv, url.Values{"texte": {"<b>x</b> voir https://exemple.fr/a?b=1."}, "client_id": {"form-1"}}, http.StatusSeeOther)
	body = f.wantGet(pupil, conv, http.StatusOK)
	if !strings.Contains(body, "&lt;b&gt;x&lt;/b&gt;") || strings.Contains(body, "<b>x</b>") {
		t.Errorf("the message is not escaped:\n%s", body)
	}
	if !strings.Contains(body, `<a href="https://exemple.fr/a?b=1" rel="noopener noreferrer nofollow"`) {
		t.Errorf("the link is not shown as a safe link:\n%s", body)
	}
	if !strings.Contains(body, "Léa Martin") || !strings.Contains(body, `data-last-seq="1"`) || strings.Count(body, "class=\"chat-msg") != 1 {
		t.Errorf("want one message (a resend of the same form stores nothing) from Léa Martin:\n%s", body)
	}
	_, body = f.wantPost(pupil, conv, url.Values{"texte": {"   "}}, http.StatusBadRequest)
	if !strings.Contains(body, "Le message est vide") {
		t.Errorf("blank message: no clear error")
	}
	_, body = f.wantPost(pupil, conv, url.Values{"texte": {strings.Repeat("é", 4001)}}, http.StatusBadRequest)
	if !strings.Contains(body, "Message trop long") || !strings.Contains(body, "éééé") {
		t.Errorf("long message: no clear error or the draft was lost")
	}

	// The teacher: one unread message, read once the page is seen.
	teacher := f.login(f.teacher)
	if body := f.wantGet(teacher, "/messagerie", http.StatusOK); !strings.Contains(body, "1 non lu") {
		t.Errorf("teacher's list lacks the unread count:\n%s", body)
	}
	f.wantGet(teacher, conv, http.StatusOK)
	if body := f.wantGet(teacher, "/messagerie", http.StatusOK); strings.Contains(body, "non lu") {
		t.Errorf("still unread after reading")
	}

	// A parent finds their child's class's parents channel.
	body = f.wantGet(f.login(f.parent), "/messagerie", http.StatusOK)
	if !strings.Contains(body, "3A — parents") || strings.Contains(body, "arrive bientôt") {
		t.Errorf("parent's page:\n%s", body)
	}
}

func TestSplitLinks(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []textPart
	}{
		{"bonjour", []textPart{{Text: "bonjour"}}},
		{"voir https://a.fr/x.", []textPart{{Text: "voir "}, {Text: "https://a.fr/x", Href: "https://a.fr/x"}, {Text: "."}}},
		{"(http://a.fr)", []textPart{{Text: "("}, {Text: "http://a.fr", Href: "http://a.fr"}, {Text: ")"}}},
		{"javascript:alert(1) ftp://a.fr", []textPart{{Text: "javascript:alert(1) ftp://a.fr"}}},
		{"", nil},
	} {
		if got := splitLinks(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitLinks(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestChatRevoked: the chat WebSocket follows the session. Logging out
// closes the user's chat connections with 4001 (the other session's page
// reconnects, the ended one cannot); disabling the account closes them all
// and no reconnection is accepted.
func TestChatRevoked(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	store := chat.NewStore(d)
	broker := chat.NewMemoryBroker(0)
	hub := chat.NewHub(chat.Config{}, store, broker, testLogger(t))
	srv, _ := newServer(t, d, Config{Chat: store, ChatHub: hub}, testLogger(t))
	srv.Mount("/ws/chat", hub.Handler(Principal))
	h := srv.Handler()
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		hub.Shutdown(sctx)
		ts.Close()
		broker.Close()
	})
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/chat"
	dial := func(c *http.Cookie) (*websocket.Conn, int) {
		t.Helper()
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		conn, resp, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {c.String()}}})
		if err != nil {
			if resp == nil {
				t.Fatalf("dial: %v", err)
			}
			return nil, resp.StatusCode
		}
		// A round trip: the connection is registered.
		if err := conn.Write(dctx, websocket.MessageText, []byte(`{"v":1,"type":"ping","id":1}`)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := conn.Read(dctx); err != nil {
			t.Fatal(err)
		}
		return conn, http.StatusSwitchingProtocols
	}
	closedWith := func(conn *websocket.Conn) websocket.StatusCode {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, time.Second) // SECURITY.md: within 1 s
		defer cancel()
		_, _, err := conn.Read(rctx)
		return websocket.CloseStatus(err)
	}
	s1, s2 := f.session(t, f.lea), f.session(t, f.lea)
	c1, _ := dial(s1)
	c2, _ := dial(s2)
	wantCode(t, serve(h, "POST", "/api/v1/auth/logout", "", withCookie(s1)), http.StatusNoContent, "logout")
	for i, c := range []*websocket.Conn{c1, c2} {
		if code := closedWith(c); code != chat.StatusRevoked {
			t.Fatalf("connection %d after logout: close %v", i+1, code)
		}
	}
	if _, code := dial(s1); code != http.StatusUnauthorized {
		t.Fatalf("the ended session reconnects: %d", code)
	}
	c2, _ = dial(s2)
	defer c2.CloseNow()
	admin := f.session(t, f.admin)
	wantCode(t, serve(h, "POST", "/api/v1/people/"+strconv.FormatInt(f.lea.ID, 10)+"/disable", "", withCookie(admin)),
		http.StatusNoContent, "disable")
	if code := closedWith(c2); code != chat.StatusRevoked {
		t.Fatalf("after the account is disabled: close %v", code)
	}
	if _, code := dial(s2); code != http.StatusUnauthorized {
		t.Fatalf("a disabled account reconnects: %d", code)
	}
}
