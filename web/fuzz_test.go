package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"preau/internal/dbtest"
)

// FuzzLoginForm posts arbitrary identifiers, passwords and raw bodies to the
// login form and the login API: never a panic, never a 5xx, only the
// statuses a client is told about.
func FuzzLoginForm(f *testing.F) {
	d := dbtest.SQLite(f)
	fx := newFixture(f, d)
	// Fuzzing logs nothing: thousands of failed logins a second.
	s, _ := newServer(f, d, Config{}, slog.New(slog.DiscardHandler))
	s.auth = fx.auth
	h := s.Handler()

	f.Add(fx.cpe.Login, testPassword, []byte(`{"login":"`+fx.cpe.Login+`","password":"`+testPassword+`"}`))
	f.Add("", "", []byte(""))
	f.Add("lea.martin", "mauvais", []byte(`identifiant=lea.martin&mot_de_passe=x&retour=//evil.example`))
	f.Add("a\x00b", "\xff\xfe", []byte(`{"login":"a","login":"b"}`))
	f.Add(strings.Repeat("é", 60), strings.Repeat("x", 600), []byte(`%zz=%&&==;`))
	f.Add(" CLAIRE.ROUX ", testPassword, []byte(`{"login":"x","password":"y"} trailing`))

	allowed := map[int]bool{200: true, 303: true, 400: true, 401: true, 429: true}
	var n atomic.Int64
	post := func(t *testing.T, path, ctype string, body []byte) {
		t.Helper()
		r := httptest.NewRequest("POST", path, bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		// Spread requests over addresses so that the per-IP throttle does
		// not turn every attempt into a quick 429.
		i := n.Add(1)
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", (i>>16)&255, (i>>8)&255, i&255)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if !allowed[w.Code] {
			t.Fatalf("POST %s %q: status %d: %s", path, body, w.Code, w.Body.String())
		}
	}
	f.Fuzz(func(t *testing.T, login, password string, raw []byte) {
		form := url.Values{"identifiant": {login}, "mot_de_passe": {password}}
		post(t, "/connexion", "application/x-www-form-urlencoded", []byte(form.Encode()))
		js, _ := json.Marshal(loginRequest{Login: login, Password: password})
		post(t, "/api/v1/auth/login", "application/json", js)
		post(t, "/connexion", "application/x-www-form-urlencoded", raw)
		post(t, "/api/v1/auth/login", "application/json", raw)
	})
}

// FuzzDecodeJSON checks decodeJSON and checkDuplicateKeys on arbitrary
// bodies: no panic; what decodeJSON accepts is one valid JSON value without
// duplicate keys; and duplicate detection agrees with jsontext, an
// independent decoder that refuses duplicate names by default.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"login":"a","password":"b"}`, `{"login":"a","login":"b"}`, `{"a":{"b":1,"b":2}}`,
		`{"a":[{"x":1},{"x":1}]}`, `{"a":1,"\u0061":2}`, `[{"k":1,"k":2}]`, `{"a":{}, "b":[], "a":null}`,
		`{"login":"a"} {"login":"b"}`, `{"current":"x","new":"y"}`, `{`, `"x"`, `{"a":"\ud800","b":"\udc00"}`,
		`{"x":[1,2,{"y":{"z":[{"w":1,"w":1}]}}]}`, ` { "login" : "a" , "password" : "b" } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		dupErr := checkDuplicateKeys(body)
		var req loginRequest
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		if err := decodeJSON(r, &req); err == nil {
			if !json.Valid(body) {
				t.Fatalf("decodeJSON accepted invalid JSON %q", body)
			}
			if dupErr != nil {
				t.Fatalf("decodeJSON accepted %q despite %v", body, dupErr)
			}
		}
		var anyV any
		decodeJSON(httptest.NewRequest("POST", "/", bytes.NewReader(body)), &anyV)
		var pw passwordRequest
		decodeJSON(httptest.NewRequest("POST", "/", io.MultiReader(bytes.NewReader(body), strings.NewReader(" "))), &pw)

		// Compare with jsontext on one valid, UTF-8 value without escaped
		// surrogates (which encoding/json turns into U+FFFD, so that two
		// different escapes become one key).
		if !json.Valid(body) || !utf8.Valid(body) || bytes.Contains(bytes.ToLower(body), []byte(`\ud`)) {
			return
		}
		unique := jsontext.Value(body).IsValid()
		if unique != (dupErr == nil) {
			t.Fatalf("checkDuplicateKeys(%q) = %v, jsontext says unique names = %v", body, dupErr, unique)
		}
	})
}
