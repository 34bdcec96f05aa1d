package demo

import (
	"context"
	"testing"
	"time"

	"preau/ent/directory"
	"preau/ent/homework"
	"preau/internal/dbtest"
)

// TestDemoHomework: the demo classes have lessons since Monday of last
// week, each by a teacher of the subject, work due on or after its lesson,
// and eleve.demo has work ahead with one item ticked; seeding again adds
// nothing.
func TestDemoHomework(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	now := time.Date(2026, 11, 26, 18, 0, 0, 0, homework.Paris) // a Thursday evening
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
	st := homework.New(d)
	total := 0
	for _, c := range classes {
		es, err := st.Entries(ctx, homework.Filter{Classes: []int64{c.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) < 20 {
			t.Errorf("%s: %d lessons in the book, want a week and a half of them", c.Name, len(es))
		}
		total += len(es)
		for _, e := range es {
			if e.LessonOn < "2026-11-16" || e.LessonOn > "2026-11-26" {
				t.Errorf("%s: lesson on %s", c.Name, e.LessonOn)
			}
			ok, err := homework.Teaches(ctx, d, e.AuthorID, e.ClassID, e.SubjectID)
			if err != nil || !ok {
				t.Errorf("%s: %s written by %d who does not teach it", c.Name, e.Subject, e.AuthorID)
			}
			for _, it := range e.Items {
				if it.DueOn < e.LessonOn {
					t.Errorf("%s: work due %s before its lesson %s", c.Name, it.DueOn, e.LessonOn)
				}
			}
		}
	}
	var lea int64
	if err := d.QueryRow(ctx, "SELECT id FROM users WHERE login = ?", "eleve.demo").Scan(&lea); err != nil {
		t.Fatal(err)
	}
	pr, err := dir.Principal(ctx, lea)
	if err != nil {
		t.Fatal(err)
	}
	todo, err := st.Todo(ctx, lea, pr.Classes, "2026-11-27", "", "2026-11-27")
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	for _, it := range todo {
		if it.Done {
			done++
		}
	}
	if len(todo) < 3 || done != 1 {
		t.Errorf("eleve.demo: %d works ahead, %d done; want several, one done", len(todo), done)
	}

	// The demo is written once.
	if res, err := Seed(ctx, d, testHasher(), Options{Now: now.AddDate(0, 0, 1)}); err != nil || res.Created {
		t.Fatalf("second seed: %+v %v", res, err)
	}
	var n int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM homework_entries").Scan(&n); err != nil || n != total {
		t.Errorf("after a second seed: %d entries, want %d", n, total)
	}
}
