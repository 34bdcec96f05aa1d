package grades

import (
	"bytes"
	"encoding/csv"
	"math/big"
	"strings"
	"testing"
)

func w(v float64, scale int, coef Coef) Weighted { return Weighted{int(v * 4), scale, coef} }

func TestSubjectAverage(t *testing.T) {
	tests := []struct {
		name string
		ws   []Weighted
		want string // "" = no average
	}{
		{"no grade", nil, ""},
		{"one grade", []Weighted{w(12.5, 20, 100)}, "12,50"},
		{"plain mean", []Weighted{w(10, 20, 100), w(15, 20, 100)}, "12,50"},
		{"coefficients", []Weighted{w(10, 20, 100), w(16, 20, 200)}, "14,00"},
		{"decimal coefficient", []Weighted{w(8, 20, 50), w(14, 20, 150)}, "12,50"},
		{"other scale brought to /20", []Weighted{w(7, 10, 100)}, "14,00"},
		{"scales mixed", []Weighted{w(7, 10, 100), w(30, 40, 100)}, "14,50"},
		{"scale /100", []Weighted{w(87.75, 100, 100)}, "17,55"},
		{"zero counts", []Weighted{w(0, 20, 100), w(20, 20, 100)}, "10,00"},
		// 10/20 ×1 and 14,75/20 ×1 and 9/20 ×1: 33,75/3 = 11,25.
		{"quarters", []Weighted{w(10, 20, 100), w(14.75, 20, 100), w(9, 20, 100)}, "11,25"},
		// 1/3 ×20 = 6,666… → 6,67 (rounded, not truncated).
		{"rounds up", []Weighted{w(1, 3, 100)}, "6,67"},
		// 13/20 ×1 and 12/20 ×2 → 37/3 = 12,333… → 12,33.
		{"rounds down", []Weighted{w(13, 20, 100), w(12, 20, 200)}, "12,33"},
		// Exactly half a hundredth, 12,375, rounds up on exact numbers.
		{"half up", []Weighted{w(12.25, 20, 100), w(12.5, 20, 100)}, "12,38"},
	}
	for _, tt := range tests {
		got := SubjectAverage(tt.ws).String()
		if got != tt.want {
			t.Errorf("%s: SubjectAverage = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAvgRoundingHalfUp(t *testing.T) {
	// Exact halves round up; exact numbers never drift (12,345 is not
	// 12,3449… as a float64 would be).
	for _, tt := range []struct {
		num, den int64
		want     string
	}{{12345, 1000, "12,35"}, {12344, 1000, "12,34"}, {5, 1000, "0,01"}, {4, 1000, "0,00"}, {20, 1, "20,00"},
		{1999, 100, "19,99"}, {19995, 1000, "20,00"}, {2, 3, "0,67"}, {1, 3, "0,33"}} {
		a := Avg{big.NewRat(tt.num, tt.den)}
		if got := a.String(); got != tt.want {
			t.Errorf("%d/%d shown %q, want %q", tt.num, tt.den, got, tt.want)
		}
	}
	if (Avg{}).String() != "" || (Avg{}).Ptr() != nil || (Avg{}).Valid() {
		t.Error("the zero Avg is not empty")
	}
	if got := FormatHundredths(1250); got != "12,50" {
		t.Errorf("FormatHundredths(1250) = %q", got)
	}
	if got := FormatHundredths(5); got != "0,05" {
		t.Errorf("FormatHundredths(5) = %q", got)
	}
}

func TestMeanAndMinMax(t *testing.T) {
	a := SubjectAverage([]Weighted{w(10, 20, 100)})
	b := SubjectAverage([]Weighted{w(15, 20, 100)})
	c := SubjectAverage([]Weighted{w(11, 20, 100)})
	if got := Mean([]Avg{a, b, {}, c}).String(); got != "12,00" {
		t.Errorf("Mean skips no-average subjects: got %q, want 12,00", got)
	}
	if Mean(nil).Valid() || Mean([]Avg{{}, {}}).Valid() {
		t.Error("Mean of nothing is an average")
	}
	lo, hi := MinMax([]Avg{b, {}, a, c})
	if lo.String() != "10,00" || hi.String() != "15,00" {
		t.Errorf("MinMax = %s, %s", lo, hi)
	}
	if lo, hi := MinMax(nil); lo.Valid() || hi.Valid() {
		t.Error("MinMax of nothing")
	}
}

func TestEvalStats(t *testing.T) {
	s := EvalStats([]Mark{{Graded, 48}, {Absent, 0}, {Graded, 30}, {Exempt, 0}, {Ungraded, 0}, {Graded, 61}})
	if s.Counted != 3 || s.Min != 30 || s.Max != 61 || s.Mean.String() != "11,58" {
		t.Errorf("stats = %+v mean %s", s, s.Mean)
	}
	// All absent: nothing counts, no mean.
	s = EvalStats([]Mark{{Absent, 0}, {Absent, 0}})
	if s.Counted != 0 || s.Mean.Valid() {
		t.Errorf("all absent: %+v", s)
	}
}

// sheet builds a sheet: marks by pupil.
func sheet(id, subject int64, date string, scale int, coef Coef, marks map[int64]Mark) Sheet {
	return Sheet{Evaluation: Evaluation{ID: id, SubjectID: subject, Title: "Éval " + date, Date: date, Scale: scale, Coef: coef}, Marks: marks}
}

func g(v float64) Mark { return Mark{Graded, int(v * 4)} }

func TestBuildReport(t *testing.T) {
	const lea, tom, zoe = 1, 2, 3
	const maths, french, eps = 10, 20, 30
	sheets := []Sheet{
		sheet(2, maths, "2026-10-12", 10, 200, map[int64]Mark{lea: g(6), tom: g(9), zoe: {Absent, 0}}),
		sheet(1, maths, "2026-09-20", 20, 100, map[int64]Mark{lea: g(14), tom: g(8), zoe: g(17)}),
		sheet(3, french, "2026-10-01", 20, 100, map[int64]Mark{lea: {Absent, 0}, tom: g(12.5), zoe: g(10)}),
		// Every pupil exempted: the subject has no average at all.
		sheet(4, eps, "2026-10-05", 20, 100, map[int64]Mark{lea: {Exempt, 0}, tom: {Exempt, 0}, zoe: {Exempt, 0}}),
	}
	r := BuildReport(lea, sheets, map[int64]string{maths: "Mathématiques", french: "Français", eps: "EPS"})
	if len(r.Subjects) != 3 || r.Subjects[0].Subject != "EPS" || r.Subjects[1].Subject != "Français" || r.Subjects[2].Subject != "Mathématiques" {
		t.Fatalf("subjects = %+v", r.Subjects)
	}
	eps_, fr, m := r.Subjects[0], r.Subjects[1], r.Subjects[2]
	// Léa in maths: 14/20 ×1 and 6/10 (12/20) ×2 → (14 + 24)/3 = 12,666… → 12,67.
	if m.Average.String() != "12,67" {
		t.Errorf("Léa's maths average = %q, want 12,67", m.Average)
	}
	// Tom: 8 ×1 + 18 ×2 → 44/3 = 14,67; Zoé: 17 (absent the second time).
	// Class: (12,666… + 14,666… + 17) / 3 = 14,777… → 14,78.
	if m.ClassAverage.String() != "14,78" || m.Min.String() != "12,67" || m.Max.String() != "17,00" {
		t.Errorf("maths class %s min %s max %s", m.ClassAverage, m.Min, m.Max)
	}
	if len(m.Lines) != 2 || m.Lines[0].ID != 1 || m.Lines[1].Stats.Counted != 2 || m.Lines[1].Stats.Mean.String() != "7,50" {
		t.Errorf("maths lines = %+v", m.Lines)
	}
	if len(m.Running) != 2 || m.Running[0].Average.String() != "14,00" || m.Running[1].Average.String() != "12,67" {
		t.Errorf("running = %+v", m.Running)
	}
	// Léa absent in French: no average, but the class has one.
	if fr.Average.Valid() || fr.ClassAverage.String() != "11,25" || !fr.Lines[0].Marked || fr.Lines[0].Mark.Status != Absent {
		t.Errorf("french = %+v", fr)
	}
	if eps_.Average.Valid() || eps_.ClassAverage.Valid() || eps_.Min.Valid() {
		t.Errorf("eps = %+v", eps_)
	}
	// Overall: only maths counts → 12,67.
	if r.Overall.String() != "12,67" {
		t.Errorf("overall = %q", r.Overall)
	}
	// Class overall: Léa 12,666…, Tom (14,666… + 12,5)/2 = 13,5833…, Zoé (17 + 10)/2 = 13,5 → 13,25.
	if r.ClassOverall.String() != "13,25" {
		t.Errorf("class overall = %q", r.ClassOverall)
	}

	// A pupil with no grade at all.
	empty := BuildReport(99, nil, nil)
	if empty.Overall.Valid() || len(empty.Subjects) != 0 {
		t.Errorf("empty report = %+v", empty)
	}
}

func TestParseMark(t *testing.T) {
	ok := map[string]Mark{"12": g(12), "12,5": g(12.5), "12.25": g(12.25), " 0 ": g(0), "20": g(20), "19,75": g(19.75),
		"abs": {Absent, 0}, "ABS": {Absent, 0}, "Absent": {Absent, 0}, "disp": {Exempt, 0}, "Dispensé": {Exempt, 0},
		"NN": {Ungraded, 0}, "non noté": {Ungraded, 0}}
	for in, want := range ok {
		m, set, err := ParseMark(in, 20)
		if err != nil || !set || m != want {
			t.Errorf("ParseMark(%q) = %+v %v %v, want %+v", in, m, set, err, want)
		}
	}
	if _, set, err := ParseMark("  ", 20); set || err != nil {
		t.Error("blank is not 'no grade'")
	}
	for in, msg := range map[string]string{"21": "entre 0 et 20", "-1": "entre 0 et 20", "12,3": "quart de point",
		"douze": "n'est pas une note", "1e1": "n'est pas une note", "NaN": "n'est pas une note", "Inf": "n'est pas une note",
		"0x10": "n'est pas une note", "12,,5": "n'est pas une note"} {
		_, _, err := ParseMark(in, 20)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseMark(%q) error = %v, want …%s…", in, err, msg)
		}
	}
	if _, _, err := ParseMark("11", 10); err == nil {
		t.Error("11 accepted out of 10")
	}
	if err := CheckMark(Mark{Graded, 81}, 20); err == nil {
		t.Error("CheckMark accepts 20,25/20")
	}
	if err := CheckMark(Mark{Absent, 4}, 20); err == nil {
		t.Error("CheckMark accepts a value for an absent pupil")
	}
	if err := CheckMark(Mark{"bof", 0}, 20); err == nil {
		t.Error("CheckMark accepts an unknown status")
	}
}

func TestCoef(t *testing.T) {
	for in, want := range map[string]Coef{"1": 100, "1,5": 150, "0.5": 50, "0,75": 75, "10": 1000, "2,25": 225} {
		if got, err := ParseCoef(in); err != nil || got != want {
			t.Errorf("ParseCoef(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"0,4", "10,5", "", "1,555", "abc", "-1", "1e1", ",5"} {
		if _, err := ParseCoef(in); err == nil {
			t.Errorf("ParseCoef(%q) accepted", in)
		}
	}
	for v, want := range map[float64]Coef{1: 100, 1.5: 150, 0.5: 50, 2.25: 225} {
		if got, err := CoefFromFloat(v); err != nil || got != want {
			t.Errorf("CoefFromFloat(%v) = %d, %v", v, got, err)
		}
	}
	for _, v := range []float64{0.25, 11, 1.555} {
		if _, err := CoefFromFloat(v); err == nil {
			t.Errorf("CoefFromFloat(%v) accepted", v)
		}
	}
	if Coef(150).String() != "1,5" || Coef(100).String() != "1" || Coef(75).String() != "0,75" {
		t.Error("Coef.String")
	}
}

func TestEvaluationCheck(t *testing.T) {
	base := Evaluation{Title: "Contrôle", Date: "2026-10-01", Scale: 20, Coef: 100}
	if err := base.Check("2026-09-01", "2027-07-05"); err != nil {
		t.Fatal(err)
	}
	for field, e := range map[string]Evaluation{
		"title":       {Title: "  ", Date: "2026-10-01", Scale: 20, Coef: 100},
		"date":        {Title: "x", Date: "2025-10-01", Scale: 20, Coef: 100},
		"scale":       {Title: "x", Date: "2026-10-01", Scale: 101, Coef: 100},
		"coefficient": {Title: "x", Date: "2026-10-01", Scale: 20, Coef: 40},
	} {
		err := e.Check("2026-09-01", "2027-07-05")
		fe, ok := err.(*FieldError)
		if !ok || fe.Field != field {
			t.Errorf("%s: Check = %v", field, err)
		}
	}
	bad := Evaluation{Title: "a\x00b", Date: "2026-10-01", Scale: 20, Coef: 100}
	if err := bad.Check("2026-09-01", "2027-07-05"); err == nil {
		t.Error("control character accepted in a title")
	}
	nodate := Evaluation{Title: "x", Date: "31/12/2026", Scale: 20, Coef: 100}
	if err := nodate.Check("2026-09-01", "2027-07-05"); err == nil {
		t.Error("bad date accepted")
	}
}

func TestWriteCSV(t *testing.T) {
	sheets := []Sheet{
		sheet(1, 1, "2026-09-20", 20, 100, map[int64]Mark{1: g(14), 2: {Absent, 0}}),
		{Evaluation: Evaluation{ID: 2, Title: "=HYPERLINK(\"x\")", Date: "2026-10-02", Scale: 10, Coef: 150}, Marks: map[int64]Mark{1: g(7.5), 2: g(5)}},
	}
	tab := BuildTable([]PupilName{{1, "MARTIN Léa"}, {2, "@PETIT Tom"}, {3, "NOUVEAU Zoé"}}, sheets)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, tab); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\uFEFF") || !strings.Contains(out, "\r\n") {
		t.Fatal("no BOM or no CRLF")
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\uFEFF")))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Élève", "Éval 2026-09-20 (20/09/2026) /20 coef. 1", "'=HYPERLINK(\"x\") (02/10/2026) /10 coef. 1,5", "Moyenne /20"},
		{"MARTIN Léa", "14", "7,5", "14,60"}, // (14 ×1 + 15 ×1,5) / 2,5
		{"'@PETIT Tom", "Abs", "5", "10,00"},
		{"NOUVEAU Zoé", "", "", ""},
		{"Moyenne de la classe", "14,00", "6,25", "12,30"},
		{"Note la plus basse", "14", "5", "10,00"},
		{"Note la plus haute", "14", "7,5", "14,60"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d rows: %q", len(recs), recs)
	}
	for i := range want {
		if strings.Join(recs[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, recs[i], want[i])
		}
	}
}

func TestChart(t *testing.T) {
	sheets := []Sheet{
		sheet(1, 1, "2026-09-20", 20, 100, map[int64]Mark{1: g(14)}),
		sheet(2, 1, "2026-10-20", 20, 100, map[int64]Mark{1: g(10)}),
		sheet(3, 2, "2026-10-01", 20, 100, map[int64]Mark{1: g(16)}),
		sheet(4, 3, "2026-10-01", 20, 100, map[int64]Mark{1: {Absent, 0}}),
	}
	r := BuildReport(1, sheets, map[int64]string{1: "Mathématiques", 2: "Anglais", 3: "EPS"})
	c := NewChart(r, "2026-09-01", "2026-11-30", "1er trimestre")
	if len(c.Series) != 2 || c.Series[0].Name != "Anglais" || c.Series[1].Name != "Mathématiques" {
		t.Fatalf("series = %+v", c.Series)
	}
	if c.Series[0].Marker == c.Series[1].Marker || c.Series[0].Dash == c.Series[1].Dash {
		t.Error("two series share a marker or a dash: colour alone tells them apart")
	}
	m := c.Series[1]
	if len(m.Points) != 2 || !strings.HasPrefix(m.Path, "M") || !strings.Contains(m.Path, "L") {
		t.Errorf("maths line = %+v", m)
	}
	// 14 then 12: the second point is lower on screen (greater y) and later.
	if !(m.Points[1].Y > m.Points[0].Y && m.Points[1].X > m.Points[0].X) {
		t.Errorf("points = %+v", m.Points)
	}
	if y := m.Points[0].Y; y < c.Top || y > c.Bottom {
		t.Errorf("point outside the plot: %v", y)
	}
	if !strings.Contains(m.Points[1].Label, "12,00") || !strings.Contains(c.Desc, "Mathématiques") || len(c.XTicks) != 3 || c.XTicks[0].Label != "sept." {
		t.Errorf("labels: %q / %q / %+v", m.Points[1].Label, c.Desc, c.XTicks)
	}
	if e := NewChart(BuildReport(1, nil, nil), "2026-09-01", "2026-11-30", "1er trimestre"); len(e.Series) != 0 || !strings.Contains(e.Desc, "Aucune note") {
		t.Errorf("empty chart = %+v", e)
	}
}
