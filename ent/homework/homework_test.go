package homework

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

func TestBucket(t *testing.T) {
	// Saturday 28 November 2026: tomorrow is Sunday, the week ends then.
	for _, tc := range []struct{ due, today, want string }{
		{"2026-11-27", "2026-11-28", Overdue},
		{"2026-11-28", "2026-11-28", Today},
		{"2026-11-29", "2026-11-28", Tomorrow},
		{"2026-11-30", "2026-11-28", Later},
		// Monday 30 November: Wednesday to Sunday are this week.
		{"2026-12-01", "2026-11-30", Tomorrow},
		{"2026-12-02", "2026-11-30", ThisWeek},
		{"2026-12-06", "2026-11-30", ThisWeek},
		{"2026-12-07", "2026-11-30", Later},
		// Across the clocks going back (25 October 2026).
		{"2026-10-26", "2026-10-25", Tomorrow},
		{"illisible", "2026-11-30", Later},
	} {
		if got := Bucket(tc.due, tc.today); got != tc.want {
			t.Errorf("Bucket(%s, %s) = %s, want %s", tc.due, tc.today, got, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	const start, end = "2026-09-01", "2027-07-05"
	ok := func() Entry {
		return Entry{LessonOn: "2026-11-30", Title: " Les fractions ", Content: "Cours.\r\n\r\nExercices.",
			Items: []Item{{Description: "Exercice 3 p. 42", DueOn: "2026-12-02", Minutes: 30,
				Attachments: []Attachment{{FileID: 1, Version: 1, Name: "fiche.pdf", Size: 1000}}}}}
	}
	e := ok()
	if err := e.Check(start, end); err != nil {
		t.Fatal(err)
	}
	if e.Title != "Les fractions" || e.Content != "Cours.\n\nExercices." || e.Items[0].N != 1 || e.Items[0].Attachments[0].N != 1 {
		t.Errorf("cleaned entry %+v", e)
	}
	sameDay := ok()
	sameDay.Items[0].DueOn = sameDay.LessonOn
	if err := sameDay.Check(start, end); err != nil {
		t.Errorf("work due on the lesson's day: %v", err)
	}
	many := func(n int) []Attachment {
		var as []Attachment
		for i := range n {
			as = append(as, Attachment{FileID: int64(i + 1), Version: 1, Name: "f", Size: 1})
		}
		return as
	}
	for _, tc := range []struct {
		name, want string
		edit       func(e *Entry)
	}{
		{"empty title", "le titre de la séance est obligatoire", func(e *Entry) { e.Title = "  " }},
		{"long title", "150 caractères au plus", func(e *Entry) { e.Title = strings.Repeat("é", MaxTitle+1) }},
		{"control in title", "caractères non autorisés", func(e *Entry) { e.Title = "a\x00b" }},
		{"newline in title", "caractères non autorisés", func(e *Entry) { e.Title = "a\nb" }},
		{"bad UTF-8", "caractères non autorisés", func(e *Entry) { e.Content = "\xff" }},
		{"long content", "10000 caractères au plus", func(e *Entry) { e.Content = strings.Repeat("x", MaxContent+1) }},
		{"bad date", "date de la séance illisible", func(e *Entry) { e.LessonOn = "30/11/2026" }},
		{"impossible date", "date de la séance illisible", func(e *Entry) { e.LessonOn = "2026-02-30" }},
		{"lesson before the year", "pendant l'année scolaire (du 01/09/2026 au 05/07/2027)", func(e *Entry) { e.LessonOn = "2026-08-31" }},
		{"lesson after the year", "pendant l'année scolaire", func(e *Entry) { e.LessonOn = "2027-07-06"; e.Items = nil }},
		{"too many works", "5 travaux à faire au plus", func(e *Entry) {
			for range MaxItems {
				e.Items = append(e.Items, e.Items[0])
			}
		}},
		{"empty description", "travail 1 : la consigne est obligatoire", func(e *Entry) { e.Items[0].Description = "\n" }},
		{"long description", "2000 caractères au plus", func(e *Entry) { e.Items[0].Description = strings.Repeat("x", MaxDescription+1) }},
		{"due before the lesson", "travail 1 : il doit être pour le jour de la séance ou après (le 30/11/2026 ou plus tard)", func(e *Entry) { e.Items[0].DueOn = "2026-11-29" }},
		{"due after the year", "au plus tard le 05/07/2027", func(e *Entry) { e.Items[0].DueOn = "2027-07-06" }},
		{"bad due date", "date « pour le » illisible", func(e *Entry) { e.Items[0].DueOn = "demain" }},
		{"negative duration", "durée estimée", func(e *Entry) { e.Items[0].Minutes = -1 }},
		{"long duration", "durée estimée", func(e *Entry) { e.Items[0].Minutes = MaxMinutes + 1 }},
		{"six files", "5 pièces jointes au plus", func(e *Entry) { e.Items[0].Attachments = many(6) }},
		{"large file", "10 Mo au plus", func(e *Entry) { e.Items[0].Attachments[0].Size = MaxFileSize + 1 }},
		{"same file twice", "joint deux fois", func(e *Entry) {
			e.Items[0].Attachments = append(e.Items[0].Attachments, e.Items[0].Attachments[0])
		}},
	} {
		e := ok()
		tc.edit(&e)
		err := e.Check(start, end)
		var inv *Invalid
		if !errors.As(err, &inv) || !strings.Contains(inv.Msg, tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestStore writes, reads, changes and deletes entries, and ticks works,
// on both databases.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var class, other, maths, teacher, pupil int64
		err := d.InTx(ctx, func(tx *db.Tx) error {
			st, err := directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450001A", Name: "Collège Test", Kind: directory.College})
			if err != nil {
				return err
			}
			y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
			if err != nil {
				return err
			}
			if class, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: y, Name: "3e A"}); err != nil {
				return err
			}
			if other, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: y, Name: "3e B"}); err != nil {
				return err
			}
			if maths, err = directory.EnsureSubject(ctx, tx, "MATHS", "Mathématiques"); err != nil {
				return err
			}
			p, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Paul", LastName: "Dupont"})
			if err != nil {
				return err
			}
			teacher = p.ID
			if err := directory.AddRole(ctx, tx, teacher, st, identity.Teacher, ""); err != nil {
				return err
			}
			if err := directory.AddTeaching(ctx, tx, teacher, class, maths); err != nil {
				return err
			}
			if p, err = directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Léa", LastName: "Martin"}); err != nil {
				return err
			}
			pupil = p.ID
			return directory.Enrol(ctx, tx, pupil, class)
		})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := Teaches(ctx, d, teacher, class, maths); err != nil || !ok {
			t.Fatalf("Teaches = %v %v", ok, err)
		}
		if ok, _ := Teaches(ctx, d, teacher, other, maths); ok {
			t.Error("teaches a class they do not")
		}
		s := New(d)
		s.now = func() time.Time { return time.Unix(1_780_000_000, 0) }
		e, err := s.Create(ctx, Entry{ClassID: class, SubjectID: maths, AuthorID: teacher, LessonOn: "2026-11-30", Title: "Fractions",
			Content: "Voir https://exemple.fr", Items: []Item{
				{Description: "Exercice 1", DueOn: "2026-12-02", Minutes: 20, Attachments: []Attachment{{FileID: 7, Version: 2, Name: "fiche.pdf", Size: 1234}}},
				{Description: "Apprendre la leçon", DueOn: "2026-12-07"},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if e.ClassName != "3e A" || e.Subject != "Mathématiques" || e.AuthorName != "Paul Dupont" || len(e.Items) != 2 ||
			len(e.Items[0].Attachments) != 1 || e.Items[0].Attachments[0].Name != "fiche.pdf" || e.StructureID == 0 {
			t.Fatalf("created %+v", e)
		}
		if _, err := s.Create(ctx, Entry{ClassID: class, SubjectID: maths, AuthorID: teacher, LessonOn: "2026-11-30"}); err == nil {
			t.Error("entry without a title accepted")
		}
		if _, err := s.Create(ctx, Entry{ClassID: class, SubjectID: 99999, AuthorID: teacher, LessonOn: "2026-11-30", Title: "x"}); err == nil {
			t.Error("entry in an unknown subject accepted")
		}

		// Ticks, and the to-do list from 1 December.
		first, second := e.Items[0].ID, e.Items[1].ID
		if err := s.SetDone(ctx, first, pupil, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDone(ctx, first, pupil, true); err != nil {
			t.Fatalf("ticking twice: %v", err)
		}
		todo, err := s.Todo(ctx, pupil, []int64{class}, "2026-12-01", "", "2026-12-01")
		if err != nil {
			t.Fatal(err)
		}
		if len(todo) != 2 || !todo[0].Done || todo[1].Done || todo[0].Bucket != Tomorrow || todo[1].Bucket != Later ||
			todo[0].Subject != "Mathématiques" || len(todo[0].Attachments) != 1 {
			t.Fatalf("todo %+v", todo)
		}
		if todo, _ := s.Todo(ctx, pupil, []int64{other}, "", "", "2026-12-01"); len(todo) != 0 {
			t.Errorf("another class's todo: %+v", todo)
		}

		// Update: the first work changes (its tick stays), the second goes,
		// a third comes.
		e.Title = "Fractions (suite)"
		e.Items = []Item{{ID: first, Description: "Exercice 1 et 2", DueOn: "2026-12-03"}, {Description: "Nouveau", DueOn: "2026-12-04"}}
		e2, err := s.Update(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if e2.Title != "Fractions (suite)" || len(e2.Items) != 2 || e2.Items[0].ID != first || len(e2.Items[0].Attachments) != 0 ||
			e2.Items[1].Description != "Nouveau" {
			t.Fatalf("updated %+v", e2)
		}
		done, err := s.Done(ctx, pupil, []int64{first, second})
		if err != nil || !done[first] || done[second] {
			t.Errorf("ticks after update: %v %v", done, err)
		}
		e.Items = []Item{{ID: 123456, Description: "x", DueOn: "2026-12-03"}}
		if _, err := s.Update(ctx, e); err == nil {
			t.Error("update with another entry's work accepted")
		}
		if _, err := s.Update(ctx, Entry{ID: 99999, Title: "x", LessonOn: "2026-11-30"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("update of nothing: %v", err)
		}
		es, err := s.Entries(ctx, Filter{Classes: []int64{class}, SubjectID: maths, From: "2026-11-01", To: "2026-11-30"})
		if err != nil || len(es) != 1 {
			t.Fatalf("entries %+v %v", es, err)
		}
		if es, _ := s.Entries(ctx, Filter{Classes: []int64{class}, To: "2026-11-29"}); len(es) != 0 {
			t.Errorf("entries before the lesson: %+v", es)
		}
		if got, err := s.EntryOfItem(ctx, first); err != nil || got.ID != e.ID {
			t.Errorf("EntryOfItem = %+v %v", got, err)
		}
		if err := s.Delete(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, e.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		if _, err := s.EntryOfItem(ctx, first); !errors.Is(err, ErrNotFound) {
			t.Errorf("work of a deleted entry: %v", err)
		}
	})
}
