package chat

import (
	"context"
	"errors"
	"slices"
	"testing"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

// school is a demo-like département: collège (3e A, 3e B, 6e A) and lycée
// (2nde 1).
type school struct {
	college, lycee                     int64
	c3A, c3B, c6A, c2nde               int64
	lea, tom, hugo, zoe, ines          int64 // pupils: 3e A, 3e A, 6e A, 3e B, lycée
	parent, parentZ                    int64 // parent of Léa and Hugo; of Zoé
	prof, profB, prof6, profL          int64 // teachers of 3e A, 3e B, 6e A, lycée
	cpe, doc, head, admin, cpeL, nobod int64
	names                              map[int64]string
}

func newSchool(t testing.TB, d *db.DB) school {
	t.Helper()
	ctx := context.Background()
	s := school{names: map[int64]string{}}
	err := d.InTx(ctx, func(tx *db.Tx) (err error) {
		if s.college, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450010A", Name: "Jean Zay", Kind: directory.College}); err != nil {
			return err
		}
		if s.lycee, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450011B", Name: "Pothier", Kind: directory.Lycee}); err != nil {
			return err
		}
		y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
		if err != nil {
			return err
		}
		for _, c := range []struct {
			id   *int64
			st   int64
			name string
		}{{&s.c3A, s.college, "3e A"}, {&s.c3B, s.college, "3e B"}, {&s.c6A, s.college, "6e A"}, {&s.c2nde, s.lycee, "2nde 1"}} {
			if *c.id, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: c.st, YearID: y, Name: c.name}); err != nil {
				return err
			}
		}
		mk := func(first, last string) int64 {
			p, e := directory.CreatePerson(ctx, tx, directory.Person{FirstName: first, LastName: last})
			if e != nil && err == nil {
				err = e
			}
			s.names[p.ID] = first + " " + last
			return p.ID
		}
		role := func(id, st int64, prof identity.Profile, fn string) {
			if e := directory.AddRole(ctx, tx, id, st, prof, fn); e != nil && err == nil {
				err = e
			}
		}
		s.lea, s.tom, s.hugo, s.zoe, s.ines = mk("Léa", "Martin"), mk("Tom", "Petit"), mk("Hugo", "Martin"), mk("Zoé", "Blanc"), mk("Inès", "Haddad")
		s.parent, s.parentZ = mk("Claire", "Martin"), mk("Marc", "Blanc")
		s.prof, s.profB, s.prof6, s.profL = mk("Paul", "Prof"), mk("Brigitte", "Prof"), mk("Sixtine", "Prof"), mk("Luc", "Lycée")
		s.cpe, s.doc, s.head, s.admin, s.cpeL, s.nobod = mk("Karim", "Benali"), mk("Denise", "Doc"), mk("Henri", "Principal"),
			mk("Anne", "Admin"), mk("Lise", "Cpelycee"), mk("Nobody", "Inconnu")
		if err != nil {
			return err
		}
		for _, e := range []struct{ p, c int64 }{{s.lea, s.c3A}, {s.tom, s.c3A}, {s.hugo, s.c6A}, {s.zoe, s.c3B}, {s.ines, s.c2nde}} {
			if err := directory.Transfer(ctx, tx, e.p, e.c); err != nil {
				return err
			}
		}
		for _, g := range []struct{ p, c int64 }{{s.parent, s.lea}, {s.parent, s.hugo}, {s.parentZ, s.zoe}} {
			if err := directory.LinkGuardian(ctx, tx, g.p, g.c, ""); err != nil {
				return err
			}
			if err := directory.AddRole(ctx, tx, g.p, s.college, identity.Parent, ""); err != nil {
				return err
			}
		}
		sub, err := directory.EnsureSubject(ctx, tx, "MATHS", "Mathématiques")
		if err != nil {
			return err
		}
		for _, tc := range []struct{ t, st, c int64 }{{s.prof, s.college, s.c3A}, {s.profB, s.college, s.c3B}, {s.prof6, s.college, s.c6A}, {s.profL, s.lycee, s.c2nde}} {
			role(tc.t, tc.st, identity.Teacher, "")
			if err := directory.AddTeaching(ctx, tx, tc.t, tc.c, sub); err != nil {
				return err
			}
		}
		role(s.cpe, s.college, identity.Staff, "CPE")
		role(s.doc, s.college, identity.Staff, "Professeur documentaliste")
		role(s.head, s.college, identity.Head, "Principal")
		role(s.admin, 0, identity.Admin, "")
		role(s.cpeL, s.lycee, identity.Staff, "CPE")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func principal(t testing.TB, d *db.DB, id int64) *identity.Principal {
	t.Helper()
	p, err := directory.New(d).Principal(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWhoWritesToWhom walks the message_* rules over the demo-like
// directory on both engines, through CanWrite and StartPrivate (refused:
// ErrNotFound, no conversation made).
func TestWhoWritesToWhom(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sc := newSchool(t, d)
		s := NewStore(d)
		tests := []struct {
			name     string
			from, to int64
			want     bool
		}{
			{"pupil → classmate", sc.lea, sc.tom, true},
			{"pupil → own teacher", sc.lea, sc.prof, true},
			{"pupil → CPE", sc.lea, sc.cpe, true},
			{"pupil → head", sc.lea, sc.head, true},
			{"pupil → pupil of another class", sc.lea, sc.zoe, false},
			{"pupil → pupil of another school", sc.lea, sc.ines, false},
			{"pupil → teacher of another class", sc.lea, sc.profB, false},
			{"pupil → a parent", sc.lea, sc.parentZ, false},
			{"pupil → an unknown adult", sc.lea, sc.nobod, false},
			{"pupil → CPE of another school", sc.lea, sc.cpeL, false},
			{"parent → child's teacher", sc.parent, sc.prof, true},
			{"parent → other child's teacher", sc.parent, sc.prof6, true},
			{"parent → CPE", sc.parent, sc.cpe, true},
			{"parent → teacher of another class", sc.parent, sc.profB, false},
			{"parent → other pupil", sc.parent, sc.zoe, false},
			{"parent → child's classmate", sc.parent, sc.tom, false},
			{"parent → another parent", sc.parent, sc.parentZ, false},
			{"teacher → pupil taught", sc.prof, sc.lea, true},
			{"teacher → parent of a pupil taught", sc.prof, sc.parent, true},
			{"teacher → colleague", sc.prof, sc.profB, true},
			{"teacher → pupil of another class", sc.prof, sc.zoe, false},
			{"teacher → parent of another class", sc.prof, sc.parentZ, false},
			{"teacher → lycée pupil", sc.prof, sc.ines, false},
			{"CPE → any pupil of the school", sc.cpe, sc.zoe, true},
			{"CPE → any parent of the school", sc.cpe, sc.parentZ, true},
			{"CPE → lycée pupil", sc.cpe, sc.ines, false},
			{"head → any parent", sc.head, sc.parentZ, true},
			{"admin → lycée pupil", sc.admin, sc.ines, true},
			{"nobody → themselves", sc.lea, sc.lea, false},
			{"pupil → no such person", sc.lea, 999999, false},
		}
		for _, tt := range tests {
			pr := principal(t, d, tt.from)
			got, err := s.CanWrite(ctx, pr, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s: CanWrite = %v, want %v", tt.name, got, tt.want)
			}
			c, err := s.StartPrivate(ctx, pr, tt.to)
			switch {
			case tt.want && err != nil:
				t.Errorf("%s: StartPrivate: %v", tt.name, err)
			case !tt.want && !errors.Is(err, ErrNotFound):
				t.Errorf("%s: StartPrivate = %+v, %v; want ErrNotFound", tt.name, c, err)
			case tt.want:
				if c.Kind != KindPrivate {
					t.Errorf("%s: kind %s", tt.name, c.Kind)
				}
				for _, u := range []int64{tt.from, tt.to} {
					if ok, _ := s.IsMember(ctx, c.ID, u); !ok {
						t.Errorf("%s: %d not a member", tt.name, u)
					}
				}
				// The other side starting it finds the same conversation.
				again, err := s.private(ctx, tt.to, tt.from, c.StructureID)
				if err != nil || again.ID != c.ID {
					t.Errorf("%s: second start gives %d (%v), want %d", tt.name, again.ID, err, c.ID)
				}
			}
		}
	})
}

// TestReachableAndGroups: the people picker lists exactly the reachable
// people, searchable by name (with LIKE's wildcards taken literally); a
// group needs every member reachable.
func TestReachableAndGroups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sc := newSchool(t, d)
		s := NewStore(d)
		idsOf := func(cs []Contact) []int64 {
			var out []int64
			for _, c := range cs {
				out = append(out, c.ID)
			}
			slices.Sort(out)
			return out
		}
		sorted := func(xs ...int64) []int64 { slices.Sort(xs); return xs }
		reach := func(who int64, q string) []int64 {
			t.Helper()
			cs, err := s.Reachable(ctx, principal(t, d, who), q, 0)
			if err != nil {
				t.Fatal(err)
			}
			return idsOf(cs)
		}
		if got, want := reach(sc.lea, ""), sorted(sc.tom, sc.prof, sc.cpe, sc.doc, sc.head); !slices.Equal(got, want) {
			t.Errorf("pupil reaches %v, want %v", got, want)
		}
		if got, want := reach(sc.parent, ""), sorted(sc.prof, sc.prof6, sc.cpe, sc.doc, sc.head); !slices.Equal(got, want) {
			t.Errorf("parent reaches %v, want %v", got, want)
		}
		if got, want := reach(sc.lea, "PETIT"), sorted(sc.tom); !slices.Equal(got, want) {
			t.Errorf("search 'PETIT': %v, want %v", got, want)
		}
		if got, want := reach(sc.lea, "tom pe"), sorted(sc.tom); !slices.Equal(got, want) {
			t.Errorf("search 'tom pe': %v, want %v", got, want)
		}
		for _, q := range []string{"%", "_", `\`, "Zoé"} {
			if got := reach(sc.lea, q); len(got) != 0 {
				t.Errorf("search %q finds %v", q, got)
			}
		}
		if got := reach(sc.cpe, "martin"); !slices.Equal(got, sorted(sc.lea, sc.hugo, sc.parent)) {
			t.Errorf("CPE search 'martin': %v", got)
		}

		pr := principal(t, d, sc.prof)
		if _, err := s.CreateGroup(ctx, pr, "Sortie", []int64{sc.lea, sc.zoe}); !errors.Is(err, ErrNotFound) {
			t.Errorf("group with a pupil not taught: %v", err)
		}
		g, err := s.CreateGroup(ctx, pr, "Sortie au musée", []int64{sc.lea, sc.tom, sc.parent, sc.lea})
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := s.Members(ctx, g.ID)
		if len(ms) != 4 {
			t.Errorf("group members %+v", ms)
		}
		if _, err := s.CreateGroup(ctx, pr, " ", []int64{sc.lea}); !errors.Is(err, ErrInvalid) {
			t.Errorf("group without a title: %v", err)
		}
	})
}

// TestClassParentsChannel: the parents of a class's pupils and its teachers
// and CPE meet in the class's parents channel; pupils are not there.
func TestClassParentsChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sc := newSchool(t, d)
		s := NewStore(d)
		c, err := s.EnsureClassParentsChannel(ctx, sc.c3A)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind != KindClassParents || c.Title != "3e A — parents" {
			t.Fatalf("channel %+v", c)
		}
		ms, _ := s.Members(ctx, c.ID)
		got := map[int64]string{}
		for _, m := range ms {
			got[m.UserID] = m.Role
		}
		want := map[int64]string{sc.parent: RoleMember, sc.prof: RoleModerator, sc.cpe: RoleModerator}
		if len(got) != len(want) {
			t.Fatalf("members %v, want %v", got, want)
		}
		for id, r := range want {
			if got[id] != r {
				t.Errorf("member %d: %q, want %q", id, got[id], r)
			}
		}
		pupils, _ := s.EnsureClassChannel(ctx, sc.c3A)
		if pupils.ID == c.ID {
			t.Fatal("one channel for pupils and parents")
		}
		if ok, _ := s.IsMember(ctx, pupils.ID, sc.parent); ok {
			t.Error("a parent is in the pupils' channel")
		}
		if ok, _ := s.IsModerator(ctx, pupils.ID, sc.cpe); !ok {
			t.Error("the CPE does not moderate the class channel")
		}
		if ok, _ := s.IsMember(ctx, pupils.ID, sc.doc); ok {
			t.Error("the documentalist is in the class channel")
		}
		// The vie scolaire's visit makes every class's channels.
		if err := s.EnsureSchoolChannels(ctx, sc.college); err != nil {
			t.Fatal(err)
		}
		if err := s.EnsureSchoolChannels(ctx, sc.college); err != nil {
			t.Fatal(err)
		}
		cpeList, _ := s.ConversationsOf(ctx, sc.cpe)
		if len(cpeList) != 6 { // 3e A, 3e B, 6e A × pupils, parents
			t.Errorf("the CPE is in %d channels, want 6: %+v", len(cpeList), cpeList)
		}
		if !IsVieScolaire("CPE") || !IsVieScolaire("Conseillère principale d'éducation (CPE)") || IsVieScolaire("Professeur documentaliste") {
			t.Error("IsVieScolaire")
		}
		// Parents talk; the channel is theirs too.
		if _, err := s.Post(ctx, c.ID, sc.parent, "p1", "Bonjour à tous"); err != nil {
			t.Fatal(err)
		}
		list, _ := s.ConversationsOf(ctx, sc.parent)
		if len(list) != 2 || list[0].ID != c.ID || list[1].Title != "6e A — parents" { // Hugo is in 6e A
			t.Errorf("parent's list %+v", list)
		}
	})
}

// TestVieScolaireByService: the vie scolaire is who the directory records
// in that service, whatever their title; the title ("CPE") counts only
// while no service is recorded (imported data).
func TestVieScolaireByService(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sc := newSchool(t, d)
		s := NewStore(d)
		var anne int64
		err := d.InTx(ctx, func(tx *db.Tx) error {
			p, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Anne", LastName: "Morel"})
			if err != nil {
				return err
			}
			anne = p.ID
			if err := directory.AddRole(ctx, tx, anne, sc.college, identity.Staff, "Conseillère principale d'éducation"); err != nil {
				return err
			}
			return directory.SetService(ctx, tx, anne, sc.college, directory.ServiceVieScolaire)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := directory.SetService(ctx, d, sc.prof, sc.college, directory.ServiceVieScolaire); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("a teacher given a staff service: %v", err)
		}
		if err := directory.SetService(ctx, d, anne, sc.college, "cantine"); !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("unknown service: %v", err)
		}
		c, err := s.EnsureClassChannel(ctx, sc.c3A)
		if err != nil {
			t.Fatal(err)
		}
		for who, want := range map[int64]bool{anne: true, sc.cpe: true, sc.doc: false} {
			if ok, _ := s.IsModerator(ctx, c.ID, who); ok != want {
				t.Errorf("user %d moderates: %v, want %v", who, ok, want)
			}
		}
		if st, err := s.VieScolaireOf(ctx, anne); err != nil || len(st) != 1 || st[0] != sc.college {
			t.Errorf("Anne's vie scolaire structures %v %v", st, err)
		}
		// The "CPE" titled staff is recorded in another service: the title
		// no longer counts.
		if err := directory.SetService(ctx, d, sc.cpe, sc.college, directory.ServiceOther); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnsureClassChannel(ctx, sc.c3A); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.IsMember(ctx, c.ID, sc.cpe); ok {
			t.Error("staff of another service still in the class channel")
		}
		if st, _ := s.VieScolaireOf(ctx, sc.cpe); len(st) != 0 {
			t.Errorf("other service: vie scolaire of %v", st)
		}
		// Reports reach Anne.
		if _, err := s.Post(ctx, c.ID, sc.lea, "l1", "Message déplacé"); err != nil {
			t.Fatal(err)
		}
		r, err := s.Report(ctx, c.ID, 1, sc.tom)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.IsMember(ctx, r.ID, anne); !ok {
			t.Error("the report does not reach the vie scolaire")
		}
	})
}
