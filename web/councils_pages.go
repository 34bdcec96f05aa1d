package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/councils"
	"preau/ent/directory"
	"preau/ent/meetings"
	"preau/identity"
)

// The "Conseils de classe" pages: the councils the user is a member of,
// the scheduling form of the direction and vie scolaire, and a council's
// page with its members, its video room while open, and the shared agenda
// and notes (plain text, shown escaped).

func (s *Server) councilsPages(r chi.Router) {
	r.Get("/conseils", s.councilsPage)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/conseils", s.councilCreateSubmit)
	r.Get("/conseils/{id}", s.councilPage)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/conseils/{id}/notes", s.councilNotesSubmit)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/conseils/{id}/membres", s.councilMembersSubmit)
	r.Post("/conseils/{id}/supprimer", s.councilDeleteSubmit)
}

type councilRow struct {
	ID                int64
	Class, Term, When string
	Place, Join       string
}

func councilWhen(k councils.Council) string {
	return meetings.FrDay(k.Start) + ", " + meetings.FrClock(k.Start) + " – " + meetings.FrClock(k.End)
}

type councilsData struct {
	Councils []councilRow
	// Classes and Terms: the scheduling form (managers).
	Classes []directory.Class
	Terms   []directory.Term
	Today   string
}

func (s *Server) councilsPage(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ctx := r.Context()
	ks, err := s.councilStore().OfMember(ctx, u.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := councilsData{Today: s.councilNow().In(paris).Format(time.DateOnly)}
	for _, k := range ks {
		if !councils.CanRead(u.Principal, k) {
			continue
		}
		o := s.councilOut(u, k)
		d.Councils = append(d.Councils, councilRow{ID: k.ID, Class: k.ClassName, Term: k.TermName, When: councilWhen(k), Place: k.Place, Join: o.Join})
	}
	if u.CanAny(identity.Council, identity.Create) {
		y, err := directory.CurrentYear(ctx, s.db)
		if err == nil {
			sts, err := s.dir.Structures(ctx)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, st := range sts {
				if !slices.ContainsFunc(u.Roles, func(r identity.Role) bool { return r.StructureID == st.ID }) {
					continue
				}
				cs, err := s.dir.Classes(ctx, st.ID, y.ID)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				for _, c := range cs {
					if c.Kind == directory.KindClass && u.Can(identity.Council, identity.Create, classTarget(c)) {
						d.Classes = append(d.Classes, c)
					}
				}
			}
			if d.Terms, err = directory.EnsureTerms(ctx, s.db, y); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	v := view{Title: "Conseils de classe", Data: d}
	v.Flash = map[string]string{"supprime": "Le conseil est supprimé."}[r.URL.Query().Get("ok")]
	s.render(w, r, http.StatusOK, "councils", v)
}

func scheduleForm(r *http.Request) councils.Schedule {
	minutes, _ := strconv.Atoi(r.PostForm.Get("minutes"))
	classID, _ := strconv.ParseInt(r.PostForm.Get("class_id"), 10, 64)
	termID, _ := strconv.ParseInt(r.PostForm.Get("term_id"), 10, 64)
	sc := councils.Schedule{ClassID: classID, TermID: termID, Date: r.PostForm.Get("date"), Time: r.PostForm.Get("time"),
		Minutes: minutes, Place: r.PostForm.Get("place")}
	for _, role := range councils.Roles {
		for _, v := range r.PostForm["member_"+role] {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
				sc.Members = append(sc.Members, councils.Member{UserID: id, Role: role})
			}
		}
	}
	return sc
}

func (s *Server) councilCreateSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	k, err := s.scheduleCouncil(r.Context(), currentUser(r), scheduleForm(r))
	if err != nil {
		s.councilError(w, r, err)
		return
	}
	http.Redirect(w, r, "/conseils/"+strconv.FormatInt(k.ID, 10)+"?ok=cree", http.StatusSeeOther)
}

// candidate is a person who may sit on the council in a role.
type candidate struct {
	ID      int64
	Name    string
	Role    string
	Checked bool
}

type candidateGroup struct {
	Label  string
	People []candidate
}

type councilData struct {
	Council    councils.Council
	When       string
	Join       string
	Opens      string
	Members    []candidate // the members with their role labels
	Notes      bool        // may edit the agenda and notes
	Manage     bool
	Delete     bool
	Candidates []candidateGroup // by role (managers)
	Date, Time string
	Minutes    int
}

func (s *Server) councilPage(w http.ResponseWriter, r *http.Request) {
	k, ok := s.councilParam(w, r)
	if !ok {
		return
	}
	u := currentUser(r)
	o := s.councilOut(u, k)
	d := councilData{Council: k, When: councilWhen(k), Join: o.Join, Opens: meetings.FrClock(k.Start.Add(-councils.OpenBefore)),
		Notes: councils.CanEditNotes(u.Principal, k), Manage: o.CanManage, Delete: councils.CanManage(u.Principal, k, identity.Delete),
		Date: k.Start.In(paris).Format(time.DateOnly), Time: k.Start.In(paris).Format("15:04"),
		Minutes: int(k.End.Sub(k.Start) / time.Minute)}
	for _, m := range k.Members {
		d.Members = append(d.Members, candidate{ID: m.UserID, Name: m.Name, Role: councils.RoleLabel(m.Role)})
	}
	if d.Manage {
		cands, err := s.councilCandidates(r, k)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, role := range councils.Roles {
			if len(cands[role]) > 0 {
				d.Candidates = append(d.Candidates, candidateGroup{Label: councils.RoleLabel(role), People: cands[role]})
			}
		}
	}
	v := view{Title: "Conseil de classe — " + k.ClassName, Data: d}
	v.Flash = map[string]string{"cree": "Le conseil est programmé. Choisissez ses autres membres ci-dessous.",
		"notes": "L'ordre du jour et le compte rendu sont enregistrés.", "membres": "Le conseil est mis à jour."}[r.URL.Query().Get("ok")]
	s.render(w, r, http.StatusOK, "councils_view", v)
}

// councilCandidates lists who may sit on k, by role, members checked.
func (s *Server) councilCandidates(r *http.Request, k councils.Council) (map[string][]candidate, error) {
	ctx := r.Context()
	out := map[string][]candidate{}
	add := func(role string, id int64, name string) {
		if slices.ContainsFunc(out[role], func(c candidate) bool { return c.ID == id }) {
			return
		}
		checked := slices.ContainsFunc(k.Members, func(m councils.Member) bool { return m.UserID == id && m.Role == role })
		out[role] = append(out[role], candidate{ID: id, Name: name, Role: role, Checked: checked})
	}
	ts, err := s.dir.ClassTeachings(ctx, k.ClassID)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		p, err := s.dir.Person(ctx, t.TeacherID)
		if err != nil {
			return nil, err
		}
		add(councils.RoleTeacher, p.ID, p.FullName()+" ("+t.Subject+")")
	}
	for _, prof := range []identity.Profile{identity.Head, identity.Staff} {
		ms, err := s.dir.Members(ctx, directory.MemberFilter{StructureID: k.StructureID, Profile: prof, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			role := councils.RoleHead
			if prof == identity.Staff {
				role = councils.RoleStaff
				if m.Function == "CPE" || slices.ContainsFunc(k.Members, func(x councils.Member) bool { return x.UserID == m.ID && x.Role == councils.RoleCPE }) {
					role = councils.RoleCPE
				}
			}
			name := m.FullName()
			if m.Function != "" {
				name += " (" + m.Function + ")"
			}
			add(role, m.ID, name)
		}
	}
	pupils, err := s.dir.ClassPupils(ctx, k.ClassID)
	if err != nil {
		return nil, err
	}
	for _, p := range pupils {
		add(councils.RolePupilDelegate, p.ID, p.FullName())
		gs, err := s.dir.Guardians(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			add(councils.RoleParentDelegate, g.ID, g.FullName()+" (parent de "+p.FirstName+")")
		}
	}
	return out, nil
}

func (s *Server) councilNotesSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
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
	version, _ := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if _, err := s.councilStore().EditText(r.Context(), k.ID, r.PostForm.Get("agenda"), r.PostForm.Get("notes"), version, u.UserID); err != nil {
		s.councilError(w, r, err)
		return
	}
	http.Redirect(w, r, "/conseils/"+strconv.FormatInt(k.ID, 10)+"?ok=notes", http.StatusSeeOther)
}

func (s *Server) councilMembersSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	k, ok := s.councilParam(w, r)
	if !ok {
		return
	}
	if _, err := s.rescheduleCouncil(r.Context(), currentUser(r), k, scheduleForm(r)); err != nil {
		s.councilError(w, r, err)
		return
	}
	http.Redirect(w, r, "/conseils/"+strconv.FormatInt(k.ID, 10)+"?ok=membres", http.StatusSeeOther)
}

func (s *Server) councilDeleteSubmit(w http.ResponseWriter, r *http.Request) {
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
	http.Redirect(w, r, "/conseils?ok=supprime", http.StatusSeeOther)
}
