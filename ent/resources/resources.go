// Package resources keeps the ENT's two link catalogues (docs/resources.md):
// the national digital resources of the médiacentre (Pix, Lumni and those
// the administrator adds), shown as tiles filtered by profile and school
// level, and the tele-services (scholarship, orientation, lycée enrolment),
// explained in French and shown on parents' home pages in their yearly
// window. One package serves both: they are the same thing — a title, a
// short text, an https link, an audience — and differ only in where they
// are shown and in the tele-services' window. The ENT administrator edits
// them; access is checked by the caller.
package resources

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"preau/db"
	"preau/identity"
)

// Kinds of entry.
const (
	Media       = "media"
	Teleservice = "teleservice"
)

// Levels a resource may be meant for.
var Levels = []string{"6e", "5e", "4e", "3e", "2nde", "1re", "Tle"}

// Limits.
const (
	MaxTitle       = 100
	MaxDescription = 500
	MaxURL         = 500
)

// Entry is one link of a catalogue.
type Entry struct {
	ID          int64              `json:"id"`
	Kind        string             `json:"kind"`
	Title       string             `json:"title"`
	Description string             `json:"description"`
	URL         string             `json:"url"`
	Profiles    []identity.Profile `json:"profiles"`       // empty: everyone
	Levels      []string           `json:"levels"`         // empty: every level
	From        string             `json:"from,omitempty"` // "MM-DD" (tele-services): shown from…
	To          string             `json:"to,omitempty"`   // …to this day each year
	Position    int                `json:"position"`
}

// ErrNotFound: no such entry.
var ErrNotFound = errors.New("resources: not found")

// Invalid is a refused entry, with a French message.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "resources: " + e.Msg }

// Store keeps the catalogues.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// New returns a store over d.
func New(d *db.DB) *Store { return &Store{db: d, now: time.Now} }

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// List returns a catalogue in its order.
func (s *Store) List(ctx context.Context, kind string) ([]Entry, error) {
	rows, err := s.db.Query(ctx, `SELECT id, kind, title, description, url, profiles, levels, from_md, to_md, position
		FROM resources WHERE kind = ? ORDER BY position, id`, kind)
	if err != nil {
		return nil, fmt.Errorf("resources: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var profiles, levels string
		if err := rows.Scan(&e.ID, &e.Kind, &e.Title, &e.Description, &e.URL, &profiles, &levels, &e.From, &e.To, &e.Position); err != nil {
			return nil, fmt.Errorf("resources: list: %w", err)
		}
		for _, p := range split(profiles) {
			e.Profiles = append(e.Profiles, identity.Profile(p))
		}
		e.Levels = split(levels)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Get returns one entry of a kind.
func (s *Store) Get(ctx context.Context, kind string, id int64) (Entry, error) {
	all, err := s.List(ctx, kind)
	if err != nil {
		return Entry{}, err
	}
	for _, e := range all {
		if e.ID == id {
			return e, nil
		}
	}
	return Entry{}, ErrNotFound
}

// Audience is who looks: their profiles and the school levels of their
// classes (a pupil's own, a parent's children's); Levels nil means any
// level (staff, teachers).
type Audience struct {
	Profiles []identity.Profile
	Levels   []string
}

// For keeps the entries meant for the audience.
func For(es []Entry, a Audience) []Entry {
	var out []Entry
	for _, e := range es {
		if len(e.Profiles) > 0 && !slices.ContainsFunc(e.Profiles, func(p identity.Profile) bool { return slices.Contains(a.Profiles, p) }) {
			continue
		}
		if len(e.Levels) > 0 && a.Levels != nil && !slices.ContainsFunc(e.Levels, func(l string) bool { return slices.Contains(a.Levels, l) }) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// InWindow reports whether day falls in the entry's yearly window (always
// when it has none); a window from 11-15 to 02-15 runs over the new year.
func (e Entry) InWindow(day time.Time) bool {
	if e.From == "" || e.To == "" {
		return true
	}
	md := day.Format("01-02")
	if e.From <= e.To {
		return md >= e.From && md <= e.To
	}
	return md >= e.From || md <= e.To
}

// FrWindow writes the window in French: "du 1er septembre au 31 octobre".
func (e Entry) FrWindow() string {
	if e.From == "" || e.To == "" {
		return ""
	}
	return "du " + frMonthDay(e.From) + " au " + frMonthDay(e.To)
}

var months = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

func frMonthDay(md string) string {
	t, err := time.Parse("01-02", md)
	if err != nil {
		return md
	}
	day := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + " " + months[t.Month()-1]
}

// check validates and normalises an entry.
func check(e *Entry) error {
	t := func(v *string, what string, min, max int) error {
		*v = strings.TrimSpace(*v)
		switch {
		case !utf8.ValidString(*v) || strings.ContainsFunc(*v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return &Invalid{what + " : caractères non permis"}
		case utf8.RuneCountInString(*v) < min:
			return &Invalid{what + " : à remplir"}
		case utf8.RuneCountInString(*v) > max:
			return &Invalid{fmt.Sprintf("%s : %d caractères au plus", what, max)}
		}
		return nil
	}
	if e.Kind != Media && e.Kind != Teleservice {
		return &Invalid{"type inconnu"}
	}
	if err := t(&e.Title, "Titre", 1, MaxTitle); err != nil {
		return err
	}
	if err := t(&e.Description, "Description", 0, MaxDescription); err != nil {
		return err
	}
	if err := t(&e.URL, "Adresse", 1, MaxURL); err != nil {
		return err
	}
	u, err := url.Parse(e.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return &Invalid{"Adresse : un lien https:// complet (par exemple https://pix.fr)"}
	}
	for _, p := range e.Profiles {
		if !p.Valid() {
			return &Invalid{fmt.Sprintf("profil %q inconnu", p)}
		}
	}
	for _, l := range e.Levels {
		if !slices.Contains(Levels, l) {
			return &Invalid{fmt.Sprintf("niveau %q inconnu", l)}
		}
	}
	if (e.From == "") != (e.To == "") {
		return &Invalid{"Période : indiquez le début et la fin, ou aucun des deux"}
	}
	for _, md := range []string{e.From, e.To} {
		if _, err := time.Parse("01-02", md); md != "" && err != nil {
			return &Invalid{"Période : des dates au format JJ/MM"}
		}
	}
	return nil
}

func join[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

// Save creates (ID 0) or replaces an entry.
func (s *Store) Save(ctx context.Context, e Entry) (Entry, error) {
	if err := check(&e); err != nil {
		return Entry{}, err
	}
	if e.ID == 0 {
		err := s.db.QueryRow(ctx, `INSERT INTO resources (kind, title, description, url, profiles, levels, from_md, to_md, position, created_at_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.Kind, e.Title, e.Description, e.URL, join(e.Profiles), join(e.Levels),
			e.From, e.To, e.Position, s.now().UnixMilli()).Scan(&e.ID)
		if err != nil {
			return Entry{}, fmt.Errorf("resources: create: %w", err)
		}
		return e, nil
	}
	res, err := s.db.Exec(ctx, `UPDATE resources SET title = ?, description = ?, url = ?, profiles = ?, levels = ?, from_md = ?, to_md = ?,
		position = ? WHERE id = ? AND kind = ?`, e.Title, e.Description, e.URL, join(e.Profiles), join(e.Levels), e.From, e.To, e.Position, e.ID, e.Kind)
	if err != nil {
		return Entry{}, fmt.Errorf("resources: update: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Entry{}, ErrNotFound
	}
	return e, nil
}

// Delete removes an entry of a kind.
func (s *Store) Delete(ctx context.Context, kind string, id int64) error {
	res, err := s.db.Exec(ctx, "DELETE FROM resources WHERE id = ? AND kind = ?", id, kind)
	if err != nil {
		return fmt.Errorf("resources: delete: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
