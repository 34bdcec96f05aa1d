package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"preau/auth"
	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

// cheapParams keep test hashing fast; production uses auth.DefaultParams.
var cheapParams = auth.Params{MemoryKiB: 8 * 1024, Passes: 1, Lanes: 1}

// testPassword is every fixture account's password.
const testPassword = "le chat vert saute haut"

// fixture is a small département: a collège with two classes this year (and
// one last year), a lycée with one class, and the people the authorization
// rules are about.
type fixture struct {
	d    *db.DB
	auth *auth.Service
	srv  *Server
	h    http.Handler

	college, lycee              int64
	classA, classB, classLycee  int64
	lastYearClass               int64
	teacher                     directory.Person // teaches 3e A this year, taught Hugo last year
	lea, tom, hugo, ines        directory.Person // pupils: 3e A, 3e A, 3e B, lycée
	mother, father              directory.Person // Léa's mother; Hugo's father
	cpe, head, lyceeHead, admin directory.Person
	mathsID                     int64
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newServer builds a site on d with a cheap hasher and a fresh throttle.
func newServer(t testing.TB, d *db.DB, cfg Config, log *slog.Logger) (*Server, *auth.Service) {
	t.Helper()
	a := auth.NewService(d, auth.Config{Params: cheapParams}, log)
	s, err := New(cfg, log, d, a)
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{d: d}
	f.srv, f.auth = newServer(t, d, Config{}, testLogger(t))
	f.h = f.srv.Handler()
	err := d.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if f.college, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450001A", Name: "Collège Jean Moulin", Kind: directory.College, Commune: "Orléans"}); err != nil {
			return err
		}
		if f.lycee, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450002B", Name: "Lycée Voltaire", Kind: directory.Lycee, Commune: "Orléans"}); err != nil {
			return err
		}
		last, err := directory.EnsureYear(ctx, tx, directory.YearFor("2025-2026", false))
		if err != nil {
			return err
		}
		year, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
		if err != nil {
			return err
		}
		class := func(st, y int64, name string) int64 {
			if err != nil {
				return 0
			}
			var id int64
			id, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: y, Name: name})
			return id
		}
		f.classA, f.classB = class(f.college, year, "3e A"), class(f.college, year, "3e B")
		f.lastYearClass = class(f.college, last, "4e A")
		f.classLycee = class(f.lycee, year, "2nde 1")
		if err != nil {
			return err
		}
		if f.mathsID, err = directory.EnsureSubject(ctx, tx, "MATHS", "Mathématiques"); err != nil {
			return err
		}
		person := func(first, last string, st int64, prof identity.Profile, function string) directory.Person {
			if err != nil {
				return directory.Person{}
			}
			var p directory.Person
			if p, err = directory.CreatePerson(ctx, tx, directory.Person{FirstName: first, LastName: last, Email: strings.ToLower(first) + "@example.fr"}); err != nil {
				return p
			}
			if prof != identity.Pupil {
				err = directory.AddRole(ctx, tx, p.ID, st, prof, function)
			}
			return p
		}
		pupil := func(first, last string, classes ...int64) directory.Person {
			p := person(first, last, 0, identity.Pupil, "")
			for _, c := range classes {
				if err == nil {
					err = directory.Transfer(ctx, tx, p.ID, c)
				}
			}
			return p
		}
		f.teacher = person("Paul", "Dupont", f.college, identity.Teacher, "")
		f.lea = pupil("Léa", "Martin", f.classA)
		f.tom = pupil("Tom", "Petit", f.classA)
		f.hugo = pupil("Hugo", "Bernard", f.lastYearClass, f.classB)
		f.ines = pupil("Inès", "Moreau", f.classLycee)
		f.mother = person("Sophie", "Martin", f.college, identity.Parent, "")
		f.father = person("Marc", "Bernard", f.college, identity.Parent, "")
		f.cpe = person("Claire", "Roux", f.college, identity.Staff, "CPE")
		f.head = person("Anne", "Lefèvre", f.college, identity.Head, "Principale")
		f.lyceeHead = person("Luc", "Garnier", f.lycee, identity.Head, "Proviseur")
		f.admin = person("Admin", "Département", 0, identity.Admin, "")
		if err != nil {
			return err
		}
		for _, c := range []int64{f.classA, f.lastYearClass} {
			if err := directory.AddTeaching(ctx, tx, f.teacher.ID, c, f.mathsID); err != nil {
				return err
			}
		}
		if err := directory.LinkGuardian(ctx, tx, f.mother.ID, f.lea.ID, "mère"); err != nil {
			return err
		}
		return directory.LinkGuardian(ctx, tx, f.father.ID, f.hugo.ID, "père")
	})
	if err != nil {
		t.Fatal(err)
	}
	phc, err := f.auth.Hasher.Hash(ctx, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, "UPDATE users SET password_hash = ?", phc); err != nil {
		t.Fatal(err)
	}
	return f
}

// session signs p in without a password check, for tests about what
// signed-in people may do.
func (f *fixture) session(t testing.TB, p directory.Person) *http.Cookie {
	t.Helper()
	tok, err := f.auth.Sessions.Create(context.Background(), f.d, p.ID, "test", "192.0.2.200")
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: cookiePlain, Value: tok}
}

type reqOpt func(*http.Request)

func withCookie(c *http.Cookie) reqOpt { return func(r *http.Request) { r.AddCookie(c) } }
func fromIP(ip string) reqOpt          { return func(r *http.Request) { r.RemoteAddr = ip + ":40000" } }
func withHeader(k, v string) reqOpt    { return func(r *http.Request) { r.Header.Set(k, v) } }

var ipSeq atomic.Int64

// freshIP returns an address no other request used, so that the per-IP
// throttle does not mix tests.
func freshIP() string {
	n := ipSeq.Add(1)
	return fmt.Sprintf("198.51.%d.%d", n/250, 1+n%250)
}

func serve(h http.Handler, method, path, body string, opts ...reqOpt) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.RemoteAddr = freshIP() + ":40000"
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func (f *fixture) do(method, path, body string, opts ...reqOpt) *httptest.ResponseRecorder {
	return serve(f.h, method, path, body, opts...)
}

func sessionCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == cookiePlain || c.Name == cookieSecure {
			return c
		}
	}
	return nil
}

func decodeBody[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q: %v", w.Body.String(), err)
	}
	return v
}

func wantCode(t testing.TB, w *httptest.ResponseRecorder, code int, what string) {
	t.Helper()
	if w.Code != code {
		t.Fatalf("%s: status %d, want %d; body %s", what, w.Code, code, w.Body.String())
	}
}

func loginBody(login, password string) string {
	b, _ := json.Marshal(loginRequest{Login: login, Password: password})
	return string(b)
}

func TestAPIAuth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)

		t.Run("login sets a safe cookie and returns me", func(t *testing.T) {
			w := f.do("POST", "/api/v1/auth/login", loginBody(f.mother.Login, testPassword))
			wantCode(t, w, http.StatusOK, "login")
			c := sessionCookie(w)
			if c == nil || c.Name != cookiePlain || c.Value == "" {
				t.Fatalf("no session cookie: %v", w.Result().Cookies())
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge <= 0 {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, no Domain, a Max-Age", c)
			}
			if c.Secure {
				t.Error("Secure cookie over plain http: the browser would drop it")
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			me := decodeBody[meResponse](t, w)
			if me.ID != f.mother.ID || me.Login != f.mother.Login || me.FirstName != "Sophie" {
				t.Errorf("me = %+v", me)
			}
			if len(me.Profiles) != 1 || me.Profiles[0].Profile != "parent" || me.Profiles[0].Structure == nil ||
				me.Profiles[0].Structure.ID != f.college {
				t.Errorf("profiles = %+v", me.Profiles)
			}
			if len(me.Children) != 1 || me.Children[0].ID != f.lea.ID || me.Children[0].ClassName != "3e A" {
				t.Errorf("children = %+v, want Léa in 3e A", me.Children)
			}
			// The cookie works.
			w = f.do("GET", "/api/v1/me", "", withCookie(c))
			wantCode(t, w, http.StatusOK, "me with the new cookie")

			// A teacher's me lists the classes taught this year only.
			w = f.do("POST", "/api/v1/auth/login", loginBody(f.teacher.Login, testPassword))
			wantCode(t, w, http.StatusOK, "teacher login")
			me = decodeBody[meResponse](t, w)
			if len(me.Classes) != 1 || me.Classes[0].ID != f.classA || len(me.Children) != 0 {
				t.Errorf("teacher me: classes %+v children %+v", me.Classes, me.Children)
			}
			// Identifiers are not case-sensitive; passwords are.
			wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(" "+strings.ToUpper(f.cpe.Login), testPassword)), http.StatusOK, "upper-case login")
			wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(f.cpe.Login, strings.ToUpper(testPassword))), http.StatusUnauthorized, "upper-case password")
		})

		t.Run("unknown login and wrong password answer alike", func(t *testing.T) {
			w1 := f.do("POST", "/api/v1/auth/login", loginBody("personne.inconnue", testPassword))
			w2 := f.do("POST", "/api/v1/auth/login", loginBody(f.head.Login, "pas le bon mot de passe"))
			wantCode(t, w1, http.StatusUnauthorized, "unknown login")
			wantCode(t, w2, http.StatusUnauthorized, "wrong password")
			if w1.Body.String() != w2.Body.String() {
				t.Errorf("bodies differ:\n%s\n%s", w1.Body, w2.Body)
			}
			if sessionCookie(w1) != nil || sessionCookie(w2) != nil {
				t.Error("a failed login set a cookie")
			}
			e := decodeBody[apiErrorBody](t, w1)
			if e.Error != "bad_credentials" || !strings.Contains(e.Message, "incorrect") {
				t.Errorf("error body %+v", e)
			}
		})

		t.Run("malformed requests are 400", func(t *testing.T) {
			pw := strconv.Quote(testPassword)
			for name, body := range map[string]string{
				"not JSON":       `login=a&password=b`,
				"truncated":      `{"login":"` + f.head.Login + `","password":`,
				"unknown field":  `{"login":"` + f.head.Login + `","password":` + pw + `,"admin":true}`,
				"duplicate key":  `{"login":"personne","password":` + pw + `,"login":"` + f.head.Login + `"}`,
				"nested dup":     `{"login":"` + f.head.Login + `","password":` + pw + `,"x":{"a":1,"a":2}}`,
				"trailing data":  `{"login":"` + f.head.Login + `","password":` + pw + `} {}`,
				"wrong type":     `{"login":42,"password":` + pw + `}`,
				"array":          `[]`,
				"empty":          ` `,
				"too large body": `{"login":"` + strings.Repeat("a", 2<<20) + `","password":"x"}`,
			} {
				w := f.do("POST", "/api/v1/auth/login", body)
				wantCode(t, w, http.StatusBadRequest, name)
				if e := decodeBody[apiErrorBody](t, w); e.Error != "bad_request" || e.Message == "" {
					t.Errorf("%s: body %+v", name, e)
				}
				if sessionCookie(w) != nil {
					t.Errorf("%s: cookie set", name)
				}
			}
		})

		t.Run("no cookie or a bad one is 401", func(t *testing.T) {
			w := f.do("GET", "/api/v1/me", "")
			wantCode(t, w, http.StatusUnauthorized, "me without cookie")
			if e := decodeBody[apiErrorBody](t, w); e.Error != "unauthenticated" {
				t.Errorf("body %+v", e)
			}
			w = f.do("GET", "/api/v1/me", "", withCookie(&http.Cookie{Name: cookiePlain, Value: strings.Repeat("x", 43)}))
			wantCode(t, w, http.StatusUnauthorized, "me with a forged cookie")
			if c := sessionCookie(w); c == nil || c.MaxAge >= 0 {
				t.Error("a stale cookie is not cleared")
			}
			// The __Host- cookie is not read over plain http.
			c := f.session(t, f.head)
			c.Name = cookieSecure
			wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(c)), http.StatusUnauthorized, "__Host- cookie over http")
			for _, path := range []string{"/api/v1/me/sessions", "/api/v1/structures", "/api/v1/people/" + strconv.FormatInt(f.lea.ID, 10)} {
				wantCode(t, f.do("GET", path, ""), http.StatusUnauthorized, path)
			}
			wantCode(t, f.do("POST", "/api/v1/auth/logout", ""), http.StatusUnauthorized, "logout without cookie")
		})

		t.Run("logout ends the session", func(t *testing.T) {
			c := f.session(t, f.cpe)
			wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(c)), http.StatusOK, "me")
			w := f.do("POST", "/api/v1/auth/logout", "", withCookie(c))
			wantCode(t, w, http.StatusNoContent, "logout")
			if cl := sessionCookie(w); cl == nil || cl.MaxAge >= 0 {
				t.Error("logout does not clear the cookie")
			}
			wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(c)), http.StatusUnauthorized, "me after logout")
		})

		t.Run("sessions: list and end another", func(t *testing.T) {
			w := f.do("POST", "/api/v1/auth/login", loginBody(f.lyceeHead.Login, testPassword), withHeader("User-Agent", "Firefox de test"))
			wantCode(t, w, http.StatusOK, "login")
			mine := sessionCookie(w)
			other := f.session(t, f.lyceeHead)
			w = f.do("GET", "/api/v1/me/sessions", "", withCookie(mine))
			wantCode(t, w, http.StatusOK, "sessions")
			type item struct {
				ID        string    `json:"id"`
				Current   bool      `json:"current"`
				UserAgent string    `json:"user_agent"`
				CreatedAt time.Time `json:"created_at"`
			}
			list := decodeBody[[]item](t, w)
			var cur, otherID string
			for _, it := range list {
				if it.Current {
					if cur != "" {
						t.Error("two current sessions")
					}
					cur = it.ID
					if it.UserAgent != "Firefox de test" {
						t.Errorf("current session user agent %q", it.UserAgent)
					}
				} else {
					otherID = it.ID
				}
			}
			if cur == "" || otherID == "" || len(list) < 2 {
				t.Fatalf("sessions %+v: want the current one and another", list)
			}
			if strings.Contains(w.Body.String(), mine.Value) || strings.Contains(w.Body.String(), other.Value) {
				t.Fatal("the sessions list shows a token")
			}
			// Another user cannot end it.
			wantCode(t, f.do("DELETE", "/api/v1/me/sessions/"+otherID, "", withCookie(f.session(t, f.admin))), http.StatusNotFound, "admin ends a lycée head's session")
			wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(other)), http.StatusOK, "other session still alive")
			wantCode(t, f.do("DELETE", "/api/v1/me/sessions/"+otherID, "", withCookie(mine)), http.StatusNoContent, "end other")
			wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(other)), http.StatusUnauthorized, "ended session")
			wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(mine)), http.StatusOK, "current session")
			wantCode(t, f.do("DELETE", "/api/v1/me/sessions/"+otherID, "", withCookie(mine)), http.StatusNotFound, "end twice")
			wantCode(t, f.do("DELETE", "/api/v1/me/sessions/nimporte", "", withCookie(mine)), http.StatusNotFound, "unknown id")
		})

		t.Run("password change", func(t *testing.T) {
			mine, other := f.session(t, f.head), f.session(t, f.head)
			const next = "une toute nouvelle phrase"
			body := func(cur, nw string) string {
				b, _ := json.Marshal(passwordRequest{Current: cur, New: nw})
				return string(b)
			}
			w := f.do("POST", "/api/v1/me/password", body("pas le bon", next), withCookie(mine))
			wantCode(t, w, http.StatusBadRequest, "wrong current password")
			if e := decodeBody[apiErrorBody](t, w); e.Error != "bad_credentials" {
				t.Errorf("body %+v", e)
			}
			w = f.do("POST", "/api/v1/me/password", body(testPassword, "azertyuiop123"), withCookie(mine))
			wantCode(t, w, http.StatusBadRequest, "common password")
			if e := decodeBody[apiErrorBody](t, w); e.Error != "weak_password" || e.Message == "" {
				t.Errorf("body %+v", e)
			}
			wantCode(t, f.do("POST", "/api/v1/me/password", `{"current":"a","new":"b","confirm":"b"}`, withCookie(mine)), http.StatusBadRequest, "unknown field")
			wantCode(t, f.do("POST", "/api/v1/me/password", body(testPassword, next), withCookie(mine)), http.StatusNoContent, "change")
			wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(mine)), http.StatusOK, "this session kept")
			wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(other)), http.StatusUnauthorized, "other session ended")
			wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(f.head.Login, testPassword)), http.StatusUnauthorized, "old password")
			wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(f.head.Login, next)), http.StatusOK, "new password")
		})

		t.Run("per-IP throttle", func(t *testing.T) {
			ip := freshIP()
			// Identifiers over 100 characters fail without hashing: fast.
			for i := range 20 {
				w := f.do("POST", "/api/v1/auth/login", loginBody(fmt.Sprintf("%0101d", i), "x"), fromIP(ip))
				wantCode(t, w, http.StatusUnauthorized, fmt.Sprintf("attempt %d", i+1))
			}
			w := f.do("POST", "/api/v1/auth/login", loginBody(f.admin.Login, testPassword), fromIP(ip))
			wantCode(t, w, http.StatusTooManyRequests, "21st attempt in a minute")
			if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
				t.Errorf("Retry-After %q, want 1–60 s", w.Header().Get("Retry-After"))
			}
			if e := decodeBody[apiErrorBody](t, w); e.Error != "throttled" {
				t.Errorf("body %+v", e)
			}
			// Another address is not affected.
			wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(f.admin.Login, testPassword)), http.StatusOK, "other IP")
		})

		t.Run("per-account throttle", func(t *testing.T) {
			for i := range 5 {
				w := f.do("POST", "/api/v1/auth/login", loginBody(f.father.Login, fmt.Sprintf("essai numéro %d", i)))
				wantCode(t, w, http.StatusUnauthorized, fmt.Sprintf("wrong password %d", i+1))
			}
			// The sixth, from yet another address, even with the right password.
			for _, pw := range []string{"essai numéro 6", testPassword} {
				w := f.do("POST", "/api/v1/auth/login", loginBody(f.father.Login, pw))
				wantCode(t, w, http.StatusTooManyRequests, "locked account")
				e := decodeBody[apiErrorBody](t, w)
				if e.Error != "throttled" || !strings.HasPrefix(e.Message, "Trop de tentatives. Réessayez dans ") {
					t.Errorf("body %+v, want a French message", e)
				}
				if w.Header().Get("Retry-After") == "" {
					t.Error("no Retry-After")
				}
			}
			// The form answers the same.
			w := serve(f.h, "POST", "/connexion", "", func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader("identifiant=" + f.father.Login + "&mot_de_passe=x"))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			})
			wantCode(t, w, http.StatusTooManyRequests, "login form on a locked account")
			if !strings.Contains(w.Body.String(), "Trop de tentatives") {
				t.Error("the login page does not say why")
			}
		})

		t.Run("activation over the API", func(t *testing.T) {
			w := f.do("POST", "/api/v1/people/"+id(f.tom)+"/activation", "", withCookie(f.session(t, f.cpe)))
			wantCode(t, w, http.StatusCreated, "CPE resets a pupil's access")
			res := decodeBody[activationResponse](t, w)
			if res.Code == "" || time.Until(res.ExpiresAt) > auth.ActivationTTL || time.Until(res.ExpiresAt) < auth.ActivationTTL-time.Minute {
				t.Fatalf("activation %+v", res)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Error("an activation code may be cached")
			}
			wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(f.tom.Login, testPassword)), http.StatusUnauthorized, "old password after reset")
			bad := `{"login":"` + f.tom.Login + `","code":"AAAA-BBBB-CCCC","password":"mon chat est vert"}`
			w = f.do("POST", "/api/v1/auth/activate", bad)
			wantCode(t, w, http.StatusBadRequest, "wrong code")
			if e := decodeBody[apiErrorBody](t, w); e.Error != "bad_code" {
				t.Errorf("body %+v", e)
			}
			good := `{"login":"` + f.tom.Login + `","code":"` + res.Code + `","password":"mon chat est vert"}`
			w = f.do("POST", "/api/v1/auth/activate", good)
			wantCode(t, w, http.StatusOK, "activate")
			if me := decodeBody[meResponse](t, w); me.ID != f.tom.ID || sessionCookie(w) == nil {
				t.Errorf("activate: me %+v", me)
			}
			wantCode(t, f.do("POST", "/api/v1/auth/activate", good), http.StatusBadRequest, "code used twice")
			wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(f.tom.Login, "mon chat est vert")), http.StatusOK, "login with the chosen password")
		})
	})
}

func id(p directory.Person) string { return strconv.FormatInt(p.ID, 10) }

// TestAPIAuthorization walks the access rules over HTTP with foreign ids:
// everything outside the caller's scope is 404, exactly like an id that
// does not exist.
func TestAPIAuthorization(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		i := func(n int64) string { return strconv.FormatInt(n, 10) }
		type check struct {
			method, path string
			code         int
		}
		get := func(path string, code int) check { return check{"GET", path, code} }
		people := "/api/v1/people/"
		classes := "/api/v1/classes/"
		for _, tt := range []struct {
			who    directory.Person
			checks []check
		}{
			{f.mother, []check{
				get(people+id(f.lea), 200), get(people+id(f.mother), 200),
				get(people+id(f.hugo), 404), get(people+id(f.ines), 404), get(people+id(f.father), 404),
				get(people+id(f.lea)+"/guardians", 200), get(people+id(f.hugo)+"/guardians", 404),
				get(people+id(f.mother)+"/children", 200), get(people+id(f.father)+"/children", 404),
				get(classes+i(f.classA), 200), get(classes+i(f.classA)+"/teachers", 200),
				get(classes+i(f.classB), 404), get(classes+i(f.classA)+"/pupils", 404),
				get("/api/v1/people?structure="+i(f.college), 404),
				{"POST", people + id(f.lea) + "/activation", 404}, {"POST", people + id(f.lea) + "/disable", 404},
			}},
			{f.lea, []check{
				get(people+id(f.lea), 200), get(people+id(f.hugo), 404), get(people+id(f.tom), 404),
				get(people+id(f.teacher), 404), get(people+id(f.lea)+"/guardians", 404),
				get(classes+i(f.classA), 200), get(classes+i(f.classB), 404), get(classes+i(f.lastYearClass), 404),
				get(classes+i(f.classA)+"/pupils", 404), get(classes+i(f.classA)+"/teachers", 200),
				get("/api/v1/structures/"+i(f.college)+"/classes", 200), get("/api/v1/structures/"+i(f.lycee)+"/classes", 404),
				get("/api/v1/subjects", 200), get("/api/v1/years", 200),
			}},
			{f.teacher, []check{
				get(people+id(f.lea), 200), get(people+id(f.tom), 200),
				get(people+id(f.hugo), 404), // taught last year only
				get(people+id(f.ines), 404), get(people+id(f.mother), 404),
				get(people+id(f.lea)+"/guardians", 404),
				get(classes+i(f.classA)+"/pupils", 200), get(classes+i(f.classB)+"/pupils", 404),
				get(classes+i(f.classB), 200), get(classes+i(f.classLycee), 404),
				get("/api/v1/people?structure="+i(f.college), 404),
				{"POST", people + id(f.lea) + "/activation", 404},
			}},
			{f.cpe, []check{
				get(people+id(f.hugo), 200), get(people+id(f.mother), 200), get(people+id(f.ines), 404),
				get(people+id(f.lea)+"/guardians", 200), get(people+id(f.ines)+"/guardians", 404),
				get(classes+i(f.classB)+"/pupils", 200), get(classes+i(f.classLycee)+"/pupils", 404),
				get("/api/v1/people?structure="+i(f.college), 200), get("/api/v1/people?structure="+i(f.lycee), 404),
				get("/api/v1/people", 404),
				{"POST", people + id(f.ines) + "/activation", 404},
				{"POST", people + id(f.head) + "/activation", 404}, // outranked
				{"POST", people + id(f.hugo) + "/disable", 404},    // staff may not disable
			}},
			{f.head, []check{
				get(people+id(f.teacher), 200), get(people+id(f.ines), 404), get(people+id(f.lyceeHead), 404),
				get(people+id(f.admin), 404),
				get(classes+i(f.classLycee), 404), get("/api/v1/structures/"+i(f.lycee)+"/classes", 404),
				get("/api/v1/people?structure="+i(f.lycee), 404),
				{"POST", people + id(f.ines) + "/disable", 404}, {"POST", people + id(f.admin) + "/disable", 404},
				{"POST", people + id(f.lyceeHead) + "/activation", 404},
				{"POST", people + id(f.head) + "/disable", 400}, // one's own account
			}},
			{f.admin, []check{
				get(people+id(f.lea), 200), get(people+id(f.ines), 200), get(people+id(f.lyceeHead), 200),
				get(people+id(f.lea)+"/guardians", 200), get(people+id(f.father)+"/children", 200),
				get(classes+i(f.classLycee)+"/pupils", 200), get(classes+i(f.lastYearClass), 200),
				get("/api/v1/people", 200), get("/api/v1/people?structure="+i(f.lycee), 200),
				get("/api/v1/structures/"+i(f.lycee)+"/classes", 200),
				get(people+"999999", 404), get(classes+"999999", 404), get(people+"abc", 404), get(people+"-1", 404),
				get("/api/v1/structures/999999/classes", 404), get("/api/v1/people?structure=999999", 404),
			}},
		} {
			c := f.session(t, tt.who)
			for _, ck := range tt.checks {
				w := f.do(ck.method, ck.path, "", withCookie(c))
				if w.Code != ck.code {
					t.Errorf("%s %s %s: %d, want %d (%s)", tt.who.Login, ck.method, ck.path, w.Code, ck.code, strings.TrimSpace(w.Body.String()))
					continue
				}
				if ck.code == 404 {
					if e := decodeBody[apiErrorBody](t, w); e.Error != "not_found" {
						t.Errorf("%s %s: 404 body %+v", tt.who.Login, ck.path, e)
					}
				}
			}
		}
	})
}

// TestAPIParentSeesOnlyOwnChildren: a classmate of one's child is another
// family's child (SECURITY.md), though they share a class, which the
// parent's Family scope does reach.
func TestAPIParentSeesOnlyOwnChildren(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	c := f.session(t, f.mother)
	for _, path := range []string{"/api/v1/people/" + id(f.tom), "/api/v1/people/" + id(f.tom) + "/guardians"} {
		if w := f.do("GET", path, "", withCookie(c)); w.Code != http.StatusNotFound {
			t.Errorf("parent GET %s (a classmate of their child): %d, want 404", path, w.Code)
		}
	}
}

func TestAPIDirectoryContent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		admin, cpe, mother := f.session(t, f.admin), f.session(t, f.cpe), f.session(t, f.mother)
		i := func(n int64) string { return strconv.FormatInt(n, 10) }

		t.Run("people search", func(t *testing.T) {
			w := f.do("GET", "/api/v1/people?structure="+i(f.college)+"&profile=eleve", "", withCookie(cpe))
			wantCode(t, w, 200, "pupils of the collège")
			ms := decodeBody[[]directory.Member](t, w)
			var got []string
			for _, m := range ms {
				got = append(got, m.Login)
				if m.Profile != identity.Pupil {
					t.Errorf("member %s with profile %s", m.Login, m.Profile)
				}
			}
			if want := []string{f.hugo.Login, f.lea.Login, f.tom.Login}; !slices.Equal(got, want) {
				t.Errorf("pupils %v, want %v (by last name)", got, want)
			}
			if strings.Contains(w.Body.String(), "password") || strings.Contains(w.Body.String(), "argon2") {
				t.Error("a listing shows password data")
			}
			w = f.do("GET", "/api/v1/people?structure="+i(f.college)+"&q=MARTIN", "", withCookie(cpe))
			ms = decodeBody[[]directory.Member](t, w)
			if len(ms) != 2 {
				t.Errorf("q=MARTIN: %d results, want Léa and Sophie Martin", len(ms))
			}
			w = f.do("GET", "/api/v1/people?structure="+i(f.college)+"&limit=2&offset=2", "", withCookie(cpe))
			if ms = decodeBody[[]directory.Member](t, w); len(ms) != 2 {
				t.Errorf("limit=2: %d results", len(ms))
			}
			w = f.do("GET", "/api/v1/people?structure="+i(f.college)+"&q=zzzz", "", withCookie(cpe))
			if strings.TrimSpace(w.Body.String()) != "[]" {
				t.Errorf("no match: body %s, want []", w.Body)
			}
			for _, q := range []string{"structure=abc", "structure=0", "profile=roi", "limit=0", "limit=501", "limit=x",
				"offset=-1", "q=" + strings.Repeat("a", 101)} {
				wantCode(t, f.do("GET", "/api/v1/people?"+q, "", withCookie(admin)), 400, q)
			}
		})

		t.Run("children and guardians", func(t *testing.T) {
			w := f.do("GET", "/api/v1/people/"+id(f.mother)+"/children", "", withCookie(mother))
			wantCode(t, w, 200, "own children")
			kids := decodeBody[[]directory.Pupil](t, w)
			if len(kids) != 1 || kids[0].ID != f.lea.ID || kids[0].ClassName != "3e A" {
				t.Errorf("children %+v", kids)
			}
			w = f.do("GET", "/api/v1/people/"+id(f.lea)+"/guardians", "", withCookie(mother))
			wantCode(t, w, 200, "own child's guardians")
			gs := decodeBody[[]map[string]any](t, w)
			if len(gs) != 1 || gs[0]["id"] != float64(f.mother.ID) {
				t.Errorf("guardians %v", gs)
			}
			if _, ok := gs[0]["email"]; ok {
				t.Error("guardians list shows e-mail addresses")
			}
			w = f.do("GET", "/api/v1/people/"+id(f.ines)+"/guardians", "", withCookie(admin))
			if strings.TrimSpace(w.Body.String()) != "[]" {
				t.Errorf("no guardians: %s, want []", w.Body)
			}
		})

		t.Run("classes, teachers, subjects, years", func(t *testing.T) {
			w := f.do("GET", "/api/v1/classes/"+i(f.classA), "", withCookie(mother))
			wantCode(t, w, 200, "class")
			if c := decodeBody[directory.Class](t, w); c.Name != "3e A" || c.StructureID != f.college || c.Level != "3e" {
				t.Errorf("class %+v", c)
			}
			w = f.do("GET", "/api/v1/classes/"+i(f.classA)+"/teachers", "", withCookie(mother))
			ts := decodeBody[[]map[string]any](t, w)
			if len(ts) != 1 || ts[0]["id"] != float64(f.teacher.ID) || ts[0]["subject"] != "Mathématiques" || ts[0]["last_name"] != "Dupont" {
				t.Errorf("teachers %v", ts)
			}
			if _, ok := ts[0]["email"]; ok {
				t.Error("teachers list shows e-mail addresses")
			}
			w = f.do("GET", "/api/v1/classes/"+i(f.classA)+"/pupils", "", withCookie(f.session(t, f.teacher)))
			if ps := decodeBody[[]directory.Pupil](t, w); len(ps) != 2 {
				t.Errorf("3e A pupils: %+v", ps)
			}
			w = f.do("GET", "/api/v1/structures", "", withCookie(mother))
			if sts := decodeBody[[]directory.Structure](t, w); len(sts) != 1 || sts[0].ID != f.college {
				t.Errorf("parent's structures %+v", sts)
			}
			w = f.do("GET", "/api/v1/subjects", "", withCookie(mother))
			if ss := decodeBody[[]directory.Subject](t, w); len(ss) != 1 || ss[0].Code != "MATHS" {
				t.Errorf("subjects %+v", ss)
			}
			w = f.do("GET", "/api/v1/years", "", withCookie(mother))
			ys := decodeBody[[]directory.SchoolYear](t, w)
			if len(ys) != 2 || ys[0].Label != "2026-2027" || !ys[0].Current || ys[1].Current {
				t.Errorf("years %+v", ys)
			}
		})

		t.Run("disable and enable", func(t *testing.T) {
			head := f.session(t, f.head)
			hugo := f.session(t, f.hugo)
			wantCode(t, f.do("POST", "/api/v1/people/"+id(f.hugo)+"/disable", "", withCookie(head)), 204, "head disables a pupil")
			wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(hugo)), 401, "disabled account's session")
			wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(f.hugo.Login, testPassword)), 401, "disabled login")
			w := f.do("GET", "/api/v1/people/"+id(f.hugo), "", withCookie(head))
			if p := decodeBody[directory.Person](t, w); !p.Disabled {
				t.Error("person not shown disabled")
			}
			wantCode(t, f.do("POST", "/api/v1/people/"+id(f.hugo)+"/enable", "", withCookie(head)), 204, "enable")
			wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(f.hugo.Login, testPassword)), 200, "enabled login")
			wantCode(t, f.do("POST", "/api/v1/people/"+id(f.head)+"/disable", "", withCookie(admin)), 204, "admin disables a head")
			wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(head)), 401, "disabled head's session")
			wantCode(t, f.do("POST", "/api/v1/people/999999/disable", "", withCookie(admin)), 404, "unknown person")
			wantCode(t, f.do("GET", "/api/v1/people/"+id(f.hugo)+"/disable", "", withCookie(admin)), 405, "GET changes nothing")
		})
	})
}

// TestLoginOddInput: identifiers no account can have (NUL, invalid UTF-8,
// control characters) are bad credentials on every engine, never a 5xx.
// PostgreSQL refuses NUL and invalid UTF-8 in text parameters.
func TestLoginOddInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _ := newServer(t, d, Config{}, testLogger(t))
		h := s.Handler()
		// Unknown identifiers cost a full hash each (auth's Burn): few cases.
		for _, login := range []string{"lea\x00martin", "\xff\xfe"} {
			w := serve(h, "POST", "/api/v1/auth/login", loginBody(login, "x"))
			if w.Code != http.StatusUnauthorized {
				t.Errorf("API login %q: %d, want 401 (%s)", login, w.Code, strings.TrimSpace(w.Body.String()))
			}
			form := "identifiant=" + url.QueryEscape(login) + "&mot_de_passe=x"
			w = serve(h, "POST", "/connexion", "", func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(form))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			})
			// The form is shown again with its error (200, not 401).
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Identifiant ou mot de passe incorrect") {
				t.Errorf("form login %q: %d, want the form again with its error", login, w.Code)
			}
			act := `{"login":` + strconv.Quote(login) + `,"code":"AAAA-BBBB-CCCC","password":"une phrase assez longue"}`
			if w := serve(h, "POST", "/api/v1/auth/activate", act); w.Code != http.StatusBadRequest {
				t.Errorf("activate %q: %d, want 400 (%s)", login, w.Code, strings.TrimSpace(w.Body.String()))
			}
		}
	})
}
