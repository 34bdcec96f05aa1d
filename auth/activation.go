package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"preau/db"
)

// ActivationTTL is how long an activation code is valid (SECURITY.md: ≤ 72 h).
const ActivationTTL = 72 * time.Hour

// codeAlphabet avoids letters and digits that look alike (0/O, 1/I/L), since
// codes are read from paper by children and parents.
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// NewCode returns a random activation code such as "K7QM-3XPA-9RTD" (about
// 59 bits; codes are single-use, expire, and guessing is throttled).
func NewCode() string {
	b := make([]byte, 12)
	rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return sb.String()
}

// normalizeCode accepts a code typed with spaces, lower case or no dashes.
func normalizeCode(code string) string {
	var sb strings.Builder
	for _, r := range strings.ToUpper(code) {
		if strings.ContainsRune(codeAlphabet, r) {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

func codeHash(code string) string {
	sum := sha256.Sum256([]byte("preau-activation:" + normalizeCode(code)))
	return hex.EncodeToString(sum[:])
}

// IssueCode creates a new activation code for a person, valid for ttl
// (0: ActivationTTL, capped at ActivationTTL). Earlier unused codes of that
// person stop working. byUserID is the staff member issuing it (0: import or
// system). The code itself is returned once and never stored.
func IssueCode(ctx context.Context, q db.Querier, userID, byUserID int64, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 || ttl > ActivationTTL {
		ttl = ActivationTTL
	}
	now := time.Now()
	if _, err := q.Exec(ctx, "DELETE FROM activation_codes WHERE user_id = ? AND used_at = 0", userID); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue code: %w", err)
	}
	code := NewCode()
	exp := now.Add(ttl)
	var by any
	if byUserID != 0 {
		by = byUserID
	}
	if _, err := q.Exec(ctx, "INSERT INTO activation_codes (code_hash, user_id, created_at, expires_at, created_by) VALUES (?, ?, ?, ?, ?)",
		codeHash(code), userID, now.Unix(), exp.Unix(), by); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue code: %w", err)
	}
	return code, exp, nil
}
