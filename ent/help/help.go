// Package help is the assistance module: the hotline the help page shows
// (a phone number and opening hours set for the département), and help
// requests — from a signed-in user, or from someone who cannot sign in —
// queued for the ENT administrator and the school's direction, who answer
// and move them from "nouvelle" to "en cours" to "résolue". Access is
// checked by the caller (identity resource "help_request", docs/help.md).
package help

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"preau/db"
)

// Settings is the hotline.
type Settings struct {
	Phone string `json:"phone"`
	Hours string `json:"hours"`
	Email string `json:"email,omitempty"`
}

// DefaultSettings are shown until the administrator sets the département's.
var DefaultSettings = Settings{Phone: "02 36 99 27 00", Hours: "lundi, mardi et jeudi de 16 h 30 à 18 h 30, mercredi de 14 h à 17 h"}

// Topics a request may be about, with their French labels.
var Topics = []struct{ Code, Label string }{
	{"connexion", "Connexion : première connexion, mot de passe oublié"},
	{"direct", "Cours en direct : caméra, micro, son"},
	{"messagerie", "Messagerie"},
	{"documents", "Documents"},
	{"autre", "Autre question"},
}

// Statuses of a request.
const (
	Open     = "nouvelle"
	Ongoing  = "en_cours"
	Resolved = "resolue"
)

// StatusLabel names a status in French.
func StatusLabel(s string) string {
	switch s {
	case Open:
		return "Nouvelle"
	case Ongoing:
		return "En cours"
	case Resolved:
		return "Résolue"
	}
	return s
}

// Limits.
const (
	MaxName    = 100
	MaxContact = 200
	MaxMessage = 2000
	MaxReply   = 2000
	MaxSetting = 200
)

// Request is a help request.
type Request struct {
	ID          int64     `json:"id"`
	StructureID int64     `json:"structure_id,omitempty"`
	UserID      int64     `json:"user_id,omitempty"`
	Name        string    `json:"name"`
	Contact     string    `json:"contact"`
	Topic       string    `json:"topic"`
	Message     string    `json:"message"`
	Status      string    `json:"status"`
	Reply       string    `json:"reply,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ErrNotFound: no such request.
var ErrNotFound = errors.New("help: not found")

// Invalid is a refused input, with a French message.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return "help: " + e.Msg }

// Store keeps settings and requests.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// New returns a store over d.
func New(d *db.DB) *Store { return &Store{db: d, now: time.Now} }

// text checks a free text: valid UTF-8, no control character but line
// breaks and tabs, at most max characters; required when min is 1.
func text(v, what string, min, max int) (string, error) {
	v = strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
	switch {
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f }):
		return "", &Invalid{what + " : caractères non permis"}
	case utf8.RuneCountInString(v) < min:
		return "", &Invalid{what + " : à remplir"}
	case utf8.RuneCountInString(v) > max:
		return "", &Invalid{fmt.Sprintf("%s : %d caractères au plus", what, max)}
	}
	return v, nil
}

// Settings returns the hotline in force.
func (s *Store) Settings(ctx context.Context) (Settings, error) {
	var st Settings
	err := s.db.QueryRow(ctx, "SELECT phone, hours, email FROM help_settings WHERE id = 1").Scan(&st.Phone, &st.Hours, &st.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultSettings, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("help: settings: %w", err)
	}
	return st, nil
}

// SetSettings changes the hotline.
func (s *Store) SetSettings(ctx context.Context, st Settings) (Settings, error) {
	var err error
	if st.Phone, err = text(st.Phone, "Téléphone", 1, 40); err != nil {
		return Settings{}, err
	}
	if st.Hours, err = text(st.Hours, "Horaires", 1, MaxSetting); err != nil {
		return Settings{}, err
	}
	if st.Email, err = text(st.Email, "Courriel", 0, MaxSetting); err != nil {
		return Settings{}, err
	}
	if st.Email != "" && (!strings.Contains(st.Email, "@") || strings.ContainsAny(st.Email, " \n")) {
		return Settings{}, &Invalid{"Courriel : adresse invalide"}
	}
	_, err = s.db.Exec(ctx, `INSERT INTO help_settings (id, phone, hours, email) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET phone = excluded.phone, hours = excluded.hours, email = excluded.email`, st.Phone, st.Hours, st.Email)
	if err != nil {
		return Settings{}, fmt.Errorf("help: set settings: %w", err)
	}
	return st, nil
}

func validTopic(t string) bool {
	for _, x := range Topics {
		if x.Code == t {
			return true
		}
	}
	return false
}

// Create records a request. UserID 0 is someone who cannot sign in: then
// Name and Contact are required and StructureID names their school (0:
// unknown, for the administrator).
func (s *Store) Create(ctx context.Context, r Request) (Request, error) {
	var err error
	if r.Name, err = text(r.Name, "Nom", 1, MaxName); err != nil {
		return Request{}, err
	}
	if r.Contact, err = text(r.Contact, "Courriel ou téléphone", 1, MaxContact); err != nil {
		return Request{}, err
	}
	if r.Message, err = text(r.Message, "Message", 1, MaxMessage); err != nil {
		return Request{}, err
	}
	if !validTopic(r.Topic) {
		return Request{}, &Invalid{"Sujet : choisissez dans la liste"}
	}
	now := s.now()
	r.Status, r.Reply, r.CreatedAt, r.UpdatedAt = Open, "", now, now
	err = s.db.QueryRow(ctx, `INSERT INTO help_requests (structure_id, user_id, name, contact, topic, message, status, created_at_ms, updated_at_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, nullID(r.StructureID), nullID(r.UserID), r.Name, r.Contact, r.Topic, r.Message,
		r.Status, now.UnixMilli(), now.UnixMilli()).Scan(&r.ID)
	if err != nil {
		return Request{}, fmt.Errorf("help: create: %w", err)
	}
	return r, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

const columns = `id, COALESCE(structure_id, 0), COALESCE(user_id, 0), name, contact, topic, message, status, reply, created_at_ms, updated_at_ms`

func scan(rows *sql.Rows, err error) ([]Request, error) {
	if err != nil {
		return nil, fmt.Errorf("help: requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var r Request
		var c, u int64
		if err := rows.Scan(&r.ID, &r.StructureID, &r.UserID, &r.Name, &r.Contact, &r.Topic, &r.Message, &r.Status, &r.Reply, &c, &u); err != nil {
			return nil, fmt.Errorf("help: requests: %w", err)
		}
		r.CreatedAt, r.UpdatedAt = time.UnixMilli(c), time.UnixMilli(u)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Get returns one request.
func (s *Store) Get(ctx context.Context, id int64) (Request, error) {
	out, err := scan(s.db.Query(ctx, "SELECT "+columns+" FROM help_requests WHERE id = ?", id))
	if err != nil {
		return Request{}, err
	}
	if len(out) == 0 {
		return Request{}, ErrNotFound
	}
	return out[0], nil
}

// Mine lists a user's requests, newest first (at most 100).
func (s *Store) Mine(ctx context.Context, userID int64) ([]Request, error) {
	return scan(s.db.Query(ctx, "SELECT "+columns+" FROM help_requests WHERE user_id = ? ORDER BY created_at_ms DESC, id DESC LIMIT 100", userID))
}

// Queue lists the requests of some schools (all: every request, those
// without a school included), open ones first then the newest; status ""
// lists every status. At most 200.
func (s *Store) Queue(ctx context.Context, structures []int64, all bool, status string) ([]Request, error) {
	var conds []string
	var args []any
	if !all {
		if len(structures) == 0 {
			return nil, nil
		}
		conds = append(conds, "structure_id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(structures)), ",")+")")
		for _, st := range structures {
			args = append(args, st)
		}
	}
	if status != "" {
		conds = append(conds, "status = ?")
		args = append(args, status)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	return scan(s.db.Query(ctx, "SELECT "+columns+" FROM help_requests"+where+
		" ORDER BY CASE status WHEN 'resolue' THEN 1 ELSE 0 END, created_at_ms DESC, id DESC LIMIT 200", args...))
}

// Answer sets a request's status and reply.
func (s *Store) Answer(ctx context.Context, id int64, status, reply string, by int64) (Request, error) {
	if status != Open && status != Ongoing && status != Resolved {
		return Request{}, &Invalid{"Statut : nouvelle, en cours ou résolue"}
	}
	reply, err := text(reply, "Réponse", 0, MaxReply)
	if err != nil {
		return Request{}, err
	}
	res, err := s.db.Exec(ctx, "UPDATE help_requests SET status = ?, reply = ?, handled_by = ?, updated_at_ms = ? WHERE id = ?",
		status, reply, by, s.now().UnixMilli(), id)
	if err != nil {
		return Request{}, fmt.Errorf("help: answer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Request{}, ErrNotFound
	}
	return s.Get(ctx, id)
}
