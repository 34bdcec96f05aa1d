package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// TestBrowserLive: the demo teacher starts 3e A's lesson from /direct and
// turns on the (fake) camera; the demo pupil joins from /direct and sees the
// teacher's video play, then raises a hand, which the teacher sees.
func TestBrowserLive(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 90 * time.Second
	base, _ := startServe(t, "--demo", "--data", t.TempDir())

	login := func(login string) context.Context {
		ctx := browserLogin(t, b, base, "/direct", login)
		if err := chromedp.Do(ctx, browsertest.WaitText("h1", "Cours en direct")); err != nil {
			browsertest.Screenshot(t, ctx, login)
			t.Fatalf("%s opens /direct: %v", login, err)
		}
		return ctx
	}
	step := func(ctx context.Context, who, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			browsertest.Screenshot(t, ctx, who)
			t.Fatalf("%s: %s: %v", who, what, err)
		}
	}

	teacher := login("prof.demo")
	step(teacher, "teacher", "start 3e A's lesson",
		chromedp.Click(chromedp.Search(`//ul[@data-testid="live-start"]//form[contains(., "3e A")]//button`)),
		browsertest.WaitText("h1", "3e A"),
		browsertest.WaitText("#live-status", "Connecté"),
		chromedp.Click(chromedp.ID("live-camera")),
		browsertest.WaitText("#live-camera", "Caméra activée"),
	)

	pupil := login("eleve.demo")
	step(pupil, "pupil", "join 3e A's lesson",
		browsertest.WaitText("[data-testid=live-lessons]", "3e A"),
		chromedp.Click(chromedp.Search(`//ul[@data-testid="live-lessons"]//li[contains(., "3e A")]//a[contains(., "Rejoindre")]`)),
		browsertest.WaitText("#live-status", "Connecté"),
	)

	// Frames are decoded: the teacher's video has a size and its time
	// advances.
	type sample struct {
		Width int     `json:"width"`
		Time  float64 `json:"time"`
	}
	const probe = `(() => { const v = document.querySelector('#live-videos video'); ` +
		`return v ? {width: v.videoWidth, time: v.currentTime} : {width: 0, time: 0}; })()`
	start := time.Now()
	var first sample
	for playing := false; !playing; {
		s, err := chromedp.Run(pupil, chromedp.Evaluate[sample](probe))
		if err != nil {
			t.Fatalf("probe the pupil's video: %v", err)
		}
		switch {
		case s.Width > 0 && first.Width == 0:
			first = s
		case first.Width > 0 && s.Time > first.Time+0.2:
			t.Logf("the pupil sees the teacher's video (%d px wide) after %v", s.Width, time.Since(start).Round(time.Millisecond))
			playing = true
			continue
		}
		if time.Since(start) > 15*time.Second {
			browsertest.Screenshot(t, pupil, "pupil-video")
			t.Fatalf("no video playing on the pupil's page after 15 s (last %+v, first %+v)", s, first)
		}
		time.Sleep(100 * time.Millisecond)
	}

	name, err := chromedp.Run(pupil, chromedp.Text(chromedp.CSS("[data-testid=user-name]")))
	if err != nil || strings.TrimSpace(name) == "" {
		t.Fatalf("pupil's name: %q %v", name, err)
	}
	step(pupil, "pupil", "raise a hand",
		chromedp.Click(chromedp.ID("live-hand")),
		browsertest.WaitText("#live-hand", "Baisser la main"),
	)
	step(teacher, "teacher", "see the raised hand",
		browsertest.WaitText("#live-hands li", strings.TrimSpace(name)),
	)

	// The teacher ends the lesson: the pupil's page says so.
	step(teacher, "teacher", "end the lesson",
		chromedp.Click(chromedp.ID("live-end")),
		browsertest.WaitText("#live-status", "Le cours est terminé"),
	)
	step(pupil, "pupil", "see the end", browsertest.WaitText("#live-status", "Le cours est terminé"))

	browsertest.NoJSErrors(t, teacher)
	browsertest.NoJSErrors(t, pupil)
}
