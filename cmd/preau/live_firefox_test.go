package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// firefoxLive is what the pupil's live page in Firefox reports (see collect
// in TestFirefoxLive).
type firefoxLive struct {
	Status    string  `json:"status"`
	Floor     string  `json:"floor"`
	Quality   string  `json:"quality"`
	User      string  `json:"user"`
	UA        string  `json:"ua"`
	Video     inbound `json:"video"`
	Encodings []struct {
		RID        string  `json:"rid"`
		Scale      float64 `json:"scale"`
		MaxBitrate int64   `json:"maxBitrate"`
	} `json:"encodings"`
	Outbound []struct {
		RID    string `json:"rid"`
		Bytes  int64  `json:"bytes"`
		Frames int64  `json:"frames"`
		Width  int    `json:"width"`
	} `json:"outbound"`
	Layers string `json:"layers"`
	Tiles  []struct {
		Track   string  `json:"track"`
		Source  string  `json:"source"`
		Caption string  `json:"caption"`
		Width   int     `json:"width"`
		Time    float64 `json:"time"`
	} `json:"tiles"`
}

func decodeFirefox(t *testing.T, r browsertest.FirefoxReport) firefoxLive {
	t.Helper()
	var v firefoxLive
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &v); err != nil {
			t.Fatalf("firefox report %s: %v", r.Data, err)
		}
	}
	return v
}

// TestFirefoxLive: the live page works in Firefox (ESR, headless, fake
// camera and microphone). The demo teacher publishes the camera from
// Chromium; the pupil opens the lesson in Firefox, signed in through the
// test's proxy (browsertest.OpenFirefox): its page decodes the teacher's
// video (getStats framesDecoded grows, the <video> plays, the tile is named
// after the teacher, so the track was matched to its announcement); made
// small, the tile asks for the low layer and goes on playing (smaller when
// it was on a higher layer). The pupil raises a hand (a click made by the
// probe), the teacher gives the floor with video: Firefox publishes its
// camera and microphone through the page's simulcast path (setParameters on
// the three layers Firefox negotiated) and the teacher's Chromium decodes
// the pupil's video. No error, uncaught exception or live.js warning in
// Firefox, no JS error in the teacher's page.
func TestFirefoxLive(t *testing.T) {
	browsertest.FirefoxPath(t) // skip (or fail in CI) before starting anything
	start := time.Now()
	s := newLiveSession(t)
	teacher := s.login("prof.demo")
	s.step(teacher, "teacher", "start 3e A's lesson and publish the camera",
		chromedp.Click(chromedp.Search(`//ul[@data-testid="live-start"]//form[contains(., "3e A")]//button`)),
		browsertest.WaitText("h1", "3e A"),
		browsertest.WaitText("#live-status", "Connecté"),
		chromedp.Click(chromedp.ID("live-camera")),
		browsertest.WaitText("#live-camera", "Couper la caméra"),
	)
	loc, err := chromedp.Run(teacher, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(u.Path, "/direct/cours-") {
		t.Fatalf("teacher's page at %q", loc)
	}
	teacherName := s.userName(teacher)

	client := demoClient(t, s.base, "eleve.demo")
	baseURL, _ := url.Parse(s.base)
	ff := browsertest.OpenFirefox(t, s.base, client.Jar.Cookies(baseURL), u.Path, `
		const text = (id) => (document.getElementById(id)?.textContent || '').trim();
		const live = window.preauLive;
		const tiles = [...document.querySelectorAll('#live-videos figure[data-track]')].map((f) => {
			const v = f.querySelector('video');
			return { track: f.dataset.track, source: f.dataset.source || '', caption: f.querySelector('figcaption')?.textContent || '',
				width: v ? v.videoWidth : 0, time: v ? v.currentTime : 0 };
		});
		return {
			status: text('live-status'), floor: document.getElementById('live-floor')?.hidden ? '' : text('live-floor'),
			quality: text('live-quality'), user: (document.querySelector('[data-testid=user-name]')?.textContent || '').trim(),
			ua: navigator.userAgent, video: live ? await live.inbound('video') : {},
			encodings: live ? live.encodings('camera') : [], tiles,
			outbound: live ? await live.outbound('video') : [], layers: live?.cameraLayers ? live.cameraLayers() : '',
		};`)

	// The pupil's Firefox receives and decodes the teacher's camera.
	var first firefoxLive
	rep := ff.Wait("decoded video from the teacher", 30*time.Second, func(r browsertest.FirefoxReport) bool {
		v := decodeFirefox(t, r)
		if v.Video.Frames == 0 {
			return false
		}
		if first.Video.Frames == 0 {
			first = v
		}
		return v.Video.Frames >= first.Video.Frames+20
	})
	got := decodeFirefox(t, rep)
	if !strings.Contains(got.UA, "Firefox") {
		t.Fatalf("the page runs in %q, not Firefox", got.UA)
	}
	t.Logf("firefox: %s; frames decoded %d → %d; status %q", got.UA, first.Video.Frames, got.Video.Frames, got.Status)
	rep = ff.Wait("the teacher's camera tile playing", 15*time.Second, func(r browsertest.FirefoxReport) bool {
		for _, tile := range decodeFirefox(t, r).Tiles {
			if tile.Source == "camera" && tile.Width > 0 && tile.Time > 0.5 && strings.Contains(tile.Caption, teacherName) {
				return true
			}
		}
		return false
	})
	ff.Wait("the connection quality", 10*time.Second, func(r browsertest.FirefoxReport) bool {
		return strings.Contains(decodeFirefox(t, r).Quality, "Connexion : bonne")
	})

	// A small tile asks for the low layer (the page's ResizeObserver sends
	// "layer"): the server switches Firefox to the teacher's lowest
	// simulcast layer, and the video goes on playing.
	full := 0
	for _, tile := range decodeFirefox(t, rep).Tiles {
		if tile.Source == "camera" {
			full = tile.Width
		}
	}
	ff.SetWidth("#live-videos figure.live-camera[data-track] video", 200)
	var resized firefoxLive
	ff.Wait("the video going on after the tile shrank", 20*time.Second, func(r browsertest.FirefoxReport) bool {
		v := decodeFirefox(t, r)
		for _, tile := range v.Tiles {
			if tile.Source != "camera" || tile.Width == 0 {
				continue
			}
			if resized.Video.Frames == 0 {
				resized = v
				return false
			}
			// From a higher layer, the picture must get smaller; already
			// on the lowest one (the publisher may send only it while its
			// bandwidth estimate is low), it must keep playing.
			return (full <= 160 || tile.Width < full) && v.Video.Frames >= resized.Video.Frames+20
		}
		return false
	})
	width := 0
	for _, tile := range decodeFirefox(t, ff.Last()).Tiles {
		if tile.Source == "camera" {
			width = tile.Width
		}
	}
	t.Logf("firefox: the teacher's camera tile shrank: its picture went from %d to %d px wide", full, width)

	// Raise a hand in Firefox; the teacher gives the floor with video.
	pupilName := decodeFirefox(t, rep).User
	ff.Click("#live-hand")
	before := s.inbound(teacher, "video")
	s.step(teacher, "teacher", "give the floor with video from the queue",
		browsertest.WaitText("#live-hands li", pupilName),
		browsertest.ClickXPath(`//ol[@id="live-hands"]/li[contains(., "`+pupilName+`")]//button[normalize-space()="Avec vidéo"]`),
	)
	rep = ff.Wait("the floor and the camera's layers", 20*time.Second, func(r browsertest.FirefoxReport) bool {
		v := decodeFirefox(t, r)
		// The page sizes the layers (setParameters) a moment after the
		// sender exists: wait for it, a loaded machine is slow to get there.
		sized := len(v.Encodings) > 0
		for _, e := range v.Encodings {
			sized = sized && e.MaxBitrate > 0
		}
		return strings.Contains(v.Floor, "Vous avez la parole") && sized
	})
	got = decodeFirefox(t, rep)
	t.Logf("firefox sends the camera as %+v", got.Encodings)
	// Firefox answered the slot's simulcast offer with three RIDs (the RID
	// header extensions were offered: sfu/ridext.go) and the page sized them.
	if len(got.Encodings) != 3 {
		t.Errorf("firefox sends the camera as %d encodings, want the three simulcast layers", len(got.Encodings))
	}
	for _, e := range got.Encodings {
		want := map[string]float64{"q": 4, "h": 2, "f": 1}[e.RID]
		if want == 0 || e.Scale != want || e.MaxBitrate == 0 {
			t.Errorf("layer %+v not sized by the page", e)
		}
	}
	// Packets first, then frames: the first keyframe may still be in
	// flight (or repaired by NACK) when the packets start growing.
	after := s.waitGrowing(teacher, "teacher", "video", 10, 20*time.Second)
	for deadline := time.Now().Add(20 * time.Second); after.Frames <= before.Frames && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		after = s.inbound(teacher, "video")
	}
	if after.Frames <= before.Frames {
		t.Errorf("the teacher decodes no frame of the pupil's camera within 20 s: %+v then %+v", before, after)
	}
	got = decodeFirefox(t, ff.Last())
	t.Logf("firefox sends %+v (layers %q); the teacher received %+v", got.Outbound, got.Layers, after)

	if errs := ff.Last().Errors; len(errs) > 0 {
		t.Errorf("errors in Firefox:\n%s", strings.Join(errs, "\n"))
	}
	browsertest.NoJSErrors(t, teacher)
	t.Logf("TestFirefoxLive took %v", time.Since(start).Round(time.Millisecond))
}

// TestFirefoxDeviceCheck: "Tester mon matériel" in Firefox: a parent's page
// finds the fake camera, opens the microphone, reaches the SFU over UDP
// (and says what it found over TCP) and gives a verdict; no error in the
// page.
func TestFirefoxDeviceCheck(t *testing.T) {
	browsertest.FirefoxPath(t)
	base, _ := startServe(t, "--demo", "--data", t.TempDir())
	client := demoClient(t, base, "parent.demo")
	baseURL, _ := url.Parse(base)
	ff := browsertest.OpenFirefox(t, base, client.Jar.Cookies(baseURL), "/direct/test", `
		const text = (id) => (document.getElementById(id)?.textContent || '').trim();
		return { camera: text('check-camera'), micro: text('check-micro'), network: text('check-network'),
			udp: text('check-udp'), tcp: text('check-tcp'), verdict: text('check-verdict'), ua: navigator.userAgent };`)
	type check struct {
		Camera, Micro, Network, UDP, TCP, Verdict, UA string
	}
	decode := func(r browsertest.FirefoxReport) check {
		var c check
		json.Unmarshal(r.Data, &c)
		return c
	}
	ff.Wait("the page", 30*time.Second, func(r browsertest.FirefoxReport) bool { return decode(r).UA != "" })
	ff.Click("#check-start")
	// The microphone opens, but headless Firefox starts no AudioContext
	// here (it stays "suspended": no sound output), so its level meter
	// hears nothing: only that the check went past it is required.
	r := ff.Wait("the verdict", 30*time.Second, func(r browsertest.FirefoxReport) bool {
		c := decode(r)
		return strings.Contains(c.Camera, "caméra OK") && strings.Contains(c.Micro, "micro") && !strings.Contains(c.Micro, "parlez") &&
			!strings.Contains(c.Micro, "refusé") && strings.Contains(c.Network, "réseau OK") && c.Verdict != "" && !strings.Contains(c.Verdict, "en cours")
	})
	c := decode(r)
	t.Logf("firefox: %s; %s; UDP %s, TCP %s; %s", c.Camera, c.Micro, c.UDP, c.TCP, c.Verdict)
	if c.UDP != "joignable" {
		t.Errorf("UDP %q, want joignable on loopback", c.UDP)
	}
	if errs := ff.Last().Errors; len(errs) > 0 {
		t.Errorf("errors in Firefox:\n%s", strings.Join(errs, "\n"))
	}
}
