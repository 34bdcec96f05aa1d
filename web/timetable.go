package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/directory/csvimport"
	"preau/ent/timetable"
	"preau/identity"
)

// The timetable (emploi du temps, docs/timetable.md): the week of a class,
// of a pupil (their own, or a parent's child) or of a teacher, with
// cancelled and moved lessons; the vie scolaire and the direction enter
// slots, import a school's timetable from CSV and cancel or move one
// lesson. A slot of today is where a teacher starts the class's live lesson
// in one click, and where pupils see it "en direct".

// ttWho is whose week a request asks for, after the access check.
type ttWho struct {
	Filter    timetable.Filter
	Title     string
	ClassID   int64 // a class's week (staff may edit it)
	Teacher   bool  // a teacher's own week
	Query     string
	Structure int64
}

// resolveWho reads ?classe=, ?eleve= or ?enseignant= (default: the user's
// own week) and checks the user may see it: ErrNotFound otherwise.
func (s *Server) resolveWho(ctx context.Context, u *user, q func(string) string) (ttWho, error) {
	id := func(k string) int64 {
		n, err := strconv.ParseInt(q(k), 10, 64)
		if err != nil || n <= 0 {
			return 0
		}
		return n
	}
	switch {
	case q("classe") != "":
		c, err := s.dir.Class(ctx, id("classe"))
		if err != nil || !u.Can(identity.Timetable, identity.Read, classTarget(c)) {
			return ttWho{}, directory.ErrNotFound
		}
		return ttWho{Filter: timetable.Filter{Classes: []int64{c.ID}}, Title: c.Name, ClassID: c.ID,
			Query: "classe=" + strconv.FormatInt(c.ID, 10), Structure: c.StructureID}, nil
	case q("eleve") != "":
		return s.pupilWho(ctx, u, id("eleve"))
	case q("enseignant") != "":
		t := id("enseignant")
		if t != u.UserID && !s.staffOfPerson(ctx, u, t) {
			return ttWho{}, directory.ErrNotFound
		}
		p, err := s.dir.Person(ctx, t)
		if err != nil {
			return ttWho{}, err
		}
		return ttWho{Filter: timetable.Filter{Teacher: t}, Title: p.FullName(), Teacher: t == u.UserID,
			Query: "enseignant=" + strconv.FormatInt(t, 10)}, nil
	}
	switch {
	case u.Has(identity.Pupil):
		return s.pupilWho(ctx, u, u.UserID)
	case u.Has(identity.Parent) && len(u.Children) > 0:
		return s.pupilWho(ctx, u, u.Children[0])
	case u.Has(identity.Teacher):
		return ttWho{Filter: timetable.Filter{Teacher: u.UserID}, Title: "Mon emploi du temps", Teacher: true,
			Query: "enseignant=" + strconv.FormatInt(u.UserID, 10)}, nil
	}
	// Staff, direction, administrator: the first class they may see.
	cs, err := s.ttClasses(ctx, u)
	if err != nil || len(cs) == 0 {
		return ttWho{}, directory.ErrNotFound
	}
	c := cs[0]
	return ttWho{Filter: timetable.Filter{Classes: []int64{c.ID}}, Title: c.Name, ClassID: c.ID,
		Query: "classe=" + strconv.FormatInt(c.ID, 10), Structure: c.StructureID}, nil
}

// pupilWho is a pupil's week: their classes this year (class and groups).
func (s *Server) pupilWho(ctx context.Context, u *user, pupil int64) (ttWho, error) {
	ts, err := s.dir.PersonTargets(ctx, pupil)
	if err != nil || len(ts) == 0 {
		return ttWho{}, directory.ErrNotFound
	}
	var classes []int64
	for _, t := range ts {
		classes = append(classes, t.Classes...)
	}
	ok := pupil == u.UserID || u.IsParentOf(pupil)
	for _, t := range ts {
		ok = ok || (!u.Has(identity.Pupil) && !u.Has(identity.Parent) && u.Can(identity.Timetable, identity.Read, identity.Target{Structure: t.Structure, Classes: t.Classes}))
	}
	if !ok || len(classes) == 0 {
		return ttWho{}, directory.ErrNotFound
	}
	p, err := s.dir.Person(ctx, pupil)
	if err != nil {
		return ttWho{}, err
	}
	title := "Mon emploi du temps"
	if pupil != u.UserID {
		title = p.FullName()
	}
	return ttWho{Filter: timetable.Filter{Classes: classes}, Title: title, Query: "eleve=" + strconv.FormatInt(pupil, 10)}, nil
}

// staffOfPerson: u is staff, head or administrator of one of the person's
// schools.
func (s *Server) staffOfPerson(ctx context.Context, u *user, id int64) bool {
	ts, err := s.dir.PersonTargets(ctx, id)
	if err != nil {
		return false
	}
	for _, t := range ts {
		if administers(u, t.Structure) {
			return true
		}
	}
	return false
}

// ttClasses lists the classes of this year whose timetable u may read and,
// for staff, edit: those of the schools u administers, or taught.
func (s *Server) ttClasses(ctx context.Context, u *user) ([]directory.Class, error) {
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		return nil, err
	}
	sts, err := s.adminStructures(ctx, u)
	if err != nil {
		return nil, err
	}
	var out []directory.Class
	for _, st := range sts {
		cs, err := s.dir.Classes(ctx, st.ID, y.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if u.Can(identity.Timetable, identity.Read, classTarget(c)) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// weekOf reads ?semaine= (any day of the week, "2026-11-30"; default now).
func weekOf(v string, now time.Time) (time.Time, bool) {
	if v == "" {
		return timetable.Monday(now), true
	}
	d, err := timetable.ParseDate(v)
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		return time.Time{}, false
	}
	return timetable.Monday(d), true
}

// ---- API ---------------------------------------------------------------------

func (s *Server) timetableAPI(r chi.Router) {
	r.Get("/timetable/week", s.apiTimetableWeek)
	r.Post("/timetable/slots", s.apiCreateSlot)
	r.Put("/timetable/slots/{id}", s.apiUpdateSlot)
	r.Delete("/timetable/slots/{id}", s.apiDeleteSlot)
	r.Put("/timetable/slots/{id}/changes/{date}", s.apiSetChange)
	r.Delete("/timetable/slots/{id}/changes/{date}", s.apiClearChange)
	r.Post("/timetable/import", s.apiTimetableImport)
}

type weekResponse struct {
	Monday  string                 `json:"monday"`
	Week    string                 `json:"week"` // "A" or "B"
	Title   string                 `json:"title"`
	Lessons []timetable.Occurrence `json:"lessons"`
}

func (s *Server) apiTimetableWeek(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	who, err := s.resolveWho(ctx, u, r.URL.Query().Get)
	if err != nil {
		s.ttError(w, r, err)
		return
	}
	monday, ok := weekOf(r.URL.Query().Get("semaine"), time.Now())
	if !ok {
		apiError(w, http.StatusBadRequest, "bad_date", "Date de semaine illisible (attendu AAAA-MM-JJ).")
		return
	}
	ls, err := s.tt.Week(ctx, who.Filter, monday)
	if err != nil {
		s.ttError(w, r, err)
		return
	}
	if ls == nil {
		ls = []timetable.Occurrence{}
	}
	writeJSON(w, http.StatusOK, weekResponse{Monday: monday.Format(timetable.DateLayout), Week: timetable.WeekLetter(monday), Title: who.Title, Lessons: ls})
}

// ttError answers a timetable failure: 404, 400 with the French reason, or
// the generic failure.
func (s *Server) ttError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *timetable.Invalid
	var re *csvimport.RowErrors
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		s.error(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("Fichier trop volumineux (%d Mo au plus).", mbe.Limit>>20))
	case errors.Is(err, directory.ErrNotFound), errors.Is(err, timetable.ErrNotFound):
		s.notFound(w, r)
	case errors.As(err, &inv):
		s.error(w, r, http.StatusBadRequest, sentence(inv.Msg))
	case errors.As(err, &re):
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeJSON(w, http.StatusBadRequest, struct {
				apiErrorBody
				Rows      []csvimport.RowError `json:"rows"`
				Truncated bool                 `json:"truncated"`
			}{apiErrorBody{"bad_rows", re.Error()}, re.Rows, re.Truncated})
			return
		}
		s.error(w, r, http.StatusBadRequest, re.Error())
	case errors.Is(err, csvimport.ErrFileTooLarge):
		s.error(w, r, http.StatusRequestEntityTooLarge, "Fichier trop volumineux.")
	default:
		s.fail(w, r, err)
	}
}

// slotRequest is a slot as the API and the form give it.
type slotRequest struct {
	ClassID   int64  `json:"class_id"`
	SubjectID int64  `json:"subject_id"`
	TeacherID int64  `json:"teacher_id"`
	Room      string `json:"room"`
	Weekday   int    `json:"weekday"`
	Start     int    `json:"start_min"`
	End       int    `json:"end_min"`
	Weeks     string `json:"weeks"`
}

func (q slotRequest) slot() timetable.Slot {
	return timetable.Slot{ClassID: q.ClassID, SubjectID: q.SubjectID, TeacherID: q.TeacherID, Room: q.Room,
		Weekday: q.Weekday, Start: q.Start, End: q.End, Weeks: q.Weeks}
}

// mayEditClass: u enters the timetable of class id (a class of this year
// of a school u administers).
func (s *Server) mayEditClass(ctx context.Context, u *user, id int64, a identity.Action) (directory.Class, bool) {
	c, err := s.dir.Class(ctx, id)
	if err != nil || !administers(u, c.StructureID) || !u.Can(identity.Timetable, a, classTarget(c)) {
		return directory.Class{}, false
	}
	return c, true
}

// editableSlot loads the slot of the URL when the user may do a to it,
// and parses the form of a page's POST (form true); otherwise it answers
// (404, 400) and ok is false.
func (s *Server) editableSlot(w http.ResponseWriter, r *http.Request, a identity.Action, form bool) (sl timetable.Slot, u *user, ok bool) {
	u = currentUser(r)
	sl, err := s.tt.Slot(r.Context(), pathID(r, "id"))
	if err == nil {
		_, ok = s.mayEditClass(r.Context(), u, sl.ClassID, a)
	}
	if !ok {
		s.notFound(w, r)
		return sl, u, false
	}
	if form {
		if err := r.ParseForm(); err != nil {
			s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
			return sl, u, false
		}
	}
	return sl, u, true
}

// sentence makes a French message a sentence: capital, full stop.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	r := []rune(msg)
	return strings.ToUpper(string(r[0])) + string(r[1:]) + "."
}

func (s *Server) apiCreateSlot(w http.ResponseWriter, r *http.Request) {
	var q slotRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	if _, ok := s.mayEditClass(ctx, u, q.ClassID, identity.Create); !ok {
		s.notFound(w, r)
		return
	}
	sl, err := s.tt.CreateSlot(ctx, q.slot())
	if err != nil {
		s.ttError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, sl)
}

func (s *Server) apiUpdateSlot(w http.ResponseWriter, r *http.Request) {
	var q slotRequest
	if !readJSON(w, r, &q) {
		return
	}
	old, _, ok := s.editableSlot(w, r, identity.Update, false)
	if !ok {
		return
	}
	sl := q.slot()
	sl.ID = old.ID
	out, err := s.tt.UpdateSlot(r.Context(), sl)
	if err != nil {
		s.ttError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiDeleteSlot(w http.ResponseWriter, r *http.Request) {
	sl, _, ok := s.editableSlot(w, r, identity.Delete, false)
	if !ok {
		return
	}
	if err := s.tt.DeleteSlot(r.Context(), sl.ID); err != nil {
		s.ttError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type changeRequest struct {
	Status   string `json:"status"`
	NewDate  string `json:"new_date"`
	NewStart int    `json:"new_start_min"`
	NewEnd   int    `json:"new_end_min"`
	NewRoom  string `json:"new_room"`
	Note     string `json:"note"`
}

func (s *Server) apiSetChange(w http.ResponseWriter, r *http.Request) {
	var q changeRequest
	if !readJSON(w, r, &q) {
		return
	}
	sl, u, ok := s.editableSlot(w, r, identity.Update, false)
	if !ok {
		return
	}
	c := timetable.Change{SlotID: sl.ID, Date: chi.URLParam(r, "date"), Status: q.Status, NewDate: q.NewDate,
		NewStart: q.NewStart, NewEnd: q.NewEnd, NewRoom: q.NewRoom, Note: q.Note, By: u.UserID}
	if err := s.tt.SetChange(r.Context(), c); err != nil {
		s.ttError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiClearChange(w http.ResponseWriter, r *http.Request) {
	sl, _, ok := s.editableSlot(w, r, identity.Update, false)
	if !ok {
		return
	}
	if err := s.tt.ClearChange(r.Context(), sl.ID, chi.URLParam(r, "date")); err != nil {
		s.ttError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiTimetableImport takes a CSV body for the school ?etablissement=.
func (s *Server) apiTimetableImport(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	st, err := strconv.ParseInt(r.URL.Query().Get("etablissement"), 10, 64)
	if err != nil || !administers(u, st) || !u.Can(identity.Timetable, identity.Create, structureTarget(st)) {
		s.notFound(w, r)
		return
	}
	year, err := s.currentYear(r)
	if err != nil {
		s.ttError(w, r, err)
		return
	}
	rep, err := s.tt.Import(ctx, st, year, r.Body)
	if err != nil {
		s.ttError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// ---- pages -------------------------------------------------------------------

type ttCard struct {
	timetable.Occurrence
	Time     string
	Status   string // French, "" as planned
	LiveRoom string // the class's live lesson, open now
	CanStart bool   // the user may start the class's live lesson now
	CanEdit  bool
	Now      bool
	// StartHHMM, EndHHMM fill the move form ("08:00").
	StartHHMM, EndHHMM string
}

type ttDay struct {
	Name  string
	Date  string
	Today bool
	Cards []ttCard
}

type ttChoice struct {
	Label   string
	Href    string
	Current bool
}

type timetableData struct {
	Title     string
	WeekLabel string
	Prev      string
	Next      string
	This      string
	Days      []ttDay
	Choices   []ttChoice
	EditHref  string
	ShowClass bool
	Semaine   string
}

func (s *Server) timetablePages(r chi.Router) {
	r.Get("/emploi-du-temps", s.timetablePage)
	r.Get("/emploi-du-temps/classe/{id}", s.timetableEditPage)
	small := s.limitBody(s.cfg.MaxBody)
	r.With(small).Post("/emploi-du-temps/classe/{id}/creneaux", s.timetableAddSlot)
	r.With(small).Post("/emploi-du-temps/creneaux/{id}/supprimer", s.timetableDeleteSlot)
	r.With(small).Post("/emploi-du-temps/creneaux/{id}/changement", s.timetableChangeSubmit)
	r.With(small).Post("/emploi-du-temps/creneaux/{id}/retablir", s.timetableRestoreSubmit)
	r.With(s.limitBody(csvimport.MaxFileSize+1<<20)).Post("/emploi-du-temps/import", s.timetableImportSubmit)
}

var frWeekdays = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}

// frDay writes "lundi 30 novembre".
func frDay(t time.Time) string {
	return fmt.Sprintf("%s %d %s", frWeekdays[t.Weekday()], t.Day(), frMonths[t.Month()-1])
}

func (s *Server) timetablePage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	who, err := s.resolveWho(ctx, u, r.URL.Query().Get)
	if err != nil {
		s.ttError(w, r, err)
		return
	}
	now := time.Now()
	if s.cfg.Live != nil {
		now = s.cfg.Live.now() // the live lessons' clock: tests set it
	}
	monday, ok := weekOf(r.URL.Query().Get("semaine"), now)
	if !ok {
		s.error(w, r, http.StatusBadRequest, "Date de semaine illisible.")
		return
	}
	ls, err := s.tt.Week(ctx, who.Filter, monday)
	if err != nil {
		s.ttError(w, r, err)
		return
	}
	link := func(d time.Time) string {
		return "/emploi-du-temps?" + who.Query + "&semaine=" + d.Format(timetable.DateLayout)
	}
	sunday := monday.AddDate(0, 0, 5)
	d := timetableData{Title: who.Title, Prev: link(monday.AddDate(0, 0, -7)), Next: link(monday.AddDate(0, 0, 7)),
		This: "/emploi-du-temps?" + who.Query, ShowClass: who.Teacher || who.ClassID == 0, Semaine: monday.Format(timetable.DateLayout),
		WeekLabel: fmt.Sprintf("Semaine du %s au %s (semaine %s)", frDay(monday), frDay(sunday), timetable.WeekLetter(monday))}
	if who.ClassID != 0 {
		if _, ok := s.mayEditClass(ctx, u, who.ClassID, identity.Update); ok {
			d.EditHref = "/emploi-du-temps/classe/" + strconv.FormatInt(who.ClassID, 10)
		}
	}
	live := map[int64]string{}
	if s.cfg.Live != nil {
		for _, l := range s.lessons.active(s.cfg.Live.Manager) {
			if u.Can(identity.Live, identity.Read, l.target()) {
				live[l.ClassID] = l.Room
			}
		}
	}
	today := now.In(timetable.Paris).Format(timetable.DateLayout)
	for i := range 6 {
		day := monday.AddDate(0, 0, i)
		td := ttDay{Name: frDay(day), Date: day.Format(timetable.DateLayout)}
		td.Today = td.Date == today
		for _, o := range ls {
			if o.Date != td.Date {
				continue
			}
			c := ttCard{Occurrence: o, Time: timetable.FrTime(o.Start) + " – " + timetable.FrTime(o.End), CanEdit: d.EditHref != "",
				StartHHMM: timetable.HHMM(o.Start), EndHHMM: timetable.HHMM(o.End)}
			c.Now = o.Status != timetable.Cancelled && o.Status != timetable.Moved &&
				!now.Before(o.Begin.Add(-15*time.Minute)) && now.Before(o.Until)
			switch o.Status {
			case timetable.Cancelled:
				c.Status = "Annulé"
			case timetable.Moved:
				c.Status = "Déplacé au " + movedLabel(o.MovedTo)
			case timetable.MovedHere:
				c.Status = "Cours déplacé (prévu le " + movedLabel(o.MovedFrom) + ")"
			}
			if c.Now {
				c.LiveRoom = live[o.ClassID]
				if c.LiveRoom == "" && s.cfg.Live != nil && o.TeacherID == u.UserID {
					cl, err := s.dir.Class(ctx, o.ClassID)
					c.CanStart = err == nil && u.Can(identity.Live, identity.Create, classTarget(cl))
				}
			}
			td.Cards = append(td.Cards, c)
		}
		if i < 5 || len(td.Cards) > 0 { // Saturday only when it has lessons
			d.Days = append(d.Days, td)
		}
	}
	if d.Choices, err = s.ttChoices(ctx, u, who); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "timetable", view{Title: "Emploi du temps — " + who.Title, Data: d})
}

// movedLabel writes "2026-12-04 14:00" as "vendredi 4 décembre à 14 h 00".
func movedLabel(v string) string {
	ds, hm, _ := strings.Cut(v, " ")
	d, err := timetable.ParseDate(ds)
	m, ok := timetable.ParseHHMM(hm)
	if err != nil || !ok {
		return v
	}
	return frDay(d) + " à " + timetable.FrTime(m)
}

// ttChoices lists the other weeks the user may look at.
func (s *Server) ttChoices(ctx context.Context, u *user, who ttWho) ([]ttChoice, error) {
	var out []ttChoice
	add := func(label, query string) {
		out = append(out, ttChoice{Label: label, Href: "/emploi-du-temps?" + query, Current: query == who.Query})
	}
	for _, id := range u.Children {
		p, err := s.dir.Person(ctx, id)
		if err != nil {
			return nil, err
		}
		add(p.FirstName, "eleve="+strconv.FormatInt(id, 10))
	}
	if u.Has(identity.Teacher) {
		add("Mon emploi du temps", "enseignant="+strconv.FormatInt(u.UserID, 10))
	}
	classes, err := s.ttClasses(ctx, u)
	if err != nil && !errors.Is(err, directory.ErrNotFound) {
		return nil, err
	}
	if u.Has(identity.Teacher) && !u.Has(identity.Staff) && !u.Has(identity.Head) && !u.Has(identity.Admin) {
		classes = classes[:0]
		for _, id := range u.Classes {
			c, err := s.dir.Class(ctx, id)
			if err != nil {
				return nil, err
			}
			classes = append(classes, c)
		}
	}
	for _, c := range classes {
		if !u.Has(identity.Pupil) && !u.Has(identity.Parent) {
			add(c.Name, "classe="+strconv.FormatInt(c.ID, 10))
		}
	}
	if len(out) < 2 {
		return nil, nil
	}
	return out, nil
}

type ttEditData struct {
	Class    directory.Class
	Slots    []ttSlotRow
	Subjects []directory.Subject
	Teachers []directory.Member
	Days     []ttChoice
	Form     slotForm
	Import   bool
	Week     string
}

type ttSlotRow struct {
	timetable.Slot
	Day  string
	Time string
}

type slotForm struct {
	Subject, Teacher, Room, Day, Start, End, Weeks string
}

func (s *Server) ttEditView(r *http.Request, c directory.Class, f slotForm) (view, error) {
	ctx := r.Context()
	slots, err := s.tt.Slots(ctx, timetable.Filter{Classes: []int64{c.ID}})
	if err != nil {
		return view{}, err
	}
	d := ttEditData{Class: c, Form: f, Import: true}
	for _, sl := range slots {
		d.Slots = append(d.Slots, ttSlotRow{Slot: sl, Day: timetable.Days[sl.Weekday], Time: timetable.FrTime(sl.Start) + " – " + timetable.FrTime(sl.End)})
	}
	if d.Subjects, err = s.dir.Subjects(ctx); err != nil {
		return view{}, err
	}
	if d.Teachers, err = s.dir.Members(ctx, directory.MemberFilter{StructureID: c.StructureID, Profile: identity.Teacher, Limit: 500}); err != nil {
		return view{}, err
	}
	for i := 1; i <= 6; i++ {
		d.Days = append(d.Days, ttChoice{Label: timetable.Days[i], Href: strconv.Itoa(i), Current: f.Day == strconv.Itoa(i)})
	}
	return view{Title: "Emploi du temps de la " + c.Name, Data: d}, nil
}

func (s *Server) timetableEditPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	c, ok := s.mayEditClass(ctx, u, pathID(r, "id"), identity.Update)
	if !ok {
		s.notFound(w, r)
		return
	}
	v, err := s.ttEditView(r, c, slotForm{Day: "1"})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch r.URL.Query().Get("ok") {
	case "ajout":
		v.Flash = "Le cours est ajouté à l'emploi du temps."
	case "suppression":
		v.Flash = "Le cours est retiré de l'emploi du temps."
	case "import":
		v.Flash = "L'emploi du temps est importé."
	}
	s.render(w, r, http.StatusOK, "timetable_edit", v)
}

func (s *Server) timetableAddSlot(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	c, ok := s.mayEditClass(ctx, u, pathID(r, "id"), identity.Create)
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	pf := r.PostForm.Get
	f := slotForm{Subject: pf("matiere"), Teacher: pf("enseignant"), Room: pf("salle"), Day: pf("jour"), Start: pf("debut"), End: pf("fin"), Weeks: pf("semaine")}
	atoi := func(v string) int64 { n, _ := strconv.ParseInt(v, 10, 64); return n }
	sl := timetable.Slot{ClassID: c.ID, SubjectID: atoi(f.Subject), TeacherID: atoi(f.Teacher), Room: f.Room, Weekday: int(atoi(f.Day)), Weeks: f.Weeks}
	var msg string
	var okStart, okEnd bool
	sl.Start, okStart = timetable.ParseHHMM(f.Start)
	sl.End, okEnd = timetable.ParseHHMM(f.End)
	if !okStart || !okEnd {
		msg = "Heures de début et de fin illisibles (par exemple 8:00 et 9:00)."
	} else if _, err := s.tt.CreateSlot(ctx, sl); err != nil {
		var inv *timetable.Invalid
		if !errors.As(err, &inv) {
			s.fail(w, r, err)
			return
		}
		msg = sentence(inv.Msg)
	}
	if msg != "" {
		v, err := s.ttEditView(r, c, f)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Error = msg
		s.render(w, r, http.StatusBadRequest, "timetable_edit", v)
		return
	}
	http.Redirect(w, r, "/emploi-du-temps/classe/"+strconv.FormatInt(c.ID, 10)+"?ok=ajout", http.StatusSeeOther)
}

func (s *Server) timetableDeleteSlot(w http.ResponseWriter, r *http.Request) {
	sl, _, ok := s.editableSlot(w, r, identity.Delete, false)
	if !ok {
		return
	}
	if err := s.tt.DeleteSlot(r.Context(), sl.ID); err != nil {
		s.ttError(w, r, err)
		return
	}
	http.Redirect(w, r, "/emploi-du-temps/classe/"+strconv.FormatInt(sl.ClassID, 10)+"?ok=suppression", http.StatusSeeOther)
}

// timetableChangeSubmit cancels or moves one lesson from the week page.
func (s *Server) timetableChangeSubmit(w http.ResponseWriter, r *http.Request) {
	sl, u, ok := s.editableSlot(w, r, identity.Update, true)
	if !ok {
		return
	}
	pf := r.PostForm.Get
	c := timetable.Change{SlotID: sl.ID, Date: pf("date"), Status: pf("statut"), Note: pf("remarque"), By: u.UserID}
	if c.Status == timetable.Moved {
		c.NewDate, c.NewRoom = pf("nouvelle_date"), pf("nouvelle_salle")
		var ok1, ok2 bool
		c.NewStart, ok1 = timetable.ParseHHMM(pf("nouveau_debut"))
		c.NewEnd, ok2 = timetable.ParseHHMM(pf("nouvelle_fin"))
		if !ok1 || !ok2 {
			s.error(w, r, http.StatusBadRequest, "Heures du cours déplacé illisibles (par exemple 14:00 et 15:00).")
			return
		}
	}
	if err := s.tt.SetChange(r.Context(), c); err != nil {
		s.ttError(w, r, err)
		return
	}
	http.Redirect(w, r, "/emploi-du-temps?classe="+strconv.FormatInt(sl.ClassID, 10)+"&semaine="+c.Date, http.StatusSeeOther)
}

func (s *Server) timetableRestoreSubmit(w http.ResponseWriter, r *http.Request) {
	sl, _, ok := s.editableSlot(w, r, identity.Update, true)
	if !ok {
		return
	}
	date := r.PostForm.Get("date")
	if err := s.tt.ClearChange(r.Context(), sl.ID, date); err != nil {
		s.ttError(w, r, err)
		return
	}
	http.Redirect(w, r, "/emploi-du-temps?classe="+strconv.FormatInt(sl.ClassID, 10)+"&semaine="+date, http.StatusSeeOther)
}

// timetableImportSubmit imports a CSV file for the school of the class
// whose page sent it.
func (s *Server) timetableImportSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	classID, _ := strconv.ParseInt(r.URL.Query().Get("classe"), 10, 64)
	c, ok := s.mayEditClass(ctx, u, classID, identity.Create)
	if !ok {
		s.notFound(w, r)
		return
	}
	file, _, err := r.FormFile("fichier")
	if err != nil {
		s.error(w, r, http.StatusBadRequest, "Choisissez un fichier CSV (Classe;Jour;Début;Fin;Matière;Enseignant;Salle;Semaine).")
		return
	}
	defer file.Close()
	if _, err := s.tt.Import(ctx, c.StructureID, c.YearID, file); err != nil {
		var re *csvimport.RowErrors
		if errors.As(err, &re) || errors.Is(err, csvimport.ErrFileTooLarge) {
			v, verr := s.ttEditView(r, c, slotForm{Day: "1"})
			if verr != nil {
				s.fail(w, r, verr)
				return
			}
			v.Error = err.Error()
			s.render(w, r, http.StatusBadRequest, "timetable_edit", v)
			return
		}
		s.ttError(w, r, err)
		return
	}
	http.Redirect(w, r, "/emploi-du-temps/classe/"+strconv.FormatInt(c.ID, 10)+"?ok=import", http.StatusSeeOther)
}
