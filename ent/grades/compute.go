package grades

import (
	"cmp"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Avg is an exact average, a rational number of points; the zero value is
// "no average" (nothing counted).
type Avg struct{ r *big.Rat }

// Valid reports whether there is an average.
func (a Avg) Valid() bool { return a.r != nil }

// Hundredths is the average rounded half up to two decimals, × 100:
// 12,345 → 1235. 0 when there is none.
func (a Avg) Hundredths() int64 {
	if a.r == nil {
		return 0
	}
	// floor(x × 100 + 1/2), on exact numbers: averages are never negative.
	x := new(big.Rat).Mul(a.r, big.NewRat(100, 1))
	x.Add(x, big.NewRat(1, 2))
	return new(big.Int).Quo(x.Num(), x.Denom()).Int64()
}

// Float is the average rounded to two decimals.
func (a Avg) Float() float64 { return float64(a.Hundredths()) / 100 }

// Ptr is the rounded average for JSON: nil when there is none.
func (a Avg) Ptr() *float64 {
	if !a.Valid() {
		return nil
	}
	v := a.Float()
	return &v
}

// String writes the average with two decimals and a comma: "12,50"; an
// empty string when there is none.
func (a Avg) String() string {
	if !a.Valid() {
		return ""
	}
	return FormatHundredths(a.Hundredths())
}

// FormatHundredths writes 1250 as "12,50".
func FormatHundredths(h int64) string {
	neg := h < 0
	if neg {
		h = -h
	}
	s := strconv.FormatInt(h/100, 10) + "," + strconv.FormatInt(100+h%100, 10)[1:]
	if neg {
		s = "-" + s
	}
	return s
}

// cmp orders two valid averages.
func (a Avg) cmp(b Avg) int { return a.r.Cmp(b.r) }

// Weighted is one counted grade for a subject average: its value in quarter
// points out of scale, and its evaluation's coefficient.
type Weighted struct {
	Quarters int
	Scale    int
	Coef     Coef
}

// on20 is the grade brought to /20: quarters/4 × 20/scale = 5·quarters/scale.
func (w Weighted) on20() *big.Rat { return big.NewRat(int64(5*w.Quarters), int64(w.Scale)) }

// SubjectAverage is the weighted average out of 20 of grades in one subject:
// Σ coef × (value / scale × 20) / Σ coef. No grade: no average.
func SubjectAverage(ws []Weighted) Avg {
	if len(ws) == 0 {
		return Avg{}
	}
	sum, weight := new(big.Rat), new(big.Rat)
	for _, w := range ws {
		c := big.NewRat(int64(w.Coef), 100)
		sum.Add(sum, new(big.Rat).Mul(c, w.on20()))
		weight.Add(weight, c)
	}
	if weight.Sign() == 0 {
		return Avg{}
	}
	return Avg{sum.Quo(sum, weight)}
}

// Mean is the plain mean of the valid averages: the overall average of a
// pupil (each subject weighs the same) and the class average of a subject
// (each pupil weighs the same).
func Mean(as []Avg) Avg {
	sum, n := new(big.Rat), 0
	for _, a := range as {
		if a.Valid() {
			sum.Add(sum, a.r)
			n++
		}
	}
	if n == 0 {
		return Avg{}
	}
	return Avg{sum.Quo(sum, big.NewRat(int64(n), 1))}
}

// MinMax returns the lowest and highest valid averages.
func MinMax(as []Avg) (lo, hi Avg) {
	for _, a := range as {
		if !a.Valid() {
			continue
		}
		if !lo.Valid() || a.cmp(lo) < 0 {
			lo = a
		}
		if !hi.Valid() || a.cmp(hi) > 0 {
			hi = a
		}
	}
	return lo, hi
}

// Stats sums up the counted grades of one evaluation, on its own scale.
type Stats struct {
	Counted int // grades that count
	Mean    Avg // their mean, out of the evaluation's scale
	// Min and Max in quarter points; meaningless when Counted is 0.
	Min, Max int
}

// EvalStats computes the stats of an evaluation's marks. Absent, exempted
// and not graded pupils do not count.
func EvalStats(marks []Mark) Stats {
	var s Stats
	sum := 0
	for _, m := range marks {
		if !m.Counts() {
			continue
		}
		if s.Counted == 0 || m.Quarters < s.Min {
			s.Min = m.Quarters
		}
		if s.Counted == 0 || m.Quarters > s.Max {
			s.Max = m.Quarters
		}
		s.Counted++
		sum += m.Quarters
	}
	if s.Counted > 0 {
		s.Mean = Avg{big.NewRat(int64(sum), int64(4*s.Counted))}
	}
	return s
}

// Sheet is an evaluation with every pupil's mark.
type Sheet struct {
	Evaluation
	Marks map[int64]Mark // by pupil
}

func (s Sheet) marks() []Mark {
	out := make([]Mark, 0, len(s.Marks))
	for _, m := range s.Marks {
		out = append(out, m)
	}
	return out
}

// SubjectAverages computes each pupil's average out of 20 over sheets (of
// one subject), for the pupils with at least one counted grade.
func SubjectAverages(sheets []Sheet) map[int64]Avg {
	byPupil := map[int64][]Weighted{}
	for _, s := range sheets {
		for p, m := range s.Marks {
			if m.Counts() {
				byPupil[p] = append(byPupil[p], Weighted{m.Quarters, s.Scale, s.Coef})
			}
		}
	}
	out := make(map[int64]Avg, len(byPupil))
	for p, ws := range byPupil {
		out[p] = SubjectAverage(ws)
	}
	return out
}

// Line is an evaluation as a pupil's report shows it.
type Line struct {
	Evaluation
	Mark   Mark
	Marked bool // the pupil has a mark (possibly absent…)
	Stats  Stats
}

// Point is the running average of a subject after one evaluation.
type Point struct {
	Date    string
	Title   string
	Average Avg
}

// DateFR is the point's date as "28/11/2026".
func (p Point) DateFR() string { return FrDate(p.Date) }

// SubjectReport is one subject of a pupil's report for a term.
type SubjectReport struct {
	SubjectID int64
	Subject   string
	Average   Avg // the pupil's, out of 20
	// Class average, lowest and highest of the pupils' averages in the
	// subject (each pupil with a counted grade weighs the same).
	ClassAverage, Min, Max Avg
	Lines                  []Line // by date
	// Running: the pupil's average after each counted grade, by date.
	Running []Point
}

// Report is a pupil's grades for a term.
type Report struct {
	PupilID  int64
	Subjects []SubjectReport // by subject name
	// Overall is the mean of the pupil's subject averages (each subject the
	// same weight); ClassOverall the same for the class's pupils, averaged.
	Overall, ClassOverall Avg
}

// BuildReport builds pupil's report from the sheets of a term (every pupil's
// marks, so that class figures can be computed). subjects names them.
func BuildReport(pupil int64, sheets []Sheet, subjects map[int64]string) Report {
	bySubject := map[int64][]Sheet{}
	for _, s := range sheets {
		bySubject[s.SubjectID] = append(bySubject[s.SubjectID], s)
	}
	r := Report{PupilID: pupil}
	overall := map[int64][]Avg{} // each pupil's subject averages
	for subj, ss := range bySubject {
		slices.SortFunc(ss, func(a, b Sheet) int { return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.ID, b.ID)) })
		avgs := SubjectAverages(ss)
		all := make([]Avg, 0, len(avgs))
		for p, a := range avgs {
			all = append(all, a)
			overall[p] = append(overall[p], a)
		}
		sr := SubjectReport{SubjectID: subj, Subject: subjects[subj], Average: avgs[pupil], ClassAverage: Mean(all)}
		sr.Min, sr.Max = MinMax(all)
		var mine []Weighted
		for _, s := range ss {
			m, ok := s.Marks[pupil]
			sr.Lines = append(sr.Lines, Line{Evaluation: s.Evaluation, Mark: m, Marked: ok, Stats: EvalStats(s.marks())})
			if ok && m.Counts() {
				mine = append(mine, Weighted{m.Quarters, s.Scale, s.Coef})
				sr.Running = append(sr.Running, Point{Date: s.Date, Title: s.Title, Average: SubjectAverage(mine)})
			}
		}
		r.Subjects = append(r.Subjects, sr)
	}
	slices.SortFunc(r.Subjects, func(a, b SubjectReport) int {
		return cmp.Or(strings.Compare(a.Subject, b.Subject), cmp.Compare(a.SubjectID, b.SubjectID))
	})
	mineAll := make([]Avg, 0, len(r.Subjects))
	for _, s := range r.Subjects {
		mineAll = append(mineAll, s.Average)
	}
	r.Overall = Mean(mineAll)
	var pupils []Avg
	for _, as := range overall {
		pupils = append(pupils, Mean(as))
	}
	r.ClassOverall = Mean(pupils)
	return r
}

// Table is the grade table of a class in a subject: one row per pupil, one
// column per evaluation.
type Table struct {
	Sheets []Sheet // by date
	Rows   []Row
	// Per evaluation, in the order of Sheets.
	Stats []Stats
	// The subject: class average, lowest and highest pupil average.
	ClassAverage, Min, Max Avg
}

// Row is one pupil of a Table.
type Row struct {
	PupilID int64
	Name    string // "NOM Prénom"
	Marks   []*Mark
	Average Avg
}

// PupilName is a pupil as a table lists them.
type PupilName struct {
	ID   int64
	Name string
}

// BuildTable builds the grade table of pupils (in their order) over sheets.
// A pupil with marks who is no longer in the list (left the class) is
// counted in the figures but has no row.
func BuildTable(pupils []PupilName, sheets []Sheet) Table {
	slices.SortFunc(sheets, func(a, b Sheet) int { return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.ID, b.ID)) })
	t := Table{Sheets: sheets}
	avgs := SubjectAverages(sheets)
	for _, p := range pupils {
		row := Row{PupilID: p.ID, Name: p.Name, Average: avgs[p.ID]}
		for _, s := range sheets {
			if m, ok := s.Marks[p.ID]; ok {
				row.Marks = append(row.Marks, &m)
			} else {
				row.Marks = append(row.Marks, nil)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	for _, s := range sheets {
		t.Stats = append(t.Stats, EvalStats(s.marks()))
	}
	all := make([]Avg, 0, len(avgs))
	for _, a := range avgs {
		all = append(all, a)
	}
	t.ClassAverage = Mean(all)
	t.Min, t.Max = MinMax(all)
	return t
}
