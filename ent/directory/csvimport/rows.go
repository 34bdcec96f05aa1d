package csvimport

import "io"

// Rows reads a school CSV file the way Import does — UTF-8 with or without
// a BOM, or Latin-1; ';', ',' or tab; at most MaxFileSize bytes, rows of at
// most MaxRowSize bytes and MaxFields columns — for the modules' own imports
// (the timetable, the library catalogue).
type Rows struct{ src *source }

// NewRows starts reading r.
func NewRows(r io.Reader) (*Rows, error) {
	src, err := newSource(r, MaxFileSize)
	if err != nil {
		return nil, err
	}
	return &Rows{src: src}, nil
}

// Next returns the next record and the line it starts on. A non-empty msg
// is a problem with that record only (report it and go on); err is io.EOF
// at the end, or a problem that stops the reading (a *RowErrors for a row
// too long to resynchronise, ErrFileTooLarge).
func (r *Rows) Next() (rec []string, line int, msg string, err error) { return r.src.next() }

// Fold makes text comparable, as Import does for headers: no accents,
// lower case, each run of characters other than letters and digits one
// space: Fold(" Élève n° 2 ") == "eleve n 2".
func Fold(s string) string { return fold(s) }
