package notices

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"preau/identity"
	"preau/internal/frtime"
)

// Limits on a notice (every size is bounded).
const (
	MaxTitle     = 150    // characters
	MaxBody      = 10_000 // characters
	MaxAudiences = 60     // entries of the audience
	MaxFiles     = 5      // attached documents
	MaxDays      = 366    // length of the validity period
)

// DateLayout is how dates are written ("2026-11-30").
const DateLayout = "2006-01-02"

// Paris is the time zone of dates.
var Paris = frtime.Paris

// Today is t's date in Europe/Paris.
func Today(t time.Time) string { return t.In(Paris).Format(DateLayout) }

// Errors of the package.
var (
	// ErrNotFound: no such notice (or attachment), or out of reach.
	ErrNotFound = errors.New("notices: not found")
)

// Invalid is refused input, with a French message for the page.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "notices: " + e.Msg }

func invalid(format string, args ...any) error { return &Invalid{Msg: fmt.Sprintf(format, args...)} }

// Audience kinds.
const (
	School       = "school"        // everyone of the school
	Profile      = "profile"       // everyone holding Audience.Profile in the school
	Class        = "class"         // pupils of the class, their parents, its teachers
	ClassParents = "class_parents" // parents of the class's pupils
)

// Profiles a notice may be addressed to. Staff reaches the direction too.
var Profiles = []identity.Profile{identity.Pupil, identity.Parent, identity.Teacher, identity.Staff}

// Audience is one entry of whom a notice is for.
type Audience struct {
	Kind      string           `json:"kind"`
	Profile   identity.Profile `json:"profile,omitempty"`
	ClassID   int64            `json:"class_id,omitempty"`
	ClassName string           `json:"class_name,omitempty"`
}

// Label is the entry in French.
func (a Audience) Label() string {
	switch a.Kind {
	case School:
		return "Tout l'établissement"
	case Profile:
		return ProfileLabel(a.Profile)
	case Class:
		return a.ClassName
	case ClassParents:
		return "Parents de " + a.ClassName
	}
	return a.Kind
}

// ProfileLabel names an audience profile in the plural.
func ProfileLabel(p identity.Profile) string {
	switch p {
	case identity.Pupil:
		return "Élèves"
	case identity.Parent:
		return "Parents"
	case identity.Teacher:
		return "Enseignants"
	case identity.Staff:
		return "Personnels"
	}
	return string(p)
}

// Attachment is a document attached to a notice: the notice's own copy of
// a version of the author's file (Key), numbered from 1.
type Attachment struct {
	N           int    `json:"n"`
	FileID      int64  `json:"file_id"`
	Version     int64  `json:"version"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"-"`
	Key         string `json:"-"`
}

// Notice is one notice of a school.
type Notice struct {
	ID          int64        `json:"id"`
	StructureID int64        `json:"structure_id"`
	AuthorID    int64        `json:"author_id"`
	AuthorName  string       `json:"author_name"`
	Title       string       `json:"title"`
	Body        string       `json:"body"`
	From        string       `json:"valid_from"`
	Until       string       `json:"valid_until"`
	Draft       bool         `json:"draft"`
	RequiresAck bool         `json:"requires_ack"`
	Audience    []Audience   `json:"audience"`
	Files       []Attachment `json:"files"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// States of a notice on a day.
const (
	StateDraft     = "draft"
	StateScheduled = "scheduled"
	StateLive      = "live"
	StateExpired   = "expired"
)

// State is the notice's state on day today.
func (n Notice) State(today string) string {
	switch {
	case n.Draft:
		return StateDraft
	case today < n.From:
		return StateScheduled
	case today > n.Until:
		return StateExpired
	}
	return StateLive
}

// StateLabel is a state in French.
func StateLabel(s string) string {
	return map[string]string{StateDraft: "Brouillon", StateScheduled: "Programmée", StateLive: "En cours", StateExpired: "Expirée"}[s]
}

// Target is the notice for identity checks: its school, its author and
// the classes it is addressed to.
func (n Notice) Target() identity.Target {
	t := identity.Target{Structure: n.StructureID, Person: n.AuthorID}
	for _, a := range n.Audience {
		if a.ClassID != 0 && !slices.Contains(t.Classes, a.ClassID) {
			t.Classes = append(t.Classes, a.ClassID)
		}
	}
	return t
}

// Addressed reports whether the notice's audience includes p.
func (n Notice) Addressed(p *identity.Principal) bool {
	for _, a := range n.Audience {
		switch a.Kind {
		case School:
			if hasRoleIn(p, n.StructureID) {
				return true
			}
		case Profile:
			if p.InStructure(a.Profile, n.StructureID) || (a.Profile == identity.Staff && p.InStructure(identity.Head, n.StructureID)) {
				return true
			}
		case Class:
			if p.InClass(a.ClassID) || slices.Contains(p.ChildClasses, a.ClassID) {
				return true
			}
		case ClassParents:
			if slices.Contains(p.ChildClasses, a.ClassID) {
				return true
			}
		}
	}
	return false
}

// ReachesParents reports whether the audience includes parents (only
// then may the notice ask for an acknowledgement).
func (n Notice) ReachesParents() bool {
	for _, a := range n.Audience {
		if a.Kind == School || a.Kind == Class || a.Kind == ClassParents || (a.Kind == Profile && a.Profile == identity.Parent) {
			return true
		}
	}
	return false
}

// addressedAsParent: the audience includes p as a parent.
func (n Notice) addressedAsParent(p *identity.Principal) bool {
	for _, a := range n.Audience {
		switch {
		case a.Kind == School || (a.Kind == Profile && a.Profile == identity.Parent):
			if p.InStructure(identity.Parent, n.StructureID) {
				return true
			}
		case a.Kind == Class || a.Kind == ClassParents:
			if slices.Contains(p.ChildClasses, a.ClassID) {
				return true
			}
		}
	}
	return false
}

func hasRoleIn(p *identity.Principal, st int64) bool {
	for _, r := range p.Roles {
		if r.StructureID == st || (r.StructureID == 0 && r.Profile == identity.Admin) {
			return true
		}
	}
	return false
}

// CanEdit reports whether p may change (a = identity.Update) or delete
// (identity.Delete) the notice: its author, the school's direction.
func CanEdit(p *identity.Principal, n Notice, a identity.Action) bool {
	return p.Can(identity.Notice, a, n.Target())
}

// CanFollow reports whether p sees the acknowledgements of the notice:
// its author, the school's vie scolaire and direction.
func CanFollow(p *identity.Principal, n Notice) bool {
	return p.Can(identity.NoticeAck, identity.Read, n.Target())
}

// CanRead reports whether p may read the notice on day today: those who
// may change it or follow it always (drafts, scheduled, expired); anyone
// else of the school while it is live and addressed to them.
func CanRead(p *identity.Principal, n Notice, today string) bool {
	if p == nil {
		return false
	}
	if CanEdit(p, n, identity.Update) {
		return true
	}
	if !p.Can(identity.Notice, identity.Read, identity.Target{Structure: n.StructureID}) || n.State(today) != StateLive {
		return false
	}
	return CanFollow(p, n) || n.Addressed(p)
}

// MustAck reports whether p is asked to acknowledge the notice: it asks
// for it, is live and is addressed to p as the parent of a child.
func MustAck(p *identity.Principal, n Notice, today string) bool {
	if p == nil || !n.RequiresAck || n.State(today) != StateLive || !n.addressedAsParent(p) {
		return false
	}
	for _, c := range p.Children {
		if p.Can(identity.NoticeAck, identity.Create, identity.Target{Structure: n.StructureID, Person: c}) {
			return true
		}
	}
	return false
}

// MayAddress reports whether p may publish to every entry of the audience
// in the notice's school: a teacher only to the classes they teach (and
// their parents); the vie scolaire, the direction and the administrator
// to anyone of the school.
func MayAddress(p *identity.Principal, n Notice) bool {
	if len(n.Audience) == 0 {
		return p.Can(identity.Notice, identity.Create, identity.Target{Structure: n.StructureID})
	}
	for _, a := range n.Audience {
		t := identity.Target{Structure: n.StructureID}
		if a.ClassID != 0 {
			t.Classes = []int64{a.ClassID}
		}
		if !p.Can(identity.Notice, identity.Create, t) {
			return false
		}
	}
	return true
}

// Normalize trims and checks a notice's own fields (not the directory:
// the store checks the classes), in French.
func Normalize(n *Notice) error {
	n.Title = strings.TrimSpace(n.Title)
	n.Body = strings.TrimSpace(strings.ReplaceAll(n.Body, "\r\n", "\n"))
	n.From, n.Until = strings.TrimSpace(n.From), strings.TrimSpace(n.Until)
	switch {
	case n.Title == "":
		return invalid("donnez un titre")
	case !utf8.ValidString(n.Title) || strings.ContainsFunc(n.Title, isControl) || utf8.RuneCountInString(n.Title) > MaxTitle:
		return invalid("le titre : %d caractères au plus, sans caractère de contrôle", MaxTitle)
	case n.Body == "":
		return invalid("écrivez le texte de l'information")
	case !utf8.ValidString(n.Body) || strings.ContainsFunc(n.Body, func(r rune) bool { return r != '\n' && r != '\t' && isControl(r) }):
		return invalid("le texte contient des caractères non valides")
	case utf8.RuneCountInString(n.Body) > MaxBody:
		return invalid("le texte : %d caractères au plus", MaxBody)
	}
	from, err := time.ParseInLocation(DateLayout, n.From, Paris)
	if err != nil || from.Year() < 2000 || from.Year() > 2100 {
		return invalid("date de début illisible (attendu AAAA-MM-JJ)")
	}
	until, err := time.ParseInLocation(DateLayout, n.Until, Paris)
	if err != nil || until.Year() < 2000 || until.Year() > 2100 {
		return invalid("date de fin illisible (attendu AAAA-MM-JJ)")
	}
	switch {
	case until.Before(from):
		return invalid("la date de fin précède la date de début")
	case until.Sub(from) > MaxDays*24*time.Hour:
		return invalid("une information reste affichée %d jours au plus", MaxDays)
	case len(n.Audience) == 0:
		return invalid("choisissez à qui s'adresse l'information")
	case len(n.Audience) > MaxAudiences:
		return invalid("%d destinataires au plus (choisissez plutôt des profils ou tout l'établissement)", MaxAudiences)
	case len(n.Files) > MaxFiles:
		return invalid("%d documents au plus", MaxFiles)
	}
	var out []Audience
	for _, a := range n.Audience {
		switch a.Kind {
		case School:
			a.Profile, a.ClassID = "", 0
		case Profile:
			if !slices.Contains(Profiles, a.Profile) {
				return invalid("profil de destinataires inconnu : %q", string(a.Profile))
			}
			a.ClassID = 0
		case Class, ClassParents:
			if a.ClassID <= 0 {
				return invalid("choisissez une classe")
			}
			a.Profile = ""
		default:
			return invalid("destinataires inconnus : %q", a.Kind)
		}
		a.ClassName = ""
		if !slices.ContainsFunc(out, func(b Audience) bool { return b.Kind == a.Kind && b.Profile == a.Profile && b.ClassID == a.ClassID }) {
			out = append(out, a)
		}
	}
	n.Audience = out
	if n.RequiresAck && !n.ReachesParents() {
		return invalid("l'accusé de lecture est demandé aux parents : choisissez des destinataires qui les incluent")
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
