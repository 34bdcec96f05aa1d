// Package stores opens the storage engine a URL names (PREAU_STORAGE_URL):
// the local directory by default, or an S3 bucket.
package stores

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"preau/storage"
	"preau/storage/disk"
	"preau/storage/s3"
)

// Open returns the store rawURL names:
//
//	""                              a directory "files" in dataDir
//	file:///srv/preau/files         that directory (an absolute path)
//	s3://KEY:SECRET@host:9000/bucket?secure=false&region=…
//	s3s://KEY:SECRET@host/bucket    S3 over HTTPS (also s3:// by default)
//
// Both engines also implement storage.Uploader, io.Closer and
// Sweep(ctx, olderThan) (int, error); the S3 one storage.Presigner too.
// Open creates the directory or the bucket when missing.
func Open(ctx context.Context, rawURL, dataDir string) (storage.Store, error) {
	if rawURL == "" {
		if dataDir == "" {
			return nil, errors.New("stores: no storage URL and no data directory")
		}
		return disk.Open(filepath.Join(dataDir, "files"))
	}
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("stores: storage URL must start with file://, s3:// or s3s://")
	}
	switch strings.ToLower(scheme) {
	case "file":
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("stores: storage URL does not parse: %w", err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("stores: %s: a file URL names a local directory: file:///srv/preau/files", rawURL)
		}
		if !filepath.IsAbs(filepath.FromSlash(u.Path)) || u.RawQuery != "" {
			return nil, fmt.Errorf("stores: %s: give an absolute path, without query: file:///srv/preau/files", rawURL)
		}
		return disk.Open(filepath.FromSlash(u.Path))
	case "s3", "s3s":
		cfg, err := s3.ParseURL(rawURL)
		if err != nil {
			return nil, err
		}
		return s3.Open(ctx, cfg)
	}
	return nil, fmt.Errorf("stores: storage URL scheme %q: use file://, s3:// or s3s://", scheme)
}
