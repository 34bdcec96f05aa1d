package sfu

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// lossyConn is a UDP socket that loses every nth incoming RTP packet (RTCP,
// STUN and DTLS pass): a steady 1/n loss on a pupil's downlink.
type lossyConn struct {
	net.PacketConn
	n       int64
	rtp     atomic.Int64
	dropped atomic.Int64
}

func (c *lossyConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		k, from, err := c.PacketConn.ReadFrom(p)
		if err != nil || k < 2 {
			return k, from, err
		}
		// RTP: version 2, and a second byte that is not an RTCP type
		// (192–223) — the header stays clear under SRTP.
		if p[0]&0xc0 == 0x80 && (p[1] < 192 || p[1] > 223) {
			if c.rtp.Add(1)%c.n == 0 {
				c.dropped.Add(1)
				continue
			}
		}
		return k, from, err
	}
}

// TestNACKRecovery: a subscriber that loses one RTP packet in ten asks again
// (NACK, as browsers do) and the SFU resends from its packet cache: it ends
// with nearly every packet of the teacher's camera.
func TestNACKRecovery(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("nack", KindLesson); err != nil {
		t.Fatal(err)
	}
	teacher := ts.dial(t, "prof", "nack", ts.grant(t, "nack", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	teacher.publish(SourceCamera)

	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	lossy := &lossyConn{PacketConn: udp, n: 10}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: lossy})
	t.Cleanup(func() { mux.Close() })
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(me, ir); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		t.Fatal(err)
	}
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
	pupil := ts.dialWith(t, api, webrtc.Configuration{}, "eleve", "nack", ts.grant(t, "nack", "eleve", RoleParticipant, false, false))
	var mu sync.Mutex
	var seqs []uint16
	pupil.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		pupil.wg.Go(func() {
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				mu.Lock()
				seqs = append(seqs, p.SequenceNumber)
				mu.Unlock()
			}
		})
	})
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seqs)
	}
	for deadline := time.Now().Add(10 * time.Second); count() < 20; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the pupil got %d packets of the teacher's camera", count())
		}
	}
	start := count()
	time.Sleep(4 * time.Second) // ≈ 120 camera packets, ≈ 12 lost on the way
	mu.Lock()
	got := append([]uint16(nil), seqs[start:]...)
	mu.Unlock()
	teacher.close()
	if lossy.dropped.Load() < 8 {
		t.Fatalf("only %d packets dropped: the loss was not induced", lossy.dropped.Load())
	}
	// Unique sequence numbers over the span received: the lost ones came
	// back as retransmissions.
	seen := map[uint16]bool{}
	lo, hi := got[0], got[0]
	for _, seq := range got {
		seen[seq] = true
		if int16(seq-lo) < 0 {
			lo = seq
		}
		if int16(seq-hi) > 0 {
			hi = seq
		}
	}
	// The last packets may still be waiting for their resend (a loaded
	// machine is slow to ask and to answer): leave out the last second.
	span := int(hi-lo) + 1 - 30
	missing := 0
	for i := range span {
		if !seen[lo+uint16(i)] {
			missing++
		}
	}
	t.Logf("%d RTP packets through the socket, %d dropped; %d of %d sequence numbers missing at the end", lossy.rtp.Load(), lossy.dropped.Load(), missing, span)
	// Without retransmission every dropped packet inside the span would be
	// missing (about one in ten); with it, nearly none are.
	if span < 60 || missing*4 > int(lossy.dropped.Load()) {
		t.Errorf("%d of %d packets never recovered (%d dropped by the link): NACK/resend not working", missing, span, lossy.dropped.Load())
	}
}
