package sfu

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// newClientAPI is a client WebRTC API gathering only the given network
// types, on loopback.
func newClientAPI(t *testing.T, types ...webrtc.NetworkType) *webrtc.API {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes(types)
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(loopbackOnly)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
}

// dialWith is ts.dial with a PeerConnection from api and configuration cfg.
func (ts *testServer) dialWith(t *testing.T, api *webrtc.API, cfg webrtc.Configuration, name, room, grant string) *testClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ws, _, err := websocket.Dial(ctx, ts.url, nil)
	if err != nil {
		cancel()
		t.Fatalf("%s: dial: %v", name, err)
	}
	ws.SetReadLimit(1 << 20)
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &testClient{t: t, name: name, ws: ws, pc: pc, ctx: ctx, stop: cancel,
		pending: map[string]*webrtc.TrackLocalStaticSample{}, packets: map[string]*atomic.Int64{}, kinds: map[string]string{}}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		n := &atomic.Int64{}
		c.mu.Lock()
		c.packets[tr.ID()] = n
		c.kinds[tr.ID()] = tr.Kind().String()
		c.mu.Unlock()
		c.wg.Go(func() {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				n.Add(1)
			}
		})
	})
	c.wg.Go(c.readLoop)
	c.sendMsg(Message{V: 1, Type: TypeJoin, Room: room, Grant: grant})
	t.Cleanup(c.close)
	return c
}

// selectedPair is the protocol ("udp", "tcp") and type of the local
// candidate of the client's selected ICE pair (one transport: BUNDLE).
func selectedPair(c *testClient) (protocol string, typ webrtc.ICECandidateType) {
	sctp := c.pc.SCTP()
	if sctp == nil {
		return "", 0
	}
	p, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || p == nil {
		return "", 0
	}
	return p.Local.Protocol.String(), p.Local.Typ
}

// TestICETCP: a pupil whose network allows only TCP (its ICE agent gathers
// no UDP) reaches the server's one ICE-TCP port and receives the teacher's
// video and audio.
func TestICETCP(t *testing.T) {
	ts := newTestServer(t)
	if a := ts.m.TCPAddr(); a == nil {
		t.Fatal("no ICE-TCP listener")
	}
	if _, err := ts.m.CreateRoom("cours-tcp", KindLesson); err != nil {
		t.Fatal(err)
	}
	teacher := ts.dial(t, "prof", "cours-tcp", ts.grant(t, "cours-tcp", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	teacher.publish(SourceCamera, SourceMicrophone)

	tcpOnly := newClientAPI(t, webrtc.NetworkTypeTCP4)
	pupil := ts.dialWith(t, tcpOnly, webrtc.Configuration{}, "eleve", "cours-tcp",
		ts.grant(t, "cours-tcp", "eleve", RoleParticipant, false, false))
	pupil.waitMedia(t, 15*time.Second, "prof", "video", 10)
	pupil.waitMedia(t, 15*time.Second, "prof", "audio", 10)
	if network, _ := selectedPair(pupil); network != "tcp" {
		t.Fatalf("selected pair over %q, want tcp", network)
	}
}

// TestICETCPDisabled: a negative TCPPort opens no listener.
func TestICETCPDisabled(t *testing.T) {
	m, err := New(Config{TCPPort: -1, IncludeLoopback: true, IPFilter: loopbackOnly}, Signer{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.TCPAddr() != nil {
		t.Fatal("ICE-TCP listener with TCPPort -1")
	}
}
