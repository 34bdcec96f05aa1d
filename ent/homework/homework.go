package homework

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"preau/internal/frtime"
)

// Errors of the store.
var (
	// ErrNotFound: no such entry or work.
	ErrNotFound = errors.New("homework: not found")
)

// Invalid is a refused entry, with a French message for the page.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "homework: " + e.Msg }

func invalid(format string, args ...any) error { return &Invalid{Msg: fmt.Sprintf(format, args...)} }

// Limits on what a teacher writes (characters are runes).
const (
	MaxTitle       = 150
	MaxContent     = 10000
	MaxDescription = 2000
	MaxItems       = 5        // works per lesson
	MaxAttachments = 5        // files per work
	MaxMinutes     = 300      // estimated duration of one work
	MaxFileSize    = 10 << 20 // one attachment (SECURITY.md: 10 MiB, as in chat)
	MaxFileName    = 255
)

// DateLayout is how dates are written and stored.
const DateLayout = time.DateOnly

// Paris is the time zone of dates.
var Paris = frtime.Paris

// Entry is one lesson of a class in a subject: the séance and its work.
type Entry struct {
	ID          int64  `json:"id"`
	StructureID int64  `json:"structure_id"`
	ClassID     int64  `json:"class_id"`
	ClassName   string `json:"class_name"`
	SubjectID   int64  `json:"subject_id"`
	Subject     string `json:"subject"`
	AuthorID    int64  `json:"author_id"`
	AuthorName  string `json:"author_name"`
	LessonOn    string `json:"lesson_on"`
	Title       string `json:"title"`
	Content     string `json:"content"`
	Items       []Item `json:"items"`
	CreatedAt   int64  `json:"created_at"`
	UpdatedAt   int64  `json:"updated_at"`
}

// Item is one work to do, given in a lesson.
type Item struct {
	ID          int64        `json:"id"`
	N           int          `json:"n"`
	Description string       `json:"description"`
	DueOn       string       `json:"due_on"`
	Minutes     int          `json:"minutes,omitempty"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment is one version of a file of the teacher's Documents, with the
// name and size it had when attached.
type Attachment struct {
	N       int    `json:"n"`
	FileID  int64  `json:"file_id"`
	Version int64  `json:"version"`
	Name    string `json:"name"`
	Size    int64  `json:"size"`
}

// Todo is a work as a pupil sees it in their "à faire" list.
type Todo struct {
	Item
	EntryID   int64  `json:"entry_id"`
	ClassID   int64  `json:"class_id"`
	ClassName string `json:"class_name"`
	SubjectID int64  `json:"subject_id"`
	Subject   string `json:"subject"`
	LessonOn  string `json:"lesson_on"`
	Title     string `json:"title"`
	Done      bool   `json:"done"`
	// Bucket places the work: today, tomorrow, week, later (Bucket).
	Bucket string `json:"bucket"`
}

// The buckets of the "à faire" list.
const (
	Overdue  = "overdue" // before today (not listed by default)
	Today    = "today"
	Tomorrow = "tomorrow"
	ThisWeek = "week"  // after tomorrow, until Sunday
	Later    = "later" // next week and after
)

// Bucket places a due date relative to today (both "2006-01-02").
func Bucket(due, today string) string {
	d, err1 := time.Parse(DateLayout, due)
	t, err2 := time.Parse(DateLayout, today)
	if err1 != nil || err2 != nil {
		return Later
	}
	switch days := int(d.Sub(t).Hours() / 24); {
	case days < 0:
		return Overdue
	case days == 0:
		return Today
	case days == 1:
		return Tomorrow
	}
	// Sunday ends the week: Monday is day 0.
	wd := (int(t.Weekday()) + 6) % 7
	sunday := t.AddDate(0, 0, 6-wd)
	if !d.After(sunday) {
		return ThisWeek
	}
	return Later
}

// cleanText normalises line ends and trims; ok false on invalid UTF-8 or
// control characters other than line feed and tab.
func cleanText(s string, multiline bool) (string, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
	if !utf8.ValidString(s) {
		return s, false
	}
	bad := strings.ContainsFunc(s, func(r rune) bool {
		if r == '\n' || r == '\t' {
			return !multiline
		}
		return r < 0x20 || r == 0x7f
	})
	return s, !bad
}

func validDate(s string) bool {
	d, err := time.Parse(DateLayout, s)
	return err == nil && d.Format(DateLayout) == s
}

// frDate writes "2026-11-30" as "30/11/2026".
func frDate(s string) string {
	d, err := time.Parse(DateLayout, s)
	if err != nil {
		return s
	}
	return d.Format("02/01/2006")
}

// Check validates an entry's own fields and cleans its text, for a school
// year running from yearStart to yearEnd ("2006-01-02").
func (e *Entry) Check(yearStart, yearEnd string) error {
	var ok bool
	if e.Title, ok = cleanText(e.Title, false); !ok {
		return invalid("le titre contient des caractères non autorisés")
	}
	if e.Content, ok = cleanText(e.Content, true); !ok {
		return invalid("le contenu de la séance contient des caractères non autorisés")
	}
	switch {
	case e.Title == "":
		return invalid("le titre de la séance est obligatoire")
	case utf8.RuneCountInString(e.Title) > MaxTitle:
		return invalid("le titre de la séance fait %d caractères au plus", MaxTitle)
	case utf8.RuneCountInString(e.Content) > MaxContent:
		return invalid("le contenu de la séance fait %d caractères au plus", MaxContent)
	case !validDate(e.LessonOn):
		return invalid("date de la séance illisible (attendu AAAA-MM-JJ)")
	case e.LessonOn < yearStart || e.LessonOn > yearEnd:
		return invalid("la séance doit avoir lieu pendant l'année scolaire (du %s au %s)", frDate(yearStart), frDate(yearEnd))
	case len(e.Items) > MaxItems:
		return invalid("%d travaux à faire au plus par séance", MaxItems)
	}
	for i := range e.Items {
		it := &e.Items[i]
		n := i + 1
		if it.Description, ok = cleanText(it.Description, true); !ok {
			return invalid("travail %d : la consigne contient des caractères non autorisés", n)
		}
		switch {
		case it.Description == "":
			return invalid("travail %d : la consigne est obligatoire", n)
		case utf8.RuneCountInString(it.Description) > MaxDescription:
			return invalid("travail %d : la consigne fait %d caractères au plus", n, MaxDescription)
		case !validDate(it.DueOn):
			return invalid("travail %d : date « pour le » illisible (attendu AAAA-MM-JJ)", n)
		case it.DueOn < e.LessonOn:
			return invalid("travail %d : il doit être pour le jour de la séance ou après (le %s ou plus tard)", n, frDate(e.LessonOn))
		case it.DueOn > yearEnd:
			return invalid("travail %d : il doit être pour un jour de l'année scolaire (au plus tard le %s)", n, frDate(yearEnd))
		case it.Minutes < 0 || it.Minutes > MaxMinutes:
			return invalid("travail %d : la durée estimée va de 1 à %d minutes (0 : non précisée)", n, MaxMinutes)
		case len(it.Attachments) > MaxAttachments:
			return invalid("travail %d : %d pièces jointes au plus", n, MaxAttachments)
		}
		for j := range it.Attachments {
			a := &it.Attachments[j]
			a.N = j + 1
			switch {
			case a.FileID <= 0 || a.Version <= 0:
				return invalid("travail %d : pièce jointe inconnue", n)
			case a.Size < 0 || a.Size > MaxFileSize:
				return invalid("travail %d : une pièce jointe fait %d Mo au plus", n, MaxFileSize>>20)
			case a.Name == "" || utf8.RuneCountInString(a.Name) > MaxFileName:
				return invalid("travail %d : nom de pièce jointe invalide", n)
			}
		}
		for j := range it.Attachments[:max(0, len(it.Attachments)-1)] {
			for k := j + 1; k < len(it.Attachments); k++ {
				if it.Attachments[j].FileID == it.Attachments[k].FileID {
					return invalid("travail %d : le fichier « %s » est joint deux fois", n, it.Attachments[j].Name)
				}
			}
		}
		it.N = n
	}
	return nil
}
