package files

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanName(t *testing.T) {
	ok := []struct{ in, want string }{
		{"devoir.pdf", "devoir.pdf"},
		{"  Exposé final.odt  ", "Exposé final.odt"},
		{"Expose\u0301.txt", "Exposé.txt"}, // NFD from a Mac becomes NFC
		{"..cache", "..cache"},
		{"a..b", "a..b"},
		{strings.Repeat("é", 127), strings.Repeat("é", 127)}, // 254 bytes
	}
	for _, tt := range ok {
		got, err := CleanName(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{"", "   ", ".", "..", " .. ", "a/b", "../etc/passwd", `a\b`, "a\x00b", "a\nb", "a\tb", "\x7f",
		"\x1b[31m", strings.Repeat("a", 1000), strings.Repeat("é", 128), "\xff\xfe", "fdp\u202eexe.pdf"}
	for _, in := range bad {
		got, err := CleanName(in)
		var ne *NameError
		if err == nil || !errors.As(err, &ne) || !errors.Is(err, ErrBadName) || ne.Msg == "" {
			t.Errorf("CleanName(%q) = %q, %v; want a NameError", in, got, err)
		}
	}
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"devoir.pdf", "..", "a/b", "a\x00", " é ", "Expose\u0301", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := CleanName(s)
		if err != nil {
			return
		}
		if got == "" || got == "." || got == ".." || len(got) > MaxNameBytes || !utf8.ValidString(got) {
			t.Fatalf("CleanName(%q) = %q accepted", s, got)
		}
		if strings.ContainsAny(got, "/\\\x00") || strings.TrimSpace(got) != got {
			t.Fatalf("CleanName(%q) = %q accepted", s, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("CleanName(%q) = %q keeps a control character", s, got)
			}
		}
		// Cleaning is idempotent: a stored name is clean.
		again, err := CleanName(got)
		if err != nil || again != got {
			t.Fatalf("CleanName(CleanName(%q)) = %q, %v", s, again, err)
		}
	})
}
