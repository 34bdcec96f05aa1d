package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/meetings"
	"preau/identity"
)

// The "Rendez-vous" pages: a parent sees, per child, the child's teachers
// with their free slots and books one with a plain form; everyone sees
// their bookings, each with "Rejoindre la visio" while its room is open. A
// teacher publishes an evening of slots, the direction one for several
// teachers; they see who booked, cancel a booking or remove a slot.

func (s *Server) meetingsPages(r chi.Router) {
	r.Get("/rendez-vous", s.meetingsPage)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/rendez-vous/creneaux", s.meetingsPublishSubmit)
	r.Get("/rendez-vous/creneaux/{id}", s.meetingSlotPage)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/rendez-vous/creneaux/{id}/reserver", s.meetingBookSubmit)
	r.Post("/rendez-vous/creneaux/{id}/annuler", s.meetingCancelSubmit)
	r.Post("/rendez-vous/creneaux/{id}/supprimer", s.meetingDeleteSubmit)
}

// slotRow is a slot as the pages list it.
type slotRow struct {
	ID                    int64
	Day, From, To, Mode   string
	Teacher, Family       string
	Booked, Video, Manage bool
	Join                  string // the live page while the room is open
	Opens                 string // when the room opens ("16 h 50")
}

func (s *Server) slotRow(sl meetings.Slot, a slotAccess, now time.Time) slotRow {
	o := s.slotOut(sl, a, now)
	row := slotRow{ID: sl.ID, Day: meetings.FrDay(sl.Start), From: meetings.FrClock(sl.Start), To: meetings.FrClock(sl.End),
		Mode: sl.ModeLabel(), Teacher: sl.TeacherName, Booked: sl.Booking != nil, Video: sl.Mode == meetings.Video,
		Manage: a.Manage, Join: o.Join, Opens: meetings.FrClock(sl.Opens())}
	if o.Booking != nil {
		row.Family = o.Booking.ParentName + " (pour " + o.Booking.ChildName + ")"
	}
	return row
}

type familyChild struct {
	Child    directory.Pupil
	Teachers []teacherSlots
}

type teacherSlots struct {
	TeacherID      int64
	Name, Subjects string
	Booked         *slotRow // this child's booking with the teacher
	Free           []slotRow
}

type teacherOption struct {
	ID   int64
	Name string
}

type meetingsData struct {
	Parent   bool
	Children []familyChild
	// Mine: the slots booked by u or for u's children.
	Mine []slotRow
	// Slots: the slots u manages (a teacher's own, the school's).
	Slots []slotRow
	// Publish: u may publish; Teachers are those u may publish for (the
	// direction chooses; a teacher publishes for themselves).
	Publish  bool
	Teachers []teacherOption
	Today    string
}

func (s *Server) meetingsPage(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ctx := r.Context()
	if !u.CanAny(identity.MeetingSlot, identity.Read) {
		s.notFound(w, r)
		return
	}
	st := s.meetingStore()
	now := st.Now()
	d := meetingsData{Parent: u.Has(identity.Parent), Today: now.In(meetings.Paris).Format(time.DateOnly)}
	slots, err := s.visibleSlots(ctx, u, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	access := map[int64]slotAccess{}
	for _, sl := range slots {
		a, _, err := s.slotAccess(ctx, u, sl)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		access[sl.ID] = a
		switch {
		case a.Family:
			d.Mine = append(d.Mine, s.slotRow(sl, a, now))
		case a.Manage:
			d.Slots = append(d.Slots, s.slotRow(sl, a, now))
		}
	}
	if d.Parent {
		kids, teachers, err := s.familyTeachers(ctx, u)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, k := range kids {
			fc := familyChild{Child: k}
			for _, t := range teachers[k.ID] {
				ts := teacherSlots{TeacherID: t.TeacherID, Name: t.Name, Subjects: t.Subjects}
				for _, sl := range slots {
					if sl.TeacherID != t.TeacherID {
						continue
					}
					switch {
					case sl.Booking == nil && sl.Start.After(now):
						ts.Free = append(ts.Free, s.slotRow(sl, access[sl.ID], now))
					case sl.Booking != nil && sl.Booking.ChildID == k.ID:
						row := s.slotRow(sl, access[sl.ID], now)
						ts.Booked = &row
					}
				}
				fc.Teachers = append(fc.Teachers, ts)
			}
			d.Children = append(d.Children, fc)
		}
	}
	if u.CanAny(identity.MeetingSlot, identity.Create) {
		d.Publish = true
		for _, role := range u.Roles {
			if role.Profile != identity.Head || role.StructureID == 0 {
				continue
			}
			ms, err := s.dir.Members(ctx, directory.MemberFilter{StructureID: role.StructureID, Profile: identity.Teacher, Limit: 500})
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, m := range ms {
				if !slices.ContainsFunc(d.Teachers, func(o teacherOption) bool { return o.ID == m.ID }) {
					d.Teachers = append(d.Teachers, teacherOption{m.ID, m.FullName()})
				}
			}
		}
	}
	v := view{Title: "Rendez-vous parents-professeurs", Data: d}
	v.Flash = map[string]string{
		"publie":   "Les créneaux sont publiés : les familles peuvent les réserver.",
		"reserve":  "Votre rendez-vous est réservé ; l'enseignant est prévenu.",
		"annule":   "Le rendez-vous est annulé et le créneau de nouveau libre ; l'autre partie est prévenue.",
		"supprime": "Le créneau est supprimé.",
	}[r.URL.Query().Get("ok")]
	s.render(w, r, http.StatusOK, "meetings", v)
}

func (s *Server) meetingsPublishSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	u := currentUser(r)
	if !u.CanAny(identity.MeetingSlot, identity.Create) {
		s.notFound(w, r)
		return
	}
	minutes, _ := strconv.Atoi(r.PostForm.Get("minutes"))
	req := meetings.Series{Date: r.PostForm.Get("date"), From: r.PostForm.Get("from"), Until: r.PostForm.Get("until"),
		Minutes: minutes, Mode: r.PostForm.Get("mode"), Place: r.PostForm.Get("place")}
	for _, v := range r.PostForm["teacher_id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.notFound(w, r)
			return
		}
		req.TeacherIDs = append(req.TeacherIDs, id)
	}
	if _, err := s.publishSlots(r.Context(), u, 0, req); err != nil {
		s.meetingError(w, r, err)
		return
	}
	http.Redirect(w, r, "/rendez-vous?ok=publie", http.StatusSeeOther)
}

type meetingSlotData struct {
	Slot     slotRow
	Children []directory.Pupil // u's children this teacher teaches (to book)
	Cancel   bool
	Place    string
}

// meetingSlotPage is one slot: when, where, with whom; "Rejoindre la
// visio" only in the opening window.
func (s *Server) meetingSlotPage(w http.ResponseWriter, r *http.Request) {
	sl, a, ok := s.meetingSlotParam(w, r)
	if !ok {
		return
	}
	u := currentUser(r)
	now := s.meetingStore().Now()
	d := meetingSlotData{Slot: s.slotRow(sl, a, now), Cancel: sl.Booking != nil && (a.Family || a.Manage), Place: sl.Place}
	if sl.Booking == nil && u.Has(identity.Parent) {
		_, teachers, err := s.familyTeachers(r.Context(), u)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		kids, err := s.dir.Children(r.Context(), u.UserID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, k := range kids {
			if slices.ContainsFunc(teachers[k.ID], func(t childTeacher) bool { return t.TeacherID == sl.TeacherID }) {
				d.Children = append(d.Children, k)
			}
		}
	}
	s.render(w, r, http.StatusOK, "meetings_slot", view{Title: "Rendez-vous — " + sl.TeacherName, Data: d})
}

func (s *Server) meetingBookSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	sl, _, ok := s.meetingSlotParam(w, r)
	if !ok {
		return
	}
	child, err := strconv.ParseInt(r.PostForm.Get("child_id"), 10, 64)
	if err != nil || child <= 0 {
		s.notFound(w, r)
		return
	}
	if _, err := s.bookSlot(r.Context(), currentUser(r), sl, child); err != nil {
		s.meetingError(w, r, err)
		return
	}
	http.Redirect(w, r, "/rendez-vous?ok=reserve", http.StatusSeeOther)
}

func (s *Server) meetingCancelSubmit(w http.ResponseWriter, r *http.Request) {
	sl, a, ok := s.meetingSlotParam(w, r)
	if !ok {
		return
	}
	if err := s.cancelBooking(r.Context(), currentUser(r), sl, a); err != nil {
		s.meetingError(w, r, err)
		return
	}
	http.Redirect(w, r, "/rendez-vous?ok=annule", http.StatusSeeOther)
}

func (s *Server) meetingDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	sl, _, ok := s.meetingSlotParam(w, r)
	if !ok {
		return
	}
	if err := s.deleteSlot(r.Context(), currentUser(r), sl); err != nil {
		s.meetingError(w, r, err)
		return
	}
	http.Redirect(w, r, "/rendez-vous?ok=supprime", http.StatusSeeOther)
}
