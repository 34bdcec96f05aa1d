package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
)

// A second factor (TOTP, RFC 6238: 6 digits, 30-second steps, SHA-1, as
// every authenticator application supports) for the adults who administer
// or teach. Parents and pupils sign in with a password alone.

const (
	totpPeriod     = 30
	challengeTTL   = 5 * time.Minute
	challengeTries = 5
	totpIssuer     = "Préau"
	totpSkewSteps  = 1 // accept the previous and next code: clocks drift
)

// ErrBadTOTP is a wrong, reused or expired second-factor code or challenge.
var ErrBadTOTP = errors.New("auth: bad second-factor code")

// SecondFactorError is returned by Login when the password was right and
// the account has a second factor: the caller asks for the code and calls
// SecondFactor with the challenge.
type SecondFactorError struct{ Challenge string }

func (e *SecondFactorError) Error() string { return "auth: second factor required" }

// TOTPAllowed reports whether a person's profiles may add a second factor.
func TOTPAllowed(p *identity.Principal) bool {
	return p.Has(identity.Teacher) || p.Has(identity.Staff) || p.Has(identity.Head) || p.Has(identity.Admin)
}

// TOTPEnabled reports whether an account has a confirmed second factor.
func (s *Service) TOTPEnabled(ctx context.Context, userID int64) (bool, error) {
	var secret sql.NullString
	err := s.db.QueryRow(ctx, "SELECT totp_secret FROM users WHERE id = ?", userID).Scan(&secret)
	return secret.Valid, err
}

// TOTPSetup is what a person needs to add Préau to their application.
type TOTPSetup struct {
	Secret string // base32, to type by hand
	URL    string // otpauth:// URL
	QR     string // data: URL of a PNG QR code of URL
}

// BeginTOTP makes a new secret for the person, pending until ConfirmTOTP
// proves their application has it.
func (s *Service) BeginTOTP(ctx context.Context, userID int64) (TOTPSetup, error) {
	p, err := directory.PersonBy(ctx, s.db, "id", userID)
	if err != nil {
		return TOTPSetup{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: p.Login, Period: totpPeriod,
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Rand: rand.Reader})
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("auth: totp: %w", err)
	}
	if _, err := s.db.Exec(ctx, "UPDATE users SET totp_pending = ? WHERE id = ?", key.Secret(), userID); err != nil {
		return TOTPSetup{}, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return TOTPSetup{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{Secret: key.Secret(), URL: key.URL(),
		QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// ConfirmTOTP turns the pending secret on when code matches it.
func (s *Service) ConfirmTOTP(ctx context.Context, userID int64, code string) error {
	var pending sql.NullString
	if err := s.db.QueryRow(ctx, "SELECT totp_pending FROM users WHERE id = ?", userID).Scan(&pending); err != nil {
		return err
	}
	if !pending.Valid {
		return ErrBadTOTP
	}
	step, ok := matchTOTP(pending.String, code, time.Now(), 0)
	if !ok {
		return ErrBadTOTP
	}
	_, err := s.db.Exec(ctx, "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ? WHERE id = ?", step, userID)
	if err == nil {
		s.log.Info("security: second factor enabled", "user", userID)
	}
	return err
}

// DisableTOTP removes the second factor after checking the password.
func (s *Service) DisableTOTP(ctx context.Context, userID int64, password string) error {
	if err := s.checkPassword(ctx, userID, password); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, "UPDATE users SET totp_secret = NULL, totp_pending = NULL WHERE id = ?", userID)
	if err == nil {
		s.log.Info("security: second factor disabled", "user", userID)
	}
	return err
}

// matchTOTP checks code against secret around now, refusing steps at or
// before lastStep (a code is used once). It returns the matching step.
func matchTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for d := int64(-totpSkewSteps); d <= totpSkewSteps; d++ {
		step := cur + d
		if step <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0),
			totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && want == code {
			return step, true
		}
	}
	return 0, false
}

// challenge records a checked password waiting for its second factor.
func (s *Service) challenge(ctx context.Context, userID int64, c Client) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := time.Now()
	s.db.Exec(ctx, "DELETE FROM login_challenges WHERE expires_at < ?", now.Unix())
	_, err := s.db.Exec(ctx, "INSERT INTO login_challenges (token_hash, user_id, expires_at, user_agent, ip) VALUES (?, ?, ?, ?, ?)",
		tokenHash(tok), userID, now.Add(challengeTTL).Unix(), truncate(c.UserAgent, 200), c.IP)
	return tok, err
}

// SecondFactor completes a login that Login answered with a
// SecondFactorError: a right code starts the session. A challenge allows 5
// tries in 5 minutes.
func (s *Service) SecondFactor(ctx context.Context, challenge, code string, c Client) (token string, userID int64, err error) {
	h := tokenHash(challenge)
	var attempts int
	var expires int64
	var secret sql.NullString
	var lastStep int64
	err = s.db.QueryRow(ctx, `SELECT l.user_id, l.attempts, l.expires_at, u.totp_secret, u.totp_last_step
		FROM login_challenges l JOIN users u ON u.id = l.user_id WHERE l.token_hash = ? AND NOT u.disabled`, h).
		Scan(&userID, &attempts, &expires, &secret, &lastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, ErrBadTOTP
	}
	if err != nil {
		return "", 0, fmt.Errorf("auth: second factor: %w", err)
	}
	now := time.Now()
	if attempts >= challengeTries || now.Unix() > expires || !secret.Valid {
		s.db.Exec(ctx, "DELETE FROM login_challenges WHERE token_hash = ?", h)
		return "", 0, ErrBadTOTP
	}
	step, ok := matchTOTP(secret.String, code, now, lastStep)
	if !ok {
		s.db.Exec(ctx, "UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = ?", h)
		s.log.Info("security: second factor failed", "user", userID, "ip", c.IP)
		return "", 0, ErrBadTOTP
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// The step moves forward only once: a concurrent use of the same
		// code finds nothing to update.
		res, err := tx.Exec(ctx, "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", step, userID, step)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrBadTOTP
		}
		if _, err := tx.Exec(ctx, "DELETE FROM login_challenges WHERE token_hash = ?", h); err != nil {
			return err
		}
		token, err = s.Sessions.Create(ctx, tx, userID, c.UserAgent, c.IP)
		return err
	})
	if err != nil {
		return "", 0, err
	}
	s.log.Info("security: login", "user", userID, "ip", c.IP, "second_factor", true)
	return token, userID, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
