package meetings

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"preau/db"
)

// Store keeps slots and bookings in the database.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// New returns a store over d.
func New(d *db.DB) *Store { return &Store{db: d, now: time.Now} }

// SetClock sets the store's clock (tests, and the live lessons' clock).
func (s *Store) SetClock(now func() time.Time) {
	if now != nil {
		s.now = now
	}
}

// Now is the store's current time.
func (s *Store) Now() time.Time { return s.now() }

const slotColumns = `s.id, s.structure_id, s.teacher_id, COALESCE(t.first_name || ' ' || t.last_name, ''), s.starts_at_ms,
	s.ends_at_ms, s.mode, s.place, s.created_by, COALESCE(b.parent_id, 0), COALESCE(p.first_name || ' ' || p.last_name, ''),
	COALESCE(b.child_id, 0), COALESCE(c.first_name || ' ' || c.last_name, ''), COALESCE(b.booked_at_ms, 0)`

const slotFrom = ` FROM meeting_slots s LEFT JOIN users t ON t.id = s.teacher_id
	LEFT JOIN meeting_bookings b ON b.slot_id = s.id LEFT JOIN users p ON p.id = b.parent_id LEFT JOIN users c ON c.id = b.child_id`

func load(ctx context.Context, q db.Querier, where string, args ...any) ([]Slot, error) {
	rows, err := q.Query(ctx, "SELECT "+slotColumns+slotFrom+" WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("meetings: list: %w", err)
	}
	defer rows.Close()
	var out []Slot
	for rows.Next() {
		var sl Slot
		var start, end, booked int64
		var b Booking
		if err := rows.Scan(&sl.ID, &sl.StructureID, &sl.TeacherID, &sl.TeacherName, &start, &end, &sl.Mode, &sl.Place,
			&sl.CreatedBy, &b.ParentID, &b.ParentName, &b.ChildID, &b.ChildName, &booked); err != nil {
			return nil, fmt.Errorf("meetings: list: %w", err)
		}
		sl.Start, sl.End = time.UnixMilli(start), time.UnixMilli(end)
		if b.ParentID != 0 {
			b.BookedAt = time.UnixMilli(booked)
			sl.Booking = &b
		}
		out = append(out, sl)
	}
	return out, rows.Err()
}

// Get returns one slot with its booking, whoever asks: the caller checks.
func (s *Store) Get(ctx context.Context, id int64) (Slot, error) {
	return get(ctx, s.db, id)
}

func get(ctx context.Context, q db.Querier, id int64) (Slot, error) {
	ss, err := load(ctx, q, "s.id = ?", id)
	if err != nil {
		return Slot{}, err
	}
	if len(ss) == 0 {
		return Slot{}, ErrNotFound
	}
	return ss[0], nil
}

// Filter chooses the slots List returns, before the caller's checks.
type Filter struct {
	Structure int64   // 0: any
	Teachers  []int64 // nil: any
	// Parent keeps the slots this parent booked (with Teachers: or the
	// free slots of those teachers).
	Parent int64
	// FreeOrParent keeps, of Teachers' slots, the free ones and Parent's.
	FreeOrParent bool
	// From and Until bound the slots' start (zero: unbounded); slots that
	// end after From are kept.
	From, Until time.Time
	Limit       int // default and maximum 1000
}

// List returns the filter's slots by start.
func (s *Store) List(ctx context.Context, f Filter) ([]Slot, error) {
	var conds []string
	var args []any
	if f.Structure != 0 {
		conds, args = append(conds, "s.structure_id = ?"), append(args, f.Structure)
	}
	switch {
	case f.FreeOrParent:
		if len(f.Teachers) == 0 {
			return nil, nil
		}
		conds = append(conds, "s.teacher_id IN ("+placeholders(len(f.Teachers))+") AND (b.parent_id IS NULL OR b.parent_id = ?)")
		args = append(append(args, int64Args(f.Teachers)...), f.Parent)
	case f.Teachers != nil:
		if len(f.Teachers) == 0 {
			return nil, nil
		}
		conds = append(conds, "s.teacher_id IN ("+placeholders(len(f.Teachers))+")")
		args = append(args, int64Args(f.Teachers)...)
		if f.Parent != 0 {
			conds, args = append(conds, "b.parent_id = ?"), append(args, f.Parent)
		}
	case f.Parent != 0:
		conds, args = append(conds, "b.parent_id = ?"), append(args, f.Parent)
	}
	if !f.From.IsZero() {
		conds, args = append(conds, "s.ends_at_ms > ?"), append(args, f.From.UnixMilli())
	}
	if !f.Until.IsZero() {
		conds, args = append(conds, "s.starts_at_ms < ?"), append(args, f.Until.UnixMilli())
	}
	if len(conds) == 0 {
		conds = append(conds, "1 = 1")
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	out, err := load(ctx, s.db, strings.Join(conds, " AND ")+fmt.Sprintf(" ORDER BY s.starts_at_ms, s.teacher_id, s.id LIMIT %d", f.Limit), args...)
	if err != nil {
		return nil, err
	}
	sortSlots(out)
	return out, nil
}

// Publish stores new slots (from Series.Slots) in one transaction. A slot
// that overlaps one of the same teacher's is refused with the teacher's
// name; nothing is stored then.
func (s *Store) Publish(ctx context.Context, slots []Slot) ([]Slot, error) {
	if len(slots) == 0 {
		return nil, invalid("aucun créneau à publier")
	}
	now := s.now()
	for _, sl := range slots {
		if !sl.Start.After(now) {
			return nil, invalid("un créneau ne peut pas commencer dans le passé (%s à %s)", FrDay(sl.Start), FrClock(sl.Start))
		}
	}
	var ids []int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		ids = ids[:0]
		for _, sl := range slots {
			// The teacher's own lock row serialises two publications.
			if err := lock(ctx, tx, sl.TeacherID); err != nil {
				return err
			}
			var other int64
			err := tx.QueryRow(ctx, `SELECT id FROM meeting_slots WHERE teacher_id = ? AND starts_at_ms < ? AND ends_at_ms > ?
				ORDER BY starts_at_ms LIMIT 1`, sl.TeacherID, sl.End.UnixMilli(), sl.Start.UnixMilli()).Scan(&other)
			if err == nil {
				o, err := get(ctx, tx, other)
				if err != nil {
					return err
				}
				return invalid("%s a déjà un créneau le %s de %s à %s", o.TeacherName, FrDay(o.Start), FrClock(o.Start), FrClock(o.End))
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO meeting_slots (structure_id, teacher_id, starts_at_ms, ends_at_ms, mode, place,
				created_by, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, sl.StructureID, sl.TeacherID,
				sl.Start.UnixMilli(), sl.End.UnixMilli(), sl.Mode, sl.Place, sl.CreatedBy, now.UnixMilli()).Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	var inv *Invalid
	if errors.As(err, &inv) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("meetings: publish: %w", err)
	}
	return load(ctx, s.db, "s.id IN ("+placeholders(len(ids))+") ORDER BY s.starts_at_ms, s.id", int64Args(ids)...)
}

// lock takes the lock row of user for the rest of the transaction.
func lock(ctx context.Context, tx *db.Tx, user int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO meeting_locks (user_id, n) VALUES (?, 1)
		ON CONFLICT (user_id) DO UPDATE SET n = meeting_locks.n + 1`, user)
	return err
}

// Book reserves slot id for parent and child. It refuses (in French) a
// slot already begun, a second upcoming booking of the child with the
// same teacher, and — a *Conflict — a slot overlapping another booking of
// the parent; ErrTaken when someone booked it first. The caller checks
// that the parent may book for the child and that the teacher teaches the
// child.
func (s *Store) Book(ctx context.Context, id, parent, child int64) (Slot, error) {
	now := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		// Lock rows in id order: the parent's (overlaps) and the
		// child's (one per teacher, whichever guardian books).
		a, b := min(parent, child), max(parent, child)
		if err := lock(ctx, tx, a); err != nil {
			return err
		}
		if err := lock(ctx, tx, b); err != nil {
			return err
		}
		sl, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case sl.Booking != nil && sl.Booking.ParentID == parent && sl.Booking.ChildID == child:
			return errAlready
		case sl.Booking != nil:
			return ErrTaken
		case !sl.Start.After(now):
			return invalid("ce créneau a déjà commencé")
		}
		same, err := load(ctx, tx, "s.teacher_id = ? AND b.child_id = ? AND s.ends_at_ms > ?", sl.TeacherID, child, now.UnixMilli())
		if err != nil {
			return err
		}
		if len(same) > 0 {
			o := same[0]
			return invalid("%s a déjà rendez-vous avec %s le %s à %s : annulez-le d'abord pour en choisir un autre",
				o.Booking.ChildName, o.TeacherName, FrDay(o.Start), FrClock(o.Start))
		}
		mine, err := load(ctx, tx, "b.parent_id = ? AND s.starts_at_ms < ? AND s.ends_at_ms > ? ORDER BY s.starts_at_ms",
			parent, sl.End.UnixMilli(), sl.Start.UnixMilli())
		if err != nil {
			return err
		}
		if len(mine) > 0 {
			return &Conflict{Other: mine[0]}
		}
		_, err = tx.Exec(ctx, "INSERT INTO meeting_bookings (slot_id, parent_id, child_id, booked_at_ms) VALUES (?, ?, ?, ?)",
			id, parent, child, now.UnixMilli())
		if db.IsUniqueViolation(err) {
			return ErrTaken
		}
		return err
	})
	var inv *Invalid
	var conflict *Conflict
	switch {
	case err == nil, errors.Is(err, errAlready):
		return s.Get(ctx, id)
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrTaken), errors.As(err, &inv), errors.As(err, &conflict):
		return Slot{}, err
	}
	return Slot{}, fmt.Errorf("meetings: book %d: %w", id, err)
}

// errAlready: the same booking again (a double submission) is not an error.
var errAlready = errors.New("meetings: already booked by the same")

// Cancel frees slot id and returns it as it was (with the booking that
// was cancelled); ErrNotFound when it was not booked.
func (s *Store) Cancel(ctx context.Context, id int64) (Slot, error) {
	var sl Slot
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if sl, err = get(ctx, tx, id); err != nil {
			return err
		}
		if sl.Booking == nil {
			return ErrNotFound
		}
		_, err = tx.Exec(ctx, "DELETE FROM meeting_bookings WHERE slot_id = ?", id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Slot{}, err
	}
	if err != nil {
		return Slot{}, fmt.Errorf("meetings: cancel %d: %w", id, err)
	}
	return sl, nil
}

// Delete removes slot id (and its booking) and returns it as it was.
func (s *Store) Delete(ctx context.Context, id int64) (Slot, error) {
	var sl Slot
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if sl, err = get(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM meeting_bookings WHERE slot_id = ?", id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM meeting_slots WHERE id = ?", id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Slot{}, err
	}
	if err != nil {
		return Slot{}, fmt.Errorf("meetings: delete %d: %w", id, err)
	}
	return sl, nil
}

// Insert writes slots and their bookings as given, inside the caller's
// transaction, for data known to be right (the demo school).
func Insert(ctx context.Context, q db.Querier, slots []Slot, now time.Time) ([]int64, error) {
	var ids []int64
	for _, sl := range slots {
		var id int64
		if err := q.QueryRow(ctx, `INSERT INTO meeting_slots (structure_id, teacher_id, starts_at_ms, ends_at_ms, mode, place,
			created_by, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, sl.StructureID, sl.TeacherID,
			sl.Start.UnixMilli(), sl.End.UnixMilli(), sl.Mode, sl.Place, sl.CreatedBy, now.UnixMilli()).Scan(&id); err != nil {
			return nil, fmt.Errorf("meetings: insert: %w", err)
		}
		if b := sl.Booking; b != nil {
			if _, err := q.Exec(ctx, "INSERT INTO meeting_bookings (slot_id, parent_id, child_id, booked_at_ms) VALUES (?, ?, ?, ?)",
				id, b.ParentID, b.ChildID, now.UnixMilli()); err != nil {
				return nil, fmt.Errorf("meetings: insert booking: %w", err)
			}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
