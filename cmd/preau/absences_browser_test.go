package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/ent/timetable"
	"preau/internal/browsertest"
)

// TestBrowserAbsences (issue 6, Quality): parent.demo's home page is open;
// prof.demo takes the roll of 3e A and marks eleve.demo absent; the
// parent's Messagerie badge counts Préau's notification without a reload;
// the parent then justifies the absence through the page.
func TestBrowserAbsences(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 3 * time.Minute
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	classA := demoClassID(t, dir, "3e A")
	today := time.Now().In(timetable.Paris).Format(timetable.DateLayout)

	// The parent's home page, its badge live.
	home := browserLogin(t, b, base, "/accueil", "parent.demo")
	err := chromedp.Do(home, chromedp.WaitReady(chromedp.CSS(`[data-unread-badge][data-live="true"]`)))
	var before string
	if err == nil {
		before, err = chromedp.Run(home, chromedp.TextContent(chromedp.CSS(`[data-unread-badge]`)))
	}
	if err != nil {
		browsertest.Screenshot(t, home, "parent-home")
		t.Fatalf("the parent's badge is not live: %v", err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(before))

	// The teacher takes the roll from the Vie scolaire page.
	teacher := browserLogin(t, b, base, "/vie-scolaire", "prof.demo")
	err = chromedp.Do(teacher,
		browsertest.WaitText("h1", "Vie scolaire"),
		chromedp.SetValue(chromedp.ID("appel-classe"), fmt.Sprint(classA)),
		chromedp.SetValue(chromedp.ID("appel-date"), today),
		chromedp.SetValue(chromedp.ID("appel-debut"), "10:00"),
		chromedp.SetValue(chromedp.ID("appel-fin"), "11:00"),
		chromedp.Click(chromedp.CSS(`[data-testid=abs-roll-choose] button[type=submit]`)),
		browsertest.WaitText("h1", "Appel — 3e A"),
		chromedp.Click(chromedp.Search(`//tr[th[contains(., "Martin Léa")]]//input[@value="absence"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=abs-roll] button[type=submit]`)),
		browsertest.WaitText("main", "L'appel est enregistré"),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "absences-teacher")
		t.Fatalf("the teacher takes the roll: %v", err)
	}

	// The parent's open page counts the notification, without reload.
	if err := chromedp.Do(home, browsertest.WaitText(`[data-unread-badge]`, strconv.Itoa(n+1))); err != nil {
		browsertest.Screenshot(t, home, "parent-home-badge")
		t.Fatalf("the parent's badge does not count the notification (was %q): %v", before, err)
	}

	// The parent reads it in the Messagerie and justifies through the page.
	err = chromedp.Do(home,
		chromedp.Navigate(base+"/messagerie"),
		chromedp.Click(chromedp.Search(`//ul[@data-testid="conversations"]//a[contains(., "Vie scolaire — Léa Martin")]`)),
		browsertest.WaitText("#chat-list", "Absence de Léa le"),
	)
	if err != nil {
		browsertest.Screenshot(t, home, "parent-messagerie")
		t.Fatalf("the parent reads the notification: %v", err)
	}
	err = chromedp.Do(home,
		chromedp.Navigate(base+"/vie-scolaire"),
		browsertest.WaitText("[data-testid=abs-list]", "Non justifiée"),
		chromedp.Click(chromedp.CSS(`[data-testid=abs-list] tbody tr:first-child a`)),
		browsertest.WaitText("[data-testid=abs-record]", "10 h – 11 h"),
		chromedp.SetValue(chromedp.ID("motif"), "maladie"),
		chromedp.SetValue(chromedp.ID("precision"), "Fièvre, certificat à suivre"),
		chromedp.Click(chromedp.CSS(`[data-testid=abs-justify] button[type=submit]`)),
		browsertest.WaitText("main", "la justification est transmise"),
		browsertest.WaitText("[data-testid=abs-status]", "Justification à examiner"),
	)
	if err != nil {
		browsertest.Screenshot(t, home, "parent-justify")
		t.Fatalf("the parent justifies: %v", err)
	}
	browsertest.NoJSErrors(t, teacher)
	browsertest.NoJSErrors(t, home)
}
