package library

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

func TestNormalizeISBN(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"978-2-07-061275-8", "9782070612758", ""},
		{"2-07-061275-9", "9782070612758", ""}, // the same book, ISBN-10
		{"0-8044-2957-X", "9780804429573", ""},
		{"979-10-90636-07-1", "9791090636071", ""},
		{"", "", ""},
		{"978-2-07-061275-9", "", "clé de contrôle"},
		{"2-07-061275-3", "", "clé de contrôle"},
		{"123", "", "10 ou 13 chiffres"},
		{"X-07-061275-9", "", "dernière position"},
		{"977-2-07-061275-8", "", "978 ou 979"},
		{"97820706127a8", "", "illisible"},
	} {
		got, err := NormalizeISBN(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("NormalizeISBN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("NormalizeISBN(%q) = %q, %v; want an error with %q", tc.in, got, err, tc.err)
		}
	}
}

func TestAccess(t *testing.T) {
	role := func(st int64, p identity.Profile, f string) identity.Role {
		return identity.Role{StructureID: st, Profile: p, Function: f}
	}
	pupil := &identity.Principal{UserID: 101, Roles: []identity.Role{role(1, identity.Pupil, "")}}
	parent := &identity.Principal{UserID: 201, Roles: []identity.Role{role(1, identity.Parent, "")}, Children: []int64{101}}
	doc := &identity.Principal{UserID: 401, Roles: []identity.Role{role(1, identity.Staff, "Professeur documentaliste")}}
	cpe := &identity.Principal{UserID: 402, Roles: []identity.Role{role(1, identity.Staff, "CPE")}}
	head := &identity.Principal{UserID: 501, Roles: []identity.Role{role(1, identity.Head, "Principal")}}
	teacher := &identity.Principal{UserID: 301, Roles: []identity.Role{role(1, identity.Teacher, "")}}
	admin := &identity.Principal{UserID: 601, Roles: []identity.Role{role(0, identity.Admin, "")}}
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"pupil reads own school", CanRead(pupil, 1), true},
		{"pupil does not read another school", CanRead(pupil, 2), false},
		{"parent reads the catalogue", CanRead(parent, 1), true},
		{"pupil reserves", MayReserve(pupil, 1), true},
		{"pupil does not reserve in another school", MayReserve(pupil, 2), false},
		{"teacher reserves", MayReserve(teacher, 1), true},
		{"staff reserves", MayReserve(cpe, 1), true},
		{"parent does not reserve", MayReserve(parent, 1), false},
		{"documentaliste manages", Manages(doc, 1), true},
		{"documentaliste does not manage another school", Manages(doc, 2), false},
		{"CPE does not manage", Manages(cpe, 1), false},
		{"head manages", Manages(head, 1), true},
		{"admin manages", Manages(admin, 2), true},
		{"pupil does not manage", Manages(pupil, 1), false},
		{"pupil sees own loans", CanSeeLoans(pupil, 1, 101), true},
		{"pupil does not see another's loans", CanSeeLoans(pupil, 1, 102), false},
		{"parent sees child's loans", CanSeeLoans(parent, 1, 101), true},
		{"parent does not see another child's", CanSeeLoans(parent, 1, 102), false},
		{"CPE does not see a pupil's loans", CanSeeLoans(cpe, 1, 101), false},
		{"documentaliste sees a pupil's loans", CanSeeLoans(doc, 1, 101), true},
		{"IsLibrarian CDI", IsLibrarian("Responsable du CDI"), true},
		{"IsLibrarian Bibliothécaire", IsLibrarian("Bibliothécaire"), true},
		{"IsLibrarian secretary", IsLibrarian("Secrétaire de direction"), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// fixture is a collège with pupils and a documentaliste, and a lycée.
type fixture struct {
	s                   *Store
	college, lycee      int64
	lea, tom, zoe, anne int64
	clock               time.Time
}

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{clock: time.Date(2026, 11, 30, 10, 0, 0, 0, Paris)}
	var err error
	if f.college, err = directory.CreateStructure(ctx, d, directory.Structure{UAI: "0459871K", Name: "Collège", Kind: directory.College}); err != nil {
		t.Fatal(err)
	}
	if f.lycee, err = directory.CreateStructure(ctx, d, directory.Structure{UAI: "0459962J", Name: "Lycée", Kind: directory.Lycee}); err != nil {
		t.Fatal(err)
	}
	person := func(login, first, last string, st int64, p identity.Profile, fn string) int64 {
		pp, err := directory.CreatePerson(ctx, d, directory.Person{Login: login, FirstName: first, LastName: last})
		if err != nil {
			t.Fatal(err)
		}
		if err := directory.AddRole(ctx, d, pp.ID, st, p, fn); err != nil {
			t.Fatal(err)
		}
		return pp.ID
	}
	f.lea = person("lea.martin", "Léa", "Martin", f.college, identity.Pupil, "")
	f.tom = person("tom.petit", "Tom", "Petit", f.college, identity.Pupil, "")
	f.zoe = person("zoe.roux", "Zoé", "Roux", f.lycee, identity.Pupil, "")
	f.anne = person("anne.rousseau", "Anne", "Rousseau", f.college, identity.Staff, "Professeur documentaliste")
	f.s = New(d, Config{})
	f.s.now = func() time.Time { return f.clock }
	return f
}

func (f *fixture) book(t *testing.T, title, isbn string, copies int) Book {
	t.Helper()
	b, err := f.s.CreateBook(context.Background(), Book{StructureID: f.college, Title: title, ISBN: isbn,
		Authors: []string{"Verne, Jules"}, Subjects: []string{"Roman", "Aventure"}}, "R VER", copies)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCatalogueSearch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		for _, b := range []Book{
			{Title: "L'Étranger", Authors: []string{"Camus, Albert"}, Subjects: []string{"Roman", "Philosophie"}, ISBN: "978-2-07-036002-4"},
			{Title: "Les Misérables", Authors: []string{"Hugo, Victor"}, Subjects: []string{"Roman historique"}, Publisher: "Gallimard"},
			{Title: "Œdipe roi", Authors: []string{"Sophocle"}, Subjects: []string{"Théâtre", "Mythologie"}},
		} {
			b.StructureID = f.college
			if _, err := f.s.CreateBook(ctx, b, "R", 1); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.CreateBook(ctx, Book{StructureID: f.lycee, Title: "L'Étranger (lycée)"}, "R CAM", 1); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			q    Query
			want []string
		}{
			{Query{Words: "etranger"}, []string{"L'Étranger"}},
			{Query{Words: "ÉTRANGER camus"}, []string{"L'Étranger"}},
			{Query{Words: "miserables gallimard"}, []string{"Les Misérables"}},
			{Query{Author: "hugo"}, []string{"Les Misérables"}},
			{Query{Author: "roman"}, nil},
			{Query{Subject: "roman"}, []string{"L'Étranger", "Les Misérables"}},
			{Query{Subject: "theatre"}, []string{"Œdipe roi"}},
			{Query{Words: "oedipe"}, []string{"Œdipe roi"}},
			{Query{Words: "9782070360024"}, []string{"L'Étranger"}},
			{Query{Words: "50%_"}, nil},
			{Query{}, []string{"L'Étranger", "Les Misérables", "Œdipe roi"}},
		} {
			got, total, err := f.s.Search(ctx, f.college, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, b := range got {
				titles = append(titles, b.Title)
			}
			if strings.Join(titles, "|") != strings.Join(tc.want, "|") || total != len(tc.want) {
				t.Errorf("Search(%+v) = %q (%d), want %q", tc.q, titles, total, tc.want)
			}
		}
		// The ISBN is unique within a school.
		_, err := f.s.CreateBook(ctx, Book{StructureID: f.college, Title: "Doublon", ISBN: "2-07-036002-4"}, "R", 1)
		var inv *Invalid
		if !errors.As(err, &inv) || !strings.Contains(inv.Msg, "même ISBN") {
			t.Errorf("duplicate ISBN: %v", err)
		}
	})
}

// TestCirculation walks a title's life: reserve, wait, lend, return to the
// next in line, expiry of an uncollected reservation, overdue loans.
func TestCirculation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		b := f.book(t, "Vingt mille lieues sous les mers", "", 1)
		r1, err := f.s.Reserve(ctx, b.ID, f.lea, false)
		if err != nil || r1.Status != Ready || r1.ExpiresOn != "2026-12-03" || r1.ShelfMark != "R VER" {
			t.Fatalf("Léa reserves: %+v, %v", r1, err)
		}
		if _, err := f.s.Reserve(ctx, b.ID, f.lea, true); err == nil || !strings.Contains(err.Error(), "déjà réservé") {
			t.Errorf("Léa reserves twice: %v", err)
		}
		if _, err := f.s.Reserve(ctx, b.ID, f.tom, false); err != ErrNoCopy {
			t.Errorf("Tom reserves without a copy left: %v", err)
		}
		r2, err := f.s.Reserve(ctx, b.ID, f.tom, true)
		if err != nil || r2.Status != Waiting || r2.Position != 1 {
			t.Fatalf("Tom joins the waiting list: %+v, %v", r2, err)
		}
		// The copy is held for Léa: not lent to Tom.
		if _, err := f.s.Lend(ctx, r1.CopyID, f.tom, f.anne); err == nil || !strings.Contains(err.Error(), "réservé pour Léa Martin") {
			t.Errorf("lend Léa's copy to Tom: %v", err)
		}
		loan, err := f.s.Lend(ctx, r1.CopyID, f.lea, f.anne)
		if err != nil || loan.DueOn != "2026-12-21" || loan.PersonName != "Léa Martin" {
			t.Fatalf("lend to Léa: %+v, %v", loan, err)
		}
		if _, err := f.s.Lend(ctx, r1.CopyID, f.tom, f.anne); err == nil || !strings.Contains(err.Error(), "déjà prêté") {
			t.Errorf("lend twice: %v", err)
		}
		if rs, _ := f.s.ReservationsOf(ctx, f.lea, f.college); len(rs) != 0 {
			t.Errorf("Léa's reservation stays active after the loan: %+v", rs)
		}
		// Overdue after the due date.
		f.clock = f.clock.AddDate(0, 0, 22)
		over, err := f.s.OpenLoans(ctx, f.college, true)
		if err != nil || len(over) != 1 || !over[0].Overdue(f.s.Today()) {
			t.Fatalf("overdue: %+v, %v", over, err)
		}
		if err := f.s.Remind(ctx, loan.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetDue(ctx, loan.ID, "2026-11-01"); err == nil {
			t.Error("due date before the loan accepted")
		}
		// The return goes to Tom, first in line.
		_, next, err := f.s.Return(ctx, r1.CopyID)
		if err != nil || next != r2.ID {
			t.Fatalf("return: next %d, %v", next, err)
		}
		if _, _, err := f.s.Return(ctx, r1.CopyID); err == nil {
			t.Error("returned twice")
		}
		r2, _ = f.s.Reservation(ctx, r2.ID)
		if r2.Status != Ready || r2.ExpiresOn != AddDays(f.s.Today(), 3) {
			t.Fatalf("Tom's reservation after the return: %+v", r2)
		}
		// Léa queues again; Tom does not come: his reservation expires and
		// the copy goes to Léa.
		r3, err := f.s.Reserve(ctx, b.ID, f.lea, true)
		if err != nil || r3.Status != Waiting {
			t.Fatalf("Léa queues: %+v, %v", r3, err)
		}
		f.clock = f.clock.AddDate(0, 0, 3)
		if n, err := f.s.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("sweep on the last day: %d, %v", n, err)
		}
		f.clock = f.clock.AddDate(0, 0, 1)
		if n, err := f.s.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep: %d, %v", n, err)
		}
		r2, _ = f.s.Reservation(ctx, r2.ID)
		r3, _ = f.s.Reservation(ctx, r3.ID)
		if r2.Status != Expired || r3.Status != Ready || r3.CopyID != r1.CopyID {
			t.Fatalf("after expiry: Tom %+v, Léa %+v", r2, r3)
		}
		// Léa cancels: the copy is back on the shelf.
		if err := f.s.Cancel(ctx, r3.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Cancel(ctx, r3.ID); err == nil {
			t.Error("cancelled twice")
		}
		b, _ = f.s.Book(ctx, b.ID)
		if b.Available != 1 || b.Waiting != 0 {
			t.Errorf("after cancel: %+v", b)
		}
		// A walk-in loan of a copy on the shelf, and a borrower of another
		// school refused.
		if _, err := f.s.Borrower(ctx, f.college, "zoe.roux", 0); err == nil {
			t.Error("a lycée pupil borrows at the collège")
		}
		p, err := f.s.Borrower(ctx, f.college, "tom.petit", 0)
		if err != nil || p.ID != f.tom {
			t.Fatalf("borrower: %+v, %v", p, err)
		}
		if _, err := f.s.Lend(ctx, r1.CopyID, f.tom, f.anne); err != nil {
			t.Fatal(err)
		}
		ls, _ := f.s.LoansOf(ctx, f.lea, f.college)
		if len(ls) != 1 || ls[0].ReturnedAt.IsZero() {
			t.Errorf("Léa's loans: %+v", ls)
		}
	})
}

// TestRaceForLastCopy: clients race for the last copy, on both engines;
// exactly one gets it, the others get ErrNoCopy (or join the waiting
// list, in order); lending the same copy twice at once makes one loan.
func TestRaceForLastCopy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		for round, join := range []bool{false, true} {
			b := f.book(t, "Le Tour du monde en quatre-vingts jours "+string(rune('A'+round)), "", 1)
			people := []int64{f.lea, f.tom, f.anne}
			var wg sync.WaitGroup
			res := make([]Reservation, len(people))
			errs := make([]error, len(people))
			start := make(chan struct{})
			for i, p := range people {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					res[i], errs[i] = f.s.Reserve(ctx, b.ID, p, join)
				}()
			}
			close(start)
			wg.Wait()
			won, lost, waiting := 0, 0, 0
			for i := range people {
				switch {
				case errs[i] == nil && res[i].Status == Ready:
					won++
				case errs[i] == nil && res[i].Status == Waiting:
					waiting++
				case errors.Is(errs[i], ErrNoCopy):
					lost++
					if !strings.Contains(errs[i].(*Invalid).Msg, "plus aucun exemplaire") {
						t.Errorf("message: %v", errs[i])
					}
				default:
					t.Errorf("join=%v: client %d: %+v, %v", join, i, res[i], errs[i])
				}
			}
			if won != 1 || (join && waiting != 2) || (!join && lost != 2) {
				t.Errorf("join=%v: %d won, %d lost, %d waiting", join, won, lost, waiting)
			}
			var held int
			d.QueryRow(ctx, "SELECT COUNT(*) FROM library_reservations WHERE book_id = ? AND status = 'ready'", b.ID).Scan(&held)
			if held != 1 {
				t.Errorf("join=%v: %d ready reservations of one copy", join, held)
			}
		}
		// Two desks lend the last copy at once.
		b := f.book(t, "Michel Strogoff", "", 1)
		cs, _ := f.s.Copies(ctx, b.ID)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, p := range []int64{f.lea, f.tom} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.s.Lend(ctx, cs[0].ID, p, f.anne)
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Errorf("two lends of one copy: %v / %v", errs[0], errs[1])
		}
		var open int
		d.QueryRow(ctx, "SELECT COUNT(*) FROM library_loans WHERE copy_id = ? AND returned_at_ms = 0", cs[0].ID).Scan(&open)
		if open != 1 {
			t.Errorf("%d open loans of one copy", open)
		}
		// The database itself refuses a second open loan.
		_, err := d.Exec(ctx, `INSERT INTO library_loans (copy_id, book_id, structure_id, person_id, lent_by, lent_on, due_on, created_at_ms)
			VALUES (?, ?, ?, ?, ?, '2026-11-30', '2026-12-21', 0)`, cs[0].ID, b.ID, f.college, f.lea, f.anne)
		if !db.IsUniqueViolation(err) {
			t.Errorf("second open loan inserted: %v", err)
		}
	})
}

func TestImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		file := "\uFEFFISBN;Titre;Auteurs;Éditeur;Année;Sujets;Cote;Exemplaires\r\n" +
			"978-2-07-061275-8;Le Petit Prince;Saint-Exupéry, Antoine de;Gallimard;1999;Conte|Philosophie;R SAI;2\r\n" +
			"2-07-036002-4;L'Étranger;Camus, Albert;Gallimard;1972;Roman;;1\r\n"
		rep, err := f.s.Import(ctx, f.college, strings.NewReader(file), false)
		if err != nil || rep.Created != 2 || rep.CopiesAdded != 3 {
			t.Fatalf("import: %+v, %v", rep, err)
		}
		got, _, _ := f.s.Search(ctx, f.college, Query{Subject: "philosophie"})
		if len(got) != 1 || got[0].Copies != 2 || got[0].Year != 1999 {
			t.Fatalf("imported: %+v", got)
		}
		cs, _ := f.s.Copies(ctx, got[0].ID)
		if cs[0].ShelfMark != "R SAI" {
			t.Errorf("shelf mark %q", cs[0].ShelfMark)
		}
		et, _, _ := f.s.Search(ctx, f.college, Query{Words: "etranger"})
		if cs, _ := f.s.Copies(ctx, et[0].ID); cs[0].ShelfMark != "CAM" {
			t.Errorf("default shelf mark %q", cs[0].ShelfMark)
		}
		// Again: nothing changes.
		rep, err = f.s.Import(ctx, f.college, strings.NewReader(file), false)
		if err != nil || rep.Created != 0 || rep.Unchanged != 2 || rep.CopiesAdded != 0 {
			t.Fatalf("import again: %+v, %v", rep, err)
		}
		// Bad lines are reported by number; nothing is applied.
		bad := "ISBN;Titre;Exemplaires\n" +
			"978-2-07-061275-8;Le Petit Prince (nouvelle édition);3\n" +
			"978-2-07-061275-9;Faux ISBN;1\n" +
			";Sans ISBN;1\n" +
			"9782070612758;Doublon;1\n" +
			"979-10-90636-07-1;Bon;deux\n"
		_, err = f.s.Import(ctx, f.college, strings.NewReader(bad), false)
		var ie *ImportErrors
		if !errors.As(err, &ie) || len(ie.Rows) != 4 {
			t.Fatalf("bad file: %v", err)
		}
		for i, want := range []struct {
			line int
			msg  string
		}{{3, "clé de contrôle"}, {4, "ISBN manquant"}, {5, "ligne 2"}, {6, "exemplaires"}} {
			if ie.Rows[i].Line != want.line || !strings.Contains(ie.Rows[i].Msg, want.msg) {
				t.Errorf("error %d: %+v, want line %d with %q", i, ie.Rows[i], want.line, want.msg)
			}
		}
		got, _, _ = f.s.Search(ctx, f.college, Query{Words: "petit prince"})
		if len(got) != 1 || got[0].Title != "Le Petit Prince" || got[0].Copies != 2 {
			t.Errorf("a refused file changed the catalogue: %+v", got)
		}
		// A good update: new title, one more copy.
		rep, err = f.s.Import(ctx, f.college, strings.NewReader("ISBN;Titre;Exemplaires\n9782070612758;Le Petit Prince (nouvelle édition);3\n"), false)
		if err != nil || rep.Updated != 1 || rep.CopiesAdded != 1 {
			t.Fatalf("update: %+v, %v", rep, err)
		}
		if _, err := f.s.Import(ctx, f.college, strings.NewReader("Nom;Prénom\nA;B\n"), false); !errors.As(err, &ie) {
			t.Errorf("no ISBN column: %v", err)
		}
	})
}
