package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"preau/auth"
	"preau/db"
	"preau/ent/directory"
	"preau/identity"
)

// ---- people list -----------------------------------------------------------------

const peoplePageSize = 50

type peopleData struct {
	AdminNav
	Structures []directory.Structure
	Global     bool
	Etab       int64
	Profile    identity.Profile
	Profiles   []identity.Profile
	Q          string
	Page       int
	Members    []directory.Member
	Prev, Next string
}

func (s *Server) adminPeople(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	d := peopleData{AdminNav: navFor(u, "personnes"), Global: global(u), Profiles: identity.Profiles,
		Q: strings.TrimSpace(q.Get("q")), Page: 1}
	if len(d.Q) > 100 {
		d.Q = d.Q[:100]
	}
	if p := identity.Profile(q.Get("profil")); p.Valid() {
		d.Profile = p
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && n < 100000 {
		d.Page = n
	}
	sts, err := s.adminStructures(ctx, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Structures = sts
	d.Etab = formID(q.Get("etab"))
	if q.Get("etab") != "" && d.Etab == 0 {
		s.notFound(w, r)
		return
	}
	if d.Etab == 0 && !d.Global && len(sts) > 0 {
		d.Etab = sts[0].ID // a school's staff always look at one school
	}
	if d.Etab != 0 && (!administers(u, d.Etab) || !u.Can(identity.Person, identity.Read, structureTarget(d.Etab))) {
		s.notFound(w, r)
		return
	}
	if d.Etab != 0 || d.Global {
		list, err := s.dir.Members(ctx, directory.MemberFilter{StructureID: d.Etab, Profile: d.Profile, Search: d.Q,
			Limit: peoplePageSize + 1, Offset: (d.Page - 1) * peoplePageSize})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		page := func(n int) string {
			v := url.Values{}
			if d.Etab != 0 {
				v.Set("etab", strconv.FormatInt(d.Etab, 10))
			}
			if d.Profile != "" {
				v.Set("profil", string(d.Profile))
			}
			if d.Q != "" {
				v.Set("q", d.Q)
			}
			v.Set("page", strconv.Itoa(n))
			return "/admin/personnes?" + v.Encode()
		}
		if len(list) > peoplePageSize {
			list = list[:peoplePageSize]
			d.Next = page(d.Page + 1)
		}
		if d.Page > 1 {
			d.Prev = page(d.Page - 1)
		}
		d.Members = list
	}
	s.render(w, r, http.StatusOK, "admin_people", view{Title: "Personnes", Data: d})
}

// ---- one person --------------------------------------------------------------------

// personRights says what u may do on a person's record.
type personRights struct {
	Update, Reset, Disable, Link, Unlink, Move bool
	Quota                                      bool // sets the person's Documents quota
}

// adminSubject is a person as the administration pages see them.
type adminSubject struct {
	ID      int64
	Targets []identity.Target
	Roles   []identity.Role
	Rights  personRights
}

func hasProfile(roles []identity.Role, p identity.Profile) bool {
	return slices.ContainsFunc(roles, func(r identity.Role) bool { return r.Profile == p })
}

// adminPerson loads the person of the URL when u may read them through a
// structure u administers; otherwise it answers 404.
func (s *Server) adminPerson(w http.ResponseWriter, r *http.Request, u *user) (adminSubject, bool) {
	ctx := r.Context()
	sub := adminSubject{ID: pathID(r, "id")}
	if sub.ID == 0 {
		s.notFound(w, r)
		return sub, false
	}
	var err error
	if sub.Targets, err = s.dir.PersonTargets(ctx, sub.ID); err != nil {
		s.fail(w, r, err)
		return sub, false
	}
	if !adminCan(u, sub.Targets, identity.Person, identity.Read) {
		s.notFound(w, r)
		return sub, false
	}
	if sub.Roles, err = directory.Roles(ctx, s.db, sub.ID); err != nil {
		s.fail(w, r, err)
		return sub, false
	}
	rank := outranks(u, sub.Roles)
	self := sub.ID == u.UserID
	pupil := hasProfile(sub.Roles, identity.Pupil)
	sub.Rights = personRights{
		Update: rank && adminCan(u, sub.Targets, identity.Person, identity.Update),
		Reset:  rank && !self && adminCan(u, sub.Targets, identity.Activation, identity.Create),
		Link:   pupil && adminCan(u, sub.Targets, identity.Guardianship, identity.Create),
		Unlink: adminCan(u, sub.Targets, identity.Guardianship, identity.Delete),
	}
	sub.Rights.Disable = sub.Rights.Update && !self
	sub.Rights.Move = sub.Rights.Update && pupil
	sub.Rights.Quota = s.cfg.Files != nil && adminCan(u, sub.Targets, identity.Quota, identity.Update)
	return sub, true
}

type personForm struct {
	Civility, FirstName, LastName, BirthDate, Email, INE, ExternalID string
}

func readPersonForm(f url.Values) personForm {
	t := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	return personForm{Civility: t("civilite"), FirstName: t("prenom"), LastName: t("nom"), BirthDate: t("naissance"),
		Email: t("courriel"), INE: strings.ToUpper(t("ine")), ExternalID: t("id_externe")}
}

func formOf(p directory.Person) personForm {
	return personForm{Civility: p.Civility, FirstName: p.FirstName, LastName: p.LastName, BirthDate: p.BirthDate,
		Email: p.Email, INE: p.INE, ExternalID: p.ExternalID}
}

// check returns a French message for the first invalid field, or "".
func (f personForm) check() string {
	switch {
	case f.Civility != "" && f.Civility != "M." && f.Civility != "Mme":
		return "Civilité inconnue."
	case f.FirstName == "" || f.LastName == "":
		return "Le nom et le prénom sont obligatoires."
	case len(f.FirstName) > 100 || len(f.LastName) > 100:
		return "Le nom et le prénom font au plus 100 caractères."
	case f.Email != "" && (len(f.Email) > 200 || !strings.Contains(f.Email, "@") || strings.ContainsAny(f.Email, " <>\"")):
		return "L'adresse électronique n'est pas valide."
	case len(f.ExternalID) > 64:
		return "L'identifiant externe fait au plus 64 caractères."
	}
	if f.BirthDate != "" {
		d, err := time.Parse("2006-01-02", f.BirthDate)
		if err != nil || d.Year() < 1900 || d.After(time.Now()) {
			return "La date de naissance n'est pas valide (jj/mm/aaaa)."
		}
	}
	if f.INE != "" && (len(f.INE) != 11 || strings.IndexFunc(f.INE, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z')
	}) >= 0) {
		return "L'INE compte 11 caractères, chiffres et lettres."
	}
	return ""
}

func (f personForm) person(id int64) directory.Person {
	return directory.Person{ID: id, Civility: f.Civility, FirstName: f.FirstName, LastName: f.LastName,
		BirthDate: f.BirthDate, Email: f.Email, INE: f.INE, ExternalID: f.ExternalID}
}

type roleRow struct {
	identity.Role
	Structure string
}

type classLink struct {
	directory.Class
	Structure string
	Link      bool
}

type childRow struct {
	directory.Pupil
	CanUnlink bool
}

// classChoice is one structure's classes in the "move" list.
type classChoice struct {
	Structure string
	Classes   []directory.Class
}

type personPageData struct {
	AdminNav
	Person       directory.Person
	Form         personForm
	Roles        []roleRow
	Classes      []classLink
	Guardians    []directory.Person
	Children     []childRow
	Teachings    []directory.Teaching
	Rights       personRights
	Moves        []classChoice
	CurrentClass int64
	Code         string
	CodeExpires  time.Time
	Guardian     string
	Relation     string
	Quota        *quotaCard
}

// personView builds a person's record page; form is nil to show the stored
// fields.
func (s *Server) personView(r *http.Request, u *user, sub adminSubject, form *personForm) (view, error) {
	ctx := r.Context()
	p, err := s.dir.Person(ctx, sub.ID)
	if err != nil {
		return view{}, err
	}
	sts, err := s.dir.Structures(ctx)
	if err != nil {
		return view{}, err
	}
	stName := map[int64]string{0: "Tous les établissements"}
	for _, st := range sts {
		stName[st.ID] = st.DisplayName()
	}
	d := personPageData{AdminNav: navFor(u, ""), Person: p, Form: formOf(p), Rights: sub.Rights}
	if form != nil {
		d.Form = *form
	}
	for _, role := range sub.Roles {
		d.Roles = append(d.Roles, roleRow{Role: role, Structure: stName[role.StructureID]})
	}
	if d.Teachings, err = s.dir.Teachings(ctx, sub.ID); err != nil {
		return view{}, err
	}
	taught := map[int64]bool{}
	for _, t := range d.Teachings {
		taught[t.ClassID] = true
	}
	if len(sub.Targets) > 0 {
		for _, id := range sub.Targets[0].Classes {
			if taught[id] {
				continue
			}
			c, err := s.dir.Class(ctx, id)
			if err != nil {
				return view{}, err
			}
			d.Classes = append(d.Classes, classLink{Class: c, Structure: stName[c.StructureID], Link: administers(u, c.StructureID)})
			if c.Kind == directory.KindClass {
				d.CurrentClass = c.ID
			}
		}
	}
	if d.Guardians, err = s.dir.Guardians(ctx, sub.ID); err != nil {
		return view{}, err
	}
	kids, err := s.dir.Children(ctx, sub.ID)
	if err != nil {
		return view{}, err
	}
	for _, k := range kids {
		kt, err := s.dir.PersonTargets(ctx, k.ID)
		if err != nil {
			return view{}, err
		}
		d.Children = append(d.Children, childRow{Pupil: k, CanUnlink: adminCan(u, kt, identity.Guardianship, identity.Delete)})
	}
	if sub.Rights.Move {
		if d.Moves, err = s.moveChoices(r, u); err != nil {
			return view{}, err
		}
	}
	action := ""
	if sub.Rights.Quota {
		action = "/admin/personnes/" + strconv.FormatInt(sub.ID, 10) + "/quota"
	}
	if d.Quota, err = s.quotaCardFor(ctx, u, "person", sub.ID, action); err != nil {
		return view{}, err
	}
	return view{Title: p.FullName(), Data: d}, nil
}

// canMoveInto reports whether u may put a pupil into class c.
func canMoveInto(u *user, c directory.Class) bool {
	return administers(u, c.StructureID) && u.Can(identity.Class, identity.Update, classTarget(c)) &&
		u.Can(identity.Person, identity.Update, structureTarget(c.StructureID))
}

// moveChoices lists the classes of the current year, across the structures
// u administers, that u may move a pupil into: for a département
// administrator, a 3e pupil can go to a lycée's 2nde.
func (s *Server) moveChoices(r *http.Request, u *user) ([]classChoice, error) {
	ctx := r.Context()
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		return nil, err
	}
	sts, err := s.adminStructures(ctx, u)
	if err != nil {
		return nil, err
	}
	var out []classChoice
	for _, st := range sts {
		cs, err := s.dir.Classes(ctx, st.ID, y.ID)
		if err != nil {
			return nil, err
		}
		ch := classChoice{Structure: st.DisplayName()}
		for _, c := range cs {
			if c.Kind == directory.KindClass && canMoveInto(u, c) {
				ch.Classes = append(ch.Classes, c)
			}
		}
		if len(ch.Classes) > 0 {
			out = append(out, ch)
		}
	}
	return out, nil
}

var personFlash = map[string]string{
	"identite":    "La fiche a été mise à jour.",
	"desactive":   "Le compte est désactivé ; toutes ses connexions ont été fermées.",
	"reactive":    "Le compte est réactivé.",
	"classe":      "L'élève a changé de classe.",
	"lien":        "Le responsable a été rattaché à l'élève.",
	"lien-retire": "Le lien de responsabilité a été retiré.",
	"quota":       "Le quota de l'espace Documents est enregistré.",
}

func (s *Server) adminPersonPage(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	sub, ok := s.adminPerson(w, r, u)
	if !ok {
		return
	}
	v, err := s.personView(r, u, sub, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Flash = personFlash[r.URL.Query().Get("ok")]
	s.render(w, r, http.StatusOK, "admin_person", v)
}

// personAction is the start of every POST on a person: allowed to reach
// them, allowed this action (403 when the person is visible but the action
// is not theirs to take), form parsed.
func (s *Server) personAction(w http.ResponseWriter, r *http.Request, allowed func(personRights) bool) (*user, adminSubject, bool) {
	u := s.adminUser(w, r)
	if u == nil {
		return nil, adminSubject{}, false
	}
	sub, ok := s.adminPerson(w, r, u)
	if !ok {
		return nil, sub, false
	}
	if !allowed(sub.Rights) {
		s.error(w, r, http.StatusForbidden, "Vous ne pouvez pas faire cela pour cette personne.")
		return nil, sub, false
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return nil, sub, false
	}
	return u, sub, true
}

func personURL(id int64, ok string) string {
	return "/admin/personnes/" + strconv.FormatInt(id, 10) + "?ok=" + ok
}

func (s *Server) personError(w http.ResponseWriter, r *http.Request, u *user, sub adminSubject, form *personForm, msg string) {
	v, err := s.personView(r, u, sub, form)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Error = msg
	s.render(w, r, http.StatusBadRequest, "admin_person", v)
}

func (s *Server) adminUpdatePerson(w http.ResponseWriter, r *http.Request) {
	u, sub, ok := s.personAction(w, r, func(p personRights) bool { return p.Update })
	if !ok {
		return
	}
	f := readPersonForm(r.PostForm)
	msg := f.check()
	if msg == "" {
		err := directory.UpdatePerson(r.Context(), s.db, f.person(sub.ID))
		if err == nil {
			s.log.Info("admin: person updated", "user", sub.ID, "by", u.UserID)
			http.Redirect(w, r, personURL(sub.ID, "identite"), http.StatusSeeOther)
			return
		}
		if msg, ok = dirMessage(err); !ok {
			s.fail(w, r, err)
			return
		}
	}
	s.personError(w, r, u, sub, &f, msg)
}

// adminResetAccess clears the password, ends every session and shows a new
// activation code once, for staff to hand to the person.
func (s *Server) adminResetAccess(w http.ResponseWriter, r *http.Request) {
	u, sub, ok := s.personAction(w, r, func(p personRights) bool { return p.Reset })
	if !ok {
		return
	}
	code, exp, err := s.auth.ResetAccess(r.Context(), sub.ID, u.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.chatRevoke(r, sub.ID)
	v, err := s.personView(r, u, sub, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := v.Data.(personPageData)
	d.Code, d.CodeExpires = code, exp
	v.Data = d
	v.Flash = "L'accès a été réinitialisé : le mot de passe est effacé et les connexions sont fermées."
	s.render(w, r, http.StatusOK, "admin_person", v)
}

func (s *Server) adminDisable(w http.ResponseWriter, r *http.Request) { s.setDisabled(w, r, true) }
func (s *Server) adminEnable(w http.ResponseWriter, r *http.Request)  { s.setDisabled(w, r, false) }

func (s *Server) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) {
	u, sub, ok := s.personAction(w, r, func(p personRights) bool { return p.Disable })
	if !ok {
		return
	}
	if err := s.auth.SetDisabled(r.Context(), sub.ID, u.UserID, disabled); err != nil {
		s.fail(w, r, err)
		return
	}
	if disabled {
		s.chatRevoke(r, sub.ID)
	}
	flash := "reactive"
	if disabled {
		flash = "desactive"
	}
	http.Redirect(w, r, personURL(sub.ID, flash), http.StatusSeeOther)
}

// adminMovePupil moves a pupil to another class of the current year, in the
// same structure or another one: same account, same login.
func (s *Server) adminMovePupil(w http.ResponseWriter, r *http.Request) {
	u, sub, ok := s.personAction(w, r, func(p personRights) bool { return p.Move })
	if !ok {
		return
	}
	ctx := r.Context()
	c, err := s.dir.Class(ctx, formID(r.PostForm.Get("classe")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !canMoveInto(u, c) {
		s.notFound(w, r)
		return
	}
	if c.YearID != y.ID || c.Kind != directory.KindClass {
		s.personError(w, r, u, sub, nil, "Choisissez une classe de l'année en cours.")
		return
	}
	if err := s.db.InTx(ctx, func(tx *db.Tx) error { return directory.Transfer(ctx, tx, sub.ID, c.ID) }); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("admin: pupil moved", "user", sub.ID, "class", c.ID, "by", u.UserID)
	http.Redirect(w, r, personURL(sub.ID, "classe"), http.StatusSeeOther)
}

// adminLinkGuardian makes the person with the given login a guardian of the
// pupil; they become a parent in the pupil's structures.
func (s *Server) adminLinkGuardian(w http.ResponseWriter, r *http.Request) {
	u, sub, ok := s.personAction(w, r, func(p personRights) bool { return p.Link })
	if !ok {
		return
	}
	ctx := r.Context()
	login := strings.ToLower(strings.TrimSpace(r.PostForm.Get("identifiant")))
	relation := strings.TrimSpace(r.PostForm.Get("lien"))
	fail := func(msg string) {
		v, err := s.personView(r, u, sub, nil)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d := v.Data.(personPageData)
		d.Guardian, d.Relation = login, relation
		v.Data, v.Error = d, msg
		s.render(w, r, http.StatusBadRequest, "admin_person", v)
	}
	if login == "" || len(login) > 100 {
		fail("Indiquez l'identifiant du responsable.")
		return
	}
	if len(relation) > 40 {
		fail("Le lien de parenté fait au plus 40 caractères.")
		return
	}
	parent, err := directory.PersonBy(ctx, s.db, "login", login)
	if err != nil {
		if errors.Is(err, directory.ErrNotFound) {
			fail("Aucun compte n'a l'identifiant « " + login + " ».")
			return
		}
		s.fail(w, r, err)
		return
	}
	proles, err := directory.Roles(ctx, s.db, parent.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if parent.ID == sub.ID || hasProfile(proles, identity.Pupil) {
		fail("Un élève ne peut pas être le responsable d'un élève.")
		return
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := directory.LinkGuardian(ctx, tx, parent.ID, sub.ID, relation); err != nil {
			return err
		}
		for _, role := range sub.Roles {
			if role.Profile == identity.Pupil {
				if err := directory.AddRole(ctx, tx, parent.ID, role.StructureID, identity.Parent, ""); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		if msg, ok := dirMessage(err); ok {
			fail(msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.log.Info("admin: guardian linked", "child", sub.ID, "parent", parent.ID, "by", u.UserID)
	http.Redirect(w, r, personURL(sub.ID, "lien"), http.StatusSeeOther)
}

// adminUnlinkGuardian removes a guardianship (the URL names the child). The
// parent keeps their parent role only in structures where another of their
// children still is.
func (s *Server) adminUnlinkGuardian(w http.ResponseWriter, r *http.Request) {
	u, sub, ok := s.personAction(w, r, func(p personRights) bool { return p.Unlink })
	if !ok {
		return
	}
	ctx := r.Context()
	parentID := pathID(r, "parent")
	guardians, err := s.dir.Guardians(ctx, sub.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !slices.ContainsFunc(guardians, func(p directory.Person) bool { return p.ID == parentID }) {
		s.notFound(w, r)
		return
	}
	kids, err := s.dir.Children(ctx, parentID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	keep := map[int64]bool{}
	for _, k := range kids {
		if k.ID == sub.ID || k.ClassID == 0 {
			continue
		}
		c, err := s.dir.Class(ctx, k.ClassID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		keep[c.StructureID] = true
	}
	proles, err := directory.Roles(ctx, s.db, parentID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := directory.UnlinkGuardian(ctx, tx, parentID, sub.ID); err != nil {
			return err
		}
		for _, role := range proles {
			if role.Profile == identity.Parent && role.StructureID != 0 && !keep[role.StructureID] {
				if err := directory.RemoveRole(ctx, tx, parentID, role.StructureID, identity.Parent); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("admin: guardian unlinked", "child", sub.ID, "parent", parentID, "by", u.UserID)
	back := sub.ID
	if formID(r.PostForm.Get("retour")) == parentID {
		back = parentID
	}
	http.Redirect(w, r, personURL(back, "lien-retire"), http.StatusSeeOther)
}

// ---- new person ----------------------------------------------------------------------

// creatable are the profiles a person may be created with here; ENT
// administrators are made from the command line.
var creatable = []identity.Profile{identity.Pupil, identity.Parent, identity.Teacher, identity.Staff, identity.Head}

type newPersonData struct {
	AdminNav
	Structures []directory.Structure
	Classes    []classChoice
	Profiles   []identity.Profile
	Form       personForm
	Etab       int64
	Profile    identity.Profile
	Function   string
	Class      int64
	Created    *directory.Person
	Code       string
	Expires    time.Time
}

// newPersonView lists the structures where u may create people and the
// classes of the current year there.
func (s *Server) newPersonView(r *http.Request, u *user, d newPersonData) (view, error) {
	ctx := r.Context()
	d.AdminNav, d.Profiles = navFor(u, "nouvelle"), creatable
	sts, err := s.adminStructures(ctx, u)
	if err != nil {
		return view{}, err
	}
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		return view{}, err
	}
	for _, st := range sts {
		if !u.Can(identity.Person, identity.Create, structureTarget(st.ID)) {
			continue
		}
		d.Structures = append(d.Structures, st)
		cs, err := s.dir.Classes(ctx, st.ID, y.ID)
		if err != nil {
			return view{}, err
		}
		ch := classChoice{Structure: st.DisplayName()}
		for _, c := range cs {
			if c.Kind == directory.KindClass {
				ch.Classes = append(ch.Classes, c)
			}
		}
		if len(ch.Classes) > 0 {
			d.Classes = append(d.Classes, ch)
		}
	}
	return view{Title: "Nouvelle personne", Data: d}, nil
}

func (s *Server) adminNewPersonPage(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	if !u.CanAny(identity.Person, identity.Create) {
		s.notFound(w, r)
		return
	}
	d := newPersonData{Etab: formID(r.URL.Query().Get("etab")), Profile: identity.Pupil}
	if p := identity.Profile(r.URL.Query().Get("profil")); slices.Contains(creatable, p) {
		d.Profile = p
	}
	v, err := s.newPersonView(r, u, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_person_new", v)
}

// adminCreatePerson creates a person with a profile in a structure (and a
// class for a pupil) and an activation code, in one transaction, and shows
// the code once.
func (s *Server) adminCreatePerson(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	if !u.CanAny(identity.Person, identity.Create) {
		s.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx := r.Context()
	f := r.PostForm
	d := newPersonData{Form: readPersonForm(f), Etab: formID(f.Get("etab")), Profile: identity.Profile(f.Get("profil")),
		Function: strings.TrimSpace(f.Get("fonction")), Class: formID(f.Get("classe"))}
	msg := d.Form.check()
	if d.Etab == 0 || !administers(u, d.Etab) || !u.Can(identity.Person, identity.Create, structureTarget(d.Etab)) {
		msg = "Choisissez un établissement."
	} else if !slices.Contains(creatable, d.Profile) {
		msg = "Choisissez un profil."
	} else if len(d.Function) > 60 || strings.IndexFunc(d.Function, unicode.IsControl) >= 0 {
		msg = "La fonction fait au plus 60 caractères."
	}
	var class directory.Class
	if msg == "" && d.Profile == identity.Pupil {
		y, err := directory.CurrentYear(ctx, s.db)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var cerr error
		if d.Class != 0 {
			class, cerr = s.dir.Class(ctx, d.Class)
		}
		if d.Class == 0 || cerr != nil || class.StructureID != d.Etab || class.YearID != y.ID || class.Kind != directory.KindClass {
			msg = "Choisissez la classe de l'élève, dans l'établissement choisi."
		}
	}
	if msg == "" {
		var created directory.Person
		var code string
		var exp time.Time
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			var err error
			if created, err = directory.CreatePerson(ctx, tx, d.Form.person(0)); err != nil {
				return err
			}
			fn := d.Function
			if d.Profile == identity.Pupil || d.Profile == identity.Parent {
				fn = ""
			}
			if err := directory.AddRole(ctx, tx, created.ID, d.Etab, d.Profile, fn); err != nil {
				return err
			}
			if d.Profile == identity.Pupil {
				if err := directory.Enrol(ctx, tx, created.ID, class.ID); err != nil {
					return err
				}
			}
			code, exp, err = auth.IssueCode(ctx, tx, created.ID, u.UserID, auth.ActivationTTL)
			return err
		})
		if err == nil {
			s.log.Info("admin: person created", "user", created.ID, "structure", d.Etab, "profile", d.Profile, "by", u.UserID)
			d = newPersonData{Created: &created, Code: code, Expires: exp, Etab: d.Etab, Profile: d.Profile}
			v, err := s.newPersonView(r, u, d)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			v.Title = "Compte créé"
			v.Flash = "Le compte de " + created.FullName() + " a été créé."
			s.render(w, r, http.StatusOK, "admin_person_new", v)
			return
		}
		var ok bool
		if msg, ok = dirMessage(err); !ok {
			s.fail(w, r, err)
			return
		}
	}
	v, err := s.newPersonView(r, u, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Error = msg
	s.render(w, r, http.StatusBadRequest, "admin_person_new", v)
}
