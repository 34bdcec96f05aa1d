package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/db"
	"preau/internal/browsertest"
)

// TestBrowserMeeting: a parent books a video meeting slot and both sides
// reach the same room. parent.demo books, through the Rendez-vous page,
// the free video slot of 3e A's English teacher that the demo opens now,
// for Léa; her page then offers "Rejoindre la visio" and joins the room;
// the teacher finds the booking on their page and joins too. Both publish
// the (fake) camera and each page decodes the other's video.
func TestBrowserMeeting(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 2 * time.Minute
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)

	// The demo's free video slot (open now) and its teacher's login.
	var slot int64
	var teacherLogin string
	func() {
		ctx := context.Background()
		d, err := db.Open(ctx, db.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.QueryRow(ctx, `SELECT s.id, u.login FROM meeting_slots s JOIN users u ON u.id = s.teacher_id
			WHERE s.mode = 'video' AND NOT EXISTS (SELECT 1 FROM meeting_bookings b WHERE b.slot_id = s.id)
			ORDER BY s.starts_at_ms, s.id LIMIT 1`).Scan(&slot, &teacherLogin); err != nil {
			t.Fatal(err)
		}
	}()
	room := fmt.Sprintf("/direct/rdv-%d", slot)

	step := func(ctx context.Context, who, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			browsertest.Screenshot(t, ctx, "meeting-"+who)
			t.Fatalf("%s: %s: %v", who, what, err)
		}
	}

	parent := browserLogin(t, b, base, "/rendez-vous", "parent.demo")
	step(parent, "parent", "book the slot for Léa and join",
		browsertest.WaitText("h1", "Rendez-vous parents-professeurs"),
		browsertest.ClickXPath(fmt.Sprintf(`//section[@data-testid="meeting-child"][contains(h2, "Léa")]//ul[@data-testid="meeting-free"]/li[@data-slot="%d"]//button`, slot)),
		browsertest.WaitText("main", "Votre rendez-vous est réservé"),
		browsertest.ClickXPath(fmt.Sprintf(`//ul[@data-testid="meeting-mine"]/li[@data-slot="%d"]//a[@data-testid="meeting-join"]`, slot)),
		browsertest.WaitText("#live-status", "Connecté"),
		chromedp.Click(chromedp.ID("live-camera")),
		browsertest.WaitText("#live-camera", "Couper la caméra"),
	)
	teacher := browserLogin(t, b, base, "/rendez-vous", teacherLogin)
	// The teacher turns the camera on at once, while the server is still
	// negotiating the parent's camera to them: the page attaches its track
	// only once the server applied its answer ("answered", docs/sfu.md),
	// else the SFU could lose the simulcast layers for good.
	step(teacher, "teacher", "find the booking, join and turn the camera on",
		browsertest.WaitText("[data-testid=meeting-slots]", "Émilie Martin (pour Léa Martin)"),
		browsertest.ClickXPath(fmt.Sprintf(`//table[@data-testid="meeting-slots"]//tr[@data-slot="%d"]//a[@data-testid="meeting-join"]`, slot)),
		browsertest.WaitText("#live-status", "Connecté"),
		chromedp.Click(chromedp.ID("live-camera")),
		browsertest.WaitText("#live-camera", "Couper la caméra"),
	)
	for who, ctx := range map[string]context.Context{"parent": parent, "teacher": teacher} {
		loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
		if err != nil || loc != room {
			t.Fatalf("%s is at %q, want %q (%v)", who, loc, room, err)
		}
	}
	// Each sees the other, and each page decodes the other's video.
	s := &liveSession{t: t, b: b, base: base}
	step(teacher, "teacher", "see the parent", browsertest.WaitText("#live-people", "Émilie Martin"),
		browsertest.WaitText("#live-people", "Couper le micro"))
	// A meeting has no floor: the teacher may mute or remove, not "give the floor".
	if people, err := chromedp.Run(teacher, chromedp.Evaluate[string](`document.querySelector('#live-people').textContent`)); err != nil ||
		strings.Contains(people, "parole") {
		t.Errorf("the teacher's list of participants in a meeting: %q (%v); want no floor buttons", people, err)
	}
	s.waitVideo(teacher, "teacher", `#live-videos .live-camera:not(.live-self) video`)
	step(parent, "parent", "see the teacher", browsertest.WaitText("#live-people", "(enseignant)"))
	s.waitVideo(parent, "parent", `#live-videos .live-camera:not(.live-self) video`)
	for who, ctx := range map[string]context.Context{"parent": parent, "teacher": teacher} {
		if in := s.waitGrowing(ctx, who, "video", 10, 10*time.Second); in.Frames == 0 {
			t.Errorf("%s: no video frame decoded", who)
		}
	}
	browsertest.NoJSErrors(t, parent)
	browsertest.NoJSErrors(t, teacher)
}
