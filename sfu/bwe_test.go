package sfu

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

func TestBWEFit(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cam := [numLayers]float64{100e3, 400e3, 1200e3}
	long := time.Hour
	for _, tc := range []struct {
		name             string
		wants, caps      []int
		est              float64
		state            bweState // times are before t0
		wantCaps         []int
		wantChange, prob bool
	}{
		{"fits, no cap", []int{2}, []int{2}, 2e6, bweState{}, []int{2}, false, false},
		{"over: one step down", []int{2}, []int{2}, 1e6, bweState{}, []int{1}, true, false},
		{"far over: down to the lowest", []int{2}, []int{2}, 50e3, bweState{}, []int{0}, true, false},
		{"two cameras: the highest goes down first", []int{2, 1}, []int{2, 2}, 1.2e6, bweState{}, []int{1, 2}, true, false},
		{"a wish below the cap costs its own layer", []int{0}, []int{2}, 150e3, bweState{}, []int{2}, false, false},
		{"room to go up", []int{2}, []int{0}, 1e6, bweState{}, []int{1}, true, false},
		{"one step at a time", []int{2}, []int{0}, 10e6, bweState{}, []int{1}, true, false},
		{"not above the wish", []int{1}, []int{1}, 10e6, bweState{}, []int{1}, false, false},
		{"the lowest rises first", []int{2, 2}, []int{1, 0}, 10e6, bweState{}, []int{1, 1}, true, false},
		{"too soon after a step down", []int{2}, []int{0}, 10e6, bweState{lastDown: t0.Add(-time.Second)}, []int{0}, false, false},
		{"too soon after a step up", []int{2}, []int{0}, 10e6, bweState{lastUp: t0.Add(-time.Second)}, []int{0}, false, false},
		{"no headroom, estimate calm: probe", []int{2}, []int{0}, 420e3, bweState{est: 420e3}, []int{1}, true, true},
		{"no headroom, estimate fell lately: wait", []int{2}, []int{0}, 420e3,
			bweState{est: 420e3, fell: t0.Add(-2 * time.Second), lastDown: t0.Add(-long)}, []int{0}, false, false},
		{"the estimate falls: down", []int{2}, []int{2}, 1e6, bweState{est: 2e6}, []int{1}, true, false},
		{"probe on trial: no step down", []int{2}, []int{1}, 300e3,
			bweState{est: 300e3, probing: true, lastUp: t0.Add(-time.Second)}, []int{1}, false, true},
		{"probe on trial, the estimate falls: down", []int{2}, []int{1}, 250e3,
			bweState{est: 300e3, probing: true, lastUp: t0.Add(-time.Second)}, []int{0}, true, false},
		{"probe held: the link carries it", []int{1}, []int{1}, 300e3,
			bweState{est: 300e3, probing: true, lastUp: t0.Add(-bweProveAfter)}, []int{1}, false, false},
	} {
		items := make([]bweItem, len(tc.wants))
		for i := range items {
			items[i] = bweItem{want: tc.wants[i], cap: tc.caps[i], cost: cam}
		}
		s := tc.state
		if s.lastUp.IsZero() {
			s.lastUp = t0.Add(-long)
		}
		if s.lastDown.IsZero() {
			s.lastDown = t0.Add(-long)
		}
		if s.fell.IsZero() {
			s.fell = t0.Add(-long)
		}
		changed := s.fit(items, tc.est, 0, t0)
		var caps []int
		for _, it := range items {
			caps = append(caps, it.cap)
		}
		if changed != tc.wantChange || s.probing != tc.prob || fmt.Sprint(caps) != fmt.Sprint(tc.wantCaps) {
			t.Errorf("%s: caps %v changed %v probing %v, want %v %v %v", tc.name, caps, changed, s.probing,
				tc.wantCaps, tc.wantChange, tc.prob)
		}
		if tc.name == "probe held: the link carries it" && s.carried != cam[1] {
			t.Errorf("%s: carried %v, want %v", tc.name, s.carried, cam[1])
		}
	}
}

// shapedConn is a UDP socket whose incoming packets cross a link of limited
// rate: a queue drained at rate bit/s that drops what would wait more than
// maxQueue (a home connection's downlink). rate 0: no limit.
type shapedConn struct {
	net.PacketConn
	rate atomic.Int64
	in   chan shapedPacket
	mux  *ice.UDPMuxDefault // the subscriber's ICE socket, over this one
}

type shapedPacket struct {
	b    []byte
	from net.Addr
	at   time.Time // when it leaves the link
}

const maxQueue = 400 * time.Millisecond

func newShapedConn(t *testing.T) *shapedConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &shapedConn{PacketConn: c, in: make(chan shapedPacket, 4096)}
	go s.pump()
	return s
}

func (s *shapedConn) pump() {
	defer close(s.in)
	var free time.Time // when the link has sent what it holds
	for {
		buf := make([]byte, 1500)
		n, from, err := s.PacketConn.ReadFrom(buf)
		if err != nil {
			return
		}
		now := time.Now()
		at := now
		if r := s.rate.Load(); r > 0 {
			if free.Before(now) {
				free = now
			}
			if free.Sub(now) > maxQueue {
				continue // tail drop
			}
			free = free.Add(time.Duration(n*8) * time.Second / time.Duration(r))
			at = free
		}
		select {
		case s.in <- shapedPacket{buf[:n], from, at}:
		default:
		}
	}
}

func (s *shapedConn) ReadFrom(p []byte) (int, net.Addr, error) {
	pkt, ok := <-s.in
	if !ok {
		return 0, nil, net.ErrClosed
	}
	time.Sleep(time.Until(pkt.at))
	return copy(p, pkt.b), pkt.from, nil
}

// dialShaped is a subscriber, as a browser, that sends transport-cc
// feedback (every 100 ms, on the arrival times it sees) and receives
// through a shapedConn.
func dialShaped(t *testing.T, ts *testServer, name, room string) (*recorder, *shapedConn) {
	t.Helper()
	sc := newShapedConn(t)
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: sc})
	sc.mux = mux
	t.Cleanup(func() { mux.Close() })
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureTWCCSender(me, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(loopbackOnly)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICEUDPMux(mux)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	c := ts.dialWith(t, api, webrtc.Configuration{}, name, room, ts.grant(t, room, name, RoleParticipant, false, false))
	return record(c), sc
}

// downOf returns user's down track of the simulcast track id.
func (ts *testServer) downOf(room, user, id string) *downTrack {
	r := ts.m.Room(room)
	if r == nil {
		return nil
	}
	r.mu.Lock()
	p := r.participants[user]
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.downs[id]
}

// waitLayerAtLeast waits until the last n packets all come from layer or
// a higher one, within d.
func (r *recorder) waitLayerAtLeast(t *testing.T, layer byte, n int, d time.Duration) byte {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		r.rmu.Lock()
		ok := len(r.pkts) >= n
		for i := len(r.pkts) - 1; ok && i >= len(r.pkts)-n; i-- {
			ok = strings.IndexByte("qhf", r.pkts[i].layer) >= strings.IndexByte("qhf", layer)
		}
		var last byte
		if len(r.pkts) > 0 {
			last = r.pkts[len(r.pkts)-1].layer
		}
		r.rmu.Unlock()
		if ok {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not on layer %c or above within %v (last %c)", r.name, layer, d, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBandwidthEstimateLayers: a subscriber whose downlink is cut to
// 250 kbit/s is moved to the lowest layer by its bandwidth estimate (GCC
// on its transport-cc feedback), and climbs back when the link is freed.
func TestBandwidthEstimateLayers(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := newTestServer(t)
	const room = "cours-bwe"
	if _, err := ts.m.CreateRoom(room, KindLesson); err != nil {
		t.Fatal(err)
	}
	// Layers of ≈ 100 kbit/s, 350 kbit/s and 1 Mbit/s (50 frames/s).
	pub := dialSimPublisher(t, ts, "prof", room, ts.grant(t, room, "prof", RoleModerator, true, true),
		func(p *simPublisher) {
			p.frames[0].n, p.frames[0].size = 1, 200
			p.frames[1].n, p.frames[1].size = 2, 400
			p.frames[2].n, p.frames[2].size = 3, 800
		})
	sub, link := dialShaped(t, ts, "eleve1", room)
	id := sub.mustEvent(10*time.Second, "camera track", func(e Event) bool {
		return e.Type == TypeTrackAdded && e.Track.Source == SourceCamera
	}).Track.ID
	sub.waitLayer(t, 'f', 50)
	var d *downTrack
	for deadline := time.Now().Add(5 * time.Second); d == nil || !ts.hasTWCC(room, "eleve1"); {
		if time.Now().After(deadline) {
			t.Fatal("no transport-cc feedback from the subscriber")
		}
		time.Sleep(50 * time.Millisecond)
		d = ts.downOf(room, "eleve1", id)
	}
	est := ts.estimate(room, "eleve1")
	t.Logf("free link: layer f, estimate %d kbit/s, rates q/h/f %d/%d/%d kbit/s", est/1000,
		d.t.rates[0].Load()/1000, d.t.rates[1].Load()/1000, d.t.rates[2].Load()/1000)

	link.rate.Store(250_000)
	start := time.Now()
	sub.waitLayer(t, 'q', 50)
	if c := d.bweCap.Load(); c != 0 {
		t.Fatalf("on q with the bandwidth cap at %d (loss cap %d): the estimate did not act", c, d.lossCap.Load())
	}
	t.Logf("250 kbit/s: layer q after %v, estimate %d kbit/s, loss cap %d", time.Since(start).Round(time.Millisecond),
		ts.estimate(room, "eleve1")/1000, d.lossCap.Load())

	link.rate.Store(0)
	start = time.Now()
	got := sub.waitLayerAtLeast(t, 'h', 50, 40*time.Second)
	t.Logf("link freed: layer %c after %v, estimate %d kbit/s, caps bwe %d loss %d", got,
		time.Since(start).Round(time.Millisecond), ts.estimate(room, "eleve1")/1000, d.bweCap.Load(), d.lossCap.Load())
	// The link drops packets, so only the SSRC and the switches are checked.
	pkts := sub.since(0)
	switches := 0
	for i := 1; i < len(pkts); i++ {
		if pkts[i].ssrc != pkts[0].ssrc {
			t.Fatalf("SSRC changed at packet %d", i)
		}
		if pkts[i].layer != pkts[i-1].layer {
			switches++
		}
	}
	if switches < 2 {
		t.Fatalf("%d layer switches, want ≥ 2 (down and up)", switches)
	}
	t.Logf("PLIs at the publisher by layer: q=%d h=%d f=%d", pub.plis[0].Load(), pub.plis[1].Load(), pub.plis[2].Load())

	sub.close()
	link.mux.Close()
	pub.stop()
	pub.ws.CloseNow()
	pub.pc.Close()
	pub.wg.Wait()
	ts.m.Close()
	ts.srv.Close()
	checkLeaks(t, before)
}

func (ts *testServer) participant(room, user string) *Participant {
	r := ts.m.Room(room)
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.participants[user]
}

func (ts *testServer) hasTWCC(room, user string) bool {
	p := ts.participant(room, user)
	return p != nil && p.bwe != nil && p.twcc.Load()
}

func (ts *testServer) estimate(room, user string) int {
	if p := ts.participant(room, user); p != nil && p.bwe != nil {
		return p.bwe.GetTargetBitrate()
	}
	return 0
}
