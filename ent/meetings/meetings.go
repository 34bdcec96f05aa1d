package meetings

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"preau/identity"
	"preau/internal/frtime"
)

// Modes of a slot.
const (
	InPerson = "in_person" // at the school, in Slot.Place
	Video    = "video"     // in the slot's meeting room
)

// Limits.
const (
	MinMinutes = 5   // shortest slot
	MaxMinutes = 120 // longest slot
	MaxSlots   = 200 // slots published at once (all teachers together)
	MaxPlace   = 100 // characters of a room's name
	// OpenBefore is how long before its start a video slot's room opens.
	OpenBefore = 10 * time.Minute
)

// Paris is the time zone of the pages and of the published days.
var Paris = frtime.Paris

// Errors of the package.
var (
	// ErrNotFound: no such slot or booking, or out of reach.
	ErrNotFound = errors.New("meetings: not found")
	// ErrTaken: the slot was booked by someone else first.
	ErrTaken = errors.New("meetings: slot already booked")
)

// Invalid is refused input, with a French message for the page.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "meetings: " + e.Msg }

func invalid(format string, args ...any) error { return &Invalid{Msg: fmt.Sprintf(format, args...)} }

// Conflict refuses a booking that overlaps another of the same parent's;
// Other is that booking's slot.
type Conflict struct{ Other Slot }

func (e *Conflict) Error() string { return "meetings: " + e.Message() }

// Message says it in French, naming the other booking.
func (e *Conflict) Message() string {
	o := e.Other
	who := o.TeacherName
	if who == "" {
		who = "un autre enseignant"
	}
	for_ := ""
	if o.Booking != nil && o.Booking.ChildName != "" {
		for_ = " (pour " + o.Booking.ChildName + ")"
	}
	return fmt.Sprintf("ce créneau chevauche votre rendez-vous avec %s le %s de %s à %s%s",
		who, FrDay(o.Start), FrClock(o.Start), FrClock(o.End), for_)
}

// Booking is a slot's reservation by a parent for a child.
type Booking struct {
	ParentID   int64     `json:"parent_id"`
	ParentName string    `json:"parent_name"`
	ChildID    int64     `json:"child_id"`
	ChildName  string    `json:"child_name"`
	BookedAt   time.Time `json:"booked_at"`
}

// Slot is a time slot a teacher offers to families.
type Slot struct {
	ID          int64     `json:"id"`
	StructureID int64     `json:"structure_id"`
	TeacherID   int64     `json:"teacher_id"`
	TeacherName string    `json:"teacher_name"`
	Start       time.Time `json:"starts_at"`
	End         time.Time `json:"ends_at"`
	Mode        string    `json:"mode"`
	Place       string    `json:"place,omitempty"`
	CreatedBy   int64     `json:"created_by"`
	// Booking is the reservation; nil when the slot is free.
	Booking *Booking `json:"booking,omitempty"`
}

// Room is the id of a video slot's meeting room ("" in person).
func (s Slot) Room() string {
	if s.Mode != Video || s.ID == 0 {
		return ""
	}
	return RoomPrefix + strconv.FormatInt(s.ID, 10)
}

// RoomPrefix starts the id of every meeting slot's room.
const RoomPrefix = "rdv-"

// SlotOfRoom returns the slot id of a room id made by Room.
func SlotOfRoom(room string) (int64, bool) {
	s, ok := strings.CutPrefix(room, RoomPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0 && strconv.FormatInt(id, 10) == s
}

// Opens is when the video room opens.
func (s Slot) Opens() time.Time { return s.Start.Add(-OpenBefore) }

// OpenAt reports whether the slot's video room is open at t: a booked
// video slot, from OpenBefore before its start to its end.
func (s Slot) OpenAt(t time.Time) bool {
	return s.Mode == Video && s.Booking != nil && !t.Before(s.Opens()) && t.Before(s.End)
}

// ModeLabel is the slot's mode in French.
func (s Slot) ModeLabel() string {
	if s.Mode == Video {
		return "En visio"
	}
	if s.Place != "" {
		return "Au collège, " + s.Place
	}
	return "Au collège"
}

// Target is the slot for identity checks about its teacher: the school
// and the teacher (Person).
func (s Slot) Target() identity.Target {
	return identity.Target{Structure: s.StructureID, Person: s.TeacherID}
}

// CanManage reports whether p may publish, cancel or remove slots of
// teacher in structure st: the teacher themselves, the school's direction.
func CanManage(p *identity.Principal, st, teacher int64, a identity.Action) bool {
	return p.Can(identity.MeetingSlot, a, identity.Target{Structure: st, Person: teacher})
}

// CanSee reports whether p sees the slot: its teacher and the school's
// direction (as managers), or a parent of a child taught by the teacher —
// teacherClasses are the classes the teacher teaches this year.
func CanSee(p *identity.Principal, s Slot, teacherClasses []int64) bool {
	if p.Can(identity.MeetingSlot, identity.Read, s.Target()) {
		return true
	}
	return len(teacherClasses) > 0 &&
		p.Can(identity.MeetingSlot, identity.Read, identity.Target{Structure: s.StructureID, Classes: teacherClasses})
}

// Series is a request to publish slots: for each teacher, back-to-back
// slots of Minutes from From to Until on Date.
type Series struct {
	TeacherIDs []int64 `json:"teacher_ids"`
	Date       string  `json:"date"`  // "2006-01-02", Europe/Paris
	From       string  `json:"from"`  // "17:00"
	Until      string  `json:"until"` // "19:00"
	Minutes    int     `json:"minutes"`
	Mode       string  `json:"mode"`
	Place      string  `json:"place"`
}

// Slots checks the series and returns its slots (without ids), in French.
func (r Series) Slots(structure, by int64) ([]Slot, error) {
	r.Place = strings.TrimSpace(r.Place)
	day, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(r.Date), Paris)
	if err != nil || day.Year() < 2000 || day.Year() > 2100 {
		return nil, invalid("date illisible (attendu AAAA-MM-JJ)")
	}
	from, ok1 := clock(r.From)
	until, ok2 := clock(r.Until)
	switch {
	case len(r.TeacherIDs) == 0:
		return nil, invalid("choisissez au moins un enseignant")
	case !ok1:
		return nil, invalid("heure de début illisible (attendu HH:MM)")
	case !ok2:
		return nil, invalid("heure de fin illisible (attendu HH:MM)")
	case r.Minutes < MinMinutes || r.Minutes > MaxMinutes:
		return nil, invalid("un créneau dure de %d à %d minutes", MinMinutes, MaxMinutes)
	case until-from < r.Minutes:
		return nil, invalid("la fin doit laisser le temps d'au moins un créneau de %d minutes après le début", r.Minutes)
	case r.Mode != InPerson && r.Mode != Video:
		return nil, invalid("choisissez « au collège » ou « en visio »")
	case r.Mode == InPerson && r.Place == "":
		return nil, invalid("indiquez la salle du rendez-vous au collège")
	case !utf8.ValidString(r.Place) || utf8.RuneCountInString(r.Place) > MaxPlace || strings.ContainsFunc(r.Place, isControl):
		return nil, invalid("la salle : %d caractères au plus, sans caractère de contrôle", MaxPlace)
	}
	if r.Mode == Video {
		r.Place = ""
	}
	per := (until - from) / r.Minutes
	if per*len(r.TeacherIDs) > MaxSlots {
		return nil, invalid("%d créneaux au plus d'un coup", MaxSlots)
	}
	var out []Slot
	seen := map[int64]bool{}
	for _, t := range r.TeacherIDs {
		if t <= 0 || seen[t] {
			continue
		}
		seen[t] = true
		for i := range per {
			start := at(day, from+i*r.Minutes)
			out = append(out, Slot{StructureID: structure, TeacherID: t, Start: start,
				End: at(day, from+(i+1)*r.Minutes), Mode: r.Mode, Place: r.Place, CreatedBy: by})
		}
	}
	return out, nil
}

// at is minute m of day in Paris (a day of a clock change too).
func at(day time.Time, m int) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, Paris)
}

// clock reads "HH:MM" as minutes after midnight.
func clock(s string) (int, bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

var (
	frWeekdays = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frMonths   = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
		"septembre", "octobre", "novembre", "décembre"}
)

// FrDay is t's day in Paris, in French: "mardi 1 décembre".
func FrDay(t time.Time) string {
	t = t.In(Paris)
	d := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		d = "1er"
	}
	return frWeekdays[t.Weekday()] + " " + d + " " + frMonths[t.Month()-1]
}

// FrClock is t's time in Paris: "17 h 15".
func FrClock(t time.Time) string {
	t = t.In(Paris)
	return fmt.Sprintf("%d h %02d", t.Hour(), t.Minute())
}

// overlaps reports whether [a1, a2) and [b1, b2) overlap.
func overlaps(a1, a2, b1, b2 time.Time) bool { return a1.Before(b2) && b1.Before(a2) }

// sortSlots orders slots by start, then teacher, then id.
func sortSlots(ss []Slot) {
	slices.SortFunc(ss, func(a, b Slot) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if a.TeacherName != b.TeacherName {
			return strings.Compare(a.TeacherName, b.TeacherName)
		}
		return int(a.ID - b.ID)
	})
}
