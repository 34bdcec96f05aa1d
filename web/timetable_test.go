package web

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"preau/ent/directory"
	"preau/ent/timetable"
)

// TestTimetable walks the emploi du temps: the CPE enters and imports
// slots and cancels a lesson; pupils, parents and teachers see the weeks
// they may, every other id answers 404; a slot of now is where the teacher
// starts the live lesson and where the pupil joins it.
func TestTimetable(t *testing.T) {
	f, live := liveFixture(t)
	// Tuesday 1 December 2026, 10:20 in Paris (week A).
	now := time.Date(2026, 12, 1, 10, 20, 0, 0, timetable.Paris)
	live.Now = func() time.Time { return now }
	c := map[string]*http.Cookie{}
	for name, p := range map[string]directory.Person{"teacher": f.teacher, "lea": f.lea, "hugo": f.hugo, "mother": f.mother,
		"father": f.father, "cpe": f.cpe, "head": f.head, "lyceeHead": f.lyceeHead} {
		c[name] = f.session(t, p)
	}
	do := func(method, path, body, who string) *httptest.ResponseRecorder {
		return f.do(method, path, body, withCookie(c[who]))
	}
	form := func(path string, v url.Values, who string) *httptest.ResponseRecorder {
		return f.do("POST", path, "", withCookie(c[who]), withFormBody(v))
	}
	slot := func(class int64, day, start, end int, teacher int64) string {
		return fmt.Sprintf(`{"class_id":%d,"subject_id":%d,"teacher_id":%d,"room":"B12","weekday":%d,"start_min":%d,"end_min":%d}`,
			class, f.mathsID, teacher, day, start, end)
	}

	// Entering slots: the school's vie scolaire and direction only.
	for _, who := range []string{"teacher", "lea", "mother", "lyceeHead"} {
		wantCode(t, do("POST", "/api/v1/timetable/slots", slot(f.classA, 2, 600, 660, f.teacher.ID), who), http.StatusNotFound, who+" creates a slot")
	}
	w := do("POST", "/api/v1/timetable/slots", slot(f.classA, 2, 600, 660, f.teacher.ID), "cpe")
	wantCode(t, w, http.StatusCreated, "CPE creates a slot")
	tuesday := decodeBody[timetable.Slot](t, w)
	w = do("POST", "/api/v1/timetable/slots", slot(f.classB, 2, 630, 690, f.teacher.ID), "cpe")
	wantCode(t, w, http.StatusBadRequest, "teacher in two classes at once")
	if !strings.Contains(w.Body.String(), "Paul Dupont fait déjà cours en 3e A") {
		t.Errorf("clash message: %s", w.Body.String())
	}
	// The page form, with a French error on a bad hour.
	editPage := fmt.Sprintf("/emploi-du-temps/classe/%d", f.classA)
	wantCode(t, do("GET", editPage, "", "teacher"), http.StatusNotFound, "teacher edits")
	wantCode(t, do("GET", editPage, "", "head"), http.StatusOK, "head edits")
	w = form(editPage+"/creneaux", url.Values{"matiere": {fmt.Sprint(f.mathsID)}, "jour": {"4"}, "debut": {"huit"}, "fin": {"9:00"}}, "cpe")
	wantCode(t, w, http.StatusBadRequest, "bad hour")
	if !strings.Contains(w.Body.String(), "Heures de début et de fin illisibles") {
		t.Error("no French error for a bad hour")
	}
	w = form(editPage+"/creneaux", url.Values{"matiere": {fmt.Sprint(f.mathsID)}, "jour": {"4"}, "debut": {"8:00"}, "fin": {"9:00"}, "salle": {"C3"}}, "cpe")
	wantCode(t, w, http.StatusSeeOther, "slot from the form")

	// Who sees which week.
	week := func(query, who string) weekResponse {
		t.Helper()
		w := do("GET", "/api/v1/timetable/week?semaine=2026-12-01&"+query, "", who)
		wantCode(t, w, http.StatusOK, who+" week "+query)
		return decodeBody[weekResponse](t, w)
	}
	if wk := week("", "lea"); len(wk.Lessons) != 2 || wk.Week != "A" || wk.Monday != "2026-11-30" || wk.Lessons[0].Subject != "Mathématiques" {
		t.Errorf("Léa's week: %+v", wk)
	}
	if wk := week(fmt.Sprintf("eleve=%d", f.lea.ID), "mother"); len(wk.Lessons) != 2 || wk.Title != "Léa Martin" {
		t.Errorf("her mother's view: %+v", wk)
	}
	if wk := week("", "teacher"); len(wk.Lessons) != 1 || wk.Lessons[0].ClassName != "3e A" {
		t.Errorf("teacher's own week: %+v", wk)
	}
	if wk := week(fmt.Sprintf("classe=%d", f.classA), "head"); len(wk.Lessons) != 2 {
		t.Errorf("head's view of 3e A: %+v", wk)
	}
	for _, tc := range []struct{ query, who string }{
		{fmt.Sprintf("classe=%d", f.classA), "hugo"},
		{fmt.Sprintf("eleve=%d", f.lea.ID), "father"},
		{fmt.Sprintf("eleve=%d", f.lea.ID), "hugo"},
		{fmt.Sprintf("classe=%d", f.classB), "teacher"},
		{fmt.Sprintf("classe=%d", f.classA), "lyceeHead"},
		{fmt.Sprintf("enseignant=%d", f.teacher.ID), "lea"},
		{"classe=999999", "head"},
	} {
		wantCode(t, do("GET", "/api/v1/timetable/week?"+tc.query, "", tc.who), http.StatusNotFound, tc.who+" "+tc.query)
		wantCode(t, do("GET", "/emploi-du-temps?"+tc.query, "", tc.who), http.StatusNotFound, "page: "+tc.who+" "+tc.query)
	}

	// Now is inside Tuesday's 10:00 lesson: the teacher starts it from the
	// timetable, then Léa sees it live with a link to join.
	w = do("GET", "/emploi-du-temps", "", "teacher")
	wantCode(t, w, http.StatusOK, "teacher's page")
	if !strings.Contains(w.Body.String(), `data-testid="tt-start"`) {
		t.Fatalf("no start button on the teacher's lesson of now:\n%s", w.Body.String())
	}
	w = form("/direct", url.Values{"class_id": {fmt.Sprint(f.classA)}}, "teacher")
	wantCode(t, w, http.StatusSeeOther, "start from the timetable")
	room := strings.TrimPrefix(w.Header().Get("Location"), "/direct/")
	w = do("GET", "/emploi-du-temps", "", "lea")
	if !strings.Contains(w.Body.String(), `data-testid="tt-live"`) || !strings.Contains(w.Body.String(), "/direct/"+room) {
		t.Errorf("Léa's page does not show the lesson live")
	}

	// The CPE cancels Thursday's lesson; families see it, with the note.
	var thursday timetable.Slot
	for _, o := range week("", "lea").Lessons {
		if o.Weekday == 4 {
			thursday = o.Slot
		}
	}
	change := fmt.Sprintf("/emploi-du-temps/creneaux/%d/changement", thursday.ID)
	wantCode(t, form(change, url.Values{"date": {"2026-12-03"}, "statut": {"cancelled"}, "remarque": {"sortie au musée"}}, "teacher"), http.StatusNotFound, "teacher cancels")
	wantCode(t, form(change, url.Values{"date": {"2026-12-04"}, "statut": {"cancelled"}}, "cpe"), http.StatusBadRequest, "cancel a day without the lesson")
	wantCode(t, form(change, url.Values{"date": {"2026-12-03"}, "statut": {"cancelled"}, "remarque": {"sortie au musée"}}, "cpe"), http.StatusSeeOther, "CPE cancels")
	w = do("GET", fmt.Sprintf("/emploi-du-temps?eleve=%d&semaine=2026-12-03", f.lea.ID), "", "mother")
	if !strings.Contains(w.Body.String(), "Annulé") || !strings.Contains(w.Body.String(), "sortie au musée") {
		t.Errorf("the mother's page does not show the cancellation")
	}
	// Moved to Friday 14:00 instead, by the API.
	w = do("PUT", fmt.Sprintf("/api/v1/timetable/slots/%d/changes/2026-12-03", thursday.ID),
		`{"status":"moved","new_date":"2026-12-04","new_start_min":840,"new_end_min":900}`, "cpe")
	wantCode(t, w, http.StatusNoContent, "move")
	w = do("GET", fmt.Sprintf("/emploi-du-temps?eleve=%d&semaine=2026-12-03", f.lea.ID), "", "mother")
	if !strings.Contains(w.Body.String(), "Déplacé au vendredi 4 décembre à 14 h 00") {
		t.Errorf("the mother's page does not show the move")
	}
	wantCode(t, do("DELETE", fmt.Sprintf("/api/v1/timetable/slots/%d/changes/2026-12-03", thursday.ID), "", "head"), http.StatusNoContent, "restore")

	// Import: the school's file replaces 3e B's timetable; a bad line
	// changes nothing and is reported with its number.
	csv := "Classe;Jour;Début;Fin;Matière;Enseignant;Salle\n3e B;lundi;9:00;10:00;MATHS;;A1\n3e B;mercredi;9:00;10:00;Mathématiques;;A1\n"
	w = do("POST", fmt.Sprintf("/api/v1/timetable/import?etablissement=%d", f.college), csv, "cpe")
	wantCode(t, w, http.StatusOK, "import")
	if rep := decodeBody[timetable.ImportReport](t, w); rep.Slots != 2 || rep.Classes != 1 {
		t.Errorf("import report %+v", rep)
	}
	w = do("POST", fmt.Sprintf("/api/v1/timetable/import?etablissement=%d", f.college), "Classe;Jour;Début;Fin;Matière\n3e B;dimanche;9:00;10:00;MATHS\n", "cpe")
	wantCode(t, w, http.StatusBadRequest, "bad import")
	if !strings.Contains(w.Body.String(), `"line":2`) && !strings.Contains(w.Body.String(), `"Line":2`) {
		t.Errorf("bad import: %s", w.Body.String())
	}
	wantCode(t, do("POST", fmt.Sprintf("/api/v1/timetable/import?etablissement=%d", f.lycee), csv, "cpe"), http.StatusNotFound, "import into another school")
	if wk := week(fmt.Sprintf("classe=%d", f.classB), "cpe"); len(wk.Lessons) != 2 {
		t.Errorf("3e B after the imports: %+v", wk)
	}
	// Deleting: the direction; not a teacher.
	wantCode(t, do("DELETE", fmt.Sprintf("/api/v1/timetable/slots/%d", tuesday.ID), "", "teacher"), http.StatusNotFound, "teacher deletes")
	wantCode(t, do("DELETE", fmt.Sprintf("/api/v1/timetable/slots/%d", tuesday.ID), "", "head"), http.StatusNoContent, "head deletes")
}

// withFormBody sends v as an HTML form.
func withFormBody(v url.Values) reqOpt {
	return func(r *http.Request) {
		body := v.Encode()
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
}
