package storage

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestExactReader(t *testing.T) {
	errBroken := errors.New("broken")
	for _, c := range []struct {
		name    string
		r       io.Reader
		size    int64
		want    string
		wantErr error
	}{
		{"exact", strings.NewReader("hello"), 5, "hello", nil},
		{"empty", strings.NewReader(""), 0, "", nil},
		{"short", strings.NewReader("hell"), 5, "hell", ErrSize},
		{"long", strings.NewReader("hello!"), 5, "", ErrSize},
		{"long, announced empty", strings.NewReader("x"), 0, "", ErrSize},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader("hello")), 5, "hello", nil},
		{"one byte at a time, long", iotest.OneByteReader(strings.NewReader("hello!")), 5, "hell", ErrSize},
		{"data with EOF", iotest.DataErrReader(strings.NewReader("hello")), 5, "hello", nil},
		{"data with EOF, short", iotest.DataErrReader(strings.NewReader("hell")), 5, "hell", ErrSize},
		{"broken", io.MultiReader(strings.NewReader("he"), iotest.ErrReader(errBroken)), 5, "he", errBroken},
		{"broken after the end", io.MultiReader(strings.NewReader("hello"), iotest.ErrReader(errBroken)), 5, "", errBroken},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := io.ReadAll(ExactReader(c.r, c.size))
			if string(got) != c.want || !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
				t.Fatalf("read %q, %v; want %q, %v", got, err, c.want, c.wantErr)
			}
		})
	}
}

// io.ReadFull drops an error that comes with the bytes it asked for: the
// last bytes of a long content must not come at all.
func TestExactReaderReadFull(t *testing.T) {
	r := ExactReader(bytes.NewReader([]byte("0123456789")), 4)
	buf := make([]byte, 4)
	if n, err := io.ReadFull(r, buf); !errors.Is(err, ErrSize) {
		t.Fatalf("ReadFull = %d, %v; want ErrSize", n, err)
	}
	if _, err := r.Read(buf); !errors.Is(err, ErrSize) {
		t.Fatalf("the error does not stick: %v", err)
	}
}

func FuzzValidKey(f *testing.F) {
	for _, k := range []string{"a", "a/b", "../x", "a//b", "/a", "a\x00", "A", ".", "..", "a/..", ".a", "a.b/c"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if !ValidKey(key) {
			return
		}
		if len(key) > 256 || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || strings.Contains(key, "//") {
			t.Fatalf("ValidKey(%q) accepted a bad shape", key)
		}
		for _, seg := range strings.Split(key, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("ValidKey(%q) accepted a %q segment", key, seg)
			}
		}
		for i := 0; i < len(key); i++ {
			if c := key[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_./", c) >= 0) {
				t.Fatalf("ValidKey(%q) accepted byte %q", key, c)
			}
		}
	})
}
