package councils

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"preau/db"
)

// Store keeps councils and their members in the database.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// New returns a store over d.
func New(d *db.DB) *Store { return &Store{db: d, now: time.Now} }

// SetClock sets the store's clock (tests).
func (s *Store) SetClock(now func() time.Time) {
	if now != nil {
		s.now = now
	}
}

const councilColumns = `k.id, k.structure_id, k.class_id, COALESCE(c.name, ''), k.term_id, COALESCE(t.name, ''), k.starts_at_ms,
	k.ends_at_ms, k.place, k.agenda, k.notes, k.version, k.created_by, k.updated_by, k.updated_at_ms`

const councilFrom = ` FROM councils k LEFT JOIN classes c ON c.id = k.class_id LEFT JOIN terms t ON t.id = k.term_id`

func load(ctx context.Context, q db.Querier, where string, args ...any) ([]Council, error) {
	rows, err := q.Query(ctx, "SELECT "+councilColumns+councilFrom+" WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("councils: list: %w", err)
	}
	var out []Council
	for rows.Next() {
		var k Council
		var start, end, updated int64
		if err := rows.Scan(&k.ID, &k.StructureID, &k.ClassID, &k.ClassName, &k.TermID, &k.TermName, &start, &end, &k.Place,
			&k.Agenda, &k.Notes, &k.Version, &k.CreatedBy, &k.UpdatedBy, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("councils: list: %w", err)
		}
		k.Start, k.End, k.UpdatedAt = time.UnixMilli(start), time.UnixMilli(end), time.UnixMilli(updated)
		k.Members = []Member{}
		out = append(out, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	idx := map[int64]int{}
	args = args[:0]
	for i, k := range out {
		idx[k.ID] = i
		args = append(args, k.ID)
	}
	rows, err = q.Query(ctx, `SELECT m.council_id, m.user_id, COALESCE(u.first_name || ' ' || u.last_name, ''), m.role
		FROM council_members m LEFT JOIN users u ON u.id = m.user_id WHERE m.council_id IN (`+placeholders(len(out))+`)
		ORDER BY m.council_id, u.last_name, u.first_name, m.user_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("councils: members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var m Member
		if err := rows.Scan(&id, &m.UserID, &m.Name, &m.Role); err != nil {
			return nil, fmt.Errorf("councils: members: %w", err)
		}
		out[idx[id]].Members = append(out[idx[id]].Members, m)
	}
	return out, rows.Err()
}

// Get returns one council with its members, whoever asks: the caller
// checks CanRead.
func (s *Store) Get(ctx context.Context, id int64) (Council, error) { return get(ctx, s.db, id) }

func get(ctx context.Context, q db.Querier, id int64) (Council, error) {
	ks, err := load(ctx, q, "k.id = ?", id)
	if err != nil {
		return Council{}, err
	}
	if len(ks) == 0 {
		return Council{}, ErrNotFound
	}
	return ks[0], nil
}

// OfMember returns the councils user is a member of, by start.
func (s *Store) OfMember(ctx context.Context, user int64) ([]Council, error) {
	return load(ctx, s.db, "k.id IN (SELECT council_id FROM council_members WHERE user_id = ?) ORDER BY k.starts_at_ms, k.id", user)
}

// checkMembers verifies each member holds their role for the class:
// teachers teach it, pupil delegates are in it, parent delegates are the
// guardians of one of its pupils, the direction and staff are of its
// school. The answer names the first who does not, in French.
func checkMembers(ctx context.Context, q db.Querier, structure, class int64, ms []Member) error {
	for _, m := range ms {
		var cond string
		args := []any{m.UserID}
		switch m.Role {
		case RoleTeacher:
			cond, args = "EXISTS (SELECT 1 FROM teachings WHERE teacher_id = ? AND class_id = ?)", append(args, class)
		case RolePupilDelegate:
			cond, args = "EXISTS (SELECT 1 FROM enrolments WHERE user_id = ? AND class_id = ?)", append(args, class)
		case RoleParentDelegate:
			cond = "EXISTS (SELECT 1 FROM guardianships g JOIN enrolments e ON e.user_id = g.child_id WHERE g.parent_id = ? AND e.class_id = ?)"
			args = append(args, class)
		case RoleHead:
			cond, args = "EXISTS (SELECT 1 FROM roles WHERE user_id = ? AND structure_id = ? AND profile = 'direction')", append(args, structure)
		case RoleCPE, RoleStaff:
			cond, args = "EXISTS (SELECT 1 FROM roles WHERE user_id = ? AND structure_id = ? AND profile = 'personnel')", append(args, structure)
		default:
			return invalid("rôle inconnu : %q", m.Role)
		}
		var ok bool
		if err := q.QueryRow(ctx, "SELECT "+cond, args...).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return invalid("un des membres choisis ne peut pas siéger comme %s de cette classe", strings.ToLower(RoleLabel(m.Role)))
		}
	}
	return nil
}

// Create schedules a council of class (of structure) by user by; the
// members are checked against the class (checkMembers). A second council
// of the class for the same term is refused.
func (s *Store) Create(ctx context.Context, structure int64, sc Schedule, by int64) (Council, error) {
	start, end, err := sc.Times()
	if err != nil {
		return Council{}, err
	}
	now := s.now().UnixMilli()
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkTerm(ctx, tx, structure, sc.ClassID, sc.TermID); err != nil {
			return err
		}
		if err := checkMembers(ctx, tx, structure, sc.ClassID, sc.Members); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO councils (structure_id, class_id, term_id, starts_at_ms, ends_at_ms, place, created_by,
			updated_by, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, structure, sc.ClassID, sc.TermID,
			start.UnixMilli(), end.UnixMilli(), sc.Place, by, by, now).Scan(&id)
		if db.IsUniqueViolation(err) {
			return invalid("la classe a déjà son conseil pour ce trimestre")
		}
		if err != nil {
			return err
		}
		return setMembers(ctx, tx, id, sc.Members)
	})
	if err != nil {
		return Council{}, wrap("create", err)
	}
	return s.Get(ctx, id)
}

// checkTerm: the class is of the school and the term of the class's year.
func checkTerm(ctx context.Context, q db.Querier, structure, class, term int64) error {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM classes c JOIN terms t ON t.year_id = c.year_id
		WHERE c.id = ? AND c.structure_id = ? AND t.id = ?`, class, structure, term).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		return invalid("ce trimestre n'est pas celui de l'année de la classe")
	}
	return nil
}

func setMembers(ctx context.Context, tx db.Querier, id int64, ms []Member) error {
	if _, err := tx.Exec(ctx, "DELETE FROM council_members WHERE council_id = ?", id); err != nil {
		return err
	}
	for _, m := range ms {
		if _, err := tx.Exec(ctx, "INSERT INTO council_members (council_id, user_id, role) VALUES (?, ?, ?)", id, m.UserID, m.Role); err != nil {
			return err
		}
	}
	return nil
}

// Reschedule changes the date, place and members of council id (its
// class and term stay).
func (s *Store) Reschedule(ctx context.Context, id int64, sc Schedule, by int64) (Council, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		k, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		sc.ClassID, sc.TermID = k.ClassID, k.TermID
		start, end, err := sc.Times()
		if err != nil {
			return err
		}
		if err := checkMembers(ctx, tx, k.StructureID, k.ClassID, sc.Members); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE councils SET starts_at_ms = ?, ends_at_ms = ?, place = ?, updated_by = ?, updated_at_ms = ?
			WHERE id = ?`, start.UnixMilli(), end.UnixMilli(), sc.Place, by, s.now().UnixMilli(), id); err != nil {
			return err
		}
		return setMembers(ctx, tx, id, sc.Members)
	})
	if err != nil {
		return Council{}, wrap("reschedule", err)
	}
	return s.Get(ctx, id)
}

// EditText saves the agenda and notes of council id if they are still at
// version (ErrStale otherwise: someone saved meanwhile).
func (s *Store) EditText(ctx context.Context, id int64, agenda, notes string, version, by int64) (Council, error) {
	var err error
	if agenda, err = CheckText("l'ordre du jour", agenda); err != nil {
		return Council{}, err
	}
	if notes, err = CheckText("le compte rendu", notes); err != nil {
		return Council{}, err
	}
	res, err := s.db.Exec(ctx, `UPDATE councils SET agenda = ?, notes = ?, version = version + 1, updated_by = ?, updated_at_ms = ?
		WHERE id = ? AND version = ?`, agenda, notes, by, s.now().UnixMilli(), id, version)
	if err != nil {
		return Council{}, fmt.Errorf("councils: edit %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Get(ctx, id); err != nil {
			return Council{}, err
		}
		return Council{}, ErrStale
	}
	return s.Get(ctx, id)
}

// Delete removes council id.
func (s *Store) Delete(ctx context.Context, id int64) error {
	res, err := s.db.Exec(ctx, "DELETE FROM councils WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("councils: delete %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Insert writes a council as given inside the caller's transaction, for
// data known to be right (the demo school).
func Insert(ctx context.Context, q db.Querier, k Council, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO councils (structure_id, class_id, term_id, starts_at_ms, ends_at_ms, place, agenda, notes,
		created_by, updated_by, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, k.StructureID, k.ClassID, k.TermID,
		k.Start.UnixMilli(), k.End.UnixMilli(), k.Place, k.Agenda, k.Notes, k.CreatedBy, k.CreatedBy, now.UnixMilli()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("councils: insert: %w", err)
	}
	if err := setMembers(ctx, q, id, k.Members); err != nil {
		return 0, fmt.Errorf("councils: insert members: %w", err)
	}
	return id, nil
}

func wrap(what string, err error) error {
	var inv *Invalid
	if errors.Is(err, ErrNotFound) || errors.As(err, &inv) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return fmt.Errorf("councils: %s: %w", what, err)
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }
