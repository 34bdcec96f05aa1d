package csvimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"preau/db"
	"preau/ent/directory"
)

// Options says where and how to import.
type Options struct {
	// UAI is the school the file belongs to; it must exist.
	UAI string
	// Kind of file; "" detects it from the header.
	Kind Kind
	// DryRun does everything in a transaction that is then rolled back.
	DryRun bool
	// Codes receives the activation codes of the new accounts as CSV
	// (UTF-8 with BOM, ';'), written as the import goes: they are valid only
	// when Import returns nil and DryRun is false, so write to a temporary
	// file and keep it only then. Nil: codes are issued but not exported.
	// Nothing is written in a dry run or when no account is created.
	Codes io.Writer
	// Changes receives one French line per created or changed person,
	// class or link. Nil: none.
	Changes io.Writer
	// ByUserID is the staff member importing (0: command line).
	ByUserID int64
	// Now is the clock (default time.Now); it picks the school year when
	// none is current and bounds birth dates.
	Now func() time.Time
}

// Report counts what an import did (or would do, in a dry run). Each data
// row counts once in Created, Updated or Unchanged, except the further rows
// of an account created earlier in the same file (a parent's second child),
// which count only in Rows.
type Report struct {
	Kind      Kind
	Rows      int // data rows read (blank rows skipped)
	Created   int // new accounts
	Updated   int // rows that changed an existing account, its class, links or teachings
	Unchanged int // rows that changed nothing
	Codes     int // activation codes issued (one per new account)
}

// RowError is a problem with one line of the file.
type RowError struct {
	Line int    // physical line in the file, 1 is the header
	Msg  string // French
}

// RowErrors is returned when the file has bad rows; nothing of it was
// applied. It lists at most MaxRowErrors rows; Truncated says the reading
// stopped there.
type RowErrors struct {
	Rows      []RowError
	Truncated bool
}

func (e *RowErrors) Error() string {
	var b strings.Builder
	n := len(e.Rows)
	if n == 1 {
		b.WriteString("fichier refusé, rien n'a été importé : 1 erreur")
	} else {
		fmt.Fprintf(&b, "fichier refusé, rien n'a été importé : %d erreurs", n)
	}
	if e.Truncated {
		fmt.Fprintf(&b, " (lecture arrêtée après %d erreurs)", n)
	}
	for _, r := range e.Rows {
		fmt.Fprintf(&b, "\nligne %d : %s", r.Line, r.Msg)
	}
	return b.String()
}

func (e *RowErrors) add(line int, msg string) {
	e.Rows = append(e.Rows, RowError{line, msg})
}

// errRow marks a French message about the current row.
type errRow string

func (e errRow) Error() string { return string(e) }

func rowErrf(format string, args ...any) error { return errRow(fmt.Sprintf(format, args...)) }

var errRollback = errors.New("csvimport: dry run")

// Import reads one CSV file of pupils, parents or teachers for the school
// opt.UAI and applies it in one transaction: all of it, or nothing when a
// row is bad (*RowErrors). See the package documentation for the format and
// how people are matched.
func Import(ctx context.Context, d *db.DB, r io.Reader, opt Options) (Report, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	rep := Report{Kind: opt.Kind}
	uai := strings.ToUpper(strings.TrimSpace(opt.UAI))
	if !directory.ValidUAI(uai) {
		return rep, fmt.Errorf("code UAI invalide : %q (7 chiffres et une lettre)", opt.UAI)
	}
	switch opt.Kind {
	case "", Pupils, Parents, Teachers:
	default:
		return rep, fmt.Errorf("type de fichier %q inconnu (eleves, parents ou enseignants)", opt.Kind)
	}
	src, err := newSource(r, MaxFileSize)
	if errors.Is(err, errEmpty) || errors.Is(err, errHeaderTooLong) {
		return rep, &RowErrors{Rows: []RowError{{1, err.Error()}}}
	}
	if err != nil {
		return rep, err
	}
	header, line, msg, err := src.next()
	switch {
	case errors.Is(err, io.EOF):
		return rep, &RowErrors{Rows: []RowError{{1, errEmpty.Error()}}}
	case err != nil:
		return rep, err
	case msg != "":
		return rep, &RowErrors{Rows: []RowError{{line, "en-tête illisible : " + msg}}}
	}
	header = trimTrailingEmpty(header)
	if opt.Kind == "" {
		if opt.Kind = detectKind(header); opt.Kind == "" {
			return rep, &RowErrors{Rows: []RowError{{line, "type de fichier non reconnu d'après les en-têtes : précisez élèves, parents ou enseignants"}}}
		}
		rep.Kind = opt.Kind
	}
	cols, msgs := mapHeader(opt.Kind, header)
	if len(msgs) > 0 {
		if k := detectKind(header); k != "" && k != opt.Kind {
			msgs = append(msgs, "ce fichier ressemble à un fichier "+k.Label())
		}
		e := &RowErrors{}
		for _, m := range msgs {
			e.add(line, m)
		}
		return rep, e
	}
	width := len(header)

	err = d.InTx(ctx, func(tx *db.Tx) error {
		im, err := newImporter(ctx, tx, uai, opt, &rep)
		if err != nil {
			return err
		}
		bad := &RowErrors{}
		for len(bad.Rows) < MaxRowErrors {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec, line, msg, err := src.next()
			if errors.Is(err, io.EOF) {
				break
			}
			var re *RowErrors
			if errors.As(err, &re) {
				bad.Rows = append(bad.Rows, re.Rows...)
				break
			}
			if err != nil {
				return err
			}
			if msg != "" {
				bad.add(line, msg)
				continue
			}
			rec = trimTrailingEmpty(rec)
			if len(rec) == 0 {
				continue // blank row, as spreadsheets leave them
			}
			rep.Rows++
			if len(rec) > width {
				bad.add(line, fmt.Sprintf("%d colonnes au lieu de %d (séparateur ou guillemets en trop ?)", len(rec), width))
				continue
			}
			im.line = line
			err = im.row(ctx, &row{rec: rec, cols: &cols})
			var er errRow
			switch {
			case errors.As(err, &er):
				bad.add(line, string(er))
			case errors.Is(err, directory.ErrInvalid):
				bad.add(line, storeMessage(err))
			case errors.Is(err, directory.ErrConflict):
				// A statement failed: PostgreSQL now refuses the rest of the
				// transaction, so stop here.
				bad.add(line, storeMessage(err))
				return bad
			case err != nil:
				return fmt.Errorf("csvimport: ligne %d : %w", line, err)
			}
		}
		if len(bad.Rows) > 0 {
			bad.Truncated = len(bad.Rows) >= MaxRowErrors
			return bad
		}
		if opt.DryRun {
			return errRollback
		}
		return im.codes.flush()
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	return rep, err
}

// trimTrailingEmpty drops empty cells at the end of a record: spreadsheets
// often add separators after the last column.
func trimTrailingEmpty(rec []string) []string {
	for len(rec) > 0 && strings.TrimSpace(rec[len(rec)-1]) == "" {
		rec = rec[:len(rec)-1]
	}
	return rec
}

// storeMessage keeps the French part of a directory error.
func storeMessage(err error) string {
	m := err.Error()
	for _, p := range []string{"directory: ", "already exists: ", "invalid: "} {
		m = strings.TrimPrefix(m, p)
	}
	return m
}
