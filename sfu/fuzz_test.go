package sfu

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// fuzzPath is the forwarding path of one published track, built from real
// pion PeerConnections over loopback without signaling: a publisher peer
// sends VP8 to a server PeerConnection (the Manager's API: interceptors,
// SRTP), forward copies it to a TrackLocalStaticRTP bound to a second server
// PeerConnection, whose subscriber peer counts what arrives and whose RTCP
// is read by readRTCP as in a room. Fuzzed input goes through the same
// stacks; the subscriber must still receive media afterwards.
type fuzzPath struct {
	track    *publishedTrack
	sub      *webrtc.PeerConnection // the first subscriber's peer
	received atomic.Int64           // by the first subscriber
	camera   chan bool              // the publisher sends while true (benchmarks stop it)
}

// connect runs offer/answer between two PeerConnections (candidates in the
// SDP) and waits until offerer is connected.
func connect(tb testing.TB, offerer, answerer *webrtc.PeerConnection) {
	tb.Helper()
	connected := make(chan struct{})
	var once sync.Once
	offerer.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		tb.Fatal(err)
	}
	<-g
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		tb.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	g = webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		tb.Fatal(err)
	}
	<-g
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		tb.Fatal("not connected within 10 s")
	}
}

func newFuzzPath(f testing.TB, subscribers int) *fuzzPath {
	m, err := New(Config{TCPPort: -1, IncludeLoopback: true, IPFilter: loopbackOnly,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Signer{Key: testKey})
	if err != nil {
		f.Fatal(err)
	}
	var pcs []*webrtc.PeerConnection
	newPC := func(api *webrtc.API) *webrtc.PeerConnection {
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			f.Fatal(err)
		}
		pcs = append(pcs, pc)
		return pc
	}
	stop := make(chan struct{})
	fp := &fuzzPath{camera: make(chan bool, 1)}
	var wg sync.WaitGroup
	f.Cleanup(func() {
		close(stop)
		for _, pc := range pcs {
			pc.Close()
		}
		wg.Wait()
		m.Close()
	})

	// Publisher → server.
	pub, pubServer := newPC(clientAPI), newPC(m.api)
	vp8 := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	camera, err := webrtc.NewTrackLocalStaticRTP(vp8, "camera", "prof")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := pub.AddTransceiverFromTrack(camera, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		f.Fatal(err)
	}
	remotes := make(chan *webrtc.TrackRemote, 1)
	pubServer.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { remotes <- tr })
	connect(f, pub, pubServer)
	wg.Go(func() { // the camera: a VP8 keyframe-ish packet every 10 ms
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1, Marker: true},
			Payload: []byte{0x10, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01}}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		on := true
		for {
			select {
			case <-stop:
				return
			case on = <-fp.camera:
				continue
			case <-tick.C:
			}
			if !on {
				continue
			}
			p.SequenceNumber++
			p.Timestamp += 900
			if camera.WriteRTP(&p) != nil {
				return
			}
		}
	})
	var remote *webrtc.TrackRemote
	select {
	case remote = <-remotes:
	case <-time.After(10 * time.Second):
		f.Fatal("no track at the server")
	}

	// Server → subscriber.
	local, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, "t1", "prof")
	if err != nil {
		f.Fatal(err)
	}
	fp.track = &publishedTrack{info: TrackInfo{ID: "t1", User: "prof", Source: SourceCamera, Kind: "video"},
		owner: &Participant{pc: pubServer}, remote: remote, local: local, stats: &m.stats}
	for i := range subscribers {
		subServer, sub := newPC(m.api), newPC(clientAPI)
		sender, err := subServer.AddTrack(local)
		if err != nil {
			f.Fatal(err)
		}
		sub.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			wg.Go(func() {
				buf := make([]byte, 1500)
				for {
					if _, _, err := tr.Read(buf); err != nil {
						return
					}
					if i == 0 {
						fp.received.Add(1)
					}
				}
			})
		})
		connect(f, subServer, sub)
		if i == 0 {
			fp.sub = sub
		}
		fp.track.subs.Add(1)
		wg.Go(func() { readRTCP(sender, fp.track.requestKeyframe, nil) })
	}
	wg.Go(func() { fp.track.forward(func() {}) })
	fp.stillFlowing(f)
	return fp
}

// stillFlowing fails unless the subscriber keeps receiving video.
func (fp *fuzzPath) stillFlowing(tb testing.TB) {
	tb.Helper()
	n := fp.received.Load()
	deadline := time.Now().Add(10 * time.Second)
	for fp.received.Load() < n+5 {
		if time.Now().After(deadline) {
			tb.Fatalf("media stopped: %d packets received", fp.received.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func rtpSeed(marker bool, payload []byte) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, Timestamp: 9000,
		SSRC: 1234, Marker: marker}, Payload: payload}
	b, _ := p.Marshal()
	return b
}

// FuzzForwardRTP feeds arbitrary bytes to the forwarding path of a published
// track (as if the publisher had sent them), through the real bindings of a
// connected subscriber: nothing panics and the subscriber's media goes on.
func FuzzForwardRTP(f *testing.F) {
	f.Add(rtpSeed(true, []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}))
	f.Add(rtpSeed(false, nil))
	f.Add([]byte{})
	f.Add([]byte{0x80})
	f.Add([]byte{0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff}) // extension longer than the packet
	f.Add([]byte{0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff})                   // padding longer than the packet
	f.Add([]byte{0x8f, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})                         // 15 CSRCs announced, none present
	fp := newFuzzPath(f, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1500 {
			b = b[:1500]
		}
		fp.track.write(b)
	})
	fp.stillFlowing(f)
}

// FuzzSubscriberRTCP sends arbitrary bytes as RTCP from a subscriber's
// PeerConnection (SRTCP-protected, so they reach the server's interceptors
// and its RTCP reader): nothing panics, and the subscriber's media goes on.
func FuzzSubscriberRTCP(f *testing.F) {
	for _, p := range []rtcp.Packet{
		&rtcp.PictureLossIndication{MediaSSRC: 1},
		&rtcp.FullIntraRequest{MediaSSRC: 1, FIR: []rtcp.FIREntry{{SSRC: 1}}},
		&rtcp.TransportLayerNack{MediaSSRC: 1, Nacks: []rtcp.NackPair{{PacketID: 1, LostPackets: 0xffff}}},
		&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 1, FractionLost: 255}}},
		&rtcp.TransportLayerCC{MediaSSRC: 1, PacketStatusCount: 3, PacketChunks: []rtcp.PacketStatusChunk{
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 3}},
			RecvDeltas: []*rtcp.RecvDelta{{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 250}}},
		&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 1, SSRCs: []uint32{1}},
	} {
		b, err := p.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x80, 0xc9, 0xff, 0xff}) // length beyond the data
	f.Add([]byte{0x81, 0xcd, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 1})
	fp := newFuzzPath(f, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || len(b) > 1200 {
			return
		}
		raw := rtcp.RawPacket(b)
		_ = fp.sub.WriteRTCP([]rtcp.Packet{&raw})
	})
	fp.stillFlowing(f)
}

// BenchmarkForward measures the forwarding path for one packet of 1,200
// bytes to 10 subscribers over loopback (interceptors, SRTP, one sendto per
// subscriber): ns/op is per packet received, µs/subscriber-packet per copy
// sent. The subscribers' peers run in the same process, so the figure is an
// upper bound of the server's share: cpu-µs counts both ends.
func BenchmarkForward(b *testing.B) {
	const subscribers = 10
	fp := newFuzzPath(b, subscribers)
	fp.camera <- false
	time.Sleep(50 * time.Millisecond)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1, Timestamp: 1},
		Payload: make([]byte, 1200)}
	pkt.Payload[0] = 0x10
	b.ReportAllocs()
	cpu0 := processCPU()
	for i := 0; b.Loop(); i++ {
		pkt.SequenceNumber = uint16(i)
		raw, _ := pkt.Marshal()
		fp.track.write(raw)
	}
	// CPU time rather than wall time: on a shared machine the wall time
	// mostly measures the neighbours.
	cpu := processCPU() - cpu0
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/subscribers, "cpu-µs/subscriber-packet")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/subscribers, "µs/subscriber-packet")
}

// processCPU is the user + system CPU time of this process (both ends of the
// loopback path).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
