package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/councils"
	"preau/ent/directory"
	"preau/identity"
)

// Class councils (Conseils de classe, package councils,
// docs/meetings.md): the direction or the vie scolaire schedule a
// council per class and term; the class's teachers and the organiser are
// members from the start, the head of school, the CPE and the pupil and
// parent delegates are chosen by name. Only members see a council (404 for
// anyone else); they edit its agenda and notes and join its video room
// (meetings_room.go) while it is open. This file holds the checks and the
// JSON API; councils_pages.go the French pages.

func (s *Server) councilStore() *councils.Store {
	st := councils.New(s.db)
	if s.cfg.Live != nil {
		st.SetClock(s.cfg.Live.now)
	}
	return st
}

func (s *Server) councilNow() time.Time {
	if s.cfg.Live != nil {
		return s.cfg.Live.now()
	}
	return time.Now()
}

// reachCouncil loads council id when u is a member.
func (s *Server) reachCouncil(ctx context.Context, u *user, id int64) (councils.Council, error) {
	k, err := s.councilStore().Get(ctx, id)
	if err != nil {
		return k, err
	}
	if !councils.CanRead(u.Principal, k) {
		return councils.Council{}, councils.ErrNotFound
	}
	return k, nil
}

// scheduleCouncil creates a council for u: the class must be of this
// year and u may schedule its councils; the class's teachers and u join
// the members chosen.
func (s *Server) scheduleCouncil(ctx context.Context, u *user, sc councils.Schedule) (councils.Council, error) {
	c, err := s.dir.Class(ctx, sc.ClassID)
	if err != nil {
		return councils.Council{}, councils.ErrNotFound
	}
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil || c.YearID != y.ID || !u.Can(identity.Council, identity.Create, classTarget(c)) {
		return councils.Council{}, councils.ErrNotFound
	}
	if _, err := directory.EnsureTerms(ctx, s.db, y); err != nil {
		return councils.Council{}, err
	}
	ts, err := s.dir.ClassTeachings(ctx, c.ID)
	if err != nil {
		return councils.Council{}, err
	}
	for _, t := range ts {
		sc.Members = append(sc.Members, councils.Member{UserID: t.TeacherID, Role: councils.RoleTeacher})
	}
	role := councils.RoleStaff
	if u.InStructure(identity.Head, c.StructureID) {
		role = councils.RoleHead
	}
	sc.Members = append(sc.Members, councils.Member{UserID: u.UserID, Role: role})
	sc.Members = dedupMembers(sc.Members)
	return s.councilStore().Create(ctx, c.StructureID, sc, u.UserID)
}

// dedupMembers keeps each person once, with the first role given.
func dedupMembers(ms []councils.Member) []councils.Member {
	var out []councils.Member
	for _, m := range ms {
		if !slices.ContainsFunc(out, func(o councils.Member) bool { return o.UserID == m.UserID }) {
			out = append(out, m)
		}
	}
	return out
}

// rescheduleCouncil changes the date, place and members (a manager; the
// manager stays a member).
func (s *Server) rescheduleCouncil(ctx context.Context, u *user, k councils.Council, sc councils.Schedule) (councils.Council, error) {
	if !councils.CanManage(u.Principal, k, identity.Update) {
		return k, councils.ErrNotFound
	}
	if !slices.ContainsFunc(sc.Members, func(m councils.Member) bool { return m.UserID == u.UserID }) {
		for _, m := range k.Members {
			if m.UserID == u.UserID {
				sc.Members = append(sc.Members, m)
			}
		}
	}
	out, err := s.councilStore().Reschedule(ctx, k.ID, councils.Schedule{Date: sc.Date, Time: sc.Time, Minutes: sc.Minutes,
		Place: sc.Place, Members: dedupMembers(sc.Members)}, u.UserID)
	if err == nil && slices.ContainsFunc(k.Members, func(m councils.Member) bool { return !out.IsMember(m.UserID) }) {
		// Someone taken off loses the room at once (the others rejoin).
		s.endMeetingRoom(k.Room())
	}
	return out, err
}

// councilError answers a failure of the module.
func (s *Server) councilError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *councils.Invalid
	switch {
	case errors.Is(err, councils.ErrNotFound), errors.Is(err, directory.ErrNotFound):
		s.notFound(w, r)
	case errors.Is(err, councils.ErrStale):
		s.error(w, r, http.StatusConflict, "Quelqu'un a modifié l'ordre du jour ou le compte rendu entre-temps : rechargez la page, reportez vos changements et enregistrez de nouveau.")
	case errors.As(err, &inv):
		s.error(w, r, http.StatusBadRequest, sentence(inv.Msg))
	default:
		s.fail(w, r, err)
	}
}

// councilJSON is a council with what the caller may do.
type councilJSON struct {
	councils.Council
	Room      string `json:"room"`
	Join      string `json:"join,omitempty"` // the live page while the room is open
	CanManage bool   `json:"can_manage"`
}

func (s *Server) councilOut(u *user, k councils.Council) councilJSON {
	out := councilJSON{Council: k, Room: k.Room(), CanManage: councils.CanManage(u.Principal, k, identity.Update)}
	if k.OpenAt(s.councilNow()) {
		out.Join = "/direct/" + k.Room()
	}
	return out
}

// ---- API -------------------------------------------------------------------

func (s *Server) councilsAPI(r chi.Router) {
	r.Get("/councils", s.apiCouncils)
	r.Post("/councils", s.apiCreateCouncil)
	r.Get("/councils/{id}", s.apiCouncil)
	r.Put("/councils/{id}", s.apiRescheduleCouncil)
	r.Put("/councils/{id}/notes", s.apiCouncilNotes)
	r.Delete("/councils/{id}", s.apiDeleteCouncil)
}

func (s *Server) apiCouncils(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ks, err := s.councilStore().OfMember(r.Context(), u.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []councilJSON{}
	for _, k := range ks {
		if councils.CanRead(u.Principal, k) {
			out = append(out, s.councilOut(u, k))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiCreateCouncil(w http.ResponseWriter, r *http.Request) {
	var sc councils.Schedule
	if !readJSON(w, r, &sc) {
		return
	}
	u := currentUser(r)
	k, err := s.scheduleCouncil(r.Context(), u, sc)
	if err != nil {
		s.councilError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.councilOut(u, k))
}

// councilParam loads the {id} council when the caller is a member.
func (s *Server) councilParam(w http.ResponseWriter, r *http.Request) (councils.Council, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return councils.Council{}, false
	}
	k, err := s.reachCouncil(r.Context(), currentUser(r), id)
	if err != nil {
		s.councilError(w, r, err)
		return k, false
	}
	return k, true
}

func (s *Server) apiCouncil(w http.ResponseWriter, r *http.Request) {
	k, ok := s.councilParam(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.councilOut(currentUser(r), k))
}

func (s *Server) apiRescheduleCouncil(w http.ResponseWriter, r *http.Request) {
	var sc councils.Schedule
	if !readJSON(w, r, &sc) {
		return
	}
	k, ok := s.councilParam(w, r)
	if !ok {
		return
	}
	u := currentUser(r)
	out, err := s.rescheduleCouncil(r.Context(), u, k, sc)
	if err != nil {
		s.councilError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.councilOut(u, out))
}

type councilNotesRequest struct {
	Agenda  string `json:"agenda"`
	Notes   string `json:"notes"`
	Version int64  `json:"version"`
}

func (s *Server) apiCouncilNotes(w http.ResponseWriter, r *http.Request) {
	var req councilNotesRequest
	if !readJSON(w, r, &req) {
		return
	}
	k, ok := s.councilParam(w, r)
	if !ok {
		return
	}
	u := currentUser(r)
	if !councils.CanEditNotes(u.Principal, k) {
		s.notFound(w, r)
		return
	}
	out, err := s.councilStore().EditText(r.Context(), k.ID, req.Agenda, req.Notes, req.Version, u.UserID)
	if err != nil {
		s.councilError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.councilOut(u, out))
}

func (s *Server) apiDeleteCouncil(w http.ResponseWriter, r *http.Request) {
	k, ok := s.councilParam(w, r)
	if !ok {
		return
	}
	if !councils.CanManage(currentUser(r).Principal, k, identity.Delete) {
		s.notFound(w, r)
		return
	}
	if err := s.councilStore().Delete(r.Context(), k.ID); err != nil {
		s.councilError(w, r, err)
		return
	}
	s.endMeetingRoom(k.Room())
	w.WriteHeader(http.StatusNoContent)
}
