package library

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"preau/db"
	"preau/ent/directory/csvimport"
)

// Config tunes the CDI's rules; the zero value works.
type Config struct {
	// LoanDays is how long a loan lasts (default DefaultLoanDays).
	LoanDays int
	// HoldDays is how many days a ready reservation waits to be collected
	// (default DefaultHoldDays): the reservation expires the day after.
	HoldDays int
}

// Store keeps the catalogue, reservations and loans in the database.
type Store struct {
	db        *db.DB
	cfg       Config
	now       func() time.Time
	lastSweep atomic.Int64 // Unix seconds of the last MaybeSweep
}

// New returns a store over d.
func New(d *db.DB, cfg Config) *Store {
	if cfg.LoanDays <= 0 {
		cfg.LoanDays = DefaultLoanDays
	}
	if cfg.HoldDays <= 0 {
		cfg.HoldDays = DefaultHoldDays
	}
	return &Store{db: d, cfg: cfg, now: time.Now}
}

// Today is the store's current date in Europe/Paris.
func (s *Store) Today() string { return Today(s.now()) }

// Config returns the rules in force.
func (s *Store) Config() Config { return s.cfg }

const bookColumns = `b.id, b.structure_id, b.isbn, b.title, b.authors, b.publisher, b.year, b.subjects,
	(SELECT COUNT(*) FROM library_copies c WHERE c.book_id = b.id AND c.state <> 'withdrawn'),
	(SELECT COUNT(*) FROM library_copies c WHERE c.book_id = b.id AND c.state = 'available'),
	(SELECT COUNT(*) FROM library_reservations r WHERE r.book_id = b.id AND r.status = 'waiting'),
	CASE WHEN b.cover_key <> '' THEN 1 ELSE 0 END`

func scanBooks(rows *sql.Rows) ([]Book, error) {
	defer rows.Close()
	out := []Book{}
	for rows.Next() {
		var b Book
		var authors, subjects string
		var cover int
		if err := rows.Scan(&b.ID, &b.StructureID, &b.ISBN, &b.Title, &authors, &b.Publisher, &b.Year, &subjects,
			&b.Copies, &b.Available, &b.Waiting, &cover); err != nil {
			return nil, fmt.Errorf("library: books: %w", err)
		}
		b.Authors, b.Subjects, b.HasCover = SplitList(authors), SplitList(subjects), cover == 1
		out = append(out, b)
	}
	return out, rows.Err()
}

func getBook(ctx context.Context, q db.Querier, id int64) (Book, error) {
	rows, err := q.Query(ctx, "SELECT "+bookColumns+" FROM library_books b WHERE b.id = ?", id)
	if err != nil {
		return Book{}, fmt.Errorf("library: book: %w", err)
	}
	bs, err := scanBooks(rows)
	if err != nil {
		return Book{}, err
	}
	if len(bs) == 0 {
		return Book{}, ErrNotFound
	}
	return bs[0], nil
}

// Book returns one title with its counts, whoever asks: the caller checks
// CanRead on its school.
func (s *Store) Book(ctx context.Context, id int64) (Book, error) { return getBook(ctx, s.db, id) }

// Query is a catalogue search: every word must appear somewhere in the
// record; Author and Subject narrow to those fields. Accents, case and
// punctuation are ignored.
type Query struct {
	Words, Author, Subject string
	// AvailableOnly keeps titles with a copy on the shelf.
	AvailableOnly bool
	Limit, Offset int
}

func likeWords(col, text string, conds []string, args []any) ([]string, []any) {
	for _, w := range strings.Fields(csvimport.Fold(text)) {
		conds = append(conds, col+" LIKE ?")
		args = append(args, "%"+w+"%") // folded words hold letters and digits only: nothing to escape
	}
	return conds, args
}

// Search returns a school's titles matching q by title, and how many match
// in all.
func (s *Store) Search(ctx context.Context, st int64, q Query) ([]Book, int, error) {
	conds, args := []string{"b.structure_id = ?"}, []any{st}
	conds, args = likeWords("b.folded", q.Words, conds, args)
	conds, args = likeWords("b.authors_folded", q.Author, conds, args)
	conds, args = likeWords("b.subjects_folded", q.Subject, conds, args)
	if q.AvailableOnly {
		conds = append(conds, "EXISTS (SELECT 1 FROM library_copies c WHERE c.book_id = b.id AND c.state = 'available')")
	}
	where := strings.Join(conds, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM library_books b WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("library: search: %w", err)
	}
	if q.Limit <= 0 || q.Limit > MaxSearchResults {
		q.Limit = 50
	}
	q.Offset = max(q.Offset, 0)
	rows, err := s.db.Query(ctx, "SELECT "+bookColumns+" FROM library_books b WHERE "+where+
		fmt.Sprintf(" ORDER BY b.title, b.id LIMIT %d OFFSET %d", q.Limit, q.Offset), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("library: search: %w", err)
	}
	bs, err := scanBooks(rows)
	return bs, total, err
}

// Copies returns a title's copies (withdrawn ones last), with the due date
// of those lent.
func (s *Store) Copies(ctx context.Context, book int64) ([]Copy, error) {
	rows, err := s.db.Query(ctx, `SELECT c.id, c.book_id, c.shelf_mark, c.state,
		COALESCE((SELECT l.due_on FROM library_loans l WHERE l.copy_id = c.id AND l.returned_at_ms = 0), '')
		FROM library_copies c WHERE c.book_id = ? ORDER BY CASE WHEN c.state = 'withdrawn' THEN 1 ELSE 0 END, c.id`, book)
	if err != nil {
		return nil, fmt.Errorf("library: copies: %w", err)
	}
	defer rows.Close()
	out := []Copy{}
	for rows.Next() {
		var c Copy
		if err := rows.Scan(&c.ID, &c.BookID, &c.ShelfMark, &c.State, &c.DueOn); err != nil {
			return nil, fmt.Errorf("library: copies: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CopyBook returns the title of copy id (to check access to the copy).
func (s *Store) CopyBook(ctx context.Context, id int64) (Book, error) {
	var book int64
	err := s.db.QueryRow(ctx, "SELECT book_id FROM library_copies WHERE id = ?", id).Scan(&book)
	if errors.Is(err, sql.ErrNoRows) {
		return Book{}, ErrNotFound
	}
	if err != nil {
		return Book{}, fmt.Errorf("library: copy: %w", err)
	}
	return s.Book(ctx, book)
}

// InsertBook checks and stores a title of school b.StructureID inside the
// caller's transaction, as of at, with copies copies marked shelfMark.
func InsertBook(ctx context.Context, q db.Querier, b Book, shelfMark string, copies int, at time.Time) (Book, error) {
	if err := Normalize(&b, at.In(Paris).Year()); err != nil {
		return Book{}, err
	}
	if copies < 0 || copies > MaxCopies {
		return Book{}, invalid("de 0 à %d exemplaires", MaxCopies)
	}
	all, authors, subjects := folds(b)
	err := q.QueryRow(ctx, `INSERT INTO library_books (structure_id, isbn, title, authors, publisher, year, subjects, folded,
		authors_folded, subjects_folded, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		b.StructureID, b.ISBN, b.Title, strings.Join(b.Authors, "; "), b.Publisher, b.Year, strings.Join(b.Subjects, "; "),
		all, authors, subjects, at.UnixMilli(), at.UnixMilli()).Scan(&b.ID)
	if db.IsUniqueViolation(err) {
		return Book{}, invalid("un titre de même ISBN (%s) est déjà au catalogue", FormatISBN(b.ISBN))
	}
	if err != nil {
		return Book{}, fmt.Errorf("library: create: %w", err)
	}
	if err := AddCopies(ctx, q, b, shelfMark, copies, at); err != nil {
		return Book{}, err
	}
	return getBook(ctx, q, b.ID)
}

// AddCopies adds n copies of title b marked shelfMark, inside the caller's
// transaction.
func AddCopies(ctx context.Context, q db.Querier, b Book, shelfMark string, n int, at time.Time) error {
	if n == 0 {
		return nil
	}
	mark, err := NormalizeShelfMark(shelfMark)
	if err != nil {
		return err
	}
	for range n {
		if _, err := q.Exec(ctx, `INSERT INTO library_copies (book_id, structure_id, shelf_mark, state, created_at_ms)
			VALUES (?, ?, ?, 'available', ?)`, b.ID, b.StructureID, mark, at.UnixMilli()); err != nil {
			return fmt.Errorf("library: add copies: %w", err)
		}
	}
	// A new copy goes to the waiting list first.
	rows, err := q.Query(ctx, "SELECT id FROM library_copies WHERE book_id = ? AND state = 'available' ORDER BY id", b.ID)
	if err != nil {
		return fmt.Errorf("library: add copies: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if _, err := offer(ctx, q, id, b.ID, Today(at), DefaultHoldDays, at); err != nil {
			return err
		}
	}
	return nil
}

// CreateBook stores a new title with its copies.
func (s *Store) CreateBook(ctx context.Context, b Book, shelfMark string, copies int) (Book, error) {
	var out Book
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = InsertBook(ctx, tx, b, shelfMark, copies, s.now())
		return err
	})
	return out, err
}

// AddCopiesTo adds n copies to title id.
func (s *Store) AddCopiesTo(ctx context.Context, id int64, shelfMark string, n int) error {
	if n < 1 || n > MaxCopies {
		return invalid("de 1 à %d exemplaires", MaxCopies)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		b, err := getBook(ctx, tx, id)
		if err != nil {
			return err
		}
		if b.Copies+n > MaxCopies {
			return invalid("%d exemplaires au plus par titre", MaxCopies)
		}
		return AddCopies(ctx, tx, b, shelfMark, n, s.now())
	})
}

// Withdraw takes a copy on the shelf out of circulation (lost, damaged).
func (s *Store) Withdraw(ctx context.Context, copyID int64) error {
	res, err := s.db.Exec(ctx, "UPDATE library_copies SET state = 'withdrawn' WHERE id = ? AND state = 'available'", copyID)
	if err != nil {
		return fmt.Errorf("library: withdraw: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return invalid("seul un exemplaire disponible (ni prêté ni réservé) peut être retiré")
	}
	return nil
}

// Cover is a title's cover image: the CDI's own copy, in the content
// store, of an image from the documentaliste's Documents.
type Cover struct {
	Key, Name, ContentType, SHA256 string
	Size                           int64
}

// Cover returns title id's cover; ErrNotFound when it has none.
func (s *Store) Cover(ctx context.Context, id int64) (Cover, error) {
	var c Cover
	err := s.db.QueryRow(ctx, "SELECT cover_key, cover_name, cover_type, cover_sha256, cover_size FROM library_books WHERE id = ?", id).
		Scan(&c.Key, &c.Name, &c.ContentType, &c.SHA256, &c.Size)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && c.Key == "") {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("library: cover: %w", err)
	}
	return c, nil
}

// SetCover sets (or, with a zero Cover, removes) title id's cover and
// returns the key of the cover it replaces ("" when none), for the caller
// to delete once committed.
func (s *Store) SetCover(ctx context.Context, id int64, c Cover) (string, error) {
	var old string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, "SELECT cover_key FROM library_books WHERE id = ?", id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("library: cover: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE library_books SET cover_key = ?, cover_name = ?, cover_type = ?, cover_sha256 = ?, cover_size = ?,
			updated_at_ms = ? WHERE id = ?`, c.Key, c.Name, c.ContentType, c.SHA256, c.Size, s.now().UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("library: cover: %w", err)
		}
		return nil
	})
	return old, err
}
