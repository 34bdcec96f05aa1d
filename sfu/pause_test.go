package sfu

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// onLayers records a "layers" event and, with honorLayers, stops or
// resumes the layers as live.js does with encodings[i].active.
func (p *simPublisher) onLayers(e Event) {
	if e.Track == nil || e.Track.Source != SourceCamera || len(e.Active) == 0 {
		p.t.Errorf("layers event without a camera track or layers: %+v", e)
		return
	}
	p.lmu.Lock()
	p.layerEvents = append(p.layerEvents, layerEvent{at: time.Now(), active: strings.Join(e.Active, "")})
	p.lmu.Unlock()
	if p.honorLayers {
		for i, rid := range simulcastRIDs {
			p.paused[i].Store(!slices.Contains(e.Active, rid))
		}
	}
}

// waitLayers waits for a "layers" event after the first n saying active
// (e.g. "qh"), and returns it and the number of events so far.
func (p *simPublisher) waitLayers(t *testing.T, n int, active string, d time.Duration) (layerEvent, int) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		p.lmu.Lock()
		evs := slices.Clone(p.layerEvents)
		p.lmu.Unlock()
		for i := n; i < len(evs); i++ {
			if evs[i].active == active {
				return evs[i], i + 1
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("publisher: no layers %q within %v; got %+v", active, d, evs[n:])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLayerPause: the publisher is told to send only the layers some
// subscriber wants (the lowest always), a layer unwanted for pauseAfter is
// paused, a layer wanted again is resumed at once and the subscriber that
// wants it gets it from a keyframe.
func TestLayerPause(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := newTestServer(t)
	const room = "cours-pause"
	if _, err := ts.m.CreateRoom(room, KindLesson); err != nil {
		t.Fatal(err)
	}
	pub := dialSimPublisher(t, ts, "prof", room, ts.grant(t, room, "prof", RoleModerator, true, true),
		func(p *simPublisher) { p.honorLayers = true })
	a := dialRecorder(t, ts, "eleve1", room)
	b := dialRecorder(t, ts, "eleve2", room)
	id := a.mustEvent(10*time.Second, "camera track", func(e Event) bool {
		return e.Type == TypeTrackAdded && e.Track.Source == SourceCamera
	}).Track.ID
	b.mustEvent(10*time.Second, "camera track", func(e Event) bool { return e.Type == TypeTrackAdded && e.Track.ID == id })
	a.waitLayer(t, 'f', 10)
	b.waitLayer(t, 'f', 10)

	// Both on the high layer: nobody wants h.
	_, n := pub.waitLayers(t, 0, "qf", 10*time.Second)

	// Both on low: f is paused, pauseAfter after the last one left it.
	a.sendMsg(Message{V: 1, Type: TypeLayer, Track: id, Quality: QualityLow})
	b.sendMsg(Message{V: 1, Type: TypeLayer, Track: id, Quality: QualityLow})
	asked := time.Now()
	a.waitLayer(t, 'q', 10)
	b.waitLayer(t, 'q', 10)
	ev, n := pub.waitLayers(t, n, "q", 10*time.Second)
	if waited := ev.at.Sub(asked); waited < pauseAfter-100*time.Millisecond {
		t.Fatalf("f paused %v after nobody wanted it, want ≥ %v", waited, pauseAfter)
	}
	for deadline := time.Now().Add(5 * time.Second); ts.layerActive(room, id, 2) || ts.layerActive(room, id, 1); {
		if time.Now().After(deadline) {
			t.Fatal("a paused layer is still active at the server")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// eleve1 enlarges its tile: h resumes at once and eleve1 gets it,
	// from a keyframe the server asked for.
	plis := pub.plis[1].Load()
	a.sendMsg(Message{V: 1, Type: TypeLayer, Track: id, Quality: QualityMedium})
	_, n = pub.waitLayers(t, n, "qh", 5*time.Second)
	a.waitLayer(t, 'h', 10)
	b.waitLayer(t, 'q', 10)
	if pub.plis[1].Load() == plis {
		t.Fatal("no keyframe request for the resumed layer")
	}

	// eleve2 wants high: f resumes too.
	b.sendMsg(Message{V: 1, Type: TypeLayer, Track: id, Quality: QualityHigh})
	_, n = pub.waitLayers(t, n, "qhf", 5*time.Second)
	b.waitLayer(t, 'f', 10)
	a.checkContinuous(t, 2)
	b.checkContinuous(t, 2)

	// eleve2 leaves: f is paused again; then eleve1: only q is left.
	b.close()
	_, n = pub.waitLayers(t, n, "qh", 10*time.Second)
	a.close()
	pub.waitLayers(t, n, "q", 10*time.Second)

	pub.stop()
	pub.ws.CloseNow()
	pub.pc.Close()
	pub.wg.Wait()
	ts.m.Close()
	ts.srv.Close()
	checkLeaks(t, before)
}

// layerActive reports whether the server receives layer l of the track.
func (ts *testServer) layerActive(room, id string, l int) bool {
	r := ts.m.Room(room)
	if r == nil {
		return false
	}
	r.mu.Lock()
	tr := r.tracks[id]
	r.mu.Unlock()
	return tr != nil && tr.active[l].Load()
}
