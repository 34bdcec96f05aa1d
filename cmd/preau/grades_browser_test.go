package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"preau/db"
	"preau/internal/browsertest"
)

// demoID reads one id from the demo server's database.
func demoID(t *testing.T, dir, query string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var id int64
	if err := d.QueryRow(ctx, query, args...).Scan(&id); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return id
}

// mathsAverage reads Léa's maths average off the open Notes page.
func mathsAverage(t *testing.T, ctx context.Context) float64 {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(
		'[data-testid=grades-averages] tr[data-subject="Mathématiques"] [data-testid=subject-average]').textContent.trim()`))
	if err != nil {
		t.Fatalf("maths average: %v", err)
	}
	v, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil {
		t.Fatalf("maths average %q: %v", s, err)
	}
	return v
}

// TestBrowserGrades: prof.demo creates an evaluation for 3e A in maths and
// enters grades through the page's grid; parent.demo, on the Notes page of
// her daughter, sees the new evaluation, the new maths average and the chart.
func TestBrowserGrades(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 2 * time.Minute
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	classA := demoClassID(t, dir, "3e A")
	maths := demoID(t, dir, "SELECT id FROM subjects WHERE code = ?", "MATHS")
	lea := demoID(t, dir, "SELECT id FROM users WHERE login = ?", "eleve.demo")

	// The parent lands on her first child's notes and picks Léa.
	parent := browserLogin(t, b, base, "/notes", "parent.demo")
	err := chromedp.Do(parent,
		browsertest.WaitText("h1", "Notes de"),
		chromedp.Click(chromedp.Search(`//nav[@aria-label="Choisir un enfant"]//a[contains(., "Léa")]`)),
		browsertest.WaitText("h1", "Notes de Léa Martin"),
		browsertest.WaitText("[data-testid=grades-averages]", "Mathématiques"),
	)
	if err != nil {
		browsertest.Screenshot(t, parent, "grades-parent-before")
		t.Fatalf("parent opens Léa's notes: %v", err)
	}
	before := mathsAverage(t, parent)

	title := fmt.Sprintf("Contrôle surprise %d", time.Now().UnixNano()%1000)
	teacher := browserLogin(t, b, base, fmt.Sprintf("/notes/classes/%d/matieres/%d", classA, maths), "prof.demo")
	grade := fmt.Sprintf("note_%d", lea)
	err = chromedp.Do(teacher,
		browsertest.WaitText("h1", "3e A — Mathématiques"),
		chromedp.SetValue(chromedp.ID("titre"), title),
		chromedp.SetValue(chromedp.ID("coefficient"), "10"),
		chromedp.Click(chromedp.CSS(`[data-testid=grades-new] button[type=submit]`)),
		browsertest.WaitText("h1", title),
		chromedp.WaitVisible(chromedp.ID(grade)),
		// A wrong value first: the form comes back with a French error.
		chromedp.SendKeys(chromedp.ID(grade), "25"),
		chromedp.Click(chromedp.CSS(`[data-testid=grades-save]`)),
		browsertest.WaitText("[data-testid=error]", "valeur(s) à corriger"),
		browsertest.WaitText("[data-testid=grades-grid]", "comprise entre 0 et 20"),
		chromedp.SetValue(chromedp.ID(grade), "20"),
		// The arrow keys move between pupils, as in a spreadsheet.
		chromedp.SendKeys(chromedp.ID(grade), kb.ArrowDown),
		waitTrue(`document.activeElement.matches('input[data-grade]') && document.activeElement.id !== '`+grade+`'`),
		chromedp.SetValue(chromedp.CSS(`input[data-grade]:not(#`+grade+`)`), "abs"),
		chromedp.Click(chromedp.CSS(`[data-testid=grades-save]`)),
		browsertest.WaitText("main", "Les notes sont enregistrées."),
		browsertest.WaitText("[data-testid=grades-eval-stats]", "Moyenne de la classe : 20,00/20"),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "grades-teacher")
		t.Fatalf("teacher enters grades: %v", err)
	}
	// The only error allowed is the refused grid's 422, on purpose above.
	for _, m := range browsertest.JSErrors(teacher) {
		if !strings.Contains(m.Text, "422") || !strings.HasSuffix(m.URL, "/notes") {
			t.Errorf("teacher's page reported: %s %s", m.Text, m.URL)
		}
	}

	err = chromedp.Do(parent,
		chromedp.Reload(),
		browsertest.WaitText("h1", "Notes de Léa Martin"),
		browsertest.WaitText("main", title),
		chromedp.WaitVisible(chromedp.CSS(`svg[data-testid=grades-chart] g[data-subject="Mathématiques"]`)),
	)
	if err != nil {
		browsertest.Screenshot(t, parent, "grades-parent-after")
		t.Fatalf("parent sees the new grade: %v", err)
	}
	after := mathsAverage(t, parent)
	if after <= before {
		t.Errorf("maths average %v after a 20/20 coefficient 10, %v before", after, before)
	}
	svg, err := chromedp.Run(parent, chromedp.Evaluate[string](`(() => {
		const s = document.querySelector('svg[data-testid=grades-chart]');
		return s.querySelector('title').textContent + ' | ' + s.querySelector('desc').textContent;
	})()`))
	if err != nil || !strings.Contains(svg, "Évolution des moyennes") || !strings.Contains(svg, "Mathématiques") {
		t.Errorf("chart title and description: %q, %v", svg, err)
	}
	browsertest.NoJSErrors(t, parent)
}
