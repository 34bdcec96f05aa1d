package disk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"preau/storage"
	"preau/storage/storetest"
)

// FuzzValidKey: a key ValidKey accepts has no "." or ".." segment and its
// object lands inside the store's directory, at the path it spells; a key it
// refuses is refused by the store.
func FuzzValidKey(f *testing.F) {
	for _, k := range storetest.BadKeys {
		f.Add(k)
	}
	for _, k := range []string{"a", "a/b/c", "f/0a/1b2c3d", "x.y", ".a", "a..", "...", "a/...", "_-", ".tmp", ".uploads"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		ok := storage.ValidKey(key)
		for seg := range strings.SplitSeq(key, "/") {
			if ok && (seg == "" || seg == "." || seg == "..") {
				t.Fatalf("ValidKey(%q) accepted a %q segment", key, seg)
			}
		}
		base := t.TempDir()
		dir := filepath.Join(base, "store")
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.noSync = true
		err = s.Put(context.Background(), key, strings.NewReader("x"), 1)
		if !ok {
			if !errors.Is(err, storage.ErrBadKey) {
				t.Fatalf("Put(%q) of a refused key = %v; want ErrBadKey", key, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
		p := filepath.Join(dir, filepath.FromSlash(key))
		if rel, err := filepath.Rel(dir, p); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			t.Fatalf("key %q maps outside the store: %q", key, p)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != "x" {
			t.Fatalf("key %q: file %q holds %q, %v", key, p, b, err)
		}
		entries, _ := os.ReadDir(base)
		if len(entries) != 1 {
			t.Fatalf("key %q: %d entries beside the store", key, len(entries))
		}
	})
}
