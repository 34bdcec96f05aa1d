package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"preau/chat"
	"preau/ent/directory"
	"preau/internal/dbtest"
	"preau/storage/disk"
	"preau/storage/files"
)

// newCoursesSite is the fixture's département with the Documents and the
// chat hub (for the notifications).
func newCoursesSite(t *testing.T) *hwSite {
	t.Helper()
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	st, err := disk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fsvc := files.New(d, st, files.Config{})
	srv, _ := newServer(t, d, Config{Files: fsvc}, testLogger(t))
	broker := chat.NewMemoryBroker(0)
	hub := chat.NewHub(chat.Config{}, srv.chat, broker, testLogger(t))
	srv.cfg.ChatHub = hub
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		broker.Close()
	})
	hs := &hwSite{fixture: f, h: srv.Handler(), files: fsvc, cookie: map[string]*http.Cookie{}}
	for name, p := range map[string]directory.Person{"teacher": f.teacher, "lea": f.lea, "tom": f.tom, "hugo": f.hugo, "ines": f.ines,
		"mother": f.mother, "father": f.father, "cpe": f.cpe, "head": f.head, "lyceeHead": f.lyceeHead, "admin": f.admin} {
		hs.cookie[name] = f.session(t, p)
	}
	return hs
}

type crsTestItem struct {
	ID        int64  `json:"id"`
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	HTML      string `json:"html"`
	FileHref  string `json:"file_href"`
	Published bool   `json:"published"`
}

type crsTestCourse struct {
	ID       int64 `json:"id"`
	CanEdit  bool  `json:"can_edit"`
	Chapters []struct {
		ID    int64         `json:"id"`
		Title string        `json:"title"`
		Items []crsTestItem `json:"items"`
	} `json:"chapters"`
}

func crsDecode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

// TestCourses walks the online courses: a teacher creates a course in a
// class they teach (nowhere else), writes chapters and items, orders them;
// drafts stay the author's; published items reach the class's pupils,
// their parents (read only) and its teachers, and every other person —
// including the school's staff and direction — and every foreign id get
// 404; publishing tells the pupils; validation answers French messages.
func TestCourses(t *testing.T) {
	hs := newCoursesSite(t)
	f := hs.fixture
	ctx := context.Background()
	sheet := hs.upload(t, f.teacher, "Fiche fractions.txt", []byte("Exercice 3 p. 42\n"))
	leaFile := hs.upload(t, f.lea, "brouillon.txt", []byte("à moi\n"))
	teacher2 := hs.teacher2(t, f.mathsID)

	// Creating: only in a class taught this year.
	for _, tc := range []struct {
		who   string
		class int64
		code  int
	}{
		{"teacher", f.classB, 404}, {"teacher", f.lastYearClass, 404}, {"teacher", 99999, 404},
		{"lea", f.classA, 404}, {"mother", f.classA, 404}, {"cpe", f.classA, 404}, {"head", f.classA, 404}, {"admin", f.classA, 404},
	} {
		wantCode(t, hs.do("POST", "/api/v1/courses", fmt.Sprintf(`{"class_id":%d,"title":"x"}`, tc.class), tc.who), tc.code,
			fmt.Sprintf("%s creates a course in class %d", tc.who, tc.class))
	}
	w := hs.do("POST", "/api/v1/courses", fmt.Sprintf(`{"class_id":%d,"title":"  "}`, f.classA), "teacher")
	wantCode(t, w, 400, "course without a title")
	if !strings.Contains(w.Body.String(), "Le titre du cours est obligatoire.") {
		t.Errorf("error %s", w.Body)
	}
	w = hs.do("POST", "/api/v1/courses", fmt.Sprintf(`{"class_id":%d,"title":"Les fractions","summary":"Chapitre 3"}`, f.classA), "teacher")
	wantCode(t, w, 201, "teacher creates a course")
	course := crsDecode[crsTestCourse](t, w.Body.Bytes())
	cpath := fmt.Sprintf("/api/v1/courses/%d", course.ID)

	// A course all draft: its author only.
	wantCode(t, hs.do("GET", cpath, "", "teacher"), 200, "author reads the draft course")
	for _, who := range []string{"lea", "mother", teacher2} {
		wantCode(t, hs.do("GET", cpath, "", who), 404, who+" reads a course all draft")
	}
	if b := hs.do("GET", "/api/v1/courses", "", "lea").Body.String(); strings.Contains(b, "Les fractions") {
		t.Errorf("draft course listed for the pupil: %s", b)
	}

	w = hs.do("POST", cpath+"/chapters", `{"title":"Découvrir"}`, "teacher")
	wantCode(t, w, 201, "add a chapter")
	ch1 := crsDecode[struct{ ID int64 }](t, w.Body.Bytes()).ID
	w = hs.do("POST", cpath+"/chapters", `{"title":"S'entraîner"}`, "teacher")
	wantCode(t, w, 201, "add a chapter")
	ch2 := crsDecode[struct{ ID int64 }](t, w.Body.Bytes()).ID
	wantCode(t, hs.do("POST", cpath+"/chapters", `{"title":""}`, "teacher"), 400, "chapter without a title")
	wantCode(t, hs.do("POST", cpath+"/chapters", `{"title":"x"}`, teacher2), 404, "co-teacher adds a chapter")

	items := fmt.Sprintf("/api/v1/courses/chapters/%d/items", ch1)
	md := "# Une fraction\n\nVoir [le site](https://exemple.fr) <script>alert(1)</script>\n\n[piège](javascript:alert(1))"
	w = hs.do("POST", items, fmt.Sprintf(`{"kind":"text","title":"Leçon","body":%q}`, md), "teacher")
	wantCode(t, w, 201, "add a draft text")
	text := crsDecode[crsTestItem](t, w.Body.Bytes())
	if text.Published || !strings.Contains(text.HTML, "<h1>Une fraction</h1>") || strings.Contains(text.HTML, "<script") ||
		strings.Contains(text.HTML, "javascript:") || !strings.Contains(text.HTML, `rel="noopener noreferrer nofollow"`) {
		t.Errorf("text item %+v", text)
	}
	w = hs.do("POST", fmt.Sprintf("/api/v1/courses/chapters/%d/items", ch2),
		fmt.Sprintf(`{"kind":"file","title":"Fiche","file_id":%d,"published":true}`, sheet.ID), "teacher")
	wantCode(t, w, 201, "add a published file")
	file := crsDecode[crsTestItem](t, w.Body.Bytes())
	w = hs.do("POST", items, `{"kind":"link","title":"Vidéo","url":"https://lumni.fr/video","published":true}`, "teacher")
	wantCode(t, w, 201, "add a published link")
	link := crsDecode[crsTestItem](t, w.Body.Bytes())
	for _, tc := range []struct{ body, want string }{
		{fmt.Sprintf(`{"kind":"file","title":"x","file_id":%d}`, leaFile.ID), "Fichier introuvable dans vos Documents."},
		{`{"kind":"link","title":"x","url":"javascript:alert(1)"}`, "L'adresse du lien doit commencer par http:// ou https://."},
		{`{"kind":"text","title":"x","body":""}`, "Le texte est vide."},
		{fmt.Sprintf(`{"kind":"text","title":"x","body":%q}`, strings.Repeat("a", 100<<10+1)), "Un texte fait 100 Ko au plus."},
		{fmt.Sprintf(`{"kind":"text","title":%q,"body":"x"}`, strings.Repeat("é", 201)), "Le titre de l'élément fait 200 caractères au plus."},
		{`{"kind":"video","title":"x"}`, "Type d'élément inconnu"},
	} {
		w := hs.do("POST", items, tc.body, "teacher")
		if w.Code != 400 || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("item %.60s: %d %s, want 400 %q", tc.body, w.Code, w.Body, tc.want)
		}
	}

	// Readers: published items only; the draft is hidden everywhere.
	for _, who := range []string{"lea", "tom", "mother", teacher2} {
		w := hs.do("GET", cpath, "", who)
		wantCode(t, w, 200, who+" reads the course")
		c := crsDecode[crsTestCourse](t, w.Body.Bytes())
		if c.CanEdit || len(c.Chapters) != 2 || len(c.Chapters[0].Items) != 1 || c.Chapters[0].Items[0].ID != link.ID {
			t.Errorf("%s sees %+v", who, c)
		}
		if strings.Contains(w.Body.String(), "Une fraction") {
			t.Errorf("%s sees the draft", who)
		}
		wantCode(t, hs.do("GET", fmt.Sprintf("/api/v1/courses/items/%d", text.ID), "", who), 404, who+" reads the draft item")
		if !strings.Contains(hs.do("GET", "/api/v1/courses", "", who).Body.String(), "Les fractions") {
			t.Errorf("course not listed for %s", who)
		}
	}
	w = hs.do("GET", file.FileHref, "", "lea")
	wantCode(t, w, 200, "pupil downloads the file")
	if w.Body.String() != "Exercice 3 p. 42\n" || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") {
		t.Errorf("download %q %v", w.Body, w.Header())
	}
	c := crsDecode[crsTestCourse](t, hs.do("GET", cpath, "", "teacher").Body.Bytes())
	if !c.CanEdit || len(c.Chapters[0].Items) != 2 {
		t.Errorf("author sees %+v", c)
	}

	// Everyone else, and every write by a reader: 404.
	objects := []string{cpath, fmt.Sprintf("/api/v1/courses/items/%d", link.ID), file.FileHref,
		fmt.Sprintf("/api/v1/courses/items/%d", text.ID), fmt.Sprintf("/cours/%d", course.ID), fmt.Sprintf("/cours/elements/%d/fichier", file.ID)}
	for _, who := range []string{"hugo", "father", "ines", "cpe", "head", "lyceeHead", "admin"} {
		for _, p := range objects {
			wantCode(t, hs.do("GET", p, "", who), 404, who+" GET "+p)
		}
		if b := hs.do("GET", "/api/v1/courses", "", who).Body.String(); strings.Contains(b, "Les fractions") {
			t.Errorf("course listed for %s", who)
		}
		wantCode(t, hs.do("GET", fmt.Sprintf("/api/v1/courses?class_id=%d", f.classA), "", who), 404, who+" lists class A's courses")
	}
	for _, who := range []string{"lea", "mother", teacher2, "hugo", "head"} {
		for _, req := range [][3]string{
			{"PUT", cpath, `{"title":"Piraté"}`},
			{"DELETE", cpath, ""},
			{"POST", cpath + "/chapters", `{"title":"x"}`},
			{"PUT", fmt.Sprintf("/api/v1/courses/chapters/%d", ch1), `{"title":"x"}`},
			{"DELETE", fmt.Sprintf("/api/v1/courses/chapters/%d", ch1), ""},
			{"POST", items, `{"kind":"text","title":"x","body":"y"}`},
			{"PUT", fmt.Sprintf("/api/v1/courses/items/%d", link.ID), `{"title":"x","url":"https://a.fr"}`},
			{"PUT", fmt.Sprintf("/api/v1/courses/items/%d/published", link.ID), `{"published":false}`},
			{"DELETE", fmt.Sprintf("/api/v1/courses/items/%d", link.ID), ""},
			{"PUT", cpath + "/chapters/order", fmt.Sprintf(`{"ids":[%d,%d]}`, ch2, ch1)},
		} {
			wantCode(t, hs.do(req[0], req[1], req[2], who), 404, who+" "+req[0]+" "+req[1])
		}
	}
	for _, p := range []string{"/api/v1/courses/99999", "/api/v1/courses/items/99999", "/api/v1/courses/items/99999/file"} {
		wantCode(t, hs.do("GET", p, "", "teacher"), 404, "unknown "+p)
	}

	// Order: chapters swapped; a list that is not the course's chapters
	// is refused.
	w = hs.do("PUT", cpath+"/chapters/order", fmt.Sprintf(`{"ids":[%d,%d]}`, ch2, ch1), "teacher")
	wantCode(t, w, 200, "reorder chapters")
	if c := crsDecode[crsTestCourse](t, w.Body.Bytes()); c.Chapters[0].ID != ch2 {
		t.Errorf("order %+v", c)
	}
	wantCode(t, hs.do("PUT", cpath+"/chapters/order", fmt.Sprintf(`{"ids":[%d]}`, ch2), "teacher"), 400, "order without a chapter")
	wantCode(t, hs.do("PUT", fmt.Sprintf("/api/v1/courses/chapters/%d/items/order", ch1), fmt.Sprintf(`{"ids":[%d,%d]}`, link.ID, text.ID), "teacher"),
		200, "reorder items")

	// Publishing the text tells the class's pupils, once.
	for range 2 {
		wantCode(t, hs.do("PUT", fmt.Sprintf("/api/v1/courses/items/%d/published", text.ID), `{"published":true}`, "teacher"), 200, "publish")
	}
	var conv int64
	if err := f.d.QueryRow(ctx, "SELECT id FROM conversations WHERE notice_key = ?", fmt.Sprintf("cours:%d", f.classA)).Scan(&conv); err != nil {
		t.Fatalf("no notice channel for the class: %v", err)
	}
	rows, err := f.d.Query(ctx, "SELECT body FROM messages WHERE conversation_id = ? ORDER BY seq", conv)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for rows.Next() {
		var b string
		rows.Scan(&b)
		bodies = append(bodies, b)
	}
	rows.Close()
	// The file, the link (published at once) and the text.
	if len(bodies) != 3 || !strings.Contains(bodies[2], "Nouveau dans le cours « Les fractions » : Leçon") {
		t.Errorf("notifications %q", bodies)
	}
	var members []int64
	rows, _ = f.d.Query(ctx, "SELECT user_id FROM conversation_members WHERE conversation_id = ? ORDER BY user_id", conv)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		members = append(members, id)
	}
	rows.Close()
	if fmt.Sprint(members) != fmt.Sprint([]int64{min(f.lea.ID, f.tom.ID), max(f.lea.ID, f.tom.ID)}) {
		t.Errorf("notified %v, want Léa and Tom", members)
	}

	// The pupil's page: the rendered heading and link, the script as text.
	w = hs.do("GET", fmt.Sprintf("/cours/%d", course.ID), "", "lea")
	wantCode(t, w, 200, "pupil opens the course page")
	b := w.Body.String()
	for _, want := range []string{"<h1>Une fraction</h1>", `<a href="https://exemple.fr" rel="noopener noreferrer nofollow">le site</a>`,
		"&lt;script&gt;alert(1)&lt;/script&gt;", "Fiche fractions.txt"} {
		if !strings.Contains(b, want) {
			t.Errorf("pupil's page lacks %q", want)
		}
	}
	if strings.Contains(b, "<script>alert") || strings.Contains(b, "javascript:alert") || strings.Contains(b, "course-publish") {
		t.Error("pupil's page holds the script, the javascript: link or an author's button")
	}
	if b := hs.do("GET", "/cours", "", "mother").Body.String(); !strings.Contains(b, "Les fractions") {
		t.Error("the parent's index lacks the course")
	}

	// The author's forms.
	w = hs.form(fmt.Sprintf("/cours/chapitres/%d/elements", ch1), url.Values{"type": {"link"}, "titre": {"Site"}, "adresse": {"ftp://x"}}, "teacher")
	if w.Code != 400 || !strings.Contains(w.Body.String(), "L&#39;adresse du lien doit commencer par http:// ou https://.") {
		t.Errorf("bad link by form: %d", w.Code)
	}
	w = hs.form(fmt.Sprintf("/cours/chapitres/%d/elements", ch1), url.Values{"type": {"text"}, "titre": {"Résumé"}, "texte": {"**À retenir**"}, "publier": {"1"}}, "teacher")
	wantCode(t, w, 303, "add a text by form")
	wantCode(t, hs.form(fmt.Sprintf("/cours/chapitres/%d/elements", ch1), url.Values{"type": {"text"}, "titre": {"x"}, "texte": {"y"}}, "lea"), 404, "pupil adds by form")
	wantCode(t, hs.form(fmt.Sprintf("/cours/chapitres/%d/deplacer", ch1), url.Values{"sens": {"haut"}}, "teacher"), 303, "move a chapter up")
	if c := crsDecode[crsTestCourse](t, hs.do("GET", cpath, "", "teacher").Body.Bytes()); c.Chapters[0].ID != ch1 {
		t.Errorf("chapter not moved up: %+v", c)
	}
	wantCode(t, hs.do("GET", fmt.Sprintf("/cours/elements/%d/modifier", text.ID), "", "teacher"), 200, "edit page")
	wantCode(t, hs.do("GET", fmt.Sprintf("/cours/elements/%d/modifier", text.ID), "", "lea"), 404, "pupil's edit page")

	// Deleting.
	wantCode(t, hs.do("DELETE", cpath, "", "teacher"), 204, "delete the course")
	wantCode(t, hs.do("GET", cpath, "", "lea"), 404, "deleted course")
}

// TestCoursesLive: a live item offers its teacher to start the class's
// lesson; once it runs, the pupils get a link to join it; a parent (who
// never joins live lessons) gets neither.
func TestCoursesLive(t *testing.T) {
	f, _ := liveFixture(t)
	teacher, lea, mother := f.session(t, f.teacher), f.session(t, f.lea), f.session(t, f.mother)
	w := serve(f.h, "POST", "/api/v1/courses", fmt.Sprintf(`{"class_id":%d,"title":"Direct"}`, f.classA), withCookie(teacher))
	wantCode(t, w, 201, "create a course")
	course := crsDecode[crsTestCourse](t, w.Body.Bytes())
	w = serve(f.h, "POST", fmt.Sprintf("/api/v1/courses/%d/chapters", course.ID), `{"title":"Séances"}`, withCookie(teacher))
	wantCode(t, w, 201, "add a chapter")
	ch := crsDecode[struct{ ID int64 }](t, w.Body.Bytes()).ID
	wantCode(t, serve(f.h, "POST", fmt.Sprintf("/api/v1/courses/chapters/%d/items", ch), `{"kind":"live","title":"Classe virtuelle","published":true}`,
		withCookie(teacher)), 201, "add a live item")
	page := fmt.Sprintf("/cours/%d", course.ID)

	if b := serve(f.h, "GET", page, "", withCookie(teacher)).Body.String(); !strings.Contains(b, "course-live-start") {
		t.Error("the teacher is not offered to start the lesson")
	}
	if b := serve(f.h, "GET", page, "", withCookie(lea)).Body.String(); !strings.Contains(b, "Pas de cours en direct en ce moment.") ||
		strings.Contains(b, "course-live-start") {
		t.Error("the pupil's page before the lesson")
	}
	w = serve(f.h, "POST", "/api/v1/live/lessons", classBody(f.classA), withCookie(teacher))
	wantCode(t, w, 201, "start the lesson")
	room := crsDecode[struct{ Room string }](t, w.Body.Bytes()).Room
	if b := serve(f.h, "GET", page, "", withCookie(lea)).Body.String(); !strings.Contains(b, `href="/direct/`+room+`"`) {
		t.Errorf("the pupil has no link to room %s", room)
	}
	if b := serve(f.h, "GET", page, "", withCookie(mother)).Body.String(); strings.Contains(b, "/direct/") || strings.Contains(b, "course-live-start") {
		t.Error("the parent is offered the live lesson")
	}
}
