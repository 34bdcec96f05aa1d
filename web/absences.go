package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/absences"
	"preau/ent/directory"
	"preau/ent/timetable"
	"preau/identity"
	"preau/storage/files"
)

// Absences and lateness (vie scolaire, docs/absences.md): the teacher takes
// the roll of a lesson of a class they teach — pre-filled from the class's
// live lesson when there was one —, the vie scolaire (CPE) and the
// direction manage the school's records and decide on justifications, the
// family is told at once through the chat hub (a "Vie scolaire — <child>"
// conversation written by Préau) and justifies online; counts per pupil and
// class, CSV for staff. This file holds the access rules and the API;
// absences_pages.go the French pages.

func (s *Server) absStore() *absences.Store {
	st := absences.New(s.db)
	if s.cfg.Live != nil {
		st.SetClock(s.cfg.Live.now)
	}
	return st
}

// absNow is the clock of the module (the live lessons' clock: tests set it).
func (s *Server) absNow() time.Time {
	if s.cfg.Live != nil {
		return s.cfg.Live.now()
	}
	return time.Now()
}

// vieScolaire reports whether u is of the vie scolaire of structure st.
func (s *Server) vieScolaire(ctx context.Context, u *user, st int64) bool {
	if !u.InStructure(identity.Staff, st) {
		return false
	}
	sts, err := s.chat.VieScolaireOf(ctx, u.UserID)
	return err == nil && slices.Contains(sts, st)
}

// absCan is the policy's answer for (res, a, t), with one narrowing: a
// right that only a staff role gives holds for the school's vie scolaire,
// not for other staff (secretariat, CDI…).
func (s *Server) absCan(ctx context.Context, u *user, res identity.Resource, a identity.Action, t identity.Target) bool {
	if !u.Can(res, a, t) {
		return false
	}
	others := *u.Principal
	others.Roles = slices.DeleteFunc(slices.Clone(u.Roles), func(r identity.Role) bool { return r.Profile == identity.Staff })
	if others.Can(res, a, t) {
		return true
	}
	return t.Structure != 0 && s.vieScolaire(ctx, u, t.Structure)
}

func recordTarget(r absences.Record) identity.Target {
	return identity.Target{Structure: r.StructureID, Person: r.PupilID, Classes: []int64{r.ClassID}}
}

// manager: u manages the records of structure st (vie scolaire, direction).
func (s *Server) absManager(ctx context.Context, u *user, st int64) bool {
	return s.absCan(ctx, u, identity.Absence, identity.Delete, identity.Target{Structure: st})
}

// reachRecord loads record id when u may do a to it (ErrNotFound otherwise).
func (s *Server) reachRecord(ctx context.Context, u *user, id int64, res identity.Resource, a identity.Action) (absences.Record, error) {
	r, err := s.absStore().Get(ctx, id)
	if err != nil {
		return r, err
	}
	if !s.absCan(ctx, u, identity.Absence, identity.Read, recordTarget(r)) || !s.absCan(ctx, u, res, a, recordTarget(r)) {
		return absences.Record{}, absences.ErrNotFound
	}
	return r, nil
}

// managedStructures lists the schools whose records u manages.
func (s *Server) managedStructures(ctx context.Context, u *user) ([]directory.Structure, error) {
	sts, err := s.adminStructures(ctx, u)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(sts, func(st directory.Structure) bool { return !s.absManager(ctx, u, st.ID) }), nil
}

// rollClass loads class id when u may take its roll.
func (s *Server) rollClass(ctx context.Context, u *user, id int64) (directory.Class, bool) {
	c, err := s.dir.Class(ctx, id)
	if err != nil || !s.absCan(ctx, u, identity.Absence, identity.Create, classTarget(c)) {
		return directory.Class{}, false
	}
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil || c.YearID != y.ID {
		return directory.Class{}, false
	}
	return c, true
}

// absError answers a failure of the module: 404, 400 with the French
// reason, or the generic failure.
func (s *Server) absError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *absences.Invalid
	switch {
	case errors.Is(err, absences.ErrNotFound), errors.Is(err, directory.ErrNotFound):
		s.notFound(w, r)
	case errors.As(err, &inv):
		s.error(w, r, http.StatusBadRequest, sentence(inv.Msg))
	default:
		s.fail(w, r, err)
	}
}

// absNotify tells the pupil's family at once: a message from Préau in the
// family's "Vie scolaire — <child>" conversation, delivered live by the
// hub. Best effort: a failure is logged, the record stays.
func (s *Server) absNotify(ctx context.Context, rs ...absences.Record) {
	if s.cfg.ChatHub == nil {
		return
	}
	for _, r := range rs {
		conv, err := s.familyChannel(ctx, r.PupilID, r.StructureID)
		if err != nil || conv == 0 {
			if err != nil {
				s.log.Warn("absences: family channel", "pupil", r.PupilID, "err", err)
			}
			continue
		}
		id := fmt.Sprintf("absence-%d-%d", r.ID, r.RecordedAt.UnixMilli())
		if _, err := s.cfg.ChatHub.Announce(ctx, conv, id, absences.Notice(r, r.FirstName)); err != nil {
			s.log.Warn("absences: notify", "record", r.ID, "err", err)
		}
	}
}

// familyChannel returns (making it, with the pupil's guardians as
// members) the conversation where Préau writes to the family; 0 when the
// pupil has no guardian.
func (s *Server) familyChannel(ctx context.Context, pupil, structure int64) (int64, error) {
	gs, err := s.dir.Guardians(ctx, pupil)
	if err != nil || len(gs) == 0 {
		return 0, err
	}
	p, err := s.dir.Person(ctx, pupil)
	if err != nil {
		return 0, err
	}
	ids := make([]int64, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	c, err := s.chat.NoticeChannel(ctx, "vie-scolaire:"+strconv.FormatInt(pupil, 10), structure, "Vie scolaire — "+p.FullName(), ids)
	return c.ID, err
}

// ensureFamilyChannels makes the family conversations of the pupils
// beforehand, so that a page already open (the home page's badge, the
// Messagerie) follows them when the first notification comes.
func (s *Server) ensureFamilyChannels(ctx context.Context, pupils []int64, structure int64) {
	for _, p := range pupils {
		if _, err := s.familyChannel(ctx, p, structure); err != nil {
			s.log.Warn("absences: family channel", "pupil", p, "err", err)
		}
	}
}

// pupilStructure finds the school and class of this year of a pupil.
func (s *Server) pupilClass(ctx context.Context, pupil int64) (directory.Class, error) {
	ts, err := s.dir.PersonTargets(ctx, pupil)
	if err != nil {
		return directory.Class{}, err
	}
	for _, t := range ts {
		for _, c := range t.Classes {
			cl, err := s.dir.Class(ctx, c)
			if err == nil && cl.Kind == directory.KindClass {
				return cl, nil
			}
		}
	}
	return directory.Class{}, directory.ErrNotFound
}

// lessonOf completes the lesson of a roll call: its subject (and times)
// from the timetable slot, or from the class's lesson at that time.
func (s *Server) lessonOf(ctx context.Context, c directory.Class, date string, start, end int, slotID int64) (absences.Lesson, error) {
	l := absences.Lesson{ClassID: c.ID, StructureID: c.StructureID, Date: date, Start: start, End: end}
	d, err := timetable.ParseDate(date)
	if err != nil {
		return l, &absences.Invalid{Msg: "date illisible (attendu AAAA-MM-JJ)"}
	}
	week, err := s.tt.Week(ctx, timetable.Filter{Classes: []int64{c.ID}}, d)
	if err != nil {
		return l, err
	}
	for _, o := range week {
		if o.Date != date || o.Status == timetable.Cancelled || o.Status == timetable.Moved {
			continue
		}
		if (slotID != 0 && o.ID == slotID) || (slotID == 0 && o.Start <= start && start < o.End) {
			l.Subject = o.Subject
			if slotID != 0 || end == 0 {
				l.Start, l.End = o.Start, o.End
			}
			return l, nil
		}
	}
	if slotID != 0 {
		return l, &absences.Invalid{Msg: "ce cours n'a pas lieu ce jour-là"}
	}
	if l.End == 0 {
		l.End = l.Start + 60
	}
	return l, nil
}

// rollForm is a roll call as the page shows it: each pupil with the mark
// the form starts from.
type rollForm struct {
	Class    directory.Class
	Lesson   absences.Lesson
	Pupils   []rollPupil
	FromLive bool // pre-filled from a live lesson of the class
	Taken    bool // a roll call was already taken: marks are the records
	Date     string
	Start    string
	End      string
	Label    string
}

type rollPupil struct {
	ID      int64  `json:"pupil_id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	LateMin int    `json:"late_min,omitempty"`
}

// prefill builds the roll call of a lesson: the records already taken, else
// the live lesson's attendance (joined: present, otherwise absent), else
// everyone present.
func (s *Server) prefill(ctx context.Context, c directory.Class, l absences.Lesson) (rollForm, error) {
	f := rollForm{Class: c, Lesson: l, Date: l.Date, Start: timetable.HHMM(l.Start), End: timetable.HHMM(l.End)}
	d, _ := timetable.ParseDate(l.Date)
	f.Label = frDay(d) + ", " + absences.FrHour(l.Start) + " – " + absences.FrHour(l.End)
	if l.Subject != "" {
		f.Label += " (" + l.Subject + ")"
	}
	pupils, err := s.dir.ClassPupils(ctx, c.ID)
	if err != nil {
		return f, err
	}
	st := s.absStore()
	recs, err := st.List(ctx, absences.Filter{Classes: []int64{c.ID}, From: l.Date, To: l.Date})
	if err != nil {
		return f, err
	}
	rolls, err := st.Rolls(ctx, []int64{c.ID}, l.Date, l.Date)
	if err != nil {
		return f, err
	}
	for _, r := range rolls {
		f.Taken = f.Taken || r.Start == l.Start
	}
	begin := time.Date(d.Year(), d.Month(), d.Day(), l.Start/60, l.Start%60, 0, 0, timetable.Paris)
	joined, live, err := st.LiveAttendance(ctx, c.ID, begin, begin.Add(time.Duration(l.End-l.Start)*time.Minute))
	if err != nil {
		return f, err
	}
	f.FromLive = live && !f.Taken
	for _, p := range pupils {
		rp := rollPupil{ID: p.ID, Name: p.LastName + " " + p.FirstName, Kind: absences.Present}
		if f.FromLive && !joined[p.ID] {
			rp.Kind = absences.Absent
		}
		for _, r := range recs {
			if r.PupilID == p.ID && r.Start == l.Start {
				rp.Kind, rp.LateMin = r.Kind, r.LateMin
			}
		}
		f.Pupils = append(f.Pupils, rp)
	}
	return f, nil
}

// ---- API ---------------------------------------------------------------------

func (s *Server) absencesAPI(r chi.Router) {
	r.Get("/absences", s.apiAbsences)
	r.Post("/absences", s.apiCreateAbsence)
	r.Get("/absences/counts", s.apiAbsenceCounts)
	r.Get("/absences/roll", s.apiRollGet)
	r.Post("/absences/roll", s.apiRollPost)
	r.Get("/absences/{id}", s.apiAbsence)
	r.Put("/absences/{id}", s.apiUpdateAbsence)
	r.Delete("/absences/{id}", s.apiDeleteAbsence)
	r.Post("/absences/{id}/justification", s.apiJustify)
	r.Post("/absences/{id}/decision", s.apiDecide)
}

// absScope reads ?classe=, ?eleve=, ?etablissement=, ?du=, ?au= (or
// ?trimestre=) and turns them into a filter u may read: ErrNotFound when
// the class or pupil is out of reach.
func (s *Server) absScope(ctx context.Context, u *user, q func(string) string) (absences.Filter, error) {
	num := func(k string) int64 { n, _ := strconv.ParseInt(q(k), 10, 64); return n }
	var f absences.Filter
	f.From, f.To = q("du"), q("au")
	if tid := num("trimestre"); tid != 0 {
		y, err := directory.CurrentYear(ctx, s.db)
		if err != nil {
			return f, err
		}
		ts, err := directory.EnsureTerms(ctx, s.db, y)
		if err != nil {
			return f, err
		}
		for _, t := range ts {
			if t.ID == tid {
				f.From, f.To = t.StartsOn, t.EndsOn
			}
		}
	}
	for _, v := range []string{f.From, f.To} {
		if _, err := timetable.ParseDate(v); v != "" && err != nil {
			return f, &absences.Invalid{Msg: "date illisible (attendu AAAA-MM-JJ)"}
		}
	}
	switch st := q("statut"); st {
	case "", absences.Unjustified, absences.Pending, absences.Justified, absences.Refused:
		f.Status = st
	default:
		return f, &absences.Invalid{Msg: "statut inconnu"}
	}
	switch {
	case q("eleve") != "":
		p := num("eleve")
		t := identity.Target{Person: p}
		if c, err := s.pupilClass(ctx, p); err == nil {
			t.Structure, t.Classes = c.StructureID, []int64{c.ID}
		}
		if p <= 0 || !s.absCan(ctx, u, identity.Absence, identity.Read, t) {
			return f, directory.ErrNotFound
		}
		f.Pupils = []int64{p}
	case q("classe") != "":
		c, err := s.dir.Class(ctx, num("classe"))
		if err != nil || u.Has(identity.Pupil) && !u.Has(identity.Teacher) || !s.absCan(ctx, u, identity.Absence, identity.Read, classTarget(c)) {
			return f, directory.ErrNotFound
		}
		if u.Has(identity.Parent) && !u.InClass(c.ID) && !s.absManager(ctx, u, c.StructureID) {
			return f, directory.ErrNotFound // a parent reads their children's records, never a class's
		}
		f.Classes = []int64{c.ID}
	case q("etablissement") != "":
		st := num("etablissement")
		if !s.absManager(ctx, u, st) {
			return f, directory.ErrNotFound
		}
		f.Structure = st
	default:
		return s.defaultScope(ctx, u, f)
	}
	return f, nil
}

// defaultScope is what u sees without a choice: their own records (a
// pupil), their children's (a parent), the classes they teach, or the
// schools they manage.
func (s *Server) defaultScope(ctx context.Context, u *user, f absences.Filter) (absences.Filter, error) {
	switch {
	case u.Has(identity.Pupil):
		f.Pupils = []int64{u.UserID}
	case u.Has(identity.Parent) && len(u.Children) > 0 && !u.Has(identity.Teacher) && !u.Has(identity.Staff) && !u.Has(identity.Head):
		f.Pupils = slices.Clone(u.Children)
	default:
		sts, err := s.managedStructures(ctx, u)
		if err != nil {
			return f, err
		}
		if len(sts) > 0 {
			f.Structure = sts[0].ID
			return f, nil
		}
		if !u.Has(identity.Teacher) {
			return f, directory.ErrNotFound
		}
		f.Classes = slices.Clone(u.Classes)
		if f.Classes == nil {
			f.Classes = []int64{}
		}
	}
	return f, nil
}

func (s *Server) apiAbsences(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	f, err := s.absScope(ctx, u, r.URL.Query().Get)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	rs, err := s.absStore().List(ctx, f)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	if rs == nil {
		rs = []absences.Record{}
	}
	writeJSON(w, http.StatusOK, struct {
		Absences []absences.Record `json:"absences"`
	}{rs})
}

func (s *Server) apiAbsenceCounts(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	f, err := s.absScope(ctx, u, r.URL.Query().Get)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	f.Status = ""
	rs, err := s.absStore().List(ctx, f)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	per, total := absences.Tally(rs)
	if per == nil {
		per = []absences.Count{}
	}
	writeJSON(w, http.StatusOK, struct {
		From   string           `json:"from,omitempty"`
		To     string           `json:"to,omitempty"`
		Pupils []absences.Count `json:"pupils"`
		Total  absences.Count   `json:"total"`
	}{f.From, f.To, per, total})
}

func (s *Server) apiAbsence(w http.ResponseWriter, r *http.Request) {
	rec, err := s.reachRecord(r.Context(), currentUser(r), pathID(r, "id"), identity.Absence, identity.Read)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// recordRequest is a record as the vie scolaire's API gives it.
type recordRequest struct {
	PupilID int64  `json:"pupil_id"`
	Kind    string `json:"kind"`
	Date    string `json:"date"`
	Start   int    `json:"start_min"`
	End     int    `json:"end_min"`
	LateMin int    `json:"late_min"`
	Subject string `json:"subject"`
	Status  string `json:"status"`
	Comment string `json:"comment"`
}

// createRecord checks that u manages the pupil's school and stores the
// record, then tells the family.
func (s *Server) createRecord(ctx context.Context, u *user, q recordRequest) (absences.Record, error) {
	c, err := s.pupilClass(ctx, q.PupilID)
	if err != nil || !s.absManager(ctx, u, c.StructureID) {
		return absences.Record{}, absences.ErrNotFound
	}
	rec, err := s.absStore().Create(ctx, absences.Record{ClassID: c.ID, PupilID: q.PupilID, Kind: q.Kind, Date: q.Date,
		Start: q.Start, End: q.End, LateMin: q.LateMin, Subject: q.Subject, Status: q.Status, Comment: q.Comment, RecordedBy: u.UserID})
	if err != nil {
		return rec, err
	}
	s.absNotify(ctx, rec)
	return rec, nil
}

func (s *Server) apiCreateAbsence(w http.ResponseWriter, r *http.Request) {
	var q recordRequest
	if !readJSON(w, r, &q) {
		return
	}
	rec, err := s.createRecord(r.Context(), currentUser(r), q)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rec)
}

// managedRecord loads record id when u manages its school.
func (s *Server) managedRecord(ctx context.Context, u *user, id int64) (absences.Record, error) {
	rec, err := s.absStore().Get(ctx, id)
	if err != nil || !s.absManager(ctx, u, rec.StructureID) {
		return absences.Record{}, absences.ErrNotFound
	}
	return rec, nil
}

func (s *Server) apiUpdateAbsence(w http.ResponseWriter, r *http.Request) {
	var q recordRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	old, err := s.managedRecord(ctx, u, pathID(r, "id"))
	if err != nil {
		s.absError(w, r, err)
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
	writeJSON(w, http.StatusOK, rec)
}

// deleteRecord removes a record u manages, and its document's copy.
func (s *Server) deleteRecord(ctx context.Context, u *user, id int64) (absences.Record, error) {
	rec, err := s.managedRecord(ctx, u, id)
	if err != nil {
		return rec, err
	}
	key, err := s.absStore().Delete(ctx, rec.ID)
	if err == nil && key != "" && s.cfg.Files != nil {
		s.cfg.Files.DropAttachmentCopies(key)
	}
	return rec, err
}

func (s *Server) apiDeleteAbsence(w http.ResponseWriter, r *http.Request) {
	if _, err := s.deleteRecord(r.Context(), currentUser(r), pathID(r, "id")); err != nil {
		s.absError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type justifyRequest struct {
	Reason string `json:"reason"`
	Text   string `json:"text"`
	FileID int64  `json:"file_id"` // a file of the parent's Documents, 0 for none
}

// justify records a parent's justification, with a copy of a file of
// their Documents.
func (s *Server) justify(ctx context.Context, u *user, id int64, q justifyRequest) (absences.Record, error) {
	rec, err := s.reachRecord(ctx, u, id, identity.AbsenceJustification, identity.Create)
	if err != nil {
		return rec, err
	}
	if _, err := absences.CheckReason(q.Reason, q.Text); err != nil {
		return rec, err
	}
	var doc *absences.Document
	if q.FileID != 0 {
		if s.cfg.Files == nil {
			return rec, &absences.Invalid{Msg: "les documents ne sont pas disponibles sur ce serveur"}
		}
		a, err := s.cfg.Files.CopyAttachment(ctx, u.Principal, q.FileID)
		switch {
		case errors.Is(err, files.ErrNotFound):
			return rec, &absences.Invalid{Msg: "ce document est introuvable dans vos Documents"}
		case errors.Is(err, files.ErrTooLarge):
			return rec, &absences.Invalid{Msg: fmt.Sprintf("le document fait %d Mo au plus", files.MaxAttachment>>20)}
		case err != nil:
			return rec, err
		}
		doc = &absences.Document{Name: a.Name, Size: a.Size, ContentType: a.ContentType, SHA256: a.SHA256, Key: a.Key}
	}
	old, err := s.absStore().Justify(ctx, rec.ID, u.UserID, q.Reason, q.Text, doc)
	if err != nil {
		if doc != nil {
			s.cfg.Files.DropAttachmentCopies(doc.Key)
		}
		return rec, err
	}
	if old != "" {
		s.cfg.Files.DropAttachmentCopies(old)
	}
	return s.absStore().Get(ctx, rec.ID)
}

func (s *Server) apiJustify(w http.ResponseWriter, r *http.Request) {
	var q justifyRequest
	if !readJSON(w, r, &q) {
		return
	}
	rec, err := s.justify(r.Context(), currentUser(r), pathID(r, "id"), q)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

type decisionRequest struct {
	Status  string `json:"status"` // justified, refused or unjustified
	Comment string `json:"comment"`
}

func (s *Server) decide(ctx context.Context, u *user, id int64, q decisionRequest) (absences.Record, error) {
	rec, err := s.reachRecord(ctx, u, id, identity.AbsenceJustification, identity.Update)
	if err != nil {
		return rec, err
	}
	return s.absStore().Decide(ctx, rec.ID, u.UserID, q.Status, q.Comment)
}

func (s *Server) apiDecide(w http.ResponseWriter, r *http.Request) {
	var q decisionRequest
	if !readJSON(w, r, &q) {
		return
	}
	rec, err := s.decide(r.Context(), currentUser(r), pathID(r, "id"), q)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// rollLesson reads the lesson of a roll call (class, date, times or slot)
// and checks u may take it.
func (s *Server) rollLesson(ctx context.Context, u *user, classID int64, date, start, end string, slot int64) (directory.Class, absences.Lesson, error) {
	c, ok := s.rollClass(ctx, u, classID)
	if !ok {
		return c, absences.Lesson{}, directory.ErrNotFound
	}
	today := s.absNow().In(timetable.Paris).Format(timetable.DateLayout)
	if date == "" {
		date = today
	}
	if date > today {
		return c, absences.Lesson{}, &absences.Invalid{Msg: "l'appel se fait le jour du cours, pas avant"}
	}
	var sm, em int
	if slot == 0 {
		var ok1, ok2 bool
		sm, ok1 = timetable.ParseHHMM(start)
		em, ok2 = timetable.ParseHHMM(end)
		if !ok1 || (end != "" && !ok2) {
			return c, absences.Lesson{}, &absences.Invalid{Msg: "heures du cours illisibles (par exemple 10:00 et 11:00)"}
		}
	}
	l, err := s.lessonOf(ctx, c, date, sm, em, slot)
	return c, l, err
}

func (s *Server) apiRollGet(w http.ResponseWriter, r *http.Request) {
	ctx, u, q := r.Context(), currentUser(r), r.URL.Query().Get
	classID, _ := strconv.ParseInt(q("class_id"), 10, 64)
	slot, _ := strconv.ParseInt(q("slot_id"), 10, 64)
	c, l, err := s.rollLesson(ctx, u, classID, q("date"), q("start"), q("end"), slot)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	f, err := s.prefill(ctx, c, l)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Lesson   absences.Lesson `json:"lesson"`
		FromLive bool            `json:"from_live"`
		Taken    bool            `json:"taken"`
		Pupils   []rollPupil     `json:"pupils"`
	}{f.Lesson, f.FromLive, f.Taken, f.Pupils})
}

type rollRequest struct {
	ClassID  int64           `json:"class_id"`
	SlotID   int64           `json:"slot_id"`
	Date     string          `json:"date"`
	Start    string          `json:"start"`
	End      string          `json:"end"`
	FromLive bool            `json:"from_live"`
	Marks    []absences.Mark `json:"marks"`
}

// takeRoll stores a roll call for the class's pupils (marks of others are
// refused: 404) and tells the families.
func (s *Server) takeRoll(ctx context.Context, u *user, q rollRequest) ([]absences.Record, error) {
	c, l, err := s.rollLesson(ctx, u, q.ClassID, q.Date, q.Start, q.End, q.SlotID)
	if err != nil {
		return nil, err
	}
	pupils, err := s.dir.ClassPupils(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range q.Marks {
		if !slices.ContainsFunc(pupils, func(p directory.Pupil) bool { return p.ID == m.PupilID }) {
			return nil, directory.ErrNotFound
		}
	}
	rs, err := s.absStore().TakeRoll(ctx, l, u.UserID, q.FromLive, q.Marks)
	if err != nil {
		return nil, err
	}
	s.absNotify(ctx, rs...)
	return rs, nil
}

func (s *Server) apiRollPost(w http.ResponseWriter, r *http.Request) {
	var q rollRequest
	if !readJSON(w, r, &q) {
		return
	}
	rs, err := s.takeRoll(r.Context(), currentUser(r), q)
	if err != nil {
		s.absError(w, r, err)
		return
	}
	if rs == nil {
		rs = []absences.Record{}
	}
	writeJSON(w, http.StatusOK, struct {
		Recorded []absences.Record `json:"recorded"`
	}{rs})
}
