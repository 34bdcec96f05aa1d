package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/identity"
)

func targetStructure(id int64) identity.Target { return identity.Target{Structure: id} }

// directoryAPI mounts the directory's JSON API. Objects outside the caller's
// scope answer 404, never 403 (SECURITY.md).
func (s *Server) directoryAPI(r chi.Router) {
	r.Get("/structures", s.apiStructures)
	r.Get("/structures/{id}/classes", s.apiStructureClasses)
	r.Get("/classes/{id}/pupils", s.apiClassPupils)
	r.Get("/people/{id}", s.apiPerson)
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
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiStructureClasses(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	id := pathID(r, "id")
	if id == 0 || !u.Can(identity.Structure, identity.Read, targetStructure(id)) {
		s.notFound(w, r)
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
		if u.Can(identity.Class, identity.Read, identity.Target{Structure: c.StructureID, Classes: []int64{c.ID}}) {
			out = append(out, c)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiClassPupils(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	c, err := s.dir.Class(r.Context(), pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Listing a class's pupils is reading people: staff of the school and
	// the class's teachers may; pupils and parents may not.
	t := identity.Target{Structure: c.StructureID, Classes: []int64{c.ID}}
	if !u.Can(identity.Class, identity.Read, t) || !u.Can(identity.Person, identity.Read, t) {
		s.notFound(w, r)
		return
	}
	pupils, err := s.dir.ClassPupils(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pupils)
}

func (s *Server) apiPerson(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	id := pathID(r, "id")
	ok, err := s.dir.CanSeePerson(r.Context(), u.Principal, identity.Read, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.notFound(w, r)
		return
	}
	p, err := s.dir.Person(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) currentYear(r *http.Request) (int64, error) {
	y, err := directory.CurrentYear(r.Context(), s.db)
	return y.ID, err
}
