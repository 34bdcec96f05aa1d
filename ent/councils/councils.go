package councils

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

// Roles of members.
const (
	RoleTeacher        = "teacher"
	RoleHead           = "head"
	RoleCPE            = "cpe"
	RoleStaff          = "staff"
	RolePupilDelegate  = "pupil_delegate"
	RoleParentDelegate = "parent_delegate"
)

// Roles lists the roles in display order.
var Roles = []string{RoleHead, RoleCPE, RoleStaff, RoleTeacher, RoleParentDelegate, RolePupilDelegate}

// RoleLabel is a role in French.
func RoleLabel(r string) string {
	return map[string]string{RoleTeacher: "Enseignant", RoleHead: "Direction", RoleCPE: "CPE", RoleStaff: "Personnel",
		RolePupilDelegate: "Délégué des élèves", RoleParentDelegate: "Délégué des parents"}[r]
}

// Limits.
const (
	MaxText    = 20_000 // characters of the agenda, of the notes
	MaxPlace   = 100
	MinMinutes = 15
	MaxMinutes = 240
	MaxMembers = 60
	// OpenBefore is how long before its start the council's room opens.
	OpenBefore = 15 * time.Minute
	// RoomPrefix starts the id of every council's room.
	RoomPrefix = "conseil-"
)

// Paris is the time zone of the pages.
var Paris = frtime.Paris

// Errors of the package.
var (
	// ErrNotFound: no such council, or not a member.
	ErrNotFound = errors.New("councils: not found")
	// ErrStale: the agenda or notes changed since the editor loaded them.
	ErrStale = errors.New("councils: changed meanwhile")
)

// Invalid is refused input, with a French message for the page.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "councils: " + e.Msg }

func invalid(format string, args ...any) error { return &Invalid{Msg: fmt.Sprintf(format, args...)} }

// Member is a person of the council.
type Member struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	Role   string `json:"role"`
}

// Council is a class council.
type Council struct {
	ID          int64     `json:"id"`
	StructureID int64     `json:"structure_id"`
	ClassID     int64     `json:"class_id"`
	ClassName   string    `json:"class_name"`
	TermID      int64     `json:"term_id"`
	TermName    string    `json:"term_name"`
	Start       time.Time `json:"starts_at"`
	End         time.Time `json:"ends_at"`
	Place       string    `json:"place,omitempty"`
	Agenda      string    `json:"agenda"`
	Notes       string    `json:"notes"`
	Version     int64     `json:"version"`
	CreatedBy   int64     `json:"created_by"`
	UpdatedBy   int64     `json:"updated_by"`
	UpdatedAt   time.Time `json:"updated_at"`
	Members     []Member  `json:"members"`
}

// Room is the id of the council's meeting room.
func (c Council) Room() string { return RoomPrefix + strconv.FormatInt(c.ID, 10) }

// CouncilOfRoom returns the council id of a room id made by Room.
func CouncilOfRoom(room string) (int64, bool) {
	s, ok := strings.CutPrefix(room, RoomPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0 && strconv.FormatInt(id, 10) == s
}

// OpenAt reports whether the room is open at t.
func (c Council) OpenAt(t time.Time) bool {
	return !t.Before(c.Start.Add(-OpenBefore)) && t.Before(c.End)
}

// IsMember reports whether user is a member.
func (c Council) IsMember(user int64) bool {
	return slices.ContainsFunc(c.Members, func(m Member) bool { return m.UserID == user })
}

// Target is the council for identity checks: its school and class.
func (c Council) Target() identity.Target {
	return identity.Target{Structure: c.StructureID, Classes: []int64{c.ClassID}}
}

// memberTarget is the target of a member's own rights (Self).
func (c Council) memberTarget(p *identity.Principal) identity.Target {
	t := c.Target()
	if c.IsMember(p.UserID) {
		t.Person = p.UserID
	}
	return t
}

// CanRead reports whether p sees the council: its members only.
func CanRead(p *identity.Principal, c Council) bool {
	return p != nil && c.IsMember(p.UserID) && p.Can(identity.Council, identity.Read, c.memberTarget(p))
}

// CanEditNotes reports whether p may edit the agenda and notes: members.
func CanEditNotes(p *identity.Principal, c Council) bool {
	return CanRead(p, c) && p.Can(identity.CouncilNotes, identity.Update, c.memberTarget(p))
}

// CanManage reports whether p may reschedule, change the members of or
// delete (a) the council: a member of the school's direction or staff.
func CanManage(p *identity.Principal, c Council, a identity.Action) bool {
	return CanRead(p, c) && p.Can(identity.Council, a, c.Target())
}

// Schedule is what a manager chooses: when, where, who.
type Schedule struct {
	ClassID int64    `json:"class_id"`
	TermID  int64    `json:"term_id"`
	Date    string   `json:"date"` // "2006-01-02", Europe/Paris
	Time    string   `json:"time"` // "17:30"
	Minutes int      `json:"minutes"`
	Place   string   `json:"place"`
	Members []Member `json:"members"` // user_id and role; names are filled by the store
}

// Times checks the schedule's own fields and returns its start and end.
func (s *Schedule) Times() (time.Time, time.Time, error) {
	s.Place = strings.TrimSpace(s.Place)
	day, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s.Date), Paris)
	if err != nil || day.Year() < 2000 || day.Year() > 2100 {
		return time.Time{}, time.Time{}, invalid("date illisible (attendu AAAA-MM-JJ)")
	}
	at, err := time.Parse("15:04", strings.TrimSpace(s.Time))
	switch {
	case s.ClassID <= 0:
		return time.Time{}, time.Time{}, invalid("choisissez la classe")
	case s.TermID <= 0:
		return time.Time{}, time.Time{}, invalid("choisissez le trimestre")
	case err != nil:
		return time.Time{}, time.Time{}, invalid("heure illisible (attendu HH:MM)")
	case s.Minutes < MinMinutes || s.Minutes > MaxMinutes:
		return time.Time{}, time.Time{}, invalid("un conseil dure de %d à %d minutes", MinMinutes, MaxMinutes)
	case !utf8.ValidString(s.Place) || utf8.RuneCountInString(s.Place) > MaxPlace || strings.ContainsFunc(s.Place, isControl):
		return time.Time{}, time.Time{}, invalid("la salle : %d caractères au plus, sans caractère de contrôle", MaxPlace)
	case len(s.Members) > MaxMembers:
		return time.Time{}, time.Time{}, invalid("%d membres au plus", MaxMembers)
	}
	var out []Member
	for _, m := range s.Members {
		if m.UserID <= 0 || !slices.Contains(Roles, m.Role) {
			return time.Time{}, time.Time{}, invalid("membre inconnu")
		}
		if !slices.ContainsFunc(out, func(o Member) bool { return o.UserID == m.UserID }) {
			out = append(out, Member{UserID: m.UserID, Role: m.Role})
		}
	}
	s.Members = out
	start := time.Date(day.Year(), day.Month(), day.Day(), at.Hour(), at.Minute(), 0, 0, Paris)
	return start, start.Add(time.Duration(s.Minutes) * time.Minute), nil
}

// CheckText checks an agenda or notes text, in French.
func CheckText(what, s string) (string, error) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	switch {
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && isControl(r) }):
		return "", invalid("%s contient des caractères non valides", what)
	case utf8.RuneCountInString(s) > MaxText:
		return "", invalid("%s : %d caractères au plus", what, MaxText)
	}
	return strings.TrimSpace(s), nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
