package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// TestBrowserMessagerie: a teacher and a pupil of 3e A open their class's
// conversation in two headless pages and talk live, without reloading.
// openClassChat signs a demo user in and opens 3e A's conversation from the
// Messagerie list, then waits until chat.js is subscribed (without it the
// composer would post the plain form).
func openClassChat(t *testing.T, b *browsertest.Browser, base, login string) context.Context {
	t.Helper()
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

func TestBrowserMessagerie(t *testing.T) {
	b := browsertest.New(t)
	// Talk, moderation and the home badge take a minute on 2 loaded cores
	// under -race: a page's life bounds a hang, it is not a timing.
	b.Timeout = 3 * time.Minute
	base, _ := startServe(t, "--demo", "--data", t.TempDir())

	teacher := openClassChat(t, b, base, "prof.demo")
	pupil := openClassChat(t, b, base, "eleve.demo")

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

	// A message that arrived live has the same controls as a rendered one.
	if err := chromedp.Do(pupil, chromedp.WaitReady(chromedp.CSS(`#chat-list li:last-child [data-testid="reply-to"]`))); err != nil {
		browsertest.Screenshot(t, pupil, "pupil-live-controls")
		t.Fatalf("a live message has no Répondre control: %v", err)
	}

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

	// The teacher attaches a file uploaded from the page; the pupil sees it
	// live and downloads the same bytes.
	content := "Exercice 3 p. 42, pour lundi.\n"
	file := filepath.Join(t.TempDir(), "Devoir lundi.txt")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(teacher,
		chromedp.SetUploadFiles(chromedp.CSS(`#pj`), []string{file}),
		browsertest.WaitText(`[data-testid="attach-list"]`, "Devoir lundi.txt"),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "teacher-attach")
		t.Fatalf("the teacher attaches a file: %v", err)
	}
	say(teacher, "teacher", "Le devoir est joint")
	see(pupil, "pupil", "Devoir lundi.txt")
	got, err := chromedp.Run(pupil, chromedp.Evaluate[string](
		`fetch(document.querySelector('#chat-list li:last-child [data-testid="attachments"] a').href).then((r) => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil || got != content {
		t.Fatalf("the pupil downloads %q (%v), want %q", got, err, content)
	}

	// The teacher edits that message (its controls were built by chat.js,
	// since it arrived live); the pupil's page shows the change live.
	err = chromedp.Do(teacher,
		chromedp.Click(chromedp.CSS(`#chat-list li:last-child [data-testid="edit"]`)),
		chromedp.SetValue(chromedp.CSS(`#chat-list li:last-child details.chat-edit textarea`), "Le devoir (exercice 3) est joint"),
		chromedp.Click(chromedp.CSS(`#chat-list li:last-child [data-testid="edit-save"]`)),
		browsertest.WaitText(".flash", "Message modifié."),
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-live="true"]`)),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "teacher-edit")
		t.Fatalf("the teacher edits a message: %v", err)
	}
	see(pupil, "pupil", "Le devoir (exercice 3) est joint")
	see(pupil, "pupil", "(modifié)")

	// The pupil answers that message: both pages quote it above the reply.
	if err := chromedp.Do(pupil, chromedp.Click(chromedp.CSS(`#chat-list li:last-child [data-testid="reply-to"]`)),
		browsertest.WaitText("#reply-info", "Le devoir (exercice 3)")); err != nil {
		browsertest.Screenshot(t, pupil, "pupil-reply")
		t.Fatalf("the pupil answers a message: %v", err)
	}
	say(pupil, "pupil", "Merci madame")
	if err := chromedp.Do(teacher, browsertest.WaitText(`#chat-list li:last-child [data-testid="quote"]`, "Le devoir (exercice 3)")); err != nil {
		browsertest.Screenshot(t, teacher, "teacher-quote")
		t.Fatalf("the teacher does not see the quote: %v", err)
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
