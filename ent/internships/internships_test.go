package internships_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"preau/db"
	"preau/ent/directory"
	"preau/ent/internships"
	"preau/identity"
	"preau/internal/dbtest"
)

// school is a collège with a 3e and a 4e class of this year, pupils and a
// member of staff.
type school struct {
	d                *db.DB
	st               *internships.Store
	college, other   int64
	third, fourth    int64
	pupils           []int64 // in 3e A
	fourthPupil      int64
	staff, otherTeac int64
}

func newSchool(t *testing.T, d *db.DB) *school {
	t.Helper()
	ctx := context.Background()
	s := &school{d: d, st: internships.New(d)}
	err := d.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if s.college, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450001A", Name: "Collège Test", Kind: directory.College}); err != nil {
			return err
		}
		if s.other, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450002B", Name: "Collège Autre", Kind: directory.College}); err != nil {
			return err
		}
		y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
		if err != nil {
			return err
		}
		if s.third, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: s.college, YearID: y, Name: "3e A"}); err != nil {
			return err
		}
		if s.fourth, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: s.college, YearID: y, Name: "4e A"}); err != nil {
			return err
		}
		for i := range 4 {
			p, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: fmt.Sprintf("Élève%d", i), LastName: "Test"})
			if err != nil {
				return err
			}
			if err := directory.Transfer(ctx, tx, p.ID, s.third); err != nil {
				return err
			}
			s.pupils = append(s.pupils, p.ID)
		}
		p, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Quatrième", LastName: "Test"})
		if err != nil {
			return err
		}
		s.fourthPupil = p.ID
		if err := directory.Transfer(ctx, tx, p.ID, s.fourth); err != nil {
			return err
		}
		staff, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Claire", LastName: "Roux"})
		if err != nil {
			return err
		}
		s.staff = staff.ID
		return directory.AddRole(ctx, tx, staff.ID, s.college, identity.Staff, "CPE")
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *school) offer(t *testing.T, company, commune string, places int, weeks ...string) internships.Offer {
	t.Helper()
	o, err := s.st.CreateOffer(context.Background(), internships.Offer{StructureID: s.college, Company: company, Sector: "commerce",
		Commune: commune, Weeks: weeks, Places: places, ContactName: "M. Durand", ContactEmail: "contact@exemple.fr", AuthorID: s.staff})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (s *school) apply(t *testing.T, offer, pupil int64) internships.Application {
	t.Helper()
	a, err := s.st.Apply(context.Background(), internships.Application{OfferID: offer, PupilID: pupil, Message: "Bonjour, je suis motivé."})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func wantInvalid(t *testing.T, err error, sub string) {
	t.Helper()
	var inv *internships.Invalid
	if !errors.As(err, &inv) || !strings.Contains(inv.Msg, sub) {
		t.Fatalf("err = %v, want a French refusal containing %q", err, sub)
	}
}

func TestParseWeek(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2027-W05", "2027-W05"}, {"2027-w5", "2027-W05"}, {"2027-02-03", "2027-W05"}, {" 2026-12-31 ", "2026-W53"},
		{"2027-01-01", "2026-W53"}, {"2026-W53", "2026-W53"},
	} {
		if got, err := internships.ParseWeek(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseWeek(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "2027", "2027-W54", "2027-W53", "1999-W10", "semaine 5", "2027-13-01"} {
		if got, err := internships.ParseWeek(in); err == nil {
			t.Errorf("ParseWeek(%q) = %q, want an error", in, got)
		}
	}
	if got := internships.WeekLabel("2027-W05"); got != "semaine du 1er février 2027" {
		t.Errorf("WeekLabel = %q", got)
	}
}

func TestNormalizeOffer(t *testing.T) {
	good := func() internships.Offer {
		return internships.Offer{Company: " Boulangerie Martin ", Sector: "alimentation", Commune: "Olivet", Places: 2,
			Weeks: []string{"2027-02-08", "2027-W05", "2027-W06"}, ContactPhone: "02 38 00 00 00"}
	}
	o := good()
	if err := internships.NormalizeOffer(&o); err != nil {
		t.Fatal(err)
	}
	if o.Company != "Boulangerie Martin" || strings.Join(o.Weeks, " ") != "2027-W05 2027-W06" {
		t.Errorf("normalized %+v", o)
	}
	for _, tc := range []struct {
		change func(*internships.Offer)
		want   string
	}{
		{func(o *internships.Offer) { o.Company = "" }, "le nom de l'entreprise est obligatoire"},
		{func(o *internships.Offer) { o.Sector = "pirate" }, "choisissez un secteur"},
		{func(o *internships.Offer) { o.Commune = " " }, "la commune est obligatoire"},
		{func(o *internships.Offer) { o.Places = 0 }, "le nombre de places va de 1 à 20"},
		{func(o *internships.Offer) { o.Places = 21 }, "le nombre de places"},
		{func(o *internships.Offer) { o.Weeks = nil }, "au moins une semaine"},
		{func(o *internships.Offer) { o.Weeks = []string{"bientôt"} }, "semaine illisible"},
		{func(o *internships.Offer) { o.ContactPhone = "" }, "indiquez un contact"},
		{func(o *internships.Offer) { o.ContactEmail = "pas un courriel" }, "courriel du contact est illisible"},
		{func(o *internships.Offer) { o.ContactPhone = "appelez-moi" }, "téléphone"},
		{func(o *internships.Offer) { o.Description = strings.Repeat("x", internships.MaxDescription+1) }, "4000 caractères au plus"},
		{func(o *internships.Offer) { o.Company = "a\x00b" }, "caractères non valides"},
	} {
		o := good()
		tc.change(&o)
		wantInvalid(t, internships.NormalizeOffer(&o), tc.want)
	}
}

// TestMayMove: the pupil withdraws, never answers; the class's teachers and
// the school's staff answer, never withdraw; a classmate, a parent, another
// school's staff do nothing.
func TestMayMove(t *testing.T) {
	a := internships.Application{PupilID: 10, StructureID: 1, ClassID: 5, Status: internships.Sent}
	pupil := &identity.Principal{UserID: 10, Roles: []identity.Role{{StructureID: 1, Profile: identity.Pupil}}, Classes: []int64{5}}
	mate := &identity.Principal{UserID: 11, Roles: []identity.Role{{StructureID: 1, Profile: identity.Pupil}}, Classes: []int64{5}}
	parent := &identity.Principal{UserID: 20, Roles: []identity.Role{{StructureID: 1, Profile: identity.Parent}}, Children: []int64{10}, ChildClasses: []int64{5}}
	teacher := &identity.Principal{UserID: 30, Roles: []identity.Role{{StructureID: 1, Profile: identity.Teacher}}, Classes: []int64{5}}
	teacherB := &identity.Principal{UserID: 31, Roles: []identity.Role{{StructureID: 1, Profile: identity.Teacher}}, Classes: []int64{6}}
	staff := &identity.Principal{UserID: 40, Roles: []identity.Role{{StructureID: 1, Profile: identity.Staff}}}
	otherStaff := &identity.Principal{UserID: 41, Roles: []identity.Role{{StructureID: 2, Profile: identity.Staff}}}
	for _, tc := range []struct {
		name string
		p    *identity.Principal
		to   string
		want bool
	}{
		{"pupil withdraws", pupil, internships.Withdrawn, true},
		{"pupil accepts", pupil, internships.Accepted, false},
		{"pupil marks read", pupil, internships.Read, false},
		{"classmate withdraws", mate, internships.Withdrawn, false},
		{"parent withdraws", parent, internships.Withdrawn, false},
		{"parent accepts", parent, internships.Accepted, false},
		{"teacher of the class accepts", teacher, internships.Accepted, true},
		{"teacher of the class marks read", teacher, internships.Read, true},
		{"teacher withdraws", teacher, internships.Withdrawn, false},
		{"teacher of another class refuses", teacherB, internships.Refused, false},
		{"staff refuses", staff, internships.Refused, true},
		{"other school's staff accepts", otherStaff, internships.Accepted, false},
		{"nobody", nil, internships.Read, false},
	} {
		if got := internships.MayMove(tc.p, a, tc.to); got != tc.want {
			t.Errorf("%s: MayMove = %v, want %v", tc.name, got, tc.want)
		}
	}
	a.Status = internships.Refused
	if internships.MayMove(pupil, a, internships.Withdrawn) || internships.MayMove(staff, a, internships.Accepted) {
		t.Error("a refused application moved")
	}
}

// TestInternships walks the store on both engines: search by sector,
// commune without accents and week; applying (3e only, once per offer,
// not once placed, not to a full offer); the moves and their refusals;
// the address book and the follow-up; an offer's places not below those
// taken; deleting an offer refuses its waiting applications.
func TestInternships(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newSchool(t, d)
		st := s.st
		bakery := s.offer(t, "Boulangerie Martin", "Saint-Jean-de-Braye", 1, "2027-W05")
		garage := s.offer(t, "Garage du Centre", "Orléans", 2, "2027-W05", "2027-W06")
		if _, err := st.CreateOffer(ctx, internships.Offer{StructureID: s.other, Company: "Ailleurs", Sector: "commerce", Commune: "Gien",
			Weeks: []string{"2027-W05"}, Places: 1, ContactPhone: "0238000000"}); err != nil {
			t.Fatal(err)
		}

		search := func(f internships.Filter) []string {
			t.Helper()
			if f.Structures == nil {
				f.Structures = []int64{s.college}
			}
			os, total, err := st.Offers(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, o := range os {
				out = append(out, o.Company)
			}
			if total != len(os) {
				t.Errorf("total %d for %d offers", total, len(os))
			}
			return out
		}
		for _, tc := range []struct {
			f    internships.Filter
			want string
		}{
			{internships.Filter{}, "Boulangerie Martin,Garage du Centre"},
			{internships.Filter{Commune: "orleans"}, "Garage du Centre"},
			{internships.Filter{Commune: "ORLÉANS"}, "Garage du Centre"},
			{internships.Filter{Commune: "saint jean"}, "Boulangerie Martin"},
			{internships.Filter{Commune: "St-Jean-de-Braye"}, ""},
			{internships.Filter{Week: "2027-W06"}, "Garage du Centre"},
			{internships.Filter{Sector: "sante"}, ""},
			{internships.Filter{Sector: "commerce", Week: "2027-W05"}, "Boulangerie Martin,Garage du Centre"},
			{internships.Filter{Structures: []int64{s.other}}, "Ailleurs"},
			{internships.Filter{AllSchools: true, Commune: "gien"}, "Ailleurs"},
		} {
			if got := strings.Join(search(tc.f), ","); got != tc.want {
				t.Errorf("search %+v = %q, want %q", tc.f, got, tc.want)
			}
		}

		// Applying.
		_, err := st.Apply(ctx, internships.Application{OfferID: bakery.ID, PupilID: s.fourthPupil, Message: "Bonjour"})
		wantInvalid(t, err, "seuls les élèves de 3e")
		_, err = st.Apply(ctx, internships.Application{OfferID: bakery.ID, PupilID: s.pupils[0], Message: "  "})
		wantInvalid(t, err, "le message est obligatoire")
		_, err = st.Apply(ctx, internships.Application{OfferID: 999999, PupilID: s.pupils[0], Message: "Bonjour"})
		if !errors.Is(err, internships.ErrNotFound) {
			t.Fatalf("apply to no offer: %v", err)
		}
		a0 := s.apply(t, bakery.ID, s.pupils[0])
		if a0.Status != internships.Sent || a0.Company != "Boulangerie Martin" || a0.ContactEmail != "contact@exemple.fr" || a0.ClassName != "3e A" || a0.CV != nil {
			t.Fatalf("application %+v", a0)
		}
		_, err = st.Apply(ctx, internships.Application{OfferID: bakery.ID, PupilID: s.pupils[0], Message: "Encore"})
		wantInvalid(t, err, "déjà candidaté")
		a1 := s.apply(t, bakery.ID, s.pupils[1])
		g0 := s.apply(t, garage.ID, s.pupils[0])

		// Moves.
		if _, err := st.Move(ctx, a0.ID, internships.Read, s.staff, ""); err != nil {
			t.Fatal(err)
		}
		acc, err := st.Move(ctx, a0.ID, internships.Accepted, s.staff, "Stage du 1er au 5 février.")
		if err != nil || acc.Status != internships.Accepted || acc.Note != "Stage du 1er au 5 février." || acc.DecidedBy != s.staff {
			t.Fatalf("accept: %+v %v", acc, err)
		}
		_, err = st.Move(ctx, a1.ID, internships.Accepted, s.staff, "")
		if !errors.Is(err, internships.ErrFull) {
			t.Fatalf("accepting a second pupil for one place: %v", err)
		}
		_, err = st.Move(ctx, g0.ID, internships.Accepted, s.staff, "")
		wantInvalid(t, err, "déjà un stage accepté")
		_, err = st.Apply(ctx, internships.Application{OfferID: garage.ID, PupilID: s.pupils[0], Message: "Bonjour"})
		wantInvalid(t, err, "déjà candidaté")
		_, err = st.Apply(ctx, internships.Application{OfferID: bakery.ID, PupilID: s.pupils[2], Message: "Bonjour"})
		wantInvalid(t, err, "toutes les places")
		_, err = st.Move(ctx, a0.ID, internships.Refused, s.staff, "")
		wantInvalid(t, err, "ne peut plus devenir « Refusée »")
		if o, _ := st.Offer(ctx, bakery.ID); o.Taken != 1 || o.Free() != 0 {
			t.Errorf("bakery taken %d", o.Taken)
		}

		// The address book remembers the company.
		cs, err := st.Companies(ctx, internships.CompanyFilter{Structures: []int64{s.college}, Commune: "saint-jean"})
		if err != nil || len(cs) != 1 || cs[0].Name != "Boulangerie Martin" || cs[0].Placements != 1 || cs[0].ContactName != "M. Durand" {
			t.Fatalf("address book %+v %v", cs, err)
		}

		// Follow-up of 3e A.
		rows, err := st.FollowUp(ctx, s.third)
		if err != nil || len(rows) != 4 {
			t.Fatalf("follow-up %+v %v", rows, err)
		}
		got := map[int64]string{}
		for _, r := range rows {
			got[r.PupilID] = r.Summary + ":" + r.Company
		}
		if got[s.pupils[0]] != "placed:Boulangerie Martin" || got[s.pupils[1]] != "waiting:" || got[s.pupils[2]] != "nothing:" {
			t.Errorf("follow-up %v", got)
		}

		// Withdrawing the placement frees the place and the address book's count.
		if _, err := st.Move(ctx, a0.ID, internships.Withdrawn, s.pupils[0], ""); err != nil {
			t.Fatal(err)
		}
		if o, _ := st.Offer(ctx, bakery.ID); o.Taken != 0 {
			t.Errorf("bakery taken %d after withdrawal", o.Taken)
		}
		if cs, _ := st.Companies(ctx, internships.CompanyFilter{Structures: []int64{s.college}}); len(cs) != 0 {
			t.Errorf("address book after withdrawal: %+v", cs)
		}
		if _, err := st.Move(ctx, a1.ID, internships.Accepted, s.staff, ""); err != nil {
			t.Fatalf("accept once the place is free: %v", err)
		}

		// Places never drop below those taken.
		bakery.Places = 1
		if _, err := st.UpdateOffer(ctx, bakery); err != nil {
			t.Fatal(err)
		}
		garage, _ = st.Offer(ctx, garage.ID)
		s.apply(t, garage.ID, s.pupils[2])
		as, _ := st.Applications(ctx, internships.AppFilter{OfferID: garage.ID})
		for _, a := range as {
			if a.PupilID == s.pupils[2] {
				if _, err := st.Move(ctx, a.ID, internships.Accepted, s.staff, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		bakery.Places = 0
		wantInvalid(t, func() error { _, err := st.UpdateOffer(ctx, bakery); return err }(), "nombre de places")

		// Deleting the garage's offer refuses its waiting application (pupil
		// 0's) and keeps the accepted one (pupil 2's).
		if err := st.DeleteOffer(ctx, garage.ID, s.staff); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Offer(ctx, garage.ID); !errors.Is(err, internships.ErrNotFound) {
			t.Errorf("offer after delete: %v", err)
		}
		as, _ = st.Applications(ctx, internships.AppFilter{Pupils: []int64{s.pupils[0], s.pupils[2]}})
		status := map[int64]string{}
		for _, a := range as {
			if a.OfferID == garage.ID {
				status[a.PupilID] = a.Status
			}
		}
		if status[s.pupils[0]] != internships.Refused || status[s.pupils[2]] != internships.Accepted {
			t.Errorf("after deleting the offer: %v", status)
		}
	})
}

// TestLastPlaceRace: two acceptances race for the last place of an offer,
// over and over, on both engines: exactly one succeeds, the other is told
// the offer is full, and the offer is never over-filled. Then one pupil's
// two applications are accepted at once: one placement only.
func TestLastPlaceRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newSchool(t, d)
		for round := range 5 {
			o := s.offer(t, fmt.Sprintf("Entreprise %d", round), "Gien", 1, "2027-W05")
			a := s.apply(t, o.ID, s.pupils[0])
			b := s.apply(t, o.ID, s.pupils[1])
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			for i, id := range []int64{a.ID, b.ID} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = s.st.Move(ctx, id, internships.Accepted, s.staff, "")
				}()
			}
			close(start)
			wg.Wait()
			ok, full := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, internships.ErrFull):
					full++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if ok != 1 || full != 1 {
				t.Fatalf("round %d: %d accepted, %d full; want 1 and 1", round, ok, full)
			}
			if o, _ := s.st.Offer(ctx, o.ID); o.Taken != 1 {
				t.Fatalf("round %d: taken %d", round, o.Taken)
			}
			// Free both pupils for the next round.
			for _, id := range []int64{a.ID, b.ID} {
				x, _ := s.st.Application(ctx, id)
				to := internships.Withdrawn
				if _, err := s.st.Move(ctx, id, to, x.PupilID, ""); err != nil {
					t.Fatal(err)
				}
			}
		}

		// One pupil, two offers accepted at the same time: one placement.
		o1 := s.offer(t, "Pharmacie", "Gien", 3, "2027-W05")
		o2 := s.offer(t, "Mairie", "Gien", 3, "2027-W05")
		a := s.apply(t, o1.ID, s.pupils[3])
		b := s.apply(t, o2.ID, s.pupils[3])
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []int64{a.ID, b.ID} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.st.Move(ctx, id, internships.Accepted, s.staff, "")
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("one pupil accepted twice or never: %v / %v", errs[0], errs[1])
		}
		var taken int
		d.QueryRow(ctx, "SELECT SUM(taken) FROM internship_offers WHERE id IN (?, ?)", o1.ID, o2.ID).Scan(&taken)
		if taken != 1 {
			t.Errorf("%d places taken for one pupil", taken)
		}
	})
}
