package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/grades"
	"preau/identity"
)

// gradesAPI mounts /api/v1/grades/… (openapi.json, tag "grades").
func (s *Server) gradesAPI(r chi.Router) {
	r.Get("/grades/terms", s.apiGradeTerms)
	r.Get("/grades/classes/{class}/subjects/{subject}/evaluations", s.apiGradeEvaluations)
	r.Post("/grades/classes/{class}/subjects/{subject}/evaluations", s.apiGradeCreate)
	r.Get("/grades/classes/{class}/subjects/{subject}/grades.csv", s.apiGradeCSV)
	r.Get("/grades/evaluations/{id}", s.apiGradeEvaluation)
	r.Patch("/grades/evaluations/{id}", s.apiGradeUpdate)
	r.Delete("/grades/evaluations/{id}", s.apiGradeDelete)
	r.Put("/grades/evaluations/{id}/grades", s.apiGradeSetMarks)
	r.Get("/grades/pupils/{id}", s.apiGradeReport)
}

// gradeStatsJSON are the figures of one evaluation, on its scale.
type gradeStatsJSON struct {
	Counted int      `json:"counted"`
	Mean    *float64 `json:"mean"`
	Min     *float64 `json:"min"`
	Max     *float64 `json:"max"`
}

func gradeStats(st grades.Stats) gradeStatsJSON {
	out := gradeStatsJSON{Counted: st.Counted, Mean: st.Mean.Ptr()}
	if st.Counted > 0 {
		lo, hi := float64(st.Min)/4, float64(st.Max)/4
		out.Min, out.Max = &lo, &hi
	}
	return out
}

type gradeEvalJSON struct {
	ID          int64           `json:"id"`
	ClassID     int64           `json:"class_id"`
	SubjectID   int64           `json:"subject_id"`
	Title       string          `json:"title"`
	Date        string          `json:"date"`
	Scale       int             `json:"scale"`
	Coefficient float64         `json:"coefficient"`
	Stats       *gradeStatsJSON `json:"stats,omitempty"`
}

func gradeEval(e grades.Evaluation) gradeEvalJSON {
	return gradeEvalJSON{ID: e.ID, ClassID: e.ClassID, SubjectID: e.SubjectID, Title: e.Title, Date: e.Date,
		Scale: e.Scale, Coefficient: e.Coef.Float()}
}

// gradeMarkJSON is a mark: status null when none was entered.
type gradeMarkJSON struct {
	Status *grades.Status `json:"status"`
	Value  *float64       `json:"value"`
}

func gradeMark(m grades.Mark, ok bool) gradeMarkJSON {
	if !ok {
		return gradeMarkJSON{}
	}
	out := gradeMarkJSON{Status: &m.Status}
	if m.Counts() {
		v := m.Value()
		out.Value = &v
	}
	return out
}

// gradeAPIFail answers the errors of the grade routes.
func (s *Server) gradeAPIFail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *grades.FieldError
	switch {
	case gradeNotFound(err):
		s.notFound(w, r)
	case errors.As(err, &fe):
		apiError(w, http.StatusBadRequest, "invalid", fe.Msg)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) apiGradeTerms(w http.ResponseWriter, r *http.Request) {
	y, ts, err := s.gradeYear(r.Context())
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	cur, _ := directory.TermOf(ts, gradeToday())
	writeJSON(w, http.StatusOK, map[string]any{"year": y, "terms": jsonList(ts), "current": cur.Number})
}

// apiTerm reads ?term= (default: today's term); false after answering 400.
func (s *Server) apiTerm(w http.ResponseWriter, r *http.Request) (directory.Term, bool) {
	_, ts, err := s.gradeYear(r.Context())
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return directory.Term{}, false
	}
	t, ok := gradeTerm(r, "term", ts)
	if !ok {
		apiError(w, http.StatusBadRequest, "bad_request", "Trimestre inconnu (term : 1, 2 ou 3).")
	}
	return t, ok
}

func (s *Server) apiGradeEvaluations(w http.ResponseWriter, r *http.Request) {
	cs, err := s.reachClassSubject(r.Context(), currentUser(r), pathID(r, "class"), pathID(r, "subject"), identity.Read)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	t, ok := s.apiTerm(w, r)
	if !ok {
		return
	}
	tab, err := s.gradeTable(r.Context(), cs, t)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	out := make([]gradeEvalJSON, 0, len(tab.Sheets))
	for i, sh := range tab.Sheets {
		e := gradeEval(sh.Evaluation)
		st := gradeStats(tab.Stats[i])
		e.Stats = &st
		out = append(out, e)
	}
	type pupilAvg struct {
		PupilID int64    `json:"pupil_id"`
		Name    string   `json:"name"`
		Average *float64 `json:"average"`
	}
	avgs := make([]pupilAvg, 0, len(tab.Rows))
	for _, row := range tab.Rows {
		avgs = append(avgs, pupilAvg{row.PupilID, row.Name, row.Average.Ptr()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"term": t, "can_write": cs.Write, "evaluations": out, "averages": avgs,
		"class_average": tab.ClassAverage.Ptr(), "min": tab.Min.Ptr(), "max": tab.Max.Ptr()})
}

// gradeEvalRequest creates or changes an evaluation; on PATCH an absent
// field is left as it is, on POST scale defaults to 20 and the coefficient
// to 1.
type gradeEvalRequest struct {
	Title       *string  `json:"title"`
	Date        *string  `json:"date"`
	Scale       *int     `json:"scale"`
	Coefficient *float64 `json:"coefficient"`
}

func (req gradeEvalRequest) apply(e *grades.Evaluation) error {
	if req.Title != nil {
		e.Title = *req.Title
	}
	if req.Date != nil {
		e.Date = *req.Date
	}
	if req.Scale != nil {
		e.Scale = *req.Scale
	}
	if req.Coefficient != nil {
		c, err := grades.CoefFromFloat(*req.Coefficient)
		if err != nil {
			return &grades.FieldError{Field: "coefficient", Msg: "Le coefficient doit être un nombre de 0,5 à 10 (deux décimales au plus)."}
		}
		e.Coef = c
	}
	return nil
}

// checkEvaluation validates e against its class's school year.
func (s *Server) checkEvaluation(r *http.Request, e *grades.Evaluation, c directory.Class) error {
	years, err := s.dir.Years(r.Context())
	if err != nil {
		return err
	}
	for _, y := range years {
		if y.ID == c.YearID {
			return e.Check(y.StartsOn, y.EndsOn)
		}
	}
	return directory.ErrNotFound
}

func (s *Server) apiGradeCreate(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	cs, err := s.reachClassSubject(r.Context(), u, pathID(r, "class"), pathID(r, "subject"), identity.Create)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	var req gradeEvalRequest
	if !readJSON(w, r, &req) {
		return
	}
	e := grades.Evaluation{ClassID: cs.Class.ID, SubjectID: cs.Subject.ID, CreatedBy: u.UserID,
		Scale: grades.DefaultScale, Coef: grades.DefaultCoef}
	if err := req.apply(&e); err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	if err := s.checkEvaluation(r, &e, cs.Class); err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	if e.ID, err = s.gradeStore().Create(r.Context(), e); err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	e.StructureID = cs.Class.StructureID
	writeJSON(w, http.StatusCreated, gradeEval(e))
}

type gradeEntryJSON struct {
	PupilID int64  `json:"pupil_id"`
	Name    string `json:"name"`
	gradeMarkJSON
}

func (s *Server) apiGradeEvaluation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, cs, err := s.reachEvaluation(ctx, currentUser(r), pathID(r, "id"), identity.Read)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	sh, err := s.gradeStore().Sheet(ctx, pathID(r, "id"))
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	pupils, err := s.dir.ClassPupils(ctx, cs.Class.ID)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	e := gradeEval(sh.Evaluation)
	st := gradeStats(grades.EvalStats(sheetMarks(sh)))
	e.Stats = &st
	entries := make([]gradeEntryJSON, 0, len(pupils))
	for _, p := range pupils {
		m, ok := sh.Marks[p.ID]
		entries = append(entries, gradeEntryJSON{PupilID: p.ID, Name: p.LastName + " " + p.FirstName, gradeMarkJSON: gradeMark(m, ok)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"evaluation": e, "can_write": cs.Write, "grades": entries})
}

func sheetMarks(sh grades.Sheet) []grades.Mark {
	out := make([]grades.Mark, 0, len(sh.Marks))
	for _, m := range sh.Marks {
		out = append(out, m)
	}
	return out
}

func (s *Server) apiGradeUpdate(w http.ResponseWriter, r *http.Request) {
	e, cs, err := s.reachEvaluation(r.Context(), currentUser(r), pathID(r, "id"), identity.Update)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	var req gradeEvalRequest
	if !readJSON(w, r, &req) {
		return
	}
	if err := req.apply(&e); err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	if err := s.checkEvaluation(r, &e, cs.Class); err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	if err := s.gradeStore().Update(r.Context(), e); err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, gradeEval(e))
}

func (s *Server) apiGradeDelete(w http.ResponseWriter, r *http.Request) {
	e, _, err := s.reachEvaluation(r.Context(), currentUser(r), pathID(r, "id"), identity.Delete)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	if err := s.gradeStore().Delete(r.Context(), e.ID); err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// gradeSetRequest sets grades of an evaluation: status null (or absent)
// clears a pupil's grade; "note" needs a value in quarter points.
type gradeSetRequest struct {
	Grades []struct {
		PupilID int64          `json:"pupil_id"`
		Status  *grades.Status `json:"status"`
		Value   *float64       `json:"value"`
	} `json:"grades"`
}

func (s *Server) apiGradeSetMarks(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	e, cs, err := s.reachEvaluation(r.Context(), u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	var req gradeSetRequest
	if !readJSON(w, r, &req) {
		return
	}
	marks := map[int64]*grades.Mark{}
	for _, g := range req.Grades {
		if _, dup := marks[g.PupilID]; dup {
			apiError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("L'élève %d est indiqué deux fois.", g.PupilID))
			return
		}
		if !u.Can(identity.Grade, identity.Update, identity.Target{Structure: cs.Class.StructureID, Person: g.PupilID,
			Classes: []int64{cs.Class.ID}}) {
			s.notFound(w, r)
			return
		}
		if g.Status == nil || *g.Status == "" {
			marks[g.PupilID] = nil
			continue
		}
		m := grades.Mark{Status: *g.Status}
		if m.Status == grades.Graded {
			if g.Value == nil || math.IsNaN(*g.Value) || *g.Value*4 != math.Trunc(*g.Value*4) {
				apiError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("Élève %d : la note se donne au quart de point près.", g.PupilID))
				return
			}
			m.Quarters = int(*g.Value * 4)
		} else if g.Value != nil {
			apiError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("Élève %d : une note %s n'a pas de valeur.", g.PupilID, strings.ToLower(m.Status.Label())))
			return
		}
		if err := grades.CheckMark(m, e.Scale); err != nil {
			apiError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("Élève %d : %v.", g.PupilID, err))
			return
		}
		marks[g.PupilID] = &m
	}
	if err := s.gradeStore().SetMarks(r.Context(), e, u.UserID, marks); err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	sh, err := s.gradeStore().Sheet(r.Context(), e.ID)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	out := gradeEval(sh.Evaluation)
	st := gradeStats(grades.EvalStats(sheetMarks(sh)))
	out.Stats = &st
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiGradeCSV(w http.ResponseWriter, r *http.Request) {
	cs, err := s.reachClassSubject(r.Context(), currentUser(r), pathID(r, "class"), pathID(r, "subject"), identity.Read)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	t, ok := s.apiTerm(w, r)
	if !ok {
		return
	}
	s.writeGradeCSV(w, r, cs, t)
}

// writeGradeCSV sends the grade table of a class in a subject for a term
// as an attachment.
func (s *Server) writeGradeCSV(w http.ResponseWriter, r *http.Request, cs classSubject, t directory.Term) {
	tab, err := s.gradeTable(r.Context(), cs, t)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := fmt.Sprintf("notes-%s-%s-T%d.csv", cs.Class.Name, cs.Subject.Name, t.Number)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename=\"notes.csv\"; filename*=UTF-8''"+pathEscapeRFC5987(name))
	w.Header().Set("Cache-Control", "no-store")
	if err := grades.WriteCSV(w, tab); err != nil {
		s.log.Warn("grades: CSV", "err", err)
	}
}

// pathEscapeRFC5987 percent-encodes a file name for filename* (RFC 5987).
func pathEscapeRFC5987(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Report JSON.
type gradeLineJSON struct {
	gradeEvalJSON
	gradeMarkJSON
}

type gradeSubjectJSON struct {
	SubjectID    int64            `json:"subject_id"`
	Subject      string           `json:"subject"`
	Average      *float64         `json:"average"`
	ClassAverage *float64         `json:"class_average"`
	Min          *float64         `json:"min"`
	Max          *float64         `json:"max"`
	Evaluations  []gradeLineJSON  `json:"evaluations"`
	Running      []gradePointJSON `json:"running"`
}

type gradePointJSON struct {
	Date    string   `json:"date"`
	Average *float64 `json:"average"`
}

func (s *Server) apiGradeReport(w http.ResponseWriter, r *http.Request) {
	p, err := s.reachPupilGrades(r.Context(), currentUser(r), pathID(r, "id"))
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	t, ok := s.apiTerm(w, r)
	if !ok {
		return
	}
	rep, err := s.gradeReport(r.Context(), p.ID, t)
	if err != nil {
		s.gradeAPIFail(w, r, err)
		return
	}
	subjects := make([]gradeSubjectJSON, 0, len(rep.Subjects))
	for _, sr := range rep.Subjects {
		sj := gradeSubjectJSON{SubjectID: sr.SubjectID, Subject: sr.Subject, Average: sr.Average.Ptr(),
			ClassAverage: sr.ClassAverage.Ptr(), Min: sr.Min.Ptr(), Max: sr.Max.Ptr(),
			Evaluations: []gradeLineJSON{}, Running: []gradePointJSON{}}
		for _, l := range sr.Lines {
			e := gradeEval(l.Evaluation)
			st := gradeStats(l.Stats)
			e.Stats = &st
			sj.Evaluations = append(sj.Evaluations, gradeLineJSON{e, gradeMark(l.Mark, l.Marked)})
		}
		for _, pt := range sr.Running {
			sj.Running = append(sj.Running, gradePointJSON{pt.Date, pt.Average.Ptr()})
		}
		subjects = append(subjects, sj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"pupil": refOf(p), "term": t, "overall": rep.Overall.Ptr(),
		"class_overall": rep.ClassOverall.Ptr(), "subjects": subjects})
}
