package timetable

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"preau/internal/frtime"
)

// Paris is the time zone of every slot and date.
var Paris = frtime.Paris

// DateLayout is how dates are written and stored.
const DateLayout = "2006-01-02"

// Bounds of a slot: school days run from 07:00 to 20:00, a slot lasts from
// 15 minutes to 4 hours, Monday (1) to Saturday (6).
const (
	DayStart    = 7 * 60
	DayEnd      = 20 * 60
	MinDuration = 15
	MaxDuration = 4 * 60
	MaxRoom     = 40
	MaxNote     = 200
)

// Slot is a lesson that comes back every week (or every other week).
type Slot struct {
	ID          int64  `json:"id"`
	StructureID int64  `json:"structure_id"`
	ClassID     int64  `json:"class_id"`
	ClassName   string `json:"class_name"`
	SubjectID   int64  `json:"subject_id"`
	Subject     string `json:"subject"`
	TeacherID   int64  `json:"teacher_id,omitempty"` // 0: none (yet)
	TeacherName string `json:"teacher_name,omitempty"`
	Room        string `json:"room"`
	Weekday     int    `json:"weekday"` // 1 Monday … 6 Saturday
	Start       int    `json:"start_min"`
	End         int    `json:"end_min"`
	Weeks       string `json:"weeks"` // "" every week, "A" or "B"
}

// Change statuses.
const (
	Cancelled = "cancelled"
	Moved     = "moved"
)

// Change alters one occurrence of a slot, named by the date it would fall on.
type Change struct {
	SlotID   int64  `json:"slot_id"`
	Date     string `json:"date"`
	Status   string `json:"status"`               // Cancelled or Moved
	NewDate  string `json:"new_date,omitempty"`   // Moved: the new date (may be the same)
	NewStart int    `json:"new_start,omitempty"`  // Moved
	NewEnd   int    `json:"new_end,omitempty"`    // Moved
	NewRoom  string `json:"new_room,omitempty"`   // Moved: "" keeps the room
	Note     string `json:"note,omitempty"`       // shown to families ("professeur absent")
	By       int64  `json:"changed_by,omitempty"` // who recorded it
}

// Occurrence is a slot on one date, as the week shows it.
type Occurrence struct {
	Slot
	Date  string    `json:"date"`
	Begin time.Time `json:"begin"`
	Until time.Time `json:"until"`
	// Status: "" as planned, Cancelled, Moved (this place is empty: the
	// lesson went to MovedTo), or "moved_here" (the lesson comes from
	// MovedFrom).
	Status    string `json:"status,omitempty"`
	MovedTo   string `json:"moved_to,omitempty"`   // "2026-12-01 10:00"
	MovedFrom string `json:"moved_from,omitempty"` // "2026-11-30 08:00"
	Note      string `json:"note,omitempty"`
}

// MovedHere is the status of a moved lesson at its new place.
const MovedHere = "moved_here"

// Monday returns the Monday (00:00, Paris) of the week holding t.
func Monday(t time.Time) time.Time {
	t = t.In(Paris)
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Paris)
	wd := int(d.Weekday())
	if wd == 0 {
		wd = 7
	}
	return d.AddDate(0, 0, 1-wd)
}

// WeekLetter is "A" for odd ISO weeks, "B" for even ones.
func WeekLetter(monday time.Time) string {
	_, w := monday.ISOWeek()
	if w%2 == 1 {
		return "A"
	}
	return "B"
}

// ParseDate reads a "2006-01-02" date at midnight in Paris.
func ParseDate(s string) (time.Time, error) {
	return time.ParseInLocation(DateLayout, s, Paris)
}

// at returns the instant of minute m (after midnight) of date d, in Paris:
// on the days clocks change, 02:30 is resolved as Go does.
func at(d time.Time, m int) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), m/60, m%60, 0, 0, Paris)
}

// Expand lays slots out on the week starting at monday and applies changes:
// those keyed by (slot, date of the week) and those moving another week's
// lesson into this one. Occurrences are sorted by start, then class.
func Expand(slots []Slot, changes []Change, monday time.Time) []Occurrence {
	monday = Monday(monday)
	letter := WeekLetter(monday)
	byID := make(map[int64]Slot, len(slots))
	for _, s := range slots {
		byID[s.ID] = s
	}
	type key struct {
		slot int64
		date string
	}
	chg := make(map[key]Change, len(changes))
	for _, c := range changes {
		chg[key{c.SlotID, c.Date}] = c
	}
	end := monday.AddDate(0, 0, 7)
	var out []Occurrence
	for _, s := range slots {
		if s.Weeks != "" && s.Weeks != letter {
			continue
		}
		day := monday.AddDate(0, 0, s.Weekday-1)
		o := Occurrence{Slot: s, Date: day.Format(DateLayout), Begin: at(day, s.Start), Until: at(day, s.End)}
		if c, ok := chg[key{s.ID, o.Date}]; ok {
			o.Status, o.Note = c.Status, c.Note
			if c.Status == Moved {
				o.MovedTo = c.NewDate + " " + HHMM(c.NewStart)
			}
		}
		out = append(out, o)
	}
	// Lessons moved to a date of this week, from this week or another.
	for _, c := range changes {
		s, ok := byID[c.SlotID]
		if c.Status != Moved || !ok {
			continue
		}
		nd, err := ParseDate(c.NewDate)
		if err != nil || nd.Before(monday) || !nd.Before(end) {
			continue
		}
		o := Occurrence{Slot: s, Date: c.NewDate, Begin: at(nd, c.NewStart), Until: at(nd, c.NewEnd),
			Status: MovedHere, MovedFrom: c.Date + " " + HHMM(s.Start), Note: c.Note}
		o.Weekday = int(nd.Weekday())
		o.Start, o.End = c.NewStart, c.NewEnd
		if c.NewRoom != "" {
			o.Room = c.NewRoom
		}
		out = append(out, o)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Begin.Equal(out[j].Begin) {
			return out[i].Begin.Before(out[j].Begin)
		}
		return out[i].ClassName < out[j].ClassName
	})
	return out
}

// HHMM writes minutes after midnight as "08:05".
func HHMM(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// FrTime writes minutes after midnight the French way: "8 h 05".
func FrTime(m int) string { return fmt.Sprintf("%d h %02d", m/60, m%60) }

// ParseHHMM reads "8:05", "08:05" or "8h05" as minutes after midnight.
func ParseHHMM(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "h", ":")
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	if m == "" {
		m = "0"
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) > 2 {
		return 0, false
	}
	return hh*60 + mm, true
}

// Days names the weekdays 1…6 in French.
var Days = [...]string{"", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}

// ParseDay reads a French weekday ("Lundi", "lun.", "1").
func ParseDay(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 6 {
		return n, true
	}
	if len(s) >= 3 {
		for i, d := range Days[1:] {
			if strings.HasPrefix(d, s) {
				return i + 1, true
			}
		}
	}
	return 0, false
}

// overlaps reports whether two slots on the same day share time in some
// week: "" meets every week, "A" and "B" never meet each other.
func overlaps(a, b Slot) bool {
	if a.Weekday != b.Weekday || a.Start >= b.End || b.Start >= a.End {
		return false
	}
	return a.Weeks == "" || b.Weeks == "" || a.Weeks == b.Weeks
}
