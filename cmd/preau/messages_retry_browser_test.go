//go:build linux

package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/db"
	"preau/internal/browsertest"
	"preau/internal/testsvc"
)

// TestBrowserChatRetry: a pupil writes in the class conversation while the
// server's PostgreSQL is down. The server answers `internal` (nothing was
// stored); the page does not give up: the message shows "nouvel essai…",
// is sent again with the same client id, and once the database is back it
// is acknowledged ("envoyé") and stored exactly once.
func TestBrowserChatRetry(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 2 * time.Minute
	pg, pgURL := testsvc.PostgresProc(t)
	base, _ := startServe(t, "--demo", "--data", t.TempDir(), "--database-url", pgURL)
	ctx := openClassChat(t, b, base, "eleve.demo")

	pg.Stop()
	const text = "Écrit pendant la panne de la base"
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("texte"), text+"\r"),
		browsertest.WaitText("#chat-list li.mine:last-child", text),
		browsertest.WaitText("#chat-list li.mine:last-child .chat-state", "nouvel essai"),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "down")
		t.Fatalf("the message while the database is down: %v", err)
	}
	pg.Start(t)
	if err := chromedp.Do(ctx, browsertest.WaitText("#chat-list li.mine:last-child .chat-state", "envoyé")); err != nil {
		browsertest.Screenshot(t, ctx, "back")
		t.Fatalf("the message after the database is back: %v", err)
	}
	dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := db.Open(dctx, db.Config{URL: pgURL})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow(dctx, "SELECT COUNT(*) FROM messages WHERE body = ?", text).Scan(&n); err != nil || n != 1 {
		t.Errorf("the message is stored %d times (%v), want once", n, err)
	}
	browsertest.NoJSErrors(t, ctx)
}
