package directory

import (
	"context"
	"database/sql"
	"preau/identity"
	"strings"
)

// Principal loads what access checks need about a person: roles, children,
// and the classes of the current year they are in, teach, or their children
// are in.
func (s *Store) Principal(ctx context.Context, userID int64) (*identity.Principal, error) {
	p, err := s.Person(ctx, userID)
	if err != nil {
		return nil, err
	}
	pr := &identity.Principal{UserID: userID, Login: p.Login}
	if pr.Roles, err = Roles(ctx, s.DB, userID); err != nil {
		return nil, err
	}
	if pr.Children, err = s.ids(ctx, "SELECT child_id FROM guardianships WHERE parent_id = ? ORDER BY child_id", userID); err != nil {
		return nil, err
	}
	if pr.Classes, err = s.ids(ctx, `SELECT e.class_id FROM enrolments e JOIN classes c ON c.id = e.class_id
		JOIN school_years y ON y.id = c.year_id WHERE e.user_id = ? AND y.is_current
		UNION SELECT t.class_id FROM teachings t JOIN classes c ON c.id = t.class_id
		JOIN school_years y ON y.id = c.year_id WHERE t.teacher_id = ? AND y.is_current`, userID, userID); err != nil {
		return nil, err
	}
	if pr.ChildClasses, err = s.ids(ctx, `SELECT DISTINCT e.class_id FROM guardianships g JOIN enrolments e ON e.user_id = g.child_id
		JOIN classes c ON c.id = e.class_id JOIN school_years y ON y.id = c.year_id
		WHERE g.parent_id = ? AND y.is_current`, userID); err != nil {
		return nil, err
	}
	return pr, nil
}

func (s *Store) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, id *int64) error { return r.Scan(id) })
}

// Target describes a person for identity.Principal.Can: the structures they
// belong to this year and their current classes. A person may belong to
// several structures; PersonTargets returns one Target per structure.
func (s *Store) PersonTargets(ctx context.Context, personID int64) ([]identity.Target, error) {
	classes, err := s.ids(ctx, `SELECT e.class_id FROM enrolments e JOIN classes c ON c.id = e.class_id
		JOIN school_years y ON y.id = c.year_id WHERE e.user_id = ? AND y.is_current
		UNION SELECT t.class_id FROM teachings t JOIN classes c ON c.id = t.class_id
		JOIN school_years y ON y.id = c.year_id WHERE t.teacher_id = ? AND y.is_current`, personID, personID)
	if err != nil {
		return nil, err
	}
	structs, err := s.ids(ctx, "SELECT DISTINCT COALESCE(structure_id, 0) FROM roles WHERE user_id = ?", personID)
	if err != nil {
		return nil, err
	}
	if len(structs) == 0 {
		structs = []int64{0}
	}
	out := make([]identity.Target, 0, len(structs))
	for _, st := range structs {
		out = append(out, identity.Target{Structure: st, Person: personID, Classes: classes})
	}
	return out, nil
}

// CanSeePerson reports whether pr may do a on the person.
func (s *Store) CanSeePerson(ctx context.Context, pr *identity.Principal, a identity.Action, personID int64) (bool, error) {
	ts, err := s.PersonTargets(ctx, personID)
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if pr.Can(identity.Person, a, t) {
			return true, nil
		}
	}
	return false, nil
}

// Children returns the children of a parent, with their current class name.
func (s *Store) Children(ctx context.Context, parentID int64) ([]Pupil, error) {
	return s.pupils(ctx, "JOIN guardianships g ON g.child_id = u.id", "g.parent_id = ?", parentID)
}

// ClassPupils returns the pupils enrolled in a class, by name.
func (s *Store) ClassPupils(ctx context.Context, classID int64) ([]Pupil, error) {
	return s.pupils(ctx, "JOIN enrolments e0 ON e0.user_id = u.id", "e0.class_id = ?", classID)
}

// Pupil is a pupil with their current class.
type Pupil struct {
	Person
	ClassID   int64  `json:"class_id,omitempty"`
	ClassName string `json:"class_name,omitempty"`
	Structure string `json:"structure,omitempty"`
}

func (s *Store) pupils(ctx context.Context, join, where string, arg any) ([]Pupil, error) {
	// The current class is joined row by row: as a derived table, SQLite
	// built it for every pupil of every school on each call (benchmarks.md).
	q := `SELECT u.id, u.login, u.civility, u.first_name, u.last_name, u.birth_date, u.email, COALESCE(u.ine, ''),
		COALESCE(u.external_id, ''), u.disabled, u.password_hash IS NOT NULL, u.created_at,
		COALESCE(cur.id, 0), COALESCE(cur.name, ''), COALESCE(cst.name, '')
		FROM users u ` + join + `
		LEFT JOIN enrolments ce ON ce.user_id = u.id AND EXISTS (SELECT 1 FROM classes c
			JOIN school_years y ON y.id = c.year_id AND y.is_current WHERE c.id = ce.class_id AND c.kind = 'class')
		LEFT JOIN classes cur ON cur.id = ce.class_id
		LEFT JOIN structures cst ON cst.id = cur.structure_id
		WHERE ` + where + `
		ORDER BY u.last_name, u.first_name, u.id`
	rows, err := s.DB.Query(ctx, q, arg)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, p *Pupil) error {
		return r.Scan(&p.ID, &p.Login, &p.Civility, &p.FirstName, &p.LastName, &p.BirthDate, &p.Email, &p.INE,
			&p.ExternalID, &p.Disabled, &p.Activated, &p.CreatedAt, &p.ClassID, &p.ClassName, &p.Structure)
	})
}

// Guardians returns the guardians of a child.
func (s *Store) Guardians(ctx context.Context, childID int64) ([]Person, error) {
	rows, err := s.DB.Query(ctx, "SELECT "+PersonColumns("u")+` FROM users u
		JOIN guardianships g ON g.parent_id = u.id WHERE g.child_id = ? ORDER BY u.last_name, u.first_name`, childID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, p *Person) error { return ScanPerson(r, p) })
}

// Teachings returns a teacher's assignments in the current year.
func (s *Store) Teachings(ctx context.Context, teacherID int64) ([]Teaching, error) {
	return s.teachings(ctx, "t.teacher_id = ?", teacherID)
}

// ClassTeachings returns who teaches what in a class.
func (s *Store) ClassTeachings(ctx context.Context, classID int64) ([]Teaching, error) {
	return s.teachings(ctx, "t.class_id = ?", classID)
}

func (s *Store) teachings(ctx context.Context, where string, arg any) ([]Teaching, error) {
	rows, err := s.DB.Query(ctx, `SELECT t.teacher_id, t.class_id, t.subject_id, sb.name, c.name FROM teachings t
		JOIN subjects sb ON sb.id = t.subject_id JOIN classes c ON c.id = t.class_id
		JOIN school_years y ON y.id = c.year_id AND y.is_current
		WHERE `+where+` ORDER BY c.name, sb.name`, arg)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, t *Teaching) error {
		return r.Scan(&t.TeacherID, &t.ClassID, &t.SubjectID, &t.Subject, &t.ClassName)
	})
}

// MemberFilter narrows Members.
type MemberFilter struct {
	StructureID int64            // 0: all structures
	Profile     identity.Profile // "": all profiles
	Search      string           // part of a name or login
	Limit       int              // default 50, at most 500
	Offset      int
}

// Members lists people with their role, for the administration pages.
func (s *Store) Members(ctx context.Context, f MemberFilter) ([]Member, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var where []string
	var args []any
	if f.StructureID != 0 {
		where, args = append(where, "r.structure_id = ?"), append(args, f.StructureID)
	}
	if f.Profile != "" {
		where, args = append(where, "r.profile = ?"), append(args, f.Profile)
	}
	if q := strings.TrimSpace(cleanSearch(f.Search)); q != "" {
		like := "%" + strings.ToLower(q) + "%"
		where = append(where, "(LOWER(u.last_name) LIKE ? OR LOWER(u.first_name) LIKE ? OR u.login LIKE ?)")
		args = append(args, like, like, like)
	}
	q := "SELECT " + PersonColumns("u") + ", r.profile, r.function FROM users u JOIN roles r ON r.user_id = u.id"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY u.last_name, u.first_name, u.id, r.profile LIMIT ? OFFSET ?"
	rows, err := s.DB.Query(ctx, q, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, m *Member) error {
		return r.Scan(&m.ID, &m.Login, &m.Civility, &m.FirstName, &m.LastName, &m.BirthDate, &m.Email,
			&m.INE, &m.ExternalID, &m.Disabled, &m.Activated, &m.CreatedAt, &m.Profile, &m.Function)
	})
}

// Counts is a summary of a structure for the administration home.
type Counts struct {
	Pupils, Parents, Teachers, Staff, Classes int
}

// CountStructure counts the people and classes of a structure this year.
func (s *Store) CountStructure(ctx context.Context, structureID int64) (Counts, error) {
	var c Counts
	rows, err := s.DB.Query(ctx, "SELECT profile, COUNT(*) FROM roles WHERE structure_id = ? GROUP BY profile", structureID)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var p identity.Profile
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			return c, err
		}
		switch p {
		case identity.Pupil:
			c.Pupils = n
		case identity.Parent:
			c.Parents = n
		case identity.Teacher:
			c.Teachers = n
		default:
			c.Staff += n
		}
	}
	err = s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM classes c JOIN school_years y ON y.id = c.year_id AND y.is_current
		WHERE c.structure_id = ?`, structureID).Scan(&c.Classes)
	return c, err
}

// collect scans every row into a slice.
func collect[T any](rows *sql.Rows, scan func(*sql.Rows, *T) error) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
