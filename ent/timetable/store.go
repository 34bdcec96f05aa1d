package timetable

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"preau/db"
)

// Errors of the store.
var (
	// ErrNotFound: no such slot.
	ErrNotFound = errors.New("timetable: not found")
)

// Invalid is a refused slot or change, with a French message for the page.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "timetable: " + e.Msg }

func invalid(format string, args ...any) error { return &Invalid{Msg: fmt.Sprintf(format, args...)} }

// Store keeps slots and changes in the database.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// New returns a store over d.
func New(d *db.DB) *Store { return &Store{db: d, now: time.Now} }

const slotColumns = `s.id, c.structure_id, s.class_id, c.name, s.subject_id, sub.name, COALESCE(s.teacher_id, 0),
	COALESCE(u.first_name || ' ' || u.last_name, ''), s.room, s.weekday, s.start_min, s.end_min, s.weeks`

const slotFrom = ` FROM timetable_slots s JOIN classes c ON c.id = s.class_id JOIN subjects sub ON sub.id = s.subject_id
	LEFT JOIN users u ON u.id = s.teacher_id`

func scanSlots(rows *sql.Rows, err error) ([]Slot, error) {
	if err != nil {
		return nil, fmt.Errorf("timetable: slots: %w", err)
	}
	defer rows.Close()
	var out []Slot
	for rows.Next() {
		var s Slot
		if err := rows.Scan(&s.ID, &s.StructureID, &s.ClassID, &s.ClassName, &s.SubjectID, &s.Subject, &s.TeacherID,
			&s.TeacherName, &s.Room, &s.Weekday, &s.Start, &s.End, &s.Weeks); err != nil {
			return nil, fmt.Errorf("timetable: slots: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Filter chooses whose timetable: the slots of some classes, or of one
// teacher (either may be empty, not both).
type Filter struct {
	Classes []int64
	Teacher int64
}

func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	if len(f.Classes) > 0 {
		conds = append(conds, "s.class_id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.Classes)), ",")+")")
		for _, c := range f.Classes {
			args = append(args, c)
		}
	}
	if f.Teacher != 0 {
		conds = append(conds, "s.teacher_id = ?")
		args = append(args, f.Teacher)
	}
	if len(conds) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// Slots lists the filter's slots by day and time.
func (s *Store) Slots(ctx context.Context, f Filter) ([]Slot, error) {
	w, args := f.where()
	return scanSlots(s.db.Query(ctx, "SELECT "+slotColumns+slotFrom+" WHERE "+w+" ORDER BY s.weekday, s.start_min, c.name", args...))
}

// Slot returns one slot.
func (s *Store) Slot(ctx context.Context, id int64) (Slot, error) {
	out, err := scanSlots(s.db.Query(ctx, "SELECT "+slotColumns+slotFrom+" WHERE s.id = ?", id))
	if err != nil {
		return Slot{}, err
	}
	if len(out) == 0 {
		return Slot{}, ErrNotFound
	}
	return out[0], nil
}

// Week returns the filter's lessons of the week holding day, with changes
// applied (docs/timetable.md).
func (s *Store) Week(ctx context.Context, f Filter, day time.Time) ([]Occurrence, error) {
	slots, err := s.Slots(ctx, f)
	if err != nil || len(slots) == 0 {
		return nil, err
	}
	monday := Monday(day)
	from, to := monday.Format(DateLayout), monday.AddDate(0, 0, 6).Format(DateLayout)
	w, args := f.where()
	rows, err := s.db.Query(ctx, `SELECT ch.slot_id, ch.on_date, ch.status, ch.new_date, ch.new_start_min, ch.new_end_min,
		ch.new_room, ch.note, ch.changed_by FROM timetable_changes ch JOIN timetable_slots s ON s.id = ch.slot_id
		WHERE `+w+` AND ((ch.on_date >= ? AND ch.on_date <= ?) OR (ch.new_date >= ? AND ch.new_date <= ?))`,
		append(args, from, to, from, to)...)
	if err != nil {
		return nil, fmt.Errorf("timetable: changes: %w", err)
	}
	defer rows.Close()
	var changes []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.SlotID, &c.Date, &c.Status, &c.NewDate, &c.NewStart, &c.NewEnd, &c.NewRoom, &c.Note, &c.By); err != nil {
			return nil, fmt.Errorf("timetable: changes: %w", err)
		}
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return Expand(slots, changes, monday), nil
}

// check validates a slot's own fields (not its neighbours).
func check(sl *Slot) error {
	sl.Room = strings.TrimSpace(sl.Room)
	sl.Weeks = strings.ToUpper(strings.TrimSpace(sl.Weeks))
	switch {
	case sl.ClassID <= 0:
		return invalid("choisissez une classe")
	case sl.SubjectID <= 0:
		return invalid("choisissez une matière")
	case sl.Weekday < 1 || sl.Weekday > 6:
		return invalid("le jour doit être du lundi au samedi")
	case sl.Start < DayStart || sl.End > DayEnd:
		return invalid("les cours ont lieu entre %s et %s", FrTime(DayStart), FrTime(DayEnd))
	case sl.End-sl.Start < MinDuration:
		return invalid("un cours dure au moins %d minutes (et finit après son début)", MinDuration)
	case sl.End-sl.Start > MaxDuration:
		return invalid("un cours dure au plus %d heures", MaxDuration/60)
	case sl.Weeks != "" && sl.Weeks != "A" && sl.Weeks != "B":
		return invalid("semaine : vide (toutes), A ou B")
	case !utf8.ValidString(sl.Room) || strings.ContainsFunc(sl.Room, isControl) || utf8.RuneCountInString(sl.Room) > MaxRoom:
		return invalid("la salle : %d caractères au plus, sans caractère de contrôle", MaxRoom)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// clash finds a slot of the same class, teacher or room that meets sl.
func clash(ctx context.Context, q db.Querier, sl Slot) error {
	rows, err := q.Query(ctx, "SELECT "+slotColumns+slotFrom+` WHERE s.weekday = ? AND s.id <> ?
		AND (s.class_id = ? OR (s.teacher_id = ? AND s.teacher_id IS NOT NULL) OR (s.room = ? AND s.room <> '' AND c.structure_id = ?))`,
		sl.Weekday, sl.ID, sl.ClassID, sl.TeacherID, sl.Room, sl.StructureID)
	others, err := scanSlots(rows, err)
	if err != nil {
		return err
	}
	for _, o := range others {
		if !overlaps(sl, o) {
			continue
		}
		what := fmt.Sprintf("la %s a déjà %s", o.ClassName, o.Subject)
		switch {
		case o.ClassID == sl.ClassID:
		case sl.TeacherID != 0 && o.TeacherID == sl.TeacherID:
			what = fmt.Sprintf("%s fait déjà cours en %s", o.TeacherName, o.ClassName)
		default:
			what = fmt.Sprintf("la salle %s est déjà prise par la %s", o.Room, o.ClassName)
		}
		return invalid("chevauchement : %s le %s de %s à %s", what, Days[o.Weekday], FrTime(o.Start), FrTime(o.End))
	}
	return nil
}

// complete checks sl against the directory (the class, the subject, the
// teacher teaching in the class's school) and fills the structure.
func complete(ctx context.Context, q db.Querier, sl *Slot) error {
	if err := check(sl); err != nil {
		return err
	}
	err := q.QueryRow(ctx, "SELECT structure_id FROM classes WHERE id = ?", sl.ClassID).Scan(&sl.StructureID)
	if errors.Is(err, sql.ErrNoRows) {
		return invalid("cette classe n'existe pas")
	}
	if err != nil {
		return fmt.Errorf("timetable: class: %w", err)
	}
	var one int
	if err := q.QueryRow(ctx, "SELECT 1 FROM subjects WHERE id = ?", sl.SubjectID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return invalid("cette matière n'existe pas")
	} else if err != nil {
		return fmt.Errorf("timetable: subject: %w", err)
	}
	if sl.TeacherID != 0 {
		err := q.QueryRow(ctx, "SELECT 1 FROM roles WHERE user_id = ? AND structure_id = ? AND profile = 'enseignant'",
			sl.TeacherID, sl.StructureID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid("cette personne n'enseigne pas dans l'établissement de la classe")
		}
		if err != nil {
			return fmt.Errorf("timetable: teacher: %w", err)
		}
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CreateSlot adds a slot after checking it and its neighbours.
func (s *Store) CreateSlot(ctx context.Context, sl Slot) (Slot, error) {
	sl.ID = 0
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		return insertSlot(ctx, tx, &sl)
	})
	if err != nil {
		return Slot{}, err
	}
	return s.Slot(ctx, sl.ID)
}

func insertSlot(ctx context.Context, tx db.Querier, sl *Slot) error {
	if err := complete(ctx, tx, sl); err != nil {
		return err
	}
	if err := clash(ctx, tx, *sl); err != nil {
		return err
	}
	err := tx.QueryRow(ctx, `INSERT INTO timetable_slots (class_id, subject_id, teacher_id, room, weekday, start_min, end_min, weeks)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, sl.ClassID, sl.SubjectID, nullID(sl.TeacherID), sl.Room, sl.Weekday,
		sl.Start, sl.End, sl.Weeks).Scan(&sl.ID)
	if err != nil {
		return fmt.Errorf("timetable: create slot: %w", err)
	}
	return nil
}

// UpdateSlot replaces a slot's fields (its class stays).
func (s *Store) UpdateSlot(ctx context.Context, sl Slot) (Slot, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var class int64
		err := tx.QueryRow(ctx, "SELECT class_id FROM timetable_slots WHERE id = ?", sl.ID).Scan(&class)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		sl.ClassID = class
		if err := complete(ctx, tx, &sl); err != nil {
			return err
		}
		if err := clash(ctx, tx, sl); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE timetable_slots SET subject_id = ?, teacher_id = ?, room = ?, weekday = ?, start_min = ?,
			end_min = ?, weeks = ? WHERE id = ?`, sl.SubjectID, nullID(sl.TeacherID), sl.Room, sl.Weekday, sl.Start, sl.End, sl.Weeks, sl.ID)
		return err
	})
	if err != nil {
		return Slot{}, err
	}
	return s.Slot(ctx, sl.ID)
}

// DeleteSlot removes a slot and its changes.
func (s *Store) DeleteSlot(ctx context.Context, id int64) error {
	res, err := s.db.Exec(ctx, "DELETE FROM timetable_slots WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("timetable: delete slot: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetChange records (or replaces) the change of one occurrence: c.Date
// must be a date the slot falls on.
func (s *Store) SetChange(ctx context.Context, c Change) error {
	sl, err := s.Slot(ctx, c.SlotID)
	if err != nil {
		return err
	}
	d, err := ParseDate(c.Date)
	if err != nil {
		return invalid("date illisible (attendu AAAA-MM-JJ)")
	}
	if wd := int(d.Weekday()); wd != sl.Weekday || (sl.Weeks != "" && WeekLetter(Monday(d)) != sl.Weeks) {
		return invalid("ce cours n'a pas lieu le %s", d.Format("02/01/2006"))
	}
	c.Note = strings.TrimSpace(c.Note)
	c.NewRoom = strings.TrimSpace(c.NewRoom)
	if !utf8.ValidString(c.Note) || strings.ContainsFunc(c.Note, isControl) || utf8.RuneCountInString(c.Note) > MaxNote {
		return invalid("la remarque : %d caractères au plus, sans caractère de contrôle", MaxNote)
	}
	switch c.Status {
	case Cancelled:
		c.NewDate, c.NewStart, c.NewEnd, c.NewRoom = "", 0, 0, ""
	case Moved:
		nd, err := ParseDate(c.NewDate)
		if err != nil {
			return invalid("nouvelle date illisible (attendu AAAA-MM-JJ)")
		}
		moved := sl
		moved.Weekday, moved.Start, moved.End, moved.Weeks = int(nd.Weekday()), c.NewStart, c.NewEnd, ""
		if c.NewRoom != "" {
			moved.Room = c.NewRoom
		}
		if err := check(&moved); err != nil {
			return err
		}
		if c.NewDate == c.Date && c.NewStart == sl.Start && c.NewEnd == sl.End && moved.Room == sl.Room {
			return invalid("le cours déplacé doit changer de date, d'heure ou de salle")
		}
	default:
		return invalid("changement inconnu : annulé ou déplacé")
	}
	_, err = s.db.Exec(ctx, `INSERT INTO timetable_changes (slot_id, on_date, status, new_date, new_start_min, new_end_min,
		new_room, note, changed_by, changed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (slot_id, on_date) DO UPDATE SET status = excluded.status, new_date = excluded.new_date,
		new_start_min = excluded.new_start_min, new_end_min = excluded.new_end_min, new_room = excluded.new_room,
		note = excluded.note, changed_by = excluded.changed_by, changed_at_ms = excluded.changed_at_ms`,
		c.SlotID, c.Date, c.Status, c.NewDate, c.NewStart, c.NewEnd, c.NewRoom, c.Note, c.By, s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("timetable: set change: %w", err)
	}
	return nil
}

// ClearChange puts an occurrence back as planned.
func (s *Store) ClearChange(ctx context.Context, slotID int64, date string) error {
	res, err := s.db.Exec(ctx, "DELETE FROM timetable_changes WHERE slot_id = ? AND on_date = ?", slotID, date)
	if err != nil {
		return fmt.Errorf("timetable: clear change: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// InsertSlot adds a slot inside the caller's transaction, with the checks
// of CreateSlot (the demo school uses it while it writes the directory).
func InsertSlot(ctx context.Context, q db.Querier, sl Slot) (Slot, error) {
	sl.ID = 0
	err := insertSlot(ctx, q, &sl)
	return sl, err
}

// InsertChange records a change inside the caller's transaction, without
// the checks of SetChange: for data known to be right (the demo).
func InsertChange(ctx context.Context, q db.Querier, c Change, at time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO timetable_changes (slot_id, on_date, status, new_date, new_start_min, new_end_min,
		new_room, note, changed_by, changed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.SlotID, c.Date, c.Status, c.NewDate, c.NewStart, c.NewEnd, c.NewRoom, c.Note, c.By, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("timetable: insert change: %w", err)
	}
	return nil
}
