package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"preau/db"
	"strconv"
	"strings"
	"time"
)

// EnsureYear returns the id of the school year with this label, creating it
// if needed. When current is true it becomes the only current year.
func EnsureYear(ctx context.Context, q db.Querier, y SchoolYear) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM school_years WHERE label = ?", y.Label).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRow(ctx, "INSERT INTO school_years (label, starts_on, ends_on, is_current) VALUES (?, ?, ?, ?) RETURNING id",
			y.Label, y.StartsOn, y.EndsOn, false).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("directory: year %q: %w", y.Label, err)
	}
	if y.Current {
		if _, err := q.Exec(ctx, "UPDATE school_years SET is_current = (id = ?)", id); err != nil {
			return 0, fmt.Errorf("directory: set current year: %w", err)
		}
	}
	return id, nil
}

// CurrentYear returns the current school year.
func CurrentYear(ctx context.Context, q db.Querier) (SchoolYear, error) {
	var y SchoolYear
	err := q.QueryRow(ctx, "SELECT id, label, starts_on, ends_on, is_current FROM school_years WHERE is_current ORDER BY id DESC LIMIT 1").
		Scan(&y.ID, &y.Label, &y.StartsOn, &y.EndsOn, &y.Current)
	return y, notFound(err)
}

// Years lists the school years, newest first.
func (s *Store) Years(ctx context.Context) ([]SchoolYear, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, label, starts_on, ends_on, is_current FROM school_years ORDER BY label DESC")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows, y *SchoolYear) error {
		return r.Scan(&y.ID, &y.Label, &y.StartsOn, &y.EndsOn, &y.Current)
	})
}

// YearLabel returns the label of the school year containing t, which starts
// on 1 September: 2026-11-28 → "2026-2027".
func YearLabel(t time.Time) string {
	y := t.Year()
	if t.Month() < time.September {
		y--
	}
	return strconv.Itoa(y) + "-" + strconv.Itoa(y+1)
}

// YearFor returns the SchoolYear value for a label "2026-2027".
func YearFor(label string, current bool) SchoolYear {
	start, end, _ := strings.Cut(label, "-")
	return SchoolYear{Label: label, StartsOn: start + "-09-01", EndsOn: end + "-07-05", Current: current}
}
