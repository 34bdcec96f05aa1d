package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"preau/db"
	"preau/identity"
)

// Store reads and writes the directory. Methods that take a db.Querier run
// inside the caller's transaction (import, demo); the others use the pool.
type Store struct {
	DB *db.DB
}

// New returns a Store on d.
func New(d *db.DB) *Store { return &Store{DB: d} }

// checkText refuses text that no database should store: invalid UTF-8,
// NUL and other control characters (PostgreSQL rejects NUL outright).
func checkText(what string, values ...string) error {
	for _, v := range values {
		if !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return fmt.Errorf("%w: %s contient des caractères invalides", ErrInvalid, what)
		}
	}
	return nil
}

// cleanSearch keeps what can be searched for: valid UTF-8 without control
// characters.
func cleanSearch(s string) string {
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// ---- school years ----------------------------------------------------------

// EnsureYear returns the id of the school year with this label, creating it
// if needed. When current is true it becomes the only current year.
func EnsureYear(ctx context.Context, q db.Querier, y SchoolYear) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM school_years WHERE label = ?", y.Label).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRow(ctx, "INSERT INTO school_years (label, starts_on, ends_on, is_current) VALUES (?, ?, ?, ?) RETURNING id",
			y.Label, y.StartsOn, y.EndsOn, false).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("directory: year %q: %w", y.Label, err)
	}
	if y.Current {
		if _, err := q.Exec(ctx, "UPDATE school_years SET is_current = (id = ?)", id); err != nil {
			return 0, fmt.Errorf("directory: set current year: %w", err)
		}
	}
	return id, nil
}

// CurrentYear returns the current school year.
func CurrentYear(ctx context.Context, q db.Querier) (SchoolYear, error) {
	var y SchoolYear
	err := q.QueryRow(ctx, "SELECT id, label, starts_on, ends_on, is_current FROM school_years WHERE is_current ORDER BY id DESC LIMIT 1").
		Scan(&y.ID, &y.Label, &y.StartsOn, &y.EndsOn, &y.Current)
	return y, notFound(err)
}

// Years lists the school years, newest first.
func (s *Store) Years(ctx context.Context) ([]SchoolYear, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, label, starts_on, ends_on, is_current FROM school_years ORDER BY label DESC")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, y *SchoolYear) error {
		return r.Scan(&y.ID, &y.Label, &y.StartsOn, &y.EndsOn, &y.Current)
	})
}

// YearLabel returns the label of the school year containing t, which starts
// on 1 September: 2026-11-28 → "2026-2027".
func YearLabel(t time.Time) string {
	y := t.Year()
	if t.Month() < time.September {
		y--
	}
	return strconv.Itoa(y) + "-" + strconv.Itoa(y+1)
}

// YearFor returns the SchoolYear value for a label "2026-2027".
func YearFor(label string, current bool) SchoolYear {
	start, end, _ := strings.Cut(label, "-")
	return SchoolYear{Label: label, StartsOn: start + "-09-01", EndsOn: end + "-07-05", Current: current}
}

// ---- structures ------------------------------------------------------------

// CreateStructure adds a school.
func CreateStructure(ctx context.Context, q db.Querier, st Structure) (int64, error) {
	st.UAI = strings.ToUpper(strings.TrimSpace(st.UAI))
	if !ValidUAI(st.UAI) {
		return 0, fmt.Errorf("%w: code UAI %q (7 chiffres et une lettre)", ErrInvalid, st.UAI)
	}
	if st.Kind != College && st.Kind != Lycee {
		return 0, fmt.Errorf("%w: type d'établissement %q", ErrInvalid, st.Kind)
	}
	if strings.TrimSpace(st.Name) == "" {
		return 0, fmt.Errorf("%w: nom d'établissement vide", ErrInvalid)
	}
	if err := checkText("le nom ou la commune", st.Name, st.Commune); err != nil {
		return 0, err
	}
	var id int64
	err := q.QueryRow(ctx, "INSERT INTO structures (uai, name, kind, commune) VALUES (?, ?, ?, ?) RETURNING id",
		st.UAI, strings.TrimSpace(st.Name), st.Kind, strings.TrimSpace(st.Commune)).Scan(&id)
	if db.IsUniqueViolation(err) {
		return 0, fmt.Errorf("%w: UAI %s", ErrConflict, st.UAI)
	}
	return id, err
}

// ValidUAI checks the shape of a UAI code: 7 digits then a letter.
func ValidUAI(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < 7; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s[7] >= 'A' && s[7] <= 'Z'
}

const structureCols = "id, uai, name, kind, commune"

func scanStructure(r interface{ Scan(...any) error }, st *Structure) error {
	return r.Scan(&st.ID, &st.UAI, &st.Name, &st.Kind, &st.Commune)
}

// StructureByUAI finds a school by its UAI.
func StructureByUAI(ctx context.Context, q db.Querier, uai string) (Structure, error) {
	var st Structure
	err := scanStructure(q.QueryRow(ctx, "SELECT "+structureCols+" FROM structures WHERE uai = ?", strings.ToUpper(uai)), &st)
	return st, notFound(err)
}

// Structure returns one school.
func (s *Store) Structure(ctx context.Context, id int64) (Structure, error) {
	var st Structure
	err := scanStructure(s.DB.QueryRow(ctx, "SELECT "+structureCols+" FROM structures WHERE id = ?", id), &st)
	return st, notFound(err)
}

// Structures lists every school by name.
func (s *Store) Structures(ctx context.Context) ([]Structure, error) {
	rows, err := s.DB.Query(ctx, "SELECT "+structureCols+" FROM structures ORDER BY name")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, st *Structure) error { return scanStructure(r, st) })
}

// ---- subjects --------------------------------------------------------------

// EnsureSubject returns the id of the subject with this code, creating it
// with name if needed.
func EnsureSubject(ctx context.Context, q db.Querier, code, name string) (int64, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM subjects WHERE code = ?", code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRow(ctx, "INSERT INTO subjects (code, name) VALUES (?, ?) RETURNING id", code, name).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("directory: subject %q: %w", code, err)
	}
	return id, nil
}

// Subjects lists the subjects by name.
func (s *Store) Subjects(ctx context.Context) ([]Subject, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, code, name FROM subjects ORDER BY name")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, x *Subject) error { return r.Scan(&x.ID, &x.Code, &x.Name) })
}

// ---- classes ---------------------------------------------------------------

// EnsureClass returns the id of the class of that name in the structure and
// year, creating it if needed.
func EnsureClass(ctx context.Context, q db.Querier, c Class) (int64, error) {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return 0, fmt.Errorf("%w: nom de classe vide", ErrInvalid)
	}
	if err := checkText("le nom de la classe", c.Name, c.Level); err != nil {
		return 0, err
	}
	if c.Kind == "" {
		c.Kind = KindClass
	}
	if c.Level == "" {
		c.Level = LevelOf(c.Name)
	}
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM classes WHERE structure_id = ? AND year_id = ? AND name = ?",
		c.StructureID, c.YearID, c.Name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRow(ctx, "INSERT INTO classes (structure_id, year_id, name, level, kind) VALUES (?, ?, ?, ?, ?) RETURNING id",
			c.StructureID, c.YearID, c.Name, c.Level, c.Kind).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("directory: class %q: %w", c.Name, err)
	}
	return id, nil
}

// LevelOf guesses the level from a class name as schools write it:
// "6A", "6e A", "6EME2" → "6e"; "3B" → "3e"; "2nde 4" → "2nde".
func LevelOf(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	switch {
	case strings.HasPrefix(n, "2nd"), strings.HasPrefix(n, "2de"):
		return "2nde"
	case strings.HasPrefix(n, "1"):
		return "1re"
	case strings.HasPrefix(n, "t"):
		return "Tle"
	case n != "" && n[0] >= '3' && n[0] <= '6':
		return n[:1] + "e"
	}
	return ""
}

const classCols = "id, structure_id, year_id, name, level, kind"

func scanClass(r interface{ Scan(...any) error }, c *Class) error {
	return r.Scan(&c.ID, &c.StructureID, &c.YearID, &c.Name, &c.Level, &c.Kind)
}

// Class returns one class.
func (s *Store) Class(ctx context.Context, id int64) (Class, error) {
	var c Class
	err := scanClass(s.DB.QueryRow(ctx, "SELECT "+classCols+" FROM classes WHERE id = ?", id), &c)
	return c, notFound(err)
}

// Classes lists the classes of a structure in a year, by name.
func (s *Store) Classes(ctx context.Context, structureID, yearID int64) ([]Class, error) {
	rows, err := s.DB.Query(ctx, "SELECT "+classCols+" FROM classes WHERE structure_id = ? AND year_id = ? ORDER BY kind, name",
		structureID, yearID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, c *Class) error { return scanClass(r, c) })
}

// ---- people ----------------------------------------------------------------

// PersonColumns lists the columns that ScanPerson reads, from the users
// table aliased a ("" for no alias), for packages that query people in their
// own SQL.
func PersonColumns(a string) string {
	if a != "" {
		a += "."
	}
	return strings.NewReplacer("@", a).Replace("@id, @login, @civility, @first_name, @last_name, @birth_date, @email, " +
		"COALESCE(@ine, ''), COALESCE(@external_id, ''), @disabled, @password_hash IS NOT NULL, @created_at")
}

var personCols = PersonColumns("")

// ScanPerson reads a row of PersonColumns.
func ScanPerson(r interface{ Scan(...any) error }, p *Person) error {
	return r.Scan(&p.ID, &p.Login, &p.Civility, &p.FirstName, &p.LastName, &p.BirthDate, &p.Email,
		&p.INE, &p.ExternalID, &p.Disabled, &p.Activated, &p.CreatedAt)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreatePerson adds a person with a fresh identifier made from their name
// (LoginBase, with a number when taken) unless p.Login is set. It returns the
// person as stored.
func CreatePerson(ctx context.Context, q db.Querier, p Person) (Person, error) {
	p.FirstName, p.LastName = strings.TrimSpace(p.FirstName), strings.TrimSpace(p.LastName)
	if p.FirstName == "" || p.LastName == "" {
		return p, fmt.Errorf("%w: nom et prénom sont obligatoires", ErrInvalid)
	}
	if err := checkText("la fiche", p.Login, p.Civility, p.FirstName, p.LastName, p.BirthDate, p.Email, p.INE, p.ExternalID); err != nil {
		return p, err
	}
	if p.Login == "" {
		login, err := freeLogin(ctx, q, LoginBase(p.FirstName, p.LastName))
		if err != nil {
			return p, err
		}
		p.Login = login
	}
	p.CreatedAt = time.Now().Unix()
	err := q.QueryRow(ctx, `INSERT INTO users (login, civility, first_name, last_name, birth_date, email, ine, external_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.Login, p.Civility, p.FirstName, p.LastName, p.BirthDate, p.Email,
		nullIfEmpty(p.INE), nullIfEmpty(p.ExternalID), p.CreatedAt).Scan(&p.ID)
	if db.IsUniqueViolation(err) {
		return p, fmt.Errorf("%w: identifiant, INE ou identifiant externe déjà utilisé (%s)", ErrConflict, p.Login)
	}
	if err != nil {
		return p, fmt.Errorf("directory: create person: %w", err)
	}
	return p, nil
}

// freeLogin returns base, or base2, base3… whichever is free. It asks for
// candidates by equality, 20 at a time, so the unique index on login answers
// (a LIKE 'base%' scan would read the whole table on PostgreSQL).
func freeLogin(ctx context.Context, q db.Querier, base string) (string, error) {
	const batch = 20
	for start := 1; ; start += batch {
		cands := make([]any, 0, batch)
		for i := start; i < start+batch; i++ {
			if i == 1 {
				cands = append(cands, base)
			} else {
				cands = append(cands, base+strconv.Itoa(i))
			}
		}
		rows, err := q.Query(ctx, "SELECT login FROM users WHERE login IN (?"+strings.Repeat(", ?", batch-1)+")", cands...)
		if err != nil {
			return "", err
		}
		taken := map[string]bool{}
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return "", err
			}
			taken[l] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
		for _, c := range cands {
			if l := c.(string); !taken[l] {
				return l, nil
			}
		}
	}
}

// UpdatePerson changes a person's directory fields (not login or password).
func UpdatePerson(ctx context.Context, q db.Querier, p Person) error {
	if strings.TrimSpace(p.FirstName) == "" || strings.TrimSpace(p.LastName) == "" {
		return fmt.Errorf("%w: nom et prénom sont obligatoires", ErrInvalid)
	}
	if err := checkText("la fiche", p.Civility, p.FirstName, p.LastName, p.BirthDate, p.Email, p.INE, p.ExternalID); err != nil {
		return err
	}
	res, err := q.Exec(ctx, `UPDATE users SET civility = ?, first_name = ?, last_name = ?, birth_date = ?, email = ?, ine = ?, external_id = ?
		WHERE id = ?`, p.Civility, strings.TrimSpace(p.FirstName), strings.TrimSpace(p.LastName), p.BirthDate, p.Email,
		nullIfEmpty(p.INE), nullIfEmpty(p.ExternalID), p.ID)
	if db.IsUniqueViolation(err) {
		return fmt.Errorf("%w: INE ou identifiant externe déjà utilisé", ErrConflict)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// PersonBy finds a person by "id", "login", "ine" or "external_id".
func PersonBy(ctx context.Context, q db.Querier, field string, value any) (Person, error) {
	switch field {
	case "id", "login", "ine", "external_id":
	default:
		return Person{}, fmt.Errorf("directory: PersonBy %q", field)
	}
	var p Person
	err := ScanPerson(q.QueryRow(ctx, "SELECT "+personCols+" FROM users WHERE "+field+" = ?", value), &p)
	return p, notFound(err)
}

// Person returns one person.
func (s *Store) Person(ctx context.Context, id int64) (Person, error) {
	return PersonBy(ctx, s.DB, "id", id)
}

// ---- roles, enrolments, links, teachings --------------------------------------

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

// ---- reading for access checks and pages -------------------------------------

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
	q := `SELECT u.id, u.login, u.civility, u.first_name, u.last_name, u.birth_date, u.email, COALESCE(u.ine, ''),
		COALESCE(u.external_id, ''), u.disabled, u.password_hash IS NOT NULL, u.created_at,
		COALESCE(cur.class_id, 0), COALESCE(cur.name, ''), COALESCE(cur.sname, '')
		FROM users u ` + join + `
		LEFT JOIN (SELECT e.user_id, c.id AS class_id, c.name, st.name AS sname FROM enrolments e
			JOIN classes c ON c.id = e.class_id AND c.kind = 'class'
			JOIN structures st ON st.id = c.structure_id
			JOIN school_years y ON y.id = c.year_id AND y.is_current) cur ON cur.user_id = u.id
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
