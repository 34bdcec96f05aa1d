package directory

import (
	"context"
	"database/sql"
	"fmt"
	"preau/db"
	"preau/identity"
)

// AddRole gives a person a profile in a structure (0: département-wide). It
// is idempotent; a new function replaces the old.
func AddRole(ctx context.Context, q db.Querier, userID, structureID int64, prof identity.Profile, function string) error {
	if !prof.Valid() {
		return fmt.Errorf("%w: profil %q", ErrInvalid, prof)
	}
	var st any = structureID
	where := "structure_id = ?"
	args := []any{userID, st, prof}
	if structureID == 0 {
		st, where, args = nil, "structure_id IS NULL", []any{userID, prof}
	}
	res, err := q.Exec(ctx, "UPDATE roles SET function = ? WHERE user_id = ? AND "+where+" AND profile = ?",
		append([]any{function}, args...)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = q.Exec(ctx, "INSERT INTO roles (user_id, structure_id, profile, function) VALUES (?, ?, ?, ?)", userID, st, prof, function)
	return err
}

// RemoveRole takes a profile in a structure away from a person.
// A structure of 0 is the département-wide role.
func RemoveRole(ctx context.Context, q db.Querier, userID, structureID int64, prof identity.Profile) error {
	if structureID == 0 {
		_, err := q.Exec(ctx, "DELETE FROM roles WHERE user_id = ? AND structure_id IS NULL AND profile = ?", userID, prof)
		return err
	}
	_, err := q.Exec(ctx, "DELETE FROM roles WHERE user_id = ? AND structure_id = ? AND profile = ?", userID, structureID, prof)
	return err
}

// Roles returns a person's roles.
func Roles(ctx context.Context, q db.Querier, userID int64) ([]identity.Role, error) {
	rows, err := q.Query(ctx, "SELECT COALESCE(structure_id, 0), profile, function FROM roles WHERE user_id = ? ORDER BY id", userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, x *identity.Role) error { return r.Scan(&x.StructureID, &x.Profile, &x.Function) })
}

// Enrol puts a pupil in a class (or group). Idempotent.
func Enrol(ctx context.Context, q db.Querier, userID, classID int64) error {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM enrolments WHERE user_id = ? AND class_id = ?", userID, classID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	_, err := q.Exec(ctx, "INSERT INTO enrolments (user_id, class_id) VALUES (?, ?)", userID, classID)
	return err
}

// Unenrol takes a pupil out of a class.
func Unenrol(ctx context.Context, q db.Querier, userID, classID int64) error {
	_, err := q.Exec(ctx, "DELETE FROM enrolments WHERE user_id = ? AND class_id = ?", userID, classID)
	return err
}

// LinkGuardian makes parentID a guardian of childID. Idempotent; a new
// relation replaces the old.
func LinkGuardian(ctx context.Context, q db.Querier, parentID, childID int64, relation string) error {
	if parentID == childID {
		return fmt.Errorf("%w: une personne ne peut pas être son propre responsable", ErrInvalid)
	}
	res, err := q.Exec(ctx, "UPDATE guardianships SET relation = ? WHERE parent_id = ? AND child_id = ?", relation, parentID, childID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = q.Exec(ctx, "INSERT INTO guardianships (parent_id, child_id, relation) VALUES (?, ?, ?)", parentID, childID, relation)
	return err
}

// UnlinkGuardian removes a guardianship.
func UnlinkGuardian(ctx context.Context, q db.Querier, parentID, childID int64) error {
	_, err := q.Exec(ctx, "DELETE FROM guardianships WHERE parent_id = ? AND child_id = ?", parentID, childID)
	return err
}

// AddTeaching assigns a teacher to teach a subject to a class. Idempotent.
func AddTeaching(ctx context.Context, q db.Querier, teacherID, classID, subjectID int64) error {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM teachings WHERE teacher_id = ? AND class_id = ? AND subject_id = ?",
		teacherID, classID, subjectID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	_, err := q.Exec(ctx, "INSERT INTO teachings (teacher_id, class_id, subject_id) VALUES (?, ?, ?)", teacherID, classID, subjectID)
	return err
}

// Transfer moves a pupil into another class — in the same structure, another
// year, or another structure (collège → lycée) — keeping the same account,
// password and everything attached to the account. Within one year the pupil
// leaves their other class of that year; enrolments of other years stay as
// history. When the target year is current, the pupil's role and their
// guardians' parent role follow them to the new structure, and roles in
// structures they no longer attend are removed.
func Transfer(ctx context.Context, q db.Querier, pupilID, toClassID int64) error {
	var to Class
	if err := scanClass(q.QueryRow(ctx, "SELECT "+classCols+" FROM classes WHERE id = ?", toClassID), &to); err != nil {
		return fmt.Errorf("directory: transfer: class %d: %w", toClassID, notFound(err))
	}
	if _, err := PersonBy(ctx, q, "id", pupilID); err != nil {
		return fmt.Errorf("directory: transfer: pupil %d: %w", pupilID, err)
	}
	if to.Kind == KindClass {
		if _, err := q.Exec(ctx, `DELETE FROM enrolments WHERE user_id = ? AND class_id IN
			(SELECT id FROM classes WHERE year_id = ? AND kind = 'class' AND id <> ?)`, pupilID, to.YearID, to.ID); err != nil {
			return err
		}
	}
	if err := Enrol(ctx, q, pupilID, to.ID); err != nil {
		return err
	}
	if err := AddRole(ctx, q, pupilID, to.StructureID, identity.Pupil, ""); err != nil {
		return err
	}
	var current bool
	if err := q.QueryRow(ctx, "SELECT is_current FROM school_years WHERE id = ?", to.YearID).Scan(&current); err != nil {
		return err
	}
	if !current {
		return nil
	}
	// Pupil roles in structures without a current enrolment go.
	if _, err := q.Exec(ctx, `DELETE FROM roles WHERE user_id = ? AND profile = 'eleve' AND structure_id NOT IN
		(SELECT c.structure_id FROM enrolments e JOIN classes c ON c.id = e.class_id
		 JOIN school_years y ON y.id = c.year_id AND y.is_current WHERE e.user_id = ?)`, pupilID, pupilID); err != nil {
		return err
	}
	rows, err := q.Query(ctx, "SELECT parent_id FROM guardianships WHERE child_id = ?", pupilID)
	if err != nil {
		return err
	}
	parents, err := collect(rows, func(r *sql.Rows, id *int64) error { return r.Scan(id) })
	if err != nil {
		return err
	}
	for _, p := range parents {
		if err := AddRole(ctx, q, p, to.StructureID, identity.Parent, ""); err != nil {
			return err
		}
		// A parent keeps a structure only while one of their children is there.
		if _, err := q.Exec(ctx, `DELETE FROM roles WHERE user_id = ? AND profile = 'parent' AND structure_id NOT IN
			(SELECT c.structure_id FROM guardianships g JOIN enrolments e ON e.user_id = g.child_id
			 JOIN classes c ON c.id = e.class_id JOIN school_years y ON y.id = c.year_id AND y.is_current
			 WHERE g.parent_id = ?)`, p, p); err != nil {
			return err
		}
	}
	return nil
}
