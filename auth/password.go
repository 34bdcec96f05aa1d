package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB uint32
	Passes    uint32
	Lanes     uint8
}

// DefaultParams follow OWASP / SECURITY.md: 19 MiB, 2 passes, 1 lane.
var DefaultParams = Params{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrBusy means too many hashes are running; the caller answers 429.
var ErrBusy = errors.New("auth: too many concurrent password checks")

// Hasher hashes and verifies passwords with argon2id, at most a fixed number
// at a time so that a login flood is refused instead of exhausting memory.
type Hasher struct {
	Params Params
	slots  chan struct{}
	burn   string // a hash at Params of nothing, for Burn
}

// NewHasher returns a Hasher with p (zero: DefaultParams) and at most
// 2 × GOMAXPROCS hashes running at once.
func NewHasher(p Params) *Hasher {
	if p.MemoryKiB == 0 {
		p = DefaultParams
	}
	return &Hasher{Params: p, slots: make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
		burn: encodePHC(p, make([]byte, saltLen), make([]byte, keyLen))}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	// Wait a little for a slot; a flood beyond that is refused.
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ErrBusy
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := h.Params
	key := argon2.IDKey([]byte(password), salt, p.Passes, p.MemoryKiB, p.Lanes, keyLen)
	return encodePHC(p, salt, key), nil
}

func encodePHC(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Passes, p.Lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches the PHC string, and whether the
// hash should be redone because its parameters are below h.Params.
func (h *Hasher) Verify(ctx context.Context, phc, password string) (ok, rehash bool, err error) {
	p, salt, key, err := decodePHC(phc)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Passes, p.MemoryKiB, p.Lanes, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	rehash = p.MemoryKiB < h.Params.MemoryKiB || p.Passes < h.Params.Passes || p.Lanes < h.Params.Lanes
	return ok, rehash, nil
}

// Burn spends the time of one verification without a real hash, so that an
// unknown identifier answers as slowly as a wrong password.
func (h *Hasher) Burn(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, h.burn, password)
	return err
}

func decodePHC(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("auth: not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errors.New("auth: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Passes, &p.Lanes); err != nil {
		return p, nil, nil, fmt.Errorf("auth: argon2 parameters: %w", err)
	}
	if p.MemoryKiB < 8*1024 || p.MemoryKiB > 1<<20 || p.Passes < 1 || p.Passes > 10 || p.Lanes < 1 {
		return p, nil, nil, errors.New("auth: argon2 parameters out of range")
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("auth: salt: %w", err)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, errors.New("auth: bad hash")
	}
	return p, salt, key, nil
}
