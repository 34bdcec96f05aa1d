package csvimport

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"preau/ent/directory"
	"preau/identity"
)

// parent applies one row of a parents file: the account, the parent role
// and the link to the child. A parent of several children has one row per
// child.
func (im *importer) parent(ctx context.Context, r *row) error {
	last, first := r.name(fLast), r.name(fFirst)
	civ := civility(r.text(fCivility, 20))
	email := r.email(fEmail)
	rel := relation(r.text(fRelation, 40))
	ext := r.ident(fExtID)
	childINE, childID := r.ine(fChildINE), r.ident(fChildID)
	childLast, childFirst := r.text(fChildLast, 100), r.text(fChildFirst, 100)
	childClass := r.text(fClass, 40)
	if r.get(fChildINE) == "" && r.get(fChildID) == "" && (r.get(fChildLast) == "" || r.get(fChildFirst) == "") {
		r.fail("élève non désigné (INE, identifiant, ou nom et prénom de l'élève)")
	}
	if len(r.msgs) > 0 {
		return errRow(strings.Join(r.msgs, " ; "))
	}

	child, err := im.findChild(ctx, childINE, childID, childLast, childFirst, childClass)
	if err != nil {
		return err
	}
	p, found, login, err := im.findAdult(ctx, ext, first, last, email, child.ID)
	if err != nil {
		return err
	}
	var diffs []string
	if !found {
		p = directory.Person{Civility: civ, FirstName: first, LastName: last, Email: email, ExternalID: im.extNS(ext)}
		cls, err := im.currentClasses(ctx, child.ID)
		if err != nil {
			return err
		}
		label := ""
		if len(cls) > 0 {
			label = cls[0].Name
		}
		if p, err = im.create(ctx, p, identity.Parent, label, login); err != nil {
			return err
		}
	} else {
		if diffs, err = im.updateAdult(ctx, r, p, civ, first, last, email, ext); err != nil {
			return err
		}
		if added, err := im.ensureRole(ctx, p.ID, identity.Parent); err != nil {
			return err
		} else if added {
			diffs = append(diffs, "rôle parent ajouté")
		}
	}

	var have string
	err = im.q.QueryRow(ctx, "SELECT relation FROM guardianships WHERE parent_id = ? AND child_id = ?", p.ID, child.ID).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := im.q.Exec(ctx, "INSERT INTO guardianships (parent_id, child_id, relation) VALUES (?, ?, ?)",
			p.ID, child.ID, rel); err != nil {
			return err
		}
		diffs = append(diffs, linkText(child, rel))
	case err != nil:
		return err
	case r.cols.has(fRelation) && have != rel:
		if err := directory.LinkGuardian(ctx, im.q, p.ID, child.ID, rel); err != nil {
			return err
		}
		diffs = append(diffs, fmt.Sprintf("lien avec %s %s : %s → %s", child.FirstName, child.LastName, quote(have), quote(rel)))
	}
	im.count(p, "responsable", !found, diffs)
	return nil
}

func linkText(child directory.Person, rel string) string {
	s := "responsable de " + child.FirstName + " " + child.LastName
	if rel != "" {
		s += " (" + rel + ")"
	}
	return s
}

// findChild finds the pupil a parent row designates, among the pupils of
// this school: by INE, by the school's pupil identifier, or by name (within
// the class when given).
func (im *importer) findChild(ctx context.Context, ine, id, last, first, class string) (directory.Person, error) {
	var (
		p   directory.Person
		ok  bool
		err error
		who string
	)
	switch {
	case ine != "":
		who = "d'INE " + ine
		p, ok, err = im.byField(ctx, "ine", ine)
	case id != "":
		who = "d'identifiant " + quote(id)
		p, ok, err = im.byField(ctx, "external_id", externalNS(im.st.UAI, Pupils)+id)
	default:
		who = first + " " + last
		if class != "" {
			who += " en " + class
		}
		var found []directory.Person
		if found, err = im.pupilsNamed(ctx, first, last, class); err != nil {
			return p, err
		}
		switch len(found) {
		case 0:
		case 1:
			return found[0], nil
		default:
			return p, rowErrf("plusieurs élèves %s : précisez la classe ou l'INE", who)
		}
	}
	if err != nil {
		return p, err
	}
	if ok {
		var n int
		if err := im.q.QueryRow(ctx, "SELECT COUNT(*) FROM roles WHERE user_id = ? AND structure_id = ? AND profile = ?",
			p.ID, im.st.ID, identity.Pupil).Scan(&n); err != nil {
			return p, err
		}
		if n > 0 {
			return p, nil
		}
	}
	return p, rowErrf("aucun élève %s dans l'établissement (importez d'abord les élèves)", who)
}

// pupilsNamed returns the pupils of this school with that name: in the class
// of this year when given, else among the accounts whose login comes from
// that name.
func (im *importer) pupilsNamed(ctx context.Context, first, last, class string) ([]directory.Person, error) {
	var out []directory.Person
	if class != "" {
		rows, err := im.q.Query(ctx, `SELECT `+personColsU+` FROM users u
			JOIN enrolments e ON e.user_id = u.id JOIN classes c ON c.id = e.class_id
			WHERE c.structure_id = ? AND c.year_id = ? AND c.name = ?`, im.st.ID, im.year.ID, class)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var p directory.Person
			if err := scanPerson(rows, &p); err != nil {
				return nil, err
			}
			if sameName(p, first, last) {
				out = append(out, p)
			}
		}
		return out, rows.Err()
	}
	cands, _, err := im.homonyms(ctx, first, last, func(p directory.Person) bool { return sameName(p, first, last) })
	if err != nil {
		return nil, err
	}
	for _, p := range cands {
		var n int
		if err := im.q.QueryRow(ctx, "SELECT COUNT(*) FROM roles WHERE user_id = ? AND structure_id = ? AND profile = ?",
			p.ID, im.st.ID, identity.Pupil).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

// extNS returns the stored form of an identifier from the file.
func (im *importer) extNS(ext string) string {
	if ext == "" {
		return ""
	}
	return im.ns + ext
}

// findAdult matches a parent or teacher: by the school's identifier; else
// by the same name and e-mail address among the accounts whose login comes
// from that name; else, for a parent without e-mail, by name among the
// child's guardians (childID ≠ 0). A candidate that already holds another
// identifier of this school and kind is another person.
func (im *importer) findAdult(ctx context.Context, ext, first, last, email string, childID int64) (p directory.Person, found bool, freeLogin string, err error) {
	if ext != "" {
		if p, ok, err := im.byField(ctx, "external_id", im.ns+ext); ok || err != nil {
			return p, ok, "", err
		}
	}
	other := func(p directory.Person) bool {
		return ext != "" && p.ExternalID != "" && strings.HasPrefix(p.ExternalID, im.ns)
	}
	if email != "" {
		cands, free, err := im.homonyms(ctx, first, last, func(p directory.Person) bool {
			return sameName(p, first, last) && strings.EqualFold(p.Email, email) && !other(p)
		})
		if err != nil || len(cands) == 0 {
			return p, false, free, err
		}
		return cands[0], true, "", nil
	}
	if childID == 0 {
		return p, false, "", nil
	}
	rows, err := im.q.Query(ctx, "SELECT "+personColsU+` FROM users u
		JOIN guardianships g ON g.parent_id = u.id WHERE g.child_id = ? ORDER BY u.id`, childID)
	if err != nil {
		return p, false, "", err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scanPerson(rows, &p); err != nil {
			return p, false, "", err
		}
		if sameName(p, first, last) && !other(p) {
			return p, true, "", nil
		}
	}
	return directory.Person{}, false, "", rows.Err()
}

// updateAdult applies the row's fields to an existing parent or teacher.
// Columns absent from the file keep their values; the identifier is only
// ever set where there was none (a person keeps the identifier of the first
// school that gave one; see findAdult).
func (im *importer) updateAdult(ctx context.Context, r *row, p directory.Person, civ, first, last, email, ext string) ([]string, error) {
	want := p
	want.FirstName, want.LastName = first, last
	if r.cols.has(fCivility) {
		want.Civility = civ
	}
	if r.cols.has(fEmail) {
		want.Email = email
	}
	if ext != "" && p.ExternalID == "" {
		want.ExternalID = im.ns + ext
	}
	return im.update(ctx, p, want)
}

// teacher applies one row of a teachers file: the account, the teacher role
// and a teaching per class and discipline of the current year. Teachings
// missing from the file are kept (the import adds; removing is done in the
// administration pages).
func (im *importer) teacher(ctx context.Context, r *row) error {
	last, first := r.name(fLast), r.name(fFirst)
	civ := civility(r.text(fCivility, 20))
	email := r.email(fEmail)
	ext := r.ident(fExtID)
	subjects := r.list(fSubjects, 80, 16)
	classes := r.list(fClass, 40, MaxFields)
	if r.get(fExtID) == "" && r.get(fEmail) == "" {
		r.fail("« Identifiant » ou « Courriel » nécessaire pour reconnaître l'enseignant")
	}
	if len(classes) > 0 && len(subjects) == 0 && r.get(fSubjects) == "" {
		r.fail("« Discipline » manquante pour les classes %s", strings.Join(classes, ", "))
	}
	if len(r.msgs) > 0 {
		return errRow(strings.Join(r.msgs, " ; "))
	}

	p, found, login, err := im.findAdult(ctx, ext, first, last, email, 0)
	if err != nil {
		return err
	}
	var diffs []string
	if !found {
		p = directory.Person{Civility: civ, FirstName: first, LastName: last, Email: email, ExternalID: im.extNS(ext)}
		if p, err = im.create(ctx, p, identity.Teacher, strings.Join(classes, ", "), login); err != nil {
			return err
		}
	} else {
		if diffs, err = im.updateAdult(ctx, r, p, civ, first, last, email, ext); err != nil {
			return err
		}
		if added, err := im.ensureRole(ctx, p.ID, identity.Teacher); err != nil {
			return err
		} else if added {
			diffs = append(diffs, "rôle enseignant ajouté")
		}
	}
	for _, c := range classes {
		classID, err := im.classID(ctx, c)
		if err != nil {
			return err
		}
		for _, s := range subjects {
			subjectID, err := im.subjectID(ctx, s)
			if err != nil {
				return err
			}
			var n int
			if err := im.q.QueryRow(ctx, "SELECT COUNT(*) FROM teachings WHERE teacher_id = ? AND class_id = ? AND subject_id = ?",
				p.ID, classID, subjectID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			if err := directory.AddTeaching(ctx, im.q, p.ID, classID, subjectID); err != nil {
				return err
			}
			diffs = append(diffs, "enseigne "+s+" en "+c)
		}
	}
	im.count(p, "enseignant", !found, diffs)
	return nil
}
