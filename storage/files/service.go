package files

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/storage"
)

// Errors of the service. The web maps each to a status and a French message.
var (
	// ErrNotFound: no such object, or one outside the caller's reach.
	ErrNotFound = errors.New("files: not found")
	// ErrForbidden: the caller sees the object but may only read it.
	ErrForbidden = errors.New("files: read only")
	// ErrExists: the folder already holds something under that name.
	ErrExists = errors.New("files: name taken")
	// ErrEmpty: a 0-byte file.
	ErrEmpty = errors.New("files: empty file")
	// ErrTooLarge: over the size limit of the upload kind.
	ErrTooLarge = errors.New("files: too large")
	// ErrBadContent: the content is not what the name claims (an HTML page
	// named photo.png).
	ErrBadContent = errors.New("files: content does not match the name")
	// ErrInterrupted: the content ended before its announced size; nothing
	// was kept.
	ErrInterrupted = errors.New("files: upload interrupted")
	// ErrIncomplete: a resumable upload completed with parts missing.
	ErrIncomplete = errors.New("files: parts missing")
	// ErrBadMove: a folder moved into itself, or across spaces.
	ErrBadMove = errors.New("files: bad move")
	// ErrUnavailable: the content store cannot be reached (503).
	ErrUnavailable = errors.New("files: store unavailable")
	// ErrInvalid: a malformed request (bad date, part number, kind).
	ErrInvalid = errors.New("files: invalid request")
)

// QuotaError is returned when a file does not fit in its account's quota.
type QuotaError struct {
	Kind        string // "person" or "class"
	Used, Limit int64  // bytes, before this file
	Need        int64  // the file's size
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("files: quota of %s full: %d + %d > %d", e.Kind, e.Used, e.Need, e.Limit)
}

// Limits and defaults (docs/files.md).
const (
	DefaultMaxUpload    = 100 << 20 // one-request upload
	DefaultMaxResumable = 2 << 30   // resumable upload
	DefaultKeepVersions = 5
	DefaultBinRetention = 30 * 24 * time.Hour
	DefaultUploadTTL    = 24 * time.Hour
	DefaultClassQuota   = 5 << 30
	maxDepth            = 32 // folders inside folders
	maxCopyNodes        = 1000
)

// DefaultPersonQuotas are the quotas of a person by profile; a person with
// several profiles gets the largest.
var DefaultPersonQuotas = map[identity.Profile]int64{
	identity.Pupil:   500 << 20,
	identity.Parent:  200 << 20,
	identity.Teacher: 2 << 30,
	identity.Staff:   1 << 30,
	identity.Head:    2 << 30,
	identity.Admin:   1 << 30,
}

// Config tunes the service; the zero value works.
type Config struct {
	MaxUpload    int64         // default DefaultMaxUpload
	MaxResumable int64         // default DefaultMaxResumable
	KeepVersions int           // versions kept per file, default 5
	BinRetention time.Duration // default 30 days
	UploadTTL    time.Duration // an unfinished resumable upload expires, default 24 h
	PersonQuotas map[identity.Profile]int64
	ClassQuota   int64
	Now          func() time.Time
	Logger       *slog.Logger
}

// Service is the Documents module over a database and a content store.
type Service struct {
	db    *db.DB
	store storage.Store
	up    storage.Uploader // nil when the store cannot take parts
	dir   *directory.Store
	cfg   Config
	log   *slog.Logger
	// thumbs bounds the thumbnails decoded at once: a 40-megapixel image
	// takes ≈ 160 MB while it is shrunk.
	thumbs chan struct{}
}

// New returns the service. The store is also used as a storage.Uploader for
// resumable uploads when it is one.
func New(d *db.DB, store storage.Store, cfg Config) *Service {
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.MaxResumable <= 0 {
		cfg.MaxResumable = DefaultMaxResumable
	}
	if cfg.KeepVersions <= 0 {
		cfg.KeepVersions = DefaultKeepVersions
	}
	if cfg.BinRetention <= 0 {
		cfg.BinRetention = DefaultBinRetention
	}
	if cfg.UploadTTL <= 0 {
		cfg.UploadTTL = DefaultUploadTTL
	}
	if cfg.PersonQuotas == nil {
		cfg.PersonQuotas = DefaultPersonQuotas
	}
	if cfg.ClassQuota <= 0 {
		cfg.ClassQuota = DefaultClassQuota
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: d, store: store, dir: directory.New(d), cfg: cfg, log: cfg.Logger,
		thumbs: make(chan struct{}, maxThumbDecodes)}
	s.up, _ = store.(storage.Uploader)
	return s
}

// Limits reports the size limits, for pages and the API.
func (s *Service) Limits() (maxUpload, maxResumable int64) {
	return s.cfg.MaxUpload, s.cfg.MaxResumable
}

// Resumable reports whether large uploads can be sent in parts.
func (s *Service) Resumable() bool { return s.up != nil }

// Ping checks the content store within ctx (the web bounds it to 2 s).
func (s *Service) Ping(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// storeErr turns a store failure into the service's errors.
func storeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, op, err)
	case errors.Is(err, storage.ErrSize):
		return fmt.Errorf("%w: %s: %v", ErrInterrupted, op, err)
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: %s: %v", ErrNotFound, op, err)
	}
	return fmt.Errorf("files: %s: %w", op, err)
}

func (s *Service) nowMs() int64 { return s.cfg.Now().UnixMilli() }

// newKey makes a content key: "v/" and 128 random bits.
func newKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "v/" + hex.EncodeToString(b)
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// dropKeys deletes contents no row points to any more, after a commit (or a
// failed one), with their cached thumbnails. A failure only leaves an
// orphan, logged.
func (s *Service) dropKeys(keys ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var all []string
	for _, k := range keys {
		all = append(append(all, k), thumbKeys(k)...)
	}
	for _, k := range all {
		if err := s.store.Delete(ctx, k); err != nil {
			s.log.Warn("files: delete content", "key", k, "err", err)
		}
	}
}

func ms(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
