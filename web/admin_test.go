package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"preau/auth"
	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

const adminTestPassword = "une phrase de passe pour les tests"

// adminFixture is a small département: a collège A with two classes and a
// lycée B with a 2nde, a head of each, a CPE in A, an ENT administrator, a
// teacher, pupils and a parent.
type adminFixture struct {
	t       *testing.T
	srv     *httptest.Server
	d       *db.DB
	college int64
	lycee   int64
	c3A     int64
	c4B     int64
	c2nde   int64
	admin   directory.Person
	headA   directory.Person
	headB   directory.Person
	cpe     directory.Person
	teacher directory.Person
	pupil   directory.Person // 3A, activated, child of parent
	pupil2  directory.Person // 3A, not activated
	pupil3  directory.Person // 3A, not activated
	pupil4  directory.Person // 3A, not activated and disabled
	parent  directory.Person
	parent2 directory.Person // a parent in A with no child yet
	pupilB  directory.Person // 2nde 1 in the lycée
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.SQLite(t)
	logger := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The cheapest parameters auth accepts: argon2 under -race is slow.
	svc := auth.NewService(d, auth.Config{Params: auth.Params{MemoryKiB: 8 * 1024, Passes: 1, Lanes: 1}}, logger)
	s, err := New(Config{}, logger, d, svc)
	if err != nil {
		t.Fatal(err)
	}
	f := &adminFixture{t: t, d: d}
	person := func(tx *db.Tx, first, last string, st int64, prof identity.Profile, function string) directory.Person {
		p, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: first, LastName: last})
		if err != nil {
			t.Fatal(err)
		}
		if err := directory.AddRole(ctx, tx, p.ID, st, prof, function); err != nil {
			t.Fatal(err)
		}
		return p
	}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		y, err := directory.EnsureYear(ctx, tx, directory.YearFor(directory.YearLabel(time.Now()), true))
		if err != nil {
			return err
		}
		if f.college, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450001A", Name: "Jean Moulin", Kind: directory.College, Commune: "Orléans"}); err != nil {
			return err
		}
		if f.lycee, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450002B", Name: "Pothier", Kind: directory.Lycee, Commune: "Orléans"}); err != nil {
			return err
		}
		for _, c := range []struct {
			id        *int64
			st        int64
			name, lvl string
		}{{&f.c3A, f.college, "3A", ""}, {&f.c4B, f.college, "4B", ""}, {&f.c2nde, f.lycee, "2nde 1", ""}} {
			if *c.id, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: c.st, YearID: y, Name: c.name}); err != nil {
				return err
			}
		}
		f.admin = person(tx, "Anne", "Admin", 0, identity.Admin, "")
		f.headA = person(tx, "Henri", "Principal", f.college, identity.Head, "Principal")
		f.headB = person(tx, "Hélène", "Proviseure", f.lycee, identity.Head, "Proviseure")
		f.cpe = person(tx, "Claire", "Cpe", f.college, identity.Staff, "CPE")
		f.teacher = person(tx, "Thomas", "Prof", f.college, identity.Teacher, "")
		f.parent = person(tx, "Paul", "Parent", f.college, identity.Parent, "")
		f.parent2 = person(tx, "Pauline", "Autreparent", f.college, identity.Parent, "")
		for _, p := range []struct {
			p           *directory.Person
			first, last string
			class       int64
		}{{&f.pupil, "Léa", "Martin", f.c3A}, {&f.pupil2, "Hugo", "Bernard", f.c3A}, {&f.pupil3, "Inès", "Petit", f.c3A},
			{&f.pupil4, "Jules", "Roux", f.c3A}, {&f.pupilB, "Bastien", "Lycéen", f.c2nde}} {
			pp, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: p.first, LastName: p.last})
			if err != nil {
				return err
			}
			if err := directory.Transfer(ctx, tx, pp.ID, p.class); err != nil {
				return err
			}
			*p.p = pp
		}
		if err := directory.LinkGuardian(ctx, tx, f.parent.ID, f.pupil.ID, "Père"); err != nil {
			return err
		}
		maths, err := directory.EnsureSubject(ctx, tx, "MATHS", "Mathématiques")
		if err != nil {
			return err
		}
		if err := directory.AddTeaching(ctx, tx, f.teacher.ID, f.c3A, maths); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET disabled = ? WHERE id = ?", true, f.pupil4.ID); err != nil {
			return err
		}
		// One hash for everyone who has activated: hashing is the slow part.
		h, err := svc.Hasher.Hash(ctx, adminTestPassword)
		if err != nil {
			return err
		}
		for _, p := range []directory.Person{f.admin, f.headA, f.headB, f.cpe, f.teacher, f.parent, f.parent2, f.pupil, f.pupilB} {
			if _, err := tx.Exec(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", h, p.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

// client returns an HTTP client with its own cookie jar that does not
// follow redirects, so tests see the 303s.
func (f *adminFixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login signs a person in through the API and returns their client.
func (f *adminFixture) login(p directory.Person) *http.Client {
	f.t.Helper()
	c := f.client()
	if code := f.apiLogin(c, p.Login, adminTestPassword); code != http.StatusOK {
		f.t.Fatalf("login %s: %d", p.Login, code)
	}
	return c
}

func (f *adminFixture) apiLogin(c *http.Client, login, password string) int {
	f.t.Helper()
	code, _ := f.postJSON(c, "/api/v1/auth/login", map[string]string{"login": login, "password": password})
	return code
}

func (f *adminFixture) postJSON(c *http.Client, path string, v any) (int, string) {
	f.t.Helper()
	b, _ := json.Marshal(v)
	resp, err := c.Post(f.srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (f *adminFixture) get(c *http.Client, path string) (int, string) {
	f.t.Helper()
	resp, err := c.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (f *adminFixture) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	f.t.Helper()
	resp, err := c.PostForm(f.srv.URL+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (f *adminFixture) wantGet(c *http.Client, path string, code int) string {
	f.t.Helper()
	got, body := f.get(c, path)
	if got != code {
		f.t.Fatalf("GET %s: %d, want %d", path, got, code)
	}
	return body
}

func (f *adminFixture) wantPost(c *http.Client, path string, form url.Values, code int) (*http.Response, string) {
	f.t.Helper()
	resp, body := f.post(c, path, form)
	if resp.StatusCode != code {
		f.t.Fatalf("POST %s: %d, want %d\n%s", path, resp.StatusCode, code, body)
	}
	return resp, body
}

func istr(n int64) string { return strconv.FormatInt(n, 10) }

var (
	codeRE  = regexp.MustCompile(`data-testid="activation-code">([A-Z0-9-]+)<`)
	loginRE = regexp.MustCompile(`data-testid="login">([a-z0-9.-]+)<`)
)

func match(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in page", re)
	}
	return m[1]
}

func TestAdminClosedToTeachersPupilsParents(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	if code, _ := f.get(f.client(), "/admin"); code != http.StatusSeeOther {
		t.Fatalf("anonymous /admin: %d, want a redirect to the login page", code)
	}
	paths := []string{"/admin", "/admin/personnes", "/admin/personnes/nouvelle", "/admin/etablissements/" + istr(f.college),
		"/admin/classes/" + istr(f.c3A), "/admin/personnes/" + istr(f.pupil.ID)}
	posts := []string{"/admin/etablissements", "/admin/etablissements/" + istr(f.college) + "/classes", "/admin/classes/" + istr(f.c3A) + "/codes",
		"/admin/personnes/" + istr(f.pupil.ID) + "/acces", "/admin/personnes/" + istr(f.pupil.ID) + "/desactiver", "/admin/personnes/nouvelle"}
	for _, p := range []directory.Person{f.teacher, f.pupil, f.parent} {
		c := f.login(p)
		for _, path := range paths {
			if code, _ := f.get(c, path); code != http.StatusNotFound {
				t.Errorf("%s GET %s: %d, want 404", p.Login, path, code)
			}
		}
		for _, path := range posts {
			if resp, _ := f.post(c, path, url.Values{"nom": {"X"}}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s POST %s: %d, want 404", p.Login, path, resp.StatusCode)
			}
		}
		if _, body := f.get(c, "/accueil"); strings.Contains(body, `href="/admin"`) {
			t.Errorf("%s sees the administration link", p.Login)
		}
	}
	// Nothing changed.
	p, _ := directory.New(f.d).Person(context.Background(), f.pupil.ID)
	if p.Disabled || !p.Activated {
		t.Fatal("a refused POST changed the pupil's account")
	}
}

func TestAdminCreatesStructureClassAndPerson(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	c := f.login(f.admin)

	body := f.wantGet(c, "/admin", http.StatusOK)
	for _, want := range []string{"Jean Moulin", "Pothier", "Créer un établissement", `href="/admin/import"`} {
		if !strings.Contains(body, want) {
			t.Errorf("admin home lacks %q", want)
		}
	}
	_, body = f.wantPost(c, "/admin/etablissements", url.Values{"uai": {"123"}, "nom": {"Voltaire"}, "type": {"lycee"}}, http.StatusBadRequest)
	if !strings.Contains(body, "Saisie incorrecte : code UAI") || !strings.Contains(body, `value="Voltaire"`) {
		t.Errorf("bad UAI: no clear error or the form was lost:\n%s", body)
	}
	resp, _ := f.wantPost(c, "/admin/etablissements", url.Values{"uai": {"0450099z"}, "nom": {"Voltaire"}, "type": {"lycee"}, "commune": {"Orléans"}}, http.StatusSeeOther)
	if !strings.HasPrefix(resp.Header.Get("Location"), "/admin/etablissements/") {
		t.Fatalf("structure created: redirect to %q", resp.Header.Get("Location"))
	}
	f.wantGet(c, resp.Header.Get("Location"), http.StatusOK)
	_, body = f.wantPost(c, "/admin/etablissements", url.Values{"uai": {"0450099Z"}, "nom": {"Autre"}, "type": {"lycee"}}, http.StatusBadRequest)
	if !strings.Contains(body, "Déjà enregistré") {
		t.Errorf("duplicate UAI: no conflict message")
	}

	// A class.
	classes := "/admin/etablissements/" + istr(f.college) + "/classes"
	resp, _ = f.wantPost(c, classes, url.Values{"nom": {"5C"}, "niveau": {""}, "type": {"class"}}, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	newClass, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(loc, "/admin/classes/"), "?ok=creee"), 10, 64)
	if err != nil {
		t.Fatalf("class created: redirect to %q", loc)
	}
	body = f.wantGet(c, loc, http.StatusOK)
	if !strings.Contains(body, "Classe 5C") || !strings.Contains(body, "Niveau 5e") {
		t.Errorf("class page lacks its name or level")
	}
	_, body = f.wantPost(c, classes, url.Values{"nom": {"5c"}, "type": {"class"}}, http.StatusBadRequest)
	if !strings.Contains(body, "existe déjà") {
		t.Errorf("duplicate class: no message")
	}
	body = f.wantGet(c, "/admin/etablissements/"+istr(f.college), http.StatusOK)
	if !strings.Contains(body, "/admin/classes/"+istr(newClass)) {
		t.Errorf("structure page does not list the new class")
	}

	// A pupil in that class: a pupil needs a class.
	form := url.Values{"etab": {istr(f.college)}, "profil": {"eleve"}, "prenom": {"Zoé"}, "nom": {"Durand"}, "naissance": {"2013-04-02"}}
	_, body = f.wantPost(c, "/admin/personnes/nouvelle", form, http.StatusBadRequest)
	if !strings.Contains(body, "Choisissez la classe") || !strings.Contains(body, `value="Zoé"`) {
		t.Errorf("pupil without class: no clear error or the form was lost")
	}
	form.Set("classe", istr(f.c2nde)) // a class of the other structure
	f.wantPost(c, "/admin/personnes/nouvelle", form, http.StatusBadRequest)
	form.Set("classe", istr(newClass))
	_, body = f.wantPost(c, "/admin/personnes/nouvelle", form, http.StatusOK)
	login, code := match(t, loginRE, body), match(t, codeRE, body)
	if login != "zoe.durand" {
		t.Errorf("login %q", login)
	}
	if st, b := f.postJSON(f.client(), "/api/v1/auth/activate", map[string]string{"login": login, "code": code, "password": "ma phrase secrète"}); st != http.StatusOK {
		t.Fatalf("activate the new pupil: %d %s", st, b)
	}
	body = f.wantGet(c, "/admin/classes/"+istr(newClass), http.StatusOK)
	if !strings.Contains(body, "zoe.durand") || !strings.Contains(body, "<td>Oui</td>") {
		t.Errorf("class page does not show the activated pupil:\n%s", body)
	}

	// A CPE with a function.
	_, body = f.wantPost(c, "/admin/personnes/nouvelle", url.Values{"etab": {istr(f.lycee)}, "profil": {"personnel"}, "fonction": {"CPE"},
		"prenom": {"Marc"}, "nom": {"Vie-Scolaire"}, "courriel": {"marc@example.fr"}}, http.StatusOK)
	roles, _ := directory.Roles(context.Background(), f.d, mustPerson(t, f.d, match(t, loginRE, body)).ID)
	if len(roles) != 1 || roles[0] != (identity.Role{StructureID: f.lycee, Profile: identity.Staff, Function: "CPE"}) {
		t.Errorf("roles of the new CPE: %+v", roles)
	}
}

func mustPerson(t *testing.T, d *db.DB, login string) directory.Person {
	t.Helper()
	p, err := directory.PersonBy(context.Background(), d, "login", login)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAdminHeadStaysInTheirSchool(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	c := f.login(f.headA)
	body := f.wantGet(c, "/admin", http.StatusOK)
	if !strings.Contains(body, "Jean Moulin") || strings.Contains(body, "Pothier") || strings.Contains(body, "Créer un établissement") {
		t.Errorf("head's admin home shows another school or the structure form")
	}
	f.wantGet(c, "/admin/classes/"+istr(f.c3A), http.StatusOK)
	f.wantGet(c, "/admin/personnes/"+istr(f.pupil.ID), http.StatusOK)
	for _, path := range []string{"/admin/etablissements/" + istr(f.lycee), "/admin/classes/" + istr(f.c2nde), "/admin/personnes/" + istr(f.pupilB.ID),
		"/admin/personnes/" + istr(f.headB.ID), "/admin/personnes/" + istr(f.admin.ID), "/admin/personnes?etab=" + istr(f.lycee),
		"/admin/classes/999999", "/admin/personnes/999999"} {
		f.wantGet(c, path, http.StatusNotFound)
	}
	for _, path := range []string{"/admin/etablissements", "/admin/etablissements/" + istr(f.lycee) + "/classes", "/admin/classes/" + istr(f.c2nde) + "/codes",
		"/admin/personnes/" + istr(f.pupilB.ID) + "/acces", "/admin/personnes/" + istr(f.pupilB.ID) + "/desactiver",
		"/admin/personnes/" + istr(f.pupilB.ID) + "/identite"} {
		f.wantPost(c, path, url.Values{"uai": {"0450123K"}, "nom": {"X"}, "prenom": {"Y"}, "type": {"lycee"}}, http.StatusNotFound)
	}
	// Moving one's pupil into the other school's class is out of reach.
	f.wantPost(c, "/admin/personnes/"+istr(f.pupil.ID)+"/classe", url.Values{"classe": {istr(f.c2nde)}}, http.StatusNotFound)
	body = f.wantGet(c, "/admin/personnes/"+istr(f.pupil.ID), http.StatusOK)
	if strings.Contains(body, "2nde 1") {
		t.Error("the head is offered the lycée's class")
	}
	// Creating a person in the other school.
	f.wantPost(c, "/admin/personnes/nouvelle", url.Values{"etab": {istr(f.lycee)}, "profil": {"enseignant"}, "prenom": {"A"}, "nom": {"B"}}, http.StatusBadRequest)
	if ps, _ := directory.New(f.d).Members(context.Background(), directory.MemberFilter{StructureID: f.lycee, Search: "B"}); len(ps) != 1 {
		t.Errorf("lycée members matching B: %d", len(ps))
	}

	// The people list stays in the school.
	body = f.wantGet(c, "/admin/personnes", http.StatusOK)
	if !strings.Contains(body, "lea.martin") || strings.Contains(body, "bastien") {
		t.Errorf("head's people list crosses schools")
	}
	body = f.wantGet(c, "/admin/personnes?profil=enseignant", http.StatusOK)
	if !strings.Contains(body, "thomas.prof") || strings.Contains(body, "lea.martin") {
		t.Errorf("profile filter")
	}
	body = f.wantGet(c, "/admin/personnes?q=mart", http.StatusOK)
	if !strings.Contains(body, "lea.martin") || strings.Contains(body, "hugo.bernard") {
		t.Errorf("search")
	}
}

func TestAdminStaffReadsAndResetsButDoesNotEdit(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	c := f.login(f.cpe)
	body := f.wantGet(c, "/admin/personnes/"+istr(f.pupil.ID), http.StatusOK)
	if strings.Contains(body, "/identite") || strings.Contains(body, "/desactiver") || !strings.Contains(body, "/acces") {
		t.Errorf("CPE's view of a pupil: wrong actions offered")
	}
	f.wantGet(c, "/admin/classes/"+istr(f.c3A), http.StatusOK)
	f.wantPost(c, "/admin/personnes/"+istr(f.pupil.ID)+"/identite", url.Values{"prenom": {"X"}, "nom": {"Y"}}, http.StatusForbidden)
	f.wantPost(c, "/admin/personnes/"+istr(f.pupil.ID)+"/desactiver", nil, http.StatusForbidden)
	f.wantPost(c, "/admin/etablissements/"+istr(f.college)+"/classes", url.Values{"nom": {"6Z"}, "type": {"class"}}, http.StatusNotFound)
	f.wantGet(c, "/admin/personnes/nouvelle", http.StatusNotFound)
	// A CPE cannot take over the principal's account.
	f.wantPost(c, "/admin/personnes/"+istr(f.headA.ID)+"/acces", nil, http.StatusForbidden)
	_, body = f.wantPost(c, "/admin/personnes/"+istr(f.pupil.ID)+"/acces", nil, http.StatusOK)
	match(t, codeRE, body)
	// Nor can a head reset the ENT administrator, who has no school.
	f.wantPost(f.login(f.headA), "/admin/personnes/"+istr(f.admin.ID)+"/acces", nil, http.StatusNotFound)
}

func TestAdminResetAccessGivesAWorkingCode(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	head := f.login(f.headA)
	pupil := f.login(f.pupil)
	_, body := f.wantPost(head, "/admin/personnes/"+istr(f.pupil.ID)+"/acces", nil, http.StatusOK)
	code := match(t, codeRE, body)
	if st, _ := f.get(pupil, "/api/v1/me"); st != http.StatusUnauthorized {
		t.Errorf("pupil's session after reset: %d, want 401", st)
	}
	if st := f.apiLogin(f.client(), f.pupil.Login, adminTestPassword); st != http.StatusUnauthorized {
		t.Errorf("old password after reset: %d, want 401", st)
	}
	if st, b := f.postJSON(f.client(), "/api/v1/auth/activate", map[string]string{"login": f.pupil.Login, "code": code, "password": "nouvelle phrase"}); st != http.StatusOK {
		t.Fatalf("activate with the reset code: %d %s", st, b)
	}
	if st := f.apiLogin(f.client(), f.pupil.Login, "nouvelle phrase"); st != http.StatusOK {
		t.Errorf("new password: %d", st)
	}
	// The code was shown once: the record does not show it again.
	if body := f.wantGet(head, "/admin/personnes/"+istr(f.pupil.ID), http.StatusOK); strings.Contains(body, code) {
		t.Error("the code is shown again")
	}
}

func TestAdminDisableEndsSessions(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	head := f.login(f.headA)
	pupil := f.login(f.pupil)
	if st, _ := f.get(pupil, "/api/v1/me"); st != http.StatusOK {
		t.Fatalf("me: %d", st)
	}
	f.wantPost(head, "/admin/personnes/"+istr(f.pupil.ID)+"/desactiver", nil, http.StatusSeeOther)
	if st, _ := f.get(pupil, "/api/v1/me"); st != http.StatusUnauthorized {
		t.Errorf("disabled pupil's session: %d, want 401", st)
	}
	if st := f.apiLogin(f.client(), f.pupil.Login, adminTestPassword); st != http.StatusUnauthorized {
		t.Errorf("disabled pupil logs in: %d", st)
	}
	if body := f.wantGet(head, "/admin/personnes/"+istr(f.pupil.ID)+"?ok=desactive", http.StatusOK); !strings.Contains(body, "Réactiver le compte") {
		t.Error("no way to re-enable")
	}
	f.wantPost(head, "/admin/personnes/"+istr(f.pupil.ID)+"/reactiver", nil, http.StatusSeeOther)
	if st := f.apiLogin(f.client(), f.pupil.Login, adminTestPassword); st != http.StatusOK {
		t.Errorf("re-enabled pupil logs in: %d", st)
	}
	// Nobody disables themselves from here.
	f.wantPost(head, "/admin/personnes/"+istr(f.headA.ID)+"/desactiver", nil, http.StatusForbidden)
}

func TestAdminEditsIdentity(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	head := f.login(f.headA)
	path := "/admin/personnes/" + istr(f.pupil.ID) + "/identite"
	form := url.Values{"civilite": {""}, "prenom": {"Léa"}, "nom": {"Martin-Roy"}, "naissance": {"2012-13-40"}, "ine": {"123456789AB"}}
	_, body := f.wantPost(head, path, form, http.StatusBadRequest)
	if !strings.Contains(body, "date de naissance") || !strings.Contains(body, `value="Martin-Roy"`) {
		t.Errorf("bad date: no clear error or the form was lost")
	}
	form.Set("naissance", "2012-05-06")
	f.wantPost(head, path, form, http.StatusSeeOther)
	p, _ := directory.New(f.d).Person(context.Background(), f.pupil.ID)
	if p.LastName != "Martin-Roy" || p.BirthDate != "2012-05-06" || p.INE != "123456789AB" || p.Login != f.pupil.Login {
		t.Errorf("stored: %+v", p)
	}
	// The same INE on another pupil is a conflict, said in French.
	_, body = f.wantPost(head, "/admin/personnes/"+istr(f.pupil2.ID)+"/identite",
		url.Values{"prenom": {"Hugo"}, "nom": {"Bernard"}, "ine": {"123456789AB"}}, http.StatusBadRequest)
	if !strings.Contains(body, "Déjà enregistré") {
		t.Error("INE conflict: no message")
	}
}

func TestAdminMovesPupilToLycee(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	ctx := context.Background()
	admin := f.login(f.admin)
	body := f.wantGet(admin, "/admin/personnes/"+istr(f.pupil.ID), http.StatusOK)
	if !strings.Contains(body, `<option value="`+istr(f.c2nde)+`">2nde 1</option>`) {
		t.Fatalf("the lycée's class is not offered:\n%s", body)
	}
	f.wantPost(admin, "/admin/personnes/"+istr(f.pupil.ID)+"/classe", url.Values{"classe": {istr(f.c2nde)}}, http.StatusSeeOther)

	dir := directory.New(f.d)
	p, err := dir.Person(ctx, f.pupil.ID)
	if err != nil || p.Login != f.pupil.Login {
		t.Fatalf("after the move: %+v %v", p, err)
	}
	ts, _ := dir.PersonTargets(ctx, f.pupil.ID)
	if len(ts) != 1 || ts[0].Structure != f.lycee || !slices.Equal(ts[0].Classes, []int64{f.c2nde}) {
		t.Errorf("targets after the move: %+v", ts)
	}
	proles, _ := directory.Roles(ctx, f.d, f.parent.ID)
	if len(proles) != 1 || proles[0].StructureID != f.lycee {
		t.Errorf("the parent's roles did not follow: %+v", proles)
	}
	// Same account, same password, new class.
	pupil := f.login(f.pupil)
	_, me := f.get(pupil, "/api/v1/me")
	if !strings.Contains(me, fmt.Sprintf(`"id":%d`, f.pupil.ID)) || !strings.Contains(me, `"name":"2nde 1"`) {
		t.Errorf("me after the move: %s", me)
	}
	// The collège's head no longer sees them; the lycée's does.
	f.wantGet(f.login(f.headA), "/admin/personnes/"+istr(f.pupil.ID), http.StatusNotFound)
	f.wantGet(f.login(f.headB), "/admin/personnes/"+istr(f.pupil.ID), http.StatusOK)
}

func TestAdminClassCodesCSV(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	head := f.login(f.headA)
	codes := func() [][]string {
		t.Helper()
		resp, body := f.wantPost(head, "/admin/classes/"+istr(f.c3A)+"/codes", nil, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("content type %q", ct)
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".csv") {
			t.Errorf("content disposition %q", cd)
		}
		rest, ok := strings.CutPrefix(body, "\uFEFF")
		if !ok {
			t.Fatal("no BOM")
		}
		r := csv.NewReader(strings.NewReader(rest))
		r.Comma = ';'
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], []string{"Identifiant", "Nom", "Prénom", "Classe", "Code d'activation", "Valable jusqu'au"}) {
			t.Errorf("header %q", rows[0])
		}
		return rows[1:]
	}
	rows := codes()
	byLogin := map[string][]string{}
	for _, r := range rows {
		byLogin[r[0]] = r
	}
	// One row per pupil not yet activated; not the activated one, not the disabled one.
	if len(rows) != 2 || byLogin[f.pupil2.Login] == nil || byLogin[f.pupil3.Login] == nil {
		t.Fatalf("rows: %q", rows)
	}
	if r := byLogin[f.pupil2.Login]; r[1] != "Bernard" || r[2] != "Hugo" || r[3] != "3A" || len(r[5]) != len("02/01/2006 15:04") {
		t.Errorf("row: %q", r)
	}
	if st, b := f.postJSON(f.client(), "/api/v1/auth/activate", map[string]string{"login": f.pupil2.Login, "code": byLogin[f.pupil2.Login][4], "password": "une phrase bien choisie"}); st != http.StatusOK {
		t.Fatalf("activate with the CSV code: %d %s", st, b)
	}
	if rows := codes(); len(rows) != 1 || rows[0][0] != f.pupil3.Login {
		t.Errorf("second run: %q", rows)
	}
	// The first code of pupil3 no longer works: each run replaces the codes.
	if st, _ := f.postJSON(f.client(), "/api/v1/auth/activate", map[string]string{"login": f.pupil3.Login, "code": byLogin[f.pupil3.Login][4], "password": "une autre phrase choisie"}); st != http.StatusBadRequest {
		t.Errorf("replaced code: %d, want 400", st)
	}
	// The teacher of the class may not.
	f.wantPost(f.login(f.teacher), "/admin/classes/"+istr(f.c3A)+"/codes", nil, http.StatusNotFound)
}

func TestAdminGuardians(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	ctx := context.Background()
	head := f.login(f.headA)
	path := "/admin/personnes/" + istr(f.pupil2.ID) + "/responsables"
	_, body := f.wantPost(head, path, url.Values{"identifiant": {"personne.inconnue"}}, http.StatusBadRequest)
	if !strings.Contains(body, "Aucun compte") {
		t.Error("unknown login: no message")
	}
	f.wantPost(head, path, url.Values{"identifiant": {f.pupil.Login}}, http.StatusBadRequest)
	f.wantPost(head, path, url.Values{"identifiant": {f.parent2.Login}, "lien": {"Mère"}}, http.StatusSeeOther)
	body = f.wantGet(head, "/admin/personnes/"+istr(f.pupil2.ID), http.StatusOK)
	if !strings.Contains(body, f.parent2.Login) {
		t.Error("the guardian is not listed")
	}
	kids, _ := directory.New(f.d).Children(ctx, f.parent2.ID)
	if len(kids) != 1 || kids[0].ID != f.pupil2.ID {
		t.Fatalf("children: %+v", kids)
	}
	// Unlink from the parent's record; with no child left in the collège the
	// parent role there goes.
	resp, _ := f.wantPost(head, path+"/"+istr(f.parent2.ID)+"/retirer", url.Values{"retour": {istr(f.parent2.ID)}}, http.StatusSeeOther)
	if !strings.HasPrefix(resp.Header.Get("Location"), "/admin/personnes/"+istr(f.parent2.ID)) {
		t.Errorf("back to %q", resp.Header.Get("Location"))
	}
	if g, _ := directory.New(f.d).Guardians(ctx, f.pupil2.ID); len(g) != 0 {
		t.Errorf("guardians left: %+v", g)
	}
	if r, _ := directory.Roles(ctx, f.d, f.parent2.ID); len(r) != 0 {
		t.Errorf("parent roles left: %+v", r)
	}
	// Not a guardian: 404.
	f.wantPost(head, path+"/"+istr(f.parent.ID)+"/retirer", nil, http.StatusNotFound)
}

func TestAdminPeoplePages(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	ctx := context.Background()
	err := f.d.InTx(ctx, func(tx *db.Tx) error {
		for i := range 60 {
			p, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Élève", LastName: fmt.Sprintf("Zz%02d", i)})
			if err != nil {
				return err
			}
			if err := directory.Transfer(ctx, tx, p.ID, f.c4B); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	head := f.login(f.headA)
	first := f.wantGet(head, "/admin/personnes?profil=eleve&q=zz", http.StatusOK)
	if strings.Count(first, `<th scope="row">`) != 50 || !strings.Contains(first, "Page suivante") || strings.Contains(first, "Page précédente") {
		t.Errorf("first page")
	}
	second := f.wantGet(head, "/admin/personnes?etab="+istr(f.college)+"&profil=eleve&q=zz&page=2", http.StatusOK)
	if strings.Count(second, `<th scope="row">`) != 10 || strings.Contains(second, "Page suivante") || !strings.Contains(second, "Page précédente") {
		t.Errorf("second page")
	}
	body := f.wantGet(head, "/admin/etablissements/"+istr(f.college), http.StatusOK)
	if !strings.Contains(body, `<a href="/admin/classes/`+istr(f.c4B)+`">4B</a></th><td>4e</td><td>60</td>`) {
		t.Errorf("structure page: class counts:\n%s", body)
	}
	f.wantGet(head, "/admin/personnes?etab=abc", http.StatusNotFound)
}

func TestAdminRefusesCrossOriginPosts(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	head := f.login(f.headA)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/personnes/"+istr(f.pupil.ID)+"/desactiver", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := head.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST: %d, want 403", resp.StatusCode)
	}
	if p, _ := directory.New(f.d).Person(context.Background(), f.pupil.ID); p.Disabled {
		t.Fatal("the cross-origin POST disabled the pupil")
	}
}
