package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"preau/db"
	"strings"
)

// CreateStructure adds a school.
func CreateStructure(ctx context.Context, q db.Querier, st Structure) (int64, error) {
	st.UAI = strings.ToUpper(strings.TrimSpace(st.UAI))
	if !ValidUAI(st.UAI) {
		return 0, fmt.Errorf("%w: code UAI %q (7 chiffres et une lettre)", ErrInvalid, st.UAI)
	}
	if st.Kind != College && st.Kind != Lycee {
		return 0, fmt.Errorf("%w: type d'établissement %q", ErrInvalid, st.Kind)
	}
	if strings.TrimSpace(st.Name) == "" {
		return 0, fmt.Errorf("%w: nom d'établissement vide", ErrInvalid)
	}
	if err := checkText("le nom ou la commune", st.Name, st.Commune); err != nil {
		return 0, err
	}
	var id int64
	err := q.QueryRow(ctx, "INSERT INTO structures (uai, name, kind, commune) VALUES (?, ?, ?, ?) RETURNING id",
		st.UAI, strings.TrimSpace(st.Name), st.Kind, strings.TrimSpace(st.Commune)).Scan(&id)
	if db.IsUniqueViolation(err) {
		return 0, fmt.Errorf("%w: UAI %s", ErrConflict, st.UAI)
	}
	return id, err
}

// ValidUAI checks the shape of a UAI code: 7 digits then a letter.
func ValidUAI(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < 7; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s[7] >= 'A' && s[7] <= 'Z'
}

const structureCols = "id, uai, name, kind, commune"

func scanStructure(r interface{ Scan(...any) error }, st *Structure) error {
	return r.Scan(&st.ID, &st.UAI, &st.Name, &st.Kind, &st.Commune)
}

// StructureByUAI finds a school by its UAI.
func StructureByUAI(ctx context.Context, q db.Querier, uai string) (Structure, error) {
	var st Structure
	err := scanStructure(q.QueryRow(ctx, "SELECT "+structureCols+" FROM structures WHERE uai = ?", strings.ToUpper(uai)), &st)
	return st, notFound(err)
}

// Structure returns one school.
func (s *Store) Structure(ctx context.Context, id int64) (Structure, error) {
	var st Structure
	err := scanStructure(s.DB.QueryRow(ctx, "SELECT "+structureCols+" FROM structures WHERE id = ?", id), &st)
	return st, notFound(err)
}

// Structures lists every school by name.
func (s *Store) Structures(ctx context.Context) ([]Structure, error) {
	rows, err := s.DB.Query(ctx, "SELECT "+structureCols+" FROM structures ORDER BY name")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, st *Structure) error { return scanStructure(r, st) })
}

// EnsureSubject returns the id of the subject with this code, creating it
// with name if needed.
func EnsureSubject(ctx context.Context, q db.Querier, code, name string) (int64, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM subjects WHERE code = ?", code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRow(ctx, "INSERT INTO subjects (code, name) VALUES (?, ?) RETURNING id", code, name).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("directory: subject %q: %w", code, err)
	}
	return id, nil
}

// Subjects lists the subjects by name.
func (s *Store) Subjects(ctx context.Context) ([]Subject, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, code, name FROM subjects ORDER BY name")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, x *Subject) error { return r.Scan(&x.ID, &x.Code, &x.Name) })
}
