package demo

import (
	"context"
	"testing"

	"preau/ent/library"
	"preau/internal/dbtest"
)

// TestDemoLibrary: the demo collège's CDI has its catalogue (written
// once), eleve.demo has a book out, one loan is overdue and a reservation
// waits at the desk; the documentaliste manages it.
func TestDemoLibrary(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	res, err := Seed(ctx, d, testHasher(), Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Seed(ctx, d, testHasher(), Options{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	st := library.New(d, library.Config{})
	books, total, err := st.Search(ctx, res.Structure.ID, library.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if total < 55 || total != len(demoCatalogue) || len(books) == 0 {
		t.Fatalf("%d demo titles, want %d (written once)", total, len(demoCatalogue))
	}
	if got, _, _ := st.Search(ctx, res.Structure.ID, library.Query{Words: "ETRANGER"}); len(got) != 0 {
		t.Errorf("search finds %d for a title not in the demo", len(got))
	}
	if got, _, _ := st.Search(ctx, res.Structure.ID, library.Query{Author: "moliere"}); len(got) != 4 {
		t.Errorf("Molière: %d titles, want 4", len(got))
	}
	var lea int64
	if err := d.QueryRow(ctx, "SELECT id FROM users WHERE login = ?", fixedPupil.login).Scan(&lea); err != nil {
		t.Fatal(err)
	}
	loans, err := st.LoansOf(ctx, lea, res.Structure.ID)
	if err != nil || len(loans) != 1 || loans[0].Title != "Le Petit Prince" {
		t.Errorf("eleve.demo's loans: %+v, %v", loans, err)
	}
	// The demo is dated testNow; the store's clock is today, later: count
	// the loans due before testNow's day.
	var late int
	d.QueryRow(ctx, "SELECT COUNT(*) FROM library_loans WHERE returned_at_ms = 0 AND due_on < ?", library.Today(testNow)).Scan(&late)
	if late != 1 {
		t.Errorf("%d overdue loans, want 1", late)
	}
	ready, err := st.Ready(ctx, res.Structure.ID)
	if err != nil || len(ready) != 1 || ready[0].Title != "Hunger Games" {
		t.Errorf("reservations to prepare: %+v, %v", ready, err)
	}
	var doc int64
	var fn string
	if err := d.QueryRow(ctx, "SELECT user_id, function FROM roles WHERE function = ?", fixedLibrary.function).Scan(&doc, &fn); err != nil {
		t.Fatal(err)
	}
	if !library.IsLibrarian(fn) {
		t.Errorf("the demo documentaliste's function %q is not recognised", fn)
	}
}
