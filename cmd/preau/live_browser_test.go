package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// liveSession drives the demo's live pages in one Chromium.
type liveSession struct {
	t    *testing.T
	b    *browsertest.Browser
	base string
}

func newLiveSession(t *testing.T) *liveSession {
	b := browsertest.New(t)
	b.Timeout = 120 * time.Second
	base, _ := startServe(t, "--demo", "--data", t.TempDir())
	return &liveSession{t: t, b: b, base: base}
}

// login opens /direct as a demo user.
func (s *liveSession) login(login string) context.Context {
	s.t.Helper()
	ctx := browserLogin(s.t, s.b, s.base, "/direct", login)
	s.step(ctx, login, "open /direct", browsertest.WaitText("h1", "Cours en direct"))
	return ctx
}

func (s *liveSession) step(ctx context.Context, who, what string, actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		browsertest.Screenshot(s.t, ctx, who)
		s.t.Fatalf("%s: %s: %v", who, what, err)
	}
}

// join opens 3e A's running lesson from /direct.
func (s *liveSession) join(ctx context.Context, who string) {
	s.t.Helper()
	s.step(ctx, who, "join 3e A's lesson",
		browsertest.WaitText("[data-testid=live-lessons]", "3e A"),
		chromedp.Click(chromedp.Search(`//ul[@data-testid="live-lessons"]//li[contains(., "3e A")]//a[contains(., "Rejoindre")]`)),
	)
}

// userName is the signed-in user's name in the page header.
func (s *liveSession) userName(ctx context.Context) string {
	s.t.Helper()
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("[data-testid=user-name]")))
	if err != nil || strings.TrimSpace(name) == "" {
		s.t.Fatalf("user's name: %q %v", name, err)
	}
	return strings.TrimSpace(name)
}

type inbound struct {
	Packets int64 `json:"packets"`
	Bytes   int64 `json:"bytes"`
	Frames  int64 `json:"frames"`
}

// inbound sums the page's getStats inbound-rtp of kind.
func (s *liveSession) inbound(ctx context.Context, kind string) inbound {
	s.t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[inbound](`window.preauLive.inbound("`+kind+`")`, chromedp.EvalAwaitPromise))
	if err != nil {
		s.t.Fatalf("getStats %s: %v", kind, err)
	}
	return v
}

// waitGrowing waits until the page's inbound kind grows by at least min
// packets (and bytes) between two samples 500 ms apart.
func (s *liveSession) waitGrowing(ctx context.Context, who, kind string, min int64, d time.Duration) inbound {
	s.t.Helper()
	deadline := time.Now().Add(d)
	prev := s.inbound(ctx, kind)
	for {
		time.Sleep(500 * time.Millisecond)
		cur := s.inbound(ctx, kind)
		if cur.Packets >= prev.Packets+min && cur.Bytes > prev.Bytes {
			return cur
		}
		if time.Now().After(deadline) {
			browsertest.Screenshot(s.t, ctx, who+"-"+kind)
			s.t.Fatalf("%s: inbound %s not growing after %v: %+v then %+v", who, kind, d, prev, cur)
		}
		prev = cur
	}
}

type videoSample struct {
	Width  int     `json:"width"`
	Height int     `json:"height"`
	Time   float64 `json:"time"`
}

// waitVideo waits until the first video matching selector has a size and
// its time advances (frames are decoded).
func (s *liveSession) waitVideo(ctx context.Context, who, selector string) videoSample {
	s.t.Helper()
	probe := `(() => { const v = document.querySelector(` + "`" + selector + "`" + `); ` +
		`return v ? {width: v.videoWidth, height: v.videoHeight, time: v.currentTime} : {width: 0, height: 0, time: 0}; })()`
	start := time.Now()
	var first videoSample
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[videoSample](probe))
		if err != nil {
			s.t.Fatalf("%s: probe %s: %v", who, selector, err)
		}
		switch {
		case v.Width > 0 && first.Width == 0:
			first = v
		case first.Width > 0 && v.Time > first.Time+0.2:
			s.t.Logf("%s: %s plays (%d×%d) after %v", who, selector, v.Width, v.Height, time.Since(start).Round(time.Millisecond))
			return v
		}
		// 40 s: on a CI machine running every package at once under
		// -race, a simulcast camera once took longer than 20 s to show.
		if time.Since(start) > 40*time.Second {
			browsertest.Screenshot(s.t, ctx, who+"-video")
			s.t.Fatalf("%s: no video playing in %s after 40 s (last %+v, first %+v)", who, selector, v, first)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserLive: the demo teacher starts 3e A's lesson and publishes the
// (fake) camera and a screen share at once; the pupil sees the screen large
// and the camera beside it, both decoding. The pupil raises a hand, the
// teacher gives the floor from the queue: the pupil's page opens its
// microphone and says so, and the teacher's page receives the pupil's audio
// (getStats inbound-rtp audio growing). The teacher takes the floor back:
// the pupil's microphone stops and the teacher's audio stops growing. The
// end reaches both pages.
func TestBrowserLive(t *testing.T) {
	s := newLiveSession(t)

	teacher := s.login("prof.demo")
	s.step(teacher, "teacher", "start 3e A's lesson and publish camera and screen",
		chromedp.Click(chromedp.Search(`//ul[@data-testid="live-start"]//form[contains(., "3e A")]//button`)),
		browsertest.WaitText("h1", "3e A"),
		browsertest.WaitText("#live-status", "Connecté"),
		chromedp.Click(chromedp.ID("live-both")),
		browsertest.WaitText("#live-camera", "Couper la caméra"),
		browsertest.WaitText("#live-screen", "Arrêter le partage"),
	)
	// The screen share is sent as detail content, resolution first.
	hint, err := chromedp.Run(teacher, chromedp.Evaluate[string](
		`document.querySelector('.live-self-screen video').srcObject.getVideoTracks()[0].contentHint`))
	if err != nil || hint != "detail" {
		t.Fatalf("screen track contentHint = %q, %v", hint, err)
	}

	pupil := s.login("eleve.demo")
	s.join(pupil, "pupil")
	s.step(pupil, "pupil", "connect", browsertest.WaitText("#live-status", "Connecté"))
	screen := s.waitVideo(pupil, "pupil", "#live-videos .live-screen video")
	s.waitVideo(pupil, "pupil", "#live-videos .live-camera video")
	if screen.Width < 640 {
		t.Errorf("the screen share arrives %d px wide, want the full 800", screen.Width)
	}
	// Screen first (large), the camera beside it.
	order, err := chromedp.Run(pupil, chromedp.Evaluate[string](
		`[...document.querySelectorAll('#live-videos figure')].map(f => f.dataset.source).join(',')`))
	if err != nil || !strings.HasPrefix(order, "screen,camera") {
		t.Errorf("tiles %q, want the screen first then the camera (%v)", order, err)
	}
	s.waitGrowing(pupil, "pupil", "video", 10, 10*time.Second)
	// The connection-quality indicator, from getStats, every 3 s.
	s.step(pupil, "pupil", "see the connection quality", browsertest.WaitText("#live-quality", "Connexion : bonne"))
	// The lesson's chat, beside the videos: the pupil writes, the teacher
	// reads it live.
	s.step(teacher, "teacher", "open the lesson chat", chromedp.WaitVisible(chromedp.CSS(`[data-testid="lesson-chat"] #chat[data-live="true"]`)))
	s.step(pupil, "pupil", "write in the lesson chat",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="lesson-chat"] #chat[data-live="true"]`)),
		chromedp.SendKeys(chromedp.ID("texte"), "Pouvez-vous agrandir le texte ?\r"),
		browsertest.WaitText("#chat-list li.mine:last-child .chat-state", "envoyé"))
	s.step(teacher, "teacher", "read the pupil's message", browsertest.WaitText("#chat-list li:last-child", "Pouvez-vous agrandir le texte ?"))
	// The teacher may choose the camera and microphone.
	s.step(teacher, "teacher", "see the device choice",
		waitTrue(`!document.getElementById('live-devices').hidden && document.querySelectorAll('#live-camera-select option').length > 0`))

	// A network blip: the pupil's socket and PeerConnection drop; the page
	// rejoins by itself and the video plays again.
	start := time.Now()
	s.step(pupil, "pupil", "lose the network", waitTrue(`(window.preauLive.blip(), true)`),
		browsertest.WaitText("#live-status", "reconnexion"))
	s.step(pupil, "pupil", "resume", browsertest.WaitText("#live-status", "Connecté"))
	s.waitVideo(pupil, "pupil", "#live-videos .live-screen video")
	t.Logf("the pupil's page resumed after the blip in %v", time.Since(start).Round(time.Millisecond))

	// An ICE restart (what the page asks for after 2 s disconnected): new
	// server credentials, the same PeerConnection, the video goes on.
	type iceState struct {
		State string `json:"state"`
		Ufrag string `json:"ufrag"`
	}
	ice := func() iceState {
		v, err := chromedp.Run(pupil, chromedp.Evaluate[iceState](`window.preauLive.iceState()`))
		if err != nil {
			t.Fatalf("ICE state: %v", err)
		}
		return v
	}
	was := ice()
	s.step(pupil, "pupil", "restart ICE", waitTrue(`(window.preauLive.restartIce(), true)`))
	deadline := time.Now().Add(10 * time.Second)
	for now := ice(); now.Ufrag == was.Ufrag || now.State != "connected"; now = ice() {
		if time.Now().After(deadline) {
			t.Fatalf("ICE restart: before %+v, now %+v", was, now)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.waitGrowing(pupil, "pupil", "video", 10, 10*time.Second)

	// Raise hand → the teacher gives the floor from the queue.
	name := s.userName(pupil)
	s.step(pupil, "pupil", "raise a hand",
		chromedp.Click(chromedp.ID("live-hand")),
		browsertest.WaitText("#live-hand", "Baisser la main"),
	)
	before := s.inbound(teacher, "audio")
	s.step(teacher, "teacher", "give the floor from the queue",
		browsertest.WaitText("#live-hands li", name),
		browsertest.ClickXPath(`//ol[@id="live-hands"]/li[contains(., "`+name+`")]//button[normalize-space()="Donner la parole"]`),
	)
	s.step(pupil, "pupil", "get the floor",
		browsertest.WaitText("#live-floor", "Vous avez la parole : votre micro est ouvert"),
		browsertest.WaitText("#live-hand", "Lever la main"),
	)
	// For a look at the pages (kept when PREAU_SCREENSHOTS is set).
	browsertest.Screenshot(t, pupil, "pupil-floor")
	browsertest.Screenshot(t, teacher, "teacher-floor")
	got := s.waitGrowing(teacher, "teacher", "audio", 10, 10*time.Second)
	t.Logf("the teacher hears the pupil: inbound audio %+v (before the floor %+v)", got, before)

	// Take the floor back: the pupil's microphone stops, and so does the
	// audio the teacher receives.
	s.step(teacher, "teacher", "take the floor back",
		browsertest.ClickXPath(`//ul[@id="live-people"]/li[contains(., "`+name+`")]//button[normalize-space()="Reprendre la parole"]`),
	)
	s.step(pupil, "pupil", "lose the floor", waitTrue(
		`document.getElementById('live-floor').offsetParent === null`)) // hidden, not only flagged

	time.Sleep(700 * time.Millisecond) // packets in flight, the renegotiation
	a := s.inbound(teacher, "audio")
	time.Sleep(1500 * time.Millisecond)
	if b := s.inbound(teacher, "audio"); b.Packets > a.Packets+5 {
		t.Errorf("the teacher still receives the pupil's audio after take_floor: %+v → %+v", a, b)
	}

	// The teacher ends the lesson: the pupil's page says so.
	s.step(teacher, "teacher", "end the lesson",
		chromedp.Click(chromedp.ID("live-end")),
		browsertest.WaitText("#live-status", "Le cours est terminé"),
	)
	s.step(pupil, "pupil", "see the end", browsertest.WaitText("#live-status", "Le cours est terminé"))

	browsertest.NoJSErrors(t, teacher)
	browsertest.NoJSErrors(t, pupil)
}

// waitTrue waits until the JS expression is true.
func waitTrue(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tgt *chromedp.Target) (chromedp.Void, error) {
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, tgt)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("wait for %s: %w (last error %v)", expr, ctx.Err(), err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// TestBrowserLiveControls: the teacher starts 3e A's lesson with the waiting
// room; the CPE waits, is admitted and appears in the participant list and
// the roll call; the teacher locks the room (the pupil is refused), unlocks
// it, refuses the pupil from the waiting room, removes the CPE, ends the
// lesson, and finds it in the history with its CSV.
func TestBrowserLiveControls(t *testing.T) {
	s := newLiveSession(t)

	teacher := s.login("prof.demo")
	s.step(teacher, "teacher", "start 3e A's lesson with the waiting room",
		chromedp.Click(chromedp.Search(`//ul[@data-testid="live-start"]//form[contains(., "3e A")]//input[@name="waiting_room"]`)),
		chromedp.Click(chromedp.Search(`//ul[@data-testid="live-start"]//form[contains(., "3e A")]//button`)),
		browsertest.WaitText("#live-status", "Connecté"),
		browsertest.WaitText("#live-waiting", "Désactiver la salle d'attente"),
	)

	cpe := s.login("cpe.demo")
	cpeName := s.userName(cpe)
	s.join(cpe, "cpe")
	s.step(cpe, "cpe", "wait", browsertest.WaitText("#live-status", "Salle d'attente"))
	s.step(teacher, "teacher", "admit the CPE",
		browsertest.WaitText("#live-lobby", cpeName),
		browsertest.ClickXPath(`//ul[@id="live-lobby"]/li[contains(., "`+cpeName+`")]//button[normalize-space()="Admettre"]`),
		browsertest.WaitText("#live-people", cpeName),
		browsertest.WaitText("#live-attendance", cpeName),
	)
	s.step(cpe, "cpe", "enter", browsertest.WaitText("#live-status", "Connecté"))

	// Locked: the pupil is refused at the door.
	s.step(teacher, "teacher", "lock", chromedp.Click(chromedp.ID("live-lock")),
		browsertest.WaitText("#live-lock", "Déverrouiller la salle"))
	pupil := s.login("eleve.demo")
	pupilName := s.userName(pupil)
	s.join(pupil, "pupil")
	s.step(pupil, "pupil", "be refused", browsertest.WaitText("#live-status", "La salle est verrouillée"))

	// Unlocked: the pupil waits, the teacher refuses.
	s.step(teacher, "teacher", "unlock", chromedp.Click(chromedp.ID("live-lock")),
		browsertest.WaitText("#live-lock", "Verrouiller la salle"))
	s.step(pupil, "pupil", "come back and wait",
		chromedp.Navigate(s.base+"/direct"),
		chromedp.Click(chromedp.Search(`//ul[@data-testid="live-lessons"]//li[contains(., "3e A")]//a[contains(., "Rejoindre")]`)),
		browsertest.WaitText("#live-status", "Salle d'attente"))
	s.step(teacher, "teacher", "refuse the pupil",
		browsertest.WaitText("#live-lobby", pupilName),
		browsertest.ClickXPath(`//ul[@id="live-lobby"]/li[contains(., "`+pupilName+`")]//button[normalize-space()="Refuser"]`),
	)
	s.step(pupil, "pupil", "be refused", browsertest.WaitText("#live-status", "pas accepté votre entrée"))

	// Remove the CPE (the page asks for confirmation first).
	s.step(teacher, "teacher", "remove the CPE",
		waitTrue(`(window.confirm = () => true, true)`),
		browsertest.ClickXPath(`//ul[@id="live-people"]/li[contains(., "`+cpeName+`")]//button[normalize-space()="Retirer"]`),
		waitTrue(`!document.getElementById('live-people').textContent.includes(`+"`"+cpeName+"`"+`)`),
	)
	s.step(cpe, "cpe", "be removed", browsertest.WaitText("#live-status", "Vous avez été retiré"))

	// End, then the history and its CSV.
	s.step(teacher, "teacher", "end and open the history",
		chromedp.Click(chromedp.ID("live-end")),
		browsertest.WaitText("#live-status", "Le cours est terminé"),
		chromedp.Navigate(s.base+"/direct/historique"),
		browsertest.WaitText("[data-testid=live-history]", "3e A"),
	)
	type csvFile struct {
		BOM  bool   `json:"bom"`
		Text string `json:"text"`
	}
	f, err := chromedp.Run(teacher, chromedp.Evaluate[csvFile](`(async () => {
		const a = document.querySelector('[data-testid=live-history] a[download]');
		const b = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
		return {bom: b[0] === 0xEF && b[1] === 0xBB && b[2] === 0xBF, text: new TextDecoder().decode(b)};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || !f.BOM || !strings.Contains(f.Text, "Nom;Identifiant;Rôle;Première arrivée") ||
		!strings.Contains(f.Text, cpeName) || strings.Contains(f.Text, pupilName) {
		t.Fatalf("roll call CSV (BOM %v): %q %v", f.BOM, f.Text, err)
	}
	t.Logf("roll call:\n%s", f.Text)
	for _, ctx := range []context.Context{teacher, cpe, pupil} {
		browsertest.NoJSErrors(t, ctx)
	}
}

// TestBrowserDeviceCheck: on "Tester mon matériel" a parent's page finds the
// fake camera and microphone and reaches the SFU over the network.
func TestBrowserDeviceCheck(t *testing.T) {
	s := newLiveSession(t)
	parent := s.login("parent.demo")
	s.step(parent, "parent", "run the check",
		chromedp.Click(chromedp.Search(`//a[normalize-space()="Tester mon matériel"]`)),
		browsertest.WaitText("h1", "Tester mon matériel"),
		chromedp.Click(chromedp.ID("check-start")),
		browsertest.WaitText("#check-camera", "caméra OK"),
		browsertest.WaitText("#check-micro", "micro OK"),
		browsertest.WaitText("#check-network", "réseau OK"),
		browsertest.WaitText("#check-verdict", "Tout fonctionne"),
	)
	udp, _ := chromedp.Run(parent, chromedp.Text(chromedp.ID("check-udp")))
	tcp, _ := chromedp.Run(parent, chromedp.Text(chromedp.ID("check-tcp")))
	t.Logf("UDP: %s, TCP: %s", udp, tcp)
	if udp != "joignable" {
		t.Errorf("UDP %q, want joignable on loopback", udp)
	}
	browsertest.NoJSErrors(t, parent)
}
