package s3

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"preau/storage"
)

// maxParts is S3's limit on the parts of an upload.
const maxParts = 10000

// BeginUpload starts a multipart upload to key; the id is S3's upload id.
func (s *Store) BeginUpload(ctx context.Context, key string) (string, error) {
	obj, err := s.object("begin upload", key)
	if err != nil {
		return "", err
	}
	id, err := s.core.NewMultipartUpload(ctx, s.cfg.Bucket, obj, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
	})
	if err != nil {
		return "", s.mapErr("begin upload", key, err)
	}
	return id, nil
}

// PutPart streams part n of the upload to the server (no buffering).
func (s *Store) PutPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) error {
	obj, err := s.object("put part", key)
	if err != nil {
		return err
	}
	if n < 1 || n > maxParts {
		return fmt.Errorf("s3: put part %d of %q: part numbers go from 1 to %d", n, key, maxParts)
	}
	if size < 0 {
		return fmt.Errorf("s3: put part %d of %q: size %d: %w", n, key, size, storage.ErrSize)
	}
	if uploadID == "" {
		return fmt.Errorf("s3: put part %d of %q: no upload id: %w", n, key, storage.ErrNotFound)
	}
	src := &sourceReader{r: storage.ExactReader(r, size)}
	_, err = s.core.PutObjectPart(ctx, s.cfg.Bucket, obj, uploadID, n, src, size, minio.PutObjectPartOptions{
		DisableContentSha256: true, // as in Put: a CRC32C trailer instead
	})
	if err != nil {
		return s.mapPutErr(ctx, fmt.Sprintf("put part %d", n), key, src, err)
	}
	return nil
}

// CompleteUpload joins parts 1..parts into the object under key. The parts
// are checked first (S3 would accept a subset): a missing one fails with
// ErrNotFound, one but the last smaller than storage.MinPartSize with
// ErrSize. On any failure the upload is aborted.
func (s *Store) CompleteUpload(ctx context.Context, key, uploadID string, parts int) (err error) {
	obj, err := s.object("complete upload", key)
	if err != nil {
		return err
	}
	if uploadID == "" {
		return fmt.Errorf("s3: complete upload of %q: no upload id: %w", key, storage.ErrNotFound)
	}
	defer func() {
		if err != nil {
			s.abort(ctx, obj, uploadID)
		}
	}()
	if parts < 1 || parts > maxParts {
		return fmt.Errorf("s3: complete upload of %q: %d parts: %w", key, parts, storage.ErrSize)
	}
	have, err := s.listParts(ctx, obj, uploadID)
	if err != nil {
		return s.mapErr("complete upload", key, err)
	}
	done := make([]minio.CompletePart, parts)
	for i := 1; i <= parts; i++ {
		p, ok := have[i]
		if !ok {
			return fmt.Errorf("s3: complete upload of %q: part %d is missing: %w", key, i, storage.ErrNotFound)
		}
		if i < parts && p.Size < storage.MinPartSize {
			return fmt.Errorf("s3: complete upload of %q: part %d has %d bytes, less than %d: %w",
				key, i, p.Size, storage.MinPartSize, storage.ErrSize)
		}
		done[i-1] = minio.CompletePart{PartNumber: i, ETag: p.ETag}
	}
	_, err = s.core.CompleteMultipartUpload(ctx, s.cfg.Bucket, obj, uploadID, done, minio.PutObjectOptions{})
	if err != nil {
		return s.mapErr("complete upload", key, err)
	}
	return nil
}

// listParts returns the parts the server holds, by number.
func (s *Store) listParts(ctx context.Context, obj, uploadID string) (map[int]minio.ObjectPart, error) {
	have := make(map[int]minio.ObjectPart)
	marker := 0
	for {
		res, err := s.core.ListObjectParts(ctx, s.cfg.Bucket, obj, uploadID, marker, 1000)
		if err != nil {
			return nil, err
		}
		for _, p := range res.ObjectParts {
			have[p.PartNumber] = p
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			return have, nil
		}
		marker = res.NextPartNumberMarker
	}
}

// abort drops an upload after a failure, even when ctx is over.
func (s *Store) abort(ctx context.Context, obj, uploadID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pingTimeout)
	defer cancel()
	s.core.AbortMultipartUpload(ctx, s.cfg.Bucket, obj, uploadID)
}

// AbortUpload drops the upload and its parts. Aborting an upload that is
// already gone is not an error.
func (s *Store) AbortUpload(ctx context.Context, key, uploadID string) error {
	obj, err := s.object("abort upload", key)
	if err != nil {
		return err
	}
	if uploadID == "" {
		return nil
	}
	err = s.core.AbortMultipartUpload(ctx, s.cfg.Bucket, obj, uploadID)
	if err != nil && errorCode(err) != "NoSuchUpload" {
		return s.mapErr("abort upload", key, err)
	}
	return nil
}

// Sweep aborts the uploads of the store's bucket (and prefix) begun more
// than olderThan ago: uploads a client left, and those of Puts interrupted
// too abruptly to clean up. It returns how many it aborted.
func (s *Store) Sweep(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine if we return early
	removed := 0
	// The whole bucket is listed: MinIO lists no upload under a prefix that
	// is not a whole object name.
	for u := range s.client.ListIncompleteUploads(ctx, s.cfg.Bucket, "", true) {
		if u.Err != nil {
			return removed, s.mapErr("sweep", s.cfg.Prefix, u.Err)
		}
		if !strings.HasPrefix(u.Key, s.cfg.Prefix) || !u.Initiated.Before(cutoff) {
			continue
		}
		err := s.core.AbortMultipartUpload(ctx, s.cfg.Bucket, u.Key, u.UploadID)
		if err != nil && errorCode(err) != "NoSuchUpload" {
			return removed, s.mapErr("sweep", u.Key, err)
		}
		removed++
	}
	return removed, nil
}
