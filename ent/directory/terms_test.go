package directory_test

import (
	"context"
	"sync"
	"testing"

	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

func TestDefaultTerms(t *testing.T) {
	for _, tt := range []struct {
		label  string
		endFeb string
	}{{"2026-2027", "2027-02-28"}, {"2027-2028", "2028-02-29"}} {
		ts := directory.DefaultTerms(directory.YearFor(tt.label, true))
		y := directory.YearFor(tt.label, true)
		want := [][2]string{{y.StartsOn, tt.label[:4] + "-11-30"}, {tt.label[:4] + "-12-01", tt.endFeb}, {tt.label[5:] + "-03-01", y.EndsOn}}
		names := []string{"1er trimestre", "2e trimestre", "3e trimestre"}
		if len(ts) != 3 {
			t.Fatalf("%s: %d terms", tt.label, len(ts))
		}
		for i, term := range ts {
			if term.Number != i+1 || term.Name != names[i] || term.StartsOn != want[i][0] || term.EndsOn != want[i][1] {
				t.Errorf("%s term %d = %+v, want %s %v", tt.label, i+1, term, names[i], want[i])
			}
		}
	}
}

func TestTermOf(t *testing.T) {
	ts := directory.DefaultTerms(directory.YearFor("2026-2027", true))
	for day, want := range map[string]int{"2026-09-01": 1, "2026-11-30": 1, "2026-12-01": 2, "2027-02-28": 2,
		"2027-03-01": 3, "2027-08-15": 3, "2026-08-01": 1} {
		if got, ok := directory.TermOf(ts, day); !ok || got.Number != want {
			t.Errorf("TermOf(%s) = %d, want %d", day, got.Number, want)
		}
	}
	if _, ok := directory.TermOf(nil, "2026-10-01"); ok {
		t.Error("TermOf without terms found one")
	}
	if !ts[0].Contains("2026-11-30") || ts[0].Contains("2026-12-01") {
		t.Error("Contains is wrong at the edge of the first term")
	}
}

// TestEnsureTerms creates the default terms once, even from callers at once.
func TestEnsureTerms(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		y := directory.YearFor("2026-2027", true)
		var err error
		if y.ID, err = directory.EnsureYear(ctx, d, y); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := directory.EnsureTerms(ctx, d, y); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		ts, err := directory.Terms(ctx, d, y.ID)
		if err != nil || len(ts) != 3 || ts[1].Name != "2e trimestre" || ts[1].YearID != y.ID {
			t.Fatalf("terms = %+v, %v", ts, err)
		}
	})
}
