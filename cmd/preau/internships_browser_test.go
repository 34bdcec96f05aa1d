package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// TestBrowserInternships (issue 7): eleve.demo, in 3e A, finds the 600
// demo offers, opens one with a free place and applies through the page's
// plain form (an empty message first, refused in French); prof.demo, who
// teaches 3e A, sees the application in the follow-up of 3e A and records
// that the company read it; the pupil then sees it "Lue".
func TestBrowserInternships(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 2 * time.Minute
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	offer := demoID(t, dir, `SELECT id FROM internship_offers WHERE taken < places
		AND id NOT IN (SELECT offer_id FROM internship_applications) ORDER BY id LIMIT 1`)

	pupil := browserLogin(t, b, base, "/stages", "eleve.demo")
	err := chromedp.Do(pupil,
		browsertest.WaitText("h1", "Stages de 3e"),
		browsertest.WaitText("[data-testid=stage-total]", "600 offres"),
		chromedp.Navigate(fmt.Sprintf("%s/stages/offres/%d", base, offer)),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=stage-apply]")),
		chromedp.SetValue(chromedp.ID("stage-message"), "   "),
		chromedp.Click(chromedp.CSS(`[data-testid=stage-apply] button[type=submit]`)),
		browsertest.WaitText("[data-testid=error]", "Le message est obligatoire."),
		chromedp.SetValue(chromedp.ID("stage-message"), "Bonjour,\nje suis en 3e A et votre métier m'intéresse."),
		chromedp.Click(chromedp.CSS(`[data-testid=stage-apply] button[type=submit]`)),
		browsertest.WaitText("main", "Votre candidature est envoyée."),
		browsertest.WaitText("[data-testid=stage-status]", "Envoyée"),
	)
	if err != nil {
		browsertest.Screenshot(t, pupil, "internships-pupil")
		t.Fatalf("pupil applies: %v", err)
	}
	title, err := chromedp.Run(pupil, chromedp.Evaluate[string](`document.querySelector('h1').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	company := strings.TrimSpace(strings.TrimPrefix(title, "Candidature de Léa Martin — "))
	shot(t, pupil, "application")

	teacher := browserLogin(t, b, base, "/stages/suivi", "prof.demo")
	row := fmt.Sprintf(`//table[@data-class="3e A"]//tr[@data-testid="stage-follow-row"][contains(., "Léa Martin")][contains(., %q)]`, company)
	err = chromedp.Do(teacher,
		browsertest.WaitText("h1", "Suivi des stages de 3e"),
		chromedp.WaitVisible(chromedp.Search(row)),
		chromedp.Click(chromedp.Search(row+fmt.Sprintf(`//a[contains(., %q)]`, company))),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=stage-move-read]")),
		chromedp.Click(chromedp.CSS("[data-testid=stage-move-read]")),
		browsertest.WaitText("[data-testid=stage-status]", "Lue"),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "internships-teacher")
		t.Fatalf("teacher follows 3e A (%q): %v", company, err)
	}
	shot(t, teacher, "answer")
	if err := chromedp.Do(teacher, chromedp.Navigate(base+"/stages/suivi")); err == nil {
		shot(t, teacher, "follow-up")
	}

	err = chromedp.Do(pupil,
		chromedp.Navigate(base+"/stages"),
		chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//table[@data-testid="stage-mine"]//tr[contains(., %q)][contains(., "Lue")]`, company))),
	)
	if err != nil {
		browsertest.Screenshot(t, pupil, "internships-pupil-read")
		t.Fatalf("pupil sees the application read: %v", err)
	}
	shot(t, pupil, "mine")
	buttons, err := chromedp.Run(pupil, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid^=stage-move]').length`))
	if err != nil || buttons != 0 {
		t.Errorf("the pupil's page offers %d answer buttons (%v)", buttons, err)
	}
	for _, m := range browsertest.JSErrors(pupil) {
		// The refused form answers 400, which Chromium logs as a failed load.
		if m.Source == "network" && strings.HasSuffix(m.URL, "/candidater") && strings.Contains(m.Text, "400") {
			continue
		}
		t.Errorf("the pupil's page reported: %s (%s)", m.Text, m.URL)
	}
	browsertest.NoJSErrors(t, teacher)
}

// shot keeps a picture of the page when PREAU_SCREENSHOTS names a folder.
func shot(t *testing.T, ctx context.Context, name string) {
	if os.Getenv("PREAU_SCREENSHOTS") != "" {
		browsertest.Screenshot(t, ctx, name)
	}
}
