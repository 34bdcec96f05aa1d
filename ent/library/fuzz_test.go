package library

import (
	"context"
	"strings"
	"testing"
	"time"

	"preau/ent/directory"
	"preau/internal/dbtest"
)

// FuzzNormalizeISBN: any input gives an error or 13 digits whose check
// digit holds, and normalising that again gives it back.
func FuzzNormalizeISBN(f *testing.F) {
	for _, s := range []string{"978-2-07-061275-8", "2-07-061275-9", "0-8044-2957-X", "", "X", "97820706127589", "٣٤٥"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeISBN(s)
		if err != nil || got == "" {
			return
		}
		if len(got) != 13 || strings.Trim(got, "0123456789") != "" || isbn13Check(got[:12]) != int(got[12]-'0') {
			t.Fatalf("NormalizeISBN(%q) = %q", s, got)
		}
		if again, err := NormalizeISBN(got); err != nil || again != got {
			t.Fatalf("NormalizeISBN(%q) = %q, %v", got, again, err)
		}
	})
}

// FuzzImport: any file is either refused with line errors or imported;
// it never panics (dry runs on one database).
func FuzzImport(f *testing.F) {
	for _, s := range []string{
		"ISBN;Titre;Exemplaires\n978-2-07-061275-8;Le Petit Prince;2\n",
		"isbn,titre,auteurs,annee\n2-07-061275-9,\"Le \"\"Prince\"\"\",\"A, B|C\",1999\n",
		"ISBN;Titre\n;\n\"unterminated\n",
		"",
	} {
		f.Add(s)
	}
	d := dbtest.SQLite(f)
	st, err := directory.CreateStructure(context.Background(), d, directory.Structure{UAI: "0459871K", Name: "Collège", Kind: directory.College})
	if err != nil {
		f.Fatal(err)
	}
	s := New(d, Config{})
	s.now = func() time.Time { return time.Date(2026, 11, 30, 10, 0, 0, 0, Paris) }
	f.Fuzz(func(t *testing.T, file string) {
		rep, err := s.Import(context.Background(), st, strings.NewReader(file), true)
		if err == nil && rep.Created+rep.Updated+rep.Unchanged != rep.Lines {
			t.Fatalf("report %+v", rep)
		}
	})
}
