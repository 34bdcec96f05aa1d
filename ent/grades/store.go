package grades

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"preau/db"
)

// Store reads and writes evaluations and grades (migration 0014_grades.sql).
type Store struct {
	DB *db.DB
	// Now stamps changes (nil: time.Now).
	Now func() time.Time
}

// NewStore returns a Store on d.
func NewStore(d *db.DB) *Store { return &Store{DB: d} }

func (s *Store) now() int64 {
	if s.Now != nil {
		return s.Now().Unix()
	}
	return time.Now().Unix()
}

// Teaches reports whether teacher teaches subject to class in the current
// school year.
func Teaches(ctx context.Context, q db.Querier, teacher, class, subject int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM teachings t JOIN classes c ON c.id = t.class_id
		JOIN school_years y ON y.id = c.year_id AND y.is_current
		WHERE t.teacher_id = ? AND t.class_id = ? AND t.subject_id = ?`, teacher, class, subject).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("grades: teaches: %w", err)
	}
	return n > 0, nil
}

// Create adds an evaluation, already checked (Evaluation.Check), for a
// teacher who teaches its subject to its class this year (ErrNotTaught
// otherwise), and returns its id. The structure is the class's.
func Create(ctx context.Context, q db.Querier, e Evaluation, now int64) (int64, error) {
	ok, err := Teaches(ctx, q, e.CreatedBy, e.ClassID, e.SubjectID)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrNotTaught
	}
	var id int64
	err = q.QueryRow(ctx, `INSERT INTO grade_evaluations (structure_id, class_id, subject_id, created_by, title, held_on,
		scale, coef_hundredths, created_at, updated_at)
		SELECT structure_id, id, ?, ?, ?, ?, ?, ?, ?, ? FROM classes WHERE id = ? RETURNING id`,
		e.SubjectID, e.CreatedBy, e.Title, e.Date, e.Scale, int(e.Coef), now, now, e.ClassID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("grades: create evaluation: %w", err)
	}
	return id, nil
}

// Create adds an evaluation (see the function Create).
func (s *Store) Create(ctx context.Context, e Evaluation) (int64, error) {
	return Create(ctx, s.DB, e, s.now())
}

// Update changes an evaluation's title, date, scale and coefficient. A
// scale below a grade already entered is refused (a FieldError on "scale").
func (s *Store) Update(ctx context.Context, e Evaluation) error {
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		var top int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(quarters), 0) FROM grades WHERE evaluation_id = ? AND status = ?`,
			e.ID, string(Graded)).Scan(&top); err != nil {
			return fmt.Errorf("grades: update evaluation %d: %w", e.ID, err)
		}
		if top > 4*e.Scale {
			return &FieldError{"scale", fmt.Sprintf("Une note déjà saisie (%s) dépasse ce barème : corrigez-la d'abord.", FormatQuarters(top))}
		}
		res, err := tx.Exec(ctx, `UPDATE grade_evaluations SET title = ?, held_on = ?, scale = ?, coef_hundredths = ?,
			updated_at = ? WHERE id = ?`, e.Title, e.Date, e.Scale, int(e.Coef), s.now(), e.ID)
		if err != nil {
			return fmt.Errorf("grades: update evaluation %d: %w", e.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// Delete removes an evaluation and its grades.
func (s *Store) Delete(ctx context.Context, id int64) error {
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM grades WHERE evaluation_id = ?`, id); err != nil {
			return fmt.Errorf("grades: delete evaluation %d: %w", id, err)
		}
		res, err := tx.Exec(ctx, `DELETE FROM grade_evaluations WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("grades: delete evaluation %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

const evalCols = `e.id, e.structure_id, e.class_id, e.subject_id, e.created_by, e.title, e.held_on, e.scale, e.coef_hundredths`

func scanEval(r interface{ Scan(...any) error }, e *Evaluation) error {
	var c int
	err := r.Scan(&e.ID, &e.StructureID, &e.ClassID, &e.SubjectID, &e.CreatedBy, &e.Title, &e.Date, &e.Scale, &c)
	e.Coef = Coef(c)
	return err
}

// Evaluation returns one evaluation.
func (s *Store) Evaluation(ctx context.Context, id int64) (Evaluation, error) {
	var e Evaluation
	err := scanEval(s.DB.QueryRow(ctx, `SELECT `+evalCols+` FROM grade_evaluations e WHERE e.id = ?`, id), &e)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("grades: evaluation %d: %w", id, err)
	}
	return e, nil
}

// Sheets returns the evaluations of a class in a subject dated from → to
// (both included), by date, with every pupil's mark.
func (s *Store) Sheets(ctx context.Context, class, subject int64, from, to string) ([]Sheet, error) {
	return s.sheets(ctx, `e.class_id = ? AND e.subject_id = ?`, []any{class, subject}, from, to)
}

// PupilSheets returns the evaluations of the classes and groups of school
// year year that pupil is enrolled in, dated from → to, with every pupil's
// mark (for class figures), and the names of their subjects.
func (s *Store) PupilSheets(ctx context.Context, pupil, year int64, from, to string) ([]Sheet, map[int64]string, error) {
	sheets, err := s.sheets(ctx, `e.class_id IN (SELECT en.class_id FROM enrolments en JOIN classes c ON c.id = en.class_id
		WHERE en.user_id = ? AND c.year_id = ?)`, []any{pupil, year}, from, to)
	if err != nil {
		return nil, nil, err
	}
	names, err := s.subjectNames(ctx)
	return sheets, names, err
}

func (s *Store) subjectNames(ctx context.Context) (map[int64]string, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, name FROM subjects`)
	if err != nil {
		return nil, fmt.Errorf("grades: subjects: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// sheets reads the evaluations, then their marks in a second query: one
// joined query repeated the evaluation's columns on each of the term's
// marks (about 1,400 rows for a pupil's report), and scanning them was
// most of the report page's time (docs/benchmarks.md).
func (s *Store) sheets(ctx context.Context, where string, args []any, from, to string) ([]Sheet, error) {
	args = append(args, from, to)
	filter := `WHERE ` + where + ` AND e.held_on >= ? AND e.held_on <= ?`
	rows, err := s.DB.Query(ctx, `SELECT `+evalCols+` FROM grade_evaluations e `+filter+` ORDER BY e.held_on, e.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("grades: sheets: %w", err)
	}
	defer rows.Close()
	var out []Sheet
	at := map[int64]int{} // evaluation id → index in out
	for rows.Next() {
		var e Evaluation
		if err := scanEval(rows, &e); err != nil {
			return nil, fmt.Errorf("grades: sheets: %w", err)
		}
		at[e.ID] = len(out)
		out = append(out, Sheet{Evaluation: e, Marks: map[int64]Mark{}})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("grades: sheets: %w", err)
	}
	rows.Close()
	if len(out) == 0 {
		return nil, nil
	}
	rows, err = s.DB.Query(ctx, `SELECT g.evaluation_id, g.pupil_id, g.status, g.quarters
		FROM grades g JOIN grade_evaluations e ON e.id = g.evaluation_id `+filter, args...)
	if err != nil {
		return nil, fmt.Errorf("grades: sheets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var eval, pupil int64
		var m Mark
		if err := rows.Scan(&eval, &pupil, &m.Status, &m.Quarters); err != nil {
			return nil, fmt.Errorf("grades: sheets: %w", err)
		}
		// An evaluation added between the two queries has no sheet: its
		// marks are left for the next read.
		if i, ok := at[eval]; ok {
			out[i].Marks[pupil] = m
		}
	}
	return out, rows.Err()
}

// Sheet returns one evaluation with every pupil's mark.
func (s *Store) Sheet(ctx context.Context, id int64) (Sheet, error) {
	e, err := s.Evaluation(ctx, id)
	if err != nil {
		return Sheet{}, err
	}
	ss, err := s.sheets(ctx, `e.id = ?`, []any{id}, e.Date, e.Date)
	if err != nil {
		return Sheet{}, err
	}
	if len(ss) == 0 {
		return Sheet{}, ErrNotFound
	}
	return ss[0], nil
}

// SetMarks writes marks of evaluation e in one transaction: a nil mark
// clears the pupil's grade. Every pupil must be enrolled in e's class
// (ErrNotFound otherwise); every mark must fit e's scale (CheckMark).
func (s *Store) SetMarks(ctx context.Context, e Evaluation, by int64, marks map[int64]*Mark) error {
	for _, m := range marks {
		if m != nil {
			if err := CheckMark(*m, e.Scale); err != nil {
				return err
			}
		}
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		for pupil, m := range marks {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM enrolments WHERE user_id = ? AND class_id = ?`,
				pupil, e.ClassID).Scan(&n); err != nil {
				return fmt.Errorf("grades: set marks: %w", err)
			}
			if n == 0 {
				return fmt.Errorf("%w: pupil %d not in class %d", ErrNotFound, pupil, e.ClassID)
			}
			var err error
			if m == nil {
				_, err = tx.Exec(ctx, `DELETE FROM grades WHERE evaluation_id = ? AND pupil_id = ?`, e.ID, pupil)
			} else {
				_, err = tx.Exec(ctx, `INSERT INTO grades (evaluation_id, pupil_id, status, quarters, updated_by, updated_at)
					VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (evaluation_id, pupil_id) DO UPDATE SET status = excluded.status,
					quarters = excluded.quarters, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
					e.ID, pupil, string(m.Status), m.Quarters, by, now)
			}
			if err != nil {
				return fmt.Errorf("grades: set marks of %d: %w", e.ID, err)
			}
		}
		return nil
	})
}

// SeedMarks writes the marks of a new evaluation inside the caller's
// transaction without checks, in one statement, for the demo.
func SeedMarks(ctx context.Context, q db.Querier, evaluation, by int64, marks map[int64]Mark, now int64) error {
	if len(marks) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, 6*len(marks))
	b.WriteString(`INSERT INTO grades (evaluation_id, pupil_id, status, quarters, updated_by, updated_at) VALUES `)
	for pupil, m := range marks {
		if len(args) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, evaluation, pupil, string(m.Status), m.Quarters, by, now)
	}
	if _, err := q.Exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("grades: seed marks: %w", err)
	}
	return nil
}

// CountEvaluations counts the evaluations of the classes (for the demo's
// idempotence).
func CountEvaluations(ctx context.Context, q db.Querier, classes []int64) (int, error) {
	if len(classes) == 0 {
		return 0, nil
	}
	args := make([]any, len(classes))
	for i, c := range classes {
		args[i] = c
	}
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM grade_evaluations WHERE class_id IN (?`+
		strings.Repeat(", ?", len(classes)-1)+`)`, args...).Scan(&n)
	return n, err
}
