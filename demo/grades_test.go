package demo

import (
	"context"
	"testing"

	"preau/db"
	"preau/ent/directory"
	"preau/ent/grades"
	"preau/internal/dbtest"
)

// TestSeedGrades: the demo has a term of grades, so that eleve.demo sees
// averages in several subjects with a chart, and a second start adds none.
func TestSeedGrades(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for range 2 {
			if _, err := Seed(ctx, d, testHasher(), Options{Now: testNow}); err != nil {
				t.Fatal(err)
			}
		}
		var lea int64
		if err := d.QueryRow(ctx, "SELECT id FROM users WHERE login = 'eleve.demo'").Scan(&lea); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM grade_evaluations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		// 4 classes × 5 subjects × 4–6 evaluations, written once.
		if n < 4*5*4 || n > 4*5*6 {
			t.Errorf("%d evaluations in the demo", n)
		}
		y, err := directory.CurrentYear(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		terms, err := directory.Terms(ctx, d, y.ID)
		if err != nil || len(terms) != 3 {
			t.Fatalf("terms %+v, %v", terms, err)
		}
		term, _ := directory.TermOf(terms, testNow.Format("2006-01-02"))
		sheets, names, err := grades.NewStore(d).PupilSheets(ctx, lea, y.ID, term.StartsOn, term.EndsOn)
		if err != nil {
			t.Fatal(err)
		}
		r := grades.BuildReport(lea, sheets, names)
		if len(r.Subjects) != 5 || !r.Overall.Valid() {
			t.Fatalf("eleve.demo's report: %d subjects, overall %q", len(r.Subjects), r.Overall)
		}
		for _, s := range r.Subjects {
			if len(s.Lines) < 4 || len(s.Lines) > 6 || !s.ClassAverage.Valid() {
				t.Errorf("%s: %d evaluations, class average %q", s.Subject, len(s.Lines), s.ClassAverage)
			}
			for _, l := range s.Lines {
				if l.Date > testNow.Format("2006-01-02") || l.Date < term.StartsOn {
					t.Errorf("%s: evaluation dated %s", s.Subject, l.Date)
				}
			}
		}
	})
}
