package councils_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/ent/councils"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

// TestStore runs councils on each database: scheduling with members
// checked against the class, one council per class and term, who may
// read (members only), the shared notes with their version, rescheduling
// and deletion.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var st, other, class, classB, term, otherTerm int64
		var teacher, head, cpe, pupil, parent, outsider directory.Person
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			if st, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450009Z", Name: "Collège", Kind: directory.College}); err != nil {
				return err
			}
			if other, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450010A", Name: "Autre", Kind: directory.College}); err != nil {
				return err
			}
			y := directory.YearFor("2026-2027", true)
			if y.ID, err = directory.EnsureYear(ctx, tx, y); err != nil {
				return err
			}
			last := directory.YearFor("2025-2026", false)
			if last.ID, err = directory.EnsureYear(ctx, tx, last); err != nil {
				return err
			}
			ts, err := directory.EnsureTerms(ctx, tx, y)
			if err != nil {
				return err
			}
			lts, err := directory.EnsureTerms(ctx, tx, last)
			if err != nil {
				return err
			}
			term, otherTerm = ts[0].ID, lts[0].ID
			if class, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: y.ID, Name: "3e A"}); err != nil {
				return err
			}
			if classB, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: other, YearID: y.ID, Name: "3e Z"}); err != nil {
				return err
			}
			subj, err := directory.EnsureSubject(ctx, tx, "MATHS", "Maths")
			if err != nil {
				return err
			}
			person := func(first string, prof identity.Profile, at int64) directory.Person {
				if err != nil {
					return directory.Person{}
				}
				var p directory.Person
				if p, err = directory.CreatePerson(ctx, tx, directory.Person{FirstName: first, LastName: "X"}); err == nil && prof != identity.Pupil {
					err = directory.AddRole(ctx, tx, p.ID, at, prof, "")
				}
				return p
			}
			teacher, head, cpe = person("Paul", identity.Teacher, st), person("Anne", identity.Head, st), person("Karim", identity.Staff, st)
			pupil, parent, outsider = person("Léa", identity.Pupil, 0), person("Sophie", identity.Parent, st), person("Luc", identity.Head, other)
			if err != nil {
				return err
			}
			if err := directory.AddTeaching(ctx, tx, teacher.ID, class, subj); err != nil {
				return err
			}
			if err := directory.Transfer(ctx, tx, pupil.ID, class); err != nil {
				return err
			}
			return directory.LinkGuardian(ctx, tx, parent.ID, pupil.ID, "mère")
		})
		if err != nil {
			t.Fatal(err)
		}
		s := councils.New(d)
		members := []councils.Member{{UserID: head.ID, Role: councils.RoleHead}, {UserID: cpe.ID, Role: councils.RoleCPE},
			{UserID: teacher.ID, Role: councils.RoleTeacher}, {UserID: pupil.ID, Role: councils.RolePupilDelegate},
			{UserID: parent.ID, Role: councils.RoleParentDelegate}, {UserID: teacher.ID, Role: councils.RoleTeacher}}
		sc := councils.Schedule{ClassID: class, TermID: term, Date: "2026-11-26", Time: "17:30", Minutes: 90, Place: "Salle du conseil", Members: members}

		var inv *councils.Invalid
		for name, bad := range map[string]func(c *councils.Schedule){
			"a pupil as teacher": func(c *councils.Schedule) {
				c.Members = []councils.Member{{UserID: pupil.ID, Role: councils.RoleTeacher}}
			},
			"another school's head": func(c *councils.Schedule) {
				c.Members = []councils.Member{{UserID: outsider.ID, Role: councils.RoleHead}}
			},
			"a parent as pupil": func(c *councils.Schedule) {
				c.Members = []councils.Member{{UserID: parent.ID, Role: councils.RolePupilDelegate}}
			},
			"last year's term":       func(c *councils.Schedule) { c.TermID = otherTerm },
			"another school's class": func(c *councils.Schedule) { c.ClassID = classB },
			"bad time":               func(c *councils.Schedule) { c.Time = "midi" },
			"too short":              func(c *councils.Schedule) { c.Minutes = 5 },
		} {
			c := sc
			bad(&c)
			if _, err := s.Create(ctx, st, c, head.ID); !errors.As(err, &inv) {
				t.Errorf("%s: %v", name, err)
			}
		}
		k, err := s.Create(ctx, st, sc, head.ID)
		if err != nil || len(k.Members) != 5 || k.ClassName != "3e A" || k.TermName != "1er trimestre" || k.Room() == "" {
			t.Fatalf("create %+v %v", k, err)
		}
		if want := time.Date(2026, 11, 26, 17, 30, 0, 0, councils.Paris); !k.Start.Equal(want) || !k.End.Equal(want.Add(90*time.Minute)) {
			t.Errorf("times %v %v", k.Start, k.End)
		}
		if _, err := s.Create(ctx, st, sc, head.ID); !errors.As(err, &inv) || !strings.Contains(inv.Msg, "déjà son conseil") {
			t.Errorf("a second council for the term: %v", err)
		}

		// Who reads, edits the notes, manages.
		principal := func(p directory.Person) *identity.Principal {
			pr, err := directory.New(d).Principal(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			return pr
		}
		for _, c := range []struct {
			who          directory.Person
			read, manage bool
		}{{head, true, true}, {cpe, true, true}, {teacher, true, false}, {pupil, true, false}, {parent, true, false}, {outsider, false, false}} {
			p := principal(c.who)
			if councils.CanRead(p, k) != c.read || councils.CanEditNotes(p, k) != c.read || councils.CanManage(p, k, identity.Update) != c.manage {
				t.Errorf("%s: read %v notes %v manage %v", c.who.FirstName, councils.CanRead(p, k), councils.CanEditNotes(p, k), councils.CanManage(p, k, identity.Update))
			}
		}
		if mine, err := s.OfMember(ctx, pupil.ID); err != nil || len(mine) != 1 {
			t.Errorf("the delegate's councils %+v %v", mine, err)
		}
		if mine, _ := s.OfMember(ctx, outsider.ID); len(mine) != 0 {
			t.Errorf("the outsider's councils %+v", mine)
		}

		// Notes: saved at the version read; a stale save is refused.
		k2, err := s.EditText(ctx, k.ID, "1. Bilan\r\n2. Cas particuliers", "<b>Classe agréable</b>", k.Version, teacher.ID)
		if err != nil || k2.Version != k.Version+1 || k2.Agenda != "1. Bilan\n2. Cas particuliers" || k2.UpdatedBy != teacher.ID {
			t.Fatalf("edit %+v %v", k2, err)
		}
		if _, err := s.EditText(ctx, k.ID, "autre", "", k.Version, parent.ID); !errors.Is(err, councils.ErrStale) {
			t.Errorf("a stale edit: %v", err)
		}
		if _, err := s.EditText(ctx, k.ID, "a\x01", "", k2.Version, parent.ID); !errors.As(err, &inv) {
			t.Errorf("control characters: %v", err)
		}
		if _, err := s.EditText(ctx, 99999, "", "", 1, parent.ID); !errors.Is(err, councils.ErrNotFound) {
			t.Errorf("no such council: %v", err)
		}

		// Rescheduled without the parent delegate.
		sc.Members, sc.Time = members[:4], "18:00"
		k3, err := s.Reschedule(ctx, k.ID, sc, cpe.ID)
		if err != nil || len(k3.Members) != 4 || k3.IsMember(parent.ID) || k3.Start.In(councils.Paris).Hour() != 18 || k3.Notes != "<b>Classe agréable</b>" {
			t.Errorf("reschedule %+v %v", k3, err)
		}
		if councils.CanRead(principal(parent), k3) {
			t.Error("the removed delegate still reads the council")
		}
		if err := s.Delete(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, k.ID); !errors.Is(err, councils.ErrNotFound) {
			t.Errorf("deleted: %v", err)
		}
		if err := s.Delete(ctx, k.ID); !errors.Is(err, councils.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
	})
}

func TestRoomAndWindow(t *testing.T) {
	start := time.Date(2026, 11, 26, 17, 30, 0, 0, councils.Paris)
	k := councils.Council{ID: 7, Start: start, End: start.Add(time.Hour)}
	if id, ok := councils.CouncilOfRoom(k.Room()); !ok || id != 7 {
		t.Errorf("room %q → %d %v", k.Room(), id, ok)
	}
	if _, ok := councils.CouncilOfRoom("rdv-7"); ok {
		t.Error("a meeting room read as a council's")
	}
	if k.OpenAt(start.Add(-16*time.Minute)) || !k.OpenAt(start.Add(-15*time.Minute)) || !k.OpenAt(start.Add(59*time.Minute)) || k.OpenAt(start.Add(time.Hour)) {
		t.Error("opening window")
	}
}
