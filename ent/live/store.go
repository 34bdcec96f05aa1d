package live

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"preau/db"
)

// ErrNotFound: no such lesson.
var ErrNotFound = errors.New("live: lesson not found")

// ErrClosed: the lesson is no longer running (ended, or closed as
// interrupted by a sweep); a checkpoint of it is not written.
var ErrClosed = errors.New("live: lesson not running")

// A lesson's status.
const (
	// StatusRunning: the lesson runs on a node that writes its heartbeat.
	StatusRunning = "running"
	// StatusEnded: the lesson was ended (by its teacher, the API or a clean
	// shutdown) and its roll call saved in full.
	StatusEnded = "ended"
	// StatusInterrupted: its node stopped writing (killed, crashed); a sweep
	// closed it at its last heartbeat, with the roll call written so far.
	StatusInterrupted = "interrupted"
)

// Lesson is a live lesson, running or finished.
type Lesson struct {
	ID        int64
	Room      string
	Structure int64
	ClassID   int64
	StartedBy int64
	StartedAt time.Time
	// EndedAt is zero while the lesson runs; for an interrupted lesson it
	// is its last heartbeat.
	EndedAt time.Time
	// Status is StatusRunning, StatusEnded or StatusInterrupted.
	Status string
	// Heartbeat is the last time the running node wrote the lesson.
	Heartbeat time.Time
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
	// Total is the time present. In a checkpoint of a running lesson it
	// counts the closed sessions only, and Since is the start of the running
	// one (zero when absent); Roll adds the running session up to the
	// lesson's end or last heartbeat.
	Total    time.Duration
	Sessions int
	Since    time.Time
}

// Store reads and writes live lessons and their roll calls.
type Store struct {
	DB *db.DB
}

// NewStore returns a Store on d.
func NewStore(d *db.DB) *Store { return &Store{DB: d} }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// upsertAttendance writes rows of lesson id, replacing a user's earlier row.
func upsertAttendance(ctx context.Context, tx *db.Tx, id int64, roll []Attendance) error {
	for _, a := range roll {
		if _, err := tx.Exec(ctx, `INSERT INTO live_attendance
			(lesson_id, user_id, name, role, first_join_ms, last_leave_ms, total_ms, sessions, since_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (lesson_id, user_id) DO UPDATE SET name = excluded.name, role = excluded.role,
				first_join_ms = excluded.first_join_ms, last_leave_ms = excluded.last_leave_ms,
				total_ms = excluded.total_ms, sessions = excluded.sessions, since_ms = excluded.since_ms`,
			id, a.UserID, a.Name, a.Role, ms(a.FirstJoin), ms(a.LastLeave), a.Total.Milliseconds(), a.Sessions,
			ms(a.Since)); err != nil {
			return err
		}
	}
	return nil
}

// Start records a lesson as running, its heartbeat at l.StartedAt, and
// returns its id; starting the same room again returns the same id.
func (s *Store) Start(ctx context.Context, l Lesson) (int64, error) {
	var id int64
	// The no-op update makes RETURNING give the existing row's id too.
	err := s.DB.QueryRow(ctx, `INSERT INTO live_lessons
		(room, structure_id, class_id, started_by, started_at_ms, ended_at_ms, status, heartbeat_ms)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?)
		ON CONFLICT (room) DO UPDATE SET room = excluded.room RETURNING id`,
		l.Room, l.Structure, l.ClassID, l.StartedBy, ms(l.StartedAt), StatusRunning, ms(l.StartedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("live: start lesson %q: %w", l.Room, err)
	}
	return id, nil
}

// Checkpoint writes the heartbeat of running lesson id at at, and the rows
// of roll (the users whose record changed) in one transaction. ErrClosed
// when the lesson is no longer running: nothing is written, so a late
// checkpoint never overwrites the final roll call.
func (s *Store) Checkpoint(ctx context.Context, id int64, at time.Time, roll []Attendance) error {
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		// Updating the lesson first locks its row: Save and Sweep, which
		// update it too, are serialized with this transaction.
		res, err := tx.Exec(ctx, `UPDATE live_lessons SET heartbeat_ms = ? WHERE id = ? AND status = ?`,
			ms(at), id, StatusRunning)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrClosed
		}
		return upsertAttendance(ctx, tx, id, roll)
	})
	if err != nil && !errors.Is(err, ErrClosed) {
		return fmt.Errorf("live: checkpoint lesson %d: %w", id, err)
	}
	return err
}

// Save records a finished lesson and its final roll call in one
// transaction and returns the lesson's id. A lesson journaled since its
// start (Start, Checkpoint) is finished in place, its rows replaced; saving
// a room already ended is an error.
func (s *Store) Save(ctx context.Context, l Lesson, roll []Attendance) (int64, error) {
	var id int64
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO live_lessons
			(room, structure_id, class_id, started_by, started_at_ms, ended_at_ms, status, heartbeat_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (room) DO UPDATE SET ended_at_ms = excluded.ended_at_ms, status = excluded.status,
				heartbeat_ms = excluded.heartbeat_ms
			WHERE live_lessons.status <> ? RETURNING id`,
			l.Room, l.Structure, l.ClassID, l.StartedBy, ms(l.StartedAt), ms(l.EndedAt), StatusEnded, ms(l.EndedAt),
			StatusEnded).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("room already ended")
		}
		if err != nil {
			return err
		}
		return upsertAttendance(ctx, tx, id, roll)
	})
	if err != nil {
		return 0, fmt.Errorf("live: save lesson %q: %w", l.Room, err)
	}
	return id, nil
}

// Sweep closes the running lessons whose last heartbeat is before
// staleBefore — their node died without ending them — as interrupted, ended
// at that heartbeat, and returns how many it closed. Their roll call is the
// one written up to then.
func (s *Store) Sweep(ctx context.Context, staleBefore time.Time) (int64, error) {
	res, err := s.DB.Exec(ctx, `UPDATE live_lessons SET status = ?, ended_at_ms = heartbeat_ms
		WHERE status = ? AND heartbeat_ms < ?`, StatusInterrupted, StatusRunning, ms(staleBefore))
	if err != nil {
		return 0, fmt.Errorf("live: sweep lessons: %w", err)
	}
	return res.RowsAffected()
}

const lessonColumns = `id, room, structure_id, class_id, started_by, started_at_ms, ended_at_ms, status, heartbeat_ms`

type scanner interface{ Scan(...any) error }

func scanLesson(row scanner, more ...any) (Lesson, error) {
	var l Lesson
	var start, end, beat int64
	err := row.Scan(append([]any{&l.ID, &l.Room, &l.Structure, &l.ClassID, &l.StartedBy, &start, &end, &l.Status, &beat},
		more...)...)
	l.StartedAt, l.EndedAt, l.Heartbeat = fromMS(start), fromMS(end), fromMS(beat)
	return l, err
}

// Running returns the lesson of room while it runs: its node is alive, or
// died so recently that no sweep closed it yet. ErrNotFound otherwise.
func (s *Store) Running(ctx context.Context, room string) (Lesson, error) {
	l, err := scanLesson(s.DB.QueryRow(ctx, `SELECT `+lessonColumns+` FROM live_lessons WHERE room = ? AND status = ?`,
		room, StatusRunning))
	if errors.Is(err, sql.ErrNoRows) {
		return Lesson{}, ErrNotFound
	}
	if err != nil {
		return Lesson{}, fmt.Errorf("live: running lesson %q: %w", room, err)
	}
	return l, nil
}

// Lesson returns lesson id, running or finished.
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

// Recent returns the latest finished (ended or interrupted) lessons of the
// structures (all of them when structures is nil), newest first, at most
// limit, with the size of their roll call.
func (s *Store) Recent(ctx context.Context, structures []int64, limit int) ([]Lesson, error) {
	q := `SELECT ` + lessonColumns + `, (SELECT COUNT(*) FROM live_attendance a WHERE a.lesson_id = live_lessons.id)
		FROM live_lessons WHERE status <> ?`
	args := []any{StatusRunning}
	if structures != nil {
		if len(structures) == 0 {
			return nil, nil
		}
		q += ` AND structure_id IN (?` + repeat(", ?", len(structures)-1) + `)`
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
		var people int
		l, err := scanLesson(rows, &people)
		if err != nil {
			return nil, fmt.Errorf("live: recent lessons: %w", err)
		}
		l.People = people
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

// Roll returns the roll call of lesson id, by name. A session still open
// in the journal (the lesson runs, or its node died) counts up to the
// lesson's end, or its last heartbeat while it runs: that is also its last
// departure.
func (s *Store) Roll(ctx context.Context, id int64) ([]Attendance, error) {
	rows, err := s.DB.Query(ctx, `SELECT a.user_id, a.name, a.role, a.first_join_ms, a.last_leave_ms, a.total_ms,
		a.sessions, a.since_ms, l.ended_at_ms, l.heartbeat_ms
		FROM live_attendance a JOIN live_lessons l ON l.id = a.lesson_id
		WHERE a.lesson_id = ? ORDER BY a.name, a.user_id`, id)
	if err != nil {
		return nil, fmt.Errorf("live: roll call of %d: %w", id, err)
	}
	defer rows.Close()
	var out []Attendance
	for rows.Next() {
		var a Attendance
		var first, last, total, since, ended, beat int64
		if err := rows.Scan(&a.UserID, &a.Name, &a.Role, &first, &last, &total, &a.Sessions, &since, &ended, &beat); err != nil {
			return nil, fmt.Errorf("live: roll call of %d: %w", id, err)
		}
		if since > 0 {
			end := cmp.Or(ended, beat)
			if end > since {
				total += end - since
			}
			last = max(end, since)
		}
		a.FirstJoin, a.LastLeave, a.Total = fromMS(first), fromMS(last), time.Duration(total)*time.Millisecond
		out = append(out, a)
	}
	return out, rows.Err()
}
