package directory

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"preau/db"
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
