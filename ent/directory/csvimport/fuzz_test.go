package csvimport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"preau/db"
	"preau/ent/directory"
)

// fuzzDB is one SQLite database per fuzzing process, holding a school and
// its pupils; every fuzzed import is a dry run, so it never changes.
var fuzzDB = sync.OnceValues(func() (*db.DB, error) {
	dir, err := os.MkdirTemp("", "preau-fuzz-")
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{DataDir: dir})
	if err != nil {
		return nil, err
	}
	if _, err := directory.CreateStructure(ctx, d, directory.Structure{UAI: testUAI, Name: "Collège", Kind: directory.College}); err != nil {
		return nil, err
	}
	seed, err := os.ReadFile(filepath.Join("testdata", "eleves.csv"))
	if err != nil {
		return nil, err
	}
	_, err = Import(ctx, d, bytes.NewReader(seed), Options{UAI: testUAI, Kind: Pupils})
	return d, err
})

var fuzzKinds = []Kind{"", Pupils, Parents, Teachers}

// FuzzImport feeds arbitrary files to Import (dry run): it must never panic,
// never write, and either succeed with consistent counts or explain itself
// with a *RowErrors or a plain error.
func FuzzImport(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for k := range fuzzKinds {
			f.Add(data, uint8(k))
		}
	}
	f.Add([]byte("\xFF\xFEN\x00o\x00m\x00\n\x00"), uint8(0))
	f.Add([]byte("Nom;Prénom;Classe;INE\n\"a\"\"b\";c;6A;1234567890Z\nx;\"y\nz\";6A;\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		d, err := fuzzDB()
		if err != nil {
			t.Fatal(err)
		}
		var codes, changes bytes.Buffer
		opt := Options{UAI: testUAI, Kind: fuzzKinds[int(k)%len(fuzzKinds)], DryRun: true, Codes: &codes, Changes: &changes}
		rep, err := Import(context.Background(), d, bytes.NewReader(data), opt)
		var re *RowErrors
		switch {
		case err == nil:
			if rep.Created+rep.Updated+rep.Unchanged > rep.Rows || rep.Codes != rep.Created {
				t.Fatalf("inconsistent report %+v", rep)
			}
		case errors.As(err, &re):
			if len(re.Rows) == 0 || len(re.Rows) > MaxRowErrors {
				t.Fatalf("row errors: %d", len(re.Rows))
			}
			for _, r := range re.Rows {
				if r.Line < 1 || r.Msg == "" {
					t.Fatalf("row error %+v", r)
				}
			}
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, ErrFileTooLarge):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
		if codes.Len() != 0 {
			t.Fatal("dry run wrote codes")
		}
		var n int
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 3 {
			t.Fatalf("users = %d, %v: the dry run wrote", n, err)
		}
	})
}
