package demo

import (
	"context"
	"testing"
	"time"

	"preau/ent/directory"
	"preau/ent/timetable"
	"preau/internal/dbtest"
)

// TestDemoTimetable: every demo class has its weekly hours, Monday to
// Friday without Wednesday afternoon, and next week shows the cancelled
// lesson of 3e A.
func TestDemoTimetable(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, timetable.Paris)
	res, err := Seed(ctx, d, testHasher(), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	dir := directory.New(d)
	y, err := directory.CurrentYear(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	classes, err := dir.Classes(ctx, res.Structure.ID, y.ID)
	if err != nil {
		t.Fatal(err)
	}
	st := timetable.New(d)
	want := map[string]int{"6e A": 22, "6e B": 22, "3e A": 26, "3e B": 26}
	for _, c := range classes {
		slots, err := st.Slots(ctx, timetable.Filter{Classes: []int64{c.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if len(slots) != want[c.Name] {
			t.Errorf("%s: %d lessons a week, want %d", c.Name, len(slots), want[c.Name])
		}
		for _, s := range slots {
			if s.Weekday > 5 || (s.Weekday == 3 && s.Start >= 12*60) || s.TeacherID == 0 {
				t.Errorf("%s: lesson %+v", c.Name, s)
			}
		}
		if c.Name == "3e A" {
			week, err := st.Week(ctx, timetable.Filter{Classes: []int64{c.ID}}, now.AddDate(0, 0, 7))
			if err != nil {
				t.Fatal(err)
			}
			cancelled := 0
			for _, o := range week {
				if o.Status == timetable.Cancelled {
					cancelled++
				}
			}
			if cancelled != 1 {
				t.Errorf("3e A next week: %d cancelled lessons, want 1", cancelled)
			}
		}
	}
}
