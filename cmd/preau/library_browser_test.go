package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// TestBrowserLibrary: eleve.demo searches the CDI catalogue without
// accents, opens "Vingt mille lieues sous les mers", reserves it through
// the page's plain form and finds it, ready to collect, on "Mes prêts et
// réservations" beside the book she already has out.
func TestBrowserLibrary(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 2 * time.Minute
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	book := demoID(t, dir, "SELECT id FROM library_books WHERE title = ?", "Vingt mille lieues sous les mers")

	pupil := browserLogin(t, b, base, "/cdi?q=VINGT+MILLE+lieues", "eleve.demo")
	err := chromedp.Do(pupil,
		browsertest.WaitText("h1", "CDI"),
		browsertest.WaitText("[data-testid=lib-results]", "Vingt mille lieues sous les mers"),
		chromedp.Click(chromedp.Search(`//a[contains(., "Vingt mille lieues sous les mers")]`)),
		browsertest.WaitText("h1", "Vingt mille lieues sous les mers"),
		browsertest.WaitText("[data-testid=lib-availability]", "3 exemplaires disponibles sur 3"),
		chromedp.Click(chromedp.CSS(`[data-testid=lib-reserve-button]`)),
		browsertest.WaitText("h1", "Mes prêts et réservations"),
		browsertest.WaitText("main", "Votre réservation est enregistrée"),
		browsertest.WaitText("[data-testid=lib-reservations]", "Vingt mille lieues sous les mers"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=lib-reservation][data-status=ready]`)),
		browsertest.WaitText("[data-testid=lib-loans]", "Le Petit Prince"),
	)
	if err != nil {
		browsertest.Screenshot(t, pupil, "library-pupil")
		t.Fatalf("pupil reserves a book: %v", err)
	}
	// The title's page now says it is hers, without a second button.
	err = chromedp.Do(pupil,
		chromedp.Navigate(fmt.Sprintf("%s/cdi/livres/%d", base, book)),
		browsertest.WaitText("[data-testid=lib-my-reservation]", "Votre réservation est prête"),
	)
	if err != nil {
		browsertest.Screenshot(t, pupil, "library-book")
		t.Fatalf("title page after the reservation: %v", err)
	}
	buttons, err := chromedp.Run(pupil, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=lib-reserve-button]').length`))
	if err != nil || buttons != 0 {
		t.Errorf("the title page still offers %d Réserver buttons (%v)", buttons, err)
	}
	browsertest.NoJSErrors(t, pupil)
}
