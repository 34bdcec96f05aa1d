package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/identity"
)

func targetStructure(id int64) identity.Target { return identity.Target{Structure: id} }

// directoryAPI mounts the directory's JSON API. Objects outside the caller's
// scope answer 404, never 403 (SECURITY.md), so ids cannot be probed.
func (s *Server) directoryAPI(r chi.Router) {
	r.Get("/structures", s.apiStructures)
	r.Get("/structures/{id}/classes", s.apiStructureClasses)
	r.Get("/classes/{id}", s.apiClass)
	r.Get("/classes/{id}/pupils", s.apiClassPupils)
	r.Get("/classes/{id}/teachers", s.apiClassTeachers)
	r.Get("/subjects", s.apiSubjects)
	r.Get("/years", s.apiYears)
	r.Get("/people", s.apiPeople)
	r.Get("/people/{id}", s.apiPerson)
	r.Get("/people/{id}/children", s.apiChildren)
	r.Get("/people/{id}/guardians", s.apiGuardians)
	r.Post("/people/{id}/activation", s.apiResetAccess)
	r.Post("/people/{id}/disable", s.apiSetDisabled(true))
	r.Post("/people/{id}/enable", s.apiSetDisabled(false))
}

// jsonList never encodes as null: an empty list is [].
func jsonList[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func (s *Server) apiStructures(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	all, err := s.dir.Structures(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := all[:0]
	for _, st := range all {
		if u.Can(identity.Structure, identity.Read, targetStructure(st.ID)) {
			out = append(out, st)
		}
	}
	writeJSON(w, http.StatusOK, jsonList(out))
}

func (s *Server) apiStructureClasses(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	id := pathID(r, "id")
	if id == 0 || !u.Can(identity.Structure, identity.Read, targetStructure(id)) {
		s.notFound(w, r)
		return
	}
	if _, err := s.dir.Structure(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	y, err := s.currentYear(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.dir.Classes(r.Context(), id, y)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := all[:0]
	for _, c := range all {
		if u.Can(identity.Class, identity.Read, classTarget(c)) {
			out = append(out, c)
		}
	}
	writeJSON(w, http.StatusOK, jsonList(out))
}

// readableClass loads the class of the {id} parameter when the caller may
// read it; otherwise it answers 404 and returns false.
func (s *Server) readableClass(w http.ResponseWriter, r *http.Request) (directory.Class, bool) {
	id := pathID(r, "id")
	if id == 0 {
		s.notFound(w, r)
		return directory.Class{}, false
	}
	c, err := s.dir.Class(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return c, false
	}
	if !currentUser(r).Can(identity.Class, identity.Read, classTarget(c)) {
		s.notFound(w, r)
		return c, false
	}
	return c, true
}

func (s *Server) apiClass(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.readableClass(w, r); ok {
		writeJSON(w, http.StatusOK, c)
	}
}

// canListRoster reports whether p may list every person of class c: a role
// whose Person read scope is Taught or wider and reaches the class. Self and
// Family reach single people (oneself, one's children), never a roster, even
// though a parent's Family scope reaches their child's class as a class.
func canListRoster(p *identity.Principal, c directory.Class) bool {
	for _, role := range p.Roles {
		if identity.Allowed(role.Profile, identity.Person, identity.Read) < identity.Taught {
			continue
		}
		one := *p
		one.Roles = []identity.Role{role}
		if one.Can(identity.Person, identity.Read, classTarget(c)) {
			return true
		}
	}
	return false
}

func (s *Server) apiClassPupils(w http.ResponseWriter, r *http.Request) {
	c, ok := s.readableClass(w, r)
	if !ok {
		return
	}
	// Staff of the school and the class's teachers this year may list it;
	// pupils and parents may not.
	if !canListRoster(currentUser(r).Principal, c) {
		s.notFound(w, r)
		return
	}
	pupils, err := s.dir.ClassPupils(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jsonList(pupils))
}

// personRef names a person without the rest of their directory entry.
type personRef struct {
	ID        int64  `json:"id"`
	Civility  string `json:"civility,omitempty"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

func refOf(p directory.Person) personRef {
	return personRef{ID: p.ID, Civility: p.Civility, FirstName: p.FirstName, LastName: p.LastName}
}

// classTeacher is one teacher of a class and one subject they teach there.
type classTeacher struct {
	personRef
	SubjectID int64  `json:"subject_id"`
	Subject   string `json:"subject"`
}

// apiClassTeachers lists who teaches what in a class: anyone who may read
// the class (its pupils and their parents included) sees their teachers'
// names, not their directory entries.
func (s *Server) apiClassTeachers(w http.ResponseWriter, r *http.Request) {
	c, ok := s.readableClass(w, r)
	if !ok {
		return
	}
	ts, err := s.dir.ClassTeachings(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	people := map[int64]directory.Person{}
	out := make([]classTeacher, 0, len(ts))
	for _, t := range ts {
		p, seen := people[t.TeacherID]
		if !seen {
			if p, err = s.dir.Person(r.Context(), t.TeacherID); err != nil {
				s.fail(w, r, err)
				return
			}
			people[t.TeacherID] = p
		}
		out = append(out, classTeacher{personRef: refOf(p), SubjectID: t.SubjectID, Subject: t.Subject})
	}
	writeJSON(w, http.StatusOK, out)
}

// apiSubjects and apiYears list reference data every signed-in person may
// read.
func (s *Server) apiSubjects(w http.ResponseWriter, r *http.Request) {
	all, err := s.dir.Subjects(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jsonList(all))
}

func (s *Server) apiYears(w http.ResponseWriter, r *http.Request) {
	all, err := s.dir.Years(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jsonList(all))
}

// queryInt reads a non-negative integer query parameter; def when absent.
func queryInt(r *http.Request, name string, def, max int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, false
	}
	return n, true
}

// apiPeople searches the directory of one structure. It needs Person read at
// School scope there (staff, heads), or département-wide reach without
// structure=. Teachers, pupils and parents reach people one by one.
func (s *Server) apiPeople(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	q := r.URL.Query()
	var f directory.MemberFilter
	var ok bool
	if v := q.Get("structure"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			apiError(w, http.StatusBadRequest, "bad_request", "Paramètre structure invalide.")
			return
		}
		f.StructureID = id
	}
	if f.Profile = identity.Profile(q.Get("profile")); f.Profile != "" && !f.Profile.Valid() {
		apiError(w, http.StatusBadRequest, "bad_request", "Paramètre profile invalide.")
		return
	}
	if f.Search = q.Get("q"); len(f.Search) > 100 {
		apiError(w, http.StatusBadRequest, "bad_request", "Recherche trop longue (au plus 100 caractères).")
		return
	}
	if f.Limit, ok = queryInt(r, "limit", 50, 500); !ok || f.Limit == 0 {
		apiError(w, http.StatusBadRequest, "bad_request", "Paramètre limit invalide (de 1 à 500).")
		return
	}
	if f.Offset, ok = queryInt(r, "offset", 0, 1_000_000); !ok {
		apiError(w, http.StatusBadRequest, "bad_request", "Paramètre offset invalide.")
		return
	}
	// A target with a structure and no person or class is reached only by
	// School and All scopes; with structure 0, only département-wide ones.
	if !u.Can(identity.Person, identity.Read, targetStructure(f.StructureID)) {
		s.notFound(w, r)
		return
	}
	if f.StructureID != 0 {
		if _, err := s.dir.Structure(r.Context(), f.StructureID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	members, err := s.dir.Members(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jsonList(members))
}

// reaches reports whether p may do a on resource res about the person id.
func (s *Server) reaches(ctx context.Context, p *identity.Principal, res identity.Resource, a identity.Action, id int64) (bool, error) {
	ts, err := s.dir.PersonTargets(ctx, id)
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if p.Can(res, a, t) {
			return true, nil
		}
	}
	return false, nil
}

// reachablePerson loads the person of the {id} parameter when the caller may
// do a on res about them; otherwise it answers 404 and returns false.
func (s *Server) reachablePerson(w http.ResponseWriter, r *http.Request, res identity.Resource, a identity.Action) (directory.Person, bool) {
	id := pathID(r, "id")
	if id == 0 {
		s.notFound(w, r)
		return directory.Person{}, false
	}
	ok, err := s.reaches(r.Context(), currentUser(r).Principal, res, a, id)
	if err != nil {
		s.fail(w, r, err)
		return directory.Person{}, false
	}
	if !ok {
		s.notFound(w, r)
		return directory.Person{}, false
	}
	p, err := s.dir.Person(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return p, false
	}
	return p, true
}

func (s *Server) apiPerson(w http.ResponseWriter, r *http.Request) {
	if p, ok := s.reachablePerson(w, r, identity.Person, identity.Read); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

// apiChildren lists a person's children: their guardianships, and of the
// children only those the caller may read (a parent's other child may be in
// a school the caller does not reach).
func (s *Server) apiChildren(w http.ResponseWriter, r *http.Request) {
	p, ok := s.reachablePerson(w, r, identity.Guardianship, identity.Read)
	if !ok {
		return
	}
	kids, err := s.dir.Children(r.Context(), p.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]directory.Pupil, 0, len(kids))
	for _, k := range kids {
		ok, err := s.reaches(r.Context(), currentUser(r).Principal, identity.Person, identity.Read, k.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if ok {
			out = append(out, k)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// apiGuardians names a child's guardians. Reading the link does not grant
// the guardians' directory entries (a parent sees who the other guardian
// is, not their e-mail); /people/{id} does that where the policy allows.
func (s *Server) apiGuardians(w http.ResponseWriter, r *http.Request) {
	p, ok := s.reachablePerson(w, r, identity.Guardianship, identity.Read)
	if !ok {
		return
	}
	gs, err := s.dir.Guardians(r.Context(), p.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]personRef, 0, len(gs))
	for _, g := range gs {
		out = append(out, refOf(g))
	}
	writeJSON(w, http.StatusOK, out)
}

// accountTarget loads the person of the {id} parameter when the caller may
// do a on res about them and outranks them (outranks, admin.go: a CPE cannot
// take over the head's account with a fresh activation code). Anything else
// is 404. One's own account is refused with 400: it is managed from /me.
func (s *Server) accountTarget(w http.ResponseWriter, r *http.Request, res identity.Resource, a identity.Action) (directory.Person, bool) {
	u := currentUser(r)
	id := pathID(r, "id")
	if id != 0 && id == u.UserID {
		apiError(w, http.StatusBadRequest, "own_account", "Votre propre compte se gère depuis « Mon compte ».")
		return directory.Person{}, false
	}
	p, ok := s.reachablePerson(w, r, res, a)
	if !ok {
		return p, false
	}
	roles, err := directory.Roles(r.Context(), s.db, p.ID)
	if err != nil {
		s.fail(w, r, err)
		return p, false
	}
	if !outranks(u, roles) {
		s.notFound(w, r)
		return p, false
	}
	return p, true
}

// activationResponse is a new activation code, shown once.
type activationResponse struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

// apiResetAccess clears a person's password, ends their sessions and returns
// a new activation code to hand to them.
func (s *Server) apiResetAccess(w http.ResponseWriter, r *http.Request) {
	p, ok := s.accountTarget(w, r, identity.Activation, identity.Create)
	if !ok {
		return
	}
	code, exp, err := s.auth.ResetAccess(r.Context(), p.ID, currentUser(r).UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.chatRevoke(r, p.ID)
	writeJSON(w, http.StatusCreated, activationResponse{Code: code, ExpiresAt: exp.UTC().Truncate(time.Second)})
}

// apiSetDisabled disables (every session ends at once) or enables an
// account: the ENT administrator, or the head of the person's school.
func (s *Server) apiSetDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.accountTarget(w, r, identity.Person, identity.Update)
		if !ok {
			return
		}
		err := s.auth.SetDisabled(r.Context(), p.ID, currentUser(r).UserID, disabled)
		if errors.Is(err, directory.ErrNotFound) {
			s.notFound(w, r)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if disabled {
			s.chatRevoke(r, p.ID)
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) currentYear(r *http.Request) (int64, error) {
	y, err := directory.CurrentYear(r.Context(), s.db)
	return y.ID, err
}
