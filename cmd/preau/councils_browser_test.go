package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// TestBrowserCouncil: the head of school schedules 3e A's class council of
// the second term for a few minutes from now through the Conseils page and writes its
// agenda; a teacher of the class finds it among their councils, reads the
// agenda, and both join its video room (open 15 minutes before the
// start), where the teacher sees the head as the one who runs it.
func TestBrowserCouncil(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 2 * time.Minute
	base, _ := startServe(t, "--demo", "--data", t.TempDir())
	step := func(ctx context.Context, who, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			browsertest.Screenshot(t, ctx, "council-"+who)
			t.Fatalf("%s: %s: %v", who, what, err)
		}
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// Five minutes from now, rounded up to the minute, in Paris (the form's
	// time zone); an hour-long council.
	at := time.Now().In(paris).Add(5 * time.Minute).Truncate(time.Minute)

	head := browserLogin(t, b, base, "/conseils", "direction.demo")
	step(head, "head", "open the form", browsertest.WaitText("h1", "Conseils de classe"),
		chromedp.WaitVisible(chromedp.CSS(`form[data-testid="council-new"]`)))
	option := func(selectID, label string) string {
		t.Helper()
		v, err := chromedp.Run(head, chromedp.Evaluate[string](`[...document.getElementById('`+selectID+`').options]
			.find((o) => o.textContent.trim() === '`+label+`')?.value ?? ''`))
		if err != nil || v == "" {
			t.Fatalf("%q among the options of #%s: %q, %v", label, selectID, v, err)
		}
		return v
	}
	// The demo has 3e A's council of the first term: this is the second's.
	classA, term2 := option("k-class", "3e A"), option("k-term", "2e trimestre")
	step(head, "head", "schedule 3e A's council",
		chromedp.SetValue(chromedp.ID("k-class"), classA),
		chromedp.SetValue(chromedp.ID("k-term"), term2),
		chromedp.SetValue(chromedp.ID("k-date"), at.Format(time.DateOnly)),
		chromedp.SetValue(chromedp.ID("k-time"), at.Format("15:04")),
		chromedp.SetValue(chromedp.ID("k-minutes"), "60"),
		chromedp.SetValue(chromedp.ID("k-place"), "Salle B12"),
		chromedp.Submit(chromedp.CSS(`form[data-testid="council-new"] button`)),
		browsertest.WaitText("h1", "Conseil de classe — 3e A, 2e trimestre"),
		browsertest.WaitText(`[data-testid="council"]`, "Salle B12"),
	)
	const agenda = "1. Bilan de la classe\n2. Élèves en difficulté"
	step(head, "head", "write the agenda",
		chromedp.SetValue(chromedp.ID("k-agenda"), agenda),
		chromedp.Submit(chromedp.CSS(`form[data-testid="council-notes"] button`)),
		browsertest.WaitText("main", "L'ordre du jour et le compte rendu sont enregistrés."),
		browsertest.WaitText("#k-agenda", "Élèves en difficulté"),
	)
	councilPath, err := chromedp.Run(head, chromedp.Evaluate[string](`location.pathname`))
	if err != nil || !strings.HasPrefix(councilPath, "/conseils/") {
		t.Fatalf("the council's page is %q (%v)", councilPath, err)
	}

	teacher := browserLogin(t, b, base, "/conseils", "prof.demo")
	step(teacher, "teacher", "find the council and read its agenda",
		browsertest.WaitText(`[data-testid="councils"]`, "3e A — 2e trimestre"),
		browsertest.ClickXPath(`//ul[@data-testid="councils"]//li[contains(., "2e trimestre")]/a[1]`),
		browsertest.WaitText("h1", "Conseil de classe — 3e A, 2e trimestre"),
		browsertest.WaitText("main", "Élèves en difficulté"),
	)
	// Both join the video: the head first, then the teacher.
	step(head, "head", "join the video", chromedp.Click(chromedp.CSS(`a[data-testid="council-join"]`)),
		browsertest.WaitText("#live-status", "Connecté"))
	step(teacher, "teacher", "join the video", chromedp.Click(chromedp.CSS(`a[data-testid="council-join"]`)),
		browsertest.WaitText("#live-status", "Connecté"),
		browsertest.WaitText("#live-people", "(anime le conseil)"))
	step(head, "head", "see the teacher", browsertest.WaitText("#live-people", "Couper le micro"))
	for who, ctx := range map[string]context.Context{"head": head, "teacher": teacher} {
		loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
		if err != nil || !strings.HasPrefix(loc, "/direct/conseil-") {
			t.Errorf("%s is at %q (%v), want the council's room", who, loc, err)
		}
	}
	browsertest.NoJSErrors(t, head)
	browsertest.NoJSErrors(t, teacher)
}
