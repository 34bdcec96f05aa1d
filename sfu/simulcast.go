package sfu

import (
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Simulcast (RFC 8853): a camera published in up to three layers, each its
// own RTP stream told apart by its RID (RFC 8852), forwarded to each
// subscriber from one layer at a time through a down track of its own.

const numLayers = 3

// Layers, lowest first. The server offers these RIDs (RFC 8851) for a
// camera; the client's answer keeps those it will send.
var simulcastRIDs = [numLayers]string{"q", "h", "f"}

// Qualities a subscriber may ask for in a "layer" message.
const (
	QualityLow    = "low"
	QualityMedium = "medium"
	QualityHigh   = "high"
)

var qualityLayers = map[string]int{QualityLow: 0, QualityMedium: 1, QualityHigh: 2}

// layerOfRID returns the layer of a RID the server offered.
func layerOfRID(rid string) (int, bool) {
	i := slices.Index(simulcastRIDs[:], rid)
	return i, i >= 0
}

// layerTimeout: a layer without a packet for this long is inactive.
const layerTimeout = time.Second

// switchTSDelta is added to the RTP timestamp of the first frame after a
// layer switch, one frame at 30 fps on the 90 kHz video clock: the
// subscriber's jitter buffer sees a frame that follows the last one, not a
// jump (the layers' timestamps have unrelated random origins, RFC 3550 §5.1).
const switchTSDelta = 3000

// Loss-based cap, from the subscriber's receiver reports (RFC 3550 §6.4.2,
// fraction lost in 1/256): above lossDown the down track drops one layer;
// after lossUpAfter of reports below lossUp it may climb one again.
const (
	lossDown      = 26 // ≈ 10 %
	lossUp        = 5  // ≈ 2 %
	lossDownAfter = 2 * time.Second
	lossUpAfter   = 10 * time.Second
)

// addSimulcastRecv adds to the m-sections of mids the RIDs and the
// simulcast attribute (RFC 8853 §5.1) that pion does not write in an offer
// of a recvonly transceiver. A renegotiation does not need it: pion repeats
// the RIDs the answer gave.
func addSimulcastRecv(sdp string, mids []string) string {
	if len(mids) == 0 {
		return sdp
	}
	var add strings.Builder
	for _, rid := range simulcastRIDs {
		add.WriteString("a=rid:" + rid + " recv\r\n")
	}
	add.WriteString("a=simulcast:recv " + strings.Join(simulcastRIDs[:], ";") + "\r\n")
	var b strings.Builder
	for line := range strings.SplitAfterSeq(sdp, "\r\n") {
		b.WriteString(line)
		if mid, ok := strings.CutPrefix(strings.TrimSuffix(line, "\r\n"), "a=mid:"); ok && slices.Contains(mids, mid) {
			b.WriteString(add.String())
		}
	}
	return b.String()
}

// dropRecvSimulcast removes the receive RIDs and simulcast attribute from
// an answer. Only the server receives on a publish slot, so in an answer
// they mean nothing, but pion as answerer echoes the offer's "recv" lines
// even when it sends one stream, and pion as offerer would then wait for
// RID-tagged packets that never come.
func dropRecvSimulcast(sdp string) string {
	if !strings.Contains(sdp, "a=simulcast:recv") && !strings.Contains(sdp, " recv\r\n") {
		return sdp
	}
	var b strings.Builder
	for line := range strings.SplitAfterSeq(sdp, "\r\n") {
		l := strings.TrimSuffix(line, "\r\n")
		if strings.HasPrefix(l, "a=simulcast:recv") || strings.HasPrefix(l, "a=rid:") && strings.HasSuffix(l, " recv") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// keyframeFunc returns a detector of the first packet of a keyframe for the
// codec, or nil when the SFU cannot tell (such a down track switches on any
// packet and asks for a keyframe).
func keyframeFunc(mime string) func([]byte) bool {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		return isVP8Keyframe
	case strings.ToLower(webrtc.MimeTypeH264):
		return isH264Keyframe
	}
	return nil
}

// isVP8Keyframe reports whether an RTP payload starts a VP8 keyframe: the
// payload descriptor (RFC 7741 §4.2) has S=1 and PID=0, and the P bit of
// the VP8 payload header that follows (§4.3) is 0.
func isVP8Keyframe(p []byte) bool {
	if len(p) < 1 || p[0]&0x10 == 0 || p[0]&0x07 != 0 {
		return false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte
		if len(p) < 2 {
			return false
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: PictureID, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0
}

// isH264Keyframe reports whether an RTP payload (RFC 6184 §5) carries an
// SPS or an IDR slice, alone, in a STAP-A, or at the start of an FU-A.
func isH264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch t := p[0] & 0x1f; t {
	case 5, 7:
		return true
	case 24: // STAP-A: 16-bit sizes, then NAL units
		for i := 1; i+2 < len(p); i += 2 + (int(p[i])<<8 | int(p[i+1])) {
			if u := p[i+2] & 0x1f; u == 5 || u == 7 {
				return true
			}
		}
	case 28: // FU-A: start bit and type in the FU header
		return len(p) > 1 && p[1]&0x80 != 0 && p[1]&0x1f == 5
	}
	return false
}

// downTrack is one subscriber's view of a simulcast track: its own local
// track, fed from one layer at a time, with sequence numbers and timestamps
// rewritten so the subscriber sees one continuous stream.
type downTrack struct {
	t     *publishedTrack
	local *webrtc.TrackLocalStaticRTP
	isKey func([]byte) bool // nil: switch on any packet

	wish    atomic.Int32 // layer the subscriber asked for (its tile size)
	lossCap atomic.Int32 // highest layer its receiver reports allow
	bweCap  atomic.Int32 // highest layer its bandwidth estimate allows (bwe.go)

	cur atomic.Int32 // current, read without the lock

	mu        sync.Mutex // the layers' forwarding goroutines, the RTCP reader
	current   int        // layer forwarded; -1 before the first keyframe
	seqOff    uint16     // added to the current layer's sequence numbers
	tsOff     uint32     // added to its timestamps
	lastSeq   uint16     // last sequence number sent (rewritten)
	lastTS    uint32
	lastAsk   time.Time // last keyframe request for a pending switch
	lossAt    time.Time // last step down of lossCap
	calmSince time.Time // first of the recent reports with little loss
}

func newDownTrack(t *publishedTrack, local *webrtc.TrackLocalStaticRTP) *downTrack {
	d := &downTrack{t: t, local: local, isKey: keyframeFunc(local.Codec().MimeType), current: -1}
	d.cur.Store(-1)
	d.wish.Store(numLayers - 1)
	d.lossCap.Store(numLayers - 1)
	d.bweCap.Store(numLayers - 1)
	return d
}

// target is the layer the down track should forward: the lowest of the
// wish, the loss cap and the bandwidth cap, or the nearest layer the
// publisher sends.
func (d *downTrack) target() int {
	return d.t.nearestLayer(d.desired()) // pause.go
}

// setWish records the subscriber's wish; the switch happens on the next
// keyframe of that layer, asked for at once.
func (d *downTrack) setWish(layer int) {
	d.wish.Store(int32(layer))
	d.retarget()
}

// setBWECap records the layer the bandwidth estimate allows (bwe.go) and
// reports whether it changed; a switch is prepared as for setWish.
func (d *downTrack) setBWECap(layer int) bool {
	if d.bweCap.Swap(int32(layer)) == int32(layer) {
		return false
	}
	d.retarget()
	return true
}

// retarget asks the target layer for a keyframe when it is not the one
// forwarded, so that the switch happens soon.
func (d *downTrack) retarget() {
	if l := d.target(); l >= 0 {
		d.mu.Lock()
		pending := l != d.current
		if pending {
			d.lastAsk = time.Now()
		}
		d.mu.Unlock()
		if pending {
			d.t.requestLayerKeyframe(l)
		}
	}
}

// write forwards pkt, received on layer, if that is the layer to forward.
// Reports whether the packet was sent.
func (d *downTrack) write(layer int, pkt *rtp.Packet) bool {
	want := d.target()
	if int32(layer) != d.cur.Load() && layer != want {
		return false // another layer's packet: no lock taken
	}
	d.mu.Lock()
	h, send, ask := d.rewriteLocked(layer, want, pkt)
	var err error
	if send {
		// Written under d.mu: at a switch the old layer's last packet and
		// the new one's first come from two goroutines and must leave in
		// order. Only this down track's layers wait, and only there; the
		// write does not block (SRTP, then a UDP send).
		err = d.local.WriteRTP(&rtp.Packet{Header: h, Payload: pkt.Payload})
	}
	d.mu.Unlock()
	if ask {
		d.t.requestLayerKeyframe(layer)
	}
	return send && (err == nil || errors.Is(err, io.ErrClosedPipe))
}

// rewrite is write without the write (tests).
func (d *downTrack) rewrite(layer int, pkt *rtp.Packet) (rtp.Header, bool) {
	want := d.target()
	d.mu.Lock()
	h, send, ask := d.rewriteLocked(layer, want, pkt)
	d.mu.Unlock()
	if ask {
		d.t.requestLayerKeyframe(layer)
	}
	return h, send
}

// rewriteLocked returns the header to send for pkt, received on layer,
// whether to send it, and whether to ask layer for a keyframe. A switch
// happens only on a keyframe of the target layer want: the first packet
// after it follows the last one sent (sequence number + 1, timestamp +
// switchTSDelta); until then want is asked for a keyframe.
func (d *downTrack) rewriteLocked(layer, want int, pkt *rtp.Packet) (h rtp.Header, send, ask bool) {
	if layer != d.current {
		if layer != want {
			return h, false, false
		}
		if d.isKey != nil && !d.isKey(pkt.Payload) {
			now := time.Now()
			ask = now.Sub(d.lastAsk) >= minKeyframeInterval
			if ask {
				d.lastAsk = now
			}
			return h, false, ask
		}
		if d.current >= 0 {
			d.seqOff = d.lastSeq + 1 - pkt.SequenceNumber
			d.tsOff = d.lastTS + switchTSDelta - pkt.Timestamp
		} else {
			d.lastSeq, d.lastTS = pkt.SequenceNumber-1, pkt.Timestamp
		}
		d.current = layer
		d.cur.Store(int32(layer))
	}
	h = pkt.Header
	h.SequenceNumber += d.seqOff
	h.Timestamp += d.tsOff
	if int16(h.SequenceNumber-d.lastSeq) > 0 { // RFC 3550 §A.1: newer, modulo 2^16
		d.lastSeq, d.lastTS = h.SequenceNumber, h.Timestamp
	}
	// The publisher's header extensions (mid, rid, its TWCC numbers) mean
	// nothing on the subscriber's m-line; the interceptors add ours.
	h.Extension, h.Extensions, h.ExtensionProfile = false, nil, 0
	return h, true, false
}

// requestKeyframe relays a subscriber's PLI or FIR to the layer it
// receives (or will receive).
func (d *downTrack) requestKeyframe() {
	d.mu.Lock()
	l := d.current
	d.mu.Unlock()
	if t := d.target(); l < 0 || t != l {
		l = t
	}
	if l >= 0 {
		d.t.requestLayerKeyframe(l)
	}
}

// onLoss applies a receiver report's fraction lost (in 1/256) to the loss
// cap: one layer down at once, one up after a calm period. It reports
// whether the cap changed. The bandwidth estimate (bwe.go) usually acts
// first; this is the fallback for a subscriber without transport-cc
// feedback.
func (d *downTrack) onLoss(fraction uint8) bool {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	switch capped := d.lossCap.Load(); {
	case fraction >= lossDown:
		d.calmSince = now
		if now.Sub(d.lossAt) >= lossDownAfter && d.current > 0 && capped >= int32(d.current) {
			d.lossCap.Store(int32(d.current - 1))
			d.lossAt = now
			return true
		}
	case fraction > lossUp || d.calmSince.IsZero():
		d.calmSince = now
	case now.Sub(d.calmSince) >= lossUpAfter && capped < numLayers-1:
		d.lossCap.Store(capped + 1)
		d.calmSince = now
		return true
	}
	return false
}
