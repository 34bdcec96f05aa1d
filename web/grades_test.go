package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

// gradesFixture adds a second subject (French, taught by nobody in 3e A)
// to the fixture and signs everyone in.
type gradesFixture struct {
	*fixture
	frenchID int64
	c        map[string]*http.Cookie
}

func newGradesFixture(t *testing.T, d *db.DB) *gradesFixture {
	f := &gradesFixture{fixture: newFixture(t, d), c: map[string]*http.Cookie{}}
	var err error
	if f.frenchID, err = directory.EnsureSubject(context.Background(), d, "FRANCAIS", "Français"); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]directory.Person{"teacher": f.teacher, "lea": f.lea, "tom": f.tom, "hugo": f.hugo,
		"ines": f.ines, "mother": f.mother, "father": f.father, "cpe": f.cpe, "head": f.head, "lyceeHead": f.lyceeHead, "admin": f.admin} {
		f.c[name] = f.session(t, p)
	}
	return f
}

func formBody(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

func (f *gradesFixture) form(path, who string, kv ...string) *httptest.ResponseRecorder {
	return f.do("POST", path, formBody(kv...), withCookie(f.c[who]), withHeader("Content-Type", "application/x-www-form-urlencoded"))
}

// createEval makes an evaluation of 3e A in maths as the teacher, through
// the API, and returns its id.
func (f *gradesFixture) createEval(t *testing.T, body string) int64 {
	t.Helper()
	w := f.do("POST", fmt.Sprintf("/api/v1/grades/classes/%d/subjects/%d/evaluations", f.classA, f.mathsID), body, withCookie(f.c["teacher"]))
	wantCode(t, w, http.StatusCreated, "create evaluation")
	return decodeBody[gradeEvalJSON](t, w).ID
}

// TestGradesAPIFlow: the teacher creates evaluations and enters grades;
// the pupil and her mother read the averages the rules give.
func TestGradesAPIFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newGradesFixture(t, d)
		e1 := f.createEval(t, `{"title":"Contrôle 1","date":"2026-09-20"}`)
		e2 := f.createEval(t, `{"title":"DM","date":"2026-10-12","scale":10,"coefficient":2}`)
		put := func(id int64, body string) {
			t.Helper()
			w := f.do("PUT", fmt.Sprintf("/api/v1/grades/evaluations/%d/grades", id), body, withCookie(f.c["teacher"]))
			wantCode(t, w, http.StatusOK, "set grades")
		}
		put(e1, fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"note","value":14},{"pupil_id":%d,"status":"note","value":8}]}`, f.lea.ID, f.tom.ID))
		put(e2, fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"note","value":6},{"pupil_id":%d,"status":"absent"}]}`, f.lea.ID, f.tom.ID))

		type report struct {
			Overall  *float64 `json:"overall"`
			Subjects []struct {
				Subject      string   `json:"subject"`
				Average      *float64 `json:"average"`
				ClassAverage *float64 `json:"class_average"`
				Min, Max     *float64
				Evaluations  []struct {
					ID     int64    `json:"id"`
					Status *string  `json:"status"`
					Value  *float64 `json:"value"`
					Stats  struct {
						Counted int      `json:"counted"`
						Mean    *float64 `json:"mean"`
					} `json:"stats"`
				} `json:"evaluations"`
				Running []struct{ Average *float64 } `json:"running"`
			} `json:"subjects"`
		}
		for _, who := range []string{"lea", "mother", "teacher", "cpe", "head", "admin"} {
			w := f.do("GET", fmt.Sprintf("/api/v1/grades/pupils/%d?term=1", f.lea.ID), "", withCookie(f.c[who]))
			wantCode(t, w, http.StatusOK, who+" reads Léa's report")
			r := decodeBody[report](t, w)
			if len(r.Subjects) != 1 || r.Subjects[0].Subject != "Mathématiques" {
				t.Fatalf("%s: subjects %+v", who, r.Subjects)
			}
			s := r.Subjects[0]
			// Léa: 14/20 ×1, 6/10 = 12/20 ×2 → 38/3 = 12,67; Tom: 8 (absent
			// does not count); class (12,666… + 8)/2 = 10,33.
			if *s.Average != 12.67 || *s.ClassAverage != 10.33 || *s.Min != 8 || *s.Max != 12.67 || *r.Overall != 12.67 {
				t.Errorf("%s: averages %v %v %v %v overall %v", who, *s.Average, *s.ClassAverage, *s.Min, *s.Max, *r.Overall)
			}
			if len(s.Evaluations) != 2 || *s.Evaluations[1].Value != 6 || s.Evaluations[1].Stats.Counted != 1 || len(s.Running) != 2 {
				t.Errorf("%s: evaluations %+v", who, s.Evaluations)
			}
		}
		// Tom's own report: his absence shows, and no one else's grade.
		w := f.do("GET", fmt.Sprintf("/api/v1/grades/pupils/%d?term=1", f.tom.ID), "", withCookie(f.c["tom"]))
		wantCode(t, w, http.StatusOK, "Tom's report")
		if body := w.Body.String(); !strings.Contains(body, `"absent"`) || strings.Contains(body, "Léa") || strings.Contains(body, `"value":14`) {
			t.Errorf("Tom's report: %s", body)
		}
		// Another term: nothing.
		w = f.do("GET", fmt.Sprintf("/api/v1/grades/pupils/%d?term=2", f.lea.ID), "", withCookie(f.c["lea"]))
		wantCode(t, w, http.StatusOK, "term 2")
		if r := decodeBody[report](t, w); len(r.Subjects) != 0 || r.Overall != nil {
			t.Errorf("term 2: %+v", r)
		}
		wantCode(t, f.do("GET", fmt.Sprintf("/api/v1/grades/pupils/%d?term=9", f.lea.ID), "", withCookie(f.c["lea"])), http.StatusBadRequest, "term 9")

		// The class list, the evaluation, an edit, a clear and a deletion.
		w = f.do("GET", fmt.Sprintf("/api/v1/grades/classes/%d/subjects/%d/evaluations?term=1", f.classA, f.mathsID), "", withCookie(f.c["teacher"]))
		wantCode(t, w, http.StatusOK, "list")
		if b := w.Body.String(); !strings.Contains(b, `"can_write":true`) || !strings.Contains(b, `"class_average":10.33`) {
			t.Errorf("list: %s", b)
		}
		w = f.do("PATCH", fmt.Sprintf("/api/v1/grades/evaluations/%d", e2), `{"scale":5}`, withCookie(f.c["teacher"]))
		wantCode(t, w, http.StatusBadRequest, "scale below a grade")
		if !strings.Contains(w.Body.String(), "dépasse ce barème") {
			t.Errorf("scale error: %s", w.Body.String())
		}
		wantCode(t, f.do("PATCH", fmt.Sprintf("/api/v1/grades/evaluations/%d", e2), `{"title":"Devoir maison","coefficient":1.5}`, withCookie(f.c["teacher"])), http.StatusOK, "patch")
		put(e1, fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":null}]}`, f.lea.ID))
		w = f.do("GET", fmt.Sprintf("/api/v1/grades/evaluations/%d", e1), "", withCookie(f.c["teacher"]))
		wantCode(t, w, http.StatusOK, "evaluation")
		if b := w.Body.String(); !strings.Contains(b, `"status":null`) || !strings.Contains(b, `"counted":1`) {
			t.Errorf("cleared grade: %s", b)
		}
		wantCode(t, f.do("DELETE", fmt.Sprintf("/api/v1/grades/evaluations/%d", e1), "", withCookie(f.c["teacher"])), http.StatusNoContent, "delete")
		wantCode(t, f.do("GET", fmt.Sprintf("/api/v1/grades/evaluations/%d", e1), "", withCookie(f.c["teacher"])), http.StatusNotFound, "deleted")
		wantCode(t, f.do("GET", "/api/v1/grades/terms", "", withCookie(f.c["lea"])), http.StatusOK, "terms")
	})
}

// TestGradesAPIValidation: French errors, nothing written.
func TestGradesAPIValidation(t *testing.T) {
	f := newGradesFixture(t, dbtest.SQLite(t))
	create := fmt.Sprintf("/api/v1/grades/classes/%d/subjects/%d/evaluations", f.classA, f.mathsID)
	for body, msg := range map[string]string{
		`{"title":"","date":"2026-10-01"}`:                      "titre",
		`{"title":"x","date":"2025-10-01"}`:                     "année scolaire",
		`{"title":"x","date":"01/10/2026"}`:                     "date valide",
		`{"title":"x","date":"2026-10-01","scale":0}`:           "barème",
		`{"title":"x","date":"2026-10-01","scale":101}`:         "barème",
		`{"title":"x","date":"2026-10-01","coefficient":0.4}`:   "coefficient",
		`{"title":"x","date":"2026-10-01","coefficient":1.555}`: "coefficient",
		`{"title":"x","date":"2026-10-01","extra":1}`:           "JSON invalide",
	} {
		w := f.do("POST", create, body, withCookie(f.c["teacher"]))
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), msg) {
			t.Errorf("POST %s: %d %s, want 400 …%s…", body, w.Code, w.Body.String(), msg)
		}
	}
	id := f.createEval(t, `{"title":"Contrôle","date":"2026-10-01"}`)
	grades := fmt.Sprintf("/api/v1/grades/evaluations/%d/grades", id)
	for _, body := range []string{
		fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"note","value":12.3}]}`, f.lea.ID),
		fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"note","value":20.25}]}`, f.lea.ID),
		fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"note","value":-1}]}`, f.lea.ID),
		fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"note"}]}`, f.lea.ID),
		fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"absent","value":3}]}`, f.lea.ID),
		fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"bof"}]}`, f.lea.ID),
		fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"absent"},{"pupil_id":%d,"status":"absent"}]}`, f.lea.ID, f.lea.ID),
		// All or nothing: a good grade beside a bad one is not written.
		fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"note","value":12},{"pupil_id":%d,"status":"note","value":99}]}`, f.tom.ID, f.lea.ID),
	} {
		wantCode(t, f.do("PUT", grades, body, withCookie(f.c["teacher"])), http.StatusBadRequest, body)
	}
	w := f.do("GET", fmt.Sprintf("/api/v1/grades/evaluations/%d", id), "", withCookie(f.c["teacher"]))
	if !strings.Contains(w.Body.String(), `"counted":0`) {
		t.Errorf("a refused request wrote grades: %s", w.Body.String())
	}
}

// TestGradesAccessMatrix walks who may reach what: everything outside the
// caller's scope, and every foreign id, is 404.
func TestGradesAccessMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newGradesFixture(t, d)
		e := f.createEval(t, `{"title":"Contrôle","date":"2026-10-01"}`)
		wantCode(t, f.do("PUT", fmt.Sprintf("/api/v1/grades/evaluations/%d/grades", e),
			fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"note","value":15}]}`, f.lea.ID), withCookie(f.c["teacher"])), http.StatusOK, "grade Léa")
		ev := fmt.Sprintf("/api/v1/grades/evaluations/%d", e)
		list := fmt.Sprintf("/api/v1/grades/classes/%d/subjects/%d/evaluations?term=1", f.classA, f.mathsID)
		csv := fmt.Sprintf("/api/v1/grades/classes/%d/subjects/%d/grades.csv?term=1", f.classA, f.mathsID)
		pupil := func(p directory.Person) string { return fmt.Sprintf("/api/v1/grades/pupils/%d?term=1", p.ID) }
		create := func(class, subject int64) string {
			return fmt.Sprintf("/api/v1/grades/classes/%d/subjects/%d/evaluations", class, subject)
		}
		const newEval = `{"title":"x","date":"2026-10-02"}`
		setLea := fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"absent"}]}`, f.lea.ID)
		type req struct{ method, path, body string }
		read := func(p string) req { return req{"GET", p, ""} }
		cases := []struct {
			who  string
			r    req
			want int
		}{
			// A pupil: own report only.
			{"lea", read(pupil(f.lea)), 200},
			{"lea", read(pupil(f.tom)), 404},
			{"lea", read(pupil(f.hugo)), 404},
			{"lea", read(ev), 404},
			{"lea", read(list), 404},
			{"lea", read(csv), 404},
			{"lea", req{"PUT", ev + "/grades", setLea}, 404},
			{"tom", read(pupil(f.tom)), 200},
			// A parent: own child only, never the child's classmate.
			{"mother", read(pupil(f.lea)), 200},
			{"mother", read(pupil(f.tom)), 404},
			{"mother", read(pupil(f.hugo)), 404},
			{"mother", read(ev), 404},
			{"mother", read(csv), 404},
			{"father", read(pupil(f.hugo)), 200},
			{"father", read(pupil(f.lea)), 404},
			// The teacher: classes and subjects taught this year.
			{"teacher", read(pupil(f.lea)), 200},
			{"teacher", read(pupil(f.hugo)), 404},
			{"teacher", read(pupil(f.ines)), 404},
			{"teacher", read(ev), 200},
			{"teacher", read(csv), 200},
			{"teacher", req{"POST", create(f.classB, f.mathsID), newEval}, 404},
			{"teacher", req{"POST", create(f.classA, f.frenchID), newEval}, 404},
			{"teacher", req{"POST", create(f.lastYearClass, f.mathsID), newEval}, 404},
			{"teacher", req{"POST", create(f.classA, 999999), newEval}, 404},
			{"teacher", req{"POST", create(999999, f.mathsID), newEval}, 404},
			{"teacher", read(fmt.Sprintf("/api/v1/grades/classes/%d/subjects/%d/evaluations", f.classB, f.mathsID)), 404},
			{"teacher", req{"PUT", ev + "/grades", fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"absent"}]}`, f.hugo.ID)}, 404},
			{"teacher", req{"PUT", ev + "/grades", `{"grades":[{"pupil_id":999999,"status":"absent"}]}`}, 404},
			{"teacher", read("/api/v1/grades/evaluations/999999"), 404},
			{"teacher", read(pupil(f.teacher)), 404}, // not a pupil
			// Staff and head of the school read; they do not write.
			{"cpe", read(pupil(f.hugo)), 200},
			{"cpe", read(pupil(f.ines)), 404},
			{"cpe", read(ev), 200},
			{"cpe", read(csv), 200},
			{"cpe", req{"PUT", ev + "/grades", setLea}, 404},
			{"cpe", req{"POST", create(f.classA, f.mathsID), newEval}, 404},
			{"head", read(list), 200},
			{"head", req{"PATCH", ev, `{"title":"y"}`}, 404},
			{"head", req{"DELETE", ev, ""}, 404},
			{"lyceeHead", read(pupil(f.lea)), 404},
			{"lyceeHead", read(ev), 404},
			{"lyceeHead", read(csv), 404},
			{"lyceeHead", read(pupil(f.ines)), 200},
			// The ENT administrator reads everything, writes nothing.
			{"admin", read(pupil(f.ines)), 200},
			{"admin", read(ev), 200},
			{"admin", req{"DELETE", ev, ""}, 404},
			{"admin", read(pupil(f.admin)), 404},
			// Pages follow the same rules.
			{"mother", read(fmt.Sprintf("/notes/eleves/%d", f.lea.ID)), 200},
			{"mother", read(fmt.Sprintf("/notes/eleves/%d", f.tom.ID)), 404},
			{"father", read(fmt.Sprintf("/notes/eleves/%d", f.lea.ID)), 404},
			{"lea", read(fmt.Sprintf("/notes/eleves/%d", f.tom.ID)), 404},
			{"lea", read(fmt.Sprintf("/notes/evaluations/%d", e)), 404},
			{"lea", read(fmt.Sprintf("/notes/classes/%d/matieres/%d", f.classA, f.mathsID)), 404},
			{"mother", read(fmt.Sprintf("/notes/classes/%d/matieres/%d/notes.csv", f.classA, f.mathsID)), 404},
			{"cpe", read(fmt.Sprintf("/notes/classes/%d/matieres/%d/notes.csv?trimestre=1", f.classA, f.mathsID)), 200},
			{"cpe", req{"POST", fmt.Sprintf("/notes/evaluations/%d/supprimer", e), ""}, 404},
			{"teacher", read(fmt.Sprintf("/notes/classes/%d/matieres/%d", f.classB, f.mathsID)), 404},
		}
		for _, c := range cases {
			opts := []reqOpt{withCookie(f.c[c.who])}
			if strings.HasPrefix(c.r.path, "/notes") && c.r.method == "POST" {
				opts = append(opts, withHeader("Content-Type", "application/x-www-form-urlencoded"))
			}
			w := f.do(c.r.method, c.r.path, c.r.body, opts...)
			if w.Code != c.want {
				t.Errorf("%s %s %s: %d, want %d (%s)", c.who, c.r.method, c.r.path, w.Code, c.want, strings.TrimSpace(w.Body.String()))
			}
		}
		// Nothing above changed the grade.
		w := f.do("GET", ev, "", withCookie(f.c["teacher"]))
		if !strings.Contains(w.Body.String(), `"value":15`) || !strings.Contains(w.Body.String(), `"title":"Contrôle"`) {
			t.Errorf("the evaluation changed: %s", w.Body.String())
		}
		// Unauthenticated: 401.
		wantCode(t, f.do("GET", pupil(f.lea), ""), http.StatusUnauthorized, "no session")
	})
}

// TestGradesCSV: BOM, semicolons, French headers, formulas defused.
func TestGradesCSV(t *testing.T) {
	f := newGradesFixture(t, dbtest.SQLite(t))
	e := f.createEval(t, `{"title":"=SOMME(A1:A9)","date":"2026-10-01"}`)
	wantCode(t, f.do("PUT", fmt.Sprintf("/api/v1/grades/evaluations/%d/grades", e),
		fmt.Sprintf(`{"grades":[{"pupil_id":%d,"status":"note","value":12.5},{"pupil_id":%d,"status":"dispense"}]}`, f.lea.ID, f.tom.ID),
		withCookie(f.c["teacher"])), http.StatusOK, "grades")
	w := f.do("GET", fmt.Sprintf("/api/v1/grades/classes/%d/subjects/%d/grades.csv?term=1", f.classA, f.mathsID), "", withCookie(f.c["cpe"]))
	wantCode(t, w, http.StatusOK, "csv")
	b := w.Body.String()
	if !strings.HasPrefix(b, "\uFEFFÉlève;'=SOMME(A1:A9) (01/10/2026) /20 coef. 1;Moyenne /20\r\n") {
		t.Errorf("CSV head: %q", b[:min(len(b), 120)])
	}
	for _, want := range []string{"Martin Léa;12,5;12,50\r\n", "Petit Tom;Disp;\r\n", "Moyenne de la classe;12,50;12,50\r\n"} {
		if !strings.Contains(b, want) {
			t.Errorf("CSV lacks %q:\n%s", want, b)
		}
	}
	if cd := w.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "filename*=UTF-8''notes-3e%20A-Math%C3%A9matiques-T1.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
}

// TestGradesPages: the teacher creates an evaluation and enters grades
// through the plain forms (French errors, nothing written on an error);
// the mother reads the report with its chart.
func TestGradesPages(t *testing.T) {
	f := newGradesFixture(t, dbtest.SQLite(t))
	classPage := fmt.Sprintf("/notes/classes/%d/matieres/%d", f.classA, f.mathsID)
	w := f.do("GET", classPage+"?trimestre=1", "", withCookie(f.c["teacher"]))
	wantCode(t, w, http.StatusOK, "class page")
	if !strings.Contains(w.Body.String(), "Nouvelle évaluation") {
		t.Error("no creation form for the teacher")
	}
	w = f.do("GET", classPage+"?trimestre=1", "", withCookie(f.c["cpe"]))
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "Nouvelle évaluation") {
		t.Errorf("CPE sees a creation form: %d", w.Code)
	}

	w = f.form(classPage+"/evaluations", "teacher", "titre", "", "date", "2026-10-03", "bareme", "0", "coefficient", "0,2")
	wantCode(t, w, http.StatusUnprocessableEntity, "bad form")
	for _, msg := range []string{"Donnez un titre", "Le barème doit être", "Le coefficient doit être", `aria-invalid="true"`} {
		if !strings.Contains(w.Body.String(), msg) {
			t.Errorf("bad form: no %q", msg)
		}
	}
	w = f.form(classPage+"/evaluations", "teacher", "titre", "Interrogation", "date", "2026-10-03", "bareme", "10", "coefficient", "0,5")
	wantCode(t, w, http.StatusSeeOther, "create")
	evalPage := w.Header().Get("Location")
	evalPage = evalPage[:strings.Index(evalPage, "?")]
	w = f.do("GET", evalPage, "", withCookie(f.c["teacher"]))
	wantCode(t, w, http.StatusOK, "grid")
	if !strings.Contains(w.Body.String(), fmt.Sprintf(`name="note_%d"`, f.lea.ID)) {
		t.Fatal("no input for Léa")
	}
	// One wrong value: the page comes back with it, nothing saved.
	w = f.form(evalPage+"/notes", "teacher", fmt.Sprintf("note_%d", f.lea.ID), "7,5", fmt.Sprintf("note_%d", f.tom.ID), "12")
	wantCode(t, w, http.StatusUnprocessableEntity, "grid with an error")
	if b := w.Body.String(); !strings.Contains(b, "comprise entre 0 et 10") || !strings.Contains(b, `value="7,5"`) {
		t.Errorf("grid error page lacks the message or the typed value")
	}
	w = f.form(evalPage+"/notes", "teacher", fmt.Sprintf("note_%d", f.lea.ID), "7,5", fmt.Sprintf("note_%d", f.tom.ID), "abs")
	wantCode(t, w, http.StatusSeeOther, "grid saved")
	w = f.do("GET", evalPage, "", withCookie(f.c["teacher"]))
	if b := w.Body.String(); !strings.Contains(b, `value="7,5"`) || !strings.Contains(b, `value="Abs"`) || !strings.Contains(b, "Moyenne de la classe : 7,50/10") {
		t.Errorf("saved grid: %s", b)
	}

	// The mother: /notes sends her to Léa's report, with the chart.
	w = f.do("GET", "/notes", "", withCookie(f.c["mother"]))
	wantCode(t, w, http.StatusSeeOther, "parent index")
	if loc := w.Header().Get("Location"); loc != fmt.Sprintf("/notes/eleves/%d", f.lea.ID) {
		t.Errorf("parent sent to %q", loc)
	}
	w = f.do("GET", fmt.Sprintf("/notes/eleves/%d?trimestre=1", f.lea.ID), "", withCookie(f.c["mother"]))
	wantCode(t, w, http.StatusOK, "report")
	b := w.Body.String()
	for _, want := range []string{"<svg", `<title id="graphe-titre">`, "<desc", `data-subject="Mathématiques"`, "15,00", "Moyenne générale",
		"Voir l'évolution sous forme de tableau", "Interrogation"} {
		if !strings.Contains(b, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	w = f.do("GET", "/notes", "", withCookie(f.c["lea"]))
	wantCode(t, w, http.StatusSeeOther, "pupil index")
	w = f.do("GET", "/notes", "", withCookie(f.c["teacher"]))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "3e A — Mathématiques") {
		t.Errorf("teacher index: %d", w.Code)
	}

	// Staff list their school's tables; the administrator picks a school.
	w = f.do("GET", "/notes", "", withCookie(f.c["cpe"]))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "3e A — Mathématiques") {
		t.Errorf("CPE index: %d", w.Code)
	}
	w = f.do("GET", "/notes", "", withCookie(f.c["lyceeHead"]))
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "3e A") {
		t.Errorf("lycée head index lists the collège: %d", w.Code)
	}
	w = f.do("GET", "/notes", "", withCookie(f.c["admin"]))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), fmt.Sprintf("/notes?etablissement=%d", f.college)) || strings.Contains(w.Body.String(), "3e A") {
		t.Errorf("admin index: %d", w.Code)
	}
	w = f.do("GET", fmt.Sprintf("/notes?etablissement=%d", f.college), "", withCookie(f.c["admin"]))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "3e A — Mathématiques") {
		t.Errorf("admin index of the collège: %d", w.Code)
	}

	// Delete from the page.
	w = f.form(evalPage+"/supprimer", "teacher")
	wantCode(t, w, http.StatusSeeOther, "delete")
	wantCode(t, f.do("GET", evalPage, "", withCookie(f.c["teacher"])), http.StatusNotFound, "deleted page")
}
