package directory_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

func TestLoginBase(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"Chloé", "Lefèvre-Duval"}: "chloe.lefevre-duval",
		{"Jean Marc", "N'Diaye"}:   "jean-marc.n-diaye",
		{"Œdipe", "Cœur"}:          "oedipe.coeur",
		{"", "Martin"}:             "martin",
		{"!!", "??"}:               "utilisateur",
		{"Zoë", "Dupont  "}:        "zoe.dupont",
	} {
		if got := directory.LoginBase(in[0], in[1]); got != want {
			t.Errorf("LoginBase(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}

func TestLevelOfAndUAI(t *testing.T) {
	for name, want := range map[string]string{"6A": "6e", "6e B": "6e", "3EME2": "3e", "2nde 4": "2nde", "1re G": "1re", "Terminale": "Tle", "Latin": ""} {
		if got := directory.LevelOf(name); got != want {
			t.Errorf("LevelOf(%q) = %q, want %q", name, got, want)
		}
	}
	for uai, ok := range map[string]bool{"0451234A": true, "045123A": false, "0451234a": false, "04512345": false} {
		if directory.ValidUAI(uai) != ok {
			t.Errorf("ValidUAI(%q) != %v", uai, ok)
		}
	}
}

func TestDirectoryReads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var st, class int64
		var kid1, kid2, parent, teacher directory.Person
		err := d.InTx(ctx, func(tx *db.Tx) (err error) {
			if st, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450003C", Name: "Collège A", Kind: directory.College}); err != nil {
				return err
			}
			y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
			if err != nil {
				return err
			}
			if class, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: y, Name: "5e B"}); err != nil {
				return err
			}
			mk := func(f, l string) directory.Person {
				p, e := directory.CreatePerson(ctx, tx, directory.Person{FirstName: f, LastName: l})
				if e != nil && err == nil {
					err = e
				}
				return p
			}
			kid1, kid2, parent, teacher = mk("Inès", "Haddad"), mk("Inès", "Haddad"), mk("Samira", "Haddad"), mk("Paul", "Roux")
			if err != nil {
				return err
			}
			for _, k := range []directory.Person{kid1, kid2} {
				if err := directory.Transfer(ctx, tx, k.ID, class); err != nil {
					return err
				}
				if err := directory.LinkGuardian(ctx, tx, parent.ID, k.ID, "Mère"); err != nil {
					return err
				}
			}
			sub, err := directory.EnsureSubject(ctx, tx, "SVT", "Sciences de la vie et de la Terre")
			if err != nil {
				return err
			}
			if err := directory.AddRole(ctx, tx, teacher.ID, st, identity.Teacher, ""); err != nil {
				return err
			}
			return directory.AddTeaching(ctx, tx, teacher.ID, class, sub)
		})
		if err != nil {
			t.Fatal(err)
		}
		if kid1.Login != "ines.haddad" || kid2.Login != "ines.haddad2" {
			t.Fatalf("logins %q %q, want ines.haddad and ines.haddad2", kid1.Login, kid2.Login)
		}
		s := directory.New(d)
		kids, err := s.Children(ctx, parent.ID)
		if err != nil || len(kids) != 2 || kids[0].ClassName != "5e B" {
			t.Fatalf("children: %+v %v", kids, err)
		}
		pupils, err := s.ClassPupils(ctx, class)
		if err != nil || len(pupils) != 2 {
			t.Fatalf("class pupils: %+v %v", pupils, err)
		}
		ts, err := s.ClassTeachings(ctx, class)
		if err != nil || len(ts) != 1 || ts[0].TeacherID != teacher.ID || ts[0].Subject != "Sciences de la vie et de la Terre" {
			t.Fatalf("teachings: %+v %v", ts, err)
		}
		ms, err := s.Members(ctx, directory.MemberFilter{StructureID: st, Search: "hadd"})
		if err != nil || len(ms) != 2 {
			t.Fatalf("members search: %d %v", len(ms), err)
		}
		c, err := s.CountStructure(ctx, st)
		if err != nil || c.Pupils != 2 || c.Teachers != 1 || c.Classes != 1 {
			t.Fatalf("counts %+v %v", c, err)
		}
		pr, err := s.Principal(ctx, teacher.ID)
		if err != nil || !pr.InClass(class) {
			t.Fatalf("teacher principal %+v %v", pr, err)
		}
		if ok, _ := s.CanSeePerson(ctx, pr, identity.Read, kid1.ID); !ok {
			t.Fatal("a teacher cannot see a pupil of their class")
		}
		if _, err := directory.CreateStructure(ctx, d, directory.Structure{UAI: "0450003C", Name: "Doublon", Kind: directory.College}); err == nil {
			t.Fatal("duplicate UAI accepted")
		}
	})
}

// TestBadTextIsRefused: NUL bytes and invalid UTF-8 get a clear error (or
// are dropped from a search) on both engines instead of a database error.
func TestBadTextIsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, p := range []directory.Person{
			{FirstName: "Lé\x00a", LastName: "Martin"},
			{FirstName: "Léa", LastName: "Mar\xfftin"},
			{FirstName: "Léa", LastName: "Martin", Email: "lea@\x07exemple.fr"},
		} {
			if _, err := directory.CreatePerson(ctx, d, p); !errors.Is(err, directory.ErrInvalid) {
				t.Errorf("CreatePerson(%q %q %q) = %v, want ErrInvalid", p.FirstName, p.LastName, p.Email, err)
			}
		}
		if _, err := directory.CreateStructure(ctx, d, directory.Structure{UAI: "0450009J", Name: "Coll\x00ège", Kind: directory.College}); !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("structure with NUL: %v", err)
		}
		if _, err := directory.New(d).Members(ctx, directory.MemberFilter{Search: "mar\x00tin\xff"}); err != nil {
			t.Errorf("search with NUL: %v", err)
		}
	})
}

func TestFreeLoginPastOneBatch(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	for i := 1; i <= 23; i++ {
		p, err := directory.CreatePerson(ctx, d, directory.Person{FirstName: "Lucas", LastName: "Martin"})
		if err != nil {
			t.Fatal(err)
		}
		want := "lucas.martin"
		if i > 1 {
			want += strconv.Itoa(i)
		}
		if p.Login != want {
			t.Fatalf("person %d got %q, want %q", i, p.Login, want)
		}
	}
}

func TestDisplayName(t *testing.T) {
	for _, tt := range []struct {
		st   directory.Structure
		want string
	}{
		{directory.Structure{Name: "Jean Zay", Kind: directory.College}, "Collège Jean Zay"},
		{directory.Structure{Name: "Collège Jean Zay", Kind: directory.College}, "Collège Jean Zay"},
		{directory.Structure{Name: "COLLEGE JEAN ZAY", Kind: directory.College}, "COLLEGE JEAN ZAY"},
		{directory.Structure{Name: "Pothier", Kind: directory.Lycee}, "Lycée Pothier"},
	} {
		if got := tt.st.DisplayName(); got != tt.want {
			t.Errorf("DisplayName(%q) = %q, want %q", tt.st.Name, got, tt.want)
		}
	}
}
