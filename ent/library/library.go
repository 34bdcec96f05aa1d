package library

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"preau/ent/directory/csvimport"
	"preau/identity"
	"preau/internal/frtime"
)

// Rules of the CDI; Config may change the durations.
const (
	DefaultLoanDays  = 21 // a loan lasts three weeks
	DefaultHoldDays  = 3  // a ready reservation waits that many days
	MaxReservations  = 5  // active reservations of one person
	MaxCopies        = 50 // copies of one title
	MaxTitle         = 300
	MaxField         = 300 // authors, publisher, subjects, shelf mark
	MaxSearchResults = 200
)

// DateLayout is how dates are written ("2026-11-30").
const DateLayout = "2006-01-02"

// Paris is the time zone of dates.
var Paris = frtime.Paris

// Today is t's date in Europe/Paris.
func Today(t time.Time) string { return t.In(Paris).Format(DateLayout) }

// AddDays is the date d days after day (a "2006-01-02" date).
func AddDays(day string, d int) string {
	t, err := time.ParseInLocation(DateLayout, day, Paris)
	if err != nil {
		return day
	}
	return t.AddDate(0, 0, d).Format(DateLayout)
}

// Errors of the package.
var (
	// ErrNotFound: no such title, copy, loan or reservation, or out of reach.
	ErrNotFound = errors.New("library: not found")
)

// Invalid is refused input or a refused step, with a French message.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "library: " + e.Msg }

func invalid(format string, args ...any) error { return &Invalid{Msg: fmt.Sprintf(format, args...)} }

// ErrNoCopy is answered to a reservation when no copy is left (another
// reader took the last one): the reader may join the waiting list.
var ErrNoCopy = &Invalid{Msg: "plus aucun exemplaire n'est disponible : le dernier vient d'être réservé ou prêté. Vous pouvez rejoindre la file d'attente"}

// Copy states.
const (
	Available = "available"
	Held      = "held" // kept for a ready reservation
	Lent      = "lent"
	Withdrawn = "withdrawn"
)

// Reservation statuses.
const (
	Waiting   = "waiting"
	Ready     = "ready"
	Collected = "collected"
	Cancelled = "cancelled"
	Expired   = "expired"
)

// StateLabel says a copy state in French.
func StateLabel(s string) string {
	return map[string]string{Available: "Disponible", Held: "Réservé", Lent: "Prêté", Withdrawn: "Retiré"}[s]
}

// StatusLabel says a reservation status in French.
func StatusLabel(s string) string {
	return map[string]string{Waiting: "En file d'attente", Ready: "Prête à retirer", Collected: "Retirée",
		Cancelled: "Annulée", Expired: "Expirée"}[s]
}

// Book is a title of a school's catalogue.
type Book struct {
	ID          int64    `json:"id"`
	StructureID int64    `json:"structure_id"`
	ISBN        string   `json:"isbn,omitempty"`
	Title       string   `json:"title"`
	Authors     []string `json:"authors"`
	Publisher   string   `json:"publisher,omitempty"`
	Year        int      `json:"year,omitempty"`
	Subjects    []string `json:"subjects"`
	// Counts of copies by state, and of people waiting.
	Copies    int `json:"copies"`
	Available int `json:"available"`
	Waiting   int `json:"waiting"`
	// HasCover says the title has a cover image (see Store.Cover).
	HasCover bool `json:"has_cover"`
}

// Copy is one copy of a title.
type Copy struct {
	ID        int64  `json:"id"`
	BookID    int64  `json:"book_id"`
	ShelfMark string `json:"shelf_mark"`
	State     string `json:"state"`
	// DueOn is the loan's due date while lent.
	DueOn string `json:"due_on,omitempty"`
}

// Reservation is a person's reservation of a title.
type Reservation struct {
	ID          int64  `json:"id"`
	BookID      int64  `json:"book_id"`
	StructureID int64  `json:"structure_id"`
	PersonID    int64  `json:"person_id"`
	PersonName  string `json:"person_name,omitempty"`
	Title       string `json:"title"`
	Status      string `json:"status"`
	CopyID      int64  `json:"copy_id,omitempty"`
	ShelfMark   string `json:"shelf_mark,omitempty"`
	// ExpiresOn is the last day to collect a ready reservation.
	ExpiresOn string `json:"expires_on,omitempty"`
	// Position is the place in the waiting list (1: next), while waiting.
	Position  int       `json:"position,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Loan is a copy lent to a person.
type Loan struct {
	ID          int64     `json:"id"`
	CopyID      int64     `json:"copy_id"`
	BookID      int64     `json:"book_id"`
	StructureID int64     `json:"structure_id"`
	PersonID    int64     `json:"person_id"`
	PersonName  string    `json:"person_name,omitempty"`
	Title       string    `json:"title"`
	ShelfMark   string    `json:"shelf_mark"`
	LentOn      string    `json:"lent_on"`
	DueOn       string    `json:"due_on"`
	ReturnedAt  time.Time `json:"returned_at,omitzero"`
	Reminders   int       `json:"reminders"`
	RemindedAt  time.Time `json:"reminded_at,omitzero"`
}

// Overdue reports whether the loan is still out after its due date.
func (l Loan) Overdue(today string) bool { return l.ReturnedAt.IsZero() && l.DueOn < today }

// ---- access -------------------------------------------------------------------

// IsLibrarian reports whether a staff function is the CDI's: the
// directory records it as free text ("Professeur documentaliste",
// "Documentaliste", "CDI", "Bibliothécaire").
func IsLibrarian(function string) bool {
	f := csvimport.Fold(function)
	return strings.Contains(f, "documentaliste") || strings.Contains(" "+f+" ", " cdi ") || strings.Contains(f, "bibliothec")
}

// CanRead reports whether p reads the catalogue of school st: anyone with
// a role there (and the ENT administrator).
func CanRead(p *identity.Principal, st int64) bool {
	return p.Can(identity.LibraryBook, identity.Read, identity.Target{Structure: st})
}

// Manages reports whether p keeps the CDI of school st — its catalogue,
// loans, returns and reminders: the documentaliste (staff of the school
// whose function is the CDI's, see IsLibrarian), the school's direction,
// the ENT administrator. Other staff (the CPE, the secretariat) do not.
func Manages(p *identity.Principal, st int64) bool {
	if p == nil || st == 0 {
		return false
	}
	for _, r := range p.Roles {
		if r.StructureID != st && r.StructureID != 0 {
			continue
		}
		if identity.Allowed(r.Profile, identity.LibraryLoan, identity.Update) == identity.None {
			continue
		}
		if r.Profile == identity.Staff && !IsLibrarian(r.Function) {
			continue
		}
		return true
	}
	return false
}

// MayReserve reports whether p reserves for themselves in school st.
func MayReserve(p *identity.Principal, st int64) bool {
	return p != nil && CanRead(p, st) &&
		p.Can(identity.LibraryLoan, identity.Create, identity.Target{Structure: st, Person: p.UserID})
}

// CanSeeLoans reports whether p sees the loans and reservations of person
// in school st: the person themselves, their parents, those who manage
// the CDI.
func CanSeeLoans(p *identity.Principal, st, person int64) bool {
	if p == nil || person == 0 {
		return false
	}
	if Manages(p, st) {
		return true
	}
	if person != p.UserID && !p.IsParentOf(person) {
		return false
	}
	return p.Can(identity.LibraryLoan, identity.Read, identity.Target{Structure: st, Person: person})
}

// ---- ISBN ---------------------------------------------------------------------

// NormalizeISBN checks an ISBN-10 or ISBN-13 (hyphens and spaces allowed)
// and returns it as ISBN-13 digits; "" stays "".
func NormalizeISBN(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == 'X' || r == 'x':
			b.WriteByte('X')
		case r == '-' || r == ' ' || r == '\u00a0':
		default:
			return "", invalid("ISBN %q illisible : 10 ou 13 chiffres attendus", s)
		}
	}
	d := b.String()
	switch len(d) {
	case 0:
		return "", nil
	case 10:
		sum := 0
		for i := range 10 {
			c := d[i]
			v := int(c - '0')
			if c == 'X' {
				if i != 9 {
					return "", invalid("ISBN %q illisible : X n'est permis qu'en dernière position", s)
				}
				v = 10
			}
			sum += (10 - i) * v
		}
		if sum%11 != 0 {
			return "", invalid("ISBN %q non valide : la clé de contrôle ne correspond pas", s)
		}
		d13 := "978" + d[:9]
		return d13 + strconv.Itoa(isbn13Check(d13)), nil
	case 13:
		if strings.Contains(d, "X") {
			return "", invalid("ISBN %q illisible", s)
		}
		if !strings.HasPrefix(d, "978") && !strings.HasPrefix(d, "979") {
			return "", invalid("ISBN %q non valide : un ISBN-13 commence par 978 ou 979", s)
		}
		if isbn13Check(d[:12]) != int(d[12]-'0') {
			return "", invalid("ISBN %q non valide : la clé de contrôle ne correspond pas", s)
		}
		return d, nil
	}
	return "", invalid("ISBN %q non valide : 10 ou 13 chiffres attendus", s)
}

func isbn13Check(d12 string) int {
	sum := 0
	for i := range 12 {
		v := int(d12[i] - '0')
		if i%2 == 1 {
			v *= 3
		}
		sum += v
	}
	return (10 - sum%10) % 10
}

// FormatISBN writes ISBN-13 digits with the prefix apart,
// "978-2070612758" (the other hyphens need the agency's range table).
func FormatISBN(d string) string {
	if len(d) != 13 {
		return d
	}
	return d[:3] + "-" + d[3:]
}

// ---- validation -------------------------------------------------------------------

// SplitList splits "a; b ; c" (or with '|') into trimmed, non-empty,
// distinct entries.
func SplitList(s string) []string {
	out := []string{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' }) {
		part = strings.Join(strings.Fields(part), " ")
		if part == "" {
			continue
		}
		dup := false
		for _, o := range out {
			if csvimport.Fold(o) == csvimport.Fold(part) {
				dup = true
			}
		}
		if !dup {
			out = append(out, part)
		}
	}
	return out
}

func badText(s string, max int) bool {
	return !utf8.ValidString(s) || utf8.RuneCountInString(s) > max ||
		strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// Normalize trims and checks a title's own fields, in French.
func Normalize(b *Book, thisYear int) error {
	b.Title = strings.Join(strings.Fields(b.Title), " ")
	b.Publisher = strings.Join(strings.Fields(b.Publisher), " ")
	b.Authors = SplitList(strings.Join(b.Authors, ";"))
	b.Subjects = SplitList(strings.Join(b.Subjects, ";"))
	isbn, err := NormalizeISBN(b.ISBN)
	if err != nil {
		return err
	}
	b.ISBN = isbn
	switch {
	case b.Title == "":
		return invalid("donnez le titre")
	case badText(b.Title, MaxTitle):
		return invalid("le titre : %d caractères au plus, sans caractère de contrôle", MaxTitle)
	case badText(strings.Join(b.Authors, "; "), MaxField):
		return invalid("les auteurs : %d caractères au plus", MaxField)
	case badText(b.Publisher, MaxField):
		return invalid("l'éditeur : %d caractères au plus", MaxField)
	case badText(strings.Join(b.Subjects, "; "), MaxField):
		return invalid("les sujets : %d caractères au plus", MaxField)
	case b.Year != 0 && (b.Year < 1450 || b.Year > thisYear+1):
		return invalid("année de parution %d invraisemblable", b.Year)
	}
	return nil
}

// NormalizeShelfMark trims and checks a shelf mark (cote).
func NormalizeShelfMark(s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	switch {
	case s == "":
		return "", invalid("donnez la cote de l'exemplaire (par exemple R VER)")
	case badText(s, 40):
		return "", invalid("la cote : 40 caractères au plus")
	}
	return s, nil
}

// folds are what search compares: the whole record, the authors, the
// subjects, without accents, case or punctuation.
func folds(b Book) (all, authors, subjects string) {
	authors = csvimport.Fold(strings.Join(b.Authors, " "))
	subjects = csvimport.Fold(strings.Join(b.Subjects, " "))
	all = strings.Join(strings.Fields(csvimport.Fold(b.Title)+" "+authors+" "+subjects+" "+csvimport.Fold(b.Publisher)+" "+b.ISBN), " ")
	return " " + all + " ", " " + authors + " ", " " + subjects + " "
}
