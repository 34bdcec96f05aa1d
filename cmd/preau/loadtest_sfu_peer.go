package main

// The synthetic peers of `preau loadtest sfu`: a publisher per room sends
// VP8 (keyframes every 2 s and on PLI) and Opus (20 ms packets) through the
// slots the server offers, the VP8 in three simulcast layers with
// --simulcast; subscribers answer the server's offers, ask for a layer and
// read RTP, recording the time from join to the first keyframe packet, the
// sequence gaps and the layer received.

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"preau/sfu"
)

const (
	loadFPS        = 30
	loadKeyEvery   = 2 * loadFPS // frames between keyframes: 2 s
	loadKeyScale   = 4           // a keyframe is this many times an interframe
	loadMTU        = 1200
	loadOpusBytes  = 80 // 32 kbit/s at 20 ms
	loadPingPeriod = 20 * time.Second
)

// newLoadAPI builds the peers' WebRTC API: default codecs and interceptors
// (NACK, reports, TWCC, as a browser has), loopback host candidates only when
// the server is on this machine.
func newLoadAPI(cfg sfuLoadConfig) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	if cfg.Simulcast {
		// The mid and RID header extensions tell the server which layer
		// each SSRC carries (RFC 8852).
		if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
			return nil, err
		}
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if u, _ := url.Parse(cfg.URL); localOnly(cfg.URL) == nil && u != nil {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil })
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// sfuRun holds every peer of one run.
type sfuRun struct {
	cfg    sfuLoadConfig
	api    *webrtc.API
	http   *http.Client
	header string
	ws     string
	logf   func(string, ...any)

	mu    sync.Mutex
	peers []*loadPeer
	errs  int
}

func (r *sfuRun) fail(format string, args ...any) {
	r.mu.Lock()
	r.errs++
	n := r.errs
	r.mu.Unlock()
	if n <= 10 {
		r.logf(format, args...)
	} else if n == 11 {
		r.logf("(further errors not shown)")
	}
}

// loadPeer is one synthetic participant: a signaling socket and a
// PeerConnection.
type loadPeer struct {
	run       *sfuRun
	user      string
	publisher bool
	ws        *websocket.Conn
	pc        *webrtc.PeerConnection
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	wmu       sync.Mutex // one writer on the socket

	joinedAt time.Time
	joined   atomic.Bool

	// Publisher.
	video, audio *webrtc.TrackLocalStaticRTP
	layers       []*webrtc.TrackLocalStaticRTP // with --simulcast: q, h, f
	videoTr      *webrtc.RTPTransceiver
	attached     bool
	sending      atomic.Bool
	keyframe     [len(simulcastRIDs)]atomic.Bool // a PLI asked for one (index 0 without simulcast)

	// Subscriber.
	quality    string       // the layer asked for with --simulcast
	simulcast  atomic.Bool  // the camera track was announced as simulcast
	layerWidth atomic.Int32 // width in the last keyframe received: the layer
	firstFrame atomic.Int64 // ns from join to the first keyframe packet, 0: none
	firstVideo atomic.Int64 // ns from join to the first video packet, 0: none
	connected  atomic.Int64 // ns from join to PeerConnection connected, 0: not yet
	gotAudio   atomic.Bool
	rmu        sync.Mutex
	streams    []*seqStats
}

// simulcastRIDs are the publisher's layers, lowest first, as a browser's
// three encodings; simulcastShare is each layer's share of --kbps in
// sixteenths and simulcastWidth the width its keyframes announce.
var (
	simulcastRIDs  = [...]string{"q", "h", "f"}
	simulcastShare = [...]int{1, 4, 11}
	simulcastWidth = [...]int{160, 320, 640}
)

func (r *sfuRun) dial(ctx context.Context, room string, peer sfuSetupPeer, publisher bool, quality string) (*loadPeer, error) {
	ctx, cancel := context.WithCancel(ctx)
	p := &loadPeer{run: r, user: peer.User, publisher: publisher, quality: quality, ctx: ctx, cancel: cancel, joinedAt: time.Now()}
	if publisher {
		var err error
		vp8 := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		if r.cfg.Simulcast {
			for _, rid := range simulcastRIDs {
				var l *webrtc.TrackLocalStaticRTP
				if l, err = webrtc.NewTrackLocalStaticRTP(vp8, "camera", peer.User, webrtc.WithRTPStreamID(rid)); err != nil {
					break
				}
				p.layers = append(p.layers, l)
			}
			if err == nil {
				p.video = p.layers[0]
			}
		} else {
			p.video, err = webrtc.NewTrackLocalStaticRTP(vp8, "camera", peer.User)
		}
		if err == nil {
			p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "microphone", peer.User)
		}
		if err != nil {
			cancel()
			return p, err
		}
	}
	r.mu.Lock()
	r.peers = append(r.peers, p)
	r.mu.Unlock()
	dctx, dcancel := context.WithTimeout(ctx, 15*time.Second)
	defer dcancel()
	header := http.Header{r.header: []string{peer.User}}
	if peer.Cookie != "" {
		header = http.Header{"Cookie": []string{peer.Cookie}}
	}
	ws, _, err := websocket.Dial(dctx, cmp.Or(peer.WS, r.ws), &websocket.DialOptions{HTTPClient: r.http,
		HTTPHeader: header})
	if err != nil {
		return p, fmt.Errorf("%s: dial: %w", peer.User, err)
	}
	ws.SetReadLimit(1 << 20)
	p.ws = ws
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return p, fmt.Errorf("%s: peer connection: %w", peer.User, err)
	}
	p.pc = pc
	if !publisher {
		pc.OnTrack(p.onTrack)
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.connected.CompareAndSwap(0, int64(max(time.Since(p.joinedAt), 1)))
		}
	})
	p.wg.Go(p.readLoop)
	p.wg.Go(p.pingLoop)
	return p, p.send(sfu.Message{V: sfu.ProtocolVersion, Type: sfu.TypeJoin, Room: room, Grant: peer.Grant})
}

func (r *sfuRun) startPublisher(ctx context.Context, room string, peer sfuSetupPeer) {
	if _, err := r.dial(ctx, room, peer, true, ""); err != nil {
		r.fail("publisher %v", err)
	}
}

func (r *sfuRun) startSubscriber(ctx context.Context, room string, peer sfuSetupPeer, quality string) {
	if _, err := r.dial(ctx, room, peer, false, quality); err != nil {
		r.fail("subscriber %v", err)
	}
}

func (p *loadPeer) send(m sfu.Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.ws.Write(ctx, websocket.MessageText, b)
}

func (p *loadPeer) pingLoop() {
	t := time.NewTicker(loadPingPeriod)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			_ = p.send(sfu.Message{V: sfu.ProtocolVersion, Type: sfu.TypePing})
		}
	}
}

func (p *loadPeer) readLoop() {
	for {
		_, b, err := p.ws.Read(p.ctx)
		if err != nil {
			if p.ctx.Err() == nil {
				p.run.fail("%s: signaling closed: %v", p.user, err)
			}
			return
		}
		var e sfu.Event
		if err := json.Unmarshal(b, &e); err != nil {
			p.run.fail("%s: bad event: %v", p.user, err)
			return
		}
		switch e.Type {
		case sfu.TypeJoined:
			p.joined.Store(true)
			for _, t := range e.Tracks {
				p.askLayer(t)
			}
			if p.publisher {
				_ = p.send(sfu.Message{V: sfu.ProtocolVersion, Type: sfu.TypePublish,
					Sources: []string{sfu.SourceCamera, sfu.SourceMicrophone}})
			}
		case sfu.TypeTrackAdded:
			if e.Track != nil {
				p.askLayer(*e.Track)
			}
		case sfu.TypeOffer:
			if err := p.answer(e); err != nil && p.ctx.Err() == nil {
				p.run.fail("%s: answer: %v", p.user, err)
			}
		case sfu.TypeError:
			p.run.fail("%s: server error %s", p.user, e.Code)
		case sfu.TypeEnded:
			return
		}
	}
}

// askLayer asks for this subscriber's layer of a simulcast camera (the
// server forwards the highest until told otherwise).
func (p *loadPeer) askLayer(t sfu.TrackInfo) {
	if p.publisher || !t.Simulcast || t.Source != sfu.SourceCamera {
		return
	}
	p.simulcast.Store(true)
	if p.quality != "" && p.quality != sfu.QualityHigh {
		_ = p.send(sfu.Message{V: sfu.ProtocolVersion, Type: sfu.TypeLayer, Track: t.ID, Quality: p.quality})
	}
}

// answer attaches the publisher's tracks to the offer's slots (before
// setRemoteDescription, so pion pairs each with the recvonly m-line of its
// kind), answers, and starts the media after the first such answer.
func (p *loadPeer) answer(e sfu.Event) error {
	attach := p.publisher && !p.attached && len(e.Slots) > 0
	if attach {
		for _, s := range e.Slots {
			tr := p.video
			if s.Source == sfu.SourceMicrophone {
				tr = p.audio
			}
			t, err := p.pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err != nil {
				return err
			}
			if tr != p.video {
				continue
			}
			if len(p.layers) == 0 {
				p.wg.Go(func() { p.readPLI(t.Sender().ReadRTCP, 0) })
				continue
			}
			for _, l := range p.layers[1:] {
				if err := t.Sender().AddEncoding(l); err != nil {
					return err
				}
			}
			for i, rid := range simulcastRIDs {
				p.wg.Go(func() {
					p.readPLI(func() ([]rtcp.Packet, interceptor.Attributes, error) { return t.Sender().ReadSimulcastRTCP(rid) }, i)
				})
			}
			p.videoTr = t
		}
		p.attached = true
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: e.SDP}); err != nil {
		return err
	}
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-p.ctx.Done():
		return nil
	}
	sdp := p.pc.LocalDescription().SDP
	if len(p.layers) > 0 {
		sdp = dropRecvSimulcast(sdp)
	}
	if err := p.send(sfu.Message{V: sfu.ProtocolVersion, Type: sfu.TypeAnswer, SDP: sdp}); err != nil {
		return err
	}
	if attach {
		p.sending.Store(true)
		if len(p.layers) > 0 {
			ext := sdpExtmap(e.SDP)
			mid, rid := ext["urn:ietf:params:rtp-hdrext:sdes:mid"], ext["urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"]
			if mid == 0 || rid == 0 {
				return fmt.Errorf("the offer has no mid or rtp-stream-id header extension")
			}
			for i := range p.layers {
				p.wg.Go(func() { p.sendLayer(i, p.videoTr.Mid(), mid, rid) })
			}
		} else {
			p.wg.Go(p.sendVideo)
		}
		p.wg.Go(p.sendAudio)
	}
	return nil
}

// readPLI reads the RTCP of layer i (of the only layer without simulcast)
// and asks that layer for a keyframe on a PLI or FIR.
func (p *loadPeer) readPLI(read func() ([]rtcp.Packet, interceptor.Attributes, error), i int) {
	for {
		pkts, _, err := read()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.keyframe[i].Store(true)
			}
		}
	}
}

// dropRecvSimulcast removes the "a=rid:… recv" and "a=simulcast:recv"
// lines pion as answerer echoes from the server's offer: a browser answers
// with its send RIDs only, and so should the publisher.
func dropRecvSimulcast(sdp string) string {
	var lines []string
	for l := range strings.SplitSeq(sdp, "\r\n") {
		if strings.HasPrefix(l, "a=rid:") && strings.HasSuffix(l, " recv") || strings.HasPrefix(l, "a=simulcast:recv") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\r\n")
}

// sdpExtmap returns the header extension ids an SDP maps, by URI.
func sdpExtmap(sdp string) map[string]uint8 {
	ids := map[string]uint8{}
	for l := range strings.SplitSeq(sdp, "\r\n") {
		f := strings.Fields(strings.TrimPrefix(l, "a=extmap:"))
		if len(f) < 2 || !strings.HasPrefix(l, "a=extmap:") {
			continue
		}
		id, _, _ := strings.Cut(f[0], "/")
		if n, err := strconv.ParseUint(id, 10, 8); err == nil {
			ids[f[1]] = uint8(n)
		}
	}
	return ids
}

// sendVideo sends the camera without simulcast: all of --kbps, 640 px wide.
func (p *loadPeer) sendVideo() {
	p.sendVP8(p.video, p.run.cfg.Kbps*1000/8, 640, &p.keyframe[0], nil)
}

// sendLayer sends layer i of a simulcast camera at its share of --kbps and
// its width, with its RID and the transceiver's mid in header extensions
// (RFC 8852).
func (p *loadPeer) sendLayer(i int, mid string, midID, ridID uint8) {
	p.sendVP8(p.layers[i], p.run.cfg.Kbps*1000/8*simulcastShare[i]/16, simulcastWidth[i], &p.keyframe[i],
		func(pkt *rtp.Packet) {
			_ = pkt.Header.SetExtension(midID, []byte(mid))
			_ = pkt.Header.SetExtension(ridID, []byte(simulcastRIDs[i]))
		})
}

// sendVP8 sends 30 frames a second sized for bytesPerS to track: a keyframe
// every 2 s (four times an interframe) and at once after a PLI (keyframe
// set). Frames are valid VP8 frame headers (RFC 6386 §9.1) announcing width,
// over random bytes, packetized by pion's VP8 payloader (RFC 7741); tag, if
// set, adds header extensions to each packet.
func (p *loadPeer) sendVP8(track *webrtc.TrackLocalStaticRTP, bytesPerS, width int, keyframe *atomic.Bool, tag func(*rtp.Packet)) {
	inter := max(bytesPerS*2/(loadKeyEvery-1+loadKeyScale), 20)
	pz := rtp.NewPacketizer(loadMTU, 96, 0, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), 90000)
	noise := make([]byte, inter*loadKeyScale)
	rand.Read(noise)
	t := time.NewTicker(time.Second / loadFPS)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		key := n%loadKeyEvery == 0 || keyframe.Swap(false)
		if key {
			n = 0
		}
		size := inter
		if key {
			size = inter * loadKeyScale
		}
		frame := vp8Frame(noise[:size], key, width)
		for _, pkt := range pz.Packetize(frame, 90000/loadFPS) {
			if tag != nil {
				tag(pkt)
			}
			if err := track.WriteRTP(pkt); err != nil {
				return
			}
		}
	}
}

// vp8Frame writes a VP8 frame header over buf (RFC 6386 §9.1): the 3-byte
// frame tag (P = 0 for a keyframe, version 0, shown, first partition size)
// and, for a keyframe, the start code and a width × width·9/16 size.
func vp8Frame(buf []byte, key bool, width int) []byte {
	size := len(buf) - 10
	tag := uint32(size)<<5 | 1<<4 // show_frame
	if !key {
		tag |= 1 // inter frame
	}
	buf[0], buf[1], buf[2] = byte(tag), byte(tag>>8), byte(tag>>16)
	if key {
		height := width * 9 / 16
		copy(buf[3:], []byte{0x9d, 0x01, 0x2a, byte(width), byte(width >> 8), byte(height), byte(height >> 8)})
	}
	return buf
}

// sendAudio sends one Opus packet every 20 ms (TOC: CELT FB 20 ms, mono).
func (p *loadPeer) sendAudio() {
	pz := rtp.NewPacketizer(loadMTU, 111, 0, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000)
	payload := make([]byte, loadOpusBytes)
	rand.Read(payload)
	payload[0] = 0xf8
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		for _, pkt := range pz.Packetize(payload, 960) {
			if err := p.audio.WriteRTP(pkt); err != nil {
				return
			}
		}
	}
}

// onTrack reads a forwarded track: packets, sequence gaps and, for video,
// the first packet of a keyframe.
func (p *loadPeer) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	video := tr.Kind() == webrtc.RTPCodecTypeVideo
	st := &seqStats{}
	p.rmu.Lock()
	p.streams = append(p.streams, st)
	p.rmu.Unlock()
	p.wg.Go(func() {
		buf := make([]byte, 1500)
		var h rtp.Header
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			hn, err := h.Unmarshal(buf[:n])
			if err != nil {
				continue
			}
			st.add(h.SequenceNumber)
			if !video {
				p.gotAudio.Store(true)
				continue
			}
			if p.firstVideo.Load() == 0 {
				p.firstVideo.CompareAndSwap(0, int64(max(time.Since(p.joinedAt), 1)))
			}
			if i := vp8KeyframeStart(buf[hn:n]); i > 0 {
				p.firstFrame.CompareAndSwap(0, int64(max(time.Since(p.joinedAt), 1)))
				if w := vp8Width(buf[hn+i : n]); w > 0 {
					p.layerWidth.Store(int32(w))
				}
			}
		}
	})
}

// vp8KeyframeStart returns where the VP8 frame starts when payload is the
// first packet of a keyframe, 0 otherwise: the payload descriptor's S bit
// with partition 0 (RFC 7741 §4.2), then a frame tag whose P bit is 0 (RFC
// 6386 §9.1).
func vp8KeyframeStart(b []byte) int {
	if len(b) < 1 {
		return 0
	}
	d := b[0]
	if d&0x10 == 0 || d&0x07 != 0 {
		return 0
	}
	i := 1
	if d&0x80 != 0 { // X: extension byte
		if len(b) <= i {
			return 0
		}
		x := b[i]
		i++
		if x&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(b) <= i {
				return 0
			}
			if b[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/KEYIDX
			i++
		}
	}
	if len(b) > i && b[i]&0x01 == 0 {
		return i
	}
	return 0
}

// vp8Width returns the width a keyframe announces after its start code
// (RFC 6386 §9.1), 0 when frame is too short or has none.
func vp8Width(frame []byte) int {
	if len(frame) < 10 || frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0
	}
	return int(frame[6]) | int(frame[7]&0x3f)<<8
}

// seqStats counts a stream's packets and the span of its sequence numbers
// (extended over wraps) to estimate loss.
type seqStats struct {
	mu          sync.Mutex
	started     bool
	first, high int64
	received    int64
}

func (s *seqStats) add(seq uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received++
	if !s.started {
		s.started, s.first, s.high = true, int64(seq), int64(seq)
		return
	}
	// Extend seq to the cycle nearest the highest seen.
	ext := s.high&^0xffff | int64(seq)
	switch {
	case ext < s.high-0x8000:
		ext += 0x10000
	case ext > s.high+0x8000:
		ext -= 0x10000
	}
	s.high = max(s.high, ext)
}

func (s *seqStats) counts() (received, expected int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return 0, 0
	}
	return s.received, s.high - s.first + 1
}

func (r *sfuRun) withVideo() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.peers {
		if !p.publisher && p.firstFrame.Load() > 0 {
			n++
		}
	}
	return n
}

func (r *sfuRun) summarise(sum *sfuSummary) {
	r.mu.Lock()
	peers := slices.Clone(r.peers)
	sum.Errors = r.errs
	r.mu.Unlock()
	var ff, conn, fv []time.Duration
	var lost, expected int64
	for _, p := range peers {
		if p.publisher {
			if p.sending.Load() {
				sum.PublishersSending++
			}
			continue
		}
		if p.joined.Load() {
			sum.SubscribersJoined++
		}
		if d := p.connected.Load(); d > 0 {
			conn = append(conn, time.Duration(d))
		}
		if d := p.firstVideo.Load(); d > 0 {
			fv = append(fv, time.Duration(d))
		}
		if d := p.firstFrame.Load(); d > 0 {
			sum.SubscribersWithVideo++
			ff = append(ff, time.Duration(d))
		}
		if p.gotAudio.Load() {
			sum.SubscribersWithAudio++
		}
		if p.simulcast.Load() {
			sum.SimulcastNegotiated = true
			if sum.Layers == nil {
				sum.Layers, sum.LayersRequested = map[string]int{}, map[string]int{}
			}
			sum.LayersRequested[p.quality]++
			if i := slices.Index(simulcastWidth[:], int(p.layerWidth.Load())); i >= 0 {
				sum.Layers[sfuQualities[i]]++
			}
		}
		p.rmu.Lock()
		for _, st := range p.streams {
			rec, exp := st.counts()
			sum.ReceivedPackets += rec
			expected += exp
			lost += max(exp-rec, 0)
		}
		p.rmu.Unlock()
	}
	ms := sfuMillis(conn)
	sum.ConnectedP50, sum.ConnectedP99 = sfuPercentile(ms, 50), sfuPercentile(ms, 99)
	ms = sfuMillis(fv)
	sum.FirstPacketP50, sum.FirstPacketP99 = sfuPercentile(ms, 50), sfuPercentile(ms, 99)
	ms = sfuMillis(ff)
	sum.FirstFrameP50, sum.FirstFrameP99 = sfuPercentile(ms, 50), sfuPercentile(ms, 99)
	if len(ms) > 0 {
		sum.FirstFrameMax = ms[len(ms)-1]
	}
	sum.LostPackets = lost
	if expected > 0 {
		sum.LossPct = float64(lost) / float64(expected) * 100
	}
}

// close ends every peer at once and waits for their goroutines.
func (r *sfuRun) close() {
	r.mu.Lock()
	peers := slices.Clone(r.peers)
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Go(func() {
			p.cancel()
			if p.ws != nil {
				p.ws.CloseNow()
			}
			if p.pc != nil {
				p.pc.Close()
			}
			p.wg.Wait()
		})
	}
	wg.Wait()
}
