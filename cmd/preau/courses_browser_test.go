package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// TestBrowserCourses: prof.demo creates a course for 3e A through the
// page's plain forms, adds a chapter and a Markdown text with a heading, a
// link and a <script> tag, sees it as a draft and publishes it; eleve.demo
// finds the course (and the demo's own course) in her list and sees the
// rendered heading and link, the script shown as inert text: no script
// element in the item, nothing run, no JavaScript error.
func TestBrowserCourses(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 2 * time.Minute
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	classA := demoClassID(t, dir, "3e A")
	title := fmt.Sprintf("Les fractions %d", time.Now().UnixNano()%1000)
	md := "# Additionner des fractions\n\nRevoir la vidéo sur [le site Lumni](https://www.lumni.fr/).\n\n" +
		"<script>window.crsPwned = 1; throw new Error('pwned')</script>\n\nFin du cours."

	teacher := browserLogin(t, b, base, "/cours", "prof.demo")
	err := chromedp.Do(teacher,
		browsertest.WaitText("h1", "Cours en ligne"),
		chromedp.SetValue(chromedp.ID("crs-classe"), fmt.Sprint(classA)),
		chromedp.SetValue(chromedp.ID("crs-titre"), title),
		chromedp.Click(chromedp.CSS(`[data-testid=course-new] button[type=submit]`)),
		browsertest.WaitText("main", "Le cours est créé."),
		chromedp.SetValue(chromedp.ID("crs-chapitre-titre"), "1. Le cours"),
		chromedp.Click(chromedp.CSS(`[data-testid=course-chapter-form] button[type=submit]`)),
		browsertest.WaitText("main", "Le chapitre est ajouté."),
		chromedp.Click(chromedp.CSS(`[data-testid=course-chapter] details summary`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid=course-item-form] input[name=titre]`), "La leçon"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=course-item-form] textarea[name=texte]`), md),
		chromedp.Click(chromedp.CSS(`[data-testid=course-item-form] button[type=submit]`)),
		browsertest.WaitText("main", "L'élément est ajouté."),
		browsertest.WaitText(`[data-testid=course-item]`, "(brouillon)"),
		chromedp.Click(chromedp.CSS(`[data-testid=course-publish]`)),
		browsertest.WaitText("main", "L'élément est publié : la classe le voit."),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "courses-teacher")
		t.Fatalf("teacher writes and publishes: %v", err)
	}
	loc, err := chromedp.Run(teacher, chromedp.Evaluate[string](`location.pathname`))
	if err != nil || !strings.HasPrefix(loc, "/cours/") {
		t.Fatalf("teacher's page at %q (%v)", loc, err)
	}

	pupil := browserLogin(t, b, base, "/cours", "eleve.demo")
	err = chromedp.Do(pupil,
		browsertest.WaitText("[data-testid=course-list]", title),
		browsertest.WaitText("main", "Théorème de Pythagore"), // the demo's course
		chromedp.Navigate(base+loc),
		browsertest.WaitText("[data-testid=course-title]", title),
		browsertest.WaitText("[data-testid=course-text] h1", "Additionner des fractions"),
		browsertest.WaitText("[data-testid=course-text]", "<script>window.crsPwned = 1;"),
	)
	if err != nil {
		browsertest.Screenshot(t, pupil, "courses-pupil")
		t.Fatalf("pupil reads the course: %v", err)
	}
	type page struct {
		Scripts, Drafts, Buttons int
		Href, Rel, Pwned         string
	}
	got, err := chromedp.Run(pupil, chromedp.Evaluate[page](`(() => {
		const item = document.querySelector('[data-testid=course-item]');
		const a = item.querySelector('[data-testid=course-text] a');
		return {Scripts: item.querySelectorAll('script').length,
			Drafts: document.querySelectorAll('[data-testid=course-draft]').length,
			Buttons: document.querySelectorAll('[data-testid=course-publish], [data-testid=course-item-form]').length,
			Href: a ? a.href : '', Rel: a ? a.rel : '', Pwned: String(window.crsPwned)};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Scripts != 0 || got.Pwned != "undefined" || got.Href != "https://www.lumni.fr/" || got.Rel != "noopener noreferrer nofollow" ||
		got.Drafts != 0 || got.Buttons != 0 {
		t.Errorf("pupil's page: %+v", got)
	}
	browsertest.NoJSErrors(t, teacher)
	browsertest.NoJSErrors(t, pupil)
}
