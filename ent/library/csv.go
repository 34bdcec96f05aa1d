package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"preau/db"
	"preau/ent/directory/csvimport"
)

// The catalogue's CSV import (docs/library.md): one title per line, read
// with csvimport.NewRows (UTF-8 or Latin-1, ';' ',' or tab). Columns, found
// by their header whatever the case or accents: ISBN and Titre (required),
// Auteurs, Éditeur, Année, Sujets (several separated by ';' or '|' inside
// the cell), Cote and Exemplaires (how many copies the CDI has, default 1).
// The ISBN identifies a title: importing a file again changes nothing;
// a title already there is updated and gets the copies it lacks (never
// fewer). A file with any bad line applies nothing.

// RowError is a problem with one line of the file.
type RowError struct {
	Line int    `json:"line"`
	Msg  string `json:"message"`
}

// ImportErrors is returned when lines are bad; nothing was applied.
type ImportErrors struct{ Rows []RowError }

func (e *ImportErrors) Error() string {
	return fmt.Sprintf("library: import: %d lignes en erreur", len(e.Rows))
}

// ImportReport says what an import did (or would do, in a dry run).
type ImportReport struct {
	Lines       int  `json:"lines"`
	Created     int  `json:"created"`
	Updated     int  `json:"updated"`
	Unchanged   int  `json:"unchanged"`
	CopiesAdded int  `json:"copies_added"`
	DryRun      bool `json:"dry_run"`
}

// MaxImportLines bounds a catalogue file.
const MaxImportLines = 20_000

var importHeaders = map[string][]string{
	"isbn":      {"isbn", "isbn 13", "isbn 10", "ean"},
	"title":     {"titre", "title"},
	"authors":   {"auteurs", "auteur", "auteur s", "authors", "author"},
	"publisher": {"editeur", "editeurs", "edition", "publisher"},
	"year":      {"annee", "annee de parution", "date de parution", "year"},
	"subjects":  {"sujets", "sujet", "themes", "theme", "matieres", "mots cles", "subjects"},
	"shelf":     {"cote", "cotes", "shelf mark"},
	"copies":    {"exemplaires", "nombre d exemplaires", "nb exemplaires", "copies"},
}

type importLine struct {
	line   int
	book   Book
	shelf  string
	copies int
}

// Import reads a catalogue for school st and applies it in one
// transaction (nothing with dryRun). Bad lines make an *ImportErrors.
func (s *Store) Import(ctx context.Context, st int64, r io.Reader, dryRun bool) (ImportReport, error) {
	rep := ImportReport{DryRun: dryRun}
	rows, err := csvimport.NewRows(r)
	if err != nil {
		return rep, invalid("fichier illisible : %v", err)
	}
	var errs []RowError
	col := map[string]int{}
	var lines []importLine
	seen := map[string]int{}
	year := s.now().In(Paris).Year()
	for {
		rec, line, msg, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var re *csvimport.RowErrors
			if errors.As(err, &re) {
				for _, e := range re.Rows {
					errs = append(errs, RowError{Line: e.Line, Msg: e.Msg})
				}
				break
			}
			return rep, invalid("fichier illisible : %v", err)
		}
		if msg != "" {
			errs = append(errs, RowError{Line: line, Msg: msg})
			continue
		}
		if len(col) == 0 {
			for i, h := range rec {
				f := csvimport.Fold(h)
				for key, names := range importHeaders {
					for _, n := range names {
						if f == n {
							if _, dup := col[key]; !dup {
								col[key] = i
							}
						}
					}
				}
			}
			if _, ok := col["isbn"]; !ok {
				return rep, &ImportErrors{Rows: []RowError{{Line: line, Msg: "la première ligne doit nommer les colonnes : ISBN et Titre au moins"}}}
			}
			if _, ok := col["title"]; !ok {
				return rep, &ImportErrors{Rows: []RowError{{Line: line, Msg: "colonne Titre absente de la première ligne"}}}
			}
			continue
		}
		get := func(key string) string {
			if i, ok := col[key]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		rep.Lines++
		if rep.Lines > MaxImportLines {
			errs = append(errs, RowError{Line: line, Msg: fmt.Sprintf("%d titres au plus par fichier", MaxImportLines)})
			break
		}
		il := importLine{line: line, copies: 1, shelf: get("shelf")}
		il.book = Book{StructureID: st, ISBN: get("isbn"), Title: get("title"), Authors: []string{get("authors")},
			Publisher: get("publisher"), Subjects: []string{get("subjects")}}
		if y := get("year"); y != "" {
			n, err := strconv.Atoi(y)
			if err != nil {
				errs = append(errs, RowError{Line: line, Msg: fmt.Sprintf("année %q illisible", y)})
				continue
			}
			il.book.Year = n
		}
		if c := get("copies"); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil || n < 0 || n > MaxCopies {
				errs = append(errs, RowError{Line: line, Msg: fmt.Sprintf("nombre d'exemplaires %q : de 0 à %d", c, MaxCopies)})
				continue
			}
			il.copies = n
		}
		if get("isbn") == "" {
			errs = append(errs, RowError{Line: line, Msg: "ISBN manquant : il identifie le titre"})
			continue
		}
		if err := Normalize(&il.book, year); err != nil {
			errs = append(errs, RowError{Line: line, Msg: lineMessage(err)})
			continue
		}
		if il.shelf == "" {
			il.shelf = defaultShelfMark(il.book)
		}
		if _, err := NormalizeShelfMark(il.shelf); err != nil {
			errs = append(errs, RowError{Line: line, Msg: lineMessage(err)})
			continue
		}
		if first, dup := seen[il.book.ISBN]; dup {
			errs = append(errs, RowError{Line: line, Msg: fmt.Sprintf("même ISBN qu'à la ligne %d", first)})
			continue
		}
		seen[il.book.ISBN] = line
		lines = append(lines, il)
	}
	if len(errs) > 0 {
		return rep, &ImportErrors{Rows: errs}
	}
	if len(col) == 0 {
		return rep, &ImportErrors{Rows: []RowError{{Line: 1, Msg: "le fichier est vide"}}}
	}
	errDry := errors.New("dry run")
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, il := range lines {
			if err := s.importLine(ctx, tx, il, &rep); err != nil {
				var inv *Invalid
				if errors.As(err, &inv) {
					return &ImportErrors{Rows: []RowError{{Line: il.line, Msg: inv.Msg}}}
				}
				return fmt.Errorf("library: import line %d: %w", il.line, err)
			}
		}
		if dryRun {
			return errDry
		}
		return nil
	})
	if errors.Is(err, errDry) {
		err = nil
	}
	return rep, err
}

func (s *Store) importLine(ctx context.Context, tx *db.Tx, il importLine, rep *ImportReport) error {
	now := s.now()
	var id int64
	err := tx.QueryRow(ctx, "SELECT id FROM library_books WHERE structure_id = ? AND isbn = ?", il.book.StructureID, il.book.ISBN).Scan(&id)
	if err != nil {
		if _, err := InsertBook(ctx, tx, il.book, il.shelf, il.copies, now); err != nil {
			return err
		}
		rep.Created++
		rep.CopiesAdded += il.copies
		return nil
	}
	old, err := getBook(ctx, tx, id)
	if err != nil {
		return err
	}
	b := il.book
	b.ID = id
	if old.Title != b.Title || strings.Join(old.Authors, ";") != strings.Join(b.Authors, ";") || old.Publisher != b.Publisher ||
		old.Year != b.Year || strings.Join(old.Subjects, ";") != strings.Join(b.Subjects, ";") {
		all, authors, subjects := folds(b)
		if _, err := tx.Exec(ctx, `UPDATE library_books SET title = ?, authors = ?, publisher = ?, year = ?, subjects = ?, folded = ?,
			authors_folded = ?, subjects_folded = ?, updated_at_ms = ? WHERE id = ?`, b.Title, strings.Join(b.Authors, "; "), b.Publisher,
			b.Year, strings.Join(b.Subjects, "; "), all, authors, subjects, now.UnixMilli(), id); err != nil {
			return fmt.Errorf("library: import update: %w", err)
		}
		rep.Updated++
	} else {
		rep.Unchanged++
	}
	if more := il.copies - old.Copies; more > 0 {
		if err := AddCopies(ctx, tx, old, il.shelf, more, now); err != nil {
			return err
		}
		rep.CopiesAdded += more
	}
	return nil
}

// defaultShelfMark is the usual French CDI cote when the file gives none:
// the first three letters of the first author's name in capitals, or DIV.
func defaultShelfMark(b Book) string {
	if len(b.Authors) == 0 {
		return "DIV"
	}
	name := strings.ToUpper(strings.ReplaceAll(csvimport.Fold(strings.Split(b.Authors[0], ",")[0]), " ", ""))
	r := []rune(name)
	if len(r) == 0 {
		return "DIV"
	}
	return string(r[:min(3, len(r))])
}

func lineMessage(err error) string {
	var inv *Invalid
	if errors.As(err, &inv) {
		return inv.Msg
	}
	return err.Error()
}
