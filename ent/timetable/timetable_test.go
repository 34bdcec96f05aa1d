package timetable

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/ent/directory/csvimport"
	"preau/identity"
	"preau/internal/dbtest"
)

func date(s string) time.Time {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestExpand(t *testing.T) {
	// 2026-11-30 is a Monday of ISO week 49 (odd: A).
	monday := date("2026-11-30")
	if got := Monday(date("2026-12-05").Add(15 * time.Hour)); !got.Equal(monday) {
		t.Fatalf("Monday of Saturday = %v", got)
	}
	if got := Monday(date("2026-12-06")); !got.Equal(monday) {
		t.Fatalf("Monday of Sunday = %v", got)
	}
	if WeekLetter(monday) != "A" || WeekLetter(monday.AddDate(0, 0, 7)) != "B" {
		t.Fatal("week letters")
	}
	slots := []Slot{
		{ID: 1, ClassName: "3e A", Subject: "Maths", Weekday: 1, Start: 8 * 60, End: 9 * 60},
		{ID: 2, ClassName: "3e A", Subject: "SVT", Weekday: 2, Start: 10 * 60, End: 11 * 60, Weeks: "A"},
		{ID: 3, ClassName: "3e A", Subject: "Latin", Weekday: 2, Start: 10 * 60, End: 11 * 60, Weeks: "B"},
		{ID: 4, ClassName: "3e A", Subject: "EPS", Weekday: 3, Start: 13 * 60, End: 15 * 60, Room: "Gymnase"},
	}
	changes := []Change{
		{SlotID: 1, Date: "2026-11-30", Status: Cancelled, Note: "professeur absent"},
		// EPS of this Wednesday moves to Friday 14:00 in another room.
		{SlotID: 4, Date: "2026-12-02", Status: Moved, NewDate: "2026-12-04", NewStart: 14 * 60, NewEnd: 16 * 60, NewRoom: "Stade"},
		// Last week's maths came to this Saturday morning.
		{SlotID: 1, Date: "2026-11-23", Status: Moved, NewDate: "2026-12-05", NewStart: 9 * 60, NewEnd: 10 * 60},
	}
	got := Expand(slots, changes, monday.Add(50*time.Hour))
	var lines []string
	for _, o := range got {
		lines = append(lines, o.Date+" "+HHMM(o.Start)+" "+o.Subject+" "+o.Room+" "+o.Status+" "+o.MovedTo+o.MovedFrom+" "+o.Note)
	}
	want := []string{
		"2026-11-30 08:00 Maths  cancelled  professeur absent",
		"2026-12-01 10:00 SVT    ",
		"2026-12-02 13:00 EPS Gymnase moved 2026-12-04 14:00 ",
		"2026-12-04 14:00 EPS Stade moved_here 2026-12-02 13:00 ",
		"2026-12-05 09:00 Maths  moved_here 2026-11-23 08:00 ",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("week:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if o := got[3]; o.Begin.Hour() != 14 || o.Until.Sub(o.Begin) != 2*time.Hour || o.Weekday != 5 {
		t.Errorf("moved occurrence %+v", o)
	}
	// The week after the clocks went back (25 Oct 2026): 8:00 is 8:00 in
	// Paris, 07:00 UTC.
	o := Expand(slots[:1], nil, date("2026-10-26"))[0]
	if o.Begin.UTC().Hour() != 7 || o.Begin.In(Paris).Hour() != 8 {
		t.Errorf("after DST: %v", o.Begin)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]int{"8:00": 480, "08:05": 485, "8h30": 510, "13H": 780, " 9 h 15 ": 555} {
		if got, ok := ParseHHMM(in); !ok || got != want {
			t.Errorf("ParseHHMM(%q) = %d %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "8", "24:00", "8:60", "8:5:0", "huit", "8:005"} {
		if _, ok := ParseHHMM(bad); ok {
			t.Errorf("ParseHHMM(%q) accepted", bad)
		}
	}
	for in, want := range map[string]int{"Lundi": 1, "mar.": 2, "MERCREDI": 3, "sam": 6, "5": 5} {
		if got, ok := ParseDay(in); !ok || got != want {
			t.Errorf("ParseDay(%q) = %d %v", in, got, ok)
		}
	}
	for _, bad := range []string{"dimanche", "lu", "7", "", "x"} {
		if _, ok := ParseDay(bad); ok {
			t.Errorf("ParseDay(%q) accepted", bad)
		}
	}
}

type school struct {
	st, year, c3A, c3B, maths, svt, eps int64
	prof, profB                         directory.Person
}

func newSchool(t *testing.T, d *db.DB) school {
	t.Helper()
	ctx := context.Background()
	var s school
	err := d.InTx(ctx, func(tx *db.Tx) (err error) {
		if s.st, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450099Z", Name: "Jean Zay", Kind: directory.College}); err != nil {
			return err
		}
		if s.year, err = directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true)); err != nil {
			return err
		}
		if s.c3A, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: s.st, YearID: s.year, Name: "3e A"}); err != nil {
			return err
		}
		if s.c3B, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: s.st, YearID: s.year, Name: "3e B"}); err != nil {
			return err
		}
		for code, id := range map[string]*int64{"MATHS": &s.maths, "SVT": &s.svt, "EPS": &s.eps} {
			if *id, err = directory.EnsureSubject(ctx, tx, code, map[string]string{"MATHS": "Mathématiques", "SVT": "Sciences de la vie et de la Terre", "EPS": "Éducation physique et sportive"}[code]); err != nil {
				return err
			}
		}
		for _, p := range []*directory.Person{&s.prof, &s.profB} {
			name := map[*directory.Person]string{&s.prof: "Curie", &s.profB: "Pasteur"}[p]
			if *p, err = directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Marie", LastName: name}); err != nil {
				return err
			}
			if err = directory.AddRole(ctx, tx, p.ID, s.st, identity.Teacher, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantInvalid(t *testing.T, err error, part string) {
	t.Helper()
	var inv *Invalid
	if !errors.As(err, &inv) || !strings.Contains(inv.Msg, part) {
		t.Errorf("error %v, want a French message with %q", err, part)
	}
}

func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newSchool(t, d)
		st := New(d)
		maths, err := st.CreateSlot(ctx, Slot{ClassID: s.c3A, SubjectID: s.maths, TeacherID: s.prof.ID, Room: "B12", Weekday: 1, Start: 480, End: 540})
		if err != nil {
			t.Fatal(err)
		}
		if maths.ClassName != "3e A" || maths.Subject != "Mathématiques" || maths.TeacherName != "Marie Curie" || maths.StructureID != s.st {
			t.Errorf("slot %+v", maths)
		}
		for _, tc := range []struct {
			sl   Slot
			want string
		}{
			{Slot{ClassID: s.c3A, SubjectID: s.svt, Weekday: 1, Start: 510, End: 570}, "la 3e A a déjà Mathématiques le lundi de 8 h 00 à 9 h 00"},
			{Slot{ClassID: s.c3B, SubjectID: s.maths, TeacherID: s.prof.ID, Weekday: 1, Start: 480, End: 540}, "Marie Curie fait déjà cours en 3e A"},
			{Slot{ClassID: s.c3B, SubjectID: s.svt, Room: "B12", Weekday: 1, Start: 500, End: 560}, "la salle B12 est déjà prise"},
			{Slot{ClassID: s.c3B, SubjectID: s.svt, Weekday: 7, Start: 480, End: 540}, "lundi au samedi"},
			{Slot{ClassID: s.c3B, SubjectID: s.svt, Weekday: 2, Start: 400, End: 540}, "entre 7 h 00 et 20 h 00"},
			{Slot{ClassID: s.c3B, SubjectID: s.svt, Weekday: 2, Start: 540, End: 480}, "au moins 15 minutes"},
			{Slot{ClassID: s.c3B, SubjectID: s.svt, Weekday: 2, Start: 480, End: 1000}, "au plus 4 heures"},
			{Slot{ClassID: s.c3B, SubjectID: s.svt, Weekday: 2, Start: 480, End: 540, Weeks: "C"}, "A ou B"},
			{Slot{ClassID: s.c3B, SubjectID: s.svt, Weekday: 2, Start: 480, End: 540, Room: "a\x00"}, "caractère de contrôle"},
			{Slot{ClassID: 99999, SubjectID: s.svt, Weekday: 2, Start: 480, End: 540}, "classe n'existe pas"},
			{Slot{ClassID: s.c3B, SubjectID: 99999, Weekday: 2, Start: 480, End: 540}, "matière n'existe pas"},
		} {
			_, err := st.CreateSlot(ctx, tc.sl)
			wantInvalid(t, err, tc.want)
		}
		// Weeks A and B share a time; every week meets both.
		if _, err := st.CreateSlot(ctx, Slot{ClassID: s.c3B, SubjectID: s.svt, Weekday: 2, Start: 600, End: 660, Weeks: "A"}); err != nil {
			t.Fatal(err)
		}
		latin, err := st.CreateSlot(ctx, Slot{ClassID: s.c3B, SubjectID: s.maths, Weekday: 2, Start: 600, End: 660, Weeks: "b"})
		if err != nil || latin.Weeks != "B" {
			t.Fatalf("week B beside week A: %+v %v", latin, err)
		}
		_, err = st.CreateSlot(ctx, Slot{ClassID: s.c3B, SubjectID: s.eps, Weekday: 2, Start: 630, End: 700})
		wantInvalid(t, err, "chevauchement")
		// Update: moving maths onto the B slot's time clashes with nothing of 3e A.
		maths.Weekday, maths.Start, maths.End = 2, 600, 660
		if _, err := st.UpdateSlot(ctx, maths); err != nil {
			t.Fatal(err)
		}
		maths.TeacherID = s.profB.ID
		maths.ClassID = s.c3B // ignored: a slot keeps its class
		if got, err := st.UpdateSlot(ctx, maths); err != nil || got.ClassID != s.c3A || got.TeacherName != "Marie Pasteur" {
			t.Fatalf("update: %+v %v", got, err)
		}
		if _, err := st.UpdateSlot(ctx, Slot{ID: 99999, SubjectID: s.maths, Weekday: 1, Start: 480, End: 540}); !errors.Is(err, ErrNotFound) {
			t.Errorf("update unknown: %v", err)
		}

		// Changes of one occurrence. 2026-12-01 is a Tuesday of week A.
		wantInvalid(t, st.SetChange(ctx, Change{SlotID: maths.ID, Date: "2026-12-02", Status: Cancelled}), "n'a pas lieu")
		wantInvalid(t, st.SetChange(ctx, Change{SlotID: latin.ID, Date: "2026-12-01", Status: Cancelled}), "n'a pas lieu")
		wantInvalid(t, st.SetChange(ctx, Change{SlotID: maths.ID, Date: "2026-12-01", Status: "oublié"}), "annulé ou déplacé")
		wantInvalid(t, st.SetChange(ctx, Change{SlotID: maths.ID, Date: "2026-12-01", Status: Moved, NewDate: "2026-12-01", NewStart: 600, NewEnd: 660}), "doit changer")
		wantInvalid(t, st.SetChange(ctx, Change{SlotID: maths.ID, Date: "2026-12-01", Status: Moved, NewDate: "2026-12-06", NewStart: 600, NewEnd: 660}), "lundi au samedi")
		if err := st.SetChange(ctx, Change{SlotID: maths.ID, Date: "2026-12-01", Status: Cancelled, Note: "sortie"}); err != nil {
			t.Fatal(err)
		}
		if err := st.SetChange(ctx, Change{SlotID: maths.ID, Date: "2026-12-01", Status: Moved, NewDate: "2026-12-03", NewStart: 840, NewEnd: 900, Note: "conseil"}); err != nil {
			t.Fatal(err) // replaces the cancellation
		}
		week, err := st.Week(ctx, Filter{Classes: []int64{s.c3A}}, date("2026-12-03"))
		if err != nil {
			t.Fatal(err)
		}
		if len(week) != 2 || week[0].Status != Moved || week[1].Status != MovedHere || week[1].Date != "2026-12-03" || week[1].Note != "conseil" {
			t.Errorf("week of 3e A: %+v", week)
		}
		// The teacher's week has the slot too; another teacher's not.
		if w, _ := st.Week(ctx, Filter{Teacher: s.profB.ID}, date("2026-12-03")); len(w) != 2 {
			t.Errorf("teacher's week: %d lessons", len(w))
		}
		if w, _ := st.Week(ctx, Filter{Teacher: s.prof.ID}, date("2026-12-03")); len(w) != 0 {
			t.Errorf("former teacher's week: %d lessons", len(w))
		}
		if err := st.ClearChange(ctx, maths.ID, "2026-12-01"); err != nil {
			t.Fatal(err)
		}
		if w, _ := st.Week(ctx, Filter{Classes: []int64{s.c3A}}, date("2026-12-03")); len(w) != 1 || w[0].Status != "" {
			t.Errorf("after clearing: %+v", w)
		}
		if err := st.DeleteSlot(ctx, maths.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteSlot(ctx, maths.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}

func TestImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newSchool(t, d)
		st := New(d)
		old, err := st.CreateSlot(ctx, Slot{ClassID: s.c3A, SubjectID: s.eps, Weekday: 5, Start: 480, End: 600})
		if err != nil {
			t.Fatal(err)
		}
		// Latin-1, semicolons, headers with accents and in another order.
		good := "Jour;Classe;Début;Fin;Matière;Enseignant;Salle;Semaine\n" +
			"lundi;3e A;8:00;9:00;MATHS;CURIE Marie;B12;\n" +
			"Mardi;3E A;10h00;11h00;Sciences de la vie et de la Terre;marie pasteur;Labo;A\n" +
			"mardi;3e A;10h00;11h00;Mathématiques;;;B\n" +
			";;;;;;;\n"
		latin1 := strings.NewReplacer("é", "\xe9", "è", "\xe8").Replace(good)
		rep, err := st.Import(ctx, s.st, s.year, strings.NewReader(latin1))
		if err != nil || rep.Classes != 1 || rep.Slots != 3 {
			t.Fatalf("import: %+v %v", rep, err)
		}
		slots, _ := st.Slots(ctx, Filter{Classes: []int64{s.c3A}})
		if len(slots) != 3 || slots[0].TeacherName != "Marie Curie" || slots[1].Room != "Labo" && slots[2].Room != "Labo" {
			t.Errorf("imported %+v", slots)
		}
		if _, err := st.Slot(ctx, old.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("the class's former slot survived: %v", err)
		}
		// Bad lines: each reported with its line; nothing applied.
		bad := "Classe,Jour,Début,Fin,Matière,Enseignant\n" +
			"3e A,lundi,8:00,9:00,MATHS,\n" + // fine alone…
			"6e Z,lundi,8:00,9:00,MATHS,\n" +
			"3e A,dimanche,8:00,9:00,MATHS,\n" +
			"3e A,lundi,huit,9:00,MATHS,\n" +
			"3e A,lundi,8:00,9:00,Chant,\n" +
			"3e A,lundi,8:00,9:00,MATHS,Inconnu\n" +
			"3e A,lundi,8:30,9:30,SVT,\n" // …but clashes with line 2
		_, err = st.Import(ctx, s.st, s.year, strings.NewReader(bad))
		var re *csvimport.RowErrors
		if !errors.As(err, &re) || len(re.Rows) != 5 {
			t.Fatalf("bad file: %v", err)
		}
		for i, want := range []string{"6e Z", "dimanche", "huit", "Chant", "Inconnu"} {
			if re.Rows[i].Line != i+3 || !strings.Contains(re.Rows[i].Msg, want) {
				t.Errorf("row error %d: %+v", i, re.Rows[i])
			}
		}
		// Only the clash left: reported at the second line of the pair.
		clashing := "Classe,Jour,Début,Fin,Matière\n3e A,lundi,8:00,9:00,MATHS\n3e A,lundi,8:30,9:30,SVT\n"
		_, err = st.Import(ctx, s.st, s.year, strings.NewReader(clashing))
		if !errors.As(err, &re) || len(re.Rows) != 1 || re.Rows[0].Line != 3 || !strings.Contains(re.Rows[0].Msg, "chevauchement") {
			t.Fatalf("clash in file: %v", err)
		}
		if after, _ := st.Slots(ctx, Filter{Classes: []int64{s.c3A}}); len(after) != 3 {
			t.Errorf("a refused file changed the timetable: %d slots", len(after))
		}
		_, err = st.Import(ctx, s.st, s.year, strings.NewReader("Nom;Prénom\nx;y\n"))
		if !errors.As(err, &re) || !strings.Contains(re.Rows[0].Msg, "colonnes manquantes") {
			t.Errorf("wrong header: %v", err)
		}
		if _, err = st.Import(ctx, s.st, s.year, strings.NewReader("")); err == nil {
			t.Error("empty file accepted")
		}
	})
}
