package csvimport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

const testUAI = "0451234A"

func setup(t *testing.T, d *db.DB) {
	t.Helper()
	if _, err := directory.CreateStructure(context.Background(), d, directory.Structure{
		UAI: testUAI, Name: "Collège Jean Zay", Kind: directory.College}); err != nil {
		t.Fatal(err)
	}
}

// imp runs Import on text with the codes and changes captured.
func imp(t *testing.T, d *db.DB, kind Kind, text string, mod ...func(*Options)) (Report, *bytes.Buffer, error) {
	t.Helper()
	return impBytes(t, d, kind, []byte(text), mod...)
}

func impBytes(t *testing.T, d *db.DB, kind Kind, data []byte, mod ...func(*Options)) (Report, *bytes.Buffer, error) {
	t.Helper()
	codes, changes := &bytes.Buffer{}, &bytes.Buffer{}
	opt := Options{UAI: testUAI, Kind: kind, Codes: codes, Changes: changes}
	for _, m := range mod {
		m(&opt)
	}
	rep, err := Import(context.Background(), d, bytes.NewReader(data), opt)
	t.Logf("%s: %+v\n%s", kind, rep, changes)
	return rep, codes, err
}

func mustImport(t *testing.T, d *db.DB, kind Kind, text string, mod ...func(*Options)) (Report, *bytes.Buffer) {
	t.Helper()
	rep, codes, err := imp(t, d, kind, text, mod...)
	if err != nil {
		t.Fatalf("import %s: %v", kind, err)
	}
	return rep, codes
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func person(t *testing.T, d *db.DB, field, v string) directory.Person {
	t.Helper()
	p, err := directory.PersonBy(context.Background(), d, field, v)
	if err != nil {
		t.Fatalf("person %s=%s: %v", field, v, err)
	}
	return p
}

func checkReport(t *testing.T, got Report, rows, created, updated, unchanged int) {
	t.Helper()
	if got.Rows != rows || got.Created != created || got.Updated != updated || got.Unchanged != unchanged {
		t.Fatalf("report = %+v, want rows %d created %d updated %d unchanged %d", got, rows, created, updated, unchanged)
	}
}

// className returns the pupil's class of the current year.
func className(t *testing.T, d *db.DB, userID int64) string {
	t.Helper()
	var names []string
	rows, err := d.Query(context.Background(), `SELECT c.name FROM enrolments e JOIN classes c ON c.id = e.class_id
		JOIN school_years y ON y.id = c.year_id AND y.is_current WHERE e.user_id = ?`, userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

const pupilsCSV = `Nom;Prénom;Date de naissance;Classe;INE;Identifiant
DUPONT;Léa;03/02/2013;6A;1234567890A;1001
MARTIN;Hugo;14/11/2012;6A;1234567890B;1002
"LEFÈVRE-DUVAL";Chloé;28/02/2011;5B;1234567890C;1003
`

// readCodes parses the activation codes CSV: BOM, ';', header.
func readCodes(t *testing.T, b *bytes.Buffer) [][]string {
	t.Helper()
	data := b.Bytes()
	if len(data) == 0 {
		return nil
	}
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("codes file has no BOM: %q", data[:min(20, len(data))])
	}
	r := csv.NewReader(bytes.NewReader(data[3:]))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ";") != "Identifiant;Nom;Prénom;Profil;Classe;Code d'activation;Valable jusqu'au" {
		t.Fatalf("codes header = %q", recs[0])
	}
	return recs[1:]
}

func TestPupils(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		start := time.Now()
		rep, codes := mustImport(t, d, Pupils, pupilsCSV)
		checkReport(t, rep, 3, 3, 0, 0)
		if rep.Codes != 3 {
			t.Fatalf("codes = %d", rep.Codes)
		}

		lea := person(t, d, "ine", "1234567890A")
		if lea.FirstName != "Léa" || lea.LastName != "DUPONT" || lea.BirthDate != "2013-02-03" || lea.Login != "lea.dupont" ||
			lea.ExternalID != testUAI+":eleves:1001" {
			t.Fatalf("Léa = %+v", lea)
		}
		if c := className(t, d, lea.ID); c != "6A" {
			t.Fatalf("Léa's class = %q", c)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM roles WHERE profile = 'eleve'"); n != 3 {
			t.Fatalf("pupil roles = %d", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM classes"); n != 2 {
			t.Fatalf("classes = %d", n)
		}
		y, err := directory.CurrentYear(ctx, d)
		if err != nil || y.Label != directory.YearLabel(time.Now()) {
			t.Fatalf("current year = %+v, %v", y, err)
		}

		// One code per new account, and each code is the live one of its user.
		recs := readCodes(t, codes)
		if len(recs) != 3 {
			t.Fatalf("codes rows = %d", len(recs))
		}
		for _, rec := range recs {
			p := person(t, d, "login", rec[0])
			if rec[3] != "Élève" || rec[4] == "" || rec[1] != p.LastName {
				t.Fatalf("codes row = %q", rec)
			}
			sum := sha256.Sum256([]byte("preau-activation:" + strings.ReplaceAll(rec[5], "-", "")))
			var exp int64
			if err := d.QueryRow(ctx, "SELECT expires_at FROM activation_codes WHERE code_hash = ? AND user_id = ? AND used_at = 0",
				hex.EncodeToString(sum[:]), p.ID).Scan(&exp); err != nil {
				t.Fatalf("code of %s: %v", rec[0], err)
			}
			if exp > time.Now().Add(72*time.Hour).Unix() || exp < start.Add(71*time.Hour).Unix() {
				t.Fatalf("code expires at %d", exp)
			}
		}

		// Again: nothing new, no new codes.
		rep, codes = mustImport(t, d, Pupils, pupilsCSV)
		checkReport(t, rep, 3, 0, 0, 3)
		if codes.Len() != 0 || rep.Codes != 0 {
			t.Fatalf("second run wrote codes: %q", codes)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM users"); n != 3 {
			t.Fatalf("users = %d", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM activation_codes"); n != 3 {
			t.Fatalf("activation codes = %d", n)
		}

		// A changed name and class; a pupil matched by identifier gets an INE.
		changed := strings.Replace(pupilsCSV, "MARTIN;Hugo;14/11/2012;6A", "MARTIN;Hugo-Louis;14/11/2012;5B", 1)
		changed = strings.Replace(changed, "1234567890C;1003", ";1003", 1)
		changed += "PETIT;Jade;01/01/2013;6A;;1004\n"
		rep, _ = mustImport(t, d, Pupils, changed)
		checkReport(t, rep, 4, 1, 1, 2)
		hugo := person(t, d, "ine", "1234567890B")
		if hugo.FirstName != "Hugo-Louis" || className(t, d, hugo.ID) != "5B" {
			t.Fatalf("Hugo = %+v in %q", hugo, className(t, d, hugo.ID))
		}
		if c := person(t, d, "external_id", testUAI+":eleves:1003"); c.INE != "1234567890C" {
			t.Fatalf("INE was dropped: %+v", c)
		}
		rep, _ = mustImport(t, d, Pupils, strings.Replace(changed, ";;1004", ";1234567890D;1004", 1))
		checkReport(t, rep, 4, 0, 1, 3)
		if p := person(t, d, "external_id", testUAI+":eleves:1004"); p.INE != "1234567890D" {
			t.Fatalf("INE not added: %+v", p)
		}
	})
}

const parentsCSV = `Civilité;Nom;Prénom;Courriel;Lien;INE élève;Identifiant
MME;DUPONT;Anne;Anne.Dupont@example.fr;MERE;1234567890A;R1
MME;DUPONT;Anne;anne.dupont@example.fr;MERE;1234567890B;R1
M.;MARTIN;Paul;paul.martin@example.fr;PERE;1234567890B;R2
Madame;LEFÈVRE;Claire;;Tutrice;1234567890C;
`

func TestParents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		setup(t, d)
		mustImport(t, d, Pupils, pupilsCSV)
		rep, codes := mustImport(t, d, "", parentsCSV) // kind detected
		if rep.Kind != Parents {
			t.Fatalf("kind = %q", rep.Kind)
		}
		checkReport(t, rep, 4, 3, 0, 0)
		if recs := readCodes(t, codes); len(recs) != 3 || recs[0][3] != "Parent" || recs[0][4] != "6A" {
			t.Fatalf("codes = %q", recs)
		}
		anne := person(t, d, "external_id", testUAI+":parents:R1")
		if anne.Email != "anne.dupont@example.fr" || anne.Civility != "Mme" {
			t.Fatalf("Anne = %+v", anne)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM guardianships WHERE parent_id = ?", anne.ID); n != 2 {
			t.Fatalf("Anne has %d children", n)
		}
		hugo := person(t, d, "ine", "1234567890B")
		if n := count(t, d, "SELECT COUNT(*) FROM guardianships WHERE child_id = ?", hugo.ID); n != 2 {
			t.Fatalf("Hugo has %d guardians", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM guardianships WHERE relation = 'Mère'"); n != 2 {
			t.Fatalf("relations 'Mère' = %d", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM roles WHERE profile = 'parent'"); n != 3 {
			t.Fatalf("parent roles = %d", n)
		}

		// Idempotent, including the parent without identifier or e-mail,
		// found among the child's guardians.
		rep, _ = mustImport(t, d, Parents, parentsCSV)
		checkReport(t, rep, 4, 0, 0, 4)
		if n := count(t, d, "SELECT COUNT(*) FROM users"); n != 6 {
			t.Fatalf("users = %d", n)
		}

		// Children designated by name (and class), by identifier; a parent
		// matched by name and e-mail when the file has no identifier.
		byName := `Nom;Prénom;Courriel;Nom élève;Prénom élève;Classe;Identifiant élève
MARTIN;Paul;paul.martin@example.fr;Dupont;Lea;6A;
MARTIN;Paul;paul.martin@example.fr;;;;1003
`
		rep, _ = mustImport(t, d, Parents, byName)
		checkReport(t, rep, 2, 0, 2, 0)
		paul := person(t, d, "external_id", testUAI+":parents:R2")
		if n := count(t, d, "SELECT COUNT(*) FROM guardianships WHERE parent_id = ?", paul.ID); n != 3 {
			t.Fatalf("Paul has %d children", n)
		}
	})
}

const teachersCSV = `Civilité;Nom;Prénom;Courriel;Identifiant;Discipline;Classes
Mme;CURIE;Marie;marie.curie@ac-orleans-tours.fr;P1;Mathématiques;"6A, 5B"
M.;HUGO;Victor;victor.hugo@ac-orleans-tours.fr;P2;Français | Latin;6A
M.;PASTEUR;Louis;louis.pasteur@ac-orleans-tours.fr;;;
`

func TestTeachers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		setup(t, d)
		rep, codes := mustImport(t, d, "", teachersCSV)
		if rep.Kind != Teachers {
			t.Fatalf("kind = %q", rep.Kind)
		}
		checkReport(t, rep, 3, 3, 0, 0)
		if recs := readCodes(t, codes); len(recs) != 3 || recs[0][3] != "Enseignant" || recs[0][4] != "6A, 5B" {
			t.Fatalf("codes = %q", recs)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM teachings"); n != 4 {
			t.Fatalf("teachings = %d", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM subjects WHERE code IN ('MATHEMATIQUES', 'FRANCAIS', 'LATIN')"); n != 3 {
			t.Fatalf("subjects = %d", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM roles WHERE profile = 'enseignant'"); n != 3 {
			t.Fatalf("teacher roles = %d", n)
		}
		rep, _ = mustImport(t, d, Teachers, teachersCSV)
		checkReport(t, rep, 3, 0, 0, 3)

		// A new class for Marie Curie; Louis Pasteur found by name and e-mail.
		more := strings.Replace(teachersCSV, `"6A, 5B"`, `"6A, 5B, 4C"`, 1)
		more = strings.Replace(more, "louis.pasteur@ac-orleans-tours.fr;;;", "louis.pasteur@ac-orleans-tours.fr;P3;SVT;4C", 1)
		rep, _ = mustImport(t, d, Teachers, more)
		checkReport(t, rep, 3, 0, 2, 1)
		if n := count(t, d, "SELECT COUNT(*) FROM teachings"); n != 6 {
			t.Fatalf("teachings = %d", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM users"); n != 3 {
			t.Fatalf("users = %d", n)
		}
		person(t, d, "external_id", testUAI+":enseignants:P3")
	})
}

func TestEncodingsAndSeparators(t *testing.T) {
	latin1, err := charmap.Windows1252.NewEncoder().String(strings.ReplaceAll(pupilsCSV, ";", ","))
	if err != nil {
		t.Fatal(err)
	}
	tabs := strings.ReplaceAll(pupilsCSV, ";", "\t")
	commaQuoted := "\uFEFF" + `Nom,"Prénom",Date de naissance,Classe,INE,Identifiant` + "\r\n" +
		`DUPONT,Léa,03/02/2013,6A,1234567890A,1001` + "\r\n" +
		`MARTIN,"Hugo, dit ""le grand""",14/11/2012,6A,1234567890B,1002` + "\r\n" +
		`"LEFÈVRE-DUVAL",Chloé,28/02/2011,5B,1234567890C,1003` + "\r\n"
	for _, tc := range []struct{ name, data string }{
		{"latin1-comma", latin1},
		{"utf8-tab", tabs},
		{"bom-comma-quoted", commaQuoted},
		{"utf8-bom-semicolon", "\uFEFF" + pupilsCSV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dbtest.SQLite(t)
			setup(t, d)
			rep, _ := mustImport(t, d, Pupils, tc.data)
			checkReport(t, rep, 3, 3, 0, 0)
			c := person(t, d, "ine", "1234567890C")
			if c.LastName != "LEFÈVRE-DUVAL" || c.FirstName != "Chloé" {
				t.Fatalf("accents: %+v", c)
			}
			if tc.name == "bom-comma-quoted" {
				if h := person(t, d, "ine", "1234567890B"); h.FirstName != `Hugo, dit "le grand"` {
					t.Fatalf("quoted: %q", h.FirstName)
				}
			}
		})
	}
}

func TestBadRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		setup(t, d)
		bad := `Nom;Prénom;Date de naissance;Classe;INE;Identifiant
DUPONT;Léa;03/02/2013;6A;1234567890A;1001
MARTIN;Hugo;31/02/2012;6A;1234567890B;1002

;Chloé;28/02/2011;5B;1234567890C;1003
PETIT;Jade;01/01/2013;;12345;1004
"BAD"QUOTE;Tom;01/01/2013;6A;;1005
ROUX;Tom;01/01/2013;6A;;1006;;x
`
		rep, codes, err := imp(t, d, Pupils, bad)
		var re *RowErrors
		if !errors.As(err, &re) {
			t.Fatalf("err = %v", err)
		}
		want := map[int]string{3: "date de naissance invalide", 5: "« Nom » manquant", 6: "INE invalide", 7: "guillemet", 8: "colonnes au lieu de"}
		if len(re.Rows) != len(want) {
			t.Fatalf("errors = %v", err)
		}
		for _, r := range re.Rows {
			if !strings.Contains(r.Msg, want[r.Line]) {
				t.Errorf("line %d: %q, want %q", r.Line, r.Msg, want[r.Line])
			}
		}
		if !strings.Contains(err.Error(), "ligne 3 : date de naissance invalide : « 31/02/2012 »") ||
			!strings.Contains(err.Error(), "« Classe » manquante") {
			t.Errorf("message:\n%s", err)
		}
		t.Logf("message:\n%s\nreport %+v", err, rep)
		if n := count(t, d, "SELECT COUNT(*) FROM users"); n != 0 {
			t.Fatalf("users = %d after a refused file", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM classes"); n != 0 {
			t.Fatalf("classes = %d after a refused file", n)
		}
		_ = codes

		// Parents: an unknown child refuses the whole file.
		mustImport(t, d, Pupils, pupilsCSV)
		before := count(t, d, "SELECT COUNT(*) FROM users")
		_, _, err = imp(t, d, Parents, parentsCSV+"M.;INCONNU;Jean;;;9999999999Z;R9\n")
		if !errors.As(err, &re) || len(re.Rows) != 1 || re.Rows[0].Line != 6 || !strings.Contains(re.Rows[0].Msg, "aucun élève d'INE 9999999999Z") {
			t.Fatalf("err = %v", err)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM users"); n != before {
			t.Fatalf("users %d → %d after a refused file", before, n)
		}

		// Missing columns, in French.
		_, _, err = imp(t, d, Pupils, "Nom;Date de naissance\nX;01/01/2010\n")
		if !errors.As(err, &re) || re.Rows[0].Line != 1 || !strings.Contains(err.Error(), "colonne « Prénom » absente") ||
			!strings.Contains(err.Error(), "colonne « Classe » absente") || !strings.Contains(err.Error(), "« INE » ou « Identifiant »") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestManyBadRowsStop(t *testing.T) {
	d := dbtest.SQLite(t)
	setup(t, d)
	var b strings.Builder
	b.WriteString("Nom;Prénom;Classe;INE\n")
	for range 100 {
		b.WriteString("X;Y;6A;bad\n")
	}
	_, _, err := imp(t, d, Pupils, b.String())
	var re *RowErrors
	if !errors.As(err, &re) || len(re.Rows) != MaxRowErrors || !re.Truncated || re.Rows[0].Line != 2 {
		t.Fatalf("err = %v", err)
	}
}

func TestDryRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		setup(t, d)
		dry := func(o *Options) { o.DryRun = true }
		rep, codes, err := imp(t, d, Pupils, pupilsCSV, dry)
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, rep, 3, 3, 0, 0)
		if codes.Len() != 0 {
			t.Fatal("dry run wrote codes")
		}
		for _, table := range []string{"users", "classes", "school_years", "activation_codes", "roles"} {
			if n := count(t, d, "SELECT COUNT(*) FROM "+table); n != 0 {
				t.Fatalf("%s: %d rows after a dry run", table, n)
			}
		}
		mustImport(t, d, Pupils, pupilsCSV)
		var changes bytes.Buffer
		rep, _, err = imp(t, d, Pupils, strings.Replace(pupilsCSV, "MARTIN;Hugo;14/11/2012;6A", "MARTIN;Hugo;14/11/2012;4C", 1),
			dry, func(o *Options) { o.Changes = &changes })
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, rep, 3, 0, 1, 2)
		if !strings.Contains(changes.String(), "ligne 3 : modification élève MARTIN Hugo (hugo.martin) : classe 6A → 4C") {
			t.Fatalf("changes:\n%s", &changes)
		}
		if c := className(t, d, person(t, d, "ine", "1234567890B").ID); c != "6A" {
			t.Fatalf("dry run moved the pupil to %q", c)
		}
	})
}

func TestUnknownStructure(t *testing.T) {
	d := dbtest.SQLite(t)
	_, _, err := imp(t, d, Pupils, pupilsCSV)
	if err == nil || !strings.Contains(err.Error(), "établissement 0451234A inconnu") {
		t.Fatalf("err = %v", err)
	}
}

// TestGeneratedStream imports a few thousand generated pupils and their
// parents through a pipe: the file is never held in memory.
func TestGeneratedStream(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Fewer on PostgreSQL: every statement is a network round trip.
		n := 3000
		if d.Dialect() == db.Postgres {
			n = 1000
		}
		if testing.Short() || raceEnabled {
			n = 500 // the race detector slows the pure-Go SQLite tenfold
		}
		setup(t, d)
		stream := func(gen func(io.Writer, int, int64) error) io.Reader {
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(gen(pw, n, 7)) }()
			return pr
		}
		ctx := context.Background()
		start := time.Now()
		rep, err := Import(ctx, d, stream(GeneratePupils), Options{UAI: testUAI, Kind: Pupils, Codes: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, rep, n, n, 0, 0)
		t.Logf("%d pupils in %v", n, time.Since(start))
		start = time.Now()
		rep, err = Import(ctx, d, stream(GenerateParents), Options{UAI: testUAI, Codes: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("parents %+v in %v", rep, time.Since(start))
		if rep.Kind != Parents || rep.Created == 0 || rep.Updated != 0 {
			t.Fatalf("parents report %+v", rep)
		}
		if got := count(t, d, "SELECT COUNT(*) FROM guardianships"); got != rep.Rows {
			t.Fatalf("guardianships = %d, rows %d", got, rep.Rows)
		}
		start = time.Now()
		rep, err = Import(ctx, d, stream(GeneratePupils), Options{UAI: testUAI, Kind: Pupils, Codes: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, rep, n, 0, 0, n)
		t.Logf("again in %v", time.Since(start))
	})
}

var testNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
