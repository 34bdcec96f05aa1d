package browsertest_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// The CSP of Préau's pages: no inline script, scripts from our origin only.
const csp = "default-src 'self'; script-src 'self'"

func page(body string) string {
	return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>test</title>` +
		`</head><body>` + body + `</body></html>`
}

// site serves a form with an external module script, pages that fail in the
// ways tests must notice, and a cookie per visitor.
func site() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page(`<h1>Inscription</h1><p id="status">chargement</p>
<form id="f" method="post" action="/hello"><label>Nom <input id="name" name="name"></label>
<button id="send">Envoyer</button></form><script type="module" src="/app.js"></script>`))
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.getElementById("status").textContent = "prêt";`)
	})
	mux.HandleFunc("POST /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page(`<h1 id="result">Bonjour, `+html.EscapeString(r.FormValue("name"))+` !</h1>`))
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page(`<p id="status">…</p><script type="module" src="/broken.js"></script>`))
	})
	mux.HandleFunc("GET /broken.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `console.error("échec du module", 42);
document.getElementById("status").textContent = "fini";
setTimeout(() => { throw new Error("exception non rattrapée"); });`)
	})
	mux.HandleFunc("GET /inline", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page(`<p id="status">statique</p><script>document.getElementById("status").textContent = "inline";</script>`))
	})
	mux.HandleFunc("GET /camera", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page(`<p id="status">…</p><script type="module" src="/camera.js"></script>`))
	})
	mux.HandleFunc("GET /camera.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `const s = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
document.getElementById("status").textContent = s.getTracks().map(t => t.kind).sort().join(",");`)
	})
	// A list redrawn every 5 ms, as the live page redraws its participants.
	mux.HandleFunc("GET /redraw", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page(`<p id="status">…</p><ul id="people"></ul><script type="module" src="/redraw.js"></script>`))
	})
	mux.HandleFunc("GET /redraw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `const ul = document.getElementById("people");
const draw = () => {
	ul.replaceChildren();
	for (const name of ["Ada", "Alan"]) {
		const li = document.createElement("li"), b = document.createElement("button");
		b.textContent = "Retirer";
		b.onclick = () => { document.getElementById("status").textContent = name + " retiré"; };
		li.append(name + " ", b);
		ul.append(li);
	}
};
draw();
setInterval(draw, 5);`)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "user", Value: r.FormValue("user"), Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/whoami", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		who := "anonyme"
		if c, err := r.Cookie("user"); err == nil {
			who = c.Value
		}
		fmt.Fprint(w, page(`<p id="who">`+html.EscapeString(who)+`</p>`))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		mux.ServeHTTP(w, r)
	})
}

func TestBrowser(t *testing.T) {
	b := browsertest.New(t)
	srv := httptest.NewServer(site())
	t.Cleanup(srv.Close)

	t.Run("form", func(t *testing.T) {
		t.Parallel()
		ctx := b.NewPage(t)
		err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/"),
			browsertest.WaitText("#status", "prêt"), // the module ran under the CSP
			chromedp.SendKeys(chromedp.ID("name"), "Ada <Lovelace>"),
			chromedp.Click(chromedp.ID("send")),
			browsertest.WaitText("#result", "Bonjour, Ada <Lovelace> !"),
		)
		if err != nil {
			browsertest.Screenshot(t, ctx, "form")
			t.Fatal(err)
		}
		browsertest.NoJSErrors(t, ctx)
	})

	t.Run("click in a list redrawn all the time", func(t *testing.T) {
		t.Parallel()
		ctx := b.NewPage(t)
		err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/redraw"),
			browsertest.ClickXPath(`//ul[@id="people"]/li[contains(., "Alan")]//button[normalize-space()="Retirer"]`),
			browsertest.WaitText("#status", "Alan retiré"),
		)
		if err != nil {
			t.Fatal(err)
		}
		browsertest.NoJSErrors(t, ctx)
	})

	t.Run("errors are recorded", func(t *testing.T) {
		t.Parallel()
		ctx := b.NewPage(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/broken"), browsertest.WaitText("#status", "fini")); err != nil {
			t.Fatal(err)
		}
		// console.error ran before the text changed, so it is recorded now.
		if errs := browsertest.JSErrors(ctx); len(errs) == 0 || errs[0].Text != "échec du module 42" {
			t.Fatalf("JSErrors = %v, want first the console.error", errs)
		}
		m, err := browsertest.WaitJSError(ctx, "exception non rattrapée")
		if err != nil {
			t.Fatalf("uncaught exception not recorded: %v; have %v", err, browsertest.Messages(ctx))
		}
		if !m.IsException() || !strings.HasSuffix(m.URL, "/broken.js") {
			t.Errorf("exception = %+v, want an exception from broken.js", m)
		}
		var rt recordingTB
		browsertest.NoJSErrors(&rt, ctx)
		if !strings.Contains(rt.errors, "échec du module") || !strings.Contains(rt.errors, "exception non rattrapée") {
			t.Errorf("NoJSErrors reported %q, want both errors", rt.errors)
		}
	})

	t.Run("inline script violates the CSP", func(t *testing.T) {
		t.Parallel()
		ctx := b.NewPage(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/inline"), browsertest.WaitText("#status", "statique")); err != nil {
			t.Fatal(err)
		}
		m, err := browsertest.WaitJSError(ctx, "inline script")
		if err != nil {
			t.Fatalf("CSP violation not recorded: %v; have %v", err, browsertest.Messages(ctx))
		}
		t.Logf("recorded: %s", m)
		if text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status"))); err != nil || text != "statique" {
			t.Errorf("inline script ran: status = %q, %v", text, err)
		}
	})

	t.Run("pages do not share cookies", func(t *testing.T) {
		t.Parallel()
		ada, bob := b.NewPage(t), b.NewPage(t)
		step := func(ctx context.Context, path, want string) {
			t.Helper()
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+path), browsertest.WaitText("#who", want)); err != nil {
				t.Fatal(err)
			}
		}
		step(ada, "/login?user=ada", "ada")
		step(bob, "/whoami", "anonyme")
		step(bob, "/login?user=bob", "bob")
		step(ada, "/whoami", "ada")

		// A further tab of Ada's is still Ada.
		step(b.NewTab(t, ada), "/whoami", "ada")
		browsertest.NoJSErrors(t, ada)
		browsertest.NoJSErrors(t, bob)
	})

	t.Run("fake camera and microphone", func(t *testing.T) {
		t.Parallel()
		ctx := b.NewPage(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/camera"), browsertest.WaitText("#status", "audio,video")); err != nil {
			t.Fatalf("%v; console: %v", err, browsertest.Messages(ctx))
		}
		browsertest.NoJSErrors(t, ctx)
	})

	t.Run("WaitText times out with what it saw", func(t *testing.T) {
		t.Parallel()
		ctx := b.NewPage(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/whoami")); err != nil {
			t.Fatal(err)
		}
		// Long enough for the page to answer at least once on a busy machine.
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		err := chromedp.Do(short, browsertest.WaitText("#who", "personne"))
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `text was "anonyme"`) {
			t.Errorf("err = %v, want a timeout that quotes the text", err)
		}
		if path := browsertest.Screenshot(t, ctx, "whoami"); path == "" {
			t.Error("no screenshot")
		}
	})
}

// recordingTB keeps what a helper reports, to test the helper's failures.
type recordingTB struct {
	testing.TB
	errors string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors += fmt.Sprintf(format, args...)
}
