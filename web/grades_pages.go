package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/grades"
	"preau/identity"
)

// The "Notes" pages. A pupil and a parent see a report per term with a
// chart drawn here as SVG; teachers list a class's evaluations in their
// subject and enter grades in a plain form (static/grades.js only adds
// keyboard moves); staff, head and administrator read the tables and
// export them as CSV.

func (s *Server) gradesPages(r chi.Router) {
	r.Get("/notes", s.gradesIndexPage)
	r.Get("/notes/eleves/{id}", s.gradesPupilPage)
	r.Get("/notes/classes/{class}/matieres/{subject}", s.gradesClassPage)
	r.Get("/notes/classes/{class}/matieres/{subject}/notes.csv", s.gradesCSV)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/notes/classes/{class}/matieres/{subject}/evaluations", s.gradesCreateSubmit)
	r.Get("/notes/evaluations/{id}", s.gradesEvaluationPage)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/notes/evaluations/{id}/notes", s.gradesMarksSubmit)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/notes/evaluations/{id}/modifier", s.gradesUpdateSubmit)
	r.Post("/notes/evaluations/{id}/supprimer", s.gradesDeleteSubmit)
}

// gradesPageFail answers an error of the pages: 404 for what is out of
// reach, 503 otherwise.
func (s *Server) gradesPageFail(w http.ResponseWriter, r *http.Request, err error) {
	if gradeNotFound(err) {
		s.notFound(w, r)
		return
	}
	s.fail(w, r, err)
}

type gradesLink struct {
	Label, Href string
}

type gradesIndexData struct {
	Mine   []gradesLink // the classes and subjects the teacher teaches
	School []gradesLink // every class and subject of the school (staff)
	// Structures: the schools a département-wide role picks from.
	Structures []gradesLink
	Children   []gradesLink
}

// gradesIndexPage sends a pupil to their report and a parent to their
// first child's; others get the list of class tables they may open.
func (s *Server) gradesIndexPage(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ctx := r.Context()
	switch u.Primary() {
	case identity.Pupil:
		http.Redirect(w, r, fmt.Sprintf("/notes/eleves/%d", u.UserID), http.StatusSeeOther)
		return
	case identity.Parent:
		if len(u.Children) > 0 {
			kids, err := s.dir.Children(ctx, u.UserID)
			if err != nil {
				s.gradesPageFail(w, r, err)
				return
			}
			if len(kids) > 0 {
				http.Redirect(w, r, fmt.Sprintf("/notes/eleves/%d", kids[0].ID), http.StatusSeeOther)
				return
			}
		}
	}
	var d gradesIndexData
	if u.Has(identity.Teacher) {
		ts, err := s.dir.Teachings(ctx, u.UserID)
		if err != nil {
			s.gradesPageFail(w, r, err)
			return
		}
		for _, t := range ts {
			d.Mine = append(d.Mine, gradesLink{t.ClassName + " — " + t.Subject, fmt.Sprintf("/notes/classes/%d/matieres/%d", t.ClassID, t.SubjectID)})
		}
	}
	var err error
	if d.School, d.Structures, err = s.gradesSchoolLinks(r, u); err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	if len(u.Children) > 0 {
		kids, err := s.dir.Children(ctx, u.UserID)
		if err != nil {
			s.gradesPageFail(w, r, err)
			return
		}
		for _, k := range kids {
			d.Children = append(d.Children, gradesLink{k.FirstName + " " + k.LastName, fmt.Sprintf("/notes/eleves/%d", k.ID)})
		}
	}
	s.render(w, r, http.StatusOK, "grades_index", view{Title: "Notes", Data: d})
}

// gradesSchoolLinks lists the class tables of this year that staff, head
// and administrator read: every class and subject taught in their schools.
// A département-wide role first picks a school (?etablissement=ID) from the
// list returned as structures, so the page stays small.
func (s *Server) gradesSchoolLinks(r *http.Request, u *user) (links, structures []gradesLink, err error) {
	ctx := r.Context()
	var mine []int64
	everywhere := false
	for _, role := range u.Roles {
		if role.Profile == identity.Staff || role.Profile == identity.Head || role.Profile == identity.Admin {
			if role.StructureID == 0 {
				everywhere = true
			} else {
				mine = append(mine, role.StructureID)
			}
		}
	}
	if everywhere {
		all, err := s.dir.Structures(ctx)
		if err != nil {
			return nil, nil, err
		}
		want, _ := strconv.ParseInt(r.URL.Query().Get("etablissement"), 10, 64)
		mine = mine[:0]
		for _, st := range all {
			structures = append(structures, gradesLink{st.DisplayName(), fmt.Sprintf("/notes?etablissement=%d", st.ID)})
			if st.ID == want {
				mine = append(mine, st.ID)
			}
		}
	}
	if len(mine) == 0 {
		return nil, structures, nil
	}
	y, err := directory.CurrentYear(ctx, s.db)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, structures, nil
	} else if err != nil {
		return nil, nil, err
	}
	for _, st := range mine {
		classes, err := s.dir.Classes(ctx, st, y.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range classes {
			if !u.Can(identity.Evaluation, identity.Read, classTarget(c)) {
				continue
			}
			ts, err := s.dir.ClassTeachings(ctx, c.ID)
			if err != nil {
				return nil, nil, err
			}
			seen := map[int64]bool{}
			for _, t := range ts {
				if !seen[t.SubjectID] {
					seen[t.SubjectID] = true
					links = append(links, gradesLink{c.Name + " — " + t.Subject, fmt.Sprintf("/notes/classes/%d/matieres/%d", c.ID, t.SubjectID)})
				}
			}
		}
	}
	return links, structures, nil
}

type gradesTermLink struct {
	directory.Term
	Href    string
	Current bool
}

func gradesTermLinks(base string, ts []directory.Term, cur directory.Term) []gradesTermLink {
	out := make([]gradesTermLink, 0, len(ts))
	for _, t := range ts {
		out = append(out, gradesTermLink{Term: t, Href: fmt.Sprintf("%s?trimestre=%d", base, t.Number), Current: t.Number == cur.Number})
	}
	return out
}

type gradesPupilData struct {
	Pupil    directory.Person
	Term     directory.Term
	Terms    []gradesTermLink
	Children []gradesLink // a parent's other children
	ChildIdx int
	Report   grades.Report
	Chart    grades.Chart
	// HasRunning: some subject has a point to draw.
	HasRunning bool
}

func (s *Server) gradesPupilPage(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ctx := r.Context()
	p, err := s.reachPupilGrades(ctx, u, pathID(r, "id"))
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	_, ts, err := s.gradeYear(ctx)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	t, ok := gradeTerm(r, "trimestre", ts)
	if !ok {
		s.notFound(w, r)
		return
	}
	rep, err := s.gradeReport(ctx, p.ID, t)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	base := fmt.Sprintf("/notes/eleves/%d", p.ID)
	d := gradesPupilData{Pupil: p, Term: t, Terms: gradesTermLinks(base, ts, t), Report: rep,
		Chart: grades.NewChart(rep, t.StartsOn, t.EndsOn, t.Name)}
	d.HasRunning = len(d.Chart.Series) > 0
	if u.IsParentOf(p.ID) {
		kids, err := s.dir.Children(ctx, u.UserID)
		if err != nil {
			s.gradesPageFail(w, r, err)
			return
		}
		if len(kids) > 1 {
			for _, k := range kids {
				d.Children = append(d.Children, gradesLink{k.FirstName + " " + k.LastName + classSuffix(k.ClassName),
					fmt.Sprintf("/notes/eleves/%d?trimestre=%d", k.ID, t.Number)})
				if k.ID == p.ID {
					d.ChildIdx = len(d.Children) - 1
				}
			}
		}
	}
	title := "Notes"
	if p.ID != u.UserID {
		title = "Notes de " + p.FirstName + " " + p.LastName
	}
	s.render(w, r, http.StatusOK, "grades_pupil", view{Title: title, Data: d})
}

func classSuffix(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

// gradesForm is the new/edit evaluation form as typed.
type gradesForm struct {
	Title, Date, Scale, Coef string
	Errors                   map[string]string
}

type gradesClassData struct {
	classSubject
	Term  directory.Term
	Terms []gradesTermLink
	Table grades.Table
	CSV   string
	Form  gradesForm
}

func (s *Server) gradesClassView(r *http.Request, cs classSubject, t directory.Term, ts []directory.Term, f gradesForm) (view, error) {
	tab, err := s.gradeTable(r.Context(), cs, t)
	if err != nil {
		return view{}, err
	}
	base := fmt.Sprintf("/notes/classes/%d/matieres/%d", cs.Class.ID, cs.Subject.ID)
	d := gradesClassData{classSubject: cs, Term: t, Terms: gradesTermLinks(base, ts, t), Table: tab,
		CSV: fmt.Sprintf("%s/notes.csv?trimestre=%d", base, t.Number), Form: f}
	return view{Title: "Notes — " + cs.Class.Name + " — " + cs.Subject.Name, Data: d}, nil
}

// classTermPage reads the class and subject of the URL (readable by the
// user) and the term asked (?trimestre=, default the current one); it
// answers 404 or the failure itself and returns ok false.
func (s *Server) classTermPage(w http.ResponseWriter, r *http.Request) (cs classSubject, t directory.Term, ts []directory.Term, ok bool) {
	ctx := r.Context()
	cs, err := s.reachClassSubject(ctx, currentUser(r), pathID(r, "class"), pathID(r, "subject"), identity.Read)
	if err == nil {
		_, ts, err = s.gradeYear(ctx)
	}
	if err != nil {
		s.gradesPageFail(w, r, err)
		return cs, t, ts, false
	}
	if t, ok = gradeTerm(r, "trimestre", ts); !ok {
		s.notFound(w, r)
	}
	return cs, t, ts, ok
}

func (s *Server) gradesClassPage(w http.ResponseWriter, r *http.Request) {
	cs, t, ts, ok := s.classTermPage(w, r)
	if !ok {
		return
	}
	v, err := s.gradesClassView(r, cs, t, ts, gradesForm{Date: gradeToday(), Scale: "20", Coef: "1"})
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	if r.URL.Query().Get("ok") == "supprime" {
		v.Flash = "L'évaluation a été supprimée."
	}
	s.render(w, r, http.StatusOK, "grades_class", v)
}

func (s *Server) gradesCSV(w http.ResponseWriter, r *http.Request) {
	cs, t, _, ok := s.classTermPage(w, r)
	if !ok {
		return
	}
	s.writeGradeCSV(w, r, cs, t)
}

// parseEvalForm reads the evaluation form into e; the errors are by field.
func parseEvalForm(r *http.Request, e *grades.Evaluation) gradesForm {
	f := gradesForm{Title: r.PostForm.Get("titre"), Date: r.PostForm.Get("date"), Scale: strings.TrimSpace(r.PostForm.Get("bareme")),
		Coef: r.PostForm.Get("coefficient"), Errors: map[string]string{}}
	e.Title, e.Date = f.Title, f.Date
	if n, err := strconv.Atoi(f.Scale); err != nil || n < grades.MinScale || n > grades.MaxScale {
		f.Errors["scale"] = "Le barème doit être un nombre entier de 1 à 100 (20 le plus souvent)."
	} else {
		e.Scale = n
	}
	if c, err := grades.ParseCoef(f.Coef); err != nil {
		f.Errors["coefficient"] = "Le coefficient doit être un nombre de 0,5 à 10 (deux décimales au plus)."
	} else {
		e.Coef = c
	}
	return f
}

// checkEvalForm validates e, adding to f's errors, so that every wrong
// field shows at once; true when all is well.
func (s *Server) checkEvalForm(r *http.Request, e *grades.Evaluation, c directory.Class, f *gradesForm) (bool, error) {
	// Fields that did not parse are already reported: give them a valid
	// value while the others are checked.
	if e.Scale == 0 {
		e.Scale = grades.DefaultScale
	}
	if e.Coef == 0 {
		e.Coef = grades.DefaultCoef
	}
	for range 4 {
		err := s.checkEvaluation(r, e, c)
		var fe *grades.FieldError
		if err == nil {
			break
		}
		if !errors.As(err, &fe) {
			return false, err
		}
		f.Errors[fe.Field] = fe.Msg
		switch fe.Field {
		case "title":
			e.Title = "x"
		case "date":
			e.Date = gradeToday()
		case "scale":
			e.Scale = grades.DefaultScale
		case "coefficient":
			e.Coef = grades.DefaultCoef
		}
	}
	return len(f.Errors) == 0, nil
}

func (s *Server) gradesCreateSubmit(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ctx := r.Context()
	cs, err := s.reachClassSubject(ctx, u, pathID(r, "class"), pathID(r, "subject"), identity.Create)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	e := grades.Evaluation{ClassID: cs.Class.ID, SubjectID: cs.Subject.ID, CreatedBy: u.UserID}
	f := parseEvalForm(r, &e)
	ok, err := s.checkEvalForm(r, &e, cs.Class, &f)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	if ok {
		id, err := s.gradeStore().Create(ctx, e)
		if err != nil {
			s.gradesPageFail(w, r, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/notes/evaluations/%d?ok=cree", id), http.StatusSeeOther)
		return
	}
	_, ts, err := s.gradeYear(ctx)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	t, _ := gradeTerm(r, "trimestre", ts)
	v, err := s.gradesClassView(r, cs, t, ts, f)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	v.Error = "L'évaluation n'a pas été créée : corrigez les champs signalés."
	s.render(w, r, http.StatusUnprocessableEntity, "grades_class", v)
}

// gradesRow is one pupil of the entry grid.
type gradesRow struct {
	PupilID int64
	Name    string
	Value   string // as typed, or the stored mark
	Error   string
}

type gradesEvalData struct {
	classSubject
	Evaluation grades.Evaluation
	Rows       []gradesRow
	Stats      grades.Stats
	Form       gradesForm
	Back       string
	Term       int
}

func (s *Server) gradesEvalView(r *http.Request, e grades.Evaluation, cs classSubject, typed map[int64]string,
	errs map[int64]string, f *gradesForm) (view, error) {
	ctx := r.Context()
	sh, err := s.gradeStore().Sheet(ctx, e.ID)
	if err != nil {
		return view{}, err
	}
	pupils, err := s.dir.ClassPupils(ctx, cs.Class.ID)
	if err != nil {
		return view{}, err
	}
	d := gradesEvalData{classSubject: cs, Evaluation: e, Stats: grades.EvalStats(sheetMarks(sh))}
	_, ts, err := s.gradeYear(ctx)
	if err != nil {
		return view{}, err
	}
	if t, ok := directory.TermOf(ts, e.Date); ok {
		d.Term = t.Number
	}
	d.Back = fmt.Sprintf("/notes/classes/%d/matieres/%d?trimestre=%d", cs.Class.ID, cs.Subject.ID, d.Term)
	for _, p := range pupils {
		row := gradesRow{PupilID: p.ID, Name: p.LastName + " " + p.FirstName, Error: errs[p.ID]}
		if v, ok := typed[p.ID]; ok {
			row.Value = v
		} else if m, ok := sh.Marks[p.ID]; ok {
			row.Value = m.String()
		}
		d.Rows = append(d.Rows, row)
	}
	if f != nil {
		d.Form = *f
	} else {
		d.Form = gradesForm{Title: e.Title, Date: e.Date, Scale: strconv.Itoa(e.Scale), Coef: e.Coef.String()}
	}
	return view{Title: e.Title + " — " + cs.Class.Name + " — " + cs.Subject.Name, Data: d}, nil
}

func (s *Server) gradesEvaluationPage(w http.ResponseWriter, r *http.Request) {
	e, cs, err := s.reachEvaluation(r.Context(), currentUser(r), pathID(r, "id"), identity.Read)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	v, err := s.gradesEvalView(r, e, cs, nil, nil, nil)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	switch r.URL.Query().Get("ok") {
	case "cree":
		v.Flash = "L'évaluation est créée. Saisissez les notes."
	case "notes":
		v.Flash = "Les notes sont enregistrées."
	case "modifiee":
		v.Flash = "L'évaluation est modifiée."
	}
	s.render(w, r, http.StatusOK, "grades_evaluation", v)
}

// gradesMarksSubmit saves the entry grid: every field is checked first and
// nothing is written while one is wrong, so the teacher fixes it in place.
func (s *Server) gradesMarksSubmit(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ctx := r.Context()
	e, cs, err := s.reachEvaluation(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	pupils, err := s.dir.ClassPupils(ctx, cs.Class.ID)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	sh, err := s.gradeStore().Sheet(ctx, e.ID)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	typed, errs := map[int64]string{}, map[int64]string{}
	marks := map[int64]*grades.Mark{}
	for _, p := range pupils {
		key := fmt.Sprintf("note_%d", p.ID)
		if _, sent := r.PostForm[key]; !sent {
			continue // a pupil who joined after the page was shown
		}
		v := r.PostForm.Get(key)
		typed[p.ID] = v
		m, set, err := grades.ParseMark(v, e.Scale)
		switch {
		case err != nil:
			errs[p.ID] = err.Error() + "."
		case set:
			marks[p.ID] = &m
		default:
			if _, had := sh.Marks[p.ID]; had {
				marks[p.ID] = nil // emptied: the grade is removed
			}
		}
	}
	if len(errs) == 0 {
		if err := s.gradeStore().SetMarks(ctx, e, u.UserID, marks); err != nil {
			s.gradesPageFail(w, r, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/notes/evaluations/%d?ok=notes", e.ID), http.StatusSeeOther)
		return
	}
	v, err := s.gradesEvalView(r, e, cs, typed, errs, nil)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	v.Error = fmt.Sprintf("Les notes n'ont pas été enregistrées : %d valeur(s) à corriger.", len(errs))
	s.render(w, r, http.StatusUnprocessableEntity, "grades_evaluation", v)
}

func (s *Server) gradesUpdateSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	e, cs, err := s.reachEvaluation(ctx, currentUser(r), pathID(r, "id"), identity.Update)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	old := e
	f := parseEvalForm(r, &e)
	ok, err := s.checkEvalForm(r, &e, cs.Class, &f)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	if ok {
		err = s.gradeStore().Update(ctx, e)
		var fe *grades.FieldError
		if errors.As(err, &fe) {
			f.Errors[fe.Field] = fe.Msg
		} else if err != nil {
			s.gradesPageFail(w, r, err)
			return
		} else {
			http.Redirect(w, r, fmt.Sprintf("/notes/evaluations/%d?ok=modifiee", e.ID), http.StatusSeeOther)
			return
		}
	}
	v, err := s.gradesEvalView(r, old, cs, nil, nil, &f)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	v.Error = "L'évaluation n'a pas été modifiée : corrigez les champs signalés."
	s.render(w, r, http.StatusUnprocessableEntity, "grades_evaluation", v)
}

func (s *Server) gradesDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	e, cs, err := s.reachEvaluation(ctx, currentUser(r), pathID(r, "id"), identity.Delete)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	if err := s.gradeStore().Delete(ctx, e.ID); err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	_, ts, err := s.gradeYear(ctx)
	if err != nil {
		s.gradesPageFail(w, r, err)
		return
	}
	t, _ := directory.TermOf(ts, e.Date)
	http.Redirect(w, r, fmt.Sprintf("/notes/classes/%d/matieres/%d?trimestre=%d&ok=supprime", cs.Class.ID, cs.Subject.ID, t.Number), http.StatusSeeOther)
}
