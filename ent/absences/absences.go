package absences

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"preau/ent/timetable"
)

// Kinds of record.
const (
	Absent = "absence"
	Late   = "late"
	// Present is a roll call's mark that records nothing.
	Present = "present"
)

// Statuses of a record's justification.
const (
	Unjustified = "unjustified" // nothing given yet
	Pending     = "pending"     // the family justified; the vie scolaire has not decided
	Justified   = "justified"   // accepted (or marked so by the vie scolaire)
	Refused     = "refused"     // the justification was refused: counts as unjustified
)

// Limits of the free texts.
const (
	MaxReasonText = 300
	MaxComment    = 500
	MaxLate       = 240
)

// Reason is one of the fixed reasons a family gives.
type Reason struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Reasons is the fixed list of reasons, in the order the form shows them.
var Reasons = []Reason{
	{"maladie", "Maladie"},
	{"rdv_medical", "Rendez-vous médical"},
	{"familial", "Raison familiale"},
	{"transport", "Problème de transport"},
	{"convocation", "Convocation officielle (examen, administration)"},
	{"religieux", "Fête religieuse"},
	{"autre", "Autre motif (à préciser)"},
}

// ReasonLabel returns the French label of a reason code ("" when unknown).
func ReasonLabel(code string) string {
	for _, r := range Reasons {
		if r.Code == code {
			return r.Label
		}
	}
	return ""
}

// StatusLabel writes a status in French.
func StatusLabel(s string) string {
	switch s {
	case Pending:
		return "Justification à examiner"
	case Justified:
		return "Justifiée"
	case Refused:
		return "Justification refusée"
	}
	return "Non justifiée"
}

// Document is the copy of a file given with a justification.
type Document struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256,omitempty"`
	Key         string `json:"-"` // the record's own copy in the content store
}

// Record is one pupil's absence or lateness at one lesson.
type Record struct {
	ID          int64     `json:"id"`
	StructureID int64     `json:"structure_id"`
	ClassID     int64     `json:"class_id"`
	ClassName   string    `json:"class_name"`
	PupilID     int64     `json:"pupil_id"`
	PupilName   string    `json:"pupil_name"`
	FirstName   string    `json:"-"`
	Kind        string    `json:"kind"` // Absent or Late
	Date        string    `json:"date"`
	Start       int       `json:"start_min"`
	End         int       `json:"end_min"`
	LateMin     int       `json:"late_min,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason,omitempty"`
	ReasonText  string    `json:"reason_text,omitempty"`
	Comment     string    `json:"comment,omitempty"`
	RecordedBy  int64     `json:"recorded_by"`
	RecordedAt  time.Time `json:"recorded_at"`
	JustifiedAt time.Time `json:"justified_at,omitzero"`
	DecidedBy   int64     `json:"decided_by,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	Document    *Document `json:"document,omitempty"`
}

// IsJustified: the record counts as justified.
func (r Record) IsJustified() bool { return r.Status == Justified }

// Invalid is a refused record or change, with a French message.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "absences: " + e.Msg }

func invalid(format string, args ...any) error { return &Invalid{Msg: fmt.Sprintf(format, args...)} }

func isControl(r rune) bool { return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f }

// cleanText trims s and checks its length and characters.
func cleanText(s string, max int, what string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || strings.ContainsFunc(s, isControl) || utf8.RuneCountInString(s) > max {
		return "", invalid("%s : %d caractères au plus, sans caractère de contrôle", what, max)
	}
	return s, nil
}

// Check validates a record's own fields and trims its texts.
func Check(r *Record) error {
	d, err := timetable.ParseDate(r.Date)
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		return invalid("date illisible (attendu AAAA-MM-JJ)")
	}
	switch {
	case r.Kind != Absent && r.Kind != Late:
		return invalid("choisissez absence ou retard")
	case r.Start < timetable.DayStart || r.End > timetable.DayEnd:
		return invalid("les cours ont lieu entre %s et %s", timetable.FrTime(timetable.DayStart), timetable.FrTime(timetable.DayEnd))
	case r.End <= r.Start:
		return invalid("l'heure de fin doit suivre l'heure de début")
	}
	if r.Kind == Late {
		if r.LateMin < 1 || r.LateMin > MaxLate || r.LateMin > r.End-r.Start {
			return invalid("un retard se compte en minutes, de 1 à la durée du cours")
		}
	} else {
		r.LateMin = 0
	}
	if r.Subject, err = cleanText(r.Subject, 80, "la matière"); err != nil {
		return err
	}
	if r.Comment, err = cleanText(r.Comment, MaxComment, "le commentaire"); err != nil {
		return err
	}
	if r.Status == "" {
		r.Status = Unjustified
	}
	switch r.Status {
	case Unjustified, Pending, Justified, Refused:
	default:
		return invalid("statut inconnu")
	}
	return nil
}

// CheckReason validates a family's justification.
func CheckReason(code, text string) (string, error) {
	if ReasonLabel(code) == "" {
		return "", invalid("choisissez un motif dans la liste")
	}
	text, err := cleanText(text, MaxReasonText, "la précision")
	if err != nil {
		return "", err
	}
	if code == "autre" && text == "" {
		return "", invalid("précisez le motif")
	}
	return text, nil
}

// FrDate writes "2026-12-01" as "1er décembre" (and the year when it is
// not year).
func FrDate(date string, year int) string {
	d, err := timetable.ParseDate(date)
	if err != nil {
		return date
	}
	day := fmt.Sprint(d.Day())
	if d.Day() == 1 {
		day = "1er"
	}
	out := day + " " + months[d.Month()-1]
	if year != 0 && d.Year() != year {
		out += fmt.Sprintf(" %d", d.Year())
	}
	return out
}

var months = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
	"septembre", "octobre", "novembre", "décembre"}

// FrHour writes minutes after midnight as "10 h" or "10 h 30".
func FrHour(m int) string {
	if m%60 == 0 {
		return fmt.Sprintf("%d h", m/60)
	}
	return fmt.Sprintf("%d h %02d", m/60, m%60)
}

// Times writes a record's lesson as "10 h – 11 h".
func (r Record) Times() string { return FrHour(r.Start) + " – " + FrHour(r.End) }

// Notice is the short, factual message the family receives:
// "Absence de Léa le 1er décembre, 10 h – 11 h (Mathématiques)" or
// "Retard de Léa le 1er décembre : 10 min, cours de 10 h – 11 h (Mathématiques)".
func Notice(r Record, firstName string) string {
	var s string
	if r.Kind == Late {
		s = fmt.Sprintf("Retard de %s le %s : %d min, cours de %s", firstName, FrDate(r.Date, 0), r.LateMin, r.Times())
	} else {
		s = fmt.Sprintf("Absence de %s le %s, %s", firstName, FrDate(r.Date, 0), r.Times())
	}
	if r.Subject != "" {
		s += " (" + r.Subject + ")"
	}
	return s
}

// Noon splits a day into half-days: a lesson starting before 12:30 is in
// the morning; one ending after 13:30 is (also) in the afternoon.
const (
	MorningEnds    = 12*60 + 30
	AfternoonStart = 13*60 + 30
)

// HalfDays lists the half-days ("2026-12-01 matin", "… après-midi") an
// absence covers.
func HalfDays(r Record) []string {
	var out []string
	if r.Start < MorningEnds {
		out = append(out, r.Date+" matin")
	}
	if r.End > AfternoonStart || r.Start >= MorningEnds {
		out = append(out, r.Date+" après-midi")
	}
	return out
}

// Count is a pupil's (or a class's) totals over a period.
type Count struct {
	PupilID   int64  `json:"pupil_id,omitempty"`
	PupilName string `json:"pupil_name,omitempty"`
	ClassName string `json:"class_name,omitempty"`
	// Absences are records of absence; HalfDays the half-days they cover,
	// of which HalfDaysUnjustified hold at least one absence not justified.
	Absences            int `json:"absences"`
	AbsencesJustified   int `json:"absences_justified"`
	AbsencesUnjustified int `json:"absences_unjustified"`
	HalfDays            int `json:"half_days"`
	HalfDaysUnjustified int `json:"half_days_unjustified"`
	Lates               int `json:"lates"`
	LatesJustified      int `json:"lates_justified"`
	LatesUnjustified    int `json:"lates_unjustified"`
	LateMinutes         int `json:"late_minutes"`
	// Pending are records whose justification awaits a decision.
	Pending int `json:"pending"`
}

// Tally counts records per pupil, in the order pupils first appear, and
// the total of them all.
func Tally(rs []Record) (per []Count, total Count) {
	idx := map[int64]int{}
	type halves struct{ all, unjust map[string]bool }
	hd := map[int64]*halves{}
	allHalves := halves{map[string]bool{}, map[string]bool{}}
	for _, r := range rs {
		i, ok := idx[r.PupilID]
		if !ok {
			i = len(per)
			idx[r.PupilID] = i
			per = append(per, Count{PupilID: r.PupilID, PupilName: r.PupilName, ClassName: r.ClassName})
			hd[r.PupilID] = &halves{map[string]bool{}, map[string]bool{}}
		}
		c := &per[i]
		if r.Status == Pending {
			c.Pending++
		}
		if r.Kind == Late {
			c.Lates++
			c.LateMinutes += r.LateMin
			if r.IsJustified() {
				c.LatesJustified++
			} else {
				c.LatesUnjustified++
			}
			continue
		}
		c.Absences++
		if r.IsJustified() {
			c.AbsencesJustified++
		} else {
			c.AbsencesUnjustified++
		}
		for _, h := range HalfDays(r) {
			key := fmt.Sprint(r.PupilID, " ", h)
			hd[r.PupilID].all[h] = true
			allHalves.all[key] = true
			if !r.IsJustified() {
				hd[r.PupilID].unjust[h] = true
				allHalves.unjust[key] = true
			}
		}
	}
	for i := range per {
		h := hd[per[i].PupilID]
		per[i].HalfDays, per[i].HalfDaysUnjustified = len(h.all), len(h.unjust)
		total.Absences += per[i].Absences
		total.AbsencesJustified += per[i].AbsencesJustified
		total.AbsencesUnjustified += per[i].AbsencesUnjustified
		total.Lates += per[i].Lates
		total.LatesJustified += per[i].LatesJustified
		total.LatesUnjustified += per[i].LatesUnjustified
		total.LateMinutes += per[i].LateMinutes
		total.Pending += per[i].Pending
	}
	total.HalfDays, total.HalfDaysUnjustified = len(allHalves.all), len(allHalves.unjust)
	return per, total
}
