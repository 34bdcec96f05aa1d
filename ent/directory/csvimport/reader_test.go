package csvimport

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func decodeAll(t *testing.T, data []byte) string {
	t.Helper()
	r, err := decoder(bufio.NewReaderSize(bytes.NewReader(data), peekSize))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestDecoder(t *testing.T) {
	text := "Nom;Prénom\nLEFÈVRE;Chloé œ €\n"
	cp, _ := charmap.Windows1252.NewEncoder().String(text)
	u16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(text)
	// Non-ASCII only after the look-ahead window: still detected.
	late := strings.Repeat("a;b\n", peekSize/4+10) + "é;è\n"
	lateCP, _ := charmap.Windows1252.NewEncoder().String(late)
	for _, tc := range []struct{ name, in, want string }{
		{"utf8", text, text},
		{"utf8-bom", "\uFEFF" + text, text},
		{"cp1252", cp, text},
		{"utf16", u16, text},
		{"ascii", "a;b\n", "a;b\n"},
		{"late-utf8", late, late},
		{"late-cp1252", lateCP, late},
		{"empty", "", ""},
	} {
		if got := decodeAll(t, []byte(tc.in)); got != tc.want {
			t.Errorf("%s: got %.60q, want %.60q", tc.name, got, tc.want)
		}
	}
}

func TestTrimPartialRune(t *testing.T) {
	e := []byte("é") // 2 bytes
	euro := []byte("€")
	for _, tc := range []struct{ in, want []byte }{
		{[]byte("abc"), []byte("abc")},
		{append([]byte("a"), e...), append([]byte("a"), e...)},
		{append([]byte("a"), e[0]), []byte("a")},
		{append([]byte("a"), euro[:2]...), []byte("a")},
		{[]byte{0xE9}, []byte{}}, // Latin-1 'é' alone looks like a cut 3-byte start
	} {
		if got := trimPartialRune(tc.in); !bytes.Equal(got, tc.want) {
			t.Errorf("trimPartialRune(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDetectSeparator(t *testing.T) {
	for in, want := range map[string]rune{
		"Nom;Prénom;Classe\n":        ';',
		"Nom,Prénom,Classe\r\n":      ',',
		"Nom\tPrénom\tClasse\n":      '\t',
		`"Nom, usage";Prénom` + "\n": ';',
		`"a;b",c,d` + "\n":           ',',
		"Nom\n":                      ';',
		"Nom,Prénom":                 ',',
	} {
		got, err := detectSeparator(bufio.NewReaderSize(strings.NewReader(in), peekSize))
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := detectSeparator(bufio.NewReaderSize(strings.NewReader(""), peekSize)); !errors.Is(err, errEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := detectSeparator(bufio.NewReaderSize(strings.NewReader(strings.Repeat("x", peekSize+1)), peekSize)); !errors.Is(err, errHeaderTooLong) {
		t.Errorf("long header: %v", err)
	}
}

// endless is an unbounded reader of one repeated line.
type endless struct {
	line []byte
	off  int
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.line[e.off]
		e.off = (e.off + 1) % len(e.line)
	}
	return len(p), nil
}

func TestLimits(t *testing.T) {
	read := func(r io.Reader) ([]RowError, error) {
		src, err := newSource(r, 4*MaxRowSize+rowSlack)
		if err != nil {
			return nil, err
		}
		var out []RowError
		for {
			_, line, msg, err := src.next()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			var re *RowErrors
			if errors.As(err, &re) {
				return append(out, re.Rows...), nil
			}
			if err != nil {
				return out, err
			}
			if msg != "" {
				out = append(out, RowError{line, msg})
			}
		}
	}
	// A file larger than the limit (MaxFileSize in Import), never held in memory.
	_, err := read(io.MultiReader(strings.NewReader("Nom;Prénom\n"), &endless{line: []byte("a;b\n")}))
	if !errors.Is(err, ErrFileTooLarge) {
		t.Fatalf("endless file: %v", err)
	}
	// An unterminated quote swallowing the rest: stopped at the row limit.
	errs, err := read(io.MultiReader(strings.NewReader("Nom;Prénom\nx;\"y\n"), io.LimitReader(&endless{line: []byte("z;z\n")}, 2*MaxRowSize+rowSlack)))
	if err != nil || len(errs) != 1 || errs[0].Line != 2 || !strings.Contains(errs[0].Msg, "trop longue") {
		t.Fatalf("unterminated quote: %v %v", errs, err)
	}
	// One long row among short ones, and one with too many fields.
	in := "Nom;Prénom\na;b\n" + strings.Repeat("x", MaxRowSize+10) + ";y\nc;d\n" + strings.Repeat("f;", MaxFields+1) + "\ne;f\n"
	errs, err = read(strings.NewReader(in))
	if err != nil || !slices.Equal(errs, []RowError{{3, "ligne trop longue (64 Kio au plus)"}, {5, "trop de colonnes (64 au plus)"}}) {
		t.Fatalf("long row: %v %v", errs, err)
	}
}

func TestHeaders(t *testing.T) {
	// Synonyms of one kind never overlap, or a header would be two fields.
	for k, syn := range synonyms {
		seen := map[string]field{}
		for f, names := range syn {
			for _, n := range names {
				if g, ok := seen[n]; ok && g != f {
					t.Errorf("%s: %q is both %s and %s", k, n, fieldNames[g], fieldNames[f])
				}
				seen[n] = f
				if fold(n) != n {
					t.Errorf("%s: synonym %q is not folded", k, n)
				}
			}
		}
	}
	for _, tc := range []struct {
		header string
		kind   Kind
	}{
		{"Nom;Prénom;Date de naissance;Classe;INE", Pupils},
		{"NOM;PRENOM;DATE NAISS;DIVISION;N° INTERNE", Pupils},
		{"Nom;Prénom;Né(e) le;Division;Identifiant", Pupils},
		{"Nom;Prénom;Classe;INE", Pupils},
		{"Civilité;Nom;Prénom;Courriel;INE élève", Parents},
		{"Nom;Prénom;E-mail;INE de l'élève", Parents},
		{"Nom;Prénom;Nom élève;Prénom élève", Parents},
		{"Nom;Prénom;Courriel;Discipline(s);Classes", Teachers},
		{"a;b;c", ""},
	} {
		if got := detectKind(strings.Split(tc.header, ";")); got != tc.kind {
			t.Errorf("detectKind(%q) = %q, want %q", tc.header, got, tc.kind)
		}
	}
	c, msgs := mapHeader(Pupils, strings.Split("NOM;Prénom;DATE DE NAISSANCE;Division;N° interne;Autre", ";"))
	if len(msgs) != 0 || c[fLast] != 0 || c[fBirth] != 2 || c[fClass] != 3 || c[fExtID] != 4 || c.has(fINE) {
		t.Errorf("mapHeader = %v %q", c, msgs)
	}
	_, msgs = mapHeader(Pupils, strings.Split("Nom;Nom de famille;Prénom;Classe;INE", ";"))
	if len(msgs) == 0 || !strings.Contains(msgs[0], "« Nom » en double") {
		t.Errorf("duplicate: %q", msgs)
	}
}

func TestFields(t *testing.T) {
	for in, want := range map[string]string{
		"03/02/2013": "2013-02-03", "3/2/2013": "2013-02-03", "2013-02-03": "2013-02-03",
		"03.02.2013": "2013-02-03", "03/02/2013 00:00": "2013-02-03",
		"31/02/2013": "", "03/02/13": "", "": "", "aa/bb/cccc": "", "01/13/2013": "", "01/01/1800": "", "01/01/2999": "",
	} {
		r := &row{rec: []string{in}, cols: &columns{fBirth: 0}}
		for i := range r.cols {
			if field(i) != fBirth {
				r.cols[i] = -1
			}
		}
		got := r.date(fBirth, testNow)
		if got != want || (want == "" && in != "" && len(r.msgs) == 0) {
			t.Errorf("date(%q) = %q %q, want %q", in, got, r.msgs, want)
		}
	}
	for in, want := range map[string]string{
		"Prénom élève": "prenom eleve", "N° interne": "n interne", "  Œuvre  ": "oeuvre", "Né(e) le": "ne e le",
		"E-MAIL": "e mail", "": "",
	} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
	if got := splitList("6A, 3B |6a;; 4 C "); !slices.Equal(got, []string{"6A", "3B", "4 C"}) {
		t.Errorf("splitList = %q", got)
	}
	for in, want := range map[string]string{"Mathématiques": "MATHEMATIQUES", "Histoire-géographie": "HISTOIRE-GEOGRAPHIE",
		"Sciences de la vie et de la Terre": "SCIENCES-DE-LA-VIE-ET-DE-LA-TERRE", "***": ""} {
		if got := subjectCode(in); got != want {
			t.Errorf("subjectCode(%q) = %q, want %q", in, got, want)
		}
	}
	if cell("=HYPERLINK(1)") != "'=HYPERLINK(1)" || cell("Léa") != "Léa" {
		t.Error("cell does not defuse formulas")
	}
}
