package courses

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Errors of the store.
var (
	// ErrNotFound: no such course, chapter or item.
	ErrNotFound = errors.New("courses: not found")
)

// Invalid is a refused course, chapter or item, with a French message for
// the page.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "courses: " + e.Msg }

func invalid(format string, args ...any) error { return &Invalid{Msg: fmt.Sprintf(format, args...)} }

// Limits on what a teacher writes.
const (
	MaxTitle    = 200       // characters (runes) of a course, chapter or item title
	MaxSummary  = 2000      // characters of a course's presentation
	MaxText     = 100 << 10 // bytes of a text item's Markdown
	MaxURL      = 2000      // bytes of a link
	MaxFileSize = 10 << 20  // one attached file (as attachments elsewhere: storage/files.MaxAttachment)
	MaxFileName = 255
	MaxChapters = 100 // per course
	MaxItems    = 200 // per chapter
)

// Kinds of item.
const (
	Text = "text" // Markdown
	File = "file" // a file of the teacher's Documents
	Link = "link" // a web address
	Live = "live" // the class's live lesson, and its recording if one is attached
)

// Kinds lists the kinds of item with their French names.
var Kinds = []struct{ Kind, Label string }{
	{Text, "Texte"}, {File, "Fichier"}, {Link, "Lien"}, {Live, "Cours en direct"},
}

// Course is a course of a class, with its chapters when loaded whole.
type Course struct {
	ID          int64     `json:"id"`
	StructureID int64     `json:"structure_id"`
	ClassID     int64     `json:"class_id"`
	ClassName   string    `json:"class_name"`
	AuthorID    int64     `json:"author_id"`
	AuthorName  string    `json:"author_name"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"`
	CreatedAt   int64     `json:"created_at"`
	UpdatedAt   int64     `json:"updated_at"`
	Chapters    []Chapter `json:"chapters"`
	// Published counts the course's published items (a course without
	// any is not shown to its class).
	Published int `json:"published"`
}

// Chapter is an ordered part of a course.
type Chapter struct {
	ID       int64  `json:"id"`
	CourseID int64  `json:"course_id"`
	Position int    `json:"position"`
	Title    string `json:"title"`
	Items    []Item `json:"items"`
}

// Item is one element of a chapter. Which fields matter depends on Kind:
// Body (text), URL (link), the file fields (file; live: its recording,
// optional).
type Item struct {
	ID        int64  `json:"id"`
	ChapterID int64  `json:"chapter_id"`
	Position  int    `json:"position"`
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	Body      string `json:"body,omitempty"`
	URL       string `json:"url,omitempty"`
	FileID    int64  `json:"file_id,omitempty"`
	Version   int64  `json:"file_version,omitempty"`
	FileName  string `json:"file_name,omitempty"`
	FileSize  int64  `json:"file_size,omitempty"`
	// PublishedAt is when the item was published (Unix seconds); 0: a
	// draft.
	PublishedAt int64 `json:"published_at"`
	CreatedAt   int64 `json:"created_at"`
	UpdatedAt   int64 `json:"updated_at"`
}

// Published reports whether the item is visible to the class.
func (it Item) Published() bool { return it.PublishedAt != 0 }

// HasFile reports whether a file is attached.
func (it Item) HasFile() bool { return it.FileID != 0 }

// cleanLine trims a one-line text; ok false on invalid UTF-8 or control
// characters.
func cleanLine(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return s, false
	}
	return s, !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// cleanText normalises line ends and trims a multi-line text; ok false on
// invalid UTF-8 or control characters other than line feed and tab.
func cleanText(s string) (string, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
	if !utf8.ValidString(s) {
		return s, false
	}
	return s, !strings.ContainsFunc(s, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f })
}

// checkTitle cleans a title; what names the thing in the message.
func checkTitle(what, s string) (string, error) {
	s, ok := cleanLine(s)
	switch {
	case !ok:
		return s, invalid("le titre %s contient des caractères non autorisés", what)
	case s == "":
		return s, invalid("le titre %s est obligatoire", what)
	case utf8.RuneCountInString(s) > MaxTitle:
		return s, invalid("le titre %s fait %d caractères au plus", what, MaxTitle)
	}
	return s, nil
}

// Check validates a course's own fields and cleans them.
func (c *Course) Check() error {
	var err error
	if c.Title, err = checkTitle("du cours", c.Title); err != nil {
		return err
	}
	var ok bool
	if c.Summary, ok = cleanText(c.Summary); !ok {
		return invalid("la présentation du cours contient des caractères non autorisés")
	}
	if utf8.RuneCountInString(c.Summary) > MaxSummary {
		return invalid("la présentation du cours fait %d caractères au plus", MaxSummary)
	}
	return nil
}

// Check validates a chapter's title.
func (ch *Chapter) Check() error {
	var err error
	ch.Title, err = checkTitle("du chapitre", ch.Title)
	return err
}

// Check validates an item and cleans it; fields its kind does not use are
// cleared.
func (it *Item) Check() error {
	var err error
	if it.Title, err = checkTitle("de l'élément", it.Title); err != nil {
		return err
	}
	switch it.Kind {
	case Text:
		if len(it.Body) > MaxText {
			return invalid("un texte fait %d Ko au plus", MaxText>>10)
		}
		var ok bool
		if it.Body, ok = cleanText(it.Body); !ok {
			return invalid("le texte contient des caractères non autorisés")
		}
		if it.Body == "" {
			return invalid("le texte est vide")
		}
		it.URL, it.FileID, it.Version, it.FileName, it.FileSize = "", 0, 0, "", 0
	case Link:
		u, err := CheckURL(it.URL)
		if err != nil {
			return err
		}
		it.URL, it.Body, it.FileID, it.Version, it.FileName, it.FileSize = u, "", 0, 0, "", 0
	case File, Live:
		it.Body, it.URL = "", ""
		if it.Kind == File && it.FileID == 0 {
			return invalid("choisissez un fichier de vos Documents")
		}
		if it.FileID != 0 {
			switch {
			case it.FileID < 0 || it.Version <= 0:
				return invalid("fichier inconnu")
			case it.FileSize < 0 || it.FileSize > MaxFileSize:
				return invalid("un fichier fait %d Mo au plus", MaxFileSize>>20)
			case it.FileName == "" || utf8.RuneCountInString(it.FileName) > MaxFileName:
				return invalid("nom de fichier invalide")
			}
		}
	default:
		return invalid("type d'élément inconnu (texte, fichier, lien ou cours en direct)")
	}
	return nil
}

// CheckURL accepts an absolute http or https address with a host, and
// returns it trimmed.
func CheckURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return s, invalid("l'adresse du lien est obligatoire")
	case len(s) > MaxURL:
		return s, invalid("l'adresse du lien fait %d caractères au plus", MaxURL)
	}
	if !safeURL(s, false) {
		return s, invalid("l'adresse du lien doit commencer par http:// ou https://")
	}
	return s, nil
}

// safeURL reports whether s is an absolute http or https address with a
// host (or a mailto: address when mail is true), with nothing a browser
// might read differently (control characters, spaces, backslashes).
func safeURL(s string, mail bool) bool {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= 0x20 || r == 0x7f || r == '\\' }) || !utf8.ValidString(s) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != "" && u.Opaque == ""
	case "mailto":
		return mail && u.Opaque != ""
	}
	return false
}
