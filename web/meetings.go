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

	"preau/ent/directory"
	"preau/ent/meetings"
	"preau/identity"
)

// Parent–teacher meetings (Rendez-vous, package meetings,
// docs/meetings.md): this file holds the access checks, the
// notifications and the JSON API; meetings_pages.go the French pages,
// meetings_room.go the video room. A slot the caller may not see — another
// school's, a teacher who does not teach their children, another family's
// booking — answers 404, as does every action on it they may not do.

func (s *Server) meetingStore() *meetings.Store {
	st := meetings.New(s.db)
	if s.cfg.Live != nil {
		st.SetClock(s.cfg.Live.now)
	}
	return st
}

// teacherClasses lists the classes teacher teaches this year.
func (s *Server) teacherClasses(ctx context.Context, teacher int64) ([]int64, error) {
	ts, err := s.dir.Teachings(ctx, teacher)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, t := range ts {
		if !slices.Contains(out, t.ClassID) {
			out = append(out, t.ClassID)
		}
	}
	return out, nil
}

// slotAccess says what u may do with a slot.
type slotAccess struct {
	Manage bool // its teacher, the school's direction
	// Family: the slot is booked by u or for one of u's children.
	Family bool
	// Teacher: u is the slot's teacher (a member of its room).
	Teacher bool
}

// reachSlot loads slot id when u may see it.
func (s *Server) reachSlot(ctx context.Context, u *user, id int64) (meetings.Slot, slotAccess, error) {
	sl, err := s.meetingStore().Get(ctx, id)
	if err != nil {
		return sl, slotAccess{}, err
	}
	a, ok, err := s.slotAccess(ctx, u, sl)
	if err != nil {
		return sl, a, err
	}
	if !ok {
		return meetings.Slot{}, a, meetings.ErrNotFound
	}
	return sl, a, nil
}

// slotAccess: whether u sees sl, and as whom.
func (s *Server) slotAccess(ctx context.Context, u *user, sl meetings.Slot) (slotAccess, bool, error) {
	var a slotAccess
	a.Manage = meetings.CanManage(u.Principal, sl.StructureID, sl.TeacherID, identity.Update)
	a.Teacher = sl.TeacherID == u.UserID && a.Manage
	if b := sl.Booking; b != nil && (b.ParentID == u.UserID || u.IsParentOf(b.ChildID)) {
		a.Family = true
	}
	if a.Manage || a.Family || u.Can(identity.MeetingSlot, identity.Read, sl.Target()) {
		return a, true, nil
	}
	if !u.Has(identity.Parent) || sl.Booking != nil {
		return a, false, nil // another family's booking
	}
	classes, err := s.teacherClasses(ctx, sl.TeacherID)
	if err != nil {
		return a, false, err
	}
	return a, meetings.CanSee(u.Principal, sl, classes), nil
}

// meetingSlotJSON is a slot as the API shows it: another family's booking is
// only "booked".
type meetingSlotJSON struct {
	meetings.Slot
	Booked bool   `json:"booked"`
	Room   string `json:"room,omitempty"`
	// Join is the live page of the video room while it is open (members).
	Join string `json:"join,omitempty"`
}

func (s *Server) slotOut(sl meetings.Slot, a slotAccess, now time.Time) meetingSlotJSON {
	out := meetingSlotJSON{Slot: sl, Booked: sl.Booking != nil}
	if !a.Manage && !a.Family {
		out.Booking = nil
	}
	if (a.Family || a.Manage) && sl.Booking != nil && sl.Mode == meetings.Video {
		out.Room = sl.Room()
		if sl.OpenAt(now) && (a.Family || a.Teacher) {
			out.Join = "/direct/" + sl.Room()
		}
	}
	return out
}

// childTeacher is a teacher of one of a parent's children.
type childTeacher struct {
	TeacherID int64
	Name      string
	Subjects  string
}

// familyTeachers lists, per child of u, the child and their teachers.
func (s *Server) familyTeachers(ctx context.Context, u *user) ([]directory.Pupil, map[int64][]childTeacher, error) {
	kids, err := s.dir.Children(ctx, u.UserID)
	if err != nil {
		return nil, nil, err
	}
	out := map[int64][]childTeacher{}
	names := map[int64]string{}
	for _, k := range kids {
		if k.ClassID == 0 {
			continue
		}
		ts, err := s.dir.ClassTeachings(ctx, k.ClassID)
		if err != nil {
			return nil, nil, err
		}
		for _, t := range ts {
			i := slices.IndexFunc(out[k.ID], func(c childTeacher) bool { return c.TeacherID == t.TeacherID })
			if i >= 0 {
				out[k.ID][i].Subjects += ", " + t.Subject
				continue
			}
			name, ok := names[t.TeacherID]
			if !ok {
				p, err := s.dir.Person(ctx, t.TeacherID)
				if err != nil {
					return nil, nil, err
				}
				name, names[t.TeacherID] = p.FullName(), p.FullName()
			}
			out[k.ID] = append(out[k.ID], childTeacher{TeacherID: t.TeacherID, Name: name, Subjects: t.Subject})
		}
	}
	return kids, out, nil
}

// visibleSlots lists the upcoming slots u sees: a teacher's own, the
// school's for the direction, the free slots of their children's
// teachers and their own bookings for a parent.
func (s *Server) visibleSlots(ctx context.Context, u *user, teacher int64) ([]meetings.Slot, error) {
	st := s.meetingStore()
	f := meetings.Filter{From: st.Now()}
	var out []meetings.Slot
	add := func(ss []meetings.Slot) {
		for _, sl := range ss {
			if !slices.ContainsFunc(out, func(o meetings.Slot) bool { return o.ID == sl.ID }) {
				out = append(out, sl)
			}
		}
	}
	for _, r := range u.Roles {
		switch {
		case r.Profile == identity.Admin || (r.Profile == identity.Head && r.StructureID != 0):
			g := f
			g.Structure = r.StructureID
			ss, err := st.List(ctx, g)
			if err != nil {
				return nil, err
			}
			add(ss)
		case r.Profile == identity.Teacher:
			g := f
			g.Teachers = []int64{u.UserID}
			ss, err := st.List(ctx, g)
			if err != nil {
				return nil, err
			}
			add(ss)
		case r.Profile == identity.Parent:
			_, teachers, err := s.familyTeachers(ctx, u)
			if err != nil {
				return nil, err
			}
			g := f
			g.Parent, g.FreeOrParent, g.Teachers = u.UserID, true, []int64{}
			for _, ts := range teachers {
				for _, t := range ts {
					if !slices.Contains(g.Teachers, t.TeacherID) {
						g.Teachers = append(g.Teachers, t.TeacherID)
					}
				}
			}
			ss, err := st.List(ctx, g)
			if err != nil {
				return nil, err
			}
			add(ss)
			// The bookings the children's other guardian made.
			for _, k := range u.Children {
				h := f
				h.Teachers = g.Teachers
				ss, err := st.List(ctx, h)
				if err != nil {
					return nil, err
				}
				add(slices.DeleteFunc(ss, func(sl meetings.Slot) bool { return sl.Booking == nil || sl.Booking.ChildID != k }))
			}
		}
	}
	out = slices.DeleteFunc(out, func(sl meetings.Slot) bool {
		if teacher != 0 && sl.TeacherID != teacher {
			return true
		}
		_, ok, err := s.slotAccess(ctx, u, sl)
		return err != nil || !ok
	})
	slices.SortFunc(out, func(a, b meetings.Slot) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// publishSlots checks and stores a series for u in structure st (0: u's
// one school where they may publish).
func (s *Server) publishSlots(ctx context.Context, u *user, st int64, req meetings.Series) ([]meetings.Slot, error) {
	if st == 0 {
		for _, r := range u.Roles {
			if (r.Profile == identity.Teacher || r.Profile == identity.Head) && r.StructureID != 0 {
				st = r.StructureID
				break
			}
		}
	}
	if len(req.TeacherIDs) == 0 && u.Has(identity.Teacher) {
		req.TeacherIDs = []int64{u.UserID}
	}
	slots, err := req.Slots(st, u.UserID)
	if err != nil {
		return nil, err
	}
	checked := map[int64]bool{}
	for _, sl := range slots {
		if checked[sl.TeacherID] {
			continue
		}
		checked[sl.TeacherID] = true
		roles, err := directory.Roles(ctx, s.db, sl.TeacherID)
		if err != nil {
			return nil, err
		}
		isTeacher := slices.ContainsFunc(roles, func(r identity.Role) bool { return r.Profile == identity.Teacher && r.StructureID == st })
		if st == 0 || !isTeacher || !meetings.CanManage(u.Principal, st, sl.TeacherID, identity.Create) {
			return nil, meetings.ErrNotFound
		}
	}
	return s.meetingStore().Publish(ctx, slots)
}

// bookSlot books sl for u's child.
func (s *Server) bookSlot(ctx context.Context, u *user, sl meetings.Slot, child int64) (meetings.Slot, error) {
	if !u.Can(identity.MeetingBooking, identity.Create, identity.Target{Structure: sl.StructureID, Person: child}) || !u.IsParentOf(child) {
		return sl, meetings.ErrNotFound
	}
	// The teacher must teach the child this year.
	classes, err := s.teacherClasses(ctx, sl.TeacherID)
	if err != nil {
		return sl, err
	}
	ts, err := s.dir.PersonTargets(ctx, child)
	if err != nil {
		return sl, err
	}
	taught := false
	for _, t := range ts {
		for _, c := range t.Classes {
			taught = taught || slices.Contains(classes, c)
		}
	}
	if !taught {
		return sl, &meetings.Invalid{Msg: sl.TeacherName + " n'enseigne pas à cet enfant : choisissez un de ses professeurs"}
	}
	out, err := s.meetingStore().Book(ctx, sl.ID, u.UserID, child)
	if err != nil {
		return out, err
	}
	s.meetingNotify(ctx, out, "booked", u)
	return out, nil
}

// cancelBooking frees sl, as its family or its manager, and tells the
// other side; the video room, if open, ends.
func (s *Server) cancelBooking(ctx context.Context, u *user, sl meetings.Slot, a slotAccess) error {
	if sl.Booking == nil {
		return meetings.ErrNotFound
	}
	family := a.Family && u.Can(identity.MeetingBooking, identity.Delete, identity.Target{Structure: sl.StructureID, Person: sl.Booking.ChildID})
	if !family && !meetings.CanManage(u.Principal, sl.StructureID, sl.TeacherID, identity.Update) {
		return meetings.ErrNotFound
	}
	old, err := s.meetingStore().Cancel(ctx, sl.ID)
	if err != nil {
		return err
	}
	s.endMeetingRoom(old.Room())
	if family {
		s.meetingNotify(ctx, old, "cancelled_by_family", u)
	} else {
		s.meetingNotify(ctx, old, "cancelled_by_school", u)
	}
	return nil
}

// deleteSlot removes sl (its manager); a booked slot's family is told.
func (s *Server) deleteSlot(ctx context.Context, u *user, sl meetings.Slot) error {
	if !meetings.CanManage(u.Principal, sl.StructureID, sl.TeacherID, identity.Delete) {
		return meetings.ErrNotFound
	}
	old, err := s.meetingStore().Delete(ctx, sl.ID)
	if err != nil {
		return err
	}
	if old.Booking != nil {
		s.endMeetingRoom(old.Room())
		s.meetingNotify(ctx, old, "cancelled_by_school", u)
	}
	return nil
}

// meetingNotify tells the other side of a booking through the chat hub:
// the teacher in their "Rendez-vous parents-professeurs" conversation, the
// family in "Rendez-vous — <child>" (both written by Préau). Best effort:
// a failure is logged, the booking stands.
func (s *Server) meetingNotify(ctx context.Context, sl meetings.Slot, what string, by *user) {
	if s.cfg.ChatHub == nil || sl.Booking == nil {
		return
	}
	b := sl.Booking
	when := meetings.FrDay(sl.Start) + " à " + meetings.FrClock(sl.Start)
	mode := "en visio"
	if sl.Mode == meetings.InPerson {
		mode = "au collège (" + sl.Place + ")"
	}
	var conv int64
	var err error
	var body string
	switch what {
	case "booked":
		conv, err = s.teacherMeetingChannel(ctx, sl.TeacherID, sl.StructureID)
		body = fmt.Sprintf("Nouveau rendez-vous : %s (pour %s), le %s, %s.", b.ParentName, b.ChildName, when, mode)
	case "cancelled_by_family":
		conv, err = s.teacherMeetingChannel(ctx, sl.TeacherID, sl.StructureID)
		body = fmt.Sprintf("Rendez-vous annulé par %s (pour %s) : le %s. Le créneau est de nouveau libre.", by.Name, b.ChildName, when)
	default:
		conv, err = s.familyMeetingChannel(ctx, b.ChildID, b.ChildName, sl.StructureID)
		body = fmt.Sprintf("Votre rendez-vous avec %s le %s (pour %s) est annulé par %s. Vous pouvez choisir un autre créneau sur la page Rendez-vous.",
			sl.TeacherName, when, b.ChildName, by.Name)
	}
	if err != nil || conv == 0 {
		if err != nil {
			s.log.Warn("meetings: notification channel", "slot", sl.ID, "err", err)
		}
		return
	}
	id := fmt.Sprintf("rdv-%d-%s-%d", sl.ID, what, b.BookedAt.UnixMilli())
	if _, err := s.cfg.ChatHub.Announce(ctx, conv, id, body); err != nil {
		s.log.Warn("meetings: notify", "slot", sl.ID, "err", err)
	}
}

func (s *Server) teacherMeetingChannel(ctx context.Context, teacher, structure int64) (int64, error) {
	c, err := s.chat.NoticeChannel(ctx, "rendez-vous-enseignant:"+strconv.FormatInt(teacher, 10), structure,
		"Rendez-vous parents-professeurs", []int64{teacher})
	return c.ID, err
}

func (s *Server) familyMeetingChannel(ctx context.Context, child int64, name string, structure int64) (int64, error) {
	gs, err := s.dir.Guardians(ctx, child)
	if err != nil || len(gs) == 0 {
		return 0, err
	}
	ids := make([]int64, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	c, err := s.chat.NoticeChannel(ctx, "rendez-vous:"+strconv.FormatInt(child, 10), structure, "Rendez-vous — "+name, ids)
	return c.ID, err
}

// meetingError answers a failure of the module: 404, 409 for a slot taken
// or a booking that overlaps another, 400 with the French reason, or the
// generic failure.
func (s *Server) meetingError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *meetings.Invalid
	var conflict *meetings.Conflict
	switch {
	case errors.Is(err, meetings.ErrNotFound), errors.Is(err, directory.ErrNotFound):
		s.notFound(w, r)
	case errors.Is(err, meetings.ErrTaken):
		s.error(w, r, http.StatusConflict, "Ce créneau vient d'être réservé par une autre famille : choisissez-en un autre.")
	case errors.As(err, &conflict):
		s.error(w, r, http.StatusConflict, sentence(conflict.Message()))
	case errors.As(err, &inv):
		s.error(w, r, http.StatusBadRequest, sentence(inv.Msg))
	default:
		s.fail(w, r, err)
	}
}

// ---- API -------------------------------------------------------------------

func (s *Server) meetingsAPI(r chi.Router) {
	r.Get("/meetings/slots", s.apiMeetingSlots)
	r.Post("/meetings/slots", s.apiPublishMeetingSlots)
	r.Get("/meetings/slots/{id}", s.apiMeetingSlot)
	r.Delete("/meetings/slots/{id}", s.apiDeleteMeetingSlot)
	r.Post("/meetings/slots/{id}/booking", s.apiBookMeetingSlot)
	r.Delete("/meetings/slots/{id}/booking", s.apiCancelMeetingBooking)
}

func (s *Server) apiMeetingSlots(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	var teacher int64
	if v := r.URL.Query().Get("teacher_id"); v != "" {
		var err error
		if teacher, err = strconv.ParseInt(v, 10, 64); err != nil || teacher <= 0 {
			apiError(w, http.StatusBadRequest, "bad_request", "Identifiant d'enseignant illisible (teacher_id).")
			return
		}
	}
	ss, err := s.visibleSlots(r.Context(), u, teacher)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.meetingStore().Now()
	out := make([]meetingSlotJSON, 0, len(ss))
	for _, sl := range ss {
		a, _, err := s.slotAccess(r.Context(), u, sl)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out = append(out, s.slotOut(sl, a, now))
	}
	writeJSON(w, http.StatusOK, out)
}

type meetingPublishRequest struct {
	meetings.Series
	StructureID int64 `json:"structure_id"`
}

func (s *Server) apiPublishMeetingSlots(w http.ResponseWriter, r *http.Request) {
	var req meetingPublishRequest
	if !readJSON(w, r, &req) {
		return
	}
	u := currentUser(r)
	if !u.CanAny(identity.MeetingSlot, identity.Create) {
		s.notFound(w, r)
		return
	}
	ss, err := s.publishSlots(r.Context(), u, req.StructureID, req.Series)
	if err != nil {
		s.meetingError(w, r, err)
		return
	}
	now := s.meetingStore().Now()
	out := make([]meetingSlotJSON, 0, len(ss))
	for _, sl := range ss {
		out = append(out, s.slotOut(sl, slotAccess{Manage: true}, now))
	}
	writeJSON(w, http.StatusCreated, out)
}

// meetingSlotParam loads the {id} slot when the caller sees it.
func (s *Server) meetingSlotParam(w http.ResponseWriter, r *http.Request) (meetings.Slot, slotAccess, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return meetings.Slot{}, slotAccess{}, false
	}
	sl, a, err := s.reachSlot(r.Context(), currentUser(r), id)
	if err != nil {
		s.meetingError(w, r, err)
		return sl, a, false
	}
	return sl, a, true
}

func (s *Server) apiMeetingSlot(w http.ResponseWriter, r *http.Request) {
	sl, a, ok := s.meetingSlotParam(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.slotOut(sl, a, s.meetingStore().Now()))
}

func (s *Server) apiDeleteMeetingSlot(w http.ResponseWriter, r *http.Request) {
	sl, _, ok := s.meetingSlotParam(w, r)
	if !ok {
		return
	}
	if err := s.deleteSlot(r.Context(), currentUser(r), sl); err != nil {
		s.meetingError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type meetingBookRequest struct {
	ChildID int64 `json:"child_id"`
}

func (s *Server) apiBookMeetingSlot(w http.ResponseWriter, r *http.Request) {
	var req meetingBookRequest
	if !readJSON(w, r, &req) {
		return
	}
	sl, _, ok := s.meetingSlotParam(w, r)
	if !ok {
		return
	}
	u := currentUser(r)
	out, err := s.bookSlot(r.Context(), u, sl, req.ChildID)
	if err != nil {
		s.meetingError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.slotOut(out, slotAccess{Family: true}, s.meetingStore().Now()))
}

func (s *Server) apiCancelMeetingBooking(w http.ResponseWriter, r *http.Request) {
	sl, a, ok := s.meetingSlotParam(w, r)
	if !ok {
		return
	}
	if err := s.cancelBooking(r.Context(), currentUser(r), sl, a); err != nil {
		s.meetingError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
