package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/internal/dbtest"
	"preau/storage"
	"preau/storage/disk"
	"preau/storage/files"
)

// filesSite is the fixture's school with a site that has Documents, over a
// store the test may turn off.
type filesSite struct {
	*fixture
	srv   *Server
	h     http.Handler
	store *downStore
}

// downStore is the disk store, unreachable while down is set.
type downStore struct {
	*disk.Store
	down bool
}

func (s *downStore) Ping(ctx context.Context) error {
	if s.down {
		return fmt.Errorf("test: %w", storage.ErrUnavailable)
	}
	return s.Store.Ping(ctx)
}

// PresignGet makes the test store a storage.Presigner.
func (s *downStore) PresignGet(ctx context.Context, key, filename, contentType string, ttl time.Duration) (string, error) {
	return "https://minio.example/bucket/" + key + "?ttl=" + ttl.String() + "&name=" + url.QueryEscape(filename), nil
}

// PresignPut completes storage.Presigner.
func (s *downStore) PresignPut(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return "https://minio.example/bucket/" + key, nil
}

var _ storage.Presigner = (*downStore)(nil)

func newFilesSite(t *testing.T, d *db.DB) *filesSite {
	t.Helper()
	f := newFixture(t, d)
	st, err := disk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ds := &downStore{Store: st}
	srv, _ := newServer(t, d, Config{Files: files.New(d, ds, files.Config{MaxUpload: 1 << 20})}, testLogger(t))
	return &filesSite{fixture: f, srv: srv, h: srv.Handler(), store: ds}
}

func (fs *filesSite) req(method, path string, body io.Reader, size int64, opts ...reqOpt) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, body)
	r.ContentLength = size
	r.RemoteAddr = freshIP() + ":40000"
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	fs.h.ServeHTTP(w, r)
	return w
}

func (fs *filesSite) upload(space, folder int64, name string, content []byte, c *http.Cookie) *httptest.ResponseRecorder {
	path := fmt.Sprintf("/api/v1/files/spaces/%d/upload?folder=%d&name=%s", space, folder, url.QueryEscape(name))
	return fs.req("POST", path, bytes.NewReader(content), int64(len(content)), withCookie(c))
}

func TestFilesAPI(t *testing.T) {
	d := dbtest.SQLite(t)
	fs := newFilesSite(t, d)
	teacher, lea, hugo := fs.session(t, fs.teacher), fs.session(t, fs.lea), fs.session(t, fs.hugo)

	w := serve(fs.h, "GET", "/api/v1/files/spaces", "", withCookie(teacher))
	wantCode(t, w, http.StatusOK, "teacher's spaces")
	spaces := decodeBody[struct{ Spaces []files.Space }](t, w).Spaces
	var classSpace int64
	for _, sp := range spaces {
		if sp.Kind == files.ClassKind && sp.ClassID == fs.classA {
			classSpace = sp.ID
		}
	}
	if classSpace == 0 || !spaces[0].CanWrite {
		t.Fatalf("teacher's spaces %+v", spaces)
	}

	// The teacher drops a worksheet in the class space; a pupil of the
	// class downloads it, whole and by range.
	content := []byte("Fiche d'exercices n°1 — théorème de Pythagore.\n")
	w = fs.upload(classSpace, 0, "Fiche n°1 « été ».txt", content, teacher)
	wantCode(t, w, http.StatusCreated, "upload")
	node := decodeBody[files.Node](t, w)
	dl := fmt.Sprintf("/api/v1/files/items/%d/content", node.ID)
	w = serve(fs.h, "GET", dl, "", withCookie(lea))
	wantCode(t, w, http.StatusOK, "pupil downloads")
	if !bytes.Equal(w.Body.Bytes(), content) {
		t.Errorf("downloaded %q", w.Body.String())
	}
	cd := w.Header().Get("Content-Disposition")
	if !strings.HasPrefix(cd, "attachment; ") || !strings.Contains(cd, "filename*=UTF-8''Fiche%20n%C2%B01%20%C2%AB%20%C3%A9t%C3%A9%20%C2%BB.txt") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff on a download")
	}
	w = serve(fs.h, "GET", dl, "", withCookie(lea), withHeader("Range", "bytes=6-16"))
	wantCode(t, w, http.StatusPartialContent, "range")
	if w.Body.String() != string(content[6:17]) {
		t.Errorf("range gave %q", w.Body.String())
	}
	// Outside the class: 404, like an id that does not exist.
	wantCode(t, serve(fs.h, "GET", dl, "", withCookie(hugo)), http.StatusNotFound, "pupil of another class")
	wantCode(t, serve(fs.h, "GET", "/api/v1/files/items/999999/content", "", withCookie(lea)), http.StatusNotFound, "foreign id")
	// Straight from the store: a presigned URL of 5 minutes, after the check.
	w = serve(fs.h, "GET", dl+"?direct=1", "", withCookie(lea))
	wantCode(t, w, http.StatusFound, "direct download")
	if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "https://minio.example/bucket/v/") || !strings.Contains(loc, "ttl=5m0s") {
		t.Errorf("direct download to %q", loc)
	}
	wantCode(t, serve(fs.h, "GET", dl+"?direct=1", "", withCookie(hugo)), http.StatusNotFound, "direct download outside the class")
	wantCode(t, serve(fs.h, "GET", dl, ""), http.StatusUnauthorized, "no session")
	// A pupil may read the class space but not write it.
	wantCode(t, fs.upload(classSpace, 0, "moi.txt", []byte("x"), lea), http.StatusForbidden, "pupil writes class space")

	// Bad inputs, each with a French message.
	personal := spaces[0].ID
	for _, tc := range []struct {
		name    string
		content []byte
		code    int
	}{
		{"../../etc/passwd", []byte("x"), http.StatusBadRequest},
		{"a\x00b", []byte("x"), http.StatusBadRequest},
		{strings.Repeat("n", 1000), []byte("x"), http.StatusBadRequest},
		{"vide.txt", nil, http.StatusBadRequest},
		{"photo.png", []byte("<html><script>alert(1)</script></html>"), http.StatusUnsupportedMediaType},
		{"gros.bin", make([]byte, 1<<20+1), http.StatusRequestEntityTooLarge},
	} {
		w := fs.upload(personal, 0, tc.name, tc.content, teacher)
		if w.Code != tc.code {
			t.Errorf("upload %.20q: %d, want %d: %s", tc.name, w.Code, tc.code, w.Body.String())
		}
		if e := decodeBody[apiErrorBody](t, w); e.Message == "" || e.Error == "" {
			t.Errorf("upload %.20q: no message: %s", tc.name, w.Body.String())
		}
	}
	// An image is shown inline only when asked and sniffed as one.
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	w = fs.upload(personal, 0, "schéma.png", png, teacher)
	wantCode(t, w, http.StatusCreated, "png")
	img := decodeBody[files.Node](t, w)
	w = serve(fs.h, "GET", fmt.Sprintf("/api/v1/files/items/%d/content?inline=1", img.ID), "", withCookie(teacher))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "inline;") || w.Header().Get("Content-Type") != "image/png" {
		t.Errorf("inline png: %d %q %q", w.Code, w.Header().Get("Content-Disposition"), w.Header().Get("Content-Type"))
	}
	w = fs.upload(personal, 0, "page.html", []byte("<html><body>hi</body></html>"), teacher)
	page := decodeBody[files.Node](t, w)
	w = serve(fs.h, "GET", fmt.Sprintf("/api/v1/files/items/%d/content?inline=1", page.ID), "", withCookie(teacher))
	if !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment;") || w.Header().Get("Content-Type") != "application/octet-stream" {
		t.Errorf("HTML download: %q %q", w.Header().Get("Content-Disposition"), w.Header().Get("Content-Type"))
	}

	// Rename, delete, bin, restore; quota.
	w = serve(fs.h, "PATCH", fmt.Sprintf("/api/v1/files/items/%d", page.ID), `{"name":"renommé.html"}`, withCookie(teacher))
	wantCode(t, w, http.StatusOK, "rename")
	wantCode(t, serve(fs.h, "DELETE", fmt.Sprintf("/api/v1/files/items/%d", page.ID), "", withCookie(teacher)), http.StatusNoContent, "delete")
	w = serve(fs.h, "GET", fmt.Sprintf("/api/v1/files/spaces/%d/bin", personal), "", withCookie(teacher))
	if bin := decodeBody[[]files.Node](t, w); len(bin) != 1 || bin[0].Name != "renommé.html" {
		t.Errorf("bin %s", w.Body.String())
	}
	wantCode(t, serve(fs.h, "POST", fmt.Sprintf("/api/v1/files/items/%d/restore", page.ID), "", withCookie(teacher)), http.StatusOK, "restore")
	w = serve(fs.h, "GET", fmt.Sprintf("/api/v1/files/spaces/%d/quota", personal), "", withCookie(teacher))
	if u := decodeBody[files.Usage](t, w); u.Used != int64(len(png))+28 || u.Limit != files.DefaultPersonQuotas["enseignant"] {
		t.Errorf("quota %s", w.Body.String())
	}

	// Share a personal file with the class; the pupil finds it.
	w = fs.upload(personal, 0, "cours.txt", []byte("cours"), teacher)
	cours := decodeBody[files.Node](t, w)
	w = serve(fs.h, "PUT", fmt.Sprintf("/api/v1/files/items/%d/shares", cours.ID), fmt.Sprintf(`{"kind":"class","id":%d}`, fs.classA), withCookie(teacher))
	wantCode(t, w, http.StatusOK, "share")
	w = serve(fs.h, "GET", "/api/v1/files/spaces", "", withCookie(lea))
	if shared := decodeBody[struct{ Shared []files.Node }](t, w).Shared; len(shared) != 1 || shared[0].ID != cours.ID {
		t.Errorf("shared with Léa: %s", w.Body.String())
	}
}

func TestFilesResumableAPI(t *testing.T) {
	d := dbtest.SQLite(t)
	fs := newFilesSite(t, d)
	teacher := fs.session(t, fs.teacher)
	w := serve(fs.h, "GET", "/api/v1/files/spaces", "", withCookie(teacher))
	personal := decodeBody[struct{ Spaces []files.Space }](t, w).Spaces[0].ID
	content := bytes.Repeat([]byte("0123456789abcdef"), (files.PartSize+1000)/16)
	w = serve(fs.h, "POST", "/api/v1/files/uploads", fmt.Sprintf(`{"space":%d,"name":"vidéo.bin","size":%d}`, personal, len(content)), withCookie(teacher))
	wantCode(t, w, http.StatusCreated, "begin")
	up := decodeBody[files.ResumableUpload](t, w)
	part := func(n int) []byte { return content[(n-1)*files.PartSize : min(n*files.PartSize, len(content))] }
	w = fs.req("PUT", fmt.Sprintf("/api/v1/files/uploads/%s/parts/2", up.ID), bytes.NewReader(part(2)), int64(len(part(2))), withCookie(teacher))
	wantCode(t, w, http.StatusOK, "part 2")
	w = serve(fs.h, "POST", fmt.Sprintf("/api/v1/files/uploads/%s/complete", up.ID), "", withCookie(teacher))
	wantCode(t, w, http.StatusConflict, "complete with part 1 missing")
	if !strings.Contains(w.Body.String(), `"missing":[1]`) {
		t.Errorf("missing parts: %s", w.Body.String())
	}
	w = fs.req("PUT", fmt.Sprintf("/api/v1/files/uploads/%s/parts/1", up.ID), bytes.NewReader(part(1)), int64(len(part(1))), withCookie(teacher))
	wantCode(t, w, http.StatusOK, "part 1")
	w = serve(fs.h, "POST", fmt.Sprintf("/api/v1/files/uploads/%s/complete", up.ID), "", withCookie(teacher))
	wantCode(t, w, http.StatusCreated, "complete")
	n := decodeBody[files.Node](t, w)
	w = serve(fs.h, "GET", fmt.Sprintf("/api/v1/files/items/%d/content", n.ID), "", withCookie(teacher), withHeader("Range", fmt.Sprintf("bytes=%d-", files.PartSize-3)))
	wantCode(t, w, http.StatusPartialContent, "range across parts")
	if !bytes.Equal(w.Body.Bytes(), content[files.PartSize-3:]) {
		t.Error("range across parts differs")
	}
}

func TestFilesStoreDown(t *testing.T) {
	d := dbtest.SQLite(t)
	fs := newFilesSite(t, d)
	teacher := fs.session(t, fs.teacher)
	w := serve(fs.h, "GET", "/api/v1/files/spaces", "", withCookie(teacher))
	personal := decodeBody[struct{ Spaces []files.Space }](t, w).Spaces[0].ID
	w = fs.upload(personal, 0, "a.txt", []byte("a"), teacher)
	node := decodeBody[files.Node](t, w)
	fs.store.down = true
	w = fs.upload(personal, 0, "b.txt", []byte("b"), teacher)
	wantCode(t, w, http.StatusServiceUnavailable, "upload with the store down")
	if !strings.Contains(w.Body.String(), "indisponibles") {
		t.Errorf("message %s", w.Body.String())
	}
	// The ping result is cached a second; a download right after also fails.
	wantCode(t, serve(fs.h, "GET", fmt.Sprintf("/api/v1/files/items/%d/content", node.ID), "", withCookie(teacher)), http.StatusServiceUnavailable, "download")
	wantCode(t, serve(fs.h, "GET", "/api/v1/files/spaces", "", withCookie(teacher)), http.StatusServiceUnavailable, "list spaces")
	w = serve(fs.h, "GET", "/documents", "", withCookie(teacher))
	wantCode(t, w, http.StatusServiceUnavailable, "Documents page")
	// The rest of the site keeps working.
	wantCode(t, serve(fs.h, "GET", "/accueil", "", withCookie(teacher)), http.StatusOK, "home page")
	wantCode(t, serve(fs.h, "GET", "/api/v1/me", "", withCookie(teacher)), http.StatusOK, "API")
	// Back up: Documents work again once the remembered failure is a second
	// old (made old here rather than waited for).
	fs.store.down = false
	fs.srv.storePing.mu.Lock()
	fs.srv.storePing.at = time.Time{}
	fs.srv.storePing.mu.Unlock()
	wantCode(t, serve(fs.h, "GET", "/api/v1/files/spaces", "", withCookie(teacher)), http.StatusOK, "after the outage")
}

func TestFilesDisabled(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	c := f.session(t, f.teacher)
	wantCode(t, f.do("GET", "/api/v1/files/spaces", "", withCookie(c)), http.StatusNotFound, "API without Files")
	wantCode(t, f.do("GET", "/documents", "", withCookie(c)), http.StatusNotFound, "page without Files")
}

func TestDocumentsPages(t *testing.T) {
	d := dbtest.SQLite(t)
	fs := newFilesSite(t, d)
	teacher, lea := fs.session(t, fs.teacher), fs.session(t, fs.lea)
	w := serve(fs.h, "GET", "/documents", "", withCookie(teacher))
	wantCode(t, w, http.StatusSeeOther, "/documents")
	home := w.Header().Get("Location")
	w = serve(fs.h, "GET", home, "", withCookie(teacher))
	wantCode(t, w, http.StatusOK, home)
	for _, want := range []string{"Mes documents", "Classe 3e A", `id="fichiers"`, "/static/files.js", "Espace utilisé"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("Documents page lacks %q", want)
		}
	}
	// Léa cannot open the teacher's space.
	wantCode(t, serve(fs.h, "GET", home, "", withCookie(lea)), http.StatusNotFound, "someone else's space")
	// Hand-in view: the teacher sets an assignment, Léa hands in.
	w = serve(fs.h, "POST", fmt.Sprintf("/api/v1/files/classes/%d/assignments", fs.classA), `{"title":"Exposé","due_at":"2030-01-01T10:00:00Z"}`, withCookie(teacher))
	wantCode(t, w, http.StatusCreated, "assignment")
	a := decodeBody[files.Assignment](t, w)
	w = serve(fs.h, "GET", fmt.Sprintf("/documents/devoirs/%d", a.ID), "", withCookie(lea))
	wantCode(t, w, http.StatusOK, "pupil's hand-in page")
	w = serve(fs.h, "POST", fmt.Sprintf("/api/v1/files/assignments/%d/folder", a.ID), "", withCookie(lea))
	folder := decodeBody[files.Node](t, w)
	wantCode(t, fs.upload(a.SpaceID, folder.ID, "exposé.txt", []byte("mon exposé"), lea), http.StatusCreated, "hand in")
	w = serve(fs.h, "GET", fmt.Sprintf("/documents/devoirs/%d", a.ID), "", withCookie(teacher))
	wantCode(t, w, http.StatusOK, "teacher's hand-in page")
	if !strings.Contains(w.Body.String(), "Martin Léa") || !strings.Contains(w.Body.String(), "Pas rendu") {
		t.Errorf("hand-in table:\n%s", w.Body.String())
	}
}

// publicStore is the test store with a public URL: pages link downloads
// straight to it.
type publicStore struct{ *downStore }

func (publicStore) Public() bool { return true }

// TestDocumentsDirectLinks: when browsers reach the store (S3 with a public
// URL), the page's download links go through ?direct=1, which redirects to
// a presigned URL after the access check; previews stay on Préau.
func TestDocumentsDirectLinks(t *testing.T) {
	for _, public := range []bool{false, true} {
		d := dbtest.SQLite(t)
		f := newFixture(t, d)
		st, err := disk.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		var store storage.Store = &downStore{Store: st}
		if public {
			store = publicStore{&downStore{Store: st}}
		}
		srv, _ := newServer(t, d, Config{Files: files.New(d, store, files.Config{})}, testLogger(t))
		fs := &filesSite{fixture: f, srv: srv, h: srv.Handler()}
		teacher := fs.session(t, fs.teacher)
		w := serve(fs.h, "GET", "/api/v1/files/spaces", "", withCookie(teacher))
		personal := decodeBody[struct{ Spaces []files.Space }](t, w).Spaces[0].ID
		w = fs.upload(personal, 0, "photo.png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...), teacher)
		wantCode(t, w, http.StatusCreated, "upload")
		n := decodeBody[files.Node](t, w)
		w = serve(fs.h, "GET", fmt.Sprintf("/documents/espace/%d", personal), "", withCookie(teacher))
		wantCode(t, w, http.StatusOK, "space page")
		content := fmt.Sprintf("/api/v1/files/items/%d/content", n.ID)
		direct := strings.Contains(w.Body.String(), `href="`+content+`?direct=1"`)
		if direct != public {
			t.Errorf("public store %v: direct download link %v", public, direct)
		}
		if !strings.Contains(w.Body.String(), `href="`+content+`?inline=1"`) {
			t.Errorf("public store %v: no preview link", public)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct {
		inline bool
		name   string
		want   string
	}{
		{false, "devoir.pdf", `attachment; filename="devoir.pdf"; filename*=UTF-8''devoir.pdf`},
		{true, "été 1.png", `inline; filename="_t_ 1.png"; filename*=UTF-8''%C3%A9t%C3%A9%201.png`},
		{false, `a"b\c%d;e.txt`, `attachment; filename="a_b_c_d;e.txt"; filename*=UTF-8''a%22b%5Cc%25d%3Be.txt`},
	} {
		if got := contentDisposition(tc.inline, tc.name); got != tc.want {
			t.Errorf("contentDisposition(%q) = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestDocumentsFormsWithoutScript: the page's forms work as plain HTML
// forms — files sent in one multipart post, a folder created — and bad
// files get the page back with a French message naming them.
func TestDocumentsFormsWithoutScript(t *testing.T) {
	d := dbtest.SQLite(t)
	fs := newFilesSite(t, d)
	lea := fs.session(t, fs.lea)
	leaP, err := fs.auth.Principal(context.Background(), fs.lea.ID)
	if err != nil {
		t.Fatal(err)
	}
	w := serve(fs.h, "GET", "/api/v1/files/spaces", "", withCookie(lea))
	personal := decodeBody[struct{ Spaces []files.Space }](t, w).Spaces[0].ID
	page := fmt.Sprintf("/documents/espace/%d", personal)
	w = serve(fs.h, "GET", page, "", withCookie(lea))
	for _, want := range []string{`enctype="multipart/form-data" action="` + page + `/envoyer"`, `action="` + page + `/dossier"`, `data-testid="send-files"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Fatalf("page lacks %q", want)
		}
	}
	post := func(path, ctype string, body io.Reader) *httptest.ResponseRecorder {
		return fs.req("POST", path, body, -1, withCookie(lea), withHeader("Content-Type", ctype))
	}
	form := func(folder int64, fileList ...[2]string) (string, io.Reader) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("dossier", strconv.FormatInt(folder, 10))
		for _, f := range fileList {
			fw, _ := mw.CreateFormFile("fichiers", f[0])
			io.WriteString(fw, f[1])
		}
		mw.Close()
		return mw.FormDataContentType(), &buf
	}

	// A folder, then two files in it.
	w = post(page+"/dossier", "application/x-www-form-urlencoded", strings.NewReader("dossier=0&nom=Exposés"))
	wantCode(t, w, http.StatusSeeOther, "new folder")
	l, err := fs.srv.cfg.Files.List(context.Background(), leaP, personal, 0)
	if err != nil || len(l.Children) != 1 || l.Children[0].Name != "Exposés" {
		t.Fatalf("after the folder form: %+v %v", l.Children, err)
	}
	folder := l.Children[0].ID
	ct, body := form(folder, [2]string{"exposé.txt", "Les volcans d'Auvergne."}, [2]string{"notes.txt", "plan"})
	w = post(page+"/envoyer", ct, body)
	wantCode(t, w, http.StatusSeeOther, "upload form")
	loc := w.Header().Get("Location")
	if loc != fmt.Sprintf("%s?dossier=%d&envoyes=2", page, folder) {
		t.Errorf("redirect to %q", loc)
	}
	w = serve(fs.h, "GET", loc, "", withCookie(lea))
	if !strings.Contains(w.Body.String(), "2 fichiers envoyés.") || !strings.Contains(w.Body.String(), "exposé.txt") {
		t.Errorf("folder page after the form:\n%s", w.Body.String())
	}
	l, _ = fs.srv.cfg.Files.List(context.Background(), leaP, personal, folder)
	if len(l.Children) != 2 {
		t.Fatalf("folder holds %d files", len(l.Children))
	}
	dl, err := fs.srv.cfg.Files.Open(context.Background(), leaP, l.Children[0].ID, 0)
	if err != nil || dl.Size != int64(len("Les volcans d'Auvergne.")) {
		t.Errorf("stored %+v %v", dl, err)
	}

	// Bad files: the page again, the file named, a French message; what
	// came before the bad file is kept, nothing half-written after it.
	for _, tc := range []struct {
		files [][2]string
		code  int
		want  string
	}{
		{[][2]string{{"ok.txt", "bien"}, {"photo.png", "<html><script>alert(1)</script></html>"}}, http.StatusUnsupportedMediaType, "1 fichier(s) envoyé(s), puis : « photo.png »"},
		{[][2]string{{"gros.bin", strings.Repeat("x", 1<<20+1)}}, http.StatusRequestEntityTooLarge, "« gros.bin » : Le fichier est trop gros"},
		{[][2]string{{strings.Repeat("n", 300) + ".txt", "x"}}, http.StatusBadRequest, "« " + strings.Repeat("n", 300)},
		{[][2]string{{"vide.txt", ""}}, http.StatusBadRequest, "vide"},
		{nil, http.StatusBadRequest, "aucun fichier choisi"},
	} {
		ct, body := form(0, tc.files...)
		w := post(page+"/envoyer", ct, body)
		if w.Code != tc.code || !strings.Contains(w.Body.String(), html.EscapeString(tc.want)) {
			t.Errorf("form %v: %d, want %d with %q", tc.files, w.Code, tc.code, tc.want)
		}
	}
	l, _ = fs.srv.cfg.Files.List(context.Background(), leaP, personal, 0)
	var names []string
	for _, n := range l.Children {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "Exposés,ok.txt" {
		t.Errorf("root after the bad forms: %v", names)
	}
	// Someone else's space: 404.
	ct, body = form(0, [2]string{"a.txt", "a"})
	w = fs.req("POST", fmt.Sprintf("/documents/espace/%d/envoyer", personal), body, -1, withCookie(fs.session(t, fs.tom)), withHeader("Content-Type", ct))
	wantCode(t, w, http.StatusNotFound, "another pupil's space")
}
