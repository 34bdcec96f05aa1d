// Package disk is the default storage engine: objects are files in one local
// directory, reached only through an os.Root so that nothing — a key, a
// symbolic link planted in the directory — can lead outside it.
//
// Layout of the directory:
//
//	<key>                 an object, at the path its key spells
//	.tmp~/<random>        a Put, Copy or Complete being written
//	.uploads~/<id>/key    the key of a multipart upload
//	.uploads~/<id>/<n>    its part n
//
// '~' never appears in a key (storage.ValidKey), so these names cannot
// collide with objects. Every object is written to a temporary file, synced,
// then renamed into place: readers see the old object or the new one, never a
// part of it, and an interrupted write leaves only a temporary file that
// Sweep removes.
package disk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"

	"preau/storage"
)

const (
	tmpDir     = ".tmp~"
	uploadsDir = ".uploads~"
	filePerm   = 0o640
	dirPerm    = 0o750
)

// Store keeps objects as files under one directory.
type Store struct {
	dir    string
	root   *os.Root
	noSync bool // tests of key handling only: skip fsync
}

var (
	_ storage.Store    = (*Store)(nil)
	_ storage.Uploader = (*Store)(nil)
)

// Open opens (creating it if needed) the directory dir as a Store.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	for _, d := range []string{tmpDir, uploadsDir} {
		if err := root.MkdirAll(d, dirPerm); err != nil {
			root.Close()
			return nil, fmt.Errorf("disk: %w", err)
		}
	}
	return &Store{dir: dir, root: root}, nil
}

// Dir returns the directory of the store.
func (s *Store) Dir() string { return s.dir }

// Close releases the directory. Readers returned by Get stay valid.
func (s *Store) Close() error { return s.root.Close() }

// Put stores exactly size bytes of r under key, atomically.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := checkKey("put", key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("disk: put %q: size %d: %w", key, size, storage.ErrSize)
	}
	return s.commit(ctx, "put", key, func(f *os.File) error {
		_, err := io.Copy(f, ctxReader{ctx, storage.ExactReader(r, size)})
		return err
	})
}

// Get returns length bytes of the object from offset (length < 0: to the
// end). An offset past the end gives an empty reader. The reader holds the
// object's file open: a Put or Delete meanwhile does not change what it reads.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkKey("get", key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("disk: get %q: negative offset %d", key, offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := s.root.Open(key)
	if err != nil {
		return nil, mapErr("get", key, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, mapErr("get", key, err)
	}
	offset = min(offset, fi.Size())
	n := fi.Size() - offset
	if length >= 0 {
		n = min(n, length)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, mapErr("get", key, err)
		}
	}
	return &fileReader{f: f, lr: io.LimitedReader{R: f, N: n}}, nil
}

// fileReader reads a section of an object's file. Its WriteTo hands an
// io.LimitedReader over an *os.File to the writer, which net/http's
// connections turn into sendfile(2).
type fileReader struct {
	f  *os.File
	lr io.LimitedReader
}

func (r *fileReader) Read(p []byte) (int, error)         { return r.lr.Read(p) }
func (r *fileReader) WriteTo(w io.Writer) (int64, error) { return io.Copy(w, &r.lr) }
func (r *fileReader) Close() error                       { return r.f.Close() }

// Stat describes the object under key.
func (s *Store) Stat(ctx context.Context, key string) (storage.Info, error) {
	if err := checkKey("stat", key); err != nil {
		return storage.Info{}, err
	}
	fi, err := s.root.Stat(key)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return storage.Info{}, mapErr("stat", key, err)
	}
	return storage.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete removes the object under key; a missing key is not an error.
// Directories the key went through stay (they are few and reused).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey("delete", key); err != nil {
		return err
	}
	fi, err := s.root.Lstat(key)
	if err == nil && fi.IsDir() {
		return nil // a prefix of other keys, not an object
	}
	if err == nil {
		err = s.root.Remove(key)
	}
	if err != nil && !notFound(err) {
		return mapErr("delete", key, err)
	}
	return nil
}

// Copy makes dst a copy of src: a hard link (objects are never changed in
// place, so sharing the file is safe), or a byte copy where links fail.
// The copy keeps src's modification time when it is a link.
func (s *Store) Copy(ctx context.Context, dst, src string) error {
	if err := checkKey("copy", src); err != nil {
		return err
	}
	if err := checkKey("copy", dst); err != nil {
		return err
	}
	if _, err := s.Stat(ctx, src); err != nil {
		return err
	}
	if dst == src {
		return nil
	}
	// The link goes into a fresh directory of its own: a linked file has
	// src's old modification time, and Sweep judges .tmp~ entries by theirs.
	dir := path.Join(tmpDir, randomHex()+".d")
	if err := s.root.Mkdir(dir, dirPerm); err != nil {
		return mapErr("copy", dst, err)
	}
	defer s.root.RemoveAll(dir)
	tmp := path.Join(dir, "obj")
	if err := s.root.Link(src, tmp); err == nil {
		return s.place("copy", dst, tmp)
	}
	in, err := s.root.Open(src)
	if err != nil {
		return mapErr("copy", src, err)
	}
	defer in.Close()
	return s.commit(ctx, "copy", dst, func(f *os.File) error {
		_, err := io.Copy(f, in) // file to file: copy_file_range(2) where it can
		return err
	})
}

// Ping checks that the directory is still there, the one opened: a store
// whose directory was removed or unmounted is unavailable.
func (s *Store) Ping(ctx context.Context) error {
	fi, err := s.root.Stat(".")
	if err != nil {
		return fmt.Errorf("disk: ping %s: %w: %w", s.dir, storage.ErrUnavailable, err)
	}
	now, err := os.Stat(s.dir)
	if err != nil {
		return fmt.Errorf("disk: ping %s: %w: %w", s.dir, storage.ErrUnavailable, err)
	}
	if !os.SameFile(fi, now) {
		return fmt.Errorf("disk: ping %s: %w: directory replaced since start", s.dir, storage.ErrUnavailable)
	}
	return nil
}

// commit writes a new object through fill into a temporary file, syncs it
// and renames it to key; on any failure it removes the temporary file.
func (s *Store) commit(ctx context.Context, op, key string, fill func(*os.File) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp := path.Join(tmpDir, randomHex())
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return mapErr(op, key, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			s.root.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		if errors.Is(err, storage.ErrSize) || errors.Is(err, ctx.Err()) {
			return fmt.Errorf("disk: %s %q: %w", op, key, err)
		}
		return mapErr(op, key, err)
	}
	if err := s.sync(f); err != nil {
		return mapErr(op, key, err)
	}
	if err := f.Close(); err != nil {
		return mapErr(op, key, err)
	}
	return s.place(op, key, tmp)
}

// place renames the finished file tmp to key and syncs key's directory so
// that the rename survives a crash.
func (s *Store) place(op, key, tmp string) error {
	dir := path.Dir(key)
	if err := s.root.MkdirAll(dir, dirPerm); err != nil {
		s.root.Remove(tmp)
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("disk: %s %q: a prefix of the key is an object: %w", op, key, storage.ErrBadKey)
		}
		return mapErr(op, key, err)
	}
	if err := s.root.Rename(tmp, key); err != nil {
		s.root.Remove(tmp)
		if fi, serr := s.root.Lstat(key); serr == nil && fi.IsDir() {
			return fmt.Errorf("disk: %s %q: the key is a prefix of other objects: %w", op, key, storage.ErrBadKey)
		}
		return mapErr(op, key, err)
	}
	if s.noSync {
		return nil
	}
	d, err := s.root.Open(dir)
	if err != nil {
		return mapErr(op, key, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return mapErr(op, key, err)
	}
	return nil
}

func (s *Store) sync(f *os.File) error {
	if s.noSync {
		return nil
	}
	return f.Sync()
}

func checkKey(op, key string) error {
	if !storage.ValidKey(key) {
		return fmt.Errorf("disk: %s %q: %w", op, key, storage.ErrBadKey)
	}
	return nil
}

// mapErr turns a file-system error into the store's errors: a missing file
// is ErrNotFound, a failing or full disk ErrUnavailable.
func mapErr(op, key string, err error) error {
	switch {
	case notFound(err):
		return fmt.Errorf("disk: %s %q: %w", op, key, storage.ErrNotFound)
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS),
		errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENXIO),
		errors.Is(err, syscall.ESTALE), errors.Is(err, syscall.ENOTCONN):
		return fmt.Errorf("disk: %s %q: %w: %w", op, key, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("disk: %s %q: %w", op, key, err)
}

// notFound: no such file, or a component of the path is a file.
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func randomHex() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ctxReader stops a long copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
