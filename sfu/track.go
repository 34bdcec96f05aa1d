package sfu

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
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
// PeerConnection), so each packet is read once and written to all.
type publishedTrack struct {
	info    TrackInfo
	owner   *Participant
	remote  *webrtc.TrackRemote
	local   *webrtc.TrackLocalStaticRTP
	stopped atomic.Bool  // set first when forwarding must stop (take_floor, mute, leave)
	subs    atomic.Int64 // subscribers bound, for the stats
	stats   *stats

	kmu      sync.Mutex
	lastPLI  time.Time
	pliTimer *time.Timer // a deferred PLI, at most one
}

// forward copies RTP from the publisher to every subscriber without
// transcoding. It holds no lock; it ends when the publisher's PeerConnection
// closes or the receiver stops.
func (t *publishedTrack) forward(done func()) {
	defer done()
	buf := make([]byte, 1500)
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			return
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

// requestKeyframe sends a PLI to the publisher, at most one per
// minKeyframeInterval. A request inside the interval is deferred to its end
// rather than dropped, so the last subscriber of a storm gets a keyframe
// too.
func (t *publishedTrack) requestKeyframe() {
	if t.info.Kind != "video" || t.stopped.Load() {
		return
	}
	t.kmu.Lock()
	if t.pliTimer != nil {
		t.kmu.Unlock()
		return
	}
	wait := time.Until(t.lastPLI.Add(minKeyframeInterval))
	if wait <= 0 {
		t.lastPLI = time.Now()
		t.kmu.Unlock()
		t.sendPLI()
		return
	}
	t.pliTimer = time.AfterFunc(wait, func() {
		t.kmu.Lock()
		t.pliTimer = nil
		t.lastPLI = time.Now()
		t.kmu.Unlock()
		t.sendPLI()
	})
	t.kmu.Unlock()
}

func (t *publishedTrack) sendPLI() {
	if t.stopped.Load() {
		return
	}
	_ = t.owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.remote.SSRC())}})
}

// stop ends forwarding at once and cancels a deferred PLI.
func (t *publishedTrack) stop() {
	t.stopped.Store(true)
	t.kmu.Lock()
	if t.pliTimer != nil {
		t.pliTimer.Stop()
		t.pliTimer = nil
	}
	t.kmu.Unlock()
}

// registerInterceptors sets up pion's interceptors as
// webrtc.RegisterDefaultInterceptors does — NACK generator and responder (with
// a nackHistory-packet history), RTCP sender and receiver reports, simulcast
// header extensions, TWCC feedback and header extension — but without the
// stats interceptor: it only serves PeerConnection.GetStats, which the SFU
// does not call, and costs a recorder per stream and work on every packet of
// every subscriber.
func registerInterceptors(me *webrtc.MediaEngine, ir *interceptor.Registry) error {
	if err := webrtc.ConfigureNackWithOptions(me, ir, nil, nack.ResponderSize(nackHistory)); err != nil {
		return err
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
