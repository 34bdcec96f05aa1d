package browsertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"preau/internal/testsvc"
)

// Firefox has no driver here (no geckodriver, and chromedp speaks only to
// Chromium), so a Firefox page is checked from the inside:
//
//   - FirefoxPage starts a reverse proxy in front of the site under test. The
//     proxy adds the user's session cookie to every request (pages, API,
//     WebSocket), so Firefox is signed in without a login form or a cookie
//     file, and it rewrites Host and Origin to the site's, so the site's
//     same-origin checks see the site itself.
//   - Into each HTML page the proxy inserts one script of its own
//     (/__browsertest/probe.js, same origin, so the site's CSP allows it) made
//     of a fixed prelude and the test's collect function. The prelude records
//     uncaught errors, unhandled rejections, console.error and console.warn,
//     and every 300 ms POSTs {data: await collect(), errors} to
//     /__browsertest/report; the answer may carry a command for the page
//     (click an element, set an element's width), the only way the test
//     acts on Firefox.
//   - Firefox runs headless, with a fresh profile whose user.js fakes the
//     camera and microphone and accepts the permission prompts.
//
// Nothing of this is in the site: the proxy and its script exist only in
// the test.

// FirefoxPath returns firefox-esr (or firefox) from PATH, or PREAU_FIREFOX;
// the test skips without it, and fails under PREAU_REQUIRE_SERVICES=1.
func FirefoxPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PREAU_FIREFOX"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			testsvc.Missing(t, "Firefox", fmt.Sprintf("PREAU_FIREFOX=%s: %v", p, err))
		}
		return p
	}
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testsvc.Missing(t, "Firefox", "no firefox-esr on PATH (apt-get install firefox-esr, or set PREAU_FIREFOX)")
	return ""
}

// firefoxPrefs make a headless Firefox fit for tests: fake media without
// prompts, autoplay, raw host candidates (no mDNS names, which a server
// cannot resolve) including loopback, and nothing that reaches the internet.
var firefoxPrefs = map[string]any{
	"media.navigator.streams.fake":                      true,
	"media.navigator.permission.disabled":               true,
	"media.autoplay.default":                            0,
	"media.autoplay.blocking_policy":                    0,
	"media.peerconnection.ice.obfuscate_host_addresses": false,
	"media.peerconnection.ice.loopback":                 true,
	"media.gmp-manager.updateEnabled":                   false,
	"network.proxy.type":                                0,
	"network.captive-portal-service.enabled":            false,
	"network.connectivity-service.enabled":              false,
	"network.dns.disablePrefetch":                       true,
	"network.prefetch-next":                             false,
	"browser.shell.checkDefaultBrowser":                 false,
	"browser.startup.homepage_override.mstone":          "ignore",
	"browser.aboutwelcome.enabled":                      false,
	"browser.newtabpage.enabled":                        false,
	"browser.safebrowsing.malware.enabled":              false,
	"browser.safebrowsing.phishing.enabled":             false,
	"browser.safebrowsing.downloads.enabled":            false,
	"browser.safebrowsing.update.enabled":               false,
	"datareporting.policy.dataSubmissionEnabled":        false,
	"datareporting.healthreport.uploadEnabled":          false,
	"toolkit.telemetry.reportingpolicy.firstRun":        false,
	"app.update.disabledForTesting":                     true,
	"app.normandy.enabled":                              false,
	"extensions.update.enabled":                         false,
	"extensions.getAddons.cache.enabled":                false,
	"services.settings.server":                          "http://127.0.0.1:9/",
	"dom.disable_open_during_load":                      false,
	// A page in a headless window is never in the background, but keep
	// timers at full speed anyway: the probe reports every 300 ms.
	"dom.min_background_timeout_value": 10,
	// The page's console on Firefox's stdout, for failure messages.
	"devtools.console.stdout.content": true,
}

// FirefoxReport is one report of a Firefox page: what the test's collect
// function returned, and the errors seen so far.
type FirefoxReport struct {
	Data   json.RawMessage `json:"data"`
	Errors []string        `json:"errors"`
	URL    string          `json:"url"`
}

// FirefoxPage is one Firefox process showing one page of the site, as one
// signed-in user.
type FirefoxPage struct {
	t     testing.TB
	proxy *httptest.Server
	cmd   *exec.Cmd
	out   *tailBuffer
	dir   string

	mu      sync.Mutex
	last    FirefoxReport
	reports int
	cmds    []string
	changed chan struct{} // closed and replaced at each report
}

// OpenFirefox starts the proxy in front of site with cookies, and a headless
// Firefox on path; collect is the body of an async JavaScript function
// whose result each report carries (e.g. "return {title: document.title};").
// Firefox and the proxy stop when the test ends.
func OpenFirefox(t testing.TB, site string, cookies []*http.Cookie, path, collect string) *FirefoxPage {
	t.Helper()
	bin := FirefoxPath(t)
	up, err := url.Parse(site)
	if err != nil {
		t.Fatal(err)
	}
	p := &FirefoxPage{t: t, out: &tailBuffer{max: 32 << 10}, changed: make(chan struct{})}
	probe := probePrelude + "\nasync function collect() {\n" + collect + "\n}\nstart();\n"
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(up)
			r.Out.Host = up.Host
			if r.In.Header.Get("Origin") != "" {
				r.Out.Header.Set("Origin", up.Scheme+"://"+up.Host)
			}
			r.Out.Header.Del("Referer")
			r.Out.Header.Del("Accept-Encoding") // the script is inserted in plain HTML
			for _, c := range cookies {
				r.Out.AddCookie(c)
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				return nil
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			b = bytes.Replace(b, []byte("<head>"), []byte(`<head><script src="/__browsertest/probe.js"></script>`), 1)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return nil
		},
	}
	mux := http.NewServeMux()
	mux.Handle("/", rp)
	mux.HandleFunc("GET /__browsertest/probe.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, probe)
	})
	mux.HandleFunc("POST /__browsertest/report", func(w http.ResponseWriter, r *http.Request) {
		var rep FirefoxReport
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&rep); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.last = rep
		p.reports++
		var cmd string
		if len(p.cmds) > 0 {
			cmd, p.cmds = p.cmds[0], p.cmds[1:]
		}
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"command": cmd})
	})
	p.proxy = httptest.NewServer(mux)
	t.Cleanup(p.proxy.Close)

	p.dir, err = os.MkdirTemp("", "preau-firefox-")
	if err != nil {
		t.Fatal(err)
	}
	var prefs strings.Builder
	for k, v := range firefoxPrefs {
		b, _ := json.Marshal(v)
		fmt.Fprintf(&prefs, "user_pref(%q, %s);\n", k, b)
	}
	if err := os.WriteFile(filepath.Join(p.dir, "user.js"), []byte(prefs.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "--headless", "--no-remote", "--profile", p.dir, "--window-size=1280,800",
		p.proxy.URL+path)
	p.cmd.Env = append(os.Environ(), "MOZ_HEADLESS=1", "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_DISABLE_AUTO_SAFE_MODE=1")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	// Its own process group: Firefox starts content processes, stopped
	// with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(p.dir)
		t.Fatalf("browsertest: start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { p.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		pgid := -p.cmd.Process.Pid
		syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(pgid, syscall.SIGKILL)
			<-exited
		}
		syscall.Kill(pgid, syscall.SIGKILL) // content processes left behind
		os.RemoveAll(p.dir)
		if t.Failed() {
			t.Logf("firefox output (tail):\n%s", p.out)
		}
	})
	return p
}

// URL is the proxy's address: the site as this page's user sees it.
func (p *FirefoxPage) URL() string { return p.proxy.URL }

// Output is the tail of Firefox's stdout and stderr (with the page's console).
func (p *FirefoxPage) Output() string { return p.out.String() }

// Click asks the page to click the first element matching the CSS selector,
// at its next report.
func (p *FirefoxPage) Click(selector string) {
	p.mu.Lock()
	p.cmds = append(p.cmds, "click "+selector)
	p.mu.Unlock()
}

// SetWidth asks the page to set the CSS width of the first element matching
// the selector to px pixels (a smaller video tile, say), at its next report.
func (p *FirefoxPage) SetWidth(selector string, px int) {
	p.mu.Lock()
	p.cmds = append(p.cmds, "width "+strconv.Itoa(px)+" "+selector)
	p.mu.Unlock()
}

// Last returns the latest report (zero before the first).
func (p *FirefoxPage) Last() FirefoxReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// Wait waits up to d for a report that ok accepts and returns it; it fails
// the test, with the last report and Firefox's output, when none comes.
func (p *FirefoxPage) Wait(what string, d time.Duration, ok func(FirefoxReport) bool) FirefoxReport {
	p.t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		last, n, changed := p.last, p.reports, p.changed
		p.mu.Unlock()
		if n > 0 && ok(last) {
			return last
		}
		select {
		case <-changed:
		case <-deadline.C:
			p.t.Fatalf("firefox: no %s after %v (%d reports; last %s, errors %q)\nfirefox output (tail):\n%s",
				what, d, n, last.Data, last.Errors, p.out)
		}
	}
}

// probePrelude is the fixed part of the probe: error capture and the report
// loop. The test's collect function follows it.
const probePrelude = `'use strict';
const __errors = [];
function __record(kind, args) {
  __errors.push(kind + ': ' + Array.from(args).map((a) => (a && a.stack) ? String(a) + ' ' + a.stack : String(a)).join(' '));
}
window.addEventListener('error', (e) => __record('uncaught', [e.message + ' at ' + e.filename + ':' + e.lineno]));
window.addEventListener('unhandledrejection', (e) => __record('unhandled rejection', [e.reason]));
for (const level of ['error', 'warn']) {
  const orig = console[level].bind(console);
  console[level] = (...args) => { __record('console.' + level, args); orig(...args); };
}
function start() {
  async function tick() {
    let data = null;
    try {
      data = await collect();
    } catch (err) {
      data = { collectError: String(err) };
    }
    try {
      const r = await fetch('/__browsertest/report', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ data, errors: __errors, url: location.href }),
      });
      const { command } = await r.json();
      const [verb, ...rest] = (command || '').split(' ');
      if (verb === 'click') {
        const el = document.querySelector(rest.join(' '));
        if (el) el.click(); else __record('probe', ['nothing to click at ' + rest.join(' ')]);
      } else if (verb === 'width') {
        const el = document.querySelector(rest.slice(1).join(' '));
        if (el) el.style.width = rest[0] + 'px'; else __record('probe', ['nothing to resize at ' + rest.slice(1).join(' ')]);
      }
    } catch (err) {
      // the proxy is gone: the test is over
    }
    setTimeout(tick, 300);
  }
  tick();
}
`
