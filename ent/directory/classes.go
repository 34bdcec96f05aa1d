package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"preau/db"
	"strings"
)

// EnsureClass returns the id of the class of that name in the structure and
// year, creating it if needed.
func EnsureClass(ctx context.Context, q db.Querier, c Class) (int64, error) {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return 0, fmt.Errorf("%w: nom de classe vide", ErrInvalid)
	}
	if err := checkText("le nom de la classe", c.Name, c.Level); err != nil {
		return 0, err
	}
	if c.Kind == "" {
		c.Kind = KindClass
	}
	if c.Level == "" {
		c.Level = LevelOf(c.Name)
	}
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM classes WHERE structure_id = ? AND year_id = ? AND name = ?",
		c.StructureID, c.YearID, c.Name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRow(ctx, "INSERT INTO classes (structure_id, year_id, name, level, kind) VALUES (?, ?, ?, ?, ?) RETURNING id",
			c.StructureID, c.YearID, c.Name, c.Level, c.Kind).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("directory: class %q: %w", c.Name, err)
	}
	return id, nil
}

// LevelOf guesses the level from a class name as schools write it:
// "6A", "6e A", "6EME2" → "6e"; "3B" → "3e"; "2nde 4" → "2nde".
func LevelOf(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	switch {
	case strings.HasPrefix(n, "2nd"), strings.HasPrefix(n, "2de"):
		return "2nde"
	case strings.HasPrefix(n, "1"):
		return "1re"
	case strings.HasPrefix(n, "t"):
		return "Tle"
	case n != "" && n[0] >= '3' && n[0] <= '6':
		return n[:1] + "e"
	}
	return ""
}

const classCols = "id, structure_id, year_id, name, level, kind"

func scanClass(r interface{ Scan(...any) error }, c *Class) error {
	return r.Scan(&c.ID, &c.StructureID, &c.YearID, &c.Name, &c.Level, &c.Kind)
}

// Class returns one class.
func (s *Store) Class(ctx context.Context, id int64) (Class, error) {
	var c Class
	err := scanClass(s.DB.QueryRow(ctx, "SELECT "+classCols+" FROM classes WHERE id = ?", id), &c)
	return c, notFound(err)
}

// Classes lists the classes of a structure in a year, by name.
func (s *Store) Classes(ctx context.Context, structureID, yearID int64) ([]Class, error) {
	rows, err := s.DB.Query(ctx, "SELECT "+classCols+" FROM classes WHERE structure_id = ? AND year_id = ? ORDER BY kind, name",
		structureID, yearID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, c *Class) error { return scanClass(r, c) })
}
