package timetable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"preau/db"
	"preau/ent/directory/csvimport"
)

// The CSV import of a school's timetable (docs/timetable.md): one line per
// slot, columns (French headers, in any order, accents and case ignored)
//
//	Classe;Jour;Début;Fin;Matière;Enseignant;Salle;Semaine
//
// Jour is a French weekday ("lundi", "lun."); Début and Fin "8:00" or
// "8h00"; Matière a subject's code or name; Enseignant a teacher of the
// school by login or by "NOM Prénom" (may be empty); Salle and Semaine ("",
// "A" or "B") optional. The classes named in the file get exactly its
// slots: their former slots (and changes) go. Nothing is applied when a
// line is wrong: up to csvimport.MaxRowErrors lines are reported.

// ImportReport says what an import did.
type ImportReport struct {
	Classes int `json:"classes"` // classes whose timetable was replaced
	Slots   int `json:"slots"`
}

var columns = map[string][]string{
	"classe":     {"classe", "division"},
	"jour":       {"jour"},
	"debut":      {"debut", "heure debut", "de"},
	"fin":        {"fin", "heure fin", "a"},
	"matiere":    {"matiere", "discipline"},
	"enseignant": {"enseignant", "professeur", "prof"},
	"salle":      {"salle"},
	"semaine":    {"semaine", "quinzaine"},
}

var required = []string{"classe", "jour", "debut", "fin", "matiere"}

type row struct {
	line int
	slot Slot
}

// Import replaces the timetable of the classes named in r, in structure st
// and school year year.
func (s *Store) Import(ctx context.Context, st, year int64, r io.Reader) (ImportReport, error) {
	rows, err := csvimport.NewRows(r)
	if err != nil {
		return ImportReport{}, err
	}
	ref, err := s.references(ctx, st, year)
	if err != nil {
		return ImportReport{}, err
	}
	var bad csvimport.RowErrors
	fail := func(line int, format string, args ...any) bool {
		if len(bad.Rows) == csvimport.MaxRowErrors {
			bad.Truncated = true
			return false
		}
		bad.Rows = append(bad.Rows, csvimport.RowError{Line: line, Msg: fmt.Sprintf(format, args...)})
		return true
	}
	var col map[string]int
	var todo []row
	for {
		rec, line, msg, err := rows.Next()
		if err == io.EOF {
			break
		}
		var re *csvimport.RowErrors
		if errors.As(err, &re) {
			for _, x := range re.Rows {
				fail(x.Line, "%s", x.Msg)
			}
			break
		}
		if err != nil {
			return ImportReport{}, err
		}
		if msg != "" {
			if !fail(line, "%s", msg) {
				break
			}
			continue
		}
		if col == nil {
			if col, err = header(rec); err != nil {
				return ImportReport{}, &csvimport.RowErrors{Rows: []csvimport.RowError{{Line: line, Msg: err.Error()}}}
			}
			continue
		}
		if len(strings.Join(rec, "")) == 0 {
			continue
		}
		sl, msg := ref.slot(rec, col)
		if msg != "" {
			if !fail(line, "%s", msg) {
				break
			}
			continue
		}
		todo = append(todo, row{line, sl})
	}
	if col == nil {
		return ImportReport{}, &csvimport.RowErrors{Rows: []csvimport.RowError{{Line: 1, Msg: "fichier vide : la première ligne doit nommer les colonnes (Classe;Jour;Début;Fin;Matière…)"}}}
	}
	if len(bad.Rows) > 0 {
		return ImportReport{}, &bad
	}
	var rep ImportReport
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		bad = csvimport.RowErrors{}
		classes := map[int64]bool{}
		for _, r := range todo {
			if !classes[r.slot.ClassID] {
				classes[r.slot.ClassID] = true
				if _, err := tx.Exec(ctx, "DELETE FROM timetable_slots WHERE class_id = ?", r.slot.ClassID); err != nil {
					return err
				}
			}
		}
		for _, r := range todo {
			sl := r.slot
			err := insertSlot(ctx, tx, &sl)
			var inv *Invalid
			if errors.As(err, &inv) {
				if !fail(r.line, "%s", inv.Msg) {
					break
				}
				continue
			}
			if err != nil {
				return err
			}
		}
		if len(bad.Rows) > 0 {
			return &bad
		}
		rep = ImportReport{Classes: len(classes), Slots: len(todo)}
		return nil
	})
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

// header maps the columns named in the first line.
func header(rec []string) (map[string]int, error) {
	col := map[string]int{}
	for i, h := range rec {
		f := csvimport.Fold(h)
		for name, syn := range columns {
			for _, x := range syn {
				if f == x {
					if _, dup := col[name]; dup {
						return nil, fmt.Errorf("colonne « %s » en double", h)
					}
					col[name] = i
				}
			}
		}
	}
	var missing []string
	for _, name := range required {
		if _, ok := col[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("colonnes manquantes : %s (attendu Classe;Jour;Début;Fin;Matière;Enseignant;Salle;Semaine)", strings.Join(missing, ", "))
	}
	return col, nil
}

// references are the names a file may use, folded: the school's classes
// of the year, the subjects, the school's teachers.
type references struct {
	classes  map[string]int64
	subjects map[string]int64
	teachers map[string][]int64 // login, "nom prenom" and "prenom nom"
}

func (s *Store) references(ctx context.Context, st, year int64) (*references, error) {
	ref := &references{classes: map[string]int64{}, subjects: map[string]int64{}, teachers: map[string][]int64{}}
	rows, err := s.db.Query(ctx, "SELECT id, name FROM classes WHERE structure_id = ? AND year_id = ?", st, year)
	if err != nil {
		return nil, fmt.Errorf("timetable: classes: %w", err)
	}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return nil, err
		}
		ref.classes[csvimport.Fold(name)] = id
	}
	rows.Close()
	rows, err = s.db.Query(ctx, "SELECT id, code, name FROM subjects")
	if err != nil {
		return nil, fmt.Errorf("timetable: subjects: %w", err)
	}
	for rows.Next() {
		var id int64
		var code, name string
		if err := rows.Scan(&id, &code, &name); err != nil {
			rows.Close()
			return nil, err
		}
		ref.subjects[csvimport.Fold(code)] = id
		ref.subjects[csvimport.Fold(name)] = id
	}
	rows.Close()
	rows, err = s.db.Query(ctx, `SELECT DISTINCT u.id, u.login, u.first_name, u.last_name FROM users u
		JOIN roles r ON r.user_id = u.id WHERE r.structure_id = ? AND r.profile = 'enseignant'`, st)
	if err != nil {
		return nil, fmt.Errorf("timetable: teachers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var login, first, last string
		if err := rows.Scan(&id, &login, &first, &last); err != nil {
			return nil, err
		}
		for _, k := range []string{login, last + " " + first, first + " " + last} {
			k = csvimport.Fold(k) // "marie.curie" and "Marie Curie" fold alike
			if !slices.Contains(ref.teachers[k], id) {
				ref.teachers[k] = append(ref.teachers[k], id)
			}
		}
	}
	return ref, rows.Err()
}

// slot reads one line; msg is the French reason it is refused.
func (ref *references) slot(rec []string, col map[string]int) (Slot, string) {
	get := func(name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var sl Slot
	var ok bool
	if sl.ClassID, ok = ref.classes[csvimport.Fold(get("classe"))]; !ok {
		return sl, fmt.Sprintf("classe « %s » inconnue dans l'établissement cette année", get("classe"))
	}
	if sl.Weekday, ok = ParseDay(get("jour")); !ok {
		return sl, fmt.Sprintf("jour « %s » : lundi à samedi", get("jour"))
	}
	if sl.Start, ok = ParseHHMM(get("debut")); !ok {
		return sl, fmt.Sprintf("heure de début « %s » illisible (8:00 ou 8h00)", get("debut"))
	}
	if sl.End, ok = ParseHHMM(get("fin")); !ok {
		return sl, fmt.Sprintf("heure de fin « %s » illisible (9:00 ou 9h00)", get("fin"))
	}
	if sl.SubjectID, ok = ref.subjects[csvimport.Fold(get("matiere"))]; !ok {
		return sl, fmt.Sprintf("matière « %s » inconnue", get("matiere"))
	}
	if t := get("enseignant"); t != "" {
		ids := ref.teachers[csvimport.Fold(t)]
		switch {
		case len(ids) == 0:
			return sl, fmt.Sprintf("enseignant « %s » inconnu dans l'établissement (identifiant ou NOM Prénom)", t)
		case len(ids) > 1:
			return sl, fmt.Sprintf("plusieurs enseignants s'appellent « %s » : donnez l'identifiant", t)
		}
		sl.TeacherID = ids[0]
	}
	sl.Room, sl.Weeks = get("salle"), get("semaine")
	if err := check(&sl); err != nil {
		var inv *Invalid
		errors.As(err, &inv)
		return sl, inv.Msg
	}
	return sl, ""
}
