package demo

import (
	"context"
	"testing"

	"preau/ent/internships"
	"preau/internal/dbtest"
)

// TestDemoInternships: the demo collège has its 600 offers, written once,
// generated the same way each time, valid, spread over the Loiret and
// sectors, within the internship weeks; a few 3e pupils have applied, two
// are placed (and in the address book), eleve.demo has sent one.
func TestDemoInternships(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	res, err := Seed(ctx, d, testHasher(), Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Seed(ctx, d, testHasher(), Options{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	st := internships.New(d)
	all, total, err := st.Offers(ctx, internships.Filter{Structures: []int64{res.Structure.ID}, Limit: 100})
	if err != nil || total != DemoOffers || len(all) != 100 {
		t.Fatalf("%d demo offers (%d listed), want %d: %v", total, len(all), DemoOffers, err)
	}
	for _, c := range []string{"orleans", "Olivet", "fleury les aubrais", "saint jean de braye", "Montargis", "Pithiviers", "Gien"} {
		if _, n, _ := st.Offers(ctx, internships.Filter{Structures: []int64{res.Structure.ID}, Commune: c}); n == 0 {
			t.Errorf("no demo offer in %s", c)
		}
	}
	for _, s := range internships.Sectors {
		if _, n, _ := st.Offers(ctx, internships.Filter{Structures: []int64{res.Structure.ID}, Sector: s.Code}); n < 10 {
			t.Errorf("%d demo offers in %s", n, s.Label)
		}
	}
	if _, n, _ := st.Offers(ctx, internships.Filter{Structures: []int64{res.Structure.ID}, Week: "2027-W05"}); n == 0 || n == DemoOffers {
		t.Errorf("%d offers in week 2027-W05", n)
	}
	// Deterministic: the generator gives the same offers again.
	a := internshipOffers(1, 2, 3, 2026)
	b := internshipOffers(1, 2, 3, 2026)
	for i := range a {
		if a[i].Company != b[i].Company || a[i].Commune != b[i].Commune || a[i].ContactPhone != b[i].ContactPhone {
			t.Fatalf("offer %d differs between two runs", i)
		}
		o := a[i]
		if err := internships.NormalizeOffer(&o); err != nil {
			t.Fatalf("offer %d %+v: %v", i, a[i], err)
		}
	}
	var apps, accepted, lea int
	d.QueryRow(ctx, "SELECT COUNT(*), SUM(CASE WHEN status = 'accepted' THEN 1 ELSE 0 END) FROM internship_applications").Scan(&apps, &accepted)
	d.QueryRow(ctx, `SELECT COUNT(*) FROM internship_applications a JOIN users u ON u.id = a.pupil_id
		WHERE u.login = 'eleve.demo' AND a.status = 'sent'`).Scan(&lea)
	if apps != 7 || accepted != 2 || lea != 1 {
		t.Errorf("%d applications, %d accepted, %d of eleve.demo", apps, accepted, lea)
	}
	cs, err := st.Companies(ctx, internships.CompanyFilter{Structures: []int64{res.Structure.ID}})
	if err != nil || len(cs) != 2 {
		t.Errorf("address book %+v %v", cs, err)
	}
}
