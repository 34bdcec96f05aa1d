package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
)

// Errors a sign-in can end with. Their French text for users is in web.
var (
	// ErrBadCredentials is the one answer for an unknown identifier, a wrong
	// password, an account not yet activated or disabled: nothing is revealed.
	ErrBadCredentials = errors.New("auth: bad credentials")
	// ErrBadCode covers an unknown, used, expired or mismatched activation code.
	ErrBadCode = errors.New("auth: bad activation code")
)

// ThrottledError says how long to wait before trying again.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string { return fmt.Sprintf("auth: throttled for %s", e.Wait) }

// Config tunes a Service; the zero value works.
type Config struct {
	// Params for new hashes (zero: DefaultParams).
	Params Params
	// HashWait is how long a login waits for a free hashing slot before
	// answering ErrBusy (default 2 s).
	HashWait time.Duration
	// Throttle counts attempts (nil: a DBThrottle on the service's database,
	// shared by every node; tests may pass a MemoryThrottle).
	Throttle Throttle
}

// Service signs people in and manages their credentials.
type Service struct {
	db       *db.DB
	Hasher   *Hasher
	Sessions *Sessions
	Throttle Throttle
	log      *slog.Logger
	hashWait time.Duration
}

// NewService returns a Service on d.
func NewService(d *db.DB, cfg Config, log *slog.Logger) *Service {
	if cfg.HashWait == 0 {
		cfg.HashWait = 2 * time.Second
	}
	if cfg.Throttle == nil {
		cfg.Throttle = NewDBThrottle(d)
	}
	return &Service{db: d, Hasher: NewHasher(cfg.Params), Sessions: NewSessions(d), Throttle: cfg.Throttle,
		log: log, hashWait: cfg.HashWait}
}

// Client is who is signing in, for throttling and the sessions list.
type Client struct {
	IP        string
	UserAgent string
}

// Login checks an identifier and password and starts a session.
func (s *Service) Login(ctx context.Context, login, password string, c Client) (token string, userID int64, err error) {
	login = strings.ToLower(strings.TrimSpace(login))
	if ok, wait, err := s.Throttle.Allow(ctx, login, c.IP); err != nil {
		return "", 0, err
	} else if !ok {
		s.log.Warn("security: login throttled", "login", login, "ip", c.IP)
		return "", 0, &ThrottledError{Wait: wait}
	}
	if len(login) > 100 || len(password) > 4*MaxLen || !plausibleLogin(login) {
		// No account has such an identifier: answer as for a wrong password,
		// without asking the database (PostgreSQL refuses NUL bytes).
		return "", 0, s.failed(ctx, login, ErrBadCredentials)
	}
	var phc, secondFactor sql.NullString
	var disabled bool
	err = s.db.QueryRow(ctx, "SELECT id, password_hash, disabled, totp_secret FROM users WHERE login = ?", login).
		Scan(&userID, &phc, &disabled, &secondFactor)
	hctx, cancel := context.WithTimeout(ctx, s.hashWait)
	defer cancel()
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && (!phc.Valid || disabled):
		// Spend the same time as a real check so timing reveals nothing.
		if err := s.Hasher.Burn(hctx, password); err != nil {
			return "", 0, err
		}
		s.log.Info("security: login failed", "login", login, "ip", c.IP)
		return "", 0, s.failed(ctx, login, ErrBadCredentials)
	case err != nil:
		return "", 0, fmt.Errorf("auth: login: %w", err)
	}
	ok, rehash, err := s.Hasher.Verify(hctx, phc.String, password)
	if err != nil {
		return "", 0, err
	}
	if !ok {
		s.log.Info("security: login failed", "login", login, "ip", c.IP)
		return "", 0, s.failed(ctx, login, ErrBadCredentials)
	}
	if err := s.Throttle.Succeed(ctx, login); err != nil {
		return "", 0, err
	}
	if rehash {
		if h, err := s.Hasher.Hash(hctx, password); err == nil {
			s.db.Exec(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", h, userID)
		}
	}
	if secondFactor.Valid {
		ch, err := s.challenge(ctx, userID, c)
		if err != nil {
			return "", 0, fmt.Errorf("auth: login: %w", err)
		}
		return "", 0, &SecondFactorError{Challenge: ch}
	}
	token, err = s.Sessions.Create(ctx, s.db, userID, c.UserAgent, c.IP)
	if err != nil {
		return "", 0, err
	}
	s.log.Info("security: login", "user", userID, "ip", c.IP)
	return token, userID, nil
}

// failed counts a failed attempt for login and returns answer, or the
// throttle's error: an attempt that could not be counted is refused.
func (s *Service) failed(ctx context.Context, login string, answer error) error {
	if err := s.Throttle.Fail(ctx, login); err != nil {
		return err
	}
	return answer
}

// plausibleLogin reports whether s could be an identifier: valid UTF-8
// without control characters.
func plausibleLogin(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// Activate is the first login: a valid activation code for this identifier
// lets the person choose their password. The code is then spent, other
// sessions end, and a new session starts.
func (s *Service) Activate(ctx context.Context, login, code, password string, c Client) (token string, userID int64, err error) {
	login = strings.ToLower(strings.TrimSpace(login))
	if ok, wait, err := s.Throttle.Allow(ctx, login, c.IP); err != nil {
		return "", 0, err
	} else if !ok {
		return "", 0, &ThrottledError{Wait: wait}
	}
	if len(login) > 100 || len(code) > 100 || !plausibleLogin(login) || !plausibleLogin(code) {
		return "", 0, s.failed(ctx, login, ErrBadCode)
	}
	now := time.Now().Unix()
	var p directory.Person
	err = s.db.QueryRow(ctx, `SELECT u.id, u.first_name, u.last_name, u.disabled FROM activation_codes a JOIN users u ON u.id = a.user_id
		WHERE a.code_hash = ? AND u.login = ? AND a.used_at = 0 AND a.expires_at > ?`, codeHash(code), login, now).
		Scan(&p.ID, &p.FirstName, &p.LastName, &p.Disabled)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && p.Disabled) {
		s.log.Info("security: activation failed", "login", login, "ip", c.IP)
		return "", 0, s.failed(ctx, login, ErrBadCode)
	}
	if err != nil {
		return "", 0, fmt.Errorf("auth: activate: %w", err)
	}
	if err := s.checkPolicy(ctx, p.ID, password, login, p.FirstName, p.LastName); err != nil {
		return "", 0, err
	}
	hctx, cancel := context.WithTimeout(ctx, s.hashWait)
	defer cancel()
	h, err := s.Hasher.Hash(hctx, password)
	if err != nil {
		return "", 0, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE activation_codes SET used_at = ? WHERE code_hash = ? AND used_at = 0", now, codeHash(code))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrBadCode // spent by a concurrent request
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?", h, now, p.ID); err != nil {
			return err
		}
		if err := EndAll(ctx, tx, p.ID, ""); err != nil {
			return err
		}
		token, err = s.Sessions.Create(ctx, tx, p.ID, c.UserAgent, c.IP)
		return err
	})
	if err != nil {
		return "", 0, err
	}
	if err := s.Throttle.Succeed(ctx, login); err != nil {
		s.log.Warn("throttle: forget failures", "err", err) // the account is activated: do not fail it
	}
	s.log.Info("security: account activated", "user", p.ID, "ip", c.IP)
	return token, p.ID, nil
}

// checkPolicy applies CheckPassword with the person's names and whether they
// are an adult (any profile other than pupil).
func (s *Service) checkPolicy(ctx context.Context, userID int64, password string, names ...string) error {
	roles, err := directory.Roles(ctx, s.db, userID)
	if err != nil {
		return err
	}
	adult := len(roles) == 0
	for _, r := range roles {
		if r.Profile.Adult() {
			adult = true
		}
	}
	return CheckPassword(password, adult, names...)
}

// ChangePassword replaces a password after checking the current one; every
// other session of the person ends.
func (s *Service) ChangePassword(ctx context.Context, userID int64, sessionID, current, next string) error {
	p, err := directory.PersonBy(ctx, s.db, "id", userID)
	if err != nil {
		return err
	}
	if err := s.checkPassword(ctx, userID, current); err != nil {
		return err
	}
	if err := s.checkPolicy(ctx, userID, next, p.Login, p.FirstName, p.LastName); err != nil {
		return err
	}
	hctx, cancel := context.WithTimeout(ctx, s.hashWait)
	defer cancel()
	h, err := s.Hasher.Hash(hctx, next)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?", h, time.Now().Unix(), userID); err != nil {
			return err
		}
		return EndAll(ctx, tx, userID, sessionID)
	})
	if err == nil {
		s.log.Info("security: password changed", "user", userID)
	}
	return err
}

// checkPassword confirms a signed-in person's password before a sensitive
// change; failures count towards the throttle like logins.
func (s *Service) checkPassword(ctx context.Context, userID int64, password string) error {
	var login string
	var phc sql.NullString
	if err := s.db.QueryRow(ctx, "SELECT login, password_hash FROM users WHERE id = ?", userID).Scan(&login, &phc); err != nil {
		return err
	}
	if wait, err := s.Throttle.Locked(ctx, login); err != nil {
		return err
	} else if wait > 0 {
		return &ThrottledError{Wait: wait}
	}
	if !phc.Valid {
		return ErrBadCredentials
	}
	hctx, cancel := context.WithTimeout(ctx, s.hashWait)
	defer cancel()
	ok, _, err := s.Hasher.Verify(hctx, phc.String, password)
	if err != nil {
		return err
	}
	if !ok {
		return s.failed(ctx, login, ErrBadCredentials)
	}
	return nil
}

// ResetAccess is what staff do for someone who lost their password (or the
// phone of their second factor) or whose account may be misused: the
// password and second factor are cleared, every session ends, and a
// new activation code is returned to hand to the person.
func (s *Service) ResetAccess(ctx context.Context, userID, byUserID int64) (code string, expires time.Time, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// A lost phone is a reason for a reset too: the second factor goes.
		res, err := tx.Exec(ctx, "UPDATE users SET password_hash = NULL, totp_secret = NULL, totp_pending = NULL WHERE id = ?", userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return directory.ErrNotFound
		}
		if err := EndAll(ctx, tx, userID, ""); err != nil {
			return err
		}
		code, expires, err = IssueCode(ctx, tx, userID, byUserID, ActivationTTL)
		return err
	})
	if err == nil {
		s.log.Info("security: access reset", "user", userID, "by", byUserID)
	}
	return code, expires, err
}

// SetDisabled disables (or enables) an account; a disabled account loses
// every session at once.
func (s *Service) SetDisabled(ctx context.Context, userID, byUserID int64, disabled bool) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE users SET disabled = ? WHERE id = ?", disabled, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return directory.ErrNotFound
		}
		if disabled {
			return EndAll(ctx, tx, userID, "")
		}
		return nil
	})
	if err == nil {
		s.log.Info("security: account disabled", "user", userID, "by", byUserID, "disabled", disabled)
	}
	return err
}

// Principal loads the access-check view of a user (roles, children, classes).
func (s *Service) Principal(ctx context.Context, userID int64) (*identity.Principal, error) {
	return directory.New(s.db).Principal(ctx, userID)
}
