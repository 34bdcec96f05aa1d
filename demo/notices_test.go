package demo

import (
	"context"
	"testing"

	"preau/ent/directory"
	"preau/ent/notices"
	"preau/internal/dbtest"
)

// TestDemoNotices: the demo collège has its notices, written once; the
// museum outing asks the parents of 3e A, three families have answered,
// parent.demo is still asked; the direction's draft is hidden from families.
func TestDemoNotices(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	res, err := Seed(ctx, d, testHasher(), Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Seed(ctx, d, testHasher(), Options{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	st := notices.New(d)
	all, err := st.List(ctx, notices.Filter{Structures: []int64{res.Structure.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("%d demo notices, want 5 (written once)", len(all))
	}
	today := notices.Today(testNow)
	dir := directory.New(d)
	principal := func(login string) *directory.Person {
		var id int64
		if err := d.QueryRow(ctx, "SELECT id FROM users WHERE login = ?", login).Scan(&id); err != nil {
			t.Fatal(err)
		}
		p, _ := dir.Person(ctx, id)
		return &p
	}
	parent, _ := dir.Principal(ctx, principal("parent.demo").ID)
	pupil, _ := dir.Principal(ctx, principal("eleve.demo").ID)
	var outing notices.Notice
	seen := map[string]int{}
	for _, n := range all {
		if n.RequiresAck {
			outing = n
		}
		if notices.CanRead(parent, n, today) {
			seen["parent"]++
		}
		if notices.CanRead(pupil, n, today) {
			seen["pupil"]++
		}
	}
	// parent.demo: welcome, outing and maths (Léa's class); Léa: welcome,
	// maths, photo.
	if seen["parent"] != 3 || seen["pupil"] != 3 {
		t.Errorf("notices read: %v", seen)
	}
	if !notices.MustAck(parent, outing, today) {
		t.Error("parent.demo is not asked to acknowledge the outing")
	}
	rep, err := st.Acks(ctx, outing)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done != 3 || rep.Pending != len(rep.Rows)-3-rep.NoGuardian || len(rep.Rows) != 25 {
		t.Errorf("outing follow-up: %d done, %d pending, %d rows", rep.Done, rep.Pending, len(rep.Rows))
	}
}
