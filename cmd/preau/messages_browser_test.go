package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// TestBrowserMessagerie: a teacher and a pupil of 3e A open their class's
// conversation in two headless pages and talk live, without reloading.
func TestBrowserMessagerie(t *testing.T) {
	b := browsertest.New(t)
	// Talk, moderation and the home badge take a minute on 2 loaded cores
	// under -race: a page's life bounds a hang, it is not a timing.
	b.Timeout = 3 * time.Minute
	base, _ := startServe(t, "--demo", "--data", t.TempDir())

	// open signs a demo user in and opens 3e A's conversation from the
	// Messagerie list, then waits until chat.js is subscribed (without it
	// the composer would post the plain form).
	open := func(login string) context.Context {
		ctx := browserLogin(t, b, base, "/messagerie", login)
		err := chromedp.Do(ctx,
			browsertest.WaitText("[data-testid=conversations]", "3e A"),
			chromedp.Click(chromedp.Search(`//ul[@data-testid="conversations"]//a[contains(., "3e A")]`)),
			browsertest.WaitText("h1", "3e A"),
			chromedp.WaitVisible(chromedp.CSS(`#chat[data-live="true"]`)),
		)
		if err != nil {
			browsertest.Screenshot(t, ctx, login)
			t.Fatalf("%s opens 3e A: %v", login, err)
		}
		return ctx
	}
	teacher := open("prof.demo")
	pupil := open("eleve.demo")

	say := func(ctx context.Context, who, text string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("texte"), text+"\r"), // Enter sends
			browsertest.WaitText("#chat-list li.mine:last-child", text),
			browsertest.WaitText("#chat-list li.mine:last-child .chat-state", "envoyé"),
		)
		if err != nil {
			browsertest.Screenshot(t, ctx, who+"-send")
			t.Fatalf("%s sends %q: %v", who, text, err)
		}
	}
	see := func(ctx context.Context, who, text string) {
		t.Helper()
		if err := chromedp.Do(ctx, browsertest.WaitText("#chat-list li:last-child", text)); err != nil {
			browsertest.Screenshot(t, ctx, who+"-receive")
			t.Fatalf("%s does not see %q live: %v", who, text, err)
		}
	}

	say(teacher, "teacher", "Bonjour la classe")
	see(pupil, "pupil", "Bonjour la classe")
	sender, err := chromedp.Run(pupil, chromedp.Text(chromedp.CSS("#chat-list li:last-child .chat-sender")))
	if err != nil || strings.TrimSpace(sender) == "" {
		t.Errorf("the pupil sees no sender name (%q, %v)", sender, err)
	}
	say(pupil, "pupil", "Bonjour madame")
	see(teacher, "teacher", "Bonjour madame")

	// The text box is emptied once sent. (CDP dispatches Enter's "char"
	// event on its own, so unlike a real keyboard it may leave a newline
	// that the cancelled keydown would have suppressed.)
	value, err := chromedp.Run(teacher, chromedp.Value(chromedp.ID("texte")))
	if err != nil || strings.TrimSpace(value) != "" {
		t.Errorf("composer after sending holds %q (%v)", value, err)
	}

	// The teacher moderates: the pupil's message, deleted from the
	// teacher's (reloaded) page, disappears live from the pupil's.
	err = chromedp.Do(teacher,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-live="true"]`)),
		chromedp.Click(chromedp.Search(`//li[contains(., "Bonjour madame")]//button[@data-testid="mod-delete"]`)),
		browsertest.WaitText(".flash", "C'est fait."),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "teacher-delete")
		t.Fatalf("the teacher deletes the pupil's message: %v", err)
	}
	see(pupil, "pupil", "Message supprimé.")
	if text, _ := chromedp.Run(pupil, chromedp.Text(chromedp.CSS("#chat-list"))); strings.Contains(text, "Bonjour madame") {
		t.Errorf("the deleted message is still on the pupil's page")
	}

	// The pupil's home page: the Messagerie badge counts a new message live.
	home := browserLogin(t, b, base, "/accueil", "eleve.demo")
	err = chromedp.Do(home, chromedp.WaitReady(chromedp.CSS(`[data-unread-badge][data-live="true"]`)))
	var before string
	if err == nil {
		before, err = chromedp.Run(home, chromedp.TextContent(chromedp.CSS(`[data-unread-badge]`)))
	}
	if err != nil {
		browsertest.Screenshot(t, home, "pupil-home")
		t.Fatalf("the home page's badge is not live: %v", err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(before))
	say(teacher, "teacher", "Devoir pour lundi")
	if err := chromedp.Do(home, browsertest.WaitText(`[data-unread-badge]`, strconv.Itoa(n+1))); err != nil {
		browsertest.Screenshot(t, home, "pupil-home-badge")
		t.Fatalf("the badge does not count the new message (was %q): %v", before, err)
	}
	browsertest.NoJSErrors(t, teacher)
	browsertest.NoJSErrors(t, pupil)
	browsertest.NoJSErrors(t, home)
}
