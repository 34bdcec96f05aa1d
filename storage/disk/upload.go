package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"time"

	"preau/storage"
)

// maxParts is S3's limit, kept here so both engines accept the same uploads.
const maxParts = 10000

// BeginUpload starts a multipart upload to key.
func (s *Store) BeginUpload(ctx context.Context, key string) (string, error) {
	if err := checkKey("begin upload", key); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	id := randomHex()
	dir := path.Join(uploadsDir, id)
	if err := s.root.Mkdir(dir, dirPerm); err != nil {
		return "", mapErr("begin upload", key, err)
	}
	if err := s.root.WriteFile(path.Join(dir, "key"), []byte(key), filePerm); err != nil {
		s.root.RemoveAll(dir)
		return "", mapErr("begin upload", key, err)
	}
	return id, nil
}

// PutPart stores part n of the upload, replacing an earlier attempt.
func (s *Store) PutPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) error {
	dir, err := s.upload("put part", key, uploadID)
	if err != nil {
		return err
	}
	if n < 1 || n > maxParts {
		return fmt.Errorf("disk: put part %d of %q: part numbers go from 1 to %d", n, key, maxParts)
	}
	if size < 0 {
		return fmt.Errorf("disk: put part %d of %q: size %d: %w", n, key, size, storage.ErrSize)
	}
	part := path.Join(dir, strconv.Itoa(n))
	tmp := part + ".tmp~" + randomHex()
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return mapErr("put part", key, err)
	}
	_, err = io.Copy(f, ctxReader{ctx, storage.ExactReader(r, size)})
	if err == nil {
		err = s.sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.root.Rename(tmp, part)
	}
	if err != nil {
		s.root.Remove(tmp)
		return fmt.Errorf("disk: put part %d of %q: %w", n, key, err)
	}
	return nil
}

// CompleteUpload joins parts 1..parts into the object under key. A missing
// part fails with ErrNotFound, a part but the last smaller than
// storage.MinPartSize with ErrSize; in both cases, as on any failure, the
// upload is dropped.
func (s *Store) CompleteUpload(ctx context.Context, key, uploadID string, parts int) (err error) {
	dir, err := s.upload("complete upload", key, uploadID)
	if err != nil {
		return err
	}
	defer s.root.RemoveAll(dir) // done or failed, the upload is over
	if parts < 1 || parts > maxParts {
		return fmt.Errorf("disk: complete upload of %q: %d parts: %w", key, parts, storage.ErrSize)
	}
	for i := 1; i <= parts; i++ {
		fi, err := s.root.Stat(path.Join(dir, strconv.Itoa(i)))
		if notFound(err) {
			return fmt.Errorf("disk: complete upload of %q: part %d is missing: %w", key, i, storage.ErrNotFound)
		}
		if err != nil {
			return mapErr("complete upload", key, err)
		}
		if i < parts && fi.Size() < storage.MinPartSize {
			return fmt.Errorf("disk: complete upload of %q: part %d has %d bytes, less than %d: %w",
				key, i, fi.Size(), storage.MinPartSize, storage.ErrSize)
		}
	}
	return s.commit(ctx, "complete upload", key, func(f *os.File) error {
		for i := 1; i <= parts; i++ {
			if err := s.appendPart(ctx, f, path.Join(dir, strconv.Itoa(i))); err != nil {
				return fmt.Errorf("part %d: %w", i, err)
			}
		}
		return nil
	})
}

func (s *Store) appendPart(ctx context.Context, f *os.File, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.root.Open(name)
	if err != nil {
		return err
	}
	defer p.Close()
	_, err = io.Copy(f, p) // file to file: copy_file_range(2) where it can
	return err
}

// AbortUpload drops the upload and its parts. Aborting an upload that is
// already gone is not an error.
func (s *Store) AbortUpload(ctx context.Context, key, uploadID string) error {
	dir, err := s.upload("abort upload", key, uploadID)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		return err
	}
	if err := s.root.RemoveAll(dir); err != nil {
		return mapErr("abort upload", key, err)
	}
	return nil
}

// upload returns the staging directory of uploadID after checking that the
// upload exists and goes to key.
func (s *Store) upload(op, key, uploadID string) (string, error) {
	if err := checkKey(op, key); err != nil {
		return "", err
	}
	if !validID(uploadID) {
		return "", fmt.Errorf("disk: %s %q: upload %q: %w", op, key, uploadID, storage.ErrNotFound)
	}
	dir := path.Join(uploadsDir, uploadID)
	b, err := s.root.ReadFile(path.Join(dir, "key"))
	if err != nil {
		if notFound(err) {
			return "", fmt.Errorf("disk: %s %q: no upload %q: %w", op, key, uploadID, storage.ErrNotFound)
		}
		return "", mapErr(op, key, err)
	}
	if string(b) != key {
		return "", fmt.Errorf("disk: %s %q: upload %q is for another key: %w", op, key, uploadID, storage.ErrNotFound)
	}
	return dir, nil
}

// validID reports whether id is one BeginUpload makes (32 hex digits), so
// that an id never walks the file system.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Sweep removes what interrupted work left behind: temporary files and
// uploads untouched for longer than olderThan (an upload's directory changes
// with each part). It returns how many it removed. Run it now and then
// (e.g. hourly with a day's age); a younger age would drop live uploads.
func (s *Store) Sweep(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	for _, dir := range []string{tmpDir, uploadsDir} {
		d, err := s.root.Open(dir)
		if err != nil {
			return removed, mapErr("sweep", dir, err)
		}
		entries, err := d.ReadDir(-1)
		d.Close()
		if err != nil {
			return removed, mapErr("sweep", dir, err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return removed, err
			}
			fi, err := e.Info()
			if err != nil || !fi.ModTime().Before(cutoff) {
				continue // gone meanwhile, or recent
			}
			if err := s.root.RemoveAll(path.Join(dir, e.Name())); err != nil {
				return removed, mapErr("sweep", dir, err)
			}
			removed++
		}
	}
	return removed, nil
}
