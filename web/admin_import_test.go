package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
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
