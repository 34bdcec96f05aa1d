package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"preau/db"
)

// Session lifetimes (SECURITY.md).
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	// touchEvery limits last_seen writes to one per minute per session.
	touchEvery = time.Minute
)

// ErrNoSession means the token is unknown, expired, or its account disabled.
var ErrNoSession = errors.New("auth: no valid session")

// Session is a signed-in browser or client. ID is the stored hash of the
// token, safe to show and to use for "end this session"; the token itself is
// only ever in the cookie.
type Session struct {
	ID        string    `json:"id"`
	UserID    int64     `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	UserAgent string    `json:"user_agent"`
	IP        string    `json:"ip"`
}

// Sessions stores sessions in the database so that any node can serve any
// user.
type Sessions struct {
	db  *db.DB
	now func() time.Time
}

// NewSessions returns a session store on d.
func NewSessions(d *db.DB) *Sessions { return &Sessions{db: d, now: time.Now} }

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Create starts a session and returns its token (256 random bits).
func (s *Sessions) Create(ctx context.Context, q db.Querier, userID int64, userAgent, ip string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	if len(userAgent) > 200 {
		userAgent = userAgent[:200]
	}
	now := s.now().Unix()
	if _, err := q.Exec(ctx, "INSERT INTO sessions (token_hash, user_id, created_at, last_seen, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?)",
		tokenHash(token), userID, now, now, userAgent, ip); err != nil {
		return "", fmt.Errorf("auth: create session: %w", err)
	}
	return token, nil
}

// Lookup returns the live session of a token and marks it used. An idle,
// too old, or disabled account's session is refused (and removed).
func (s *Sessions) Lookup(ctx context.Context, token string) (Session, error) {
	if len(token) < 20 || len(token) > 100 {
		return Session{}, ErrNoSession
	}
	h := tokenHash(token)
	var ss Session
	var created, seen int64
	var disabled bool
	err := s.db.QueryRow(ctx, `SELECT s.user_id, s.created_at, s.last_seen, s.user_agent, s.ip, u.disabled
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, h).
		Scan(&ss.UserID, &created, &seen, &ss.UserAgent, &ss.IP, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("auth: session: %w", err)
	}
	now := s.now()
	ss.ID, ss.CreatedAt, ss.LastSeen = h, time.Unix(created, 0), time.Unix(seen, 0)
	if disabled || now.Sub(ss.LastSeen) > IdleTimeout || now.Sub(ss.CreatedAt) > AbsoluteTimeout {
		s.db.Exec(ctx, "DELETE FROM sessions WHERE token_hash = ?", h)
		return Session{}, ErrNoSession
	}
	if now.Sub(ss.LastSeen) >= touchEvery {
		if _, err := s.db.Exec(ctx, "UPDATE sessions SET last_seen = ? WHERE token_hash = ?", now.Unix(), h); err != nil {
			return Session{}, fmt.Errorf("auth: touch session: %w", err)
		}
		ss.LastSeen = now
	}
	return ss, nil
}

// List returns a user's live sessions, most recent first.
func (s *Sessions) List(ctx context.Context, userID int64) ([]Session, error) {
	now := s.now()
	rows, err := s.db.Query(ctx, `SELECT token_hash, created_at, last_seen, user_agent, ip FROM sessions
		WHERE user_id = ? AND last_seen > ? AND created_at > ? ORDER BY last_seen DESC`,
		userID, now.Add(-IdleTimeout).Unix(), now.Add(-AbsoluteTimeout).Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var ss Session
		var created, seen int64
		if err := rows.Scan(&ss.ID, &created, &seen, &ss.UserAgent, &ss.IP); err != nil {
			return nil, err
		}
		ss.UserID, ss.CreatedAt, ss.LastSeen = userID, time.Unix(created, 0), time.Unix(seen, 0)
		out = append(out, ss)
	}
	return out, rows.Err()
}

// End ends one of a user's sessions by its ID. Ending someone else's session
// is not found.
func (s *Sessions) End(ctx context.Context, userID int64, id string) error {
	res, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE token_hash = ? AND user_id = ?", id, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNoSession
	}
	return nil
}

// EndToken ends the session of a token (logout).
func (s *Sessions) EndToken(ctx context.Context, token string) error {
	_, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE token_hash = ?", tokenHash(token))
	return err
}

// EndAll ends every session of a user except keepID (may be empty); used on
// password change, activation and when an account is disabled.
func EndAll(ctx context.Context, q db.Querier, userID int64, keepID string) error {
	_, err := q.Exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?", userID, keepID)
	return err
}

// Purge removes expired sessions; the server calls it now and then.
func (s *Sessions) Purge(ctx context.Context) (int64, error) {
	now := s.now()
	res, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE last_seen < ? OR created_at < ?",
		now.Add(-IdleTimeout).Unix(), now.Add(-AbsoluteTimeout).Unix())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
