// Package storage keeps the contents of Préau's files. Names, folders,
// owners, shares, versions and quotas live in the database (package files);
// a Store only holds bytes under keys the server makes (never a user's
// file name), on a local directory by default or in MinIO / any S3.
package storage

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors every Store returns (wrapped) so callers can tell them apart.
var (
	// ErrNotFound: no object under that key (or no such upload).
	ErrNotFound = errors.New("storage: not found")
	// ErrUnavailable: the store cannot be reached now (MinIO down, disk
	// gone). File routes answer 503 with a French message.
	ErrUnavailable = errors.New("storage: unavailable")
	// ErrBadKey: a key that is not one the server makes.
	ErrBadKey = errors.New("storage: bad key")
	// ErrSize: the content is not the size announced.
	ErrSize = errors.New("storage: size mismatch")
)

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store holds objects under server-made keys: lower-case ASCII letters,
// digits, '-', '_' and '/' separators, no empty, "." or ".." segment, at most
// 256 bytes (ValidKey). An object is written whole or not at all: a reader
// never sees a half-written object, and an interrupted Put leaves nothing.
type Store interface {
	// Put stores exactly size bytes read from r under key, replacing any
	// object there. It fails with ErrSize when r ends early or has more.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Get returns length bytes from offset (length < 0: to the end).
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Stat describes the object under key.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Copy makes dst a copy of src without passing the bytes through Préau
	// where the store can (S3 server-side copy).
	Copy(ctx context.Context, dst, src string) error
	// Ping reports whether the store is reachable now (health checks and
	// the 503 of file routes), within ctx's deadline.
	Ping(ctx context.Context) error
}

// Uploader assembles a large object from parts sent one by one, so that an
// upload survives a dropped connection: the client resends only the parts
// that were not acknowledged. Parts are numbered from 1; every part but the
// last is at least MinPartSize bytes. Nothing is visible under key until
// Complete returns; Abort (or a Complete that fails) leaves nothing behind.
type Uploader interface {
	// BeginUpload starts an upload to key and returns its id.
	BeginUpload(ctx context.Context, key string) (string, error)
	// PutPart stores part n (replacing an earlier attempt at it).
	PutPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) error
	// CompleteUpload joins parts 1..parts into the object under key.
	CompleteUpload(ctx context.Context, key, uploadID string, parts int) error
	// AbortUpload drops the upload and its parts.
	AbortUpload(ctx context.Context, key, uploadID string) error
}

// MinPartSize is the smallest part but the last (S3's own minimum).
const MinPartSize = 5 << 20

// Presigner is implemented by stores the browser can reach directly (S3):
// URLs are issued only after Préau's own access check, valid for ttl
// (at most MaxPresignTTL).
type Presigner interface {
	// PresignGet returns a URL that downloads key, offered to the browser
	// under the file name filename (Content-Disposition) and contentType.
	PresignGet(ctx context.Context, key, filename, contentType string, ttl time.Duration) (string, error)
	// PresignPut returns a URL the browser PUTs exactly the content to.
	PresignPut(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// PartPresigner is implemented by stores that take the parts of an upload
// straight from the browser (S3): PresignPart signs a PUT of part n of
// uploadID, PartSizes reports the parts the store holds and their sizes.
// S3 cannot bind a URL to a size: the caller checks the sizes.
type PartPresigner interface {
	PresignPart(ctx context.Context, key, uploadID string, n int, ttl time.Duration) (string, error)
	PartSizes(ctx context.Context, key, uploadID string) (map[int]int64, error)
}

// MaxPresignTTL bounds presigned URLs (SECURITY.md: ≤ 5 minutes).
const MaxPresignTTL = 5 * time.Minute

// ValidKey reports whether key is one the server could have made.
func ValidKey(key string) bool {
	if key == "" || len(key) > 256 || key[0] == '/' || key[len(key)-1] == '/' {
		return false
	}
	seg := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			seg++
		case c == '.':
			seg++
		case c == '/':
			if seg == 0 {
				return false
			}
			seg = 0
		default:
			return false
		}
	}
	return !hasDotSegment(key)
}

func hasDotSegment(key string) bool {
	start := 0
	for i := 0; i <= len(key); i++ {
		if i == len(key) || key[i] == '/' {
			if s := key[start:i]; s == "." || s == ".." {
				return true
			}
			start = i + 1
		}
	}
	return false
}
