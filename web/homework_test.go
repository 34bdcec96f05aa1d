package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"preau/ent/directory"
	"preau/ent/homework"
	"preau/identity"
	"preau/internal/dbtest"
	"preau/storage/disk"
	"preau/storage/files"
)

// hwSite is the fixture's département with the Documents configured.
type hwSite struct {
	*fixture
	h      http.Handler
	files  *files.Service
	cookie map[string]*http.Cookie
}

func newHomeworkSite(t *testing.T) *hwSite {
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
	hs := &hwSite{fixture: f, h: srv.Handler(), files: fsvc, cookie: map[string]*http.Cookie{}}
	for name, p := range map[string]directory.Person{"teacher": f.teacher, "lea": f.lea, "tom": f.tom, "hugo": f.hugo, "ines": f.ines,
		"mother": f.mother, "father": f.father, "cpe": f.cpe, "head": f.head, "lyceeHead": f.lyceeHead, "admin": f.admin} {
		hs.cookie[name] = f.session(t, p)
	}
	return hs
}

func (hs *hwSite) do(method, path, body, who string, opts ...reqOpt) *httptest.ResponseRecorder {
	return serve(hs.h, method, path, body, append([]reqOpt{withCookie(hs.cookie[who])}, opts...)...)
}

func (hs *hwSite) form(path string, v url.Values, who string) *httptest.ResponseRecorder {
	return hs.do("POST", path, "", who, withFormBody(v))
}

// upload stores a file in p's personal Documents.
func (hs *hwSite) upload(t *testing.T, p directory.Person, name string, content []byte) files.Node {
	t.Helper()
	ctx := context.Background()
	pr, err := directory.New(hs.d).Principal(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := hs.files.PersonalSpace(ctx, pr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := hs.files.Upload(ctx, pr, files.Upload{SpaceID: sp.ID, Name: name, Size: int64(len(content)), Body: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// teacher2 adds a teacher of subject in 3e A and returns their session's
// name in hs.cookie.
func (hs *hwSite) teacher2(t *testing.T, subject int64) string {
	t.Helper()
	ctx := context.Background()
	p, err := directory.CreatePerson(ctx, hs.d, directory.Person{FirstName: "Marie", LastName: "Curie"})
	if err != nil {
		t.Fatal(err)
	}
	if err := directory.AddRole(ctx, hs.d, p.ID, hs.college, identity.Teacher, ""); err != nil {
		t.Fatal(err)
	}
	if err := directory.AddTeaching(ctx, hs.d, p.ID, hs.classA, subject); err != nil {
		t.Fatal(err)
	}
	hs.cookie["teacher2"] = hs.session(t, p)
	return "teacher2"
}

func hwDate(days int) string {
	return time.Now().In(homework.Paris).AddDate(0, 0, days).Format(homework.DateLayout)
}

// TestHomework walks the cahier de textes: a teacher writes a lesson with
// its work and an attachment in a class and subject they teach, nobody
// else writes; the class's pupils, their parents, its teachers and the
// school's staff read it, every foreign id answers 404; pupils tick their
// own work, parents see the ticks; validation answers French messages.
func TestHomework(t *testing.T) {
	hs := newHomeworkSite(t)
	f := hs.fixture
	ctx := context.Background()
	french, err := directory.EnsureSubject(ctx, hs.d, "FRANCAIS", "Français")
	if err != nil {
		t.Fatal(err)
	}
	sheet := hs.upload(t, f.teacher, "Fiche fractions.txt", []byte("Exercice 3 p. 42\n"))
	leaFile := hs.upload(t, f.lea, "brouillon.txt", []byte("à moi\n"))

	entryJSON := func(class, subject int64, lesson, title, due string, fileIDs ...int64) string {
		ids := strings.Join(strings.Fields(fmt.Sprint(fileIDs)), ",")
		return fmt.Sprintf(`{"class_id":%d,"subject_id":%d,"lesson_on":%q,"title":%q,"content":"Cours.\n\nVoir https://exemple.fr/fractions","items":[{"description":"Exercice 3 p. 42","due_on":%q,"minutes":30,"file_ids":%s}]}`,
			class, subject, lesson, title, due, ids)
	}
	today, tomorrow := hwDate(0), hwDate(1)

	// Writing: the class's teacher in their subject, this year; nobody else.
	for _, tc := range []struct {
		who            string
		class, subject int64
	}{
		{"teacher", f.classB, f.mathsID}, {"teacher", f.classA, french}, {"teacher", f.lastYearClass, f.mathsID},
		{"teacher", f.classLycee, f.mathsID}, {"teacher", 999999, f.mathsID}, {"teacher", f.classA, 999999}, {"teacher", f.classA, 0},
		{"lea", f.classA, f.mathsID}, {"mother", f.classA, f.mathsID}, {"cpe", f.classA, f.mathsID},
		{"head", f.classA, f.mathsID}, {"admin", f.classA, f.mathsID},
	} {
		w := hs.do("POST", "/api/v1/homework/entries", entryJSON(tc.class, tc.subject, today, "Fractions", tomorrow), tc.who)
		wantCode(t, w, http.StatusNotFound, fmt.Sprintf("%s writes in class %d subject %d", tc.who, tc.class, tc.subject))
	}
	w := hs.do("POST", "/api/v1/homework/entries", entryJSON(f.classA, f.mathsID, today, "Fractions", tomorrow, sheet.ID), "teacher")
	wantCode(t, w, http.StatusCreated, "teacher writes")
	e := decodeBody[homework.Entry](t, w)
	if len(e.Items) != 1 || len(e.Items[0].Attachments) != 1 || e.Items[0].Attachments[0].Name != "Fiche fractions.txt" || e.AuthorID != f.teacher.ID {
		t.Fatalf("entry %+v", e)
	}
	item := e.Items[0].ID

	// Validation, in French.
	for _, tc := range []struct{ name, body, want string }{
		{"empty title", entryJSON(f.classA, f.mathsID, today, " ", tomorrow), "Le titre de la séance est obligatoire."},
		{"due before the lesson", entryJSON(f.classA, f.mathsID, today, "x", hwDate(-1)), "Travail 1 : il doit être pour le jour de la séance ou après"},
		{"lesson outside the year", entryJSON(f.classA, f.mathsID, "2030-01-10", "x", "2030-01-11"), "pendant l'année scolaire"},
		{"long title", entryJSON(f.classA, f.mathsID, today, strings.Repeat("x", 151), tomorrow), "150 caractères au plus"},
		{"someone else's file", entryJSON(f.classA, f.mathsID, today, "x", tomorrow, leaFile.ID), "introuvable dans vos Documents"},
		{"six files", entryJSON(f.classA, f.mathsID, today, "x", tomorrow, 1, 2, 3, 4, 5, 6), "5 pièces jointes au plus"},
		{"unknown field", `{"class_id":1,"subject_id":1,"author_id":5}`, "JSON invalide"},
	} {
		w := hs.do("POST", "/api/v1/homework/entries", tc.body, "teacher")
		wantCode(t, w, http.StatusBadRequest, tc.name)
		if !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%s: %s, want %q", tc.name, w.Body.String(), tc.want)
		}
	}

	// Reading: the class's pupils, their parents, its teacher, the school.
	entryPath := fmt.Sprintf("/api/v1/homework/entries/%d", e.ID)
	listPath := fmt.Sprintf("/api/v1/homework/entries?class_id=%d", f.classA)
	pagePath := fmt.Sprintf("/cahier-de-textes/classe/%d", f.classA)
	download := fmt.Sprintf("/api/v1/homework/items/%d/attachments/1", item)
	pageDownload := fmt.Sprintf("/cahier-de-textes/travail/%d/pieces-jointes/1", item)
	for _, who := range []string{"lea", "tom", "mother", "teacher", "cpe", "head", "admin"} {
		wantCode(t, hs.do("GET", entryPath, "", who), http.StatusOK, who+" reads the entry")
		w := hs.do("GET", listPath, "", who)
		wantCode(t, w, http.StatusOK, who+" lists the class's book")
		if l := decodeBody[struct{ Entries []homework.Entry }](t, w); len(l.Entries) != 1 {
			t.Errorf("%s lists %d entries", who, len(l.Entries))
		}
		wantCode(t, hs.do("GET", pagePath, "", who), http.StatusOK, who+" opens the class's book")
		w = hs.do("GET", download, "", who)
		wantCode(t, w, http.StatusOK, who+" downloads the attachment")
		if w.Body.String() != "Exercice 3 p. 42\n" || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") ||
			w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s's download: %q %v", who, w.Body.String(), w.Header())
		}
	}
	for _, who := range []string{"hugo", "father", "ines", "lyceeHead"} {
		for _, p := range []string{entryPath, listPath, pagePath, download, pageDownload,
			fmt.Sprintf("/api/v1/homework/entries?pupil_id=%d", f.lea.ID), fmt.Sprintf("/cahier-de-textes/seances?eleve=%d", f.lea.ID)} {
			wantCode(t, hs.do("GET", p, "", who), http.StatusNotFound, who+" GET "+p)
		}
	}
	for _, p := range []string{"/api/v1/homework/entries/999999", fmt.Sprintf("/api/v1/homework/items/%d/attachments/2", item),
		"/api/v1/homework/items/999999/attachments/1", fmt.Sprintf("/api/v1/homework/entries?class_id=%d", f.lastYearClass)} {
		wantCode(t, hs.do("GET", p, "", "lea"), http.StatusNotFound, "lea GET "+p)
	}
	wantCode(t, hs.do("GET", pageDownload, "", "lea"), http.StatusOK, "page download")

	// The "à faire" list: the pupil's own, a parent's child's.
	todo := func(who, query string) hwTodoResponse {
		t.Helper()
		w := hs.do("GET", "/api/v1/homework/todo"+query, "", who)
		wantCode(t, w, http.StatusOK, who+" todo "+query)
		return decodeBody[hwTodoResponse](t, w)
	}
	if l := todo("lea", ""); len(l.Items) != 1 || l.Items[0].Done || l.Items[0].Bucket != homework.Tomorrow || l.PupilID != f.lea.ID {
		t.Fatalf("Léa's todo %+v", l)
	}
	for _, tc := range []struct{ who, query string }{
		{"father", fmt.Sprintf("?pupil_id=%d", f.lea.ID)}, {"hugo", fmt.Sprintf("?pupil_id=%d", f.lea.ID)},
		{"tom", fmt.Sprintf("?pupil_id=%d", f.lea.ID)}, {"teacher", fmt.Sprintf("?pupil_id=%d", f.lea.ID)},
		{"cpe", fmt.Sprintf("?pupil_id=%d", f.lea.ID)}, {"mother", fmt.Sprintf("?pupil_id=%d", f.teacher.ID)},
		{"teacher", ""}, {"cpe", ""},
	} {
		wantCode(t, hs.do("GET", "/api/v1/homework/todo"+tc.query, "", tc.who), http.StatusNotFound, tc.who+" todo "+tc.query)
	}

	// Ticks: the pupil's own; the parent sees them and cannot tick.
	done := fmt.Sprintf("/api/v1/homework/items/%d/done", item)
	wantCode(t, hs.do("PUT", done, `{"done":true}`, "lea"), http.StatusNoContent, "Léa ticks")
	for _, who := range []string{"mother", "hugo", "teacher", "cpe", "ines"} {
		wantCode(t, hs.do("PUT", done, `{"done":true}`, who), http.StatusNotFound, who+" ticks")
	}
	wantCode(t, hs.do("PUT", "/api/v1/homework/items/999999/done", `{"done":true}`, "lea"), http.StatusNotFound, "tick of nothing")
	if l := todo("mother", fmt.Sprintf("?pupil_id=%d", f.lea.ID)); len(l.Items) != 1 || !l.Items[0].Done {
		t.Errorf("the mother does not see Léa's tick: %+v", l)
	}
	if l := todo("tom", ""); len(l.Items) != 1 || l.Items[0].Done {
		t.Errorf("Léa's tick shows in Tom's list: %+v", l)
	}
	w = hs.do("GET", "/cahier-de-textes", "", "mother")
	wantCode(t, w, http.StatusOK, "mother's page")
	if b := w.Body.String(); !strings.Contains(b, `data-testid="hw-done"`) || strings.Contains(b, `data-testid="hw-tick"`) {
		t.Errorf("the mother's page: want the tick shown, no button")
	}
	wantCode(t, hs.form(fmt.Sprintf("/cahier-de-textes/travail/%d/fait", item), url.Values{"fait": {"0"}}, "mother"), http.StatusNotFound, "mother ticks by form")
	w = hs.do("GET", "/cahier-de-textes", "", "tom")
	if b := w.Body.String(); !strings.Contains(b, `data-testid="hw-tick"`) || !strings.Contains(b, "Pour demain") || !strings.Contains(b, "Fiche fractions.txt") {
		t.Errorf("Tom's page:\n%s", b)
	}
	wantCode(t, hs.form(fmt.Sprintf("/cahier-de-textes/travail/%d/fait", item), url.Values{"fait": {"1"}}, "tom"), http.StatusSeeOther, "Tom ticks by form")
	if l := todo("tom", ""); !l.Items[0].Done {
		t.Error("Tom's tick by form not kept")
	}

	// The pupil's book by subject, escaped text with links.
	w = hs.do("GET", "/cahier-de-textes/seances", "", "lea")
	wantCode(t, w, http.StatusOK, "Léa's book")
	if b := w.Body.String(); !strings.Contains(b, `<a href="https://exemple.fr/fractions" rel="noopener noreferrer nofollow">`) || !strings.Contains(b, "Mathématiques") {
		t.Errorf("Léa's book:\n%s", b)
	}

	// Another teacher of the class reads the lesson, and cannot change it.
	french2 := hs.teacher2(t, french)
	wantCode(t, hs.do("GET", entryPath, "", french2), http.StatusOK, "another teacher of the class reads")
	wantCode(t, hs.do("PUT", entryPath, `{"lesson_on":"`+today+`","title":"x"}`, french2), http.StatusNotFound, "another teacher changes")
	wantCode(t, hs.do("DELETE", entryPath, "", french2), http.StatusNotFound, "another teacher deletes")

	// Changing and deleting: the author only.
	update := fmt.Sprintf(`{"lesson_on":%q,"title":"Fractions <b>2</b>","content":"<script>alert(1)</script>","items":[{"id":%d,"description":"Exercices 3 et 4","due_on":%q,"file_ids":[%d]}]}`,
		today, item, tomorrow, sheet.ID)
	for _, who := range []string{"lea", "mother", "cpe", "head", "admin"} {
		wantCode(t, hs.do("PUT", entryPath, update, who), http.StatusNotFound, who+" changes")
		wantCode(t, hs.do("DELETE", entryPath, "", who), http.StatusNotFound, who+" deletes")
	}
	w = hs.do("PUT", entryPath, update, "teacher")
	wantCode(t, w, http.StatusOK, "teacher changes")
	if e2 := decodeBody[homework.Entry](t, w); e2.Items[0].ID != item || len(e2.Items[0].Attachments) != 1 {
		t.Errorf("changed %+v", e2)
	}
	if l := todo("lea", ""); !l.Items[0].Done {
		t.Error("Léa's tick lost by the change")
	}
	w = hs.do("GET", pagePath, "", "lea")
	if b := w.Body.String(); strings.Contains(b, "<script>alert") || !strings.Contains(b, "&lt;script&gt;") || strings.Contains(b, "<b>2</b>") {
		t.Error("text not escaped")
	}

	// The teacher's page and form, without script.
	teacherPage := fmt.Sprintf("/cahier-de-textes/classe/%d?matiere=%d", f.classA, f.mathsID)
	w = hs.do("GET", teacherPage, "", "teacher")
	wantCode(t, w, http.StatusOK, "teacher's page")
	if b := w.Body.String(); !strings.Contains(b, `data-testid="hw-form"`) || !strings.Contains(b, `data-testid="hw-edit"`) || !strings.Contains(b, "Fiche fractions.txt") {
		t.Errorf("teacher's page:\n%s", b)
	}
	if b := hs.do("GET", teacherPage, "", "lea").Body.String(); strings.Contains(b, `data-testid="hw-form"`) || strings.Contains(b, `data-testid="hw-edit"`) {
		t.Error("a pupil gets the form")
	}
	add := fmt.Sprintf("/cahier-de-textes/classe/%d/seances", f.classA)
	form := url.Values{"matiere": {fmt.Sprint(f.mathsID)}, "date": {today}, "titre": {"Géométrie"}, "contenu": {"Les triangles."},
		"consigne_1": {"Construire un triangle"}, "pour_le_1": {hwDate(-2)}, "duree_1": {"20"}, "pj_1": {fmt.Sprint(sheet.ID)}}
	w = hs.form(add, form, "teacher")
	wantCode(t, w, http.StatusBadRequest, "form: due before the lesson")
	if b := w.Body.String(); !strings.Contains(b, "Travail 1 : il doit être pour le jour de la séance ou après") || !strings.Contains(b, "Construire un triangle") {
		t.Errorf("form error page:\n%s", b)
	}
	form.Set("pour_le_1", hwDate(7))
	form.Set("duree_1", "deux heures")
	wantCode(t, hs.form(add, form, "teacher"), http.StatusBadRequest, "form: bad duration")
	form.Set("duree_1", "45")
	wantCode(t, hs.form(add, form, "teacher"), http.StatusSeeOther, "form: a lesson with work")
	for _, who := range []string{"lea", "mother", "cpe", "head"} {
		wantCode(t, hs.form(add, form, who), http.StatusNotFound, who+" adds by form")
	}
	form.Set("matiere", fmt.Sprint(french))
	wantCode(t, hs.form(add, form, "teacher"), http.StatusNotFound, "form: another subject")
	if l := todo("lea", ""); len(l.Items) != 2 || l.Items[1].Minutes != 45 || len(l.Items[1].Attachments) != 1 {
		t.Errorf("after the form: %+v", l)
	}

	// Edit and delete by form.
	edit := fmt.Sprintf("/cahier-de-textes/seances/%d/modifier", e.ID)
	wantCode(t, hs.do("GET", edit, "", "lea"), http.StatusNotFound, "pupil edits")
	w = hs.do("GET", edit, "", "teacher")
	wantCode(t, w, http.StatusOK, "edit page")
	if !strings.Contains(w.Body.String(), "Exercices 3 et 4") {
		t.Error("edit page without the work")
	}
	wantCode(t, hs.form(edit, url.Values{"date": {today}, "titre": {"Fractions"}, "id_1": {fmt.Sprint(item)}, "consigne_1": {"Exercice 5"},
		"pour_le_1": {tomorrow}}, "teacher"), http.StatusSeeOther, "edit by form")
	if l := todo("lea", ""); l.Items[0].Description != "Exercice 5" || len(l.Items[0].Attachments) != 0 || !l.Items[0].Done {
		t.Errorf("after editing: %+v", l.Items[0])
	}
	del := fmt.Sprintf("/cahier-de-textes/seances/%d/supprimer", e.ID)
	wantCode(t, hs.form(del, nil, "cpe"), http.StatusNotFound, "CPE deletes")
	wantCode(t, hs.form(del, nil, "teacher"), http.StatusSeeOther, "teacher deletes")
	wantCode(t, hs.do("GET", entryPath, "", "teacher"), http.StatusNotFound, "deleted entry")

	// The index pages of each profile.
	if b := hs.do("GET", "/cahier-de-textes", "", "teacher").Body.String(); !strings.Contains(b, `data-testid="hw-mine"`) || !strings.Contains(b, "3e A — Mathématiques") {
		t.Errorf("teacher's index:\n%s", b)
	}
	if b := hs.do("GET", "/cahier-de-textes", "", "cpe").Body.String(); !strings.Contains(b, `data-testid="hw-school"`) {
		t.Errorf("CPE's index:\n%s", b)
	}
	wantCode(t, hs.do("GET", fmt.Sprintf("/cahier-de-textes?eleve=%d", f.hugo.ID), "", "mother"), http.StatusNotFound, "another family's child")
}

// TestHomeworkWithoutDocuments: with no Documents configured, a lesson
// without attachments works and attachments are refused clearly.
func TestHomeworkWithoutDocuments(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	c := withCookie(f.session(t, f.teacher))
	body := fmt.Sprintf(`{"class_id":%d,"subject_id":%d,"lesson_on":%q,"title":"Séance","items":[{"description":"Lire","due_on":%q,"file_ids":%s}]}`,
		f.classA, f.mathsID, hwDate(0), hwDate(1), "%s")
	w := f.do("POST", "/api/v1/homework/entries", fmt.Sprintf(body, "[1]"), c)
	wantCode(t, w, http.StatusBadRequest, "attachment without Documents")
	if !strings.Contains(w.Body.String(), "Documents ne sont pas configurés") {
		t.Errorf("message %s", w.Body.String())
	}
	wantCode(t, f.do("POST", "/api/v1/homework/entries", fmt.Sprintf(body, "[]"), c), http.StatusCreated, "no attachment")
	wantCode(t, f.do("GET", "/api/v1/homework/items/1/attachments/1", "", c), http.StatusNotFound, "download without Documents")
}

// TestHomeworkText: paragraphs, line breaks and links of plain text; dates
// and durations the French way.
func TestHomeworkText(t *testing.T) {
	ps := hwParagraphs("Lire p. 12\nvoir https://exemple.fr/a.\n\n\n\nFin <b>")
	if len(ps) != 2 || len(ps[0]) != 2 || len(ps[1]) != 1 {
		t.Fatalf("paragraphs %+v", ps)
	}
	if l := ps[0][1]; len(l) != 3 || l[1].Href != "https://exemple.fr/a" || l[2].Text != "." {
		t.Errorf("link line %+v", l)
	}
	if ps[1][0][0].Text != "Fin <b>" || ps[1][0][0].Href != "" {
		t.Errorf("last paragraph %+v", ps[1])
	}
	for in, want := range map[string]string{"2026-12-01": "mardi 1er décembre", "2026-11-30": "lundi 30 novembre", "x": "x"} {
		if got := hwDay(in); got != want {
			t.Errorf("hwDay(%s) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int]string{0: "", 45: "45 min", 60: "1 h", 90: "1 h 30", 125: "2 h 05"} {
		if got := hwDuration(in); got != want {
			t.Errorf("hwDuration(%d) = %q, want %q", in, got, want)
		}
	}
}
