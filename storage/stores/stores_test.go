package stores_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"preau/internal/testsvc"
	"preau/storage"
	"preau/storage/disk"
	"preau/storage/s3"
	"preau/storage/stores"
)

func TestOpenDisk(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	abs := filepath.Join(t.TempDir(), "elsewhere")
	for raw, dir := range map[string]string{
		"":                                filepath.Join(data, "files"),
		"file://" + filepath.ToSlash(abs): abs,
		"file://localhost" + filepath.ToSlash(abs) + "/x": filepath.Join(abs, "x"),
	} {
		s, err := stores.Open(ctx, raw, data)
		if err != nil {
			t.Fatalf("Open(%q): %v", raw, err)
		}
		d, ok := s.(*disk.Store)
		if !ok || d.Dir() != dir {
			t.Fatalf("Open(%q) = %T in %v; want a disk store in %s", raw, s, d.Dir(), dir)
		}
		checkEngine(t, s, false)
		d.Close()
	}
}

func TestOpenS3(t *testing.T) {
	raw := testsvc.S3URL(t)
	s, err := stores.Open(context.Background(), raw, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*s3.Store); !ok {
		t.Fatalf("Open(%q) = %T; want an S3 store", raw, s)
	}
	checkEngine(t, s, true)
	if err := s.Put(context.Background(), "k", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
}

// checkEngine: the interfaces and methods Préau's main relies on.
func checkEngine(t *testing.T, s storage.Store, presigner bool) {
	t.Helper()
	if _, ok := s.(storage.Uploader); !ok {
		t.Errorf("%T is not a storage.Uploader", s)
	}
	if _, ok := s.(storage.Presigner); ok != presigner {
		t.Errorf("%T: storage.Presigner = %v; want %v", s, ok, presigner)
	}
	if _, ok := s.(io.Closer); !ok {
		t.Errorf("%T is not an io.Closer", s)
	}
	if _, ok := s.(interface {
		Sweep(context.Context, time.Duration) (int, error)
	}); !ok {
		t.Errorf("%T has no Sweep", s)
	}
}

func TestOpenBadURLs(t *testing.T) {
	for _, raw := range []string{
		"/srv/preau/files",
		"file://relative/path",
		"file:///srv/x?y=1",
		"ftp://host/x",
		"s3://host:9000/bucket",
		"s3://ak:topsecret@host:9000",
		"s3://ak:topsecret@host:9000/Bad_Bucket",
		"redis://127.0.0.1",
	} {
		_, err := stores.Open(context.Background(), raw, t.TempDir())
		if err == nil {
			t.Errorf("Open(%q) = nil error", raw)
			continue
		}
		if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("Open(%q) error quotes the secret: %v", raw, err)
		}
		t.Logf("%s: %v", raw, err)
	}
}
