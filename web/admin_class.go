package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"preau/auth"
	"preau/db"
	"preau/ent/directory"
	"preau/identity"
)

// levels are the levels offered when creating a class; "" lets LevelOf
// guess from the name.
var levels = []string{"6e", "5e", "4e", "3e", "2nde", "1re", "Tle"}

type classRow struct {
	directory.Class
	Pupils int
}

type classForm struct {
	Name, Level, Kind string
}

type profileLink struct {
	Profile identity.Profile
	Label   string
	Count   int
}

type structurePageData struct {
	AdminNav
	Structure       directory.Structure
	Year            string
	Classes         []classRow
	Groups          []classRow
	People          []profileLink
	CanCreateClass  bool
	CanCreatePeople bool
	Form            classForm
	Levels          []string
}

func structureTarget(id int64) identity.Target { return identity.Target{Structure: id} }

// canAdminStructure is the check for a structure's page: administered by u,
// and its classes readable.
func canAdminStructure(u *user, id int64) bool {
	t := structureTarget(id)
	return id != 0 && administers(u, id) && u.Can(identity.Structure, identity.Read, t) && u.Can(identity.Class, identity.Read, t)
}

func (s *Server) structureView(r *http.Request, u *user, id int64, form classForm) (view, error) {
	ctx := r.Context()
	st, err := s.dir.Structure(ctx, id)
	if err != nil {
		return view{}, err
	}
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		return view{}, err
	}
	all, err := s.dir.Classes(ctx, id, y.ID)
	if err != nil {
		return view{}, err
	}
	counts, err := s.dir.CountStructure(ctx, id)
	if err != nil {
		return view{}, err
	}
	d := structurePageData{AdminNav: navFor(u, ""), Structure: st, Year: y.Label, Form: form, Levels: levels,
		CanCreateClass:  u.Can(identity.Class, identity.Create, structureTarget(id)),
		CanCreatePeople: u.Can(identity.Person, identity.Create, structureTarget(id)),
		People: []profileLink{
			{identity.Pupil, "Élèves", counts.Pupils},
			{identity.Parent, "Parents", counts.Parents},
			{identity.Teacher, "Enseignants", counts.Teachers},
			{identity.Staff, "Personnels", -1},
			{identity.Head, "Direction", -1},
		}}
	for _, c := range all {
		pupils, err := s.dir.ClassPupils(ctx, c.ID)
		if err != nil {
			return view{}, err
		}
		row := classRow{Class: c, Pupils: len(pupils)}
		if c.Kind == directory.KindGroup {
			d.Groups = append(d.Groups, row)
		} else {
			d.Classes = append(d.Classes, row)
		}
	}
	if d.Form.Kind == "" {
		d.Form.Kind = directory.KindClass
	}
	return view{Title: st.DisplayName(), Data: d}, nil
}

func (s *Server) adminStructurePage(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	id := pathID(r, "id")
	if !canAdminStructure(u, id) {
		s.notFound(w, r)
		return
	}
	v, err := s.structureView(r, u, id, classForm{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("ok") == "cree" {
		v.Flash = "L'établissement a été créé."
	}
	s.render(w, r, http.StatusOK, "admin_structure", v)
}

func (s *Server) adminCreateClass(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	id := pathID(r, "id")
	if !canAdminStructure(u, id) || !u.Can(identity.Class, identity.Create, structureTarget(id)) {
		s.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx := r.Context()
	f := classForm{Name: strings.TrimSpace(r.PostForm.Get("nom")), Level: r.PostForm.Get("niveau"), Kind: r.PostForm.Get("type")}
	var msg string
	switch {
	case f.Name == "":
		msg = "Le nom de la classe ou du groupe est obligatoire."
	case len(f.Name) > 60:
		msg = "Le nom fait au plus 60 caractères."
	case f.Level != "" && !slices.Contains(levels, f.Level):
		msg = "Niveau inconnu."
	case f.Kind != directory.KindClass && f.Kind != directory.KindGroup:
		msg = "Choisissez « classe » ou « groupe »."
	}
	if msg == "" {
		y, err := directory.CurrentYear(ctx, s.db)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		existing, err := s.dir.Classes(ctx, id, y.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// EnsureClass would quietly return the existing class; a form says so.
		if slices.ContainsFunc(existing, func(c directory.Class) bool { return strings.EqualFold(c.Name, f.Name) }) {
			msg = "La classe ou le groupe « " + f.Name + " » existe déjà cette année."
		} else {
			cid, err := directory.EnsureClass(ctx, s.db, directory.Class{StructureID: id, YearID: y.ID, Name: f.Name, Level: f.Level, Kind: f.Kind})
			if err == nil {
				s.log.Info("admin: class created", "class", cid, "structure", id, "by", u.UserID)
				http.Redirect(w, r, "/admin/classes/"+strconv.FormatInt(cid, 10)+"?ok=creee", http.StatusSeeOther)
				return
			}
			var ok bool
			if msg, ok = dirMessage(err); !ok {
				s.fail(w, r, err)
				return
			}
		}
	}
	v, err := s.structureView(r, u, id, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Error = msg
	s.render(w, r, http.StatusBadRequest, "admin_structure", v)
}

// ---- one class -------------------------------------------------------------------

type teachingRow struct {
	Teacher directory.Person
	Subject string
}

type classPageData struct {
	AdminNav
	Class        directory.Class
	Structure    directory.Structure
	Pupils       []directory.Pupil
	Teachings    []teachingRow
	NotActivated int
	CanCodes     bool
	Quota        *quotaCard
}

func classTarget(c directory.Class) identity.Target {
	return identity.Target{Structure: c.StructureID, Classes: []int64{c.ID}}
}

// adminClass loads the class of the URL when u may see its pupils through
// these pages; otherwise it answers 404.
func (s *Server) adminClass(w http.ResponseWriter, r *http.Request, u *user) (directory.Class, bool) {
	id := pathID(r, "id")
	c, err := s.dir.Class(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return c, false
	}
	t := classTarget(c)
	if !administers(u, c.StructureID) || !u.Can(identity.Class, identity.Read, t) || !u.Can(identity.Person, identity.Read, t) {
		s.notFound(w, r)
		return c, false
	}
	return c, true
}

func (s *Server) classView(r *http.Request, u *user, c directory.Class) (view, error) {
	ctx := r.Context()
	st, err := s.dir.Structure(ctx, c.StructureID)
	if err != nil {
		return view{}, err
	}
	pupils, err := s.dir.ClassPupils(ctx, c.ID)
	if err != nil {
		return view{}, err
	}
	ts, err := s.dir.ClassTeachings(ctx, c.ID)
	if err != nil {
		return view{}, err
	}
	d := classPageData{AdminNav: navFor(u, ""), Class: c, Structure: st, Pupils: pupils,
		CanCodes: u.Can(identity.Activation, identity.Create, classTarget(c))}
	action := ""
	if s.cfg.Files != nil && adminCan(u, []identity.Target{classTarget(c)}, identity.Quota, identity.Update) {
		action = "/admin/classes/" + strconv.FormatInt(c.ID, 10) + "/quota"
	}
	if d.Quota, err = s.quotaCardFor(ctx, u, "class", c.ID, action); err != nil {
		return view{}, err
	}
	for _, p := range pupils {
		if needsCode(p.Person) {
			d.NotActivated++
		}
	}
	names := map[int64]directory.Person{}
	for _, t := range ts {
		p, ok := names[t.TeacherID]
		if !ok {
			if p, err = s.dir.Person(ctx, t.TeacherID); err != nil {
				return view{}, err
			}
			names[t.TeacherID] = p
		}
		d.Teachings = append(d.Teachings, teachingRow{Teacher: p, Subject: t.Subject})
	}
	return view{Title: "Classe " + c.Name, Data: d}, nil
}

// needsCode reports whether a pupil should get an activation code with the
// class: not activated yet, and not disabled (a code would not work).
func needsCode(p directory.Person) bool { return !p.Activated && !p.Disabled }

func (s *Server) adminClassPage(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	c, ok := s.adminClass(w, r, u)
	if !ok {
		return
	}
	v, err := s.classView(r, u, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch r.URL.Query().Get("ok") {
	case "creee":
		v.Flash = "La classe a été créée."
	case "quota":
		v.Flash = "Le quota de l'espace Documents de la classe est enregistré."
	}
	s.render(w, r, http.StatusOK, "admin_class", v)
}

// codesHeader is the first line of the activation codes file.
var codesHeader = []string{"Identifiant", "Nom", "Prénom", "Classe", "Code d'activation", "Valable jusqu'au"}

// adminClassCodes issues new activation codes (72 h) to the pupils of the
// class who have not activated their account, and answers them as a CSV file
// for the spreadsheet the school prints from. Earlier unused codes of those
// pupils stop working.
func (s *Server) adminClassCodes(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	c, ok := s.adminClass(w, r, u)
	if !ok {
		return
	}
	if !u.Can(identity.Activation, identity.Create, classTarget(c)) {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	pupils, err := s.dir.ClassPupils(ctx, c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var todo []directory.Pupil
	for _, p := range pupils {
		if needsCode(p.Person) {
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		v, err := s.classView(r, u, c)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Flash = "Tous les élèves de la classe ont déjà activé leur compte : aucun code n'a été généré."
		s.render(w, r, http.StatusOK, "admin_class", v)
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\uFEFF") // BOM: spreadsheets then read the file as UTF-8
	cw := csv.NewWriter(&buf)
	cw.Comma = ';'
	cw.UseCRLF = true
	cw.Write(codesHeader)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, p := range todo {
			code, exp, err := auth.IssueCode(ctx, tx, p.ID, u.UserID, auth.ActivationTTL)
			if err != nil {
				return err
			}
			cw.Write([]string{p.Login, cellSafe(p.LastName), cellSafe(p.FirstName), cellSafe(c.Name), code, frDateShort(exp)})
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cw.Flush()
	s.log.Info("security: activation codes issued", "class", c.ID, "count", len(todo), "by", u.UserID)
	name := fmt.Sprintf("codes-activation-%s-%s.csv", directory.LoginBase(c.Name, ""), time.Now().In(paris).Format("2006-01-02"))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// cellSafe keeps a spreadsheet from reading a name as a formula (OWASP CSV
// injection): a leading = + - @ or tab gets a quote in front.
func cellSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func frDateShort(t time.Time) string { return t.In(paris).Format("02/01/2006 15:04") }
