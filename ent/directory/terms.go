package directory

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"preau/db"
)

// Term is a term (trimestre) of a school year. Dates are "YYYY-MM-DD",
// both included.
type Term struct {
	ID       int64  `json:"id"`
	YearID   int64  `json:"year_id"`
	Number   int    `json:"number"`
	Name     string `json:"name"`
	StartsOn string `json:"starts_on"`
	EndsOn   string `json:"ends_on"`
}

// Contains reports whether day ("YYYY-MM-DD") falls in the term.
func (t Term) Contains(day string) bool { return day >= t.StartsOn && day <= t.EndsOn }

// DefaultTerms returns the usual three terms of a French school year: from
// the year's start to 30 November, from 1 December to the end of February
// (28 or 29), and from 1 March to the year's end.
func DefaultTerms(y SchoolYear) []Term {
	first, _ := strconv.Atoi(y.StartsOn[:min(4, len(y.StartsOn))])
	endFeb := time.Date(first+1, time.March, 0, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	return []Term{
		{YearID: y.ID, Number: 1, Name: "1er trimestre", StartsOn: y.StartsOn, EndsOn: fmt.Sprintf("%d-11-30", first)},
		{YearID: y.ID, Number: 2, Name: "2e trimestre", StartsOn: fmt.Sprintf("%d-12-01", first), EndsOn: endFeb},
		{YearID: y.ID, Number: 3, Name: "3e trimestre", StartsOn: fmt.Sprintf("%d-03-01", first+1), EndsOn: y.EndsOn},
	}
}

// EnsureTerms returns the terms of school year y, in order, creating the
// default ones (DefaultTerms) when the year has none. Two callers at once
// create them once.
func EnsureTerms(ctx context.Context, q db.Querier, y SchoolYear) ([]Term, error) {
	ts, err := Terms(ctx, q, y.ID)
	if err != nil || len(ts) > 0 {
		return ts, err
	}
	for _, t := range DefaultTerms(y) {
		if _, err := q.Exec(ctx, `INSERT INTO terms (year_id, number, name, starts_on, ends_on) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (year_id, number) DO NOTHING`, y.ID, t.Number, t.Name, t.StartsOn, t.EndsOn); err != nil {
			return nil, fmt.Errorf("directory: create terms of %s: %w", y.Label, err)
		}
	}
	return Terms(ctx, q, y.ID)
}

// Terms returns the terms of a school year, in order.
func Terms(ctx context.Context, q db.Querier, yearID int64) ([]Term, error) {
	rows, err := q.Query(ctx, `SELECT id, year_id, number, name, starts_on, ends_on FROM terms
		WHERE year_id = ? ORDER BY number`, yearID)
	if err != nil {
		return nil, fmt.Errorf("directory: terms: %w", err)
	}
	return collect(rows, func(r *sql.Rows, t *Term) error {
		return r.Scan(&t.ID, &t.YearID, &t.Number, &t.Name, &t.StartsOn, &t.EndsOn)
	})
}

// TermOf returns the term of ts containing day, or the nearest one before it
// (after the last term, the last; before the first, the first). ok is false
// only when ts is empty.
func TermOf(ts []Term, day string) (Term, bool) {
	if len(ts) == 0 {
		return Term{}, false
	}
	best := ts[0]
	for _, t := range ts {
		if t.StartsOn <= day {
			best = t
		}
	}
	return best, true
}

// Period is the term's dates in French: "du 01/09/2026 au 30/11/2026".
func (t Term) Period() string {
	f := func(day string) string {
		d, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return day
		}
		return d.Format("02/01/2006")
	}
	return "du " + f(t.StartsOn) + " au " + f(t.EndsOn)
}
