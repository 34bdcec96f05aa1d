package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"preau/auth"
	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

var regexpCodes = regexp.MustCompile(`href="(/admin/import/codes/[0-9a-f]+)"`)

// postImport uploads a CSV file through the import form.
func (f *adminFixture) postImport(c *http.Client, uai, kind string, dryRun bool, csvText string) (int, string) {
	f.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("uai", uai)
	mw.WriteField("type", kind)
	if dryRun {
		mw.WriteField("simulation", "1")
	}
	fw, _ := mw.CreateFormFile("fichier", "eleves.csv")
	fw.Write([]byte(csvText))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

const importPupils = "Nom;Prénom;Date de naissance;Classe;INE\n" +
	"Durand;Chloé;12/03/2012;3A;123456789AB\n" +
	"Nguyen;Bao;05/11/2012;3A;223456789AC\n"

func TestAdminImportPage(t *testing.T) {
	f := newAdminFixture(t)
	head := f.login(f.headA)

	if body := f.wantGet(head, "/admin/import", http.StatusOK); !strings.Contains(body, "Jean Moulin") || strings.Contains(body, "Pothier") {
		t.Fatalf("the import form should offer the head's own school only:\n%s", body)
	}
	// Another school's UAI is refused.
	if code, _ := f.postImport(head, "0450002B", "eleves", false, importPupils); code != http.StatusBadRequest {
		t.Fatalf("import into another school: %d, want 400", code)
	}
	// A simulation writes nothing.
	code, body := f.postImport(head, "0450001A", "eleves", true, importPupils)
	if code != http.StatusOK || !strings.Contains(body, "Simulation terminée") || strings.Contains(body, "/admin/import/codes/") {
		t.Fatalf("dry run: %d\n%s", code, body)
	}
	var n int
	f.d.QueryRow(t.Context(), "SELECT COUNT(*) FROM users WHERE ine IS NOT NULL").Scan(&n)
	if n != 0 {
		t.Fatalf("a simulation created %d accounts", n)
	}
	// A bad row: the line is shown, nothing applied.
	code, body = f.postImport(head, "0450001A", "eleves", false, importPupils+"Sans;Date;31/02/2012;3A;323456789AD\n")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "<td>4</td>") {
		t.Fatalf("bad row: %d, want 422 with line 4\n%s", code, body)
	}
	f.d.QueryRow(t.Context(), "SELECT COUNT(*) FROM users WHERE ine IS NOT NULL").Scan(&n)
	if n != 0 {
		t.Fatalf("a refused file created %d accounts", n)
	}
	// The real import gives a codes file, once, to its importer only.
	code, body = f.postImport(head, "0450001A", "eleves", false, importPupils)
	if code != http.StatusOK {
		t.Fatalf("import: %d\n%s", code, body)
	}
	link := match(t, regexpCodes, body)
	if got := f.wantGet(f.login(f.admin), link, http.StatusNotFound); got == "" {
		t.Fatal("empty 404 page")
	}
	csvBody := f.wantGet(head, link, http.StatusOK)
	if lines := strings.Count(strings.TrimSpace(csvBody), "\n"); lines != 2 || !strings.Contains(csvBody, "chloe.durand") {
		t.Fatalf("codes file has %d rows, want 2 (+ header):\n%s", lines, csvBody)
	}
	f.wantGet(head, link, http.StatusNotFound)
	// Importing again changes nothing and creates no codes.
	code, body = f.postImport(head, "0450001A", "", false, importPupils)
	if code != http.StatusOK || strings.Contains(body, "/admin/import/codes/") {
		t.Fatalf("re-import: %d\n%s", code, body)
	}
	f.d.QueryRow(t.Context(), "SELECT COUNT(*) FROM users WHERE ine IS NOT NULL").Scan(&n)
	if n != 2 {
		t.Fatalf("%d imported accounts after two imports, want 2", n)
	}
	// Teachers, pupils and parents have no import page.
	f.wantGet(f.login(f.teacher), "/admin/import", http.StatusNotFound)
}

// TestAdminImportCodesAnyNode: the codes file of an import made on one node
// downloads from another (the stash is in the database), still only once.
func TestAdminImportCodesAnyNode(t *testing.T) {
	f := newAdminFixture(t)
	head := f.login(f.headA)
	code, body := f.postImport(head, "0450001A", "eleves", false, importPupils)
	if code != http.StatusOK {
		t.Fatalf("import: %d\n%s", code, body)
	}
	link := match(t, regexpCodes, body)

	logger := testLogger(t)
	other, err := New(Config{}, logger, f.d, auth.NewService(f.d, auth.Config{}, logger))
	if err != nil {
		t.Fatal(err)
	}
	node2 := httptest.NewServer(other.Handler())
	defer node2.Close()
	get := func(base string) (int, string) {
		resp, err := head.Get(base + link) // the session cookie is good on every node
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, csvBody := get(node2.URL); code != http.StatusOK || !strings.Contains(csvBody, "chloe.durand") {
		t.Fatalf("download from the other node: %d\n%s", code, csvBody)
	}
	if code, _ := get(f.srv.URL); code != http.StatusNotFound {
		t.Fatalf("second download on the first node: %d, want 404", code)
	}
	var n int
	f.d.QueryRow(t.Context(), "SELECT COUNT(*) FROM import_codes").Scan(&n)
	if n != 0 {
		t.Fatalf("%d codes files still stored after the download", n)
	}
}

// TestImportCodesStash: the stash rules on every database engine.
func TestImportCodesStash(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var owner, other int64
		err := d.InTx(ctx, func(tx *db.Tx) error {
			a, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Anne", LastName: "Chef"})
			if err != nil {
				return err
			}
			b, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Paul", LastName: "Autre"})
			owner, other = a.ID, b.ID
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		file := []byte("identifiant;code\nchloe.durand;ABCD-EFGH\n")
		id, err := stashCodes(ctx, d, owner, file, now)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
			t.Fatalf("id %q", id)
		}
		// Neither the id nor the codes are readable in the database.
		var stored string
		var sealed []byte
		d.QueryRow(ctx, "SELECT id_hash, sealed FROM import_codes").Scan(&stored, &sealed)
		if stored == id || stored == "" {
			t.Fatalf("the download id is stored as %q", stored)
		}
		if len(sealed) == 0 || bytes.Contains(sealed, []byte("ABCD-EFGH")) {
			t.Fatalf("the codes are stored as %q", sealed)
		}
		for _, c := range []struct {
			name string
			id   string
			user int64
			at   time.Time
		}{
			{"another user", id, other, now},
			{"unknown id", "00" + id[2:], owner, now},
			{"expired", id, owner, now.Add(codesTTL)},
		} {
			if _, err := takeCodes(ctx, d, c.id, c.user, c.at); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("%s: %v, want ErrNotFound", c.name, err)
			}
		}
		got, err := takeCodes(ctx, d, id, owner, now.Add(codesTTL-time.Second))
		if err != nil || !bytes.Equal(got, file) {
			t.Fatalf("owner's download: %q, %v", got, err)
		}
		if _, err := takeCodes(ctx, d, id, owner, now); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("second download: %v, want ErrNotFound", err)
		}
		// Files nobody downloads go with the purge, not before they expire.
		if _, err := stashCodes(ctx, d, owner, file, now); err != nil {
			t.Fatal(err)
		}
		if _, err := stashCodes(ctx, d, other, file, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n, err := purgeCodes(ctx, d, now.Add(codesTTL-time.Second)); err != nil || n != 0 {
			t.Fatalf("purge before expiry: %d, %v", n, err)
		}
		if n, err := purgeCodes(ctx, d, now.Add(codesTTL)); err != nil || n != 1 {
			t.Fatalf("purge at expiry: %d, %v, want 1", n, err)
		}
		// A deleted account takes its codes files with it.
		if _, err := d.Exec(ctx, "DELETE FROM users WHERE id = ?", other); err != nil {
			t.Fatal(err)
		}
		var n int
		d.QueryRow(ctx, "SELECT COUNT(*) FROM import_codes").Scan(&n)
		if n != 0 {
			t.Fatalf("%d codes files left", n)
		}
	})
}
