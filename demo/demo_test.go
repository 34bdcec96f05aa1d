package demo

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"preau/auth"
	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

// A cheap hasher: the tests check the hash is stored, not its cost.
func testHasher() *auth.Hasher {
	return auth.NewHasher(auth.Params{MemoryKiB: 8 * 1024, Passes: 1, Lanes: 1})
}

var testNow = time.Date(2026, time.November, 28, 10, 0, 0, 0, time.UTC)

func TestPlan(t *testing.T) {
	p := newPlan(2026)
	if !reflect.DeepEqual(p, newPlan(2026)) {
		t.Fatal("newPlan is not deterministic")
	}
	ineShape := regexp.MustCompile(`^[0-9]{9}[A-Z]{2}$`)
	emailShape := regexp.MustCompile(`^[a-z0-9.-]+@(education\.)?exemple\.(fr|com)$`)
	sizes, ines := map[string]int{}, map[string]bool{}
	for _, f := range p.families {
		if len(f.guardians) == 0 || len(f.children) == 0 {
			t.Errorf("family %+v has no guardian or no child", f)
		}
		for _, c := range f.children {
			sizes[c.class]++
			if !ineShape.MatchString(c.ine) || ines[c.ine] {
				t.Errorf("INE %q of %s %s: malformed or repeated", c.ine, c.first, c.last)
			}
			ines[c.ine] = true
			// 6e: born in 2015 (a few in 2014); 3e: in 2012 (a few in 2011).
			want := map[byte]string{'6': "2015 2014", '3': "2012 2011"}[c.class[0]]
			if y := c.birth[:4]; len(c.birth) != 10 || !strings.Contains(want, y) {
				t.Errorf("%s %s in %s born %s", c.first, c.last, c.class, c.birth)
			}
		}
		for _, g := range f.guardians {
			if !emailShape.MatchString(g.email) {
				t.Errorf("guardian email %q", g.email)
			}
		}
	}
	for _, c := range collegeClasses {
		if sizes[c.name] != c.size {
			t.Errorf("%s: %d pupils, want %d", c.name, sizes[c.name], c.size)
		}
	}
	for _, a := range p.staff {
		if !emailShape.MatchString(a.email) {
			t.Errorf("staff email %q", a.email)
		}
	}
	if len(p.staff) != 4+len(staffing) {
		t.Errorf("%d staff, want %d", len(p.staff), 4+len(staffing))
	}
}

func TestUAI(t *testing.T) {
	const letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
	for _, st := range []directory.Structure{College, Lycee} {
		var n int
		for _, c := range st.UAI[:7] {
			n = n*10 + int(c-'0')
		}
		if !directory.ValidUAI(st.UAI) || st.UAI[7] != letters[n%23] {
			t.Errorf("UAI %s: bad shape or check letter", st.UAI)
		}
	}
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func login(t *testing.T, d *db.DB, l string) directory.Person {
	t.Helper()
	p, err := directory.PersonBy(context.Background(), d, "login", l)
	if err != nil {
		t.Fatalf("%s: %v", l, err)
	}
	return p
}

// child is a parent's child with their class this year.
type child struct {
	ID                     int64
	last, class, structure string
}

// childrenOf reads a parent's children with plain SQL, independently of the
// directory's listing code.
func childrenOf(t *testing.T, d *db.DB, parentID int64) []child {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT u.id, u.last_name, c.name, st.name FROM guardianships g
		JOIN users u ON u.id = g.child_id JOIN enrolments e ON e.user_id = u.id
		JOIN classes c ON c.id = e.class_id AND c.kind = 'class' JOIN structures st ON st.id = c.structure_id
		JOIN school_years y ON y.id = c.year_id AND y.is_current
		WHERE g.parent_id = ? ORDER BY u.id`, parentID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []child
	for rows.Next() {
		var c child
		if err := rows.Scan(&c.ID, &c.last, &c.class, &c.structure); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSeed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		h := testHasher()
		first, err := Seed(ctx, d, h, Options{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if !first.Created || first.Structure.UAI != College.UAI || first.Structure.ID == 0 {
			t.Fatalf("first Seed: %+v", first)
		}
		users := count(t, d, "SELECT COUNT(*) FROM users")
		classes := count(t, d, "SELECT COUNT(*) FROM classes")
		t.Logf("%d accounts, %d classes", users, classes)

		again, err := Seed(ctx, d, h, Options{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if again.Created || again.Structure != first.Structure || !reflect.DeepEqual(again.Accounts, first.Accounts) {
			t.Fatalf("second Seed: %+v, first %+v", again, first)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM users"); n != users {
			t.Errorf("second Seed: %d users, was %d", n, users)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM classes"); n != classes {
			t.Errorf("second Seed: %d classes, was %d", n, classes)
		}

		// The fixed accounts and their roles.
		want := map[string]identity.Profile{
			"eleve.demo": identity.Pupil, "parent.demo": identity.Parent, "prof.demo": identity.Teacher,
			"cpe.demo": identity.Staff, "direction.demo": identity.Head, "admin.demo": identity.Admin,
		}
		if len(first.Accounts) != len(want) {
			t.Errorf("Accounts: %+v", first.Accounts)
		}
		for _, a := range first.Accounts {
			prof, ok := want[a.Login]
			if !ok || a.Name == "" || strings.Contains(a.Name, "Demo") || a.Profile != prof.Label() || a.Note == "" {
				t.Errorf("account %+v", a)
				continue
			}
			p := login(t, d, a.Login)
			if p.FullName() != a.Name {
				t.Errorf("%s is %q, listed as %q", a.Login, p.FullName(), a.Name)
			}
			roles, err := directory.Roles(ctx, d, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantStructure := first.Structure.ID
			if prof == identity.Admin {
				wantStructure = 0
			}
			if len(roles) != 1 || roles[0].Profile != prof || roles[0].StructureID != wantStructure {
				t.Errorf("%s roles %+v, want %s in %d", a.Login, roles, prof, wantStructure)
			}
		}
		fn := func(l string) string {
			roles, _ := directory.Roles(ctx, d, login(t, d, l).ID)
			return roles[0].Function
		}
		if fn("cpe.demo") != "CPE" || fn("direction.demo") != "Principal" {
			t.Errorf("functions: CPE %q, direction %q", fn("cpe.demo"), fn("direction.demo"))
		}
		if n := count(t, d, "SELECT COUNT(*) FROM roles WHERE function = ?", "Professeur documentaliste"); n != 1 {
			t.Errorf("%d documentalistes", n)
		}

		s := directory.New(d)
		year, err := directory.CurrentYear(ctx, d)
		if err != nil || year.Label != "2026-2027" {
			t.Fatalf("current year %+v, %v", year, err)
		}

		// parent.demo: eleve.demo in 3e A of the collège, and a child in 6e.
		pupil := login(t, d, "eleve.demo")
		children := childrenOf(t, d, login(t, d, "parent.demo").ID)
		var sixth, lea bool
		for _, c := range children {
			switch {
			case c.ID == pupil.ID:
				lea = c.class == "3e A" && c.structure == College.Name
			case strings.HasPrefix(c.class, "6e"):
				sixth = c.last == pupil.LastName
			}
		}
		if len(children) != 2 || !lea || !sixth {
			t.Errorf("parent.demo's children: %+v", children)
		}
		if len(pupil.INE) != 11 || pupil.BirthDate[:4] != "2012" {
			t.Errorf("eleve.demo: %+v", pupil)
		}

		teachings, err := s.Teachings(ctx, login(t, d, "prof.demo").ID)
		if err != nil {
			t.Fatal(err)
		}
		var taught []string
		for _, tc := range teachings {
			if tc.Subject == "Mathématiques" {
				taught = append(taught, tc.ClassName)
			}
		}
		if !reflect.DeepEqual(taught, []string{"3e A", "6e A"}) {
			t.Errorf("prof.demo teaches %+v", teachings)
		}

		// Classes of 20 to 30 pupils, each taught by several teachers.
		cls, err := s.Classes(ctx, first.Structure.ID, year.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cls) != 4 {
			t.Errorf("collège classes %+v", cls)
		}
		for _, c := range cls {
			if n := count(t, d, "SELECT COUNT(*) FROM enrolments WHERE class_id = ?", c.ID); n < 20 || n > 30 {
				t.Errorf("%s: %d pupils", c.Name, n)
			}
			if n := count(t, d, "SELECT COUNT(DISTINCT teacher_id) FROM teachings WHERE class_id = ?", c.ID); n < 10 {
				t.Errorf("%s: %d teachers", c.Name, n)
			}
		}

		if n := count(t, d, `SELECT COUNT(*) FROM (SELECT child_id FROM guardianships GROUP BY child_id
			HAVING COUNT(*) = 2) x`); n < 10 {
			t.Errorf("%d pupils with two guardians", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM (SELECT child_id FROM guardianships GROUP BY child_id
			HAVING COUNT(*) = 1) x`); n == 0 {
			t.Error("no pupil with a single guardian")
		}
		if n := count(t, d, `SELECT COUNT(*) FROM (SELECT parent_id FROM guardianships GROUP BY parent_id
			HAVING COUNT(*) = 2) x`); n < 2 {
			t.Errorf("%d parents with two children", n)
		}
		pupils := count(t, d, "SELECT COUNT(*) FROM roles WHERE profile = 'eleve'")
		if n := count(t, d, "SELECT COUNT(DISTINCT ine) FROM users WHERE ine IS NOT NULL"); n != pupils {
			t.Errorf("%d distinct INE for %d pupils", n, pupils)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM users WHERE email LIKE '%@%' AND email NOT LIKE '%exemple.fr' AND email NOT LIKE '%exemple.com'"); n != 0 {
			t.Errorf("%d emails outside exemple.fr / exemple.com", n)
		}

		// One hash, for everyone, that verifies.
		if n := count(t, d, "SELECT COUNT(DISTINCT password_hash) FROM users"); n != 1 {
			t.Errorf("%d distinct password hashes", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM users WHERE password_hash IS NULL OR password_changed_at <> ?", testNow.Unix()); n != 0 {
			t.Errorf("%d accounts without the demo password", n)
		}
		var phc string
		if err := d.QueryRow(ctx, "SELECT password_hash FROM users WHERE login = ?", "eleve.demo").Scan(&phc); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := h.Verify(ctx, phc, DefaultPassword); !ok || err != nil {
			t.Errorf("Verify(eleve.demo, default password) = %v, %v", ok, err)
		}

		// The lycée, where eleve.demo can move.
		lycee, err := directory.StructureByUAI(ctx, d, Lycee.UAI)
		if err != nil || lycee.Kind != directory.Lycee {
			t.Fatalf("lycée %+v, %v", lycee, err)
		}
		lcls, err := s.Classes(ctx, lycee.ID, year.ID)
		if err != nil || len(lcls) != 1 || lcls[0].Name != lyceeClass {
			t.Fatalf("lycée classes %+v, %v", lcls, err)
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error { return directory.Transfer(ctx, tx, pupil.ID, lcls[0].ID) }); err != nil {
			t.Fatal(err)
		}
		for _, c := range childrenOf(t, d, login(t, d, "parent.demo").ID) {
			if c.ID == pupil.ID && c.structure != Lycee.Name {
				t.Errorf("after transfer eleve.demo is in %s %s", c.structure, c.class)
			}
		}
	})
}

func TestSeedConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		h := testHasher()
		var wg sync.WaitGroup
		results := make([]Result, 2)
		errs := make([]error, 2)
		for i := range results {
			wg.Go(func() { results[i], errs[i] = Seed(ctx, d, h, Options{Password: "autre-mot-de-passe", Now: testNow}) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if results[0].Created == results[1].Created || results[0].Structure != results[1].Structure {
			t.Errorf("two concurrent seeds: %+v / %+v", results[0].Created, results[1].Created)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM structures"); n != 2 {
			t.Errorf("%d structures", n)
		}
	})
}
