package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"preau/chat"
	"preau/db"
	"preau/internal/dbtest"
	"preau/storage"
	"preau/storage/disk"
	"preau/storage/files"
)

// TestMessageAttachments: the teacher uploads a file from the class
// conversation and sends it; a pupil of the class downloads the same bytes
// as an attachment, under the name it had when sent even after a rename; a
// pupil of another class gets 404; files the sender cannot read, six files
// and a file over 10 MiB are refused; a deleted message's attachment is
// gone. On both databases.
func TestMessageAttachments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		st, err := disk.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		store := chat.NewStore(d)
		broker := chat.NewMemoryBroker(0)
		hub := chat.NewHub(chat.Config{}, store, broker, testLogger(t))
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			hub.Shutdown(sctx)
			broker.Close()
		})
		fsvc := files.New(d, st, files.Config{})
		hub.SetFiles(ChatFiles{fsvc})
		srv, _ := newServer(t, d, Config{Files: fsvc, Chat: store, ChatHub: hub}, testLogger(t))
		h := srv.Handler()
		teacher, lea, hugo := f.session(t, f.teacher), f.session(t, f.lea), f.session(t, f.hugo)
		conv, err := store.EnsureClassChannel(ctx, f.classA)
		if err != nil {
			t.Fatal(err)
		}
		base := fmt.Sprintf("/messagerie/%d", conv.ID)
		req := func(method, path string, body []byte, size int64, c *http.Cookie) *httptest.ResponseRecorder {
			r := httptest.NewRequest(method, path, bytes.NewReader(body))
			r.ContentLength = size
			r.RemoteAddr = freshIP() + ":40000"
			r.AddCookie(c)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}

		content := []byte("Exercice 3 p. 42 — pour lundi.\n")
		resp := req("POST", base+"/pieces-jointes?name="+url.QueryEscape("Devoir « lundi ».txt"), content, int64(len(content)), teacher)
		wantCode(t, resp, http.StatusCreated, "upload from the conversation")
		up := decodeBody[struct {
			ID   int64
			Name string
		}](t, resp)
		if resp := req("POST", base+"/pieces-jointes?name=x.txt", content, int64(len(content)), hugo); resp.Code != http.StatusNotFound {
			t.Errorf("a non-member uploads to the conversation: %d", resp.Code)
		}
		if resp := req("POST", base+"/pieces-jointes?name=gros.txt", []byte("x"), files.MaxAttachment+1, teacher); resp.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("upload over 10 MiB: %d", resp.Code)
		}

		tp, err := srv.dir.Principal(ctx, f.teacher.ID)
		if err != nil {
			t.Fatal(err)
		}
		lp, err := srv.dir.Principal(ctx, f.lea.ID)
		if err != nil {
			t.Fatal(err)
		}
		m, err := hub.PostWith(ctx, conv.ID, tp, "t-1", "Le devoir", 0, []int64{up.ID})
		if err != nil || len(m.Attachments) != 1 {
			t.Fatalf("post with the attachment: %+v %v", m, err)
		}
		// The teacher renames the file afterwards: the attachment keeps its name.
		w := serve(h, "PATCH", fmt.Sprintf("/api/v1/files/items/%d", up.ID), `{"name":"renommé.txt"}`, withCookie(teacher))
		wantCode(t, w, http.StatusOK, "rename")

		dl := fmt.Sprintf("%s/pieces-jointes/%d/1", base, m.Seq)
		w = serve(h, "GET", dl, "", withCookie(lea))
		wantCode(t, w, http.StatusOK, "pupil downloads")
		if !bytes.Equal(w.Body.Bytes(), content) {
			t.Errorf("downloaded %q", w.Body.String())
		}
		if cd := w.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; ") || !strings.Contains(cd, "Devoir%20%C2%AB%20lundi%20%C2%BB.txt") {
			t.Errorf("Content-Disposition %q", cd)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Error("no nosniff")
		}
		wantCode(t, serve(h, "GET", dl, "", withCookie(hugo)), http.StatusNotFound, "non-member downloads")
		wantCode(t, serve(h, "GET", base+fmt.Sprintf("/pieces-jointes/%d/2", m.Seq), "", withCookie(lea)), http.StatusNotFound, "no attachment 2")

		page := serve(h, "GET", base, "", withCookie(lea))
		wantCode(t, page, http.StatusOK, "page")
		if body := page.Body.String(); !strings.Contains(body, `href="`+dl+`"`) || !strings.Contains(body, "Devoir « lundi ».txt") {
			t.Errorf("the page does not show the attachment:\n%s", body)
		}

		// The pupil cannot attach the teacher's file, nor six, nor one over 10 MiB.
		if _, err := hub.PostWith(ctx, conv.ID, lp, "l-1", "à moi", 0, []int64{up.ID}); !errors.Is(err, chat.ErrAttachment) {
			t.Errorf("pupil attaches the teacher's file: %v", err)
		}
		if _, err := hub.PostWith(ctx, conv.ID, tp, "t-2", "six", 0, []int64{up.ID, up.ID + 1, up.ID + 2, up.ID + 3, up.ID + 4, up.ID + 5}); !errors.Is(err, chat.ErrInvalid) {
			t.Errorf("six attachments: %v", err)
		}
		sp, err := fsvc.PersonalSpace(ctx, tp)
		if err != nil {
			t.Fatal(err)
		}
		big, err := fsvc.Upload(ctx, tp, files.Upload{SpaceID: sp.ID, Name: "gros.bin", Size: files.MaxAttachment + 1,
			Body: bytes.NewReader(make([]byte, files.MaxAttachment+1))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hub.PostWith(ctx, conv.ID, tp, "t-3", "gros", 0, []int64{big.ID}); !errors.Is(err, chat.ErrAttachment) {
			t.Errorf("attachment over 10 MiB: %v", err)
		}

		// Withdrawn: the attachment is gone.
		f2 := url.Values{"seq": {fmt.Sprint(m.Seq)}}
		w = serve(h, "POST", base+"/retirer", f2.Encode(), withCookie(teacher), withHeader("Content-Type", "application/x-www-form-urlencoded"))
		wantCode(t, w, http.StatusSeeOther, "withdraw")
		wantCode(t, serve(h, "GET", dl, "", withCookie(lea)), http.StatusNotFound, "deleted message's attachment")
	})
}

// TestMessageEditAndReply: the author edits a recent message from the page
// ("(modifié)"), a reply shows a quote of the message it answers.
func TestMessageEditAndReply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		store := chat.NewStore(d)
		conv, err := store.EnsureClassChannel(ctx, f.classA)
		if err != nil {
			t.Fatal(err)
		}
		lea, tom := f.session(t, f.lea), f.session(t, f.tom)
		base := fmt.Sprintf("/messagerie/%d", conv.ID)
		form := func(c *http.Cookie, path string, v url.Values, code int) {
			t.Helper()
			w := serve(f.h, "POST", path, v.Encode(), withCookie(c), withHeader("Content-Type", "application/x-www-form-urlencoded"))
			wantCode(t, w, code, path)
		}
		form(lea, base, url.Values{"texte": {"Qui a le cours de maths ?"}, "client_id": {"l-1"}}, http.StatusSeeOther)
		form(tom, base, url.Values{"texte": {"Moi, je te l'envoie"}, "client_id": {"t-1"}, "reply_to": {"1"}}, http.StatusSeeOther)
		form(tom, base+"/modifier", url.Values{"seq": {"1"}, "texte": {"pas à moi"}}, http.StatusNotFound)
		form(lea, base+"/modifier", url.Values{"seq": {"1"}, "texte": {"Qui a le cours de SVT ?"}}, http.StatusSeeOther)
		body := serve(f.h, "GET", base, "", withCookie(tom)).Body.String()
		for _, want := range []string{"Qui a le cours de SVT ?", "(modifié)", `data-reply-to="1"`, `class="chat-quote-text">Qui a le cours de SVT ?`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, "cours de maths") {
			t.Error("the old text is still shown")
		}
		lp := serve(f.h, "GET", base, "", withCookie(lea)).Body.String()
		if !strings.Contains(lp, `data-testid="edit"`) {
			t.Error("the author has no Modifier control")
		}
	})
}

// TestMessageAttachmentSurvivesPruning: an attachment is the content sent,
// copied for the message: after the file is replaced six times (its old
// versions pruned beyond the five kept) and then binned and purged, the
// attachment still downloads the original bytes. On both databases.
func TestMessageAttachmentSurvivesPruning(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		st, err := disk.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		store := chat.NewStore(d)
		broker := chat.NewMemoryBroker(0)
		hub := chat.NewHub(chat.Config{}, store, broker, testLogger(t))
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			hub.Shutdown(sctx)
			broker.Close()
		})
		fsvc := files.New(d, st, files.Config{})
		hub.SetFiles(ChatFiles{fsvc})
		srv, _ := newServer(t, d, Config{Files: fsvc, Chat: store, ChatHub: hub}, testLogger(t))
		h := srv.Handler()
		lea := f.session(t, f.lea)
		conv, err := store.EnsureClassChannel(ctx, f.classA)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := srv.dir.Principal(ctx, f.teacher.ID)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := fsvc.PersonalSpace(ctx, tp)
		if err != nil {
			t.Fatal(err)
		}
		upload := func(content string) files.Node {
			t.Helper()
			n, err := fsvc.Upload(ctx, tp, files.Upload{SpaceID: sp.ID, Name: "consignes.txt", Size: int64(len(content)),
				Body: strings.NewReader(content)})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		original := "Version d'origine : exercice 1."
		file := upload(original)
		m, err := hub.PostWith(ctx, conv.ID, tp, "t-1", "Les consignes", 0, []int64{file.ID})
		if err != nil || len(m.Attachments) != 1 || m.Attachments[0].Key == "" {
			t.Fatalf("post with the attachment: %+v %v", m, err)
		}
		// A resend stores nothing more (and gives its own copy back).
		if again, err := hub.PostWith(ctx, conv.ID, tp, "t-1", "Les consignes", 0, []int64{file.ID}); err != nil ||
			again.Seq != m.Seq || again.Attachments[0].Key != m.Attachments[0].Key {
			t.Fatalf("resend: %+v %v", again, err)
		}
		for i := range 6 {
			if n := upload(fmt.Sprintf("Version %d : exercice %d.", i+2, i+2)); n.ID != file.ID {
				t.Fatalf("replace made a new file %d", n.ID)
			}
		}
		if _, err := fsvc.OpenVersion(ctx, file.ID, 1); !errors.Is(err, files.ErrNotFound) {
			t.Fatalf("version 1 still kept after six replaces (%v): the test proves nothing", err)
		}
		dl := fmt.Sprintf("/messagerie/%d/pieces-jointes/%d/1", conv.ID, m.Seq)
		w := serve(h, "GET", dl, "", withCookie(lea))
		wantCode(t, w, http.StatusOK, "download after six replaces")
		if w.Body.String() != original {
			t.Errorf("downloaded %q, want the original %q", w.Body.String(), original)
		}
		// Binned and purged: still there.
		if err := fsvc.Delete(ctx, tp, file.ID); err != nil {
			t.Fatalf("bin: %v", err)
		}
		if err := fsvc.Purge(ctx, tp, file.ID); err != nil {
			t.Fatalf("purge: %v", err)
		}
		w = serve(h, "GET", dl, "", withCookie(lea))
		wantCode(t, w, http.StatusOK, "download after the purge")
		if w.Body.String() != original {
			t.Errorf("after the purge: %q", w.Body.String())
		}
		// The message withdrawn, its copy goes too.
		key := m.Attachments[0].Key
		if _, err := st.Stat(ctx, key); err != nil {
			t.Fatalf("the copy %s: %v", key, err)
		}
		w = serve(h, "POST", fmt.Sprintf("/messagerie/%d/retirer", conv.ID), url.Values{"seq": {fmt.Sprint(m.Seq)}}.Encode(),
			withCookie(f.session(t, f.teacher)), withHeader("Content-Type", "application/x-www-form-urlencoded"))
		wantCode(t, w, http.StatusSeeOther, "withdraw")
		wantCode(t, serve(h, "GET", dl, "", withCookie(lea)), http.StatusNotFound, "withdrawn message's attachment")
		if _, err := st.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the withdrawn message's copy is still stored: %v", err)
		}
	})
}
