//go:build linux

package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
)

// TestBrowserLiveFailover (issue 8, fault test 5, with real pages): two
// nodes behind a load balancer, as operators run them; the teacher starts
// 3e A's lesson and turns the camera on, the pupil joins and decodes it,
// both in Chromium through the balancer. The node that runs the room is
// killed (SIGKILL); the balancer sends the pages to the other node. Without
// a reload, both pages reconnect with the grant they hold (live.js), the
// room is re-created there under the same id, the teacher's camera is
// published again and the pupil decodes it again, within 10 s of the kill.
func TestBrowserLiveFailover(t *testing.T) {
	cl := startCluster(t)
	cl.registry(t, t.Context()) // both nodes beat
	lb := newTestBalancer(t, cl.a.url, cl.b.url)

	b := browsertest.New(t)
	b.Timeout = 3 * time.Minute
	s := &liveSession{t: t, b: b, base: lb.URL}
	teacher := s.login("prof.demo")
	s.step(teacher, "teacher", "start 3e A's lesson and turn the camera on",
		chromedp.Click(chromedp.Search(`//ul[@data-testid="live-start"]//form[contains(., "3e A")]//button`)),
		browsertest.WaitText("h1", "3e A"),
		browsertest.WaitText("#live-status", "Connecté"),
		chromedp.Click(chromedp.ID("live-camera")),
		browsertest.WaitText("#live-camera", "Couper la caméra"),
	)
	pupil := s.login("eleve.demo")
	s.join(pupil, "pupil")
	s.step(pupil, "pupil", "connect", browsertest.WaitText("#live-status", "Connecté"))
	s.waitVideo(pupil, "pupil", "#live-videos .live-camera video")
	room, err := chromedp.Run(pupil, chromedp.Evaluate[string](`document.getElementById('live').dataset.room`))
	if err != nil || room == "" {
		t.Fatalf("the lesson's room: %q, %v", room, err)
	}

	owner := cl.a
	if liveRooms(t, cl.b) == 1 {
		owner = cl.b
	}
	owner.kill(t)
	killed := time.Now()
	// Back: connected again, and the teacher's camera decoding again.
	s.step(pupil, "pupil", "see the connection lost", waitTrue(`!document.getElementById('live').dataset.connected`))
	s.step(pupil, "pupil", "reconnect", browsertest.WaitText("#live-status", "Connecté"))
	s.step(teacher, "teacher", "reconnect", browsertest.WaitText("#live-status", "Connecté"))
	s.waitGrowing(pupil, "pupil", "video", 10, 20*time.Second)
	back := time.Since(killed)
	if back > liveBackWithin {
		t.Errorf("the pupil decodes the teacher's camera again %v after the kill, want ≤ %v", back.Round(time.Millisecond), liveBackWithin)
	}
	again, err := chromedp.Run(pupil, chromedp.Evaluate[string](`document.getElementById('live').dataset.room`))
	if err != nil || again != room {
		t.Errorf("the room after the failover: %q (%v), want the same %q", again, err, room)
	}
	t.Logf("live lesson failover in Chromium: the pupil decodes the teacher's camera again %v after kill -9 of node %s",
		back.Round(time.Millisecond), owner.name)
	// The only errors: the signaling sockets refused while the room's node
	// was dead (503 from the survivor, which forwarded them there until the
	// registry's TTL; 502 from the balancer).
	for who, ctx := range map[string]context.Context{"teacher": teacher, "pupil": pupil} {
		for _, m := range browsertest.JSErrors(ctx) {
			if !strings.Contains(m.Text, "/live/ws?room=") || !(strings.Contains(m.Text, "503") || strings.Contains(m.Text, "502")) {
				t.Errorf("%s's page: %s", who, m.Text)
			}
		}
	}
}

// newTestBalancer is a load balancer for the nodes at urls, as operators
// put in front of them: each request goes to the first node that accepts a
// connection, with the browser's Host kept (the WebSocket's Origin check)
// and WebSocket upgrades passed through.
func newTestBalancer(t *testing.T, urls ...string) *httptest.Server {
	t.Helper()
	targets := make([]*url.URL, len(urls))
	for i, u := range urls {
		var err error
		if targets[i], err = url.Parse(u); err != nil {
			t.Fatal(err)
		}
	}
	alive := func() *url.URL {
		for _, u := range targets {
			if c, err := net.DialTimeout("tcp", u.Host, 200*time.Millisecond); err == nil {
				c.Close()
				return u
			}
		}
		return targets[0]
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(alive())
			pr.Out.Host = pr.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
	}
	lb := httptest.NewServer(p)
	t.Cleanup(lb.Close)
	return lb
}
