package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/db"
	"preau/internal/browsertest"
)

const demoPassword = "preau-demo-2026"

// demoClient signs a demo account in through the API and returns an HTTP
// client carrying its session cookie.
func demoClient(t *testing.T, base, login string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"login":"`+login+`","password":"`+demoPassword+`"}`))
	if err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d", login, resp.StatusCode)
	}
	return c
}

// demoClassID reads the id of a demo class from the server's data directory.
func demoClassID(t *testing.T, dir, name string) int64 {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var id int64
	if err := d.QueryRow(ctx, "SELECT id FROM classes WHERE name = ?", name).Scan(&id); err != nil {
		t.Fatalf("class %s: %v", name, err)
	}
	return id
}

// browserLogin opens path in a new page, which sends it to the login form,
// and signs a demo account in; the page then lands on path.
func browserLogin(t *testing.T, b *browsertest.Browser, base, path, login string) context.Context {
	t.Helper()
	ctx := b.NewPage(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+path),
		chromedp.WaitVisible(chromedp.ID("identifiant")),
		chromedp.SendKeys(chromedp.ID("identifiant"), login),
		chromedp.SendKeys(chromedp.ID("mot_de_passe"), demoPassword),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		// Returned once the next page is loaded: an action on a node found
		// while the sign-in was still navigating fails with "Could not find
		// node with given id" (seen on the Documents page).
		waitTrue(`document.readyState === 'complete' && !document.getElementById('mot_de_passe')`),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "login-"+login)
		t.Fatalf("sign in as %s: %v", login, err)
	}
	return ctx
}
