package internships

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"preau/ent/directory/csvimport"
	"preau/identity"
	"preau/internal/frtime"
)

// Limits (characters are runes).
const (
	MaxCompany     = 120
	MaxAddress     = 200
	MaxCommune     = 80
	MaxDescription = 4000
	MaxContact     = 120
	MaxMessage     = 3000
	MaxNote        = 500
	MaxWeeks       = 8  // weeks an offer may list
	MaxPlaces      = 20 // places of one offer
	MaxOpen        = 15 // applications a pupil may have waiting at once
)

// Level is the class level whose pupils apply.
const Level = "3e"

// Errors of the package.
var (
	// ErrNotFound: no such offer, application or company (or out of reach).
	ErrNotFound = errors.New("internships: not found")
	// ErrFull: every place of the offer is taken.
	ErrFull = &Invalid{Msg: "toutes les places de cette offre sont déjà prises"}
)

// Invalid is refused input or a refused move, with a French message.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "internships: " + e.Msg }

func invalid(format string, args ...any) error { return &Invalid{Msg: fmt.Sprintf(format, args...)} }

// Paris is the time zone of weeks and dates.
var Paris = frtime.Paris

// Sector is one entry of the fixed list of sectors.
type Sector struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Sectors is the fixed list, in display order.
var Sectors = []Sector{
	{"agriculture", "Agriculture, environnement, animaux"},
	{"alimentation", "Alimentation, boulangerie, restauration"},
	{"artisanat", "Artisanat et métiers d'art"},
	{"automobile", "Automobile, mécanique, transports"},
	{"banque", "Banque, assurance, immobilier"},
	{"batiment", "Bâtiment et travaux publics"},
	{"commerce", "Commerce et vente"},
	{"communication", "Communication, médias, culture"},
	{"droit", "Droit, administration, service public"},
	{"education", "Éducation, animation, sport"},
	{"industrie", "Industrie, énergie, logistique"},
	{"informatique", "Informatique et numérique"},
	{"sante", "Santé, social, services à la personne"},
	{"securite", "Sécurité, défense, secours"},
	{"tourisme", "Hôtellerie, tourisme, loisirs"},
	{"beaute", "Coiffure, esthétique, mode"},
}

// SectorLabel is the French label of a sector code ("" if unknown).
func SectorLabel(code string) string {
	if i := slices.IndexFunc(Sectors, func(s Sector) bool { return s.Code == code }); i >= 0 {
		return Sectors[i].Label
	}
	return ""
}

// Application statuses.
const (
	Sent      = "sent"
	Read      = "read"
	Accepted  = "accepted"
	Refused   = "refused"
	Withdrawn = "withdrawn"
)

// Statuses lists them in their order.
var Statuses = []string{Sent, Read, Accepted, Refused, Withdrawn}

// StatusLabel is a status in French.
func StatusLabel(s string) string {
	return map[string]string{Sent: "Envoyée", Read: "Lue", Accepted: "Acceptée", Refused: "Refusée", Withdrawn: "Retirée"}[s]
}

// next says where each status may go. A reply (accepted, refused) may be
// recorded straight from sent: a reply means the application was read. A
// pupil may withdraw even an accepted application (the place is freed).
var next = map[string][]string{
	Sent:     {Read, Accepted, Refused, Withdrawn},
	Read:     {Accepted, Refused, Withdrawn},
	Accepted: {Withdrawn},
}

// CanGo reports whether an application may move from one status to another.
func CanGo(from, to string) bool { return slices.Contains(next[from], to) }

// Offer is one internship offer of a school.
type Offer struct {
	ID           int64     `json:"id"`
	StructureID  int64     `json:"structure_id"`
	Company      string    `json:"company"`
	Sector       string    `json:"sector"`
	Address      string    `json:"address"`
	Commune      string    `json:"commune"`
	Weeks        []string  `json:"weeks"`
	Places       int       `json:"places"`
	Taken        int       `json:"taken"`
	Description  string    `json:"description"`
	ContactName  string    `json:"contact_name"`
	ContactEmail string    `json:"contact_email"`
	ContactPhone string    `json:"contact_phone"`
	AuthorID     int64     `json:"author_id"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Free is the number of places still free.
func (o Offer) Free() int { return max(o.Places-o.Taken, 0) }

// SectorLabel is the offer's sector in French.
func (o Offer) SectorLabel() string { return SectorLabel(o.Sector) }

// Target is the offer for identity checks: its school and its author.
func (o Offer) Target() identity.Target {
	return identity.Target{Structure: o.StructureID, Person: o.AuthorID}
}

// CV is the application's own copy of a file of the pupil's Documents.
type CV struct {
	FileID      int64  `json:"file_id"`
	Version     int64  `json:"version"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"-"`
	Key         string `json:"-"`
}

// Application is a pupil's application to an offer, with the company and
// its contact as the offer gave them when the pupil applied.
type Application struct {
	ID           int64     `json:"id"`
	OfferID      int64     `json:"offer_id"`
	StructureID  int64     `json:"structure_id"`
	PupilID      int64     `json:"pupil_id"`
	PupilName    string    `json:"pupil_name"`
	ClassID      int64     `json:"class_id"`
	ClassName    string    `json:"class_name"`
	Company      string    `json:"company"`
	Sector       string    `json:"sector"`
	Commune      string    `json:"commune"`
	Weeks        []string  `json:"weeks"`
	ContactName  string    `json:"contact_name"`
	ContactEmail string    `json:"contact_email"`
	ContactPhone string    `json:"contact_phone"`
	Message      string    `json:"message"`
	CV           *CV       `json:"cv"`
	Status       string    `json:"status"`
	Note         string    `json:"note"`
	DecidedBy    int64     `json:"decided_by,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// StatusLabel is the application's status in French.
func (a Application) StatusLabel() string { return StatusLabel(a.Status) }

// Target is the application for identity checks: the offer's school, the
// pupil and their 3e class.
func (a Application) Target() identity.Target {
	return identity.Target{Structure: a.StructureID, Person: a.PupilID, Classes: []int64{a.ClassID}}
}

// MayMove reports whether p may move the application to status to: the
// pupil themselves withdraws (resource internship_application, delete);
// the teachers of the pupil's class, the school's staff and direction and
// the administrator record, on behalf of the company, that it was read,
// accepted or refused (update). The pupil never records a reply.
func MayMove(p *identity.Principal, a Application, to string) bool {
	if p == nil || !CanGo(a.Status, to) {
		return false
	}
	if to == Withdrawn {
		return p.UserID == a.PupilID && p.Can(identity.InternshipApplication, identity.Delete, a.Target())
	}
	return p.UserID != a.PupilID && p.Can(identity.InternshipApplication, identity.Update, a.Target())
}

// Company is an entry of the address book.
type Company struct {
	ID           int64     `json:"id"`
	StructureID  int64     `json:"structure_id"`
	Name         string    `json:"name"`
	Sector       string    `json:"sector"`
	Address      string    `json:"address"`
	Commune      string    `json:"commune"`
	ContactName  string    `json:"contact_name"`
	ContactEmail string    `json:"contact_email"`
	ContactPhone string    `json:"contact_phone"`
	Placements   int       `json:"placements"` // pupils taken
	LastAt       time.Time `json:"last_at"`    // the last acceptance
}

// SectorLabel is the company's sector in French.
func (c Company) SectorLabel() string { return SectorLabel(c.Sector) }

// Fold makes a commune or a name comparable: no accents, lower case, one
// space between words ("Saint-Jean-de-Braye" → "saint jean de braye").
func Fold(s string) string { return csvimport.Fold(s) }

// ParseWeek reads an ISO week ("2027-W05", "2027-w5") or a date
// ("2027-02-01", that date's ISO week) and returns the ISO week.
func ParseWeek(s string) (string, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseInLocation("2006-01-02", s, Paris); err == nil {
		if d.Year() < 2000 || d.Year() > 2100 {
			return "", invalid("semaine illisible : %q", s)
		}
		y, w := d.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w), nil
	}
	var y, w int
	if n, err := fmt.Sscanf(strings.ToUpper(s), "%d-W%d", &y, &w); err != nil || n != 2 || y < 2000 || y > 2100 || w < 1 || w > 53 {
		return "", invalid("semaine illisible : %q (attendu AAAA-Wnn ou une date AAAA-MM-JJ)", s)
	}
	out := fmt.Sprintf("%04d-W%02d", y, w)
	if _, ww := WeekMonday(out).ISOWeek(); ww != w {
		return "", invalid("l'année %d n'a pas de semaine %d", y, w)
	}
	return out, nil
}

// WeekMonday is the Monday of an ISO week "2027-W05" (zero time if
// unreadable).
func WeekMonday(week string) time.Time {
	var y, w int
	if n, err := fmt.Sscanf(week, "%d-W%d", &y, &w); err != nil || n != 2 {
		return time.Time{}
	}
	// 4 January is always in week 1.
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, Paris)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, 7*(w-1))
}

var frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
	"septembre", "octobre", "novembre", "décembre"}

// WeekLabel writes an ISO week as "semaine du 1er février 2027".
func WeekLabel(week string) string {
	m := WeekMonday(week)
	if m.IsZero() {
		return week
	}
	day := fmt.Sprint(m.Day())
	if m.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("semaine du %s %s %d", day, frMonths[m.Month()-1], m.Year())
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// cleanLine trims a one-line field and checks its length.
func cleanLine(what, s string, maxLen int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return s, invalid("%s est obligatoire", what)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, isControl):
		return s, invalid("%s contient des caractères non valides", what)
	case utf8.RuneCountInString(s) > maxLen:
		return s, invalid("%s : %d caractères au plus", what, maxLen)
	}
	return s, nil
}

// cleanText trims a multi-line text and checks its length.
func cleanText(what, s string, maxLen int, required bool) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	switch {
	case s == "" && required:
		return s, invalid("%s est obligatoire", what)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && isControl(r) }):
		return s, invalid("%s contient des caractères non valides", what)
	case utf8.RuneCountInString(s) > maxLen:
		return s, invalid("%s : %d caractères au plus", what, maxLen)
	}
	return s, nil
}

// NormalizeOffer trims and checks an offer's fields, in French; weeks may
// be given as ISO weeks or dates and come out as sorted ISO weeks.
func NormalizeOffer(o *Offer) error {
	var err error
	if o.Company, err = cleanLine("le nom de l'entreprise", o.Company, MaxCompany, true); err != nil {
		return err
	}
	if SectorLabel(o.Sector) == "" {
		return invalid("choisissez un secteur dans la liste")
	}
	if o.Address, err = cleanLine("l'adresse", o.Address, MaxAddress, false); err != nil {
		return err
	}
	if o.Commune, err = cleanLine("la commune", o.Commune, MaxCommune, true); err != nil {
		return err
	}
	if Fold(o.Commune) == "" {
		return invalid("la commune est illisible")
	}
	if o.Description, err = cleanText("la description", o.Description, MaxDescription, false); err != nil {
		return err
	}
	if o.ContactName, err = cleanLine("le nom du contact", o.ContactName, MaxContact, false); err != nil {
		return err
	}
	if o.ContactEmail, err = cleanLine("le courriel du contact", o.ContactEmail, MaxContact, false); err != nil {
		return err
	}
	if o.ContactEmail != "" {
		if a, err := mail.ParseAddress(o.ContactEmail); err != nil || a.Address != o.ContactEmail {
			return invalid("le courriel du contact est illisible")
		}
	}
	if o.ContactPhone, err = cleanLine("le téléphone du contact", o.ContactPhone, 30, false); err != nil {
		return err
	}
	if o.ContactPhone != "" && strings.ContainsFunc(o.ContactPhone, func(r rune) bool { return !strings.ContainsRune("0123456789 +.()-", r) }) {
		return invalid("le téléphone du contact : des chiffres, espaces, points et « + » seulement")
	}
	if o.ContactName == "" && o.ContactEmail == "" && o.ContactPhone == "" {
		return invalid("indiquez un contact dans l'entreprise (nom, courriel ou téléphone)")
	}
	if o.Places < 1 || o.Places > MaxPlaces {
		return invalid("le nombre de places va de 1 à %d", MaxPlaces)
	}
	var weeks []string
	for _, w := range o.Weeks {
		if strings.TrimSpace(w) == "" {
			continue
		}
		iw, err := ParseWeek(w)
		if err != nil {
			return err
		}
		if !slices.Contains(weeks, iw) {
			weeks = append(weeks, iw)
		}
	}
	if len(weeks) == 0 {
		return invalid("indiquez au moins une semaine de stage")
	}
	if len(weeks) > MaxWeeks {
		return invalid("%d semaines au plus", MaxWeeks)
	}
	slices.Sort(weeks)
	o.Weeks = weeks
	return nil
}

// NormalizeMessage trims and checks a pupil's message.
func NormalizeMessage(m string) (string, error) {
	return cleanText("le message", m, MaxMessage, true)
}

// NormalizeNote trims and checks the note that goes with a reply.
func NormalizeNote(m string) (string, error) {
	return cleanText("la remarque", m, MaxNote, false)
}

func joinWeeks(ws []string) string { return "," + strings.Join(ws, ",") + "," }

func splitWeeks(s string) []string {
	out := []string{}
	for _, w := range strings.Split(strings.Trim(s, ","), ",") {
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}
