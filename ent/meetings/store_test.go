package meetings_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/ent/meetings"
	"preau/identity"
	"preau/internal/dbtest"
)

type world struct {
	st                    int64
	maths, french         directory.Person // teachers
	mother, father, other directory.Person // parents: Léa's mother and father, Tom's mother
	lea, tom              directory.Person
}

func setup(t *testing.T, d *db.DB) world {
	t.Helper()
	ctx := context.Background()
	var w world
	err := d.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if w.st, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450009Z", Name: "Collège", Kind: directory.College}); err != nil {
			return err
		}
		person := func(first string, prof identity.Profile) directory.Person {
			if err != nil {
				return directory.Person{}
			}
			var p directory.Person
			if p, err = directory.CreatePerson(ctx, tx, directory.Person{FirstName: first, LastName: "X"}); err == nil && prof != identity.Pupil {
				err = directory.AddRole(ctx, tx, p.ID, w.st, prof, "")
			}
			return p
		}
		w.maths, w.french = person("Paul", identity.Teacher), person("Rose", identity.Teacher)
		w.mother, w.father, w.other = person("Sophie", identity.Parent), person("Marc", identity.Parent), person("Nina", identity.Parent)
		w.lea, w.tom = person("Léa", identity.Pupil), person("Tom", identity.Pupil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// An evening: Tuesday 1 December 2026, 17:00–18:00 in Paris.
var (
	evening = time.Date(2026, 12, 1, 17, 0, 0, 0, meetings.Paris)
	before  = evening.Add(-48 * time.Hour)
)

func publish(t *testing.T, s *meetings.Store, w world, teachers []int64, from, until string, minutes int, mode string) []meetings.Slot {
	t.Helper()
	ss, err := meetings.Series{TeacherIDs: teachers, Date: "2026-12-01", From: from, Until: until, Minutes: minutes, Mode: mode, Place: "Salle 12"}.Slots(w.st, 1)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Publish(context.Background(), ss)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStore runs the rules on each database: publishing (and refusing a
// teacher's overlapping slots), booking one slot per teacher and child,
// never two overlapping bookings of a parent (the message names the other
// one), cancelling, removing, and ids that do not exist.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := setup(t, d)
		s := meetings.New(d)
		s.SetClock(func() time.Time { return before })

		maths := publish(t, s, w, []int64{w.maths.ID}, "17:00", "18:00", 15, meetings.Video)
		french := publish(t, s, w, []int64{w.french.ID}, "17:00", "18:00", 20, meetings.InPerson)
		if len(maths) != 4 || len(french) != 3 || maths[0].Room() == "" || french[0].Room() != "" || french[0].Place != "Salle 12" {
			t.Fatalf("published %+v %+v", maths, french)
		}
		if !maths[1].Start.Equal(evening.Add(15*time.Minute)) || !maths[1].End.Equal(evening.Add(30*time.Minute)) {
			t.Errorf("second slot %v–%v", maths[1].Start, maths[1].End)
		}
		// The same teacher twice at once: refused, nothing stored.
		ss, _ := meetings.Series{TeacherIDs: []int64{w.french.ID, w.maths.ID}, Date: "2026-12-01", From: "18:00", Until: "19:00",
			Minutes: 10, Mode: meetings.Video}.Slots(w.st, 1)
		ss = append(ss, meetings.Slot{StructureID: w.st, TeacherID: w.maths.ID, Start: evening.Add(50 * time.Minute), End: evening.Add(70 * time.Minute), Mode: meetings.Video})
		var inv *meetings.Invalid
		if _, err := s.Publish(ctx, ss); !errors.As(err, &inv) || !strings.Contains(inv.Msg, "Paul X a déjà un créneau") {
			t.Errorf("overlapping publication: %v", err)
		}
		if all, _ := s.List(ctx, meetings.Filter{Structure: w.st}); len(all) != 7 {
			t.Errorf("after the refused publication: %d slots, want 7", len(all))
		}

		// Léa's mother books maths at 17:15 and French at 17:40.
		b, err := s.Book(ctx, maths[1].ID, w.mother.ID, w.lea.ID)
		if err != nil || b.Booking == nil || b.Booking.ParentID != w.mother.ID || b.Booking.ChildName != "Léa X" {
			t.Fatalf("book %+v %v", b, err)
		}
		if _, err := s.Book(ctx, maths[1].ID, w.mother.ID, w.lea.ID); err != nil {
			t.Errorf("the same booking twice (a double submission): %v", err)
		}
		if _, err := s.Book(ctx, french[2].ID, w.mother.ID, w.lea.ID); err != nil {
			t.Fatal(err)
		}
		// French 17:20–17:40 overlaps maths 17:15–17:30: refused, naming it.
		var conflict *meetings.Conflict
		_, err = s.Book(ctx, french[1].ID, w.mother.ID, w.tom.ID)
		if !errors.As(err, &conflict) || conflict.Other.ID != maths[1].ID ||
			!strings.Contains(conflict.Message(), "votre rendez-vous avec Paul X le mardi 1er décembre de 17 h 15 à 17 h 30 (pour Léa X)") {
			t.Errorf("overlap: %v", err)
		}
		// A second maths slot for Léa: refused, whichever parent asks.
		for _, p := range []directory.Person{w.mother, w.father} {
			if _, err := s.Book(ctx, maths[3].ID, p.ID, w.lea.ID); !errors.As(err, &inv) || !strings.Contains(inv.Msg, "déjà rendez-vous avec Paul X") {
				t.Errorf("second maths slot for Léa by %s: %v", p.FirstName, err)
			}
		}
		// Taken by someone else.
		if _, err := s.Book(ctx, maths[1].ID, w.other.ID, w.tom.ID); !errors.Is(err, meetings.ErrTaken) {
			t.Errorf("a booked slot: %v", err)
		}
		if _, err := s.Book(ctx, 999999, w.other.ID, w.tom.ID); !errors.Is(err, meetings.ErrNotFound) {
			t.Errorf("no such slot: %v", err)
		}
		mine, err := s.List(ctx, meetings.Filter{Parent: w.mother.ID})
		if err != nil || len(mine) != 2 || mine[0].ID != maths[1].ID {
			t.Errorf("the mother's bookings %+v %v", mine, err)
		}
		// What Tom's mother sees of the maths teacher: free slots only.
		seen, err := s.List(ctx, meetings.Filter{Teachers: []int64{w.maths.ID}, Parent: w.other.ID, FreeOrParent: true})
		if err != nil || len(seen) != 3 {
			t.Errorf("free slots %+v %v", seen, err)
		}

		// The mother cancels maths: the slot is free, Tom's mother takes it.
		old, err := s.Cancel(ctx, maths[1].ID)
		if err != nil || old.Booking == nil || old.Booking.ParentID != w.mother.ID {
			t.Fatalf("cancel %+v %v", old, err)
		}
		if _, err := s.Cancel(ctx, maths[1].ID); !errors.Is(err, meetings.ErrNotFound) {
			t.Errorf("cancel twice: %v", err)
		}
		if _, err := s.Book(ctx, maths[1].ID, w.other.ID, w.tom.ID); err != nil {
			t.Errorf("book the freed slot: %v", err)
		}
		// The teacher removes the slot: its booking goes with it.
		gone, err := s.Delete(ctx, maths[1].ID)
		if err != nil || gone.Booking == nil || gone.Booking.ParentID != w.other.ID {
			t.Errorf("delete %+v %v", gone, err)
		}
		if _, err := s.Get(ctx, maths[1].ID); !errors.Is(err, meetings.ErrNotFound) {
			t.Errorf("deleted slot: %v", err)
		}
		// Once begun, a slot is no longer booked.
		s.SetClock(func() time.Time { return evening.Add(time.Minute) })
		if _, err := s.Book(ctx, maths[0].ID, w.father.ID, w.tom.ID); !errors.As(err, &inv) {
			t.Errorf("a slot already begun: %v", err)
		}
		past := meetings.Slot{StructureID: w.st, TeacherID: w.french.ID, Start: evening.Add(-time.Hour), End: evening.Add(-50 * time.Minute), Mode: meetings.Video}
		if _, err := s.Publish(ctx, []meetings.Slot{past}); !errors.As(err, &inv) {
			t.Errorf("publishing in the past: %v", err)
		}
	})
}

// TestBookingRace races two parents for the last free slot, and one
// parent for two overlapping slots of two teachers, on each database:
// exactly one booking wins each time.
func TestBookingRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := setup(t, d)
		s := meetings.New(d)
		s.SetClock(func() time.Time { return before })
		for round := range 5 {
			from := time.Date(2026, 12, 1, 8+round, 0, 0, 0, meetings.Paris).Format("15:04")
			until := time.Date(2026, 12, 1, 8+round, 15, 0, 0, meetings.Paris).Format("15:04")
			last := publish(t, s, w, []int64{w.maths.ID}, from, until, 15, meetings.Video)[0]
			type result struct {
				parent int64
				err    error
			}
			res := make(chan result, 2)
			var start sync.WaitGroup
			start.Add(1)
			for _, p := range [][2]int64{{w.mother.ID, w.lea.ID}, {w.other.ID, w.tom.ID}} {
				go func() {
					start.Wait()
					_, err := s.Book(ctx, last.ID, p[0], p[1])
					res <- result{p[0], err}
				}()
			}
			start.Done()
			var won, taken int
			var winner int64
			for range 2 {
				r := <-res
				switch {
				case r.err == nil:
					won, winner = won+1, r.parent
				case errors.Is(r.err, meetings.ErrTaken):
					taken++
				default:
					t.Fatalf("round %d: %v", round, r.err)
				}
			}
			got, _ := s.Get(ctx, last.ID)
			if won != 1 || taken != 1 || got.Booking == nil || got.Booking.ParentID != winner {
				t.Fatalf("round %d: %d won, %d taken, booking %+v", round, won, taken, got.Booking)
			}
			// Free the slot for the next round's one-per-teacher rule.
			if _, err := s.Delete(ctx, last.ID); err != nil {
				t.Fatal(err)
			}
		}

		// One parent, two overlapping slots of two teachers, at once.
		a := publish(t, s, w, []int64{w.maths.ID}, "19:00", "19:20", 20, meetings.Video)[0]
		b := publish(t, s, w, []int64{w.french.ID}, "19:10", "19:30", 20, meetings.Video)[0]
		errs := make(chan error, 2)
		var start sync.WaitGroup
		start.Add(1)
		for _, p := range [][2]int64{{a.ID, w.lea.ID}, {b.ID, w.tom.ID}} {
			go func() {
				start.Wait()
				_, err := s.Book(ctx, p[0], w.mother.ID, p[1])
				errs <- err
			}()
		}
		start.Done()
		var ok, refused int
		for range 2 {
			err := <-errs
			var c *meetings.Conflict
			switch {
			case err == nil:
				ok++
			case errors.As(err, &c):
				refused++
			default:
				t.Fatal(err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Errorf("overlapping bookings at once: %d booked, %d refused", ok, refused)
		}
	})
}
