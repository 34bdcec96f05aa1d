package library

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"preau/db"
)

// Circulation: reservations, the waiting list, loans and returns. Each
// step is one transaction; a copy changes state only by a conditional
// UPDATE (WHERE state = the state it was read in), so of two clients
// racing for the last copy exactly one changes it, and the other sees no
// row changed and goes on to the waiting list (or ErrNoCopy). The unique
// indexes of migration 0020 refuse a second open loan or ready reservation
// of a copy even if a step forgot to check.

func affected(res sql.Result) int64 {
	n, _ := res.RowsAffected()
	return n
}

// errChanged: a concurrent step changed the copy first.
var errChanged = &Invalid{Msg: "cet exemplaire vient de changer d'état (prêté, rendu ou réservé entre-temps) : rechargez la page"}

// offer gives an available copy to the first person of the title's
// waiting list, if any, and returns their reservation (0: nobody waits,
// the copy stays on the shelf).
func offer(ctx context.Context, q db.Querier, copyID, book int64, today string, holdDays int, at time.Time) (int64, error) {
	for range 20 {
		var rid int64
		err := q.QueryRow(ctx, "SELECT id FROM library_reservations WHERE book_id = ? AND status = 'waiting' ORDER BY id LIMIT 1", book).Scan(&rid)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("library: waiting list: %w", err)
		}
		res, err := q.Exec(ctx, `UPDATE library_reservations SET status = 'ready', copy_id = ?, expires_on = ?, ready_at_ms = ?
			WHERE id = ? AND status = 'waiting'`, copyID, AddDays(today, holdDays), at.UnixMilli(), rid)
		if err != nil {
			return 0, fmt.Errorf("library: waiting list: %w", err)
		}
		if affected(res) == 0 {
			continue // served by another copy meanwhile: the next one
		}
		res, err = q.Exec(ctx, "UPDATE library_copies SET state = 'held' WHERE id = ? AND state = 'available'", copyID)
		if err != nil {
			return 0, fmt.Errorf("library: hold: %w", err)
		}
		if affected(res) == 0 {
			return 0, errChanged
		}
		return rid, nil
	}
	return 0, errChanged
}

// release puts a copy that was in state from back on the shelf, or to the
// next person waiting for it.
func (s *Store) release(ctx context.Context, q db.Querier, copyID, book int64, from string) (int64, error) {
	res, err := q.Exec(ctx, "UPDATE library_copies SET state = 'available' WHERE id = ? AND state = ?", copyID, from)
	if err != nil {
		return 0, fmt.Errorf("library: release: %w", err)
	}
	if affected(res) == 0 {
		return 0, errChanged
	}
	now := s.now()
	return offer(ctx, q, copyID, book, Today(now), s.cfg.HoldDays, now)
}

// Reserve reserves title book for person: a copy on the shelf is held for
// them (status Ready, to collect within HoldDays days); when none is left,
// they join the waiting list if join, else ErrNoCopy. The caller checks
// MayReserve.
func (s *Store) Reserve(ctx context.Context, book, person int64, join bool) (Reservation, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		b, err := getBook(ctx, tx, book)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM library_reservations WHERE person_id = ? AND status IN ('waiting', 'ready')",
			person).Scan(&n); err != nil {
			return fmt.Errorf("library: reserve: %w", err)
		}
		if n >= MaxReservations {
			return invalid("vous avez déjà %d réservations en cours : c'est le maximum", MaxReservations)
		}
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM library_reservations WHERE person_id = ? AND book_id = ? AND status IN ('waiting', 'ready')",
			person, book).Scan(&n); err != nil {
			return fmt.Errorf("library: reserve: %w", err)
		}
		if n > 0 {
			return invalid("vous avez déjà réservé ce titre")
		}
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM library_loans WHERE person_id = ? AND book_id = ? AND returned_at_ms = 0",
			person, book).Scan(&n); err != nil {
			return fmt.Errorf("library: reserve: %w", err)
		}
		if n > 0 {
			return invalid("vous avez déjà ce titre en prêt")
		}
		if b.Copies == 0 {
			return invalid("ce titre n'a aucun exemplaire au CDI")
		}
		now := s.now()
		copyID, err := grab(ctx, tx, book)
		if err != nil {
			return err
		}
		switch {
		case copyID != 0:
			err = tx.QueryRow(ctx, `INSERT INTO library_reservations (book_id, structure_id, person_id, status, copy_id, expires_on,
				created_at_ms, ready_at_ms) VALUES (?, ?, ?, 'ready', ?, ?, ?, ?) RETURNING id`, book, b.StructureID, person, copyID,
				AddDays(Today(now), s.cfg.HoldDays), now.UnixMilli(), now.UnixMilli()).Scan(&id)
		case !join:
			return ErrNoCopy
		default:
			err = tx.QueryRow(ctx, `INSERT INTO library_reservations (book_id, structure_id, person_id, status, created_at_ms)
				VALUES (?, ?, ?, 'waiting', ?) RETURNING id`, book, b.StructureID, person, now.UnixMilli()).Scan(&id)
		}
		if db.IsUniqueViolation(err) {
			return invalid("vous avez déjà réservé ce titre")
		}
		if err != nil {
			return fmt.Errorf("library: reserve: %w", err)
		}
		return nil
	})
	if err != nil {
		return Reservation{}, err
	}
	return s.Reservation(ctx, id)
}

// grab holds one copy of book on the shelf, or returns 0 when none is
// left. A copy taken by a concurrent step between the SELECT and the
// UPDATE changes no row: try the next.
func grab(ctx context.Context, q db.Querier, book int64) (int64, error) {
	for range 50 {
		var id int64
		err := q.QueryRow(ctx, "SELECT id FROM library_copies WHERE book_id = ? AND state = 'available' ORDER BY id LIMIT 1", book).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("library: grab: %w", err)
		}
		res, err := q.Exec(ctx, "UPDATE library_copies SET state = 'held' WHERE id = ? AND state = 'available'", id)
		if err != nil {
			return 0, fmt.Errorf("library: grab: %w", err)
		}
		if affected(res) == 1 {
			return id, nil
		}
	}
	return 0, nil
}

const reservationColumns = `r.id, r.book_id, r.structure_id, r.person_id, COALESCE(u.first_name || ' ' || u.last_name, ''), b.title,
	r.status, r.copy_id, COALESCE(c.shelf_mark, ''), r.expires_on,
	CASE WHEN r.status = 'waiting' THEN (SELECT COUNT(*) FROM library_reservations w
		WHERE w.book_id = r.book_id AND w.status = 'waiting' AND w.id <= r.id) ELSE 0 END, r.created_at_ms`

const reservationFrom = ` FROM library_reservations r JOIN library_books b ON b.id = r.book_id
	LEFT JOIN users u ON u.id = r.person_id LEFT JOIN library_copies c ON c.id = r.copy_id`

func (s *Store) reservations(ctx context.Context, where string, args ...any) ([]Reservation, error) {
	rows, err := s.db.Query(ctx, "SELECT "+reservationColumns+reservationFrom+" WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("library: reservations: %w", err)
	}
	defer rows.Close()
	out := []Reservation{}
	for rows.Next() {
		var r Reservation
		var created int64
		if err := rows.Scan(&r.ID, &r.BookID, &r.StructureID, &r.PersonID, &r.PersonName, &r.Title, &r.Status, &r.CopyID,
			&r.ShelfMark, &r.ExpiresOn, &r.Position, &created); err != nil {
			return nil, fmt.Errorf("library: reservations: %w", err)
		}
		r.CreatedAt = time.UnixMilli(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Reservation returns one reservation, whoever asks: the caller checks
// CanSeeLoans.
func (s *Store) Reservation(ctx context.Context, id int64) (Reservation, error) {
	rs, err := s.reservations(ctx, "r.id = ?", id)
	if err != nil {
		return Reservation{}, err
	}
	if len(rs) == 0 {
		return Reservation{}, ErrNotFound
	}
	return rs[0], nil
}

// ReservationsOf lists person's active reservations in school st (every
// school: st 0).
func (s *Store) ReservationsOf(ctx context.Context, person, st int64) ([]Reservation, error) {
	return s.reservations(ctx, "r.person_id = ? AND (? = 0 OR r.structure_id = ?) AND r.status IN ('waiting', 'ready') ORDER BY r.status, r.id",
		person, st, st)
}

// Ready lists school st's reservations held on a copy, to prepare at the
// desk, by the day they expire.
func (s *Store) Ready(ctx context.Context, st int64) ([]Reservation, error) {
	return s.reservations(ctx, "r.structure_id = ? AND r.status = 'ready' ORDER BY r.expires_on, r.id", st)
}

// WaitingList lists school st's waiting reservations, by title then rank.
func (s *Store) WaitingList(ctx context.Context, st int64) ([]Reservation, error) {
	return s.reservations(ctx, "r.structure_id = ? AND r.status = 'waiting' ORDER BY b.title, r.id", st)
}

// Cancel ends an active reservation; a held copy goes to the next person
// waiting. The caller checks who may.
func (s *Store) Cancel(ctx context.Context, id int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var book, copyID int64
		var status string
		err := tx.QueryRow(ctx, "SELECT book_id, copy_id, status FROM library_reservations WHERE id = ?", id).Scan(&book, &copyID, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("library: cancel: %w", err)
		}
		res, err := tx.Exec(ctx, "UPDATE library_reservations SET status = 'cancelled', closed_at_ms = ? WHERE id = ? AND status = ?",
			s.now().UnixMilli(), id, status)
		if err != nil {
			return fmt.Errorf("library: cancel: %w", err)
		}
		if (status != Waiting && status != Ready) || affected(res) == 0 {
			return invalid("cette réservation est déjà terminée")
		}
		if status == Ready {
			_, err = s.release(ctx, tx, copyID, book, Held)
		}
		return err
	})
}

// Sweep expires the ready reservations not collected in time (their last
// day, ExpiresOn, is past) and gives each copy to the next person
// waiting. It returns how many expired.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	type due struct{ id, book, copyID int64 }
	rows, err := s.db.Query(ctx, "SELECT id, book_id, copy_id FROM library_reservations WHERE status = 'ready' AND expires_on < ? ORDER BY id LIMIT 500",
		s.Today())
	if err != nil {
		return 0, fmt.Errorf("library: sweep: %w", err)
	}
	var todo []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.book, &d.copyID); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range todo {
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			res, err := tx.Exec(ctx, "UPDATE library_reservations SET status = 'expired', closed_at_ms = ? WHERE id = ? AND status = 'ready'",
				s.now().UnixMilli(), d.id)
			if err != nil || affected(res) == 0 {
				return err // collected or cancelled meanwhile
			}
			n++
			_, err = s.release(ctx, tx, d.copyID, d.book, Held)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("library: sweep: %w", err)
		}
	}
	return n, nil
}

// MaybeSweep runs Sweep at most once a minute per store: the pages and
// the API call it as they load, so expiries need no background loop.
func (s *Store) MaybeSweep(ctx context.Context) error {
	now := s.now().Unix()
	last := s.lastSweep.Load()
	if now-last < 60 || !s.lastSweep.CompareAndSwap(last, now) {
		return nil
	}
	_, err := s.Sweep(ctx)
	return err
}

// ---- loans -------------------------------------------------------------------------

// Person is someone of a school who may borrow.
type Person struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Borrower finds, by login or id, a pupil, teacher or staff member of
// school st.
func (s *Store) Borrower(ctx context.Context, st int64, login string, id int64) (Person, error) {
	var p Person
	err := s.db.QueryRow(ctx, `SELECT u.id, u.first_name || ' ' || u.last_name FROM users u
		WHERE (u.login = ? OR u.id = ?) AND u.disabled = FALSE AND EXISTS (SELECT 1 FROM roles r WHERE r.user_id = u.id AND r.structure_id = ?
		AND r.profile IN ('eleve', 'enseignant', 'personnel', 'direction'))`, login, id, st).Scan(&p.ID, &p.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return p, invalid("aucun élève ni personnel de l'établissement n'a cet identifiant")
	}
	if err != nil {
		return p, fmt.Errorf("library: borrower: %w", err)
	}
	return p, nil
}

// Lend records the loan of copy copyID to person (the caller checked they
// are of the copy's school, see Borrower), due in LoanDays days: a copy on
// the shelf, or the copy held for that person's reservation (which is then
// collected). A copy held for someone else, lent or withdrawn is refused.
func (s *Store) Lend(ctx context.Context, copyID, person, by int64) (Loan, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var book, st int64
		var state string
		err := tx.QueryRow(ctx, "SELECT book_id, structure_id, state FROM library_copies WHERE id = ?", copyID).Scan(&book, &st, &state)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("library: lend: %w", err)
		}
		now := s.now()
		switch state {
		case Held:
			var rid, holder int64
			var name string
			err := tx.QueryRow(ctx, `SELECT r.id, r.person_id, COALESCE(u.first_name || ' ' || u.last_name, '') FROM library_reservations r
				LEFT JOIN users u ON u.id = r.person_id WHERE r.copy_id = ? AND r.status = 'ready'`, copyID).Scan(&rid, &holder, &name)
			if err != nil {
				return fmt.Errorf("library: lend: %w", err)
			}
			if holder != person {
				return invalid("cet exemplaire est réservé pour %s : prêtez-en un autre", name)
			}
			if _, err := tx.Exec(ctx, "UPDATE library_reservations SET status = 'collected', closed_at_ms = ? WHERE id = ? AND status = 'ready'",
				now.UnixMilli(), rid); err != nil {
				return fmt.Errorf("library: lend: %w", err)
			}
		case Available:
			var other string
			err := tx.QueryRow(ctx, `SELECT c.shelf_mark FROM library_reservations r JOIN library_copies c ON c.id = r.copy_id
				WHERE r.book_id = ? AND r.person_id = ? AND r.status = 'ready'`, book, person).Scan(&other)
			if err == nil {
				return invalid("un autre exemplaire de ce titre (cote %s) est réservé pour cette personne : prêtez celui-là", other)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("library: lend: %w", err)
			}
			// A place in the waiting list is served by this loan.
			if _, err := tx.Exec(ctx, `UPDATE library_reservations SET status = 'collected', closed_at_ms = ?
				WHERE book_id = ? AND person_id = ? AND status = 'waiting'`, now.UnixMilli(), book, person); err != nil {
				return fmt.Errorf("library: lend: %w", err)
			}
		case Lent:
			return invalid("cet exemplaire est déjà prêté")
		default:
			return invalid("cet exemplaire est retiré du prêt")
		}
		res, err := tx.Exec(ctx, "UPDATE library_copies SET state = 'lent' WHERE id = ? AND state = ?", copyID, state)
		if err != nil {
			return fmt.Errorf("library: lend: %w", err)
		}
		if affected(res) == 0 {
			return errChanged
		}
		today := Today(now)
		err = tx.QueryRow(ctx, `INSERT INTO library_loans (copy_id, book_id, structure_id, person_id, lent_by, lent_on, due_on, created_at_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, copyID, book, st, person, by, today, AddDays(today, s.cfg.LoanDays),
			now.UnixMilli()).Scan(&id)
		if db.IsUniqueViolation(err) {
			return invalid("cet exemplaire est déjà prêté")
		}
		if err != nil {
			return fmt.Errorf("library: lend: %w", err)
		}
		return nil
	})
	if err != nil {
		return Loan{}, err
	}
	return s.Loan(ctx, id)
}

// Return records the return of copy copyID; the copy goes to the next
// person waiting, whose reservation is then ready (its id is returned, 0
// when nobody waits).
func (s *Store) Return(ctx context.Context, copyID int64) (Loan, int64, error) {
	var loan, next int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var book int64
		err := tx.QueryRow(ctx, "SELECT id, book_id FROM library_loans WHERE copy_id = ? AND returned_at_ms = 0", copyID).Scan(&loan, &book)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid("cet exemplaire n'est pas en prêt")
		}
		if err != nil {
			return fmt.Errorf("library: return: %w", err)
		}
		res, err := tx.Exec(ctx, "UPDATE library_loans SET returned_at_ms = ? WHERE id = ? AND returned_at_ms = 0", s.now().UnixMilli(), loan)
		if err != nil {
			return fmt.Errorf("library: return: %w", err)
		}
		if affected(res) == 0 {
			return errChanged
		}
		next, err = s.release(ctx, tx, copyID, book, Lent)
		return err
	})
	if err != nil {
		return Loan{}, 0, err
	}
	l, err := s.Loan(ctx, loan)
	return l, next, err
}

// SetDue changes an open loan's due date (to extend it).
func (s *Store) SetDue(ctx context.Context, id int64, due string) error {
	d, err := time.ParseInLocation(DateLayout, due, Paris)
	if err != nil {
		return invalid("date de retour illisible (attendu AAAA-MM-JJ)")
	}
	l, err := s.Loan(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case !l.ReturnedAt.IsZero():
		return invalid("ce prêt est terminé")
	case due < l.LentOn:
		return invalid("la date de retour précède la date du prêt")
	case d.Sub(s.now()) > 366*24*time.Hour:
		return invalid("un prêt dure un an au plus")
	}
	res, err := s.db.Exec(ctx, "UPDATE library_loans SET due_on = ? WHERE id = ? AND returned_at_ms = 0", due, id)
	if err != nil {
		return fmt.Errorf("library: due: %w", err)
	}
	if affected(res) == 0 {
		return invalid("ce prêt est terminé")
	}
	return nil
}

// Remind records a reminder sent for an open loan.
func (s *Store) Remind(ctx context.Context, id int64) error {
	res, err := s.db.Exec(ctx, "UPDATE library_loans SET reminders = reminders + 1, reminded_at_ms = ? WHERE id = ? AND returned_at_ms = 0",
		s.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("library: remind: %w", err)
	}
	if affected(res) == 0 {
		return invalid("ce prêt est terminé")
	}
	return nil
}

const loanColumns = `l.id, l.copy_id, l.book_id, l.structure_id, l.person_id, COALESCE(u.first_name || ' ' || u.last_name, ''),
	b.title, c.shelf_mark, l.lent_on, l.due_on, l.returned_at_ms, l.reminders, l.reminded_at_ms`

const loanFrom = ` FROM library_loans l JOIN library_books b ON b.id = l.book_id JOIN library_copies c ON c.id = l.copy_id
	LEFT JOIN users u ON u.id = l.person_id`

func (s *Store) loans(ctx context.Context, where string, args ...any) ([]Loan, error) {
	rows, err := s.db.Query(ctx, "SELECT "+loanColumns+loanFrom+" WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("library: loans: %w", err)
	}
	defer rows.Close()
	out := []Loan{}
	for rows.Next() {
		var l Loan
		var returned, reminded int64
		if err := rows.Scan(&l.ID, &l.CopyID, &l.BookID, &l.StructureID, &l.PersonID, &l.PersonName, &l.Title, &l.ShelfMark,
			&l.LentOn, &l.DueOn, &returned, &l.Reminders, &reminded); err != nil {
			return nil, fmt.Errorf("library: loans: %w", err)
		}
		if returned != 0 {
			l.ReturnedAt = time.UnixMilli(returned)
		}
		if reminded != 0 {
			l.RemindedAt = time.UnixMilli(reminded)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Loan returns one loan, whoever asks: the caller checks access.
func (s *Store) Loan(ctx context.Context, id int64) (Loan, error) {
	ls, err := s.loans(ctx, "l.id = ?", id)
	if err != nil {
		return Loan{}, err
	}
	if len(ls) == 0 {
		return Loan{}, ErrNotFound
	}
	return ls[0], nil
}

// LoansOf lists person's loans in school st (every school: st 0): those
// out first by due date, then the last 20 returned.
func (s *Store) LoansOf(ctx context.Context, person, st int64) ([]Loan, error) {
	open, err := s.loans(ctx, "l.person_id = ? AND (? = 0 OR l.structure_id = ?) AND l.returned_at_ms = 0 ORDER BY l.due_on, l.id", person, st, st)
	if err != nil {
		return nil, err
	}
	past, err := s.loans(ctx, "l.person_id = ? AND (? = 0 OR l.structure_id = ?) AND l.returned_at_ms <> 0 ORDER BY l.returned_at_ms DESC LIMIT 20", person, st, st)
	return append(open, past...), err
}

// OpenLoans lists school st's loans out, by due date; overdue only: those
// whose due date is past.
func (s *Store) OpenLoans(ctx context.Context, st int64, overdue bool) ([]Loan, error) {
	if overdue {
		return s.loans(ctx, "l.structure_id = ? AND l.returned_at_ms = 0 AND l.due_on < ? ORDER BY l.due_on, u.last_name, l.id", st, s.Today())
	}
	return s.loans(ctx, "l.structure_id = ? AND l.returned_at_ms = 0 ORDER BY l.due_on, u.last_name, l.id", st)
}

// InsertLoan records a loan as of lentOn inside the caller's transaction,
// without the checks of Lend: for data known to be right (the demo).
func InsertLoan(ctx context.Context, q db.Querier, copyID, person, by int64, lentOn, dueOn string, at time.Time) error {
	var book, st int64
	if err := q.QueryRow(ctx, "SELECT book_id, structure_id FROM library_copies WHERE id = ?", copyID).Scan(&book, &st); err != nil {
		return fmt.Errorf("library: insert loan: %w", err)
	}
	res, err := q.Exec(ctx, "UPDATE library_copies SET state = 'lent' WHERE id = ? AND state = 'available'", copyID)
	if err != nil {
		return fmt.Errorf("library: insert loan: %w", err)
	}
	if affected(res) == 0 {
		return errChanged
	}
	_, err = q.Exec(ctx, `INSERT INTO library_loans (copy_id, book_id, structure_id, person_id, lent_by, lent_on, due_on, created_at_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, copyID, book, st, person, by, lentOn, dueOn, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("library: insert loan: %w", err)
	}
	return nil
}

// InsertReservation holds a copy of book for person inside the caller's
// transaction, as of at (the demo).
func InsertReservation(ctx context.Context, q db.Querier, book, person int64, at time.Time) error {
	var st int64
	if err := q.QueryRow(ctx, "SELECT structure_id FROM library_books WHERE id = ?", book).Scan(&st); err != nil {
		return fmt.Errorf("library: insert reservation: %w", err)
	}
	copyID, err := grab(ctx, q, book)
	if err != nil {
		return err
	}
	if copyID == 0 {
		_, err = q.Exec(ctx, `INSERT INTO library_reservations (book_id, structure_id, person_id, status, created_at_ms)
			VALUES (?, ?, ?, 'waiting', ?)`, book, st, person, at.UnixMilli())
	} else {
		_, err = q.Exec(ctx, `INSERT INTO library_reservations (book_id, structure_id, person_id, status, copy_id, expires_on,
			created_at_ms, ready_at_ms) VALUES (?, ?, ?, 'ready', ?, ?, ?, ?)`, book, st, person, copyID,
			AddDays(Today(at), DefaultHoldDays), at.UnixMilli(), at.UnixMilli())
	}
	if err != nil {
		return fmt.Errorf("library: insert reservation: %w", err)
	}
	return nil
}
