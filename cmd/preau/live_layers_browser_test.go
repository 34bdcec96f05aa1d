package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// TestBrowserLiveLayers: the teacher's page publishes the (fake) camera in
// three simulcast layers; the pupil's camera tile, small by default, asks
// for the low layer, and the teacher's page stops encoding the layers
// nobody watches. The pupil's tile made large asks for the high layer: the
// teacher's page turns it on again and the frames the pupil decodes
// (getStats frameWidth) get wider; made small again, they get narrower and
// the top layers are paused again.
func TestBrowserLiveLayers(t *testing.T) {
	s := newLiveSession(t)
	s.b.Timeout = 3 * time.Minute

	teacher := s.login("prof.demo")
	s.step(teacher, "teacher", "start 3e A's lesson and publish the camera",
		chromedp.Click(chromedp.Search(`//ul[@data-testid="live-start"]//form[contains(., "3e A")]//button`)),
		browsertest.WaitText("h1", "3e A"),
		browsertest.WaitText("#live-status", "Connecté"),
		chromedp.Click(chromedp.ID("live-camera")),
		browsertest.WaitText("#live-camera", "Couper la caméra"),
	)
	layers := func() string {
		v, err := chromedp.Run(teacher, chromedp.Evaluate[string](
			`window.preauLive.encodings('camera').map((e) => e.rid + ':' + (e.active ? 'on' : 'off')).join(' ')`))
		if err != nil {
			t.Fatalf("teacher's camera layers: %v", err)
		}
		return v
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.HasPrefix(layers(), "q:") {
		if time.Now().After(deadline) {
			t.Skipf("Chromium did not answer with three simulcast layers: encodings %q", layers())
		}
		time.Sleep(200 * time.Millisecond)
	}

	pupil := s.login("eleve.demo")
	s.join(pupil, "pupil")
	s.step(pupil, "pupil", "connect", browsertest.WaitText("#live-status", "Connecté"))
	s.waitVideo(pupil, "pupil", "#live-videos .live-camera video")

	// width waits until the camera frames the pupil decodes satisfy ok.
	width := func(what string, ok func(int) bool) int {
		t.Helper()
		start := time.Now()
		for {
			v, err := chromedp.Run(pupil, chromedp.Evaluate[struct {
				Width int `json:"width"`
			}](`window.preauLive.inbound("video")`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("getStats: %v", err)
			}
			w := v.Width
			if w > 0 && ok(w) {
				t.Logf("%s: frames %d px wide after %v; teacher's layers %s", what, w, time.Since(start).Round(time.Millisecond), layers())
				return w
			}
			if time.Since(start) > 30*time.Second {
				browsertest.Screenshot(t, pupil, "pupil-layers")
				t.Fatalf("%s: frames %d px wide after 30 s; teacher's layers %s", what, w, layers())
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	resize := func(px string) {
		s.step(pupil, "pupil", "resize the camera tile to "+px, waitTrue(
			`(document.querySelector('#live-videos .live-camera').style.flex = '0 0 `+px+`', true)`))
	}
	waitLayers := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for got := layers(); got != want; got = layers() {
			if time.Now().After(deadline) {
				t.Fatalf("teacher's camera layers %q, want %q", got, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// The camera tile is 14rem (224 px): the low layer, a quarter of the
	// camera's width; the others are paused at the teacher's.
	small := width("small tile", func(w int) bool { return w <= 200 })
	waitLayers("q:on h:off f:off")

	resize("800px")
	large := width("large tile", func(w int) bool { return w >= 2*small })
	if got := layers(); !strings.Contains(got, "f:on") {
		t.Errorf("teacher's layers %q with a large tile, want f on", got)
	}

	resize("200px")
	width("small again", func(w int) bool { return w <= small })
	waitLayers("q:on h:off f:off")
	t.Logf("layer switch: %d px → %d px → back to low", small, large)

	browsertest.NoJSErrors(t, teacher)
	browsertest.NoJSErrors(t, pupil)
}
