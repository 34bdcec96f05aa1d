package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/ent/homework"
	"preau/internal/browsertest"
)

// TestBrowserHomework: prof.demo adds a lesson of 3e A in maths with work
// for tomorrow through the page's plain form (a due date before the lesson
// first, refused in French); eleve.demo finds it in her "à faire" list under
// "Pour demain" and ticks it; parent.demo sees it ticked, without a button.
func TestBrowserHomework(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 2 * time.Minute
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	classA := demoClassID(t, dir, "3e A")
	maths := demoID(t, dir, "SELECT id FROM subjects WHERE code = ?", "MATHS")
	lea := demoID(t, dir, "SELECT id FROM users WHERE login = ?", "eleve.demo")
	today := time.Now().In(homework.Paris)
	work := fmt.Sprintf("Exercice surprise %d", time.Now().UnixNano()%1000)

	teacher := browserLogin(t, b, base, fmt.Sprintf("/cahier-de-textes/classe/%d?matiere=%d", classA, maths), "prof.demo")
	err := chromedp.Do(teacher,
		browsertest.WaitText("h1", "3e A — Mathématiques"),
		chromedp.SetValue(chromedp.ID("hw-date"), today.Format(homework.DateLayout)),
		chromedp.SetValue(chromedp.ID("hw-titre"), "Les fractions"),
		chromedp.SetValue(chromedp.ID("hw-contenu"), "Cours sur les fractions.\n\nVoir https://www.lumni.fr/"),
		chromedp.SetValue(chromedp.ID("hw-consigne-1"), work),
		chromedp.SetValue(chromedp.ID("hw-pour-1"), today.AddDate(0, 0, -1).Format(homework.DateLayout)),
		chromedp.Click(chromedp.CSS(`[data-testid=hw-form] button[type=submit]`)),
		browsertest.WaitText("[data-testid=error]", "il doit être pour le jour de la séance ou après"),
		chromedp.SetValue(chromedp.ID("hw-pour-1"), today.AddDate(0, 0, 1).Format(homework.DateLayout)),
		chromedp.Click(chromedp.CSS(`[data-testid=hw-form] button[type=submit]`)),
		browsertest.WaitText("main", "La séance est ajoutée au cahier de textes."),
		browsertest.WaitText("[data-testid=hw-entry]", work),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "homework-teacher")
		t.Fatalf("teacher adds a lesson: %v", err)
	}

	pupil := browserLogin(t, b, base, "/cahier-de-textes", "eleve.demo")
	item := fmt.Sprintf(`//li[@data-testid="hw-item"][contains(., %q)]`, work)
	err = chromedp.Do(pupil,
		browsertest.WaitText("h1", "Travail à faire"),
		browsertest.WaitText(`[data-bucket=tomorrow]`, work),
		chromedp.Click(chromedp.Search(item+`//button[@data-testid="hw-tick"]`)),
		browsertest.WaitText("main", "C'est noté."),
		chromedp.WaitVisible(chromedp.Search(item+`//*[@data-testid="hw-done"]`)),
	)
	if err != nil {
		browsertest.Screenshot(t, pupil, "homework-pupil")
		t.Fatalf("pupil ticks the work: %v", err)
	}

	parent := browserLogin(t, b, base, fmt.Sprintf("/cahier-de-textes?eleve=%d", lea), "parent.demo")
	err = chromedp.Do(parent,
		browsertest.WaitText("h1", "Léa Martin"),
		chromedp.WaitVisible(chromedp.Search(item+`//*[@data-testid="hw-done"]`)),
	)
	if err != nil {
		browsertest.Screenshot(t, parent, "homework-parent")
		t.Fatalf("parent sees the tick: %v", err)
	}
	buttons, err := chromedp.Run(parent, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=hw-tick]').length`))
	if err != nil || buttons != 0 {
		t.Errorf("the parent's page offers %d tick buttons (%v)", buttons, err)
	}
	browsertest.NoJSErrors(t, pupil)
	browsertest.NoJSErrors(t, parent)
}
