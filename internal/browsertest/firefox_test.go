package browsertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFirefox: the Firefox page harness on a small site with the real
// site's CSP. The proxy signs the page in (the session cookie reaches the
// site, also on a POST fetch, with the site's own Host and Origin), the probe reports what collect returns, a click
// asked by the test happens, and the page's errors (uncaught, console.error)
// are in the report; the site never sees the probe's routes.
func TestFirefox(t *testing.T) {
	var sawProbe bool
	var siteURL string // the site's own origin: Host and Origin must name it
	site := http.NewServeMux()
	site.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/__browsertest/") {
			sawProbe = true
		}
		c, err := r.Cookie("session")
		origin := r.Header.Get("Origin")
		if err != nil || c.Value != "s3cret" || "http://"+r.Host != siteURL || origin != "" && origin != siteURL {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, `<!doctype html><html><head><title>Page</title><script src="/app.js"></script></head>`+
				`<body><button id="b">0</button></body></html>`)
		case "/app.js":
			w.Header().Set("Content-Type", "text/javascript")
			io.WriteString(w, `document.addEventListener('DOMContentLoaded', () => {
				const b = document.getElementById('b');
				b.addEventListener('click', () => { b.textContent = String(Number(b.textContent) + 1); });
				fetch('/api', { method: 'POST' }).then((r) => r.text()).then((t) => { window.api = t; });
				console.error('app: something went wrong');
				setTimeout(() => { throw new Error('boom'); }, 0);
			});`)
		case "/api":
			io.WriteString(w, "signed in")
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(site)
	defer srv.Close()
	siteURL = srv.URL

	start := time.Now()
	p := OpenFirefox(t, srv.URL, []*http.Cookie{{Name: "session", Value: "s3cret"}}, "/page",
		`return { title: document.title, clicks: document.getElementById('b')?.textContent, api: window.api || '',
			ua: navigator.userAgent };`)
	type data struct {
		Title, Clicks, API, UA string
	}
	decode := func(r FirefoxReport) data {
		var d data
		json.Unmarshal(r.Data, &d)
		return d
	}
	r := p.Wait("the page's first report", 30*time.Second, func(r FirefoxReport) bool {
		d := decode(r)
		return d.Title == "Page" && d.API == "signed in"
	})
	if d := decode(r); !strings.Contains(d.UA, "Firefox") {
		t.Fatalf("user agent %q", d.UA)
	}
	p.Click("#b")
	p.Click("#b")
	p.Wait("two clicks", 10*time.Second, func(r FirefoxReport) bool { return decode(r).Clicks == "2" })
	r = p.Wait("the errors", 10*time.Second, func(r FirefoxReport) bool { return len(r.Errors) >= 2 })
	all := strings.Join(r.Errors, "\n")
	if !strings.Contains(all, "console.error: app: something went wrong") || !strings.Contains(all, "boom") {
		t.Errorf("errors %q", r.Errors)
	}
	if sawProbe {
		t.Error("the probe's routes reached the site")
	}
	t.Logf("Firefox page checked in %v", time.Since(start).Round(time.Millisecond))
}
