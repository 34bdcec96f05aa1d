package absences_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"preau/db"
	"preau/ent/absences"
	"preau/ent/directory"
	"preau/ent/live"
	"preau/ent/timetable"
	"preau/internal/dbtest"
)

// TestStore runs the store on each database: a roll call taken twice and
// corrected, a justification and its decision, deletion, and the live
// lesson's attendance.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var st, class int64
		var lea, tom directory.Person
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			if st, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450009Z", Name: "Collège", Kind: directory.College}); err != nil {
				return err
			}
			y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
			if err != nil {
				return err
			}
			if class, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: y, Name: "3e A"}); err != nil {
				return err
			}
			for _, p := range []*directory.Person{&lea, &tom} {
				if *p, err = directory.CreatePerson(ctx, tx, directory.Person{FirstName: "P", LastName: "X"}); err != nil {
					return err
				}
				if err := directory.Transfer(ctx, tx, p.ID, class); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		s := absences.New(d)
		l := absences.Lesson{ClassID: class, StructureID: st, Date: "2026-12-01", Start: 600, End: 660, Subject: "Maths"}
		rs, err := s.TakeRoll(ctx, l, 9, false, []absences.Mark{{PupilID: lea.ID, Kind: absences.Absent}, {PupilID: tom.ID, Kind: absences.Present}})
		if err != nil || len(rs) != 1 || rs[0].PupilID != lea.ID {
			t.Fatalf("roll %+v %v", rs, err)
		}
		// Corrected: Léa was late, Tom absent.
		rs, err = s.TakeRoll(ctx, l, 9, false, []absences.Mark{{PupilID: lea.ID, Kind: absences.Late, LateMin: 5}, {PupilID: tom.ID, Kind: absences.Absent}})
		if err != nil || len(rs) != 2 {
			t.Fatalf("corrected roll %+v %v", rs, err)
		}
		rolls, err := s.Rolls(ctx, []int64{class}, "2026-12-01", "2026-12-01")
		if err != nil || len(rolls) != 1 || rolls[0].Absent != 1 || rolls[0].Late != 1 {
			t.Errorf("rolls %+v %v", rolls, err)
		}
		leaRec := rs[0]
		if leaRec.PupilID != lea.ID {
			leaRec = rs[1]
		}
		if _, err := s.Justify(ctx, leaRec.ID, 7, "maladie", "", &absences.Document{Name: "c.pdf", Key: "m/1"}); err != nil {
			t.Fatal(err)
		}
		old, err := s.Justify(ctx, leaRec.ID, 7, "autre", "Train", &absences.Document{Name: "d.pdf", Key: "m/2"})
		if err != nil || old != "m/1" {
			t.Errorf("second justification: %q %v", old, err)
		}
		r, err := s.Decide(ctx, leaRec.ID, 3, absences.Justified, "Vu")
		if err != nil || r.Status != absences.Justified || r.Comment != "Vu" || r.Document == nil || r.Document.Name != "d.pdf" {
			t.Errorf("decided %+v %v", r, err)
		}
		var inv *absences.Invalid
		if _, err := s.Justify(ctx, leaRec.ID, 7, "maladie", "", nil); !errors.As(err, &inv) {
			t.Errorf("justify a justified record: %v", err)
		}
		// A present mark keeps a justified record.
		if _, err := s.TakeRoll(ctx, l, 9, false, []absences.Mark{{PupilID: lea.ID, Kind: absences.Present}, {PupilID: tom.ID, Kind: absences.Present}}); err != nil {
			t.Fatal(err)
		}
		all, _ := s.List(ctx, absences.Filter{Classes: []int64{class}})
		if len(all) != 1 || all[0].ID != leaRec.ID {
			t.Errorf("after all present %+v", all)
		}
		if key, err := s.Delete(ctx, leaRec.ID); err != nil || key != "m/2" {
			t.Errorf("delete %q %v", key, err)
		}
		if _, err := s.Delete(ctx, leaRec.ID); !errors.Is(err, absences.ErrNotFound) {
			t.Errorf("delete twice %v", err)
		}

		begin := time.Date(2026, 12, 1, 10, 0, 0, 0, timetable.Paris)
		if _, found, err := s.LiveAttendance(ctx, class, begin, begin.Add(time.Hour)); err != nil || found {
			t.Errorf("no live lesson: %v %v", found, err)
		}
		if _, err := live.NewStore(d).Save(ctx, live.Lesson{Room: "r", Structure: st, ClassID: class, StartedBy: 9, StartedAt: begin.Add(5 * time.Minute),
			EndedAt: begin.Add(2 * time.Hour)}, []live.Attendance{{UserID: lea.ID, Name: "Léa", Role: "participant", FirstJoin: begin, LastLeave: begin, Sessions: 1}}); err != nil {
			t.Fatal(err)
		}
		joined, found, err := s.LiveAttendance(ctx, class, begin, begin.Add(time.Hour))
		if err != nil || !found || !joined[lea.ID] || joined[tom.ID] {
			t.Errorf("live attendance %v %v %v", joined, found, err)
		}
	})
}
