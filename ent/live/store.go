package live

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"preau/db"
)

// ErrNotFound: no such finished lesson.
var ErrNotFound = errors.New("live: lesson not found")

// Lesson is a finished live lesson.
type Lesson struct {
	ID        int64
	Room      string
	Structure int64
	ClassID   int64
	StartedBy int64
	StartedAt time.Time
	EndedAt   time.Time
	// People is the number of rows of its roll call (filled by Recent).
	People int
}

// Attendance is one user's presence in a lesson, every connection merged.
type Attendance struct {
	UserID    int64
	Name      string
	Role      string
	FirstJoin time.Time
	LastLeave time.Time
	Total     time.Duration
	Sessions  int
}

// Store reads and writes finished lessons and their roll calls.
type Store struct {
	DB *db.DB
}

// NewStore returns a Store on d.
func NewStore(d *db.DB) *Store { return &Store{DB: d} }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// Save records a finished lesson and its roll call in one transaction and
// returns the lesson's id. Saving the same room twice is an error.
func (s *Store) Save(ctx context.Context, l Lesson, roll []Attendance) (int64, error) {
	var id int64
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO live_lessons (room, structure_id, class_id, started_by, started_at_ms, ended_at_ms)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			l.Room, l.Structure, l.ClassID, l.StartedBy, ms(l.StartedAt), ms(l.EndedAt)).Scan(&id)
		if err != nil {
			return err
		}
		for _, a := range roll {
			if _, err := tx.Exec(ctx, `INSERT INTO live_attendance
				(lesson_id, user_id, name, role, first_join_ms, last_leave_ms, total_ms, sessions)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				id, a.UserID, a.Name, a.Role, ms(a.FirstJoin), ms(a.LastLeave), a.Total.Milliseconds(), a.Sessions); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("live: save lesson %q: %w", l.Room, err)
	}
	return id, nil
}

const lessonColumns = `id, room, structure_id, class_id, started_by, started_at_ms, ended_at_ms`

func scanLesson(row interface{ Scan(...any) error }) (Lesson, error) {
	var l Lesson
	var start, end int64
	err := row.Scan(&l.ID, &l.Room, &l.Structure, &l.ClassID, &l.StartedBy, &start, &end)
	l.StartedAt, l.EndedAt = fromMS(start), fromMS(end)
	return l, err
}

// Lesson returns the finished lesson id.
func (s *Store) Lesson(ctx context.Context, id int64) (Lesson, error) {
	l, err := scanLesson(s.DB.QueryRow(ctx, `SELECT `+lessonColumns+` FROM live_lessons WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Lesson{}, ErrNotFound
	}
	if err != nil {
		return Lesson{}, fmt.Errorf("live: lesson %d: %w", id, err)
	}
	return l, nil
}

// Recent returns the latest finished lessons of the structures (all of them
// when structures is nil), newest first, at most limit, with the size of
// their roll call.
func (s *Store) Recent(ctx context.Context, structures []int64, limit int) ([]Lesson, error) {
	q := `SELECT ` + lessonColumns + `, (SELECT COUNT(*) FROM live_attendance a WHERE a.lesson_id = live_lessons.id)
		FROM live_lessons`
	var args []any
	if structures != nil {
		if len(structures) == 0 {
			return nil, nil
		}
		q += ` WHERE structure_id IN (?` + repeat(", ?", len(structures)-1) + `)`
		for _, id := range structures {
			args = append(args, id)
		}
	}
	q += ` ORDER BY started_at_ms DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("live: recent lessons: %w", err)
	}
	defer rows.Close()
	var out []Lesson
	for rows.Next() {
		var l Lesson
		var start, end int64
		if err := rows.Scan(&l.ID, &l.Room, &l.Structure, &l.ClassID, &l.StartedBy, &start, &end, &l.People); err != nil {
			return nil, fmt.Errorf("live: recent lessons: %w", err)
		}
		l.StartedAt, l.EndedAt = fromMS(start), fromMS(end)
		out = append(out, l)
	}
	return out, rows.Err()
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// Roll returns the roll call of lesson id, by name.
func (s *Store) Roll(ctx context.Context, id int64) ([]Attendance, error) {
	rows, err := s.DB.Query(ctx, `SELECT user_id, name, role, first_join_ms, last_leave_ms, total_ms, sessions
		FROM live_attendance WHERE lesson_id = ? ORDER BY name, user_id`, id)
	if err != nil {
		return nil, fmt.Errorf("live: roll call of %d: %w", id, err)
	}
	defer rows.Close()
	var out []Attendance
	for rows.Next() {
		var a Attendance
		var first, last, total int64
		if err := rows.Scan(&a.UserID, &a.Name, &a.Role, &first, &last, &total, &a.Sessions); err != nil {
			return nil, fmt.Errorf("live: roll call of %d: %w", id, err)
		}
		a.FirstJoin, a.LastLeave, a.Total = fromMS(first), fromMS(last), time.Duration(total)*time.Millisecond
		out = append(out, a)
	}
	return out, rows.Err()
}
