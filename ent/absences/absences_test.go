package absences

import (
	"bytes"
	"strings"
	"testing"
)

func TestNotice(t *testing.T) {
	for _, c := range []struct {
		r    Record
		want string
	}{
		{Record{Kind: Absent, Date: "2026-12-01", Start: 600, End: 660, Subject: "Mathématiques"}, "Absence de Léa le 1er décembre, 10 h – 11 h (Mathématiques)"},
		{Record{Kind: Late, LateMin: 10, Date: "2026-11-27", Start: 810, End: 870}, "Retard de Léa le 27 novembre : 10 min, cours de 13 h 30 – 14 h 30"},
	} {
		if got := Notice(c.r, "Léa"); got != c.want {
			t.Errorf("Notice = %q, want %q", got, c.want)
		}
	}
}

func TestCheck(t *testing.T) {
	ok := Record{Kind: Absent, Date: "2026-12-01", Start: 600, End: 660}
	for _, c := range []struct {
		name string
		edit func(*Record)
		msg  string
	}{
		{"fine", func(*Record) {}, ""},
		{"bad date", func(r *Record) { r.Date = "01/12/2026" }, "date illisible"},
		{"bad kind", func(r *Record) { r.Kind = "x" }, "absence ou retard"},
		{"before 7", func(r *Record) { r.Start = 300 }, "entre"},
		{"end before start", func(r *Record) { r.End = 600 }, "fin"},
		{"late without minutes", func(r *Record) { r.Kind = Late }, "minutes"},
		{"late longer than lesson", func(r *Record) { r.Kind, r.LateMin = Late, 61 }, "minutes"},
		{"late", func(r *Record) { r.Kind, r.LateMin = Late, 60 }, ""},
		{"control character", func(r *Record) { r.Comment = "a\x00b" }, "commentaire"},
		{"bad status", func(r *Record) { r.Status = "ok" }, "statut"},
	} {
		r := ok
		c.edit(&r)
		err := Check(&r)
		if (err == nil) != (c.msg == "") || (err != nil && !strings.Contains(err.Error(), c.msg)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.msg)
		}
	}
	if _, err := CheckReason("autre", " "); err == nil {
		t.Error("another reason without text")
	}
	if _, err := CheckReason("vacances", ""); err == nil {
		t.Error("a reason off the list")
	}
}

// TestTally: half-days are counted once per pupil and date, unjustified
// when one absence of the half-day is not justified; lates apart.
func TestTally(t *testing.T) {
	rs := []Record{
		{PupilID: 1, Kind: Absent, Date: "2026-12-01", Start: 480, End: 540, Status: Justified},
		{PupilID: 1, Kind: Absent, Date: "2026-12-01", Start: 540, End: 600, Status: Pending},
		{PupilID: 1, Kind: Absent, Date: "2026-12-01", Start: 810, End: 870, Status: Justified},
		{PupilID: 1, Kind: Absent, Date: "2026-12-02", Start: 480, End: 1020, Status: Refused}, // the whole day
		{PupilID: 1, Kind: Late, LateMin: 5, Date: "2026-12-03", Start: 480, End: 540, Status: Unjustified},
		{PupilID: 2, Kind: Late, LateMin: 15, Date: "2026-12-03", Start: 480, End: 540, Status: Justified},
		{PupilID: 2, Kind: Absent, Date: "2026-12-03", Start: 720, End: 780},
	}
	per, total := Tally(rs)
	if len(per) != 2 {
		t.Fatalf("per %+v", per)
	}
	p1 := per[0]
	if p1.Absences != 4 || p1.AbsencesJustified != 2 || p1.HalfDays != 4 || p1.HalfDaysUnjustified != 3 || p1.Lates != 1 || p1.LatesUnjustified != 1 || p1.Pending != 1 {
		t.Errorf("pupil 1 %+v", p1)
	}
	// 12:00–13:00 starts before 12:30: a morning.
	if p2 := per[1]; p2.HalfDays != 1 || p2.HalfDaysUnjustified != 1 || p2.LatesJustified != 1 || p2.LateMinutes != 15 {
		t.Errorf("pupil 2 %+v", p2)
	}
	if total.Absences != 5 || total.HalfDays != 5 || total.HalfDaysUnjustified != 4 || total.Lates != 2 || total.LateMinutes != 20 {
		t.Errorf("total %+v", total)
	}
	if per, total := Tally(nil); per != nil || total != (Count{}) {
		t.Error("nothing to count")
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	r := Record{Kind: Late, LateMin: 5, Date: "2026-12-01", Start: 480, End: 540, ClassName: "3e A", PupilName: "@Léa", Comment: "=1+1", Status: Justified, Reason: "maladie"}
	if err := WriteCSV(&b, []Record{r}); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFDate;Début;Fin;Classe;Élève;Type;Retard (min);Matière;Statut;Motif;Précision;Commentaire\r\n" +
		"2026-12-01;8 h;9 h;3e A;'@Léa;Retard;5;;Justifiée;Maladie;;'=1+1\r\n"
	if b.String() != want {
		t.Errorf("CSV\n%q\nwant\n%q", b.String(), want)
	}
}
