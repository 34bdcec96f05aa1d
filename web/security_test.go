package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"preau/internal/dbtest"
)

// cspDirective returns one directive of a Content-Security-Policy, "" when
// absent.
func cspDirective(csp, name string) string {
	for _, d := range strings.Split(csp, ";") {
		d = strings.TrimSpace(d)
		if d == name || strings.HasPrefix(d, name+" ") {
			return d
		}
	}
	return ""
}

func formPost(path string, form url.Values, opts ...reqOpt) (string, string, []reqOpt) {
	return path, form.Encode(), append([]reqOpt{withHeader("Content-Type", "application/x-www-form-urlencoded")}, opts...)
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	for _, path := range []string{"/connexion", "/api/v1/me", "/api/openapi.json", "/page-inconnue", "/static/preau.css"} {
		w := f.do("GET", path, "")
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"object-src 'none'", "base-uri 'none'", "frame-ancestors 'self'"} {
			if cspDirective(csp, strings.Fields(want)[0]) != want {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		script := cspDirective(csp, "script-src")
		if script == "" {
			script = cspDirective(csp, "default-src")
		}
		if script == "" || strings.Contains(script, "'unsafe-inline'") || strings.Contains(script, "'unsafe-eval'") || strings.Contains(script, "*") {
			t.Errorf("%s: script policy %q allows inline or foreign script", path, script)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain http", path)
		}
	}
	// A spoofed X-Forwarded-Proto from an untrusted client changes nothing.
	w := f.do("GET", "/connexion", "", withHeader("X-Forwarded-Proto", "https"), fromIP("127.0.0.1"))
	if w.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS from X-Forwarded-Proto with no trusted proxy configured")
	}
}

func TestSecurityBehindTLSProxy(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	s, _ := newServer(t, d, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, testLogger(t))
	s.auth = f.auth
	h := s.Handler()
	proxied := []reqOpt{fromIP("127.0.0.1"), withHeader("X-Forwarded-Proto", "https"), withHeader("X-Forwarded-For", "203.0.113.7")}

	w := serve(h, "GET", "/connexion", "", proxied...)
	if hsts := w.Header().Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("HSTS %q over HTTPS through the trusted proxy", hsts)
	}
	w = serve(h, "POST", "/api/v1/auth/login", loginBody(f.cpe.Login, testPassword), proxied...)
	wantCode(t, w, http.StatusOK, "login over https")
	c := sessionCookie(w)
	if c == nil || c.Name != "__Host-preau_session" || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie over HTTPS %+v: want __Host-preau_session, Secure, HttpOnly, Path=/, no Domain, Lax", c)
	}
	wantCode(t, serve(h, "GET", "/api/v1/me", "", append(proxied, withCookie(c))...), http.StatusOK, "me over https")
	// The plain cookie name is not accepted over HTTPS, and vice versa.
	plain := &http.Cookie{Name: cookiePlain, Value: c.Value}
	wantCode(t, serve(h, "GET", "/api/v1/me", "", append(proxied, withCookie(plain))...), http.StatusUnauthorized, "plain cookie over https")

	// The same headers from anywhere else are not believed.
	w = serve(h, "GET", "/connexion", "", fromIP("192.0.2.50"), withHeader("X-Forwarded-Proto", "https"))
	if w.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS from an untrusted X-Forwarded-Proto")
	}
	w = serve(h, "POST", "/api/v1/auth/login", loginBody(f.cpe.Login, testPassword), fromIP("192.0.2.51"), withHeader("X-Forwarded-Proto", "https"))
	if c := sessionCookie(w); c == nil || c.Name != cookiePlain || c.Secure {
		t.Errorf("cookie %+v from an untrusted client claiming https", c)
	}
}

// TestProxyClientIP: the per-IP throttle counts the client behind a trusted
// proxy, not the proxy, and ignores X-Forwarded-For from anyone else.
func TestProxyClientIP(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	s, _ := newServer(t, d, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, testLogger(t))
	h := s.Handler()
	// Distinct identifiers over 100 characters fail fast, without hashing
	// and without locking one account.
	long := func(i int) string { return fmt.Sprintf("%0101d", i) }
	for i := range 20 {
		serve(h, "POST", "/api/v1/auth/login", loginBody(long(i), "x"), fromIP("127.0.0.1"), withHeader("X-Forwarded-For", "203.0.113.9"))
	}
	w := serve(h, "POST", "/api/v1/auth/login", loginBody(f.cpe.Login, testPassword), fromIP("127.0.0.1"), withHeader("X-Forwarded-For", "203.0.113.9"))
	wantCode(t, w, http.StatusTooManyRequests, "21st attempt of one client behind the proxy")
	w = serve(h, "POST", "/api/v1/auth/login", loginBody(f.cpe.Login, testPassword), fromIP("127.0.0.1"), withHeader("X-Forwarded-For", "203.0.113.10"))
	wantCode(t, w, http.StatusOK, "another client behind the same proxy")
	// An untrusted client cannot dodge the throttle by inventing addresses.
	ip := freshIP()
	for i := range 20 {
		serve(h, "POST", "/api/v1/auth/login", loginBody(long(i), "x"), fromIP(ip), withHeader("X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i)))
	}
	w = serve(h, "POST", "/api/v1/auth/login", loginBody(f.cpe.Login, testPassword), fromIP(ip), withHeader("X-Forwarded-For", "10.9.9.9"))
	wantCode(t, w, http.StatusTooManyRequests, "spoofed X-Forwarded-For")
}

func TestCrossOriginRefused(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	evil := []reqOpt{withHeader("Origin", "https://evil.example"), withHeader("Sec-Fetch-Site", "cross-site")}
	login := url.Values{"identifiant": {f.cpe.Login}, "mot_de_passe": {testPassword}}

	path, body, opts := formPost("/connexion", login, evil...)
	w := f.do("POST", path, body, opts...)
	wantCode(t, w, http.StatusForbidden, "cross-site login form")
	if sessionCookie(w) != nil {
		t.Error("a cross-site login set a cookie")
	}
	c := f.session(t, f.cpe)
	w = f.do("POST", "/api/v1/auth/logout", "", append(evil, withCookie(c))...)
	wantCode(t, w, http.StatusForbidden, "cross-site API logout")
	if e := decodeBody[apiErrorBody](t, w); e.Message == "" {
		t.Error("no French message")
	}
	wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(c)), http.StatusOK, "session survives the refused logout")
	// Origin alone (an older browser) is checked against Host.
	w = f.do("POST", "/api/v1/auth/logout", "", withCookie(c), withHeader("Origin", "https://evil.example"))
	wantCode(t, w, http.StatusForbidden, "cross-origin logout by Origin")
	w = f.do("POST", "/api/v1/me/password", `{"current":"`+testPassword+`","new":"une phrase pirate"}`, append(evil, withCookie(c))...)
	wantCode(t, w, http.StatusForbidden, "cross-site password change")

	// Same origin passes.
	same := withHeader("Sec-Fetch-Site", "same-origin")
	path, body, opts = formPost("/connexion", login, same, withHeader("Origin", "http://example.com"))
	w = f.do("POST", path, body, opts...)
	wantCode(t, w, http.StatusSeeOther, "same-origin login form")
	if w.Header().Get("Location") != "/accueil" || sessionCookie(w) == nil {
		t.Errorf("login form: Location %q, cookie %v", w.Header().Get("Location"), sessionCookie(w))
	}
	wantCode(t, f.do("POST", "/api/v1/auth/logout", "", withCookie(c), same), http.StatusNoContent, "same-origin logout")
	// Non-browser clients (no Sec-Fetch-Site, no Origin) are not refused.
	wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(f.cpe.Login, testPassword)), http.StatusOK, "curl login")
}

func TestNoStateChangeOverGET(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	c := f.session(t, f.head)
	for _, path := range []string{"/deconnexion", "/api/v1/auth/logout", "/api/v1/people/" + id(f.hugo) + "/disable",
		"/api/v1/people/" + id(f.hugo) + "/activation", "/compte/sessions/x/fin"} {
		w := f.do("GET", path, "", withCookie(c))
		if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d, want 404 or 405", path, w.Code)
		}
	}
	wantCode(t, f.do("GET", "/api/v1/me", "", withCookie(c)), http.StatusOK, "session after GETs")
	wantCode(t, f.do("POST", "/api/v1/auth/login", loginBody(f.hugo.Login, testPassword)), http.StatusOK, "Hugo still enabled and his password kept")
}

func TestHealthReadyMetrics(t *testing.T) {
	d := dbtest.SQLite(t)
	s, _ := newServer(t, d, Config{}, testLogger(t))
	h := s.Handler()
	w := serve(h, "GET", "/healthz", "")
	wantCode(t, w, http.StatusOK, "healthz")
	w = serve(h, "GET", "/readyz", "")
	wantCode(t, w, http.StatusOK, "readyz")
	if st := decodeBody[map[string]string](t, w); st["database"] != "ok" {
		t.Errorf("readyz %v", st)
	}
	w = serve(h, "GET", "/metrics", "")
	wantCode(t, w, http.StatusOK, "metrics")
	for _, m := range []string{"preau_http_requests_total{", "process_cpu_seconds_total", "go_goroutines"} {
		if !strings.Contains(w.Body.String(), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if !strings.Contains(w.Body.String(), `route="/readyz"`) {
		t.Error("request metrics are not labelled by route pattern")
	}
	// An unknown path is counted under one label, not one per path.
	serve(h, "GET", "/n-importe-quoi/12345", "")
	w = serve(h, "GET", "/metrics", "")
	if strings.Contains(w.Body.String(), "12345") {
		t.Error("metrics labelled with a raw path")
	}

	d.Close()
	w = serve(h, "GET", "/readyz", "")
	wantCode(t, w, http.StatusServiceUnavailable, "readyz with the database closed")
	var st map[string]string
	json.Unmarshal(w.Body.Bytes(), &st)
	if !strings.HasPrefix(st["database"], "error") {
		t.Errorf("readyz %v", st)
	}
	wantCode(t, serve(h, "GET", "/healthz", ""), http.StatusOK, "healthz is liveness only")
	// With the database gone, signing in is a clear 503, not a 500 or a 401.
	w = serve(h, "POST", "/api/v1/auth/login", loginBody("lea.martin", testPassword))
	wantCode(t, w, http.StatusServiceUnavailable, "login with the database closed")
}

var (
	inputTag = regexp.MustCompile(`<input\b[^>]*>`)
	attr     = func(tag, name string) string {
		m := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return ""
		}
		return m[1]
	}
)

// TestPagesAccessible: French pages whose every field has a label.
func TestPagesAccessible(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	for _, path := range []string{"/connexion", "/activation"} {
		w := f.do("GET", path, "")
		wantCode(t, w, http.StatusOK, path)
		body, _ := io.ReadAll(w.Body)
		page := string(body)
		if !regexp.MustCompile(`<html[^>]*\blang="fr"`).MatchString(page) {
			t.Errorf("%s: no <html lang=\"fr\">", path)
		}
		if !strings.Contains(page, "<title>") {
			t.Errorf("%s: no title", path)
		}
		if strings.Contains(page, "<script>") || regexp.MustCompile(`\son[a-z]+="`).MatchString(page) {
			t.Errorf("%s: inline script, which the CSP would block", path)
		}
		inputs := 0
		for _, tag := range inputTag.FindAllString(page, -1) {
			if attr(tag, "type") == "hidden" {
				continue
			}
			inputs++
			id := attr(tag, "id")
			if id == "" || !strings.Contains(page, `<label for="`+id+`"`) {
				t.Errorf("%s: field %s has no label", path, tag)
			}
		}
		if inputs < 2 {
			t.Errorf("%s: %d fields found", path, inputs)
		}
	}
}
