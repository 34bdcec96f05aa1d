package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	_ "modernc.org/sqlite"

	"preau/internal/browsertest"
)

// startServe runs `preau serve` in-process on a free port and returns its
// base URL and the demo logins it printed; the server stops with the test.
func startServe(t *testing.T, args ...string) (string, string) {
	t.Helper()
	cfg, err := parseServe(append([]string{"--addr", "127.0.0.1:0", "--log-level", "warn"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- serve(ctx, cfg, &out, ready) }()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
		return "http://" + addr, out.String()
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("serve did not start within 60 s")
	}
	return "", ""
}

var demoLoginNames = []string{"prof.demo", "eleve.demo", "parent.demo", "cpe.demo", "direction.demo", "admin.demo"}

// TestServeDemo: the newcomer's command starts a demo school whose logins
// work, and a restart keeps the data without duplicating the demo.
func TestServeDemo(t *testing.T) {
	dir := t.TempDir()
	var users int
	for round := 0; round < 2; round++ {
		t.Run([]string{"first", "restart"}[round], func(t *testing.T) {
			base, printed := startServe(t, "--demo", "--data", dir, "--demo-password", "mot de passe démo")
			for _, l := range demoLoginNames {
				if !strings.Contains(printed, l) {
					t.Errorf("demo login %s not printed:\n%s", l, printed)
				}
			}
			if round == 0 && !strings.Contains(printed, "created") {
				t.Errorf("first start does not say the demo was created:\n%s", printed)
			}
			if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
				t.Fatalf("/healthz: %v %v", resp, err)
			}
			for _, l := range demoLoginNames {
				body, _ := json.Marshal(map[string]string{"login": l, "password": "mot de passe démo"})
				resp, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				var me struct {
					Login    string `json:"login"`
					Profiles []struct {
						Profile string `json:"profile"`
					} `json:"profiles"`
				}
				json.NewDecoder(resp.Body).Decode(&me)
				resp.Body.Close()
				if resp.StatusCode != 200 || me.Login != l || len(me.Profiles) == 0 {
					t.Errorf("login %s: %d %+v", l, resp.StatusCode, me)
				}
			}
		})
		n := countUsers(t, dir)
		if round == 0 {
			users = n
			if n < 150 {
				t.Fatalf("demo has %d accounts, want a whole collège (≥ 150)", n)
			}
		} else if n != users {
			t.Fatalf("restart changed the number of accounts: %d → %d", users, n)
		}
	}
}

func countUsers(t *testing.T, dir string) int {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+dir+"/preau.db?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBrowserLogin: a pupil signs in through the real page and sees the
// pupil's home page; a wrong password shows the French error; a parent
// switches between their two children.
func TestBrowserLogin(t *testing.T) {
	b := browsertest.New(t)
	base, _ := startServe(t, "--demo", "--data", t.TempDir())

	ctx := b.NewPage(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("identifiant")),
		chromedp.SendKeys(chromedp.ID("identifiant"), "eleve.demo"),
		chromedp.SendKeys(chromedp.ID("mot_de_passe"), "pas le bon mot de passe"),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		browsertest.WaitText("[data-testid=error]", "Identifiant ou mot de passe incorrect"),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "wrong-password")
		t.Fatalf("wrong password: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("mot_de_passe"), "preau-demo-2026"),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		browsertest.WaitText("[data-testid=profile]", "Élève"),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "pupil-home")
		t.Fatalf("pupil login: %v", err)
	}
	// Waited for rather than read once: the page may still be replacing
	// the login page's nodes when the first text appears.
	err = chromedp.Do(ctx,
		browsertest.WaitText("[data-testid=profile]", "3e A"),
		browsertest.WaitText("[data-testid=user-name]", "Léa Martin"),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "pupil-home-name")
		t.Fatalf("pupil home does not show Léa Martin in 3e A: %v", err)
	}
	browsertest.NoJSErrors(t, ctx)

	// A parent of two children chooses which one.
	pctx := b.NewPage(t)
	err = chromedp.Do(pctx,
		chromedp.Navigate(base+"/connexion"),
		chromedp.WaitVisible(chromedp.ID("identifiant")),
		chromedp.SendKeys(chromedp.ID("identifiant"), "parent.demo"),
		chromedp.SendKeys(chromedp.ID("mot_de_passe"), "preau-demo-2026"),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		browsertest.WaitText("[data-testid=child]", "Espace de"),
	)
	if err != nil {
		browsertest.Screenshot(t, pctx, "parent-home")
		t.Fatalf("parent: %v", err)
	}
	first, _ := chromedp.Run(pctx, chromedp.Text(chromedp.CSS("[data-testid=child]")))
	other, want := "Léa", "3e A"
	if strings.Contains(first, "Léa") {
		other, want = "Hugo", "6e A"
	}
	err = chromedp.Do(pctx,
		chromedp.Click(chromedp.CSS("nav.children a:not(.current)")),
		browsertest.WaitText("[data-testid=child]", other),
	)
	child, _ := chromedp.Run(pctx, chromedp.Text(chromedp.CSS("[data-testid=child]")))
	if err != nil || !strings.Contains(child, want) {
		browsertest.Screenshot(t, pctx, "parent-switch")
		t.Fatalf("after choosing the other child the page shows %q (%v), want %s in %s", child, err, other, want)
	}
	browsertest.NoJSErrors(t, pctx)
}

// TestServeLogout: a script signs in and out against the real command.
func TestServeLogout(t *testing.T) {
	base, _ := startServe(t, "--demo", "--data", t.TempDir())
	c := demoClient(t, base, "prof.demo")
	resp, _ := c.Get(base + "/api/v1/me")
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/me after login: %d", resp.StatusCode)
	}
	resp, _ = c.Post(base+"/api/v1/auth/logout", "application/json", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	resp, _ = c.Get(base + "/api/v1/me")
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/me after logout: %d, want 401", resp.StatusCode)
	}
}
