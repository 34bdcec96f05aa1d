package notices

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

// A collège (1) with 3e A (11) and 3e B (12); a lycée (2).
var (
	pupilA   = &identity.Principal{UserID: 101, Roles: []identity.Role{{StructureID: 1, Profile: identity.Pupil}}, Classes: []int64{11}}
	pupilB   = &identity.Principal{UserID: 102, Roles: []identity.Role{{StructureID: 1, Profile: identity.Pupil}}, Classes: []int64{12}}
	parentA  = &identity.Principal{UserID: 201, Roles: []identity.Role{{StructureID: 1, Profile: identity.Parent}}, Children: []int64{101}, ChildClasses: []int64{11}}
	parentB  = &identity.Principal{UserID: 202, Roles: []identity.Role{{StructureID: 1, Profile: identity.Parent}}, Children: []int64{102}, ChildClasses: []int64{12}}
	teachA   = &identity.Principal{UserID: 301, Roles: []identity.Role{{StructureID: 1, Profile: identity.Teacher}}, Classes: []int64{11}}
	teachB   = &identity.Principal{UserID: 302, Roles: []identity.Role{{StructureID: 1, Profile: identity.Teacher}}, Classes: []int64{12}}
	cpe      = &identity.Principal{UserID: 401, Roles: []identity.Role{{StructureID: 1, Profile: identity.Staff, Function: "CPE"}}}
	head     = &identity.Principal{UserID: 501, Roles: []identity.Role{{StructureID: 1, Profile: identity.Head}}}
	lyHead   = &identity.Principal{UserID: 502, Roles: []identity.Role{{StructureID: 2, Profile: identity.Head}}}
	lyParent = &identity.Principal{UserID: 203, Roles: []identity.Role{{StructureID: 2, Profile: identity.Parent}}, Children: []int64{103}, ChildClasses: []int64{21}}
)

const today = "2026-11-30"

func TestAccess(t *testing.T) {
	live := func(author int64, ack bool, aud ...Audience) Notice {
		return Notice{ID: 1, StructureID: 1, AuthorID: author, From: "2026-11-01", Until: "2026-12-31", RequiresAck: ack, Audience: aud}
	}
	parentsA := live(301, true, Audience{Kind: ClassParents, ClassID: 11})
	classA := live(301, false, Audience{Kind: Class, ClassID: 11})
	school := live(501, true, Audience{Kind: School})
	pupils := live(401, false, Audience{Kind: Profile, Profile: identity.Pupil})
	staff := live(501, false, Audience{Kind: Profile, Profile: identity.Staff})
	draft := school
	draft.Draft = true
	expired := school
	expired.Until = "2026-11-29"
	for _, tc := range []struct {
		name string
		p    *identity.Principal
		n    Notice
		read bool
		ack  bool
	}{
		{"parent of 3e A reads parents of 3e A", parentA, parentsA, true, true},
		{"parent of 3e B does not", parentB, parentsA, false, false},
		{"pupil of 3e A does not read parents of 3e A", pupilA, parentsA, false, false},
		{"teacher author reads it", teachA, parentsA, true, false},
		{"other teacher does not", teachB, parentsA, false, false},
		{"CPE follows it", cpe, parentsA, true, false},
		{"lycée head does not", lyHead, parentsA, false, false},
		{"pupil of 3e A reads class 3e A", pupilA, classA, true, false},
		{"parent of 3e A reads class 3e A (no ack asked)", parentA, classA, true, false},
		{"pupil of 3e B does not read class 3e A", pupilB, classA, false, false},
		{"pupil reads the school's notice", pupilB, school, true, false},
		{"parent must ack the school's notice", parentB, school, true, true},
		{"lycée parent does not read the collège's notice", lyParent, school, false, false},
		{"parent does not read pupils' notice", parentA, pupils, false, false},
		{"pupil reads pupils' notice", pupilA, pupils, true, false},
		{"head reads staff notice", head, staff, true, false},
		{"teacher does not read staff notice", teachA, staff, false, false},
		{"draft: parent does not read", parentA, draft, false, false},
		{"draft: CPE does not read", cpe, draft, false, false},
		{"draft: author (head) reads", head, draft, true, false},
		{"expired: parent does not read", parentA, expired, false, false},
		{"expired: author reads", head, expired, true, false},
		{"nil principal", nil, school, false, false},
	} {
		if got := CanRead(tc.p, tc.n, today); got != tc.read {
			t.Errorf("%s: CanRead = %v", tc.name, got)
		}
		if got := MustAck(tc.p, tc.n, today); got != tc.ack {
			t.Errorf("%s: MustAck = %v", tc.name, got)
		}
	}
	// Editing: the author and the school's direction.
	if !CanEdit(teachA, classA, identity.Update) || CanEdit(teachB, classA, identity.Update) || CanEdit(cpe, classA, identity.Delete) ||
		!CanEdit(head, classA, identity.Delete) || CanEdit(lyHead, classA, identity.Update) || CanEdit(parentA, classA, identity.Update) {
		t.Error("CanEdit: author and direction only")
	}
	// Following: the author, the vie scolaire, the direction.
	if !CanFollow(teachA, parentsA) || CanFollow(teachB, parentsA) || !CanFollow(cpe, parentsA) || CanFollow(parentA, parentsA) {
		t.Error("CanFollow")
	}
	// Addressing: a teacher only the classes taught.
	for _, tc := range []struct {
		p    *identity.Principal
		n    Notice
		want bool
	}{
		{teachA, classA, true},
		{teachA, parentsA, true},
		{teachB, classA, false},
		{teachA, live(301, false, Audience{Kind: Class, ClassID: 11}, Audience{Kind: Class, ClassID: 12}), false},
		{teachA, school, false},
		{teachA, pupils, false},
		{cpe, school, true},
		{head, live(501, false, Audience{Kind: Class, ClassID: 12}), true},
		{lyHead, school, false},
		{parentA, classA, false},
		{pupilA, pupils, false},
	} {
		if got := MayAddress(tc.p, tc.n); got != tc.want {
			t.Errorf("MayAddress(%d, %+v) = %v", tc.p.UserID, tc.n.Audience, got)
		}
	}
}

func wantInvalid(t *testing.T, err error, part string) {
	t.Helper()
	var inv *Invalid
	if !errors.As(err, &inv) || !strings.Contains(inv.Msg, part) {
		t.Errorf("error %v, want a French message with %q", err, part)
	}
}

func TestNormalize(t *testing.T) {
	ok := func() Notice {
		return Notice{StructureID: 1, Title: " Sortie ", Body: "Texte\r\nsuite", From: "2026-11-30", Until: "2026-12-10",
			Audience: []Audience{{Kind: School}, {Kind: School}}}
	}
	n := ok()
	if err := Normalize(&n); err != nil || n.Title != "Sortie" || n.Body != "Texte\nsuite" || len(n.Audience) != 1 {
		t.Fatalf("normalize: %+v %v", n, err)
	}
	for _, tc := range []struct {
		edit func(*Notice)
		want string
	}{
		{func(n *Notice) { n.Title = "  " }, "donnez un titre"},
		{func(n *Notice) { n.Title = strings.Repeat("é", MaxTitle+1) }, "150 caractères au plus"},
		{func(n *Notice) { n.Title = "a\x00b" }, "caractère de contrôle"},
		{func(n *Notice) { n.Body = "" }, "écrivez le texte"},
		{func(n *Notice) { n.Body = strings.Repeat("x", MaxBody+1) }, "10000 caractères au plus"},
		{func(n *Notice) { n.Body = "a\x1bb" }, "caractères non valides"},
		{func(n *Notice) { n.From = "30/11/2026" }, "date de début illisible"},
		{func(n *Notice) { n.Until = "demain" }, "date de fin illisible"},
		{func(n *Notice) { n.Until = "2026-11-01" }, "précède"},
		{func(n *Notice) { n.Until = "2028-01-01" }, "366 jours au plus"},
		{func(n *Notice) { n.Audience = nil }, "à qui s'adresse"},
		{func(n *Notice) { n.Audience = make([]Audience, MaxAudiences+1) }, "destinataires au plus"},
		{func(n *Notice) { n.Audience = []Audience{{Kind: "monde"}} }, "destinataires inconnus"},
		{func(n *Notice) { n.Audience = []Audience{{Kind: Profile, Profile: "admin"}} }, "profil de destinataires inconnu"},
		{func(n *Notice) { n.Audience = []Audience{{Kind: Class}} }, "choisissez une classe"},
		{func(n *Notice) { n.Files = make([]Attachment, MaxFiles+1) }, "5 documents au plus"},
		{func(n *Notice) {
			n.RequiresAck, n.Audience = true, []Audience{{Kind: Profile, Profile: identity.Pupil}}
		}, "accusé de lecture"},
	} {
		n := ok()
		tc.edit(&n)
		wantInvalid(t, Normalize(&n), tc.want)
	}
}

func TestAcksCSV(t *testing.T) {
	at := time.Date(2026, 11, 30, 17, 5, 0, 0, Paris)
	rep := AckReport{Rows: []AckRow{
		{Pupil: "=HYPERLINK(\"x\")", Class: "3e A", Guardians: []AckGuardian{{Name: "Sophie Martin", AckedAt: at}, {Name: "+Paul"}}, Done: true},
		{Pupil: "Tom Petit", Class: "3e A"},
	}}
	var b bytes.Buffer
	if err := WriteAcksCSV(&b, rep, Paris); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFÉlève;Classe;Responsables;Pris connaissance;Par;Le\r\n" +
		"\"'=HYPERLINK(\"\"x\"\")\";3e A;Sophie Martin, +Paul;oui;Sophie Martin;30/11/2026 17:05\r\n" +
		"Tom Petit;3e A;;sans responsable;;\r\n"
	if b.String() != want {
		t.Errorf("CSV:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var st, c3A, c3B, other, lastYear int64
		var lea, tom, hugo, mum, dad, head directory.Person
		err := d.InTx(ctx, func(tx *db.Tx) (err error) {
			must := func(id int64, e error) int64 {
				if err == nil {
					err = e
				}
				return id
			}
			st = must(directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450099Z", Name: "Jean Zay", Kind: directory.College}))
			other = must(directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450098Y", Name: "Voltaire", Kind: directory.Lycee}))
			last := must(directory.EnsureYear(ctx, tx, directory.YearFor("2025-2026", false)))
			year := must(directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true)))
			c3A = must(directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: year, Name: "3e A"}))
			c3B = must(directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: year, Name: "3e B"}))
			lastYear = must(directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: last, Name: "4e A"}))
			if err != nil {
				return err
			}
			person := func(first, last string, prof identity.Profile, class int64) directory.Person {
				p, e := directory.CreatePerson(ctx, tx, directory.Person{FirstName: first, LastName: last})
				if err == nil {
					err = e
				}
				if err == nil && class != 0 {
					err = directory.Transfer(ctx, tx, p.ID, class)
				} else if err == nil {
					err = directory.AddRole(ctx, tx, p.ID, st, prof, "")
				}
				return p
			}
			lea, tom, hugo = person("Léa", "Martin", identity.Pupil, c3A), person("Tom", "Petit", identity.Pupil, c3A), person("Hugo", "Bernard", identity.Pupil, c3B)
			mum, dad, head = person("Sophie", "Martin", identity.Parent, 0), person("Marc", "Martin", identity.Parent, 0), person("Anne", "Lefèvre", identity.Head, 0)
			for _, g := range [][2]int64{{mum.ID, lea.ID}, {dad.ID, lea.ID}, {dad.ID, hugo.ID}} {
				if err == nil {
					err = directory.LinkGuardian(ctx, tx, g[0], g[1], "")
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		s := New(d)
		s.now = func() time.Time { return time.Date(2026, 11, 30, 9, 0, 0, 0, Paris) }
		base := Notice{StructureID: st, AuthorID: head.ID, Title: "Sortie au musée", Body: "Autorisation à rendre.",
			From: "2026-11-30", Until: "2026-12-10", RequiresAck: true, Audience: []Audience{{Kind: ClassParents, ClassID: c3A}}}
		for _, tc := range []struct {
			aud  Audience
			want string
		}{
			{Audience{Kind: Class, ClassID: lastYear}, "cette année"},
			{Audience{Kind: Class, ClassID: 99999}, "cette année"},
		} {
			n := base
			n.Audience = []Audience{tc.aud}
			_, err := s.Create(ctx, n)
			wantInvalid(t, err, tc.want)
		}
		n := base
		n.StructureID = 99999
		_, err = s.Create(ctx, n)
		wantInvalid(t, err, "établissement n'existe pas")
		n = base
		n.Audience = []Audience{{Kind: ClassParents, ClassID: c3A}}
		n.Files = []Attachment{{FileID: 7, Version: 1, Name: "autorisation.pdf", Size: 1234, ContentType: "application/pdf", Key: "m/a"},
			{FileID: 8, Version: 2, Name: "plan.png", Size: 99, ContentType: "image/png", Key: "m/b"}}
		got, err := s.Create(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if got.Audience[0].ClassName != "3e A" || len(got.Files) != 2 || got.Files[1].N != 2 || got.AuthorName != "Anne Lefèvre" {
			t.Errorf("created %+v", got)
		}
		if _, err := s.Create(ctx, Notice{StructureID: other, AuthorID: head.ID, Title: "Lycée", Body: "x", From: "2026-11-01",
			Until: "2026-11-29", Audience: []Audience{{Kind: School}}}); err != nil {
			t.Fatal(err)
		}
		// Lists: the collège's live notices; every state when asked.
		if l, err := s.List(ctx, Filter{Structures: []int64{st}, LiveOn: s.Today()}); err != nil || len(l) != 1 || l[0].ID != got.ID {
			t.Errorf("live list %+v %v", l, err)
		}
		if l, _ := s.List(ctx, Filter{AllSchools: true, LiveOn: s.Today()}); len(l) != 1 {
			t.Errorf("all schools live: %d", len(l))
		}
		if l, _ := s.List(ctx, Filter{AllSchools: true}); len(l) != 2 {
			t.Errorf("all schools, every state: %d", len(l))
		}
		// Follow-up: Léa (two guardians) and Tom (none) in 3e A.
		rep, err := s.Acks(ctx, got)
		if err != nil || len(rep.Rows) != 2 || rep.Pending != 1 || rep.NoGuardian != 1 || rep.Done != 0 {
			t.Fatalf("acks before: %+v %v", rep, err)
		}
		if err := s.Ack(ctx, got.ID, dad.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Ack(ctx, got.ID, dad.ID); err != nil {
			t.Fatal("second ack:", err)
		}
		rep, _ = s.Acks(ctx, got)
		if rep.Done != 1 || rep.Pending != 0 || rep.Rows[0].Pupil != "Léa Martin" || !rep.Rows[0].Done ||
			len(rep.Rows[0].Guardians) != 2 || rep.Rows[0].Guardians[0].Name != "Marc Martin" || rep.Rows[0].Guardians[0].AckedAt.IsZero() {
			t.Errorf("acks after: %+v", rep)
		}
		m, err := s.MarksOf(ctx, dad.ID, []int64{got.ID})
		if err != nil || !m.Read[got.ID] || !m.Acked[got.ID] {
			t.Errorf("marks %+v %v", m, err)
		}
		if m, _ := s.MarksOf(ctx, mum.ID, []int64{got.ID}); m.Read[got.ID] || m.Acked[got.ID] {
			t.Errorf("mum's marks %+v", m)
		}
		// The whole school: Hugo's row appears too, done by the same
		// acknowledgement of his father (one per parent covers every child).
		got.Audience = []Audience{{Kind: School}}
		if rep, _ := s.Acks(ctx, got); len(rep.Rows) != 3 || rep.Done != 2 || rep.Pending != 0 || !rep.Rows[2].Done {
			t.Errorf("school acks %+v", rep)
		}
		// Update: keep file 2, drop file 1, add one; no ack asked: acks forgotten.
		got.Title, got.RequiresAck = "Sortie reportée", false
		got.Audience = []Audience{{Kind: Class, ClassID: c3B}}
		got.Files = []Attachment{{N: 2}, {FileID: 9, Version: 1, Name: "nouveau.pdf", Size: 5, ContentType: "application/pdf", Key: "m/c"}}
		up, dropped, err := s.Update(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		if up.Title != "Sortie reportée" || len(up.Files) != 2 || up.Files[0].Name != "plan.png" || up.Files[1].N != 3 ||
			len(dropped) != 1 || dropped[0] != "m/a" || up.Audience[0].ClassName != "3e B" {
			t.Errorf("update %+v dropped %v", up, dropped)
		}
		if m, _ := s.MarksOf(ctx, dad.ID, []int64{got.ID}); m.Acked[got.ID] {
			t.Error("ack kept once no longer asked")
		}
		if a, err := s.Attachment(ctx, got.ID, 3); err != nil || a.Key != "m/c" {
			t.Errorf("attachment 3: %+v %v", a, err)
		}
		if _, err := s.Attachment(ctx, got.ID, 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("dropped attachment: %v", err)
		}
		up.Files = []Attachment{{N: 1}}
		_, _, err = s.Update(ctx, up)
		wantInvalid(t, err, "n'est plus joint")
		if _, _, err := s.Update(ctx, Notice{ID: 99999}); !errors.Is(err, ErrNotFound) {
			t.Errorf("update unknown: %v", err)
		}
		keys, err := s.Delete(ctx, got.ID)
		if err != nil || len(keys) != 2 {
			t.Errorf("delete: %v %v", keys, err)
		}
		if _, err := s.Get(ctx, got.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("get deleted: %v", err)
		}
		if _, err := s.Delete(ctx, got.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		_ = tom
	})
}

// FuzzNormalize: any input is refused with a French message or comes out
// within the limits; nothing panics.
func FuzzNormalize(f *testing.F) {
	f.Add("Sortie", "Texte\r\nsuite https://exemple.fr", "2026-11-30", "2026-12-10", "class_parents", "", int64(3), true)
	f.Add("", "", "x", "y", "profile", "admin", int64(0), false)
	f.Fuzz(func(t *testing.T, title, body, from, until, kind, profile string, class int64, ack bool) {
		n := Notice{StructureID: 1, Title: title, Body: body, From: from, Until: until, RequiresAck: ack,
			Audience: []Audience{{Kind: kind, Profile: identity.Profile(profile), ClassID: class}}}
		err := Normalize(&n)
		if err != nil {
			var inv *Invalid
			if !errors.As(err, &inv) || inv.Msg == "" {
				t.Fatalf("error %v is not a French refusal", err)
			}
			return
		}
		if n.Title == "" || len([]rune(n.Title)) > MaxTitle || len([]rune(n.Body)) > MaxBody || n.Until < n.From ||
			strings.Contains(n.Body, "\r") || (ack && !n.ReachesParents()) {
			t.Fatalf("accepted %+v", n)
		}
	})
}
