package sfu

import (
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// minKeyframeInterval rate-limits PLIs sent to a publisher: a join storm of
// thirty pupils costs the teacher's encoder two keyframes per second at most.
const minKeyframeInterval = 500 * time.Millisecond

// nackHistory is how many sent packets the NACK responder keeps per
// subscriber and video track to answer retransmission requests. pion copies
// each packet into a 1,460-byte buffer per subscriber, so the history is most
// of a subscriber's memory: 128 packets (≈ 190 KB) is 0.8 s of a 1.5 Mbit/s
// camera, several round trips, instead of pion's default 1,024 (1.5 MB).
// Older losses are repaired by a keyframe (PLI). A power of two.
const nackHistory = 128

// publishedTrack is one received track and the local track it is forwarded
// through. The local track is shared by every subscriber (one binding per
// PeerConnection), so each packet is read once and written to all. A
// simulcast track (simulcast.go) has no shared local track: up to three
// received layers, and a down track per subscriber.
type publishedTrack struct {
	info    TrackInfo
	owner   *Participant
	remote  *webrtc.TrackRemote         // nil for a simulcast track
	local   *webrtc.TrackLocalStaticRTP // nil for a simulcast track
	codec   webrtc.RTPCodecCapability
	stopped atomic.Bool  // set first when forwarding must stop (take_floor, mute, leave)
	subs    atomic.Int64 // subscribers bound, for the stats
	stats   *stats

	// Simulcast: the layers received so far (by layer, lowest first) and
	// the subscribers' down tracks, a copy-on-write slice read per packet.
	simulcast bool
	layers    [numLayers]atomic.Pointer[webrtc.TrackRemote]
	active    [numLayers]atomic.Bool // a packet within layerTimeout
	dmu       sync.Mutex
	downs     atomic.Pointer[[]*downTrack]

	pli [numLayers]pliLimiter // per layer; [0] for a track without layers

	// rates: the bit rate received, per layer ([0] for a track without
	// layers), measured by the reading goroutine (bwe.go); a layer that
	// stops keeps its last measure.
	rates [numLayers]atomic.Uint64
	pause pauser // which layers the publisher was told to send (pause.go)

	// A microphone's audio level extension id (0: not negotiated) and its
	// smoothed loudness (speaker.go).
	levelID uint8
	loud    loudness
}

// pliLimiter rate-limits the PLIs of one received stream.
type pliLimiter struct {
	mu    sync.Mutex
	last  time.Time
	timer *time.Timer // a deferred PLI, at most one
}

// forward copies RTP from the publisher to every subscriber without
// transcoding. It holds no lock; it ends when the publisher's PeerConnection
// closes or the receiver stops.
func (t *publishedTrack) forward(done func()) {
	defer done()
	buf := make([]byte, 1500)
	var rate rateMeter
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			return
		}
		rate.add(time.Now(), n, &t.rates[0])
		if t.levelID != 0 {
			if level, voice, ok := audioLevel(buf[:n], t.levelID); ok {
				t.loud.add(level, voice)
			}
		}
		t.write(buf[:n])
	}
}

// write forwards one received packet to every subscriber, unless the track
// is stopped (drained, not forwarded, until the receiver stops). Write
// rewrites SSRC and payload type per binding. A subscriber whose transport
// is gone returns io.ErrClosedPipe, which Write already ignores; a malformed
// packet only fails itself (FuzzForwardRTP).
func (t *publishedTrack) write(pkt []byte) {
	if t.stopped.Load() {
		return
	}
	if _, err := t.local.Write(pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		return
	}
	if k := t.subs.Load(); k > 0 {
		t.stats.packets.Add(uint64(k))
		t.stats.bytes.Add(uint64(k) * uint64(len(pkt)))
	}
}

// addLayer starts forwarding one simulcast layer; done runs when it ends.
func (t *publishedTrack) addLayer(layer int, remote *webrtc.TrackRemote, done func()) {
	t.layers[layer].Store(remote)
	t.active[layer].Store(true)
	go t.forwardLayer(layer, remote, done)
	// Down tracks waiting for a better layer switch to it on its keyframe;
	// the one below it may no longer be needed (pause.go).
	t.requestLayerKeyframe(layer)
	t.updateLayers()
}

// forwardLayer reads one simulcast layer and hands each packet to the down
// tracks, which forward it if it is their layer (under that down track's
// own lock, simulcast.go). A layer silent for layerTimeout (the
// browser stops a layer when its uplink is short) is inactive: the down
// tracks on it move to the nearest active one until it comes back.
func (t *publishedTrack) forwardLayer(layer int, remote *webrtc.TrackRemote, done func()) {
	defer done()
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	var deadlineSet time.Time
	var rate rateMeter
	for {
		now := time.Now()
		if now.Sub(deadlineSet) >= layerTimeout/4 {
			_ = remote.SetReadDeadline(now.Add(layerTimeout))
			deadlineSet = now
		}
		n, _, err := remote.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if t.active[layer].Swap(false) {
				t.updateLayers() // a layer below may be needed now (pause.go)
			}
			deadlineSet = time.Time{}
			continue
		}
		if err != nil {
			return
		}
		if !t.active[layer].Load() {
			// Back after a pause (ours, pause.go, or the publisher's):
			// the down tracks waiting for it need a keyframe.
			t.active[layer].Store(true)
			t.requestLayerKeyframe(layer)
			t.updateLayers()
		}
		rate.add(now, n, &t.rates[layer])
		if t.stopped.Load() || pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		downs := t.downs.Load()
		if downs == nil {
			continue
		}
		var sent uint64
		for _, d := range *downs {
			if d.write(layer, &pkt) {
				sent++
			}
		}
		t.stats.packets.Add(sent)
		t.stats.bytes.Add(sent * uint64(n))
	}
}

// nearestLayer returns the highest active layer at or below want, else the
// lowest above it, else -1.
func (t *publishedTrack) nearestLayer(want int) int {
	for l := want; l >= 0; l-- {
		if t.active[l].Load() {
			return l
		}
	}
	for l := want + 1; l < numLayers; l++ {
		if t.active[l].Load() {
			return l
		}
	}
	return -1
}

// addDown and removeDown change the down tracks (copy on write), then the
// layers the publisher should send (pause.go).
func (t *publishedTrack) addDown(d *downTrack) {
	t.dmu.Lock()
	var next []*downTrack
	if cur := t.downs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, d)
	t.downs.Store(&next)
	t.dmu.Unlock()
	t.updateLayers()
}

func (t *publishedTrack) removeDown(d *downTrack) {
	t.dmu.Lock()
	cur := t.downs.Load()
	if cur == nil {
		t.dmu.Unlock()
		return
	}
	next := slices.DeleteFunc(slices.Clone(*cur), func(x *downTrack) bool { return x == d })
	t.downs.Store(&next)
	t.dmu.Unlock()
	t.updateLayers()
}

// requestKeyframe sends a PLI to the publisher, at most one per
// minKeyframeInterval. A request inside the interval is deferred to its end
// rather than dropped, so the last subscriber of a storm gets a keyframe
// too. For a simulcast track every layer received is asked.
func (t *publishedTrack) requestKeyframe() {
	if !t.simulcast {
		t.requestLayerKeyframe(0)
		return
	}
	for l := range numLayers {
		if t.layers[l].Load() != nil {
			t.requestLayerKeyframe(l)
		}
	}
}

// requestLayerKeyframe sends a PLI for one layer (0 for a track without
// layers), rate-limited per layer.
func (t *publishedTrack) requestLayerKeyframe(layer int) {
	if t.info.Kind != "video" || t.stopped.Load() {
		return
	}
	k := &t.pli[layer]
	k.mu.Lock()
	if k.timer != nil {
		k.mu.Unlock()
		return
	}
	wait := time.Until(k.last.Add(minKeyframeInterval))
	if wait <= 0 {
		k.last = time.Now()
		k.mu.Unlock()
		t.sendPLI(layer)
		return
	}
	k.timer = time.AfterFunc(wait, func() {
		k.mu.Lock()
		k.timer = nil
		k.last = time.Now()
		k.mu.Unlock()
		t.sendPLI(layer)
	})
	k.mu.Unlock()
}

func (t *publishedTrack) sendPLI(layer int) {
	if t.stopped.Load() {
		return
	}
	remote := t.remote
	if t.simulcast {
		remote = t.layers[layer].Load()
	}
	if remote == nil {
		return
	}
	_ = t.owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(remote.SSRC())}})
}

// stop ends forwarding at once and cancels the deferred PLIs and pauses.
func (t *publishedTrack) stop() {
	t.stopped.Store(true)
	t.stopPause()
	for i := range t.pli {
		k := &t.pli[i]
		k.mu.Lock()
		if k.timer != nil {
			k.timer.Stop()
			k.timer = nil
		}
		k.mu.Unlock()
	}
}

// registerInterceptors sets up pion's interceptors as
// webrtc.RegisterDefaultInterceptors does — NACK generator and responder (with
// a nackHistory-packet history), RTCP sender and receiver reports, simulcast
// header extensions, TWCC feedback for what the SFU receives — but without
// the stats interceptor: it only serves PeerConnection.GetStats, which the
// SFU does not call, and costs a recorder per stream and work on every packet
// of every subscriber. Towards subscribers it adds congestion control
// (bwe.go). Interceptors added first sit nearest the network. The NACK
// responder comes first: it resends on the RTX stream (its own SSRC), which
// GCC's pacer does not know and would refuse (TestNACKRecovery); so resends
// leave without passing the estimator. Then bwe, which sees every other
// packet as it leaves, then the transport-wide sequence numbers bwe reads.
func registerInterceptors(me *webrtc.MediaEngine, ir *interceptor.Registry, bwe interceptor.Factory) error {
	if err := webrtc.ConfigureNackWithOptions(me, ir, nil, nack.ResponderSize(nackHistory)); err != nil {
		return err
	}
	if bwe != nil {
		ir.Add(bwe)
		if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, ir); err != nil {
			return err
		}
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return err
	}
	return webrtc.ConfigureTWCCSender(me, ir)
}

// stats are the SFU's counters, updated without locks.
type stats struct {
	packets, bytes, slow atomic.Uint64
}
