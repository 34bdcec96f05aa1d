package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"preau/ent/absences"
	"preau/ent/directory"
	"preau/ent/timetable"
	"preau/identity"
)

func (s *Server) absencesPages(r chi.Router) {
	small := s.limitBody(s.cfg.MaxBody)
	r.Get("/vie-scolaire", s.absencesPage)
	r.Get("/vie-scolaire/appel", s.rollPage)
	r.With(small).Post("/vie-scolaire/appel", s.rollSubmit)
	r.With(small).Post("/vie-scolaire/absences", s.absenceCreateSubmit)
	r.Get("/vie-scolaire/absences/{id}", s.absenceRecordPage)
	r.Get("/vie-scolaire/absences/{id}/document", s.absenceDocument)
	r.With(small).Post("/vie-scolaire/absences/{id}/justifier", s.absenceJustifySubmit)
	r.With(small).Post("/vie-scolaire/absences/{id}/decision", s.absenceDecideSubmit)
	r.With(small).Post("/vie-scolaire/absences/{id}/modifier", s.absenceEditSubmit)
	r.With(small).Post("/vie-scolaire/absences/{id}/supprimer", s.absenceDeleteSubmit)
	r.Get("/vie-scolaire/export.csv", s.absenceCSV)
}

// absRow is a record as the lists show it.
type absRow struct {
	absences.Record
	Day     string
	Time    string
	What    string
	Status  string
	Pending bool
}

func absRowOf(r absences.Record) absRow {
	what := "Absence"
	if r.Kind == absences.Late {
		what = fmt.Sprintf("Retard de %d min", r.LateMin)
	}
	d, _ := timetable.ParseDate(r.Date)
	return absRow{Record: r, Day: frDay(d), Time: r.Times(), What: what, Status: absences.StatusLabel(r.Status),
		Pending: r.Status == absences.Pending}
}

type absLesson struct {
	Label string
	Href  string
}

type absPupilOption struct {
	ID   int64
	Name string
}

type absencesData struct {
	Heading   string
	Choices   []ttChoice
	Lessons   []absLesson
	Rolls     []absLesson       // roll calls taken in the classes shown
	Classes   []directory.Class // roll call and filters
	Rows      []absRow
	Counts    []absences.Count
	Total     absences.Count
	Terms     []directory.Term
	TermID    int64
	From, To  string
	Scope     url.Values // the scope's query, kept by the period form
	CSVList   string
	CSVCounts string
	Manager   bool
	Teacher   bool
	Pupils    []absPupilOption // the chosen class's pupils (the manager's create form)
	ClassID   int64
	Today     string
	ShowClass bool
}

// absPeriod fills the period (?du, ?au, ?trimestre; default: this term).
func (s *Server) absPeriod(ctx context.Context, q url.Values) ([]directory.Term, int64, error) {
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		return nil, 0, err
	}
	ts, err := directory.EnsureTerms(ctx, s.db, y)
	if err != nil {
		return nil, 0, err
	}
	if q.Get("du") == "" && q.Get("au") == "" && q.Get("trimestre") == "" {
		if t, ok := directory.TermOf(ts, s.absNow().In(timetable.Paris).Format(timetable.DateLayout)); ok {
			q.Set("trimestre", strconv.FormatInt(t.ID, 10))
		}
	}
	tid, _ := strconv.ParseInt(q.Get("trimestre"), 10, 64)
	return ts, tid, nil
}

func (s *Server) absencesPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	q := r.URL.Query()
	terms, tid, err := s.absPeriod(ctx, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.absScope(ctx, u, q.Get)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	st := s.absStore()
	rs, err := st.List(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := absencesData{Terms: terms, TermID: tid, From: q.Get("du"), To: q.Get("au"), Teacher: u.Has(identity.Teacher),
		Today: s.absNow().In(timetable.Paris).Format(timetable.DateLayout), ShowClass: len(f.Pupils) != 1}
	if tid != 0 {
		d.From, d.To = "", ""
	}
	scope := url.Values{}
	for _, k := range []string{"classe", "eleve", "etablissement"} {
		if v := q.Get(k); v != "" {
			scope.Set(k, v)
		}
	}
	d.Scope = scope
	csv := url.Values{"du": {d.From}, "au": {d.To}}
	if tid != 0 {
		csv.Set("trimestre", strconv.FormatInt(tid, 10))
	}
	for k, v := range scope {
		csv[k] = v
	}
	d.CSVList = "/vie-scolaire/export.csv?" + csv.Encode()
	csv.Set("vue", "bilan")
	d.CSVCounts = "/vie-scolaire/export.csv?" + csv.Encode()
	for _, rec := range rs {
		d.Rows = append(d.Rows, absRowOf(rec))
	}
	all := rs
	if f.Status != "" {
		g := f
		g.Status = ""
		if all, err = st.List(ctx, g); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	d.Counts, d.Total = absences.Tally(all)
	// Whose records: the heading and the other choices.
	switch {
	case len(f.Pupils) == 1:
		p, err := s.dir.Person(ctx, f.Pupils[0])
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Heading = p.FullName()
		if f.Pupils[0] == u.UserID {
			d.Heading = "Mes absences et retards"
		}
	case len(f.Classes) == 1:
		c, err := s.dir.Class(ctx, f.Classes[0])
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Heading, d.ClassID = c.Name, c.ID
		d.Manager = s.absManager(ctx, u, c.StructureID)
		if d.Manager {
			pupils, err := s.dir.ClassPupils(ctx, c.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, p := range pupils {
				d.Pupils = append(d.Pupils, absPupilOption{p.ID, p.LastName + " " + p.FirstName})
			}
		}
	case f.Structure != 0:
		d.Heading, d.Manager = "Tout l'établissement", true
	case len(f.Pupils) > 1:
		d.Heading = "Mes enfants"
	default:
		d.Heading = "Mes classes"
	}
	for _, id := range u.Children {
		p, err := s.dir.Person(ctx, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Choices = append(d.Choices, ttChoice{Label: p.FirstName, Href: "/vie-scolaire?eleve=" + strconv.FormatInt(id, 10), Current: q.Get("eleve") == strconv.FormatInt(id, 10)})
	}
	if len(u.Children) > 0 {
		// The family's conversations exist before the first notification,
		// so pages already open follow them (docs/absences.md).
		for _, id := range u.Children {
			if c, err := s.pupilClass(ctx, id); err == nil {
				s.ensureFamilyChannels(ctx, []int64{id}, c.StructureID)
			}
		}
	}
	if len(f.Classes) > 0 {
		from, to := f.From, f.To
		if to == "" {
			to = "9999-12-31"
		}
		rolls, err := st.Rolls(ctx, f.Classes, from, to)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, rl := range rolls {
			c, err := s.dir.Class(ctx, rl.ClassID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			day, _ := timetable.ParseDate(rl.Date)
			label := fmt.Sprintf("%s, %s – %s · %s", frDay(day), absences.FrHour(rl.Start), absences.FrHour(rl.End), c.Name)
			if rl.Subject != "" {
				label += " · " + rl.Subject
			}
			label += fmt.Sprintf(" : %d absent(s), %d retard(s) sur %d élèves", rl.Absent, rl.Late, rl.Pupils)
			if rl.FromLive {
				label += " (d'après le cours en direct)"
			}
			d.Rolls = append(d.Rolls, absLesson{Label: label, Href: fmt.Sprintf("/vie-scolaire/appel?classe=%d&date=%s&debut=%s&fin=%s",
				rl.ClassID, rl.Date, timetable.HHMM(rl.Start), timetable.HHMM(rl.End))})
		}
	}
	if d.Classes, err = s.rollClasses(ctx, u); err != nil {
		s.fail(w, r, err)
		return
	}
	if u.Has(identity.Teacher) {
		d.Lessons, err = s.todayLessons(ctx, u)
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	v := view{Title: "Vie scolaire — " + d.Heading, Data: d}
	switch q.Get("ok") {
	case "appel":
		v.Flash = "L'appel est enregistré ; les familles des élèves absents ou en retard sont prévenues."
	case "ajout":
		v.Flash = "L'absence est enregistrée ; la famille est prévenue."
	case "suppression":
		v.Flash = "L'enregistrement est supprimé."
	}
	s.render(w, r, http.StatusOK, "absences", v)
}

// rollClasses lists the classes of this year whose roll u may take.
func (s *Server) rollClasses(ctx context.Context, u *user) ([]directory.Class, error) {
	var out []directory.Class
	seen := map[int64]bool{}
	sts, err := s.managedStructures(ctx, u)
	if err != nil {
		return nil, err
	}
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		return nil, err
	}
	for _, st := range sts {
		cs, err := s.dir.Classes(ctx, st.ID, y.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	if u.Has(identity.Teacher) {
		for _, id := range u.Classes {
			if seen[id] {
				continue
			}
			if c, ok := s.rollClass(ctx, u, id); ok {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// todayLessons lists the teacher's lessons of today, each a roll call link.
func (s *Server) todayLessons(ctx context.Context, u *user) ([]absLesson, error) {
	now := s.absNow().In(timetable.Paris)
	week, err := s.tt.Week(ctx, timetable.Filter{Teacher: u.UserID}, now)
	if err != nil {
		return nil, err
	}
	today := now.Format(timetable.DateLayout)
	var out []absLesson
	for _, o := range week {
		if o.Date != today || o.Status == timetable.Cancelled || o.Status == timetable.Moved {
			continue
		}
		out = append(out, absLesson{Label: fmt.Sprintf("%s – %s · %s · %s", absences.FrHour(o.Start), absences.FrHour(o.End), o.ClassName, o.Subject),
			Href: fmt.Sprintf("/vie-scolaire/appel?classe=%d&date=%s&debut=%s&fin=%s", o.ClassID, o.Date, timetable.HHMM(o.Start), timetable.HHMM(o.End))})
	}
	return out, nil
}

func (s *Server) rollPage(w http.ResponseWriter, r *http.Request) {
	ctx, u, q := r.Context(), currentUser(r), r.URL.Query().Get
	classID, _ := strconv.ParseInt(q("classe"), 10, 64)
	c, l, err := s.rollLesson(ctx, u, classID, q("date"), q("debut"), q("fin"), 0)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	f, err := s.prefill(ctx, c, l)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pupils := make([]int64, len(f.Pupils))
	for i, p := range f.Pupils {
		pupils[i] = p.ID
	}
	s.ensureFamilyChannels(ctx, pupils, c.StructureID)
	s.render(w, r, http.StatusOK, "absences_roll", view{Title: "Appel — " + c.Name, Data: f})
}

func (s *Server) rollSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	pf := r.PostForm.Get
	classID, _ := strconv.ParseInt(pf("classe"), 10, 64)
	q := rollRequest{ClassID: classID, Date: pf("date"), Start: pf("debut"), End: pf("fin"), FromLive: pf("direct") == "1"}
	for _, v := range r.PostForm["eleve"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
			return
		}
		m := absences.Mark{PupilID: id, Kind: pf("etat-" + v)}
		if m.Kind == absences.Late {
			m.LateMin, err = strconv.Atoi(pf("retard-" + v))
			if err != nil {
				s.error(w, r, http.StatusBadRequest, "Indiquez les minutes de retard (un nombre).")
				return
			}
		}
		q.Marks = append(q.Marks, m)
	}
	if _, err := s.takeRoll(ctx, u, q); err != nil {
		s.absError(w, r, err)
		return
	}
	http.Redirect(w, r, "/vie-scolaire?ok=appel&classe="+strconv.FormatInt(classID, 10), http.StatusSeeOther)
}

// formRecord reads the vie scolaire's record form.
func formRecord(pf func(string) string) (recordRequest, bool) {
	start, ok1 := timetable.ParseHHMM(pf("debut"))
	end, ok2 := timetable.ParseHHMM(pf("fin"))
	late, _ := strconv.Atoi(pf("retard"))
	pupil, _ := strconv.ParseInt(pf("eleve"), 10, 64)
	return recordRequest{PupilID: pupil, Kind: pf("type"), Date: pf("date"), Start: start, End: end, LateMin: late,
		Subject: pf("matiere"), Status: pf("statut"), Comment: pf("commentaire")}, ok1 && ok2
}

func (s *Server) absenceCreateSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	q, ok := formRecord(r.PostForm.Get)
	if !ok {
		s.error(w, r, http.StatusBadRequest, "Heures illisibles (par exemple 10:00 et 11:00).")
		return
	}
	rec, err := s.createRecord(ctx, u, q)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	http.Redirect(w, r, "/vie-scolaire?ok=ajout&classe="+strconv.FormatInt(rec.ClassID, 10), http.StatusSeeOther)
}

type absRecordData struct {
	Row       absRow
	Reasons   []absences.Reason
	Reason    string
	CanJust   bool
	CanDecide bool
	CanEdit   bool
	Docs      []noticeDoc
	Start     string
	End       string
}

func (s *Server) absenceRecordPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	rec, err := s.reachRecord(ctx, u, pathID(r, "id"), identity.Absence, identity.Read)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	t := recordTarget(rec)
	d := absRecordData{Row: absRowOf(rec), Reasons: absences.Reasons, Reason: absences.ReasonLabel(rec.Reason),
		CanJust:   rec.Status != absences.Justified && s.absCan(ctx, u, identity.AbsenceJustification, identity.Create, t),
		CanDecide: s.absCan(ctx, u, identity.AbsenceJustification, identity.Update, t),
		CanEdit:   s.absManager(ctx, u, rec.StructureID), Start: timetable.HHMM(rec.Start), End: timetable.HHMM(rec.End)}
	if d.CanJust && s.cfg.Files != nil {
		if d.Docs, err = s.noticeDocs(ctx, u); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	v := view{Title: d.Row.What + " de " + rec.PupilName + " — " + d.Row.Day, Data: d}
	switch r.URL.Query().Get("ok") {
	case "justification":
		v.Flash = "Merci : la justification est transmise à la vie scolaire."
	case "decision":
		v.Flash = "La décision est enregistrée."
	case "modification":
		v.Flash = "L'enregistrement est modifié."
	}
	s.render(w, r, http.StatusOK, "absences_record", v)
}

func recordHref(id int64, ok string) string {
	return "/vie-scolaire/absences/" + strconv.FormatInt(id, 10) + "?ok=" + ok
}

func (s *Server) absenceJustifySubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	pf := r.PostForm.Get
	fileID, _ := strconv.ParseInt(pf("document"), 10, 64)
	rec, err := s.justify(ctx, u, pathID(r, "id"), justifyRequest{Reason: pf("motif"), Text: pf("precision"), FileID: fileID})
	if err != nil {
		s.absError(w, r, err)
		return
	}
	http.Redirect(w, r, recordHref(rec.ID, "justification"), http.StatusSeeOther)
}

func (s *Server) absenceDecideSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	rec, err := s.decide(ctx, u, pathID(r, "id"), decisionRequest{Status: r.PostForm.Get("statut"), Comment: r.PostForm.Get("commentaire")})
	if err != nil {
		s.absError(w, r, err)
		return
	}
	http.Redirect(w, r, recordHref(rec.ID, "decision"), http.StatusSeeOther)
}

func (s *Server) absenceEditSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	old, err := s.managedRecord(ctx, u, pathID(r, "id"))
	if err != nil {
		s.absError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	q, ok := formRecord(r.PostForm.Get)
	if !ok {
		s.error(w, r, http.StatusBadRequest, "Heures illisibles (par exemple 10:00 et 11:00).")
		return
	}
	if q.Status == "" {
		q.Status = old.Status
	}
	rec, err := s.absStore().Update(ctx, absences.Record{ID: old.ID, Kind: q.Kind, Date: q.Date, Start: q.Start, End: q.End,
		LateMin: q.LateMin, Subject: q.Subject, Status: q.Status, Comment: q.Comment, DecidedBy: u.UserID})
	if err != nil {
		s.absError(w, r, err)
		return
	}
	http.Redirect(w, r, recordHref(rec.ID, "modification"), http.StatusSeeOther)
}

func (s *Server) absenceDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	rec, err := s.deleteRecord(r.Context(), currentUser(r), pathID(r, "id"))
	if err != nil {
		s.absError(w, r, err)
		return
	}
	http.Redirect(w, r, "/vie-scolaire?ok=suppression&classe="+strconv.FormatInt(rec.ClassID, 10), http.StatusSeeOther)
}

// absenceDocument sends the justification's document to those who may
// read the record: always as an attachment, with nosniff and a sandbox.
func (s *Server) absenceDocument(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	rec, err := s.reachRecord(ctx, u, pathID(r, "id"), identity.Absence, identity.Read)
	if err != nil || rec.Document == nil || s.cfg.Files == nil || u.Has(identity.Teacher) && !s.absManager(ctx, u, rec.StructureID) && !u.IsParentOf(rec.PupilID) {
		s.notFound(w, r)
		return
	}
	a := rec.Document
	d, err := s.cfg.Files.OpenAttachmentCopy(a.Key, a.Name, a.Size, a.ContentType, a.SHA256)
	if err != nil {
		s.notFound(w, r)
		return
	}
	s.serveDownload(w, r, d, a.Name, rec.JustifiedAt)
}

// absenceCSV exports records (?vue=liste, default) or counts (?vue=bilan)
// of a class, a pupil or the school, for the vie scolaire and direction.
func (s *Server) absenceCSV(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	q := r.URL.Query()
	if _, _, err := s.absPeriod(ctx, q); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.absScope(ctx, u, q.Get)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	if !s.scopeManaged(ctx, u, f) {
		s.notFound(w, r)
		return
	}
	rs, err := s.absStore().List(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := "absences"
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if q.Get("vue") == "bilan" {
		h.Set("Content-Disposition", contentDisposition(false, name+"-bilan.csv"))
		per, total := absences.Tally(rs)
		err = absences.WriteCountsCSV(w, per, total)
	} else {
		h.Set("Content-Disposition", contentDisposition(false, name+".csv"))
		err = absences.WriteCSV(w, rs)
	}
	if err != nil {
		s.log.Warn("absences: CSV", "err", err)
	}
}

// scopeManaged: every record the filter can reach is of a school u
// manages.
func (s *Server) scopeManaged(ctx context.Context, u *user, f absences.Filter) bool {
	switch {
	case f.Structure != 0:
		return s.absManager(ctx, u, f.Structure)
	case len(f.Classes) == 1:
		c, err := s.dir.Class(ctx, f.Classes[0])
		return err == nil && s.absManager(ctx, u, c.StructureID)
	case len(f.Pupils) == 1:
		c, err := s.pupilClass(ctx, f.Pupils[0])
		return err == nil && s.absManager(ctx, u, c.StructureID)
	}
	return false
}
