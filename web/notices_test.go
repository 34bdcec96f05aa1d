package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/ent/notices"
	"preau/internal/dbtest"
	"preau/storage/files"
)

// TestNotices walks the notice board: a teacher publishes to the parents
// of the class they teach with a document and an acknowledgement, the vie
// scolaire to the pupils from the page form, the direction keeps a draft;
// every reader sees exactly what is addressed to them (everything else is
// 404), a parent acknowledges once and the author follows who has.
func TestNotices(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) { testNotices(t, d) })
}

func testNotices(t *testing.T, d *db.DB) {
	fs := newFilesSite(t, d)
	c := map[string]*http.Cookie{}
	for name, p := range map[string]*http.Cookie{
		"teacher": fs.session(t, fs.teacher), "lea": fs.session(t, fs.lea), "tom": fs.session(t, fs.tom), "hugo": fs.session(t, fs.hugo),
		"ines": fs.session(t, fs.ines), "mother": fs.session(t, fs.mother), "father": fs.session(t, fs.father), "cpe": fs.session(t, fs.cpe),
		"head": fs.session(t, fs.head), "lyceeHead": fs.session(t, fs.lyceeHead), "admin": fs.session(t, fs.admin),
	} {
		c[name] = p
	}
	do := func(method, path, body, who string) *httptest.ResponseRecorder {
		return serve(fs.h, method, path, body, withCookie(c[who]))
	}
	form := func(path string, v url.Values, who string) *httptest.ResponseRecorder {
		return serve(fs.h, "POST", path, "", withCookie(c[who]), withFormBody(v))
	}
	today := notices.Today(time.Now())
	until := time.Now().In(notices.Paris).AddDate(0, 0, 10).Format(notices.DateLayout)
	body := func(st int64, title string, ack bool, audience string, files ...int64) string {
		ids := "[]"
		if len(files) > 0 {
			ids = fmt.Sprintf("[%d]", files[0])
		}
		return fmt.Sprintf(`{"structure_id":%d,"title":%q,"body":"Voir https://exemple.fr/sortie.\n<script>alert(1)</script>","valid_from":%q,"valid_until":%q,"requires_ack":%v,"audience":%s,"files":%s}`,
			st, title, today, until, ack, audience, ids)
	}

	// The teacher's document, from their personal space.
	w := do("GET", "/api/v1/files/spaces", "", "teacher")
	wantCode(t, w, http.StatusOK, "spaces")
	var personal int64
	for _, sp := range decodeBody[struct{ Spaces []files.Space }](t, w).Spaces {
		if sp.Kind == files.Personal {
			personal = sp.ID
		}
	}
	content := []byte("Autorisation de sortie au musée.\n")
	w = fs.upload(personal, 0, "autorisation.txt", content, c["teacher"])
	wantCode(t, w, http.StatusCreated, "upload")
	doc := decodeBody[files.Node](t, w)

	// Publishing: a teacher to the classes they teach only.
	parentsA := fmt.Sprintf(`[{"kind":"class_parents","class_id":%d}]`, fs.classA)
	for _, tc := range []struct{ who, body string }{
		{"teacher", body(fs.college, "3e B", false, fmt.Sprintf(`[{"kind":"class","class_id":%d}]`, fs.classB))},
		{"teacher", body(fs.college, "Tous", false, `[{"kind":"school"}]`)},
		{"teacher", body(fs.college, "Last year", false, fmt.Sprintf(`[{"kind":"class","class_id":%d}]`, fs.lastYearClass))},
		{"lea", body(fs.college, "Élèves", false, `[{"kind":"profile","profile":"eleve"}]`)},
		{"mother", body(fs.college, "Parents", false, parentsA)},
		{"lyceeHead", body(fs.college, "Collège", false, `[{"kind":"school"}]`)},
		{"cpe", body(fs.lycee, "Lycée", false, `[{"kind":"school"}]`)},
	} {
		w := do("POST", "/api/v1/notices", tc.body, tc.who)
		if w.Code != http.StatusNotFound && w.Code != http.StatusBadRequest {
			t.Errorf("%s publishes %s: %d %s", tc.who, tc.body, w.Code, w.Body)
		}
	}
	w = do("POST", "/api/v1/notices", body(fs.college, "", true, parentsA), "teacher")
	wantCode(t, w, http.StatusBadRequest, "no title")
	if !strings.Contains(w.Body.String(), "Donnez un titre.") {
		t.Errorf("no French error: %s", w.Body)
	}
	w = do("POST", "/api/v1/notices", body(fs.college, "Élèves", true, `[{"kind":"profile","profile":"eleve"}]`), "cpe")
	wantCode(t, w, http.StatusBadRequest, "ack from pupils")
	w = do("POST", "/api/v1/notices", body(fs.college, "Sortie au musée", true, parentsA, doc.ID), "teacher")
	wantCode(t, w, http.StatusCreated, "teacher publishes")
	sortie := decodeBody[noticeJSON](t, w)
	if len(sortie.Files) != 1 || sortie.Files[0].Name != "autorisation.txt" || !sortie.CanFollow || sortie.State != "live" {
		t.Fatalf("created %+v", sortie)
	}
	// The vie scolaire, from the page form; a French error first.
	v := url.Values{"etablissement": {fmt.Sprint(fs.college)}, "titre": {"Photo de classe"}, "texte": {"Mardi."},
		"debut": {until}, "fin": {today}, "public": {"profil:eleve"}}
	w = form("/actualites", v, "cpe")
	wantCode(t, w, http.StatusBadRequest, "form: dates reversed")
	if !strings.Contains(w.Body.String(), "La date de fin précède la date de début.") || !strings.Contains(w.Body.String(), `value="Photo de classe"`) {
		t.Error("the form does not come back with its French error and its values")
	}
	v.Set("debut", today)
	v.Set("fin", until)
	w = form("/actualites", v, "cpe")
	wantCode(t, w, http.StatusSeeOther, "form: CPE publishes")
	var photo int64
	fmt.Sscanf(w.Header().Get("Location"), "/actualites/%d?ok=enregistre", &photo)
	// The direction's draft to everyone.
	w = do("POST", "/api/v1/notices", strings.Replace(body(fs.college, "Conseil", false, `[{"kind":"school"}]`), `"requires_ack"`, `"draft":true,"requires_ack"`, 1), "head")
	wantCode(t, w, http.StatusCreated, "head's draft")
	draft := decodeBody[noticeJSON](t, w)

	// The mother's home page counts the notice, new and to acknowledge.
	if w := do("GET", "/accueil", "", "mother"); !strings.Contains(w.Body.String(), "1 nouvelle · 1 à confirmer") {
		t.Errorf("home tile:\n%s", w.Body)
	}

	// Who reads what: everything else is 404, by API and page.
	readers := map[int64][]string{
		sortie.ID: {"teacher", "mother", "cpe", "head", "admin"},
		photo:     {"lea", "tom", "hugo", "cpe", "head", "admin"},
		draft.ID:  {"head", "admin"},
	}
	for id, ok := range readers {
		for who := range c {
			want := http.StatusNotFound
			for _, o := range ok {
				if o == who {
					want = http.StatusOK
				}
			}
			wantCode(t, do("GET", fmt.Sprintf("/api/v1/notices/%d", id), "", who), want, fmt.Sprintf("%s reads %d", who, id))
			wantCode(t, do("GET", fmt.Sprintf("/actualites/%d", id), "", who), want, fmt.Sprintf("page: %s reads %d", who, id))
		}
	}
	wantCode(t, do("GET", "/api/v1/notices/999999", "", "admin"), http.StatusNotFound, "unknown id")

	// The mother's list: one notice to acknowledge; the text is escaped,
	// its address a link.
	w = do("GET", "/api/v1/notices", "", "mother")
	list := decodeBody[struct{ Notices []noticeJSON }](t, w).Notices
	if len(list) != 1 || list[0].ID != sortie.ID || !list[0].AckNeeded || !list[0].Read {
		t.Fatalf("mother's list %+v", list)
	}
	w = do("GET", fmt.Sprintf("/actualites/%d", sortie.ID), "", "mother")
	page := w.Body.String()
	if !strings.Contains(page, `data-testid="notice-ack"`) || strings.Contains(page, "<script>alert") ||
		!strings.Contains(page, `<a href="https://exemple.fr/sortie" rel="noopener noreferrer nofollow"`) {
		t.Errorf("mother's page:\n%s", page)
	}
	w = do("GET", fmt.Sprintf("/actualites/%d/documents/1", sortie.ID), "", "mother")
	wantCode(t, w, http.StatusOK, "mother downloads")
	if !bytes.Equal(w.Body.Bytes(), content) || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment;") ||
		w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("download %q %v", w.Body, w.Header())
	}
	for _, who := range []string{"father", "lea", "lyceeHead"} {
		wantCode(t, do("GET", fmt.Sprintf("/api/v1/notices/%d/files/1", sortie.ID), "", who), http.StatusNotFound, who+" downloads")
	}
	wantCode(t, do("GET", fmt.Sprintf("/api/v1/notices/%d/files/2", sortie.ID), "", "mother"), http.StatusNotFound, "no document 2")

	// Acknowledging: the mother, once; nobody else is asked.
	for _, who := range []string{"father", "lea", "teacher", "cpe"} {
		wantCode(t, do("POST", fmt.Sprintf("/api/v1/notices/%d/ack", sortie.ID), "", who), http.StatusNotFound, who+" acknowledges")
	}
	wantCode(t, do("POST", fmt.Sprintf("/api/v1/notices/%d/ack", photo), "", "mother"), http.StatusNotFound, "ack of a notice asking none")
	wantCode(t, form(fmt.Sprintf("/actualites/%d/pris-connaissance", sortie.ID), url.Values{}, "mother"), http.StatusSeeOther, "mother acknowledges")
	wantCode(t, do("POST", fmt.Sprintf("/api/v1/notices/%d/ack", sortie.ID), "", "mother"), http.StatusNoContent, "again")
	if l := decodeBody[struct{ Notices []noticeJSON }](t, do("GET", "/api/v1/notices", "", "mother")).Notices; l[0].AckNeeded || !l[0].Acked {
		t.Errorf("after the ack: %+v", l[0])
	}

	// Follow-up: the author, the vie scolaire, the direction.
	for _, who := range []string{"mother", "father", "lea", "lyceeHead"} {
		wantCode(t, do("GET", fmt.Sprintf("/api/v1/notices/%d/acks", sortie.ID), "", who), http.StatusNotFound, who+" follows")
		wantCode(t, do("GET", fmt.Sprintf("/actualites/%d/suivi", sortie.ID), "", who), http.StatusNotFound, "page: "+who+" follows")
	}
	wantCode(t, do("GET", fmt.Sprintf("/api/v1/notices/%d/acks", photo), "", "cpe"), http.StatusNotFound, "follow-up of a notice asking none")
	w = do("GET", fmt.Sprintf("/api/v1/notices/%d/acks", sortie.ID), "", "teacher")
	wantCode(t, w, http.StatusOK, "teacher follows")
	rep := decodeBody[notices.AckReport](t, w)
	if len(rep.Rows) != 2 || rep.Done != 1 || rep.NoGuardian != 1 || rep.Rows[0].Pupil != "Léa Martin" || !rep.Rows[0].Done {
		t.Errorf("follow-up %+v", rep)
	}
	w = do("GET", fmt.Sprintf("/actualites/%d/suivi", sortie.ID), "", "cpe")
	wantCode(t, w, http.StatusOK, "CPE's follow-up page")
	if !strings.Contains(w.Body.String(), "Sophie Martin le ") || !strings.Contains(w.Body.String(), "Sur 2 élèves : <strong>1</strong> dont un responsable") {
		t.Errorf("follow-up page:\n%s", w.Body)
	}
	w = do("GET", fmt.Sprintf("/actualites/%d/suivi.csv", sortie.ID), "", "head")
	wantCode(t, w, http.StatusOK, "CSV")
	if csv := w.Body.String(); !strings.HasPrefix(csv, "\uFEFFÉlève;Classe;") || !strings.Contains(csv, "Léa Martin;3e A;Sophie Martin;oui;") {
		t.Errorf("CSV %q", csv)
	}

	// Editing and deleting: the author and the direction.
	edit := body(fs.college, "Sortie reportée", true, parentsA)
	wantCode(t, do("PUT", fmt.Sprintf("/api/v1/notices/%d", sortie.ID), edit, "cpe"), http.StatusNotFound, "CPE edits the teacher's")
	wantCode(t, do("PUT", fmt.Sprintf("/api/v1/notices/%d", sortie.ID), body(fs.college, "x", false, `[{"kind":"school"}]`), "teacher"),
		http.StatusNotFound, "teacher widens to the school")
	w = do("PUT", fmt.Sprintf("/api/v1/notices/%d", sortie.ID), edit, "teacher")
	wantCode(t, w, http.StatusOK, "teacher edits")
	if n := decodeBody[noticeJSON](t, w); n.Title != "Sortie reportée" || len(n.Files) != 1 {
		t.Errorf("edited %+v", n)
	}
	wantCode(t, do("GET", fmt.Sprintf("/actualites/%d/modifier", sortie.ID), "", "head"), http.StatusOK, "head's edit form")
	wantCode(t, do("GET", fmt.Sprintf("/actualites/%d/modifier", sortie.ID), "", "mother"), http.StatusNotFound, "mother's edit form")
	w = form(fmt.Sprintf("/actualites/%d/modifier", photo), url.Values{"titre": {"Photo de classe (jeudi)"}, "texte": {"Jeudi."},
		"debut": {today}, "fin": {until}, "public": {"profil:eleve", "profil:parent"}}, "head")
	wantCode(t, w, http.StatusSeeOther, "head edits the CPE's by the form")
	wantCode(t, do("GET", fmt.Sprintf("/api/v1/notices/%d", photo), "", "mother"), http.StatusOK, "now to parents too")
	for _, who := range []string{"father", "cpe", "lyceeHead", "lea"} {
		wantCode(t, do("DELETE", fmt.Sprintf("/api/v1/notices/%d", sortie.ID), "", who), http.StatusNotFound, who+" deletes")
	}
	wantCode(t, form(fmt.Sprintf("/actualites/%d/supprimer", sortie.ID), url.Values{}, "teacher"), http.StatusSeeOther, "teacher deletes")
	wantCode(t, do("GET", fmt.Sprintf("/api/v1/notices/%d", sortie.ID), "", "teacher"), http.StatusNotFound, "deleted")
	wantCode(t, do("DELETE", fmt.Sprintf("/api/v1/notices/%d", draft.ID), "", "head"), http.StatusNoContent, "head deletes")

	// Pages: the list with its marks, the form, the home tile.
	w = do("GET", "/actualites", "", "father")
	wantCode(t, w, http.StatusOK, "Hugo's father's list")
	if !strings.Contains(w.Body.String(), "Photo de classe (jeudi)") || !strings.Contains(w.Body.String(), `data-testid="notice-unread"`) {
		t.Errorf("Hugo's father's list:\n%s", w.Body)
	}
	wantCode(t, do("GET", "/actualites/nouvelle", "", "teacher"), http.StatusOK, "teacher's form")
	wantCode(t, do("GET", "/actualites/nouvelle", "", "mother"), http.StatusNotFound, "mother's form")
	if w := do("GET", "/accueil", "", "mother"); !strings.Contains(w.Body.String(), `href="/actualites"`) {
		t.Error("no Actualités tile on the home page")
	}
}
