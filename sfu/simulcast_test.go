package sfu

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-json-experiment/json"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func TestVP8Keyframe(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []byte
		want bool
	}{
		{"key, no extension", []byte{0x10, 0x00}, true},
		{"inter frame", []byte{0x10, 0x01}, false},
		{"not the start", []byte{0x00, 0x00}, false},
		{"second partition", []byte{0x11, 0x00}, false},
		{"key, 15-bit picture id", []byte{0x90, 0x80, 0x81, 0x02, 0x00}, true},
		{"inter, 7-bit picture id, tl0, tid", []byte{0x90, 0xe0, 0x05, 0x01, 0x20, 0x01}, false},
		{"key, 7-bit picture id, tl0, tid", []byte{0x90, 0xe0, 0x05, 0x01, 0x20, 0x00}, true},
		{"truncated", []byte{0x90, 0x80}, false},
		{"empty", nil, false},
	} {
		if got := isVP8Keyframe(tc.p); got != tc.want {
			t.Errorf("%s: isVP8Keyframe(% x) = %v, want %v", tc.name, tc.p, got, tc.want)
		}
	}
}

func TestH264Keyframe(t *testing.T) {
	for _, tc := range []struct {
		p    []byte
		want bool
	}{
		{[]byte{0x65, 0x88}, true},                         // IDR
		{[]byte{0x41, 0x9a}, false},                        // non-IDR slice
		{[]byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00}, true}, // STAP-A with SPS
		{[]byte{0x7c, 0x85, 0x00}, true},                   // FU-A start of IDR
		{[]byte{0x7c, 0x05, 0x00}, false},                  // FU-A middle
	} {
		if got := isH264Keyframe(tc.p); got != tc.want {
			t.Errorf("isH264Keyframe(% x) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

// FuzzKeyframe: the keyframe detectors read untrusted payloads.
func FuzzKeyframe(f *testing.F) {
	for _, seed := range [][]byte{{0x10, 0x00}, {0x90, 0xe0, 0x05, 0x01, 0x20, 0x00}, {0x78, 0x00, 0x02, 0x67, 0x42}, {0x7c, 0x85}, {0x78, 0xff, 0xff}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		isVP8Keyframe(p)
		isH264Keyframe(p)
	})
}

// TestSimulcastSwitch: the teacher's camera sends three layers (RIDs q, h,
// f); each pupil receives one stream from the layer it asked for, and a
// layer switch keeps the SSRC, the sequence numbers contiguous and starts
// on a keyframe of the new layer.
func TestSimulcastSwitch(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("cours-simulcast", KindLesson); err != nil {
		t.Fatal(err)
	}
	pub := dialSimPublisher(t, ts, "prof", "cours-simulcast", ts.grant(t, "cours-simulcast", "prof", RoleModerator, true, true))
	a := dialRecorder(t, ts, "eleve1", "cours-simulcast")
	b := dialRecorder(t, ts, "eleve2", "cours-simulcast")
	added := a.mustEvent(10*time.Second, "camera track", func(e Event) bool {
		return e.Type == TypeTrackAdded && e.Track.Source == SourceCamera
	})
	if !added.Track.Simulcast {
		t.Fatalf("track %+v not marked simulcast", added.Track)
	}
	id := added.Track.ID
	b.mustEvent(10*time.Second, "camera track", func(e Event) bool { return e.Type == TypeTrackAdded && e.Track.ID == id })

	// Default: the highest layer.
	a.waitLayer(t, 'f', 10)
	b.waitLayer(t, 'f', 10)

	a.sendMsg(Message{V: 1, Type: TypeLayer, Track: id, Quality: QualityLow})
	a.waitLayer(t, 'q', 20)
	b.waitLayer(t, 'f', 20) // b is unchanged
	a.sendMsg(Message{V: 1, Type: TypeLayer, Track: id, Quality: QualityHigh})
	a.waitLayer(t, 'f', 20)
	b.sendMsg(Message{V: 1, Type: TypeLayer, Track: id, Quality: QualityMedium})
	b.waitLayer(t, 'h', 20)

	// At the same time, each its own layer.
	na, nb := a.count(), b.count()
	a.waitCount(t, na+20)
	b.waitCount(t, nb+20)
	for _, p := range a.since(na) {
		if p.layer != 'f' {
			t.Fatalf("eleve1 got layer %c after the switch to high", p.layer)
		}
	}
	for _, p := range b.since(nb) {
		if p.layer != 'h' {
			t.Fatalf("eleve2 got layer %c after the switch to medium", p.layer)
		}
	}

	// The publisher stops sending f: eleve1 moves to h, the nearest layer,
	// after layerTimeout, and back to f when it resumes.
	pub.paused[2].Store(true)
	a.waitLayer(t, 'h', 20)
	pub.paused[2].Store(false)
	a.waitLayer(t, 'f', 20)

	a.checkContinuous(t, 4)
	b.checkContinuous(t, 1)
	t.Logf("PLIs at the publisher by layer: q=%d h=%d f=%d", pub.plis[0].Load(), pub.plis[1].Load(), pub.plis[2].Load())
	// Unknown track: an error, the connection stays.
	a.sendMsg(Message{V: 1, Type: TypeLayer, Track: "t0", Quality: QualityLow})
	a.mustEvent(2*time.Second, "not_found", isError("not_found"))
}

// recorder is a subscriber whose received RTP packets are kept.
type recorder struct {
	*testClient
	rmu  sync.Mutex
	pkts []gotPacket
}

type gotPacket struct {
	ssrc  uint32
	seq   uint16
	ts    uint32
	layer byte // the publisher's mark of the layer
	key   bool
}

func dialRecorder(t *testing.T, ts *testServer, name, room string) *recorder {
	t.Helper()
	return record(ts.dialWith(t, recorderAPI, webrtc.Configuration{}, name, room,
		ts.grant(t, room, name, RoleParticipant, false, false)))
}

// recorderAPI sends receiver reports but no transport-cc feedback: the
// layers it gets depend on what it asks and on its losses, not on a
// bandwidth estimate that a loaded test machine may mislead
// (TestBandwidthEstimateLayers tests that).
var recorderAPI = func() *webrtc.API {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		panic(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		panic(err)
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(loopbackOnly)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}()

// record keeps the RTP packets c receives.
func record(c *testClient) *recorder {
	r := &recorder{testClient: c}
	c.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		c.wg.Go(func() {
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				var layer byte
				if len(p.Payload) > 2 {
					layer = p.Payload[2]
				}
				r.rmu.Lock()
				r.pkts = append(r.pkts, gotPacket{ssrc: p.SSRC, seq: p.SequenceNumber, ts: p.Timestamp,
					layer: layer, key: isVP8Keyframe(p.Payload)})
				r.rmu.Unlock()
			}
		})
	})
	return r
}

func (r *recorder) count() int {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	return len(r.pkts)
}

func (r *recorder) since(n int) []gotPacket {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	return append([]gotPacket(nil), r.pkts[n:]...)
}

func (r *recorder) waitCount(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d packets, want %d", r.name, r.count(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLayer waits until the last n packets received all come from layer.
func (r *recorder) waitLayer(t *testing.T, layer byte, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.rmu.Lock()
		ok := len(r.pkts) >= n
		for i := len(r.pkts) - 1; ok && i >= len(r.pkts)-n; i-- {
			ok = r.pkts[i].layer == layer
		}
		r.rmu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %d packets of layer %c; received %d", r.name, n, layer, r.count())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkContinuous: one SSRC, timestamps never going back, and each layer
// change on a keyframe with the next sequence number. Loopback under -race
// on shared cores does lose a packet now and then (the test peers have no
// NACK), so other gaps are counted, not failed; TestDownTrackRewrite checks
// the rewriting without a network.
func (r *recorder) checkContinuous(t *testing.T, minSwitches int) {
	t.Helper()
	pkts := r.since(0)
	switches, lost := 0, 0
	for i := 1; i < len(pkts); i++ {
		p, q := pkts[i-1], pkts[i]
		if q.ssrc != p.ssrc {
			t.Fatalf("%s: SSRC changed at packet %d: %d → %d", r.name, i, p.ssrc, q.ssrc)
		}
		if int32(q.ts-p.ts) < 0 {
			t.Fatalf("%s: timestamp back at packet %d: %d → %d", r.name, i, p.ts, q.ts)
		}
		if gap := int(int16(q.seq - p.seq)); gap != 1 {
			t.Logf("%s: sequence %d → %d at packet %d (lost on loopback)", r.name, p.seq, q.seq, i)
			lost += max(gap-1, 1)
			continue
		}
		if q.layer != p.layer {
			switches++
			if !q.key {
				t.Fatalf("%s: switch %c → %c at packet %d not on a keyframe", r.name, p.layer, q.layer, i)
			}
		}
	}
	if switches < minSwitches {
		t.Fatalf("%s: %d clean layer switches seen, want ≥ %d", r.name, switches, minSwitches)
	}
	if lost > len(pkts)/20 {
		t.Fatalf("%s: %d of %d packets missing", r.name, lost, len(pkts))
	}
	// The very first packets may be lost while the subscriber's SRTP
	// session starts, so the first one received need not be the keyframe
	// the server started with.
	t.Logf("%s: %d packets, %d layer switches, one SSRC, %d missing (first received is a keyframe: %v)",
		r.name, len(pkts), switches, lost, pkts[0].key)
}

// TestDownTrackRewrite feeds a down track the three layers interleaved, as
// the forwarding goroutines do, and checks what it would send: one layer
// at a time, switches on keyframes only, sequence numbers without a gap and
// timestamps that go forward across each switch.
func TestDownTrackRewrite(t *testing.T) {
	tr := &publishedTrack{simulcast: true} // not "video": no PLI is sent
	for l := range numLayers {
		tr.layers[l].Store(&webrtc.TrackRemote{})
		tr.active[l].Store(true)
	}
	d := &downTrack{t: tr, isKey: isVP8Keyframe, current: -1}
	d.cur.Store(-1)
	d.wish.Store(numLayers - 1)
	d.lossCap.Store(numLayers - 1)
	d.bweCap.Store(numLayers - 1)

	seq := [numLayers]uint16{65530, 100, 40000} // q wraps around
	ts := [numLayers]uint32{4294960000, 7, 123456}
	var sent []gotPacket
	frame := func(keyOn int) {
		for l := range numLayers {
			payload := []byte{0x10, 0x01, simulcastRIDs[l][0]}
			if l == keyOn {
				payload[1] = 0x00
			}
			pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq[l], Timestamp: ts[l]}, Payload: payload}
			if h, ok := d.rewrite(l, pkt); ok {
				sent = append(sent, gotPacket{seq: h.SequenceNumber, ts: h.Timestamp, layer: payload[2], key: isVP8Keyframe(payload)})
			}
			seq[l]++
			ts[l] += 3000
		}
	}
	frame(-1) // no keyframe yet: nothing
	if len(sent) != 0 {
		t.Fatalf("sent %d packets before any keyframe", len(sent))
	}
	frame(2)
	frame(-1)
	d.setWish(0)
	frame(-1) // still f until q's keyframe
	frame(0)
	frame(-1)
	frame(-1)
	d.setWish(1)
	frame(2) // a keyframe of another layer does not switch
	frame(1)
	frame(-1)
	want := "fffqqqqqhh"
	var got strings.Builder
	for i, p := range sent {
		got.WriteByte(p.layer)
		if i == 0 {
			continue
		}
		q := sent[i-1]
		if p.seq != q.seq+1 {
			t.Errorf("packet %d: sequence %d after %d", i, p.seq, q.seq)
		}
		if d := p.ts - q.ts; d == 0 || d > 1<<31 {
			t.Errorf("packet %d: timestamp %d after %d", i, p.ts, q.ts)
		}
		if p.layer != q.layer && !p.key {
			t.Errorf("packet %d: switch to %c without a keyframe", i, p.layer)
		}
	}
	if got.String() != want {
		t.Fatalf("layers sent %q, want %q", got.String(), want)
	}
}

// simPublisher is a pion peer that answers the server's offer with three
// simulcast layers, as a browser whose camera has three encodings does, and
// sends synthetic VP8 on each: one packet per frame, the layer's RID in the
// third payload byte, a keyframe first and after each PLI of that layer.
type simPublisher struct {
	t    *testing.T
	ws   *websocket.Conn
	pc   *webrtc.PeerConnection
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	layers   []*webrtc.TrackLocalStaticRTP
	attached bool
	key      [numLayers]atomic.Bool
	paused   [numLayers]atomic.Bool // the layer is not sent (a browser short of uplink)
	plis     [numLayers]atomic.Int64

	// frames: per layer, packets per frame and their size (default one
	// of 200 bytes); honorLayers: obey "layers" as live.js does. Set
	// by dialSimPublisher's setup functions.
	frames      [numLayers]struct{ n, size int }
	honorLayers bool
	lmu         sync.Mutex
	layerEvents []layerEvent // "layers" received
}

type layerEvent struct {
	at     time.Time
	active string // the RIDs, e.g. "qh"
}

var simulcastClientAPI = func() *webrtc.API {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		panic(err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		panic(err)
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(loopbackOnly)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
}()

func dialSimPublisher(t *testing.T, ts *testServer, name, room, grant string, setup ...func(*simPublisher)) *simPublisher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ws, _, err := websocket.Dial(ctx, ts.url, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	pc, err := simulcastClientAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p := &simPublisher{t: t, ws: ws, pc: pc, ctx: ctx, stop: cancel}
	for l := range numLayers {
		p.frames[l].n, p.frames[l].size = 1, 200
	}
	for _, f := range setup {
		f(p)
	}
	for _, rid := range simulcastRIDs {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			"camera", name, webrtc.WithRTPStreamID(rid))
		if err != nil {
			t.Fatal(err)
		}
		p.layers = append(p.layers, tr)
	}
	t.Cleanup(func() {
		p.stop()
		p.ws.CloseNow()
		p.pc.Close()
		p.wg.Wait()
	})
	p.wg.Go(p.readLoop)
	p.send(Message{V: 1, Type: TypeJoin, Room: room, Grant: grant})
	p.send(Message{V: 1, Type: TypePublish, Sources: []string{SourceCamera}})
	return p
}

func (p *simPublisher) send(m Message) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	_ = p.ws.Write(ctx, websocket.MessageText, b)
}

func (p *simPublisher) readLoop() {
	for {
		_, b, err := p.ws.Read(p.ctx)
		if err != nil {
			return
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			continue
		}
		if e.Type == TypeLayers {
			p.onLayers(e)
		}
		if e.Type != TypeOffer {
			continue
		}
		if err := p.answer(e); err != nil {
			p.t.Errorf("publisher answer: %v", err)
			return
		}
	}
}

var extmapRE = regexp.MustCompile(`a=extmap:(\d+) (\S+)`)

// answer attaches the three layers to the camera slot and answers with
// "a=simulcast:send q;h;f" (pion, as answerer, would echo the offer's recv
// RIDs; a browser writes send).
func (p *simPublisher) answer(e Event) error {
	var trx *webrtc.RTPTransceiver
	if !p.attached && len(e.Slots) > 0 {
		for _, s := range e.Slots {
			if s.Source != SourceCamera {
				continue
			}
			if !strings.Contains(e.SDP, "a=simulcast:recv q;h;f") {
				p.t.Errorf("the camera slot's offer proposes no simulcast:\n%s", e.SDP)
			}
			var err error
			trx, err = p.pc.AddTransceiverFromTrack(p.layers[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err != nil {
				return err
			}
			for _, l := range p.layers[1:] {
				if err := trx.Sender().AddEncoding(l); err != nil {
					return err
				}
			}
			p.attached = true
		}
	}
	if done, err := answerOffer(p.ctx, p.pc, e.SDP); done || err != nil {
		return err
	}
	var lines []string
	for l := range strings.SplitSeq(p.pc.LocalDescription().SDP, "\r\n") {
		if strings.HasPrefix(l, "a=rid:") && strings.HasSuffix(l, " recv") || strings.HasPrefix(l, "a=simulcast:recv") {
			continue
		}
		lines = append(lines, l)
	}
	p.send(Message{V: 1, Type: TypeAnswer, SDP: strings.Join(lines, "\r\n")})
	if trx != nil {
		ids := map[string]uint8{}
		for _, m := range extmapRE.FindAllStringSubmatch(e.SDP, -1) {
			n, _ := strconv.Atoi(m[1])
			ids[m[2]] = uint8(n)
		}
		midID, ridID := ids["urn:ietf:params:rtp-hdrext:sdes:mid"], ids["urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"]
		if midID == 0 || ridID == 0 {
			p.t.Errorf("offer without the mid and rid extensions")
		}
		for i, rid := range simulcastRIDs {
			p.key[i].Store(true)
			p.wg.Go(func() {
				for {
					pkts, _, err := trx.Sender().ReadSimulcastRTCP(rid)
					if err != nil {
						return
					}
					for _, pkt := range pkts {
						if _, ok := pkt.(*rtcp.PictureLossIndication); ok {
							p.plis[i].Add(1)
							p.key[i].Store(true)
						}
					}
				}
			})
		}
		p.wg.Go(func() { p.sendLayers(trx.Mid(), midID, ridID) })
	}
	return nil
}

// sendLayers writes one VP8 packet per frame and layer every 20 ms.
func (p *simPublisher) sendLayers(mid string, midID, ridID uint8) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seq [numLayers]uint16
	ts := [numLayers]uint32{1000, 500000, 90000000} // unrelated origins, as RFC 3550 wants
	for i := range seq {
		seq[i] = uint16(1000 * (i + 1) * 7)
	}
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-tick.C:
		}
		for i, rid := range simulcastRIDs {
			if p.paused[i].Load() {
				continue
			}
			key := p.key[i].Swap(false)
			f := p.frames[i]
			for j := range f.n {
				payload := make([]byte, f.size)
				payload[1] = 0x01 // P=1: inter frame
				if j == 0 {
					payload[0] = 0x10 // S=1, PID=0: the frame's first packet
					if key {
						payload[1] = 0x00
					}
				}
				payload[2] = rid[0]
				pkt := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: j == f.n-1, SequenceNumber: seq[i], Timestamp: ts[i]}, Payload: payload}
				_ = pkt.Header.SetExtension(midID, []byte(mid))
				_ = pkt.Header.SetExtension(ridID, []byte(rid))
				if err := p.layers[i].WriteRTP(pkt); err != nil {
					return
				}
				seq[i]++
			}
			ts[i] += 1800
		}
	}
}

func TestSimulcastSDP(t *testing.T) {
	offer := "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=recvonly\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:2\r\n"
	got := addSimulcastRecv(offer, []string{"1"})
	want := "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n" +
		"a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n" +
		"a=recvonly\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:2\r\n"
	if got != want {
		t.Fatalf("addSimulcastRecv:\n%q\nwant\n%q", got, want)
	}
	if addSimulcastRecv(offer, nil) != offer || addSimulcastRecv(offer, []string{"3"}) != offer {
		t.Fatal("addSimulcastRecv changed an offer without new camera slots")
	}
	// pion as answerer echoes the recv lines; a browser sends "send" ones.
	answer := "v=0\r\na=mid:1\r\na=rid:q recv\r\na=rid:h send\r\na=simulcast:recv q;h;f\r\na=simulcast:send h\r\na=sendonly\r\n"
	if got, want := dropRecvSimulcast(answer), "v=0\r\na=mid:1\r\na=rid:h send\r\na=simulcast:send h\r\na=sendonly\r\n"; got != want {
		t.Fatalf("dropRecvSimulcast:\n%q\nwant\n%q", got, want)
	}
}

// BenchmarkDownTrackRewrite: the cost a simulcast track adds per packet and
// subscriber, before pion's write (run with -benchmem).
func BenchmarkDownTrackRewrite(b *testing.B) {
	tr := &publishedTrack{simulcast: true}
	for l := range numLayers {
		tr.layers[l].Store(&webrtc.TrackRemote{})
		tr.active[l].Store(true)
	}
	d := &downTrack{t: tr, isKey: isVP8Keyframe, current: -1}
	d.cur.Store(-1)
	d.wish.Store(numLayers - 1)
	d.lossCap.Store(numLayers - 1)
	d.bweCap.Store(numLayers - 1)
	pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: 1, Timestamp: 1}, Payload: []byte{0x10, 0x00, 'f'}}
	for b.Loop() {
		d.rewrite(2, pkt)
		pkt.SequenceNumber++
	}
}
