package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/identity"
)

// adminPages mounts the directory administration under /admin. Every
// handler checks the object it touches against the policy table; an object
// outside the caller's scope answers 404, and teachers, pupils and parents
// get 404 on every page.
func (s *Server) adminPages(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.limitBody(s.cfg.MaxBody))
		r.Get("/admin", s.adminHome)
		r.Post("/admin/etablissements", s.adminCreateStructure)
		r.Get("/admin/etablissements/{id}", s.adminStructurePage)
		r.Post("/admin/etablissements/{id}/classes", s.adminCreateClass)
		r.Get("/admin/classes/{id}", s.adminClassPage)
		r.Post("/admin/classes/{id}/codes", s.adminClassCodes)
		r.Get("/admin/personnes", s.adminPeople)
		r.Get("/admin/personnes/nouvelle", s.adminNewPersonPage)
		r.Post("/admin/personnes/nouvelle", s.adminCreatePerson)
		r.Get("/admin/personnes/{id}", s.adminPersonPage)
		r.Post("/admin/personnes/{id}/identite", s.adminUpdatePerson)
		r.Post("/admin/personnes/{id}/acces", s.adminResetAccess)
		r.Post("/admin/personnes/{id}/desactiver", s.adminDisable)
		r.Post("/admin/personnes/{id}/reactiver", s.adminEnable)
		r.Post("/admin/personnes/{id}/classe", s.adminMovePupil)
		r.Post("/admin/personnes/{id}/responsables", s.adminLinkGuardian)
		r.Post("/admin/personnes/{id}/responsables/{parent}/retirer", s.adminUnlinkGuardian)
		r.Post("/admin/personnes/{id}/quota", s.adminSetPersonQuota)
		r.Post("/admin/classes/{id}/quota", s.adminSetClassQuota)
		r.Get("/admin/quotas", s.adminQuotasPage)
		r.Post("/admin/quotas", s.adminSetQuotas)
	})
}

// AdminNav is what every administration page needs for its menu
// (templates/_admin_nav.html): which entries to show and which is current.
type AdminNav struct {
	Current         string // "etablissements", "personnes", "nouvelle", "import", "quotas" or ""
	CanCreatePerson bool
	CanImport       bool
	CanQuotas       bool // the Documents quota defaults (the ENT administrator)
	CanHelp         bool // the assistance queue (direction, administrator)
	CanResources    bool // the médiacentre and tele-services (the ENT administrator)
}

func navFor(u *user, current string) AdminNav {
	return AdminNav{Current: current, CanCreatePerson: u.CanAny(identity.Person, identity.Create),
		CanImport: u.CanAny(identity.Import, identity.Create), CanQuotas: global(u),
		CanHelp: u.CanAny(identity.HelpRequest, identity.Update), CanResources: global(u)}
}

// adminUser returns the signed-in user when they may reach the
// administration at all; otherwise it answers 404 and returns nil.
func (s *Server) adminUser(w http.ResponseWriter, r *http.Request) *user {
	u := currentUser(r)
	if u == nil || !canAdminister(u.Principal) {
		s.notFound(w, r)
		return nil
	}
	return u
}

// administers reports whether u looks after structure st as staff, head or
// administrator (0: a person without a structure, which only a
// département-wide administrator reaches). Holding another profile there —
// parent, teacher — is not enough to reach it through these pages.
func administers(u *user, st int64) bool {
	return u.Can(identity.Activation, identity.Create, targetStructure(st))
}

// adminCan reports whether u may do a on res for one of the targets, through
// a structure u administers.
func adminCan(u *user, targets []identity.Target, res identity.Resource, a identity.Action) bool {
	for _, t := range targets {
		if administers(u, t.Structure) && u.Can(res, a, t) {
			return true
		}
	}
	return false
}

// global reports whether u is a département-wide administrator.
func global(u *user) bool {
	for _, r := range u.Roles {
		if r.Profile == identity.Admin && r.StructureID == 0 {
			return true
		}
	}
	return false
}

// power ranks a role for actions on accounts: who may reset or change whom.
func power(r identity.Role) int {
	switch r.Profile {
	case identity.Admin:
		if r.StructureID == 0 {
			return 5
		}
		return 4
	case identity.Head:
		return 3
	case identity.Staff:
		return 2
	}
	return 1
}

// standing is the highest power u holds in structure st (roles held
// département-wide count everywhere).
func standing(u *user, st int64) int {
	best := 0
	for _, r := range u.Roles {
		if r.StructureID == st || r.StructureID == 0 {
			best = max(best, power(r))
		}
	}
	return best
}

// outranks reports whether u stands high enough to reset, disable or edit
// the holder of roles. Staff accounts and above are looked after by heads
// and administrators only, each in their own structures: a CPE cannot take
// over the principal's account, nor a head another school's head. Pupils,
// parents and teachers need nothing beyond the policy table.
func outranks(u *user, roles []identity.Role) bool {
	for _, r := range roles {
		p := power(r)
		if p < 2 {
			continue
		}
		need := max(p, 3)
		if standing(u, r.StructureID) < need {
			return false
		}
	}
	return true
}

// adminStructures lists the structures u administers, by name.
func (s *Server) adminStructures(ctx context.Context, u *user) ([]directory.Structure, error) {
	all, err := s.dir.Structures(ctx)
	if err != nil {
		return nil, err
	}
	var out []directory.Structure
	for _, st := range all {
		if administers(u, st.ID) {
			out = append(out, st)
		}
	}
	return out, nil
}

// dirMessage turns a directory validation error into a French sentence for
// the form; ok is false for any other error.
func dirMessage(err error) (msg string, ok bool) {
	detail := func(sentinel error) string {
		s := err.Error()
		if i := strings.Index(s, sentinel.Error()+": "); i >= 0 {
			s = s[i+len(sentinel.Error())+2:]
		}
		return s
	}
	switch {
	case errors.Is(err, directory.ErrInvalid):
		return "Saisie incorrecte : " + detail(directory.ErrInvalid) + ".", true
	case errors.Is(err, directory.ErrConflict):
		return "Déjà enregistré : " + detail(directory.ErrConflict) + ".", true
	}
	return "", false
}

// formID reads a positive numeric form or query value; 0 otherwise.
func formID(v string) int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// ---- home and structures -------------------------------------------------------

type adminStructure struct {
	directory.Structure
	Counts directory.Counts
}

type structureForm struct {
	UAI, Name, Kind, Commune string
}

type adminHomeData struct {
	AdminNav
	Structures      []adminStructure
	CanCreate       bool
	Form            structureForm
	CanPeopleGlobal bool
}

func (s *Server) adminHomeView(r *http.Request, u *user, form structureForm) (view, error) {
	sts, err := s.adminStructures(r.Context(), u)
	if err != nil {
		return view{}, err
	}
	d := adminHomeData{AdminNav: navFor(u, "etablissements"), Form: form, CanPeopleGlobal: global(u),
		CanCreate: u.Can(identity.Structure, identity.Create, identity.Target{})}
	for _, st := range sts {
		c, err := s.dir.CountStructure(r.Context(), st.ID)
		if err != nil {
			return view{}, err
		}
		d.Structures = append(d.Structures, adminStructure{Structure: st, Counts: c})
	}
	if d.Form.Kind == "" {
		d.Form.Kind = directory.College
	}
	return view{Title: "Administration", Data: d}, nil
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	v, err := s.adminHomeView(r, u, structureForm{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin", v)
}

func (s *Server) adminCreateStructure(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	if !u.Can(identity.Structure, identity.Create, identity.Target{}) {
		s.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	f := structureForm{UAI: strings.TrimSpace(r.PostForm.Get("uai")), Name: strings.TrimSpace(r.PostForm.Get("nom")),
		Kind: r.PostForm.Get("type"), Commune: strings.TrimSpace(r.PostForm.Get("commune"))}
	var msg string
	switch {
	case f.UAI == "" || f.Name == "":
		msg = "Le code UAI et le nom de l'établissement sont obligatoires."
	case len(f.Name) > 200 || len(f.Commune) > 200:
		msg = "Le nom et la commune font au plus 200 caractères."
	}
	if msg == "" {
		id, err := directory.CreateStructure(r.Context(), s.db, directory.Structure{UAI: f.UAI, Name: f.Name, Kind: f.Kind, Commune: f.Commune})
		if err == nil {
			s.log.Info("admin: structure created", "structure", id, "by", u.UserID)
			http.Redirect(w, r, "/admin/etablissements/"+strconv.FormatInt(id, 10)+"?ok=cree", http.StatusSeeOther)
			return
		}
		var ok bool
		if msg, ok = dirMessage(err); !ok {
			s.fail(w, r, err)
			return
		}
	}
	v, err := s.adminHomeView(r, u, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Error = msg
	s.render(w, r, http.StatusBadRequest, "admin", v)
}
