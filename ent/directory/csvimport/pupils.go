package csvimport

import (
	"context"
	"strings"

	"preau/ent/directory"
	"preau/identity"
)

// pupil applies one row of a pupils file: the account (matched by INE, then
// by identifier), the pupil role, and the class of the current year.
func (im *importer) pupil(ctx context.Context, r *row) error {
	last, first := r.name(fLast), r.name(fFirst)
	birth := r.date(fBirth, im.now)
	ine, ext := r.ine(fINE), r.ident(fExtID)
	email := r.email(fEmail)
	class := r.text(fClass, 40)
	if r.get(fClass) == "" {
		r.fail("« Classe » manquante")
	}
	if r.get(fINE) == "" && r.get(fExtID) == "" {
		r.fail("INE ou identifiant manquant")
	}
	if len(r.msgs) > 0 {
		return errRow(strings.Join(r.msgs, " ; "))
	}
	if ext != "" {
		ext = im.ns + ext
	}

	p, found, err := im.findPupil(ctx, ine, ext)
	if err != nil {
		return err
	}
	classID, err := im.classID(ctx, class)
	if err != nil {
		return err
	}
	if !found {
		p = directory.Person{FirstName: first, LastName: last, BirthDate: birth, Email: email, INE: ine, ExternalID: ext}
		if p, err = im.create(ctx, p, identity.Pupil, class, ""); err != nil {
			return err
		}
		if _, err := im.q.Exec(ctx, "INSERT INTO enrolments (user_id, class_id) VALUES (?, ?)", p.ID, classID); err != nil {
			return err
		}
		im.count(p, "élève", true, []string{"classe " + class})
		return nil
	}

	want := p
	want.FirstName, want.LastName = first, last
	if r.cols.has(fBirth) {
		want.BirthDate = birth
	}
	if r.cols.has(fEmail) {
		want.Email = email
	}
	if ine != "" {
		want.INE = ine
	}
	// A pupil keeps the identifier another school gave them; ours replaces
	// an empty or older one of ours.
	if ext != "" && ext != p.ExternalID && (p.ExternalID == "" || strings.HasPrefix(p.ExternalID, im.ns)) {
		o, taken, err := im.byField(ctx, "external_id", ext)
		if err != nil {
			return err
		}
		if taken && o.ID != p.ID {
			return rowErrf("l'identifiant %s est déjà celui de %s %s (INE %s)", quote(strings.TrimPrefix(ext, im.ns)),
				o.FirstName, o.LastName, o.INE)
		}
		want.ExternalID = ext
	}
	diffs, err := im.update(ctx, p, want)
	if err != nil {
		return err
	}

	cur, err := im.currentClasses(ctx, p.ID)
	if err != nil {
		return err
	}
	if len(cur) != 1 || cur[0].ID != classID {
		if err := directory.Transfer(ctx, im.q, p.ID, classID); err != nil {
			return err
		}
		from := "(aucune)"
		if len(cur) > 0 {
			from = cur[0].Name
		}
		diffs = append(diffs, "classe "+from+" → "+class)
	} else if added, err := im.ensureRole(ctx, p.ID, identity.Pupil); err != nil {
		return err
	} else if added {
		diffs = append(diffs, "rôle élève ajouté")
	}
	im.count(want, "élève", false, diffs)
	return nil
}

// findPupil matches by INE, else by the school's identifier. A pupil found
// by identifier with another INE is a conflict, not a match.
func (im *importer) findPupil(ctx context.Context, ine, ext string) (directory.Person, bool, error) {
	if ine != "" {
		if p, ok, err := im.byField(ctx, "ine", ine); ok || err != nil {
			return p, ok, err
		}
	}
	if ext == "" {
		return directory.Person{}, false, nil
	}
	p, ok, err := im.byField(ctx, "external_id", ext)
	if ok && ine != "" && p.INE != "" && p.INE != ine {
		return p, false, rowErrf("l'identifiant %s est celui d'un autre élève (%s %s, INE %s)",
			quote(strings.TrimPrefix(ext, im.ns)), p.FirstName, p.LastName, p.INE)
	}
	return p, ok, err
}

// currentClasses lists the classes (not groups) of the current year the
// person is enrolled in, in any structure.
func (im *importer) currentClasses(ctx context.Context, id int64) ([]directory.Class, error) {
	rows, err := im.q.Query(ctx, `SELECT c.id, c.name FROM enrolments e JOIN classes c ON c.id = e.class_id
		WHERE e.user_id = ? AND c.year_id = ? AND c.kind = 'class' ORDER BY c.id`, id, im.year.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []directory.Class
	for rows.Next() {
		var c directory.Class
		if err := rows.Scan(&c.ID, &c.Name); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
