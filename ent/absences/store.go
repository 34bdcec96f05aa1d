package absences

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"preau/db"
)

// ErrNotFound: no such record.
var ErrNotFound = errors.New("absences: not found")

// Store keeps records and roll calls in the database.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// New returns a store over d.
func New(d *db.DB) *Store { return &Store{db: d, now: time.Now} }

// SetClock replaces the store's clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

const columns = `a.id, a.structure_id, a.class_id, c.name, a.pupil_id, u.first_name, u.last_name, a.kind, a.on_date,
	a.start_min, a.end_min, a.late_min, a.subject, a.status, a.reason, a.reason_text, a.comment, a.recorded_by,
	a.recorded_at_ms, a.justified_at_ms, a.decided_by, a.decided_at_ms, a.doc_key, a.doc_name, a.doc_size, a.doc_type, a.doc_sha256`

const from = ` FROM absences a JOIN classes c ON c.id = a.class_id JOIN users u ON u.id = a.pupil_id`

func msTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func scan(rows *sql.Rows, err error) ([]Record, error) {
	if err != nil {
		return nil, fmt.Errorf("absences: list: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var last string
		var rec, just, dec int64
		var d Document
		if err := rows.Scan(&r.ID, &r.StructureID, &r.ClassID, &r.ClassName, &r.PupilID, &r.FirstName, &last, &r.Kind, &r.Date,
			&r.Start, &r.End, &r.LateMin, &r.Subject, &r.Status, &r.Reason, &r.ReasonText, &r.Comment, &r.RecordedBy,
			&rec, &just, &r.DecidedBy, &dec, &d.Key, &d.Name, &d.Size, &d.ContentType, &d.SHA256); err != nil {
			return nil, fmt.Errorf("absences: list: %w", err)
		}
		r.PupilName = r.FirstName + " " + last
		r.RecordedAt, r.JustifiedAt, r.DecidedAt = msTime(rec), msTime(just), msTime(dec)
		if d.Key != "" {
			r.Document = &d
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Filter chooses records: of some structures, classes or pupils (at least
// one set; several are ANDed), between two dates (both included, "" open).
type Filter struct {
	Structure int64
	Classes   []int64
	Pupils    []int64
	From, To  string
	Status    string
}

func in(col string, ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")", args
}

// List returns the filter's records, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Record, error) {
	var conds []string
	var args []any
	if f.Structure != 0 {
		conds, args = append(conds, "a.structure_id = ?"), append(args, f.Structure)
	}
	if f.Classes != nil {
		if len(f.Classes) == 0 {
			return nil, nil
		}
		c, a := in("a.class_id", f.Classes)
		conds, args = append(conds, c), append(args, a...)
	}
	if f.Pupils != nil {
		if len(f.Pupils) == 0 {
			return nil, nil
		}
		c, a := in("a.pupil_id", f.Pupils)
		conds, args = append(conds, c), append(args, a...)
	}
	if len(conds) == 0 {
		return nil, nil
	}
	if f.From != "" {
		conds, args = append(conds, "a.on_date >= ?"), append(args, f.From)
	}
	if f.To != "" {
		conds, args = append(conds, "a.on_date <= ?"), append(args, f.To)
	}
	if f.Status != "" {
		conds, args = append(conds, "a.status = ?"), append(args, f.Status)
	}
	return scan(s.db.Query(ctx, "SELECT "+columns+from+" WHERE "+strings.Join(conds, " AND ")+
		" ORDER BY a.on_date DESC, a.start_min DESC, c.name, u.last_name, u.first_name", args...))
}

// Get returns one record.
func (s *Store) Get(ctx context.Context, id int64) (Record, error) {
	out, err := scan(s.db.Query(ctx, "SELECT "+columns+from+" WHERE a.id = ?", id))
	if err != nil {
		return Record{}, err
	}
	if len(out) == 0 {
		return Record{}, ErrNotFound
	}
	return out[0], nil
}

func insert(ctx context.Context, q db.Querier, r *Record, at int64) error {
	err := q.QueryRow(ctx, `INSERT INTO absences (structure_id, class_id, pupil_id, kind, on_date, start_min, end_min, late_min,
		subject, status, comment, recorded_by, recorded_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.StructureID, r.ClassID, r.PupilID, r.Kind, r.Date, r.Start, r.End, r.LateMin, r.Subject, r.Status, r.Comment,
		r.RecordedBy, at).Scan(&r.ID)
	if db.IsUniqueViolation(err) {
		return invalid("cet élève a déjà une absence ou un retard à ce cours")
	}
	return err
}

// Create adds a record (the vie scolaire's form, or the demo) after
// checking it; the structure is the class's.
func (s *Store) Create(ctx context.Context, r Record) (Record, error) {
	if err := Check(&r); err != nil {
		return Record{}, err
	}
	if err := s.db.QueryRow(ctx, "SELECT structure_id FROM classes WHERE id = ?", r.ClassID).Scan(&r.StructureID); err != nil {
		return Record{}, invalid("cette classe n'existe pas")
	}
	if err := insert(ctx, s.db, &r, s.now().UnixMilli()); err != nil {
		var inv *Invalid
		if errors.As(err, &inv) {
			return Record{}, err
		}
		return Record{}, fmt.Errorf("absences: create: %w", err)
	}
	return s.Get(ctx, r.ID)
}

// Update replaces what the vie scolaire edits: kind, date and times,
// minutes late, subject, status and comment. The pupil and class stay.
func (s *Store) Update(ctx context.Context, r Record) (Record, error) {
	if err := Check(&r); err != nil {
		return Record{}, err
	}
	res, err := s.db.Exec(ctx, `UPDATE absences SET kind = ?, on_date = ?, start_min = ?, end_min = ?, late_min = ?, subject = ?,
		status = ?, comment = ?, decided_by = CASE WHEN status <> ? THEN ? ELSE decided_by END,
		decided_at_ms = CASE WHEN status <> ? THEN ? ELSE decided_at_ms END WHERE id = ?`,
		r.Kind, r.Date, r.Start, r.End, r.LateMin, r.Subject, r.Status, r.Comment, r.Status, r.DecidedBy, r.Status,
		s.now().UnixMilli(), r.ID)
	if db.IsUniqueViolation(err) {
		return Record{}, invalid("cet élève a déjà une absence ou un retard à ce cours")
	}
	if err != nil {
		return Record{}, fmt.Errorf("absences: update: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Record{}, ErrNotFound
	}
	return s.Get(ctx, r.ID)
}

// Delete removes a record; it returns the key of its document's copy ("" for
// none), for the caller to drop.
func (s *Store) Delete(ctx context.Context, id int64) (string, error) {
	var key string
	err := s.db.QueryRow(ctx, "DELETE FROM absences WHERE id = ? RETURNING doc_key", id).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("absences: delete: %w", err)
	}
	return key, nil
}

// Justify records a family's justification (reason code, free text, an
// optional document copy): the record awaits the vie scolaire's decision.
// A record already justified is refused. It returns the key of a document
// copy it replaced, for the caller to drop.
func (s *Store) Justify(ctx context.Context, id, by int64, reason, text string, doc *Document) (string, error) {
	text, err := CheckReason(reason, text)
	if err != nil {
		return "", err
	}
	var old string
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var status string
		err := tx.QueryRow(ctx, "SELECT status, doc_key FROM absences WHERE id = ?", id).Scan(&status, &old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status == Justified {
			return invalid("cette absence est déjà justifiée")
		}
		set := "status = ?, reason = ?, reason_text = ?, justified_by = ?, justified_at_ms = ?"
		args := []any{Pending, reason, text, by, s.now().UnixMilli()}
		if doc != nil {
			set += ", doc_key = ?, doc_name = ?, doc_size = ?, doc_type = ?, doc_sha256 = ?"
			args = append(args, doc.Key, doc.Name, doc.Size, doc.ContentType, doc.SHA256)
		} else {
			old = ""
		}
		_, err = tx.Exec(ctx, "UPDATE absences SET "+set+" WHERE id = ?", append(args, id)...)
		return err
	})
	var inv *Invalid
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.As(err, &inv) {
		return "", fmt.Errorf("absences: justify: %w", err)
	}
	return old, err
}

// Decide accepts (Justified) or refuses (Refused) a record's justification,
// or marks it justified or unjustified without one; comment, when not
// empty, replaces the vie scolaire's comment.
func (s *Store) Decide(ctx context.Context, id, by int64, status, comment string) (Record, error) {
	if status != Justified && status != Refused && status != Unjustified {
		return Record{}, invalid("décision inconnue")
	}
	comment, err := cleanText(comment, MaxComment, "le commentaire")
	if err != nil {
		return Record{}, err
	}
	set := "status = ?, decided_by = ?, decided_at_ms = ?"
	args := []any{status, by, s.now().UnixMilli()}
	if comment != "" {
		set += ", comment = ?"
		args = append(args, comment)
	}
	res, err := s.db.Exec(ctx, "UPDATE absences SET "+set+" WHERE id = ?", append(args, id)...)
	if err != nil {
		return Record{}, fmt.Errorf("absences: decide: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Record{}, ErrNotFound
	}
	return s.Get(ctx, id)
}

// Lesson is the lesson a roll call is taken for.
type Lesson struct {
	ClassID     int64  `json:"class_id"`
	StructureID int64  `json:"structure_id"`
	Date        string `json:"date"`
	Start       int    `json:"start_min"`
	End         int    `json:"end_min"`
	Subject     string `json:"subject,omitempty"`
}

// Mark is one pupil's line of a roll call.
type Mark struct {
	PupilID int64  `json:"pupil_id"`
	Kind    string `json:"kind"` // Present, Absent or Late
	LateMin int    `json:"late_min,omitempty"`
}

// Roll is a roll call taken.
type Roll struct {
	Lesson
	TakenBy  int64     `json:"taken_by"`
	TakenAt  time.Time `json:"taken_at"`
	Pupils   int       `json:"pupils"`
	Absent   int       `json:"absent"`
	Late     int       `json:"late"`
	FromLive bool      `json:"from_live"`
}

// TakeRoll records a roll call: a record for each pupil marked absent or
// late (an existing record of the same lesson changes kind; a pupil marked
// present loses a record not yet justified). It returns the records made
// or changed, for the family's notification.
func (s *Store) TakeRoll(ctx context.Context, l Lesson, by int64, fromLive bool, marks []Mark) ([]Record, error) {
	probe := Record{Kind: Absent, Date: l.Date, Start: l.Start, End: l.End, Subject: l.Subject}
	if err := Check(&probe); err != nil {
		return nil, err
	}
	l.Subject = probe.Subject
	for _, m := range marks {
		if m.Kind == Late {
			r := probe
			r.Kind, r.LateMin = Late, m.LateMin
			if err := Check(&r); err != nil {
				return nil, err
			}
		} else if m.Kind != Absent && m.Kind != Present {
			return nil, invalid("chaque élève est présent, absent ou en retard")
		}
	}
	now := s.now().UnixMilli()
	var changed []int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		changed = changed[:0]
		var absent, late int
		for _, m := range marks {
			var id int64
			var kind, status string
			var lateMin int
			err := tx.QueryRow(ctx, "SELECT id, kind, status, late_min FROM absences WHERE pupil_id = ? AND on_date = ? AND start_min = ?",
				m.PupilID, l.Date, l.Start).Scan(&id, &kind, &status, &lateMin)
			exists := err == nil
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			switch {
			case m.Kind == Present:
				if exists && status != Justified {
					if _, err := tx.Exec(ctx, "DELETE FROM absences WHERE id = ?", id); err != nil {
						return err
					}
				}
				continue
			case m.Kind == Absent:
				absent++
			default:
				late++
			}
			if exists {
				if kind != m.Kind || lateMin != m.LateMin {
					if _, err := tx.Exec(ctx, "UPDATE absences SET kind = ?, late_min = ?, recorded_by = ?, recorded_at_ms = ? WHERE id = ?",
						m.Kind, m.LateMin, by, now, id); err != nil {
						return err
					}
					changed = append(changed, id)
				}
				continue
			}
			r := Record{StructureID: l.StructureID, ClassID: l.ClassID, PupilID: m.PupilID, Kind: m.Kind, Date: l.Date,
				Start: l.Start, End: l.End, LateMin: m.LateMin, Subject: l.Subject, Status: Unjustified, RecordedBy: by}
			if r.Kind == Absent {
				r.LateMin = 0
			}
			if err := insert(ctx, tx, &r, now); err != nil {
				return err
			}
			changed = append(changed, r.ID)
		}
		_, err := tx.Exec(ctx, `INSERT INTO absence_rolls (class_id, on_date, start_min, end_min, subject, taken_by, taken_at_ms,
			pupils, absent, late, from_live) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (class_id, on_date, start_min) DO UPDATE SET end_min = excluded.end_min, subject = excluded.subject,
			taken_by = excluded.taken_by, taken_at_ms = excluded.taken_at_ms, pupils = excluded.pupils, absent = excluded.absent,
			late = excluded.late, from_live = excluded.from_live`,
			l.ClassID, l.Date, l.Start, l.End, l.Subject, by, now, len(marks), absent, late, fromLive)
		return err
	})
	if err != nil {
		var inv *Invalid
		if errors.As(err, &inv) {
			return nil, err
		}
		return nil, fmt.Errorf("absences: roll call: %w", err)
	}
	var out []Record
	for _, id := range changed {
		r, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Rolls lists the roll calls taken for some classes between two dates,
// newest first.
func (s *Store) Rolls(ctx context.Context, classes []int64, fromDate, toDate string) ([]Roll, error) {
	if len(classes) == 0 {
		return nil, nil
	}
	c, args := in("r.class_id", classes)
	rows, err := s.db.Query(ctx, `SELECT r.class_id, c.structure_id, r.on_date, r.start_min, r.end_min, r.subject, r.taken_by,
		r.taken_at_ms, r.pupils, r.absent, r.late, r.from_live FROM absence_rolls r JOIN classes c ON c.id = r.class_id
		WHERE `+c+` AND r.on_date >= ? AND r.on_date <= ? ORDER BY r.on_date DESC, r.start_min DESC`, append(args, fromDate, toDate)...)
	if err != nil {
		return nil, fmt.Errorf("absences: rolls: %w", err)
	}
	defer rows.Close()
	var out []Roll
	for rows.Next() {
		var r Roll
		var at int64
		if err := rows.Scan(&r.ClassID, &r.StructureID, &r.Date, &r.Start, &r.End, &r.Subject, &r.TakenBy, &at, &r.Pupils,
			&r.Absent, &r.Late, &r.FromLive); err != nil {
			return nil, fmt.Errorf("absences: rolls: %w", err)
		}
		r.TakenAt = msTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// LiveAttendance looks for live lessons of the class overlapping the lesson
// (ended or running) and returns who joined them: found is false when the
// class had none.
func (s *Store) LiveAttendance(ctx context.Context, classID int64, begin, end time.Time) (joined map[int64]bool, found bool, err error) {
	rows, err := s.db.Query(ctx, `SELECT l.id, COALESCE(a.user_id, 0) FROM live_lessons l
		LEFT JOIN live_attendance a ON a.lesson_id = l.id
		WHERE l.class_id = ? AND l.started_at_ms < ? AND (l.ended_at_ms > ? OR l.ended_at_ms = 0)`,
		classID, end.UnixMilli(), begin.UnixMilli())
	if err != nil {
		return nil, false, fmt.Errorf("absences: live attendance: %w", err)
	}
	defer rows.Close()
	joined = map[int64]bool{}
	for rows.Next() {
		var lesson, user int64
		if err := rows.Scan(&lesson, &user); err != nil {
			return nil, false, fmt.Errorf("absences: live attendance: %w", err)
		}
		found = true
		if user != 0 {
			joined[user] = true
		}
	}
	return joined, found, rows.Err()
}

// Insert adds a record inside the caller's transaction with the checks of
// Create but none against the directory: for data known to be right (the
// demo).
func Insert(ctx context.Context, q db.Querier, r Record, at time.Time) (int64, error) {
	if err := Check(&r); err != nil {
		return 0, err
	}
	if err := insert(ctx, q, &r, at.UnixMilli()); err != nil {
		return 0, err
	}
	if r.Status != Unjustified {
		if _, err := q.Exec(ctx, `UPDATE absences SET reason = ?, reason_text = ?, justified_by = ?, justified_at_ms = ?,
			decided_by = ?, decided_at_ms = ? WHERE id = ?`, r.Reason, r.ReasonText, r.RecordedBy, at.UnixMilli(),
			r.DecidedBy, at.UnixMilli(), r.ID); err != nil {
			return 0, err
		}
	}
	return r.ID, nil
}
