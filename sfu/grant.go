package sfu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
)

// MaxGrantTTL is the longest a grant may live (SECURITY.md: ≤ 10 min, refreshed).
const MaxGrantTTL = 10 * time.Minute

// Roles a grant may carry.
const (
	RoleModerator   = "moderator"
	RoleParticipant = "participant"
)

// Errors returned by Signer.Verify and Manager.Join. They are sentinel values
// so that the signaling boundary can map them to a French message.
var (
	ErrBadGrant    = errors.New("sfu: malformed or tampered grant")
	ErrExpired     = errors.New("sfu: grant expired")
	ErrWrongRoom   = errors.New("sfu: grant is for another room")
	ErrUnknownRoom = errors.New("sfu: unknown room")
	ErrRoomLocked  = errors.New("sfu: room is locked")
	ErrKicked      = errors.New("sfu: removed from this room")
	ErrForbidden   = errors.New("sfu: not allowed")
)

// Grant is what its holder may do in one room. The server issues it (never the
// client) after checking who the user is; it lives at most MaxGrantTTL.
type Grant struct {
	Room             string    `json:"room"`
	UserID           string    `json:"user"`
	Name             string    `json:"name"`
	Role             string    `json:"role"`
	CanPublishAudio  bool      `json:"audio"`
	CanPublishVideo  bool      `json:"video"`
	CanPublishScreen bool      `json:"screen"`
	Expires          time.Time `json:"exp"`
}

// grantWire is the canonical encoding: fixed field order, expiry in Unix
// seconds, so the signed bytes do not depend on time zones or precision.
type grantWire struct {
	Room   string `json:"room"`
	User   string `json:"user"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Audio  bool   `json:"audio"`
	Video  bool   `json:"video"`
	Screen bool   `json:"screen"`
	Exp    int64  `json:"exp"`
}

// Signer signs and verifies grants with HMAC-SHA256 under a server key.
type Signer struct {
	// Key is the server's secret, at least 32 bytes.
	Key []byte
}

const grantPrefix = "g1."

// mac is HMAC-SHA256 over a domain-separation label and the payload, so a
// grant MAC can never be confused with another use of the same key.
func (s Signer) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, s.Key)
	h.Write([]byte("preau-sfu-grant-v1\x00"))
	h.Write(payload)
	return h.Sum(nil)
}

// Sign returns the token for g. It refuses a grant that would live longer than
// MaxGrantTTL from now, an empty room or user, or an unknown role.
func (s Signer) Sign(g Grant, now time.Time) (string, error) {
	if len(s.Key) < 32 {
		return "", errors.New("sfu: grant key shorter than 32 bytes")
	}
	if g.Room == "" || g.UserID == "" {
		return "", errors.New("sfu: grant without room or user")
	}
	if g.Role != RoleModerator && g.Role != RoleParticipant {
		return "", fmt.Errorf("sfu: grant role %q", g.Role)
	}
	if !g.Expires.After(now) || g.Expires.Sub(now) > MaxGrantTTL {
		return "", fmt.Errorf("sfu: grant lifetime must be in (0, %v]", MaxGrantTTL)
	}
	payload, err := json.Marshal(grantWire{
		Room: g.Room, User: g.UserID, Name: g.Name, Role: g.Role,
		Audio: g.CanPublishAudio, Video: g.CanPublishVideo, Screen: g.CanPublishScreen,
		Exp: g.Expires.Unix(),
	})
	if err != nil {
		return "", fmt.Errorf("sfu: encode grant: %w", err)
	}
	enc := base64.RawURLEncoding
	return grantPrefix + enc.EncodeToString(payload) + "." + enc.EncodeToString(s.mac(payload)), nil
}

// Verify checks token's MAC, its expiry at now and that it names room. The
// MAC is checked (in constant time) before the payload is parsed.
func (s Signer) Verify(token, room string, now time.Time) (Grant, error) {
	if len(s.Key) < 32 || len(token) > 4096 {
		return Grant{}, ErrBadGrant
	}
	rest, ok := strings.CutPrefix(token, grantPrefix)
	if !ok {
		return Grant{}, ErrBadGrant
	}
	p64, m64, ok := strings.Cut(rest, ".")
	if !ok {
		return Grant{}, ErrBadGrant
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p64)
	sum, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(sum, s.mac(payload)) {
		return Grant{}, ErrBadGrant
	}
	var w grantWire
	if err := json.Unmarshal(payload, &w, json.RejectUnknownMembers(true)); err != nil {
		return Grant{}, ErrBadGrant
	}
	exp := time.Unix(w.Exp, 0)
	if !now.Before(exp) {
		return Grant{}, ErrExpired
	}
	if exp.Sub(now) > MaxGrantTTL+time.Minute { // a minute of clock skew between nodes
		return Grant{}, ErrBadGrant
	}
	if w.Room != room {
		return Grant{}, ErrWrongRoom
	}
	if w.Role != RoleModerator && w.Role != RoleParticipant {
		return Grant{}, ErrBadGrant
	}
	return Grant{
		Room: w.Room, UserID: w.User, Name: w.Name, Role: w.Role,
		CanPublishAudio: w.Audio, CanPublishVideo: w.Video, CanPublishScreen: w.Screen,
		Expires: exp,
	}, nil
}
