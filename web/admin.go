package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/identity"
)

// adminPages mounts the directory administration under /admin.
func (s *Server) adminPages(r chi.Router) {
	r.Get("/admin", s.adminHome)
}

type adminStructure struct {
	directory.Structure
	Counts directory.Counts
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if !canAdminister(u.Principal) {
		s.notFound(w, r)
		return
	}
	all, err := s.dir.Structures(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var list []adminStructure
	for _, st := range all {
		if !u.Can(identity.Structure, identity.Read, targetStructure(st.ID)) {
			continue
		}
		c, err := s.dir.CountStructure(r.Context(), st.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		list = append(list, adminStructure{Structure: st, Counts: c})
	}
	s.render(w, r, http.StatusOK, "admin", view{Title: "Administration", Data: list})
}
