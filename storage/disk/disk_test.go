package disk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"preau/storage"
	"preau/storage/storetest"
)

func open(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.Store {
		s := open(t)
		t.Cleanup(func() { checkNoLeftovers(t, s) })
		return s
	})
}

// checkNoLeftovers: after a test, no temporary file is left behind (a
// failed Put, Copy or Complete cleans up after itself).
func checkNoLeftovers(t *testing.T, s *Store) {
	entries, err := os.ReadDir(filepath.Join(s.Dir(), tmpDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in %s: %s", tmpDir, e.Name())
	}
}

func TestSymlinksCannotEscape(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("not yours"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Links planted in the store's directory: to a directory outside, to a
	// file outside, relative and absolute.
	rel, err := filepath.Rel(s.Dir(), outside)
	if err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"dir-abs":  outside,
		"dir-rel":  rel,
		"file-abs": secret,
		"etc":      "/etc/passwd",
	} {
		if err := os.Symlink(target, filepath.Join(s.Dir(), name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"dir-abs/secret", "dir-rel/secret", "file-abs", "etc"} {
		if rc, err := s.Get(ctx, key, 0, -1); err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			t.Errorf("Get(%q) read %q outside the store", key, b)
		}
		if _, err := s.Stat(ctx, key); err == nil {
			t.Errorf("Stat(%q) reached outside the store", key)
		}
		if err := s.Copy(ctx, "copied", key); err == nil {
			t.Errorf("Copy from %q reached outside the store", key)
		}
	}
	for _, key := range []string{"dir-abs/new", "dir-rel/new", "dir-abs/sub/new"} {
		if err := s.Put(ctx, key, strings.NewReader("x"), 1); err == nil {
			t.Errorf("Put(%q) wrote outside the store", key)
		}
		up, err := s.BeginUpload(ctx, key)
		if err == nil {
			s.PutPart(ctx, key, up, 1, strings.NewReader("x"), 1)
			if err := s.CompleteUpload(ctx, key, up, 1); err == nil {
				t.Errorf("CompleteUpload(%q) wrote outside the store", key)
			}
		}
		s.Delete(ctx, key)
	}
	if err := s.Delete(ctx, "file-abs"); err != nil {
		t.Errorf("Delete of a planted link: %v", err)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("outside directory now holds %d entries; want only its secret", len(entries))
	}
	if b, _ := os.ReadFile(secret); string(b) != "not yours" {
		t.Errorf("secret changed to %q", b)
	}
}

func TestSweep(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	// What a crash leaves: a temporary file and an upload with a part.
	if err := os.WriteFile(filepath.Join(s.Dir(), tmpDir, "stale"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	stale, err := s.BeginUpload(ctx, "stale")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutPart(ctx, "stale", stale, 1, strings.NewReader("abc"), 3); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	for _, p := range []string{filepath.Join(tmpDir, "stale"), filepath.Join(uploadsDir, stale)} {
		if err := os.Chtimes(filepath.Join(s.Dir(), p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	live, err := s.BeginUpload(ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Sweep(ctx, 24*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2, nil", n, err)
	}
	if err := s.PutPart(ctx, "stale", stale, 2, strings.NewReader("abc"), 3); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PutPart to a swept upload = %v; want ErrNotFound", err)
	}
	if err := s.PutPart(ctx, "live", live, 1, strings.NewReader("abc"), 3); err != nil {
		t.Fatalf("PutPart to a live upload: %v", err)
	}
	if n, err := s.Sweep(ctx, 24*time.Hour); err != nil || n != 0 {
		t.Fatalf("second Sweep = %d, %v; want 0, nil", n, err)
	}
}

func TestPingDirectoryGone(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := os.RemoveAll(s.Dir()); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Ping after the directory was removed = %v; want ErrUnavailable", err)
	}
	if err := s.Put(ctx, "x", strings.NewReader("x"), 1); err == nil {
		t.Fatalf("Put after the directory was removed = nil; want an error")
	}
}

func TestKeyConflicts(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.Put(ctx, "a/b", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	// On disk a key cannot be both an object and a prefix of another.
	if err := s.Put(ctx, "a", strings.NewReader("x"), 1); !errors.Is(err, storage.ErrBadKey) {
		t.Errorf("Put over a prefix = %v; want ErrBadKey", err)
	}
	if err := s.Put(ctx, "a/b/c", strings.NewReader("x"), 1); !errors.Is(err, storage.ErrBadKey) {
		t.Errorf("Put under an object = %v; want ErrBadKey", err)
	}
	if _, err := s.Stat(ctx, "a/b/c"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat under an object = %v; want ErrNotFound", err)
	}
	checkNoLeftovers(t, s)
}

func TestGetReaderSurvivesReplace(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	old := bytes.Repeat([]byte("o"), 100000)
	if err := s.Put(ctx, "k", bytes.NewReader(old), int64(len(old))); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "k", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := s.Put(ctx, "k", strings.NewReader("new"), 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(rc); err != nil || !bytes.Equal(b, old) {
		t.Fatalf("an open reader read %d bytes, %v; want the old %d bytes", len(b), err, len(old))
	}
}

func BenchmarkPutGet(b *testing.B) {
	storetest.Benchmark(b, open(b))
}
