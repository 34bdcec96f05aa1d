package grades_test

import (
	"context"
	"errors"
	"testing"

	"preau/db"
	"preau/ent/directory"
	"preau/ent/grades"
	"preau/identity"
	"preau/internal/dbtest"
)

// TestStore writes evaluations and marks and reads them back on SQLite and
// PostgreSQL, with the teaching check and foreign pupils refused.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var class, other, maths, french int64
		var teacher, lea, hugo directory.Person
		err := d.InTx(ctx, func(tx *db.Tx) (err error) {
			st, err := directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450001A", Name: "Collège", Kind: directory.College})
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
			if french, err = directory.EnsureSubject(ctx, tx, "FRANCAIS", "Français"); err != nil {
				return err
			}
			mk := func(f, l string) directory.Person {
				p, e := directory.CreatePerson(ctx, tx, directory.Person{FirstName: f, LastName: l})
				if err == nil {
					err = e
				}
				return p
			}
			teacher, lea, hugo = mk("Paul", "Dupont"), mk("Léa", "Martin"), mk("Hugo", "Bernard")
			if err != nil {
				return err
			}
			if err := directory.AddRole(ctx, tx, teacher.ID, st, identity.Teacher, ""); err != nil {
				return err
			}
			if err := directory.Transfer(ctx, tx, lea.ID, class); err != nil {
				return err
			}
			if err := directory.Transfer(ctx, tx, hugo.ID, other); err != nil {
				return err
			}
			return directory.AddTeaching(ctx, tx, teacher.ID, class, maths)
		})
		if err != nil {
			t.Fatal(err)
		}
		s := grades.NewStore(d)
		e := grades.Evaluation{ClassID: class, SubjectID: maths, CreatedBy: teacher.ID, Title: "Contrôle 1", Date: "2026-10-01", Scale: 10, Coef: 150}
		if _, err := s.Create(ctx, grades.Evaluation{ClassID: class, SubjectID: french, CreatedBy: teacher.ID, Title: "x", Date: "2026-10-01", Scale: 20, Coef: 100}); !errors.Is(err, grades.ErrNotTaught) {
			t.Errorf("evaluation in a subject not taught: %v", err)
		}
		if _, err := s.Create(ctx, grades.Evaluation{ClassID: other, SubjectID: maths, CreatedBy: teacher.ID, Title: "x", Date: "2026-10-01", Scale: 20, Coef: 100}); !errors.Is(err, grades.ErrNotTaught) {
			t.Errorf("evaluation in a class not taught: %v", err)
		}
		if e.ID, err = s.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
		got, err := s.Evaluation(ctx, e.ID)
		if err != nil || got.Title != "Contrôle 1" || got.Coef != 150 || got.Scale != 10 || got.StructureID == 0 {
			t.Fatalf("evaluation = %+v, %v", got, err)
		}
		m := grades.Mark{Status: grades.Graded, Quarters: 30}
		if err := s.SetMarks(ctx, got, teacher.ID, map[int64]*grades.Mark{lea.ID: &m}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMarks(ctx, got, teacher.ID, map[int64]*grades.Mark{hugo.ID: &m}); !errors.Is(err, grades.ErrNotFound) {
			t.Errorf("mark for a pupil of another class: %v", err)
		}
		if err := s.SetMarks(ctx, got, teacher.ID, map[int64]*grades.Mark{lea.ID: {Status: grades.Graded, Quarters: 44}}); err == nil {
			t.Error("11/10 accepted")
		}
		got.Scale = 5
		var fe *grades.FieldError
		if err := s.Update(ctx, got); !errors.As(err, &fe) || fe.Field != "scale" {
			t.Errorf("scale below a grade: %v", err)
		}
		got.Scale, got.Title = 20, "Contrôle 1 bis"
		if err := s.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		sheets, names, err := s.PupilSheets(ctx, lea.ID, yearOf(t, d, class), "2026-09-01", "2026-11-30")
		if err != nil || len(sheets) != 1 || sheets[0].Marks[lea.ID] != m || names[maths] != "Mathématiques" || sheets[0].Title != "Contrôle 1 bis" {
			t.Fatalf("pupil sheets = %+v, %v", sheets, err)
		}
		if ss, _, _ := s.PupilSheets(ctx, lea.ID, yearOf(t, d, class), "2026-12-01", "2027-02-28"); len(ss) != 0 {
			t.Errorf("second term has %d sheets", len(ss))
		}
		if ss, _, _ := s.PupilSheets(ctx, hugo.ID, yearOf(t, d, class), "2026-09-01", "2026-11-30"); len(ss) != 0 {
			t.Errorf("Hugo sees 3e A's evaluations: %+v", ss)
		}
		if err := s.SetMarks(ctx, got, teacher.ID, map[int64]*grades.Mark{lea.ID: nil}); err != nil {
			t.Fatal(err)
		}
		if sh, err := s.Sheet(ctx, got.ID); err != nil || len(sh.Marks) != 0 {
			t.Errorf("cleared mark still there: %+v %v", sh, err)
		}
		if err := s.Delete(ctx, got.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Evaluation(ctx, got.ID); !errors.Is(err, grades.ErrNotFound) {
			t.Errorf("deleted evaluation: %v", err)
		}
		if err := s.Delete(ctx, got.ID); !errors.Is(err, grades.ErrNotFound) {
			t.Errorf("deleting twice: %v", err)
		}
	})
}

func yearOf(t *testing.T, d *db.DB, class int64) int64 {
	var y int64
	if err := d.QueryRow(context.Background(), "SELECT year_id FROM classes WHERE id = ?", class).Scan(&y); err != nil {
		t.Fatal(err)
	}
	return y
}
