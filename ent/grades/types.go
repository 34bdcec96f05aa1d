package grades

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors.
var (
	ErrNotFound = errors.New("grades: not found")
	// ErrNotTaught: the teacher does not teach that subject to that class
	// this year. The web layer answers it as not found.
	ErrNotTaught = errors.New("grades: subject not taught to the class")
)

// Limits of an evaluation.
const (
	MinScale, MaxScale = 1, 100
	DefaultScale       = 20
	// Coefficients in hundredths: 0.5 to 10.
	MinCoef, MaxCoef = Coef(50), Coef(1000)
	DefaultCoef      = Coef(100)
	maxTitle         = 120
)

// Status is what a grade is: a value, or a reason for no value.
type Status string

// Statuses; the values are stored and appear in the API.
const (
	Graded   Status = "note"     // a value that counts
	Absent   Status = "absent"   // absent: does not count
	Exempt   Status = "dispense" // dispensé: does not count
	Ungraded Status = "non_note" // non noté: does not count
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == Graded || s == Absent || s == Exempt || s == Ungraded }

// Short is the status as a grade table writes it.
func (s Status) Short() string {
	switch s {
	case Absent:
		return "Abs"
	case Exempt:
		return "Disp"
	case Ungraded:
		return "NN"
	}
	return ""
}

// Label is the status in words.
func (s Status) Label() string {
	switch s {
	case Absent:
		return "Absent"
	case Exempt:
		return "Dispensé"
	case Ungraded:
		return "Non noté"
	}
	return "Noté"
}

// Mark is one pupil's grade in an evaluation.
type Mark struct {
	Status Status
	// Quarters is the value × 4 when Status is Graded (12,25 → 49).
	Quarters int
}

// Counts reports whether the mark enters averages.
func (m Mark) Counts() bool { return m.Status == Graded }

// Value is the mark's value as a number.
func (m Mark) Value() float64 { return float64(m.Quarters) / 4 }

// String is the mark as shown: "12,25", "8", "Abs".
func (m Mark) String() string {
	if m.Status != Graded {
		return m.Status.Short()
	}
	return FormatQuarters(m.Quarters)
}

// FormatQuarters writes a value in quarter points the French way, without
// useless decimals: 48 → "12", 50 → "12,5", 49 → "12,25".
func FormatQuarters(q int) string {
	s := strconv.Itoa(q / 4)
	switch q % 4 {
	case 1:
		s += ",25"
	case 2:
		s += ",5"
	case 3:
		s += ",75"
	}
	return s
}

// FieldError is a validation error on one field, with a French message.
type FieldError struct {
	Field string // "title", "date", "scale", "coefficient", or "pupil:<id>"
	Msg   string
}

func (e *FieldError) Error() string { return e.Msg }

// ParseMark reads a grade as typed in the entry grid: a number with a comma
// or a point, in quarter points, from 0 to scale ("12,5", "7.75"), or a
// status: "abs"/"absent", "disp"/"dispensé", "nn"/"non noté". Empty input
// is no grade (ok false, nil error).
func ParseMark(s string, scale int) (m Mark, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Mark{}, false, nil
	}
	switch strings.ToLower(foldAccents(s)) {
	case "abs", "absent", "absente":
		return Mark{Status: Absent}, true, nil
	case "disp", "dispense", "dispensee":
		return Mark{Status: Exempt}, true, nil
	case "nn", "non note", "non-note", "non_note":
		return Mark{Status: Ungraded}, true, nil
	}
	bad := fmt.Errorf("« %s » n'est pas une note valable : un nombre de 0 à %d, au quart de point près (ex. 12,5), ou Abs, Disp, NN", clip(s), scale)
	v, perr := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if perr != nil || strings.Trim(s, "0123456789.,-") != "" {
		return Mark{}, false, bad
	}
	q := v * 4
	if q != float64(int(q)) {
		return Mark{}, false, fmt.Errorf("« %s » : la note se donne au quart de point près (,25 ,5 ,75)", clip(s))
	}
	if v < 0 || v > float64(scale) {
		return Mark{}, false, fmt.Errorf("« %s » : la note doit être comprise entre 0 et %d", clip(s), scale)
	}
	return Mark{Status: Graded, Quarters: int(q)}, true, nil
}

// CheckMark validates a mark for an evaluation out of scale.
func CheckMark(m Mark, scale int) error {
	if !m.Status.Valid() {
		return fmt.Errorf("statut de note inconnu %q (note, absent, dispense, non_note)", m.Status)
	}
	if m.Status == Graded && (m.Quarters < 0 || m.Quarters > 4*scale) {
		return fmt.Errorf("la note doit être comprise entre 0 et %d", scale)
	}
	if m.Status != Graded && m.Quarters != 0 {
		return fmt.Errorf("une note %s n'a pas de valeur", strings.ToLower(m.Status.Label()))
	}
	return nil
}

func clip(s string) string {
	if utf8.RuneCountInString(s) > 12 {
		return string([]rune(s)[:12]) + "…"
	}
	return s
}

func foldAccents(s string) string {
	return strings.NewReplacer("é", "e", "É", "e", "è", "e").Replace(s)
}

// Coef is a coefficient in hundredths (1,5 → 150).
type Coef int

// String writes the coefficient the French way: "1", "1,5", "0,75".
func (c Coef) String() string {
	s := strconv.Itoa(int(c) / 100)
	if r := int(c) % 100; r != 0 {
		d := fmt.Sprintf("%02d", r)
		s += "," + strings.TrimRight(d, "0")
	}
	return s
}

// Float is the coefficient as a number.
func (c Coef) Float() float64 { return float64(c) / 100 }

// ParseCoef reads a coefficient "1", "1,5", "0.75" (two decimals at most).
func ParseCoef(s string) (Coef, error) {
	s = strings.TrimSpace(strings.Replace(s, ",", ".", 1))
	bad := errors.New("le coefficient doit être un nombre de 0,5 à 10 (deux décimales au plus)")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || !digits(whole) || !digits(frac) || len(whole) > 3 {
		return 0, bad
	}
	w, _ := strconv.Atoi(whole)
	f := 0
	if frac != "" {
		f, _ = strconv.Atoi((frac + "0")[:2])
	}
	c := Coef(w*100 + f)
	if c < MinCoef || c > MaxCoef {
		return 0, bad
	}
	return c, nil
}

// CoefFromFloat converts an API coefficient, refusing more than two decimals.
func CoefFromFloat(v float64) (Coef, error) {
	h := math.Round(v * 100)
	if math.IsNaN(v) || math.Abs(v*100-h) > 1e-6 || h < float64(MinCoef) || h > float64(MaxCoef) {
		return 0, errors.New("le coefficient doit être un nombre de 0,5 à 10 (deux décimales au plus)")
	}
	return Coef(h), nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Evaluation is a graded piece of work of a class in a subject.
type Evaluation struct {
	ID          int64
	StructureID int64
	ClassID     int64
	SubjectID   int64
	CreatedBy   int64
	Title       string
	Date        string // "YYYY-MM-DD"
	Scale       int    // out of (1–100)
	Coef        Coef
}

// Check validates what a teacher typed, with French messages; the date must
// lie between from and to ("YYYY-MM-DD", the class's school year).
func (e *Evaluation) Check(from, to string) error {
	e.Title = strings.TrimSpace(e.Title)
	switch {
	case e.Title == "":
		return &FieldError{"title", "Donnez un titre à l'évaluation."}
	case utf8.RuneCountInString(e.Title) > maxTitle:
		return &FieldError{"title", fmt.Sprintf("Le titre est trop long (%d caractères au plus).", maxTitle)}
	case !utf8.ValidString(e.Title) || strings.IndexFunc(e.Title, unicode.IsControl) >= 0:
		return &FieldError{"title", "Le titre contient des caractères invalides."}
	}
	if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
		return &FieldError{"date", "La date doit être une date valide (jj/mm/aaaa)."}
	}
	if e.Date < from || e.Date > to {
		return &FieldError{"date", fmt.Sprintf("La date doit être dans l'année scolaire (du %s au %s).", FrDate(from), FrDate(to))}
	}
	if e.Scale < MinScale || e.Scale > MaxScale {
		return &FieldError{"scale", "Le barème doit être un nombre entier de 1 à 100 (20 le plus souvent)."}
	}
	if e.Coef < MinCoef || e.Coef > MaxCoef {
		return &FieldError{"coefficient", "Le coefficient doit être un nombre de 0,5 à 10 (deux décimales au plus)."}
	}
	return nil
}

// FrDate writes "2026-11-28" as "28/11/2026".
func FrDate(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return t.Format("02/01/2006")
}

// DateFR is the evaluation's date as "28/11/2026".
func (e Evaluation) DateFR() string { return FrDate(e.Date) }

// MinString and MaxString write the lowest and highest counted grades, ""
// when none counted.
func (s Stats) MinString() string {
	if s.Counted == 0 {
		return ""
	}
	return FormatQuarters(s.Min)
}

// MaxString: see MinString.
func (s Stats) MaxString() string {
	if s.Counted == 0 {
		return ""
	}
	return FormatQuarters(s.Max)
}
