package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"preau/ent/directory"
	"preau/ent/library"
	"preau/identity"
	"preau/internal/dbtest"
)

// TestLibrary walks the CDI through its pages and API: the documentaliste
// catalogues a title, Léa reserves its only copy through the page, Tom
// finds it gone and joins the waiting list, the desk lends and takes it
// back, the copy goes to Tom; and at each step those who may not answer
// 404.
func TestLibrary(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	ctx := context.Background()
	doc, err := directory.CreatePerson(ctx, d, directory.Person{FirstName: "Anne", LastName: "Rousseau"})
	if err != nil {
		t.Fatal(err)
	}
	if err := directory.AddRole(ctx, d, doc.ID, f.college, identity.Staff, "Professeur documentaliste"); err != nil {
		t.Fatal(err)
	}
	cookies := map[string]*http.Cookie{}
	for name, p := range map[string]directory.Person{"doc": doc, "lea": f.lea, "tom": f.tom, "ines": f.ines, "mother": f.mother,
		"father": f.father, "cpe": f.cpe, "head": f.head, "lyceeHead": f.lyceeHead, "teacher": f.teacher} {
		cookies[name] = f.session(t, p)
	}
	do := func(method, path, body, who string, opts ...reqOpt) *http.Response {
		return serve(f.h, method, path, body, append([]reqOpt{withCookie(cookies[who])}, opts...)...).Result()
	}
	form := func(path string, v url.Values, who string) *http.Response {
		return do("POST", path, "", who, withFormBody(v))
	}
	text := func(r *http.Response) string {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				return b.String()
			}
		}
	}
	want := func(r *http.Response, code int, what string) string {
		t.Helper()
		body := text(r)
		if r.StatusCode != code {
			t.Fatalf("%s: %d, want %d\n%.600s", what, r.StatusCode, code, body)
		}
		return body
	}

	// Cataloguing: the documentaliste, not the CPE nor a pupil.
	newBook := fmt.Sprintf(`{"structure_id": %d, "title": "Le Horla", "authors": ["Maupassant, Guy de"], "isbn": "978-2-07-036002-4",
		"subjects": ["Fantastique"], "shelf_mark": "R MAU", "copies": 1}`, f.college)
	want(do("POST", "/api/v1/library/books", newBook, "cpe"), http.StatusNotFound, "CPE catalogues")
	want(do("POST", "/api/v1/library/books", newBook, "lea"), http.StatusNotFound, "pupil catalogues")
	var book library.Book
	json.Unmarshal([]byte(want(do("POST", "/api/v1/library/books", newBook, "doc"), http.StatusCreated, "documentaliste catalogues")), &book)
	if book.ID == 0 || book.Available != 1 {
		t.Fatalf("created %+v", book)
	}
	bad := strings.Replace(newBook, "978-2-07-036002-4", "978-2-07-036002-5", 1)
	if body := want(do("POST", "/api/v1/library/books", bad, "doc"), http.StatusBadRequest, "bad ISBN"); !strings.Contains(body, "clé de contrôle") {
		t.Errorf("bad ISBN: %s", body)
	}

	// Reading: the school, not the lycée.
	if body := want(do("GET", "/cdi?q=HORLA+maupassant", "", "lea"), http.StatusOK, "search page"); !strings.Contains(body, "Le Horla") {
		t.Error("the search page does not find Le Horla")
	}
	want(do("GET", fmt.Sprintf("/api/v1/library/books/%d", book.ID), "", "ines"), http.StatusNotFound, "lycée pupil reads the collège's title")
	want(do("GET", fmt.Sprintf("/cdi/livres/%d", book.ID), "", "lyceeHead"), http.StatusNotFound, "lycée head reads the collège's title")
	want(do("GET", fmt.Sprintf("/api/v1/library/books?structure_id=%d", f.college), "", "ines"), http.StatusNotFound, "lycée pupil searches the collège")
	page := want(do("GET", fmt.Sprintf("/cdi/livres/%d", book.ID), "", "lea"), http.StatusOK, "title page")
	if !strings.Contains(page, "Réserver") {
		t.Error("the title page offers no Réserver button")
	}

	// Léa reserves through the page; a parent may not reserve.
	reserve := fmt.Sprintf("/cdi/livres/%d/reserver", book.ID)
	want(form(reserve, url.Values{}, "mother"), http.StatusNotFound, "parent reserves")
	r := form(reserve, url.Values{}, "lea")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/cdi/mes-prets?ok=reservee") {
		t.Fatalf("Léa reserves: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	mine := want(do("GET", "/cdi/mes-prets?ok=reservee", "", "lea"), http.StatusOK, "Léa's page")
	if !strings.Contains(mine, "Le Horla") || !strings.Contains(mine, "Votre réservation est enregistrée") {
		t.Errorf("Léa's page:\n%s", mine)
	}
	// Tom finds the last copy gone: a French message and the waiting list.
	body := want(form(reserve, url.Values{}, "tom"), http.StatusConflict, "Tom reserves the copy Léa has")
	if !strings.Contains(body, "Plus aucun exemplaire") || !strings.Contains(body, "Rejoindre la file d'attente") {
		t.Errorf("Tom's page:\n%.2000s", body)
	}
	want(form(reserve, url.Values{"file": {"1"}}, "tom"), http.StatusSeeOther, "Tom joins the waiting list")

	// Loans are their person's, their parents' and the documentaliste's.
	lea := fmt.Sprintf("/api/v1/library/people/%d/loans", f.lea.ID)
	var loans libLoansJSON
	json.Unmarshal([]byte(want(do("GET", lea, "", "mother"), http.StatusOK, "mother reads Léa's loans")), &loans)
	if len(loans.Reservations) != 1 || loans.Reservations[0].Status != library.Ready {
		t.Fatalf("Léa's reservations: %+v", loans)
	}
	leaRes := loans.Reservations[0]
	want(do("GET", lea, "", "tom"), http.StatusNotFound, "Tom reads Léa's loans")
	want(do("GET", lea, "", "father"), http.StatusNotFound, "another parent reads Léa's loans")
	want(do("GET", lea, "", "cpe"), http.StatusNotFound, "the CPE reads Léa's loans")
	want(do("GET", fmt.Sprintf("/cdi/mes-prets?eleve=%d", f.lea.ID), "", "tom"), http.StatusNotFound, "Tom's page of Léa")
	want(do("GET", lea, "", "doc"), http.StatusOK, "documentaliste reads Léa's loans")
	want(do("DELETE", fmt.Sprintf("/api/v1/library/reservations/%d", leaRes.ID), "", "tom"), http.StatusNotFound, "Tom cancels Léa's")
	if body := want(do("GET", fmt.Sprintf("/cdi/mes-prets?eleve=%d", f.lea.ID), "", "mother"), http.StatusOK, "mother's page"); !strings.Contains(body, "Le Horla") ||
		strings.Contains(body, "/annuler") {
		t.Errorf("the mother's page (read only):\n%s", body)
	}

	// The desk: the documentaliste lends the held copy to Léa.
	want(do("GET", "/cdi/bureau", "", "cpe"), http.StatusNotFound, "the CPE's desk")
	want(do("GET", fmt.Sprintf("/cdi/bureau?etablissement=%d", f.college), "", "lyceeHead"), http.StatusNotFound, "lycée head's desk of the collège")
	if body := want(do("GET", "/cdi/bureau", "", "doc"), http.StatusOK, "desk"); !strings.Contains(body, "Léa Martin") {
		t.Error("the desk does not show Léa's reservation")
	}
	lend := url.Values{"exemplaire": {fmt.Sprint(leaRes.CopyID)}, "personne": {fmt.Sprint(f.tom.ID)}}
	if body := want(form("/cdi/bureau/preter", lend, "doc"), http.StatusBadRequest, "lend Léa's copy to Tom"); !strings.Contains(body, "réservé pour Léa Martin") {
		t.Errorf("lend to Tom: %.500s", body)
	}
	lend.Set("personne", fmt.Sprint(f.lea.ID))
	want(form("/cdi/bureau/preter", lend, "cpe"), http.StatusNotFound, "the CPE lends")
	want(form("/cdi/bureau/preter", lend, "doc"), http.StatusSeeOther, "documentaliste lends")
	if body := want(do("GET", "/cdi/mes-prets", "", "lea"), http.StatusOK, "Léa's loans"); !strings.Contains(body, "à rendre le") {
		t.Errorf("Léa's loan is not shown:\n%s", body)
	}
	// The return goes to Tom.
	var ret struct {
		Next int64 `json:"next_reservation_id"`
	}
	ret2 := fmt.Sprintf("/api/v1/library/copies/%d/return", leaRes.CopyID)
	want(do("POST", ret2, "", "head"), http.StatusOK, "the head takes the return") // the direction manages too
	want(do("POST", ret2, "", "doc"), http.StatusBadRequest, "returned twice")
	json.Unmarshal([]byte(want(do("GET", fmt.Sprintf("/api/v1/library/people/%d/loans", f.tom.ID), "", "tom"), http.StatusOK, "Tom's loans")), &loans)
	if len(loans.Reservations) != 1 || loans.Reservations[0].Status != library.Ready {
		t.Errorf("Tom after the return: %+v", loans.Reservations)
	}
	_ = ret

	// Import: bad lines by number, nothing applied; then a good file.
	imp := fmt.Sprintf("/api/v1/library/import?structure_id=%d", f.college)
	csv := "ISBN;Titre;Exemplaires\n978-2-07-061275-8;Le Petit Prince;2\n123;Faux;1\n"
	if body := want(do("POST", imp, csv, "doc", withHeader("Content-Type", "text/csv")), http.StatusBadRequest, "bad import"); !strings.Contains(body, `"line":3`) {
		t.Errorf("bad import: %s", body)
	}
	want(do("POST", imp, csv, "cpe", withHeader("Content-Type", "text/csv")), http.StatusNotFound, "the CPE imports")
	csv = "ISBN;Titre;Exemplaires\n978-2-07-061275-8;Le Petit Prince;2\n"
	if body := want(do("POST", imp, csv, "doc", withHeader("Content-Type", "text/csv")), http.StatusOK, "import"); !strings.Contains(body, `"created":1`) {
		t.Errorf("import: %s", body)
	}

	// The home page's CDI tile leads here.
	if body := want(do("GET", "/accueil", "", "lea"), http.StatusOK, "home"); !strings.Contains(body, `href="/cdi"`) {
		t.Error("no CDI tile on the pupil's home page")
	}
	for _, p := range []string{"/cdi/retards", "/cdi/import", "/cdi/livres/nouveau"} {
		want(do("GET", p, "", "doc"), http.StatusOK, p)
		want(do("GET", p, "", "lea"), http.StatusNotFound, p+" as a pupil")
	}
}

// TestLibraryCover: the documentaliste gives a title a cover from an
// image of her Documents (a text file is refused); the school's readers
// get it as an image with nosniff, another school's do not.
func TestLibraryCover(t *testing.T) {
	hs := newHomeworkSite(t) // the fixture with the Documents configured
	ctx := context.Background()
	doc, err := directory.CreatePerson(ctx, hs.d, directory.Person{FirstName: "Anne", LastName: "Rousseau"})
	if err != nil {
		t.Fatal(err)
	}
	if err := directory.AddRole(ctx, hs.d, doc.ID, hs.college, identity.Staff, "Documentaliste"); err != nil {
		t.Fatal(err)
	}
	hs.cookie["doc"] = hs.session(t, doc)
	b, err := library.New(hs.d, library.Config{}).CreateBook(ctx, library.Book{StructureID: hs.college, Title: "Le Lion"}, "R KES", 1)
	if err != nil {
		t.Fatal(err)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)
	img := hs.upload(t, doc, "lion.png", png)
	txt := hs.upload(t, doc, "notes.txt", []byte("pas une image"))
	path := fmt.Sprintf("/cdi/livres/%d/couverture", b.ID)
	if w := hs.form(path, url.Values{"document": {fmt.Sprint(txt.ID)}}, "doc"); w.Code != http.StatusBadRequest {
		t.Errorf("a text file as cover: %d", w.Code)
	}
	if w := hs.form(path, url.Values{"document": {fmt.Sprint(img.ID)}}, "cpe"); w.Code != http.StatusNotFound {
		t.Errorf("the CPE sets a cover: %d", w.Code)
	}
	if w := hs.do("GET", fmt.Sprintf("/cdi/livres/%d", b.ID), "", "doc"); !strings.Contains(w.Body.String(), "lion.png") {
		t.Error("the title page does not offer the image")
	}
	if w := hs.form(path, url.Values{"document": {fmt.Sprint(img.ID)}}, "doc"); w.Code != http.StatusSeeOther {
		t.Fatalf("set the cover: %d %s", w.Code, w.Body.String())
	}
	w := hs.do("GET", path, "", "lea")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" || w.Header().Get("X-Content-Type-Options") != "nosniff" ||
		!bytes.Equal(w.Body.Bytes(), png) {
		t.Errorf("the cover: %d %v", w.Code, w.Header())
	}
	if w := hs.do("GET", fmt.Sprintf("/cdi/livres/%d", b.ID), "", "lea"); !strings.Contains(w.Body.String(), `data-testid="lib-cover"`) {
		t.Error("the title page does not show the cover")
	}
	if w := hs.do("GET", path, "", "ines"); w.Code != http.StatusNotFound {
		t.Errorf("a lycée pupil gets the cover: %d", w.Code)
	}
	// Removing it.
	if w := hs.form(path, url.Values{"document": {"0"}}, "doc"); w.Code != http.StatusSeeOther {
		t.Fatalf("remove the cover: %d", w.Code)
	}
	if w := hs.do("GET", path, "", "lea"); w.Code != http.StatusNotFound {
		t.Errorf("removed cover: %d", w.Code)
	}
}

// TestLibraryRaceThroughPages: Léa and Tom press "Réserver" on the last
// copy at the same moment; one gets it, the other a French message and the
// waiting-list button (409), and the copy is held once.
func TestLibraryRaceThroughPages(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	ctx := context.Background()
	b, err := library.New(d, library.Config{}).CreateBook(ctx, library.Book{StructureID: f.college, Title: "Croc-Blanc"}, "R LON", 1)
	if err != nil {
		t.Fatal(err)
	}
	cookies := []*http.Cookie{f.session(t, f.lea), f.session(t, f.tom)}
	codes := make([]int, 2)
	bodies := make([]string, 2)
	var wg sync.WaitGroup
	for i := range cookies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := serve(f.h, "POST", fmt.Sprintf("/cdi/livres/%d/reserver", b.ID), "", withCookie(cookies[i]), withFormBody(url.Values{}))
			codes[i], bodies[i] = w.Code, w.Body.String()
		}()
	}
	wg.Wait()
	won, lost := 0, 0
	for i, c := range codes {
		switch c {
		case http.StatusSeeOther:
			won++
		case http.StatusConflict:
			lost++
			if !strings.Contains(bodies[i], "Plus aucun exemplaire") || !strings.Contains(bodies[i], "Rejoindre la file d'attente") {
				t.Errorf("the loser's page:\n%.1500s", bodies[i])
			}
		default:
			t.Errorf("client %d: %d", i, c)
		}
	}
	var held int
	d.QueryRow(ctx, "SELECT COUNT(*) FROM library_reservations WHERE book_id = ? AND status = 'ready'", b.ID).Scan(&held)
	if won != 1 || lost != 1 || held != 1 {
		t.Errorf("%d won, %d lost, %d held", won, lost, held)
	}
}
