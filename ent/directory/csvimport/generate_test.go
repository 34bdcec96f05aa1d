package csvimport

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestGenerateDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := GeneratePupils(&a, 100, 3); err != nil {
		t.Fatal(err)
	}
	GeneratePupils(&b, 100, 3)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || bytes.Count(a.Bytes(), []byte("\n")) != 101 {
		t.Fatal("GeneratePupils is not deterministic")
	}
	if GenClass(0) != "6A" || GenClass(28) != "5A" || GenClass(4*28) != "6B" || GenClass(4*28*26) != "6A1" {
		t.Fatalf("GenClass: %s %s %s %s", GenClass(0), GenClass(28), GenClass(4*28), GenClass(4*28*26))
	}
}

// TestWriteGenerated writes eleves.csv and parents.csv into $PREAU_GEN_DIR
// for measurements, with $PREAU_GEN_N pupils (default 30000):
//
//	PREAU_GEN_DIR=/tmp/gen go test -run TestWriteGenerated ./ent/directory/csvimport/
//	preau import --uai 0451234A --nom-etablissement "Collège" --data /tmp/gen/data /tmp/gen/eleves.csv
func TestWriteGenerated(t *testing.T) {
	dir := os.Getenv("PREAU_GEN_DIR")
	if dir == "" {
		t.Skip("PREAU_GEN_DIR not set")
	}
	n := 30000
	if v := os.Getenv("PREAU_GEN_N"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	for name, gen := range map[string]func(*os.File) error{
		"eleves.csv":  func(f *os.File) error { return GeneratePupils(f, n, 1) },
		"parents.csv": func(f *os.File) error { return GenerateParents(f, n, 1) },
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := gen(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
