package sfu

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-json-experiment/json"
	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func loopbackOnly(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil }

// testServer is a Manager behind an httptest server, on loopback only.
type testServer struct {
	m   *Manager
	srv *httptest.Server
	url string
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	m, err := New(Config{IncludeLoopback: true, IPFilter: loopbackOnly,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Signer{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	ts := &testServer{m: m, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
	t.Cleanup(func() {
		m.Close()
		srv.Close()
	})
	return ts
}

func (ts *testServer) grant(t *testing.T, room, user, role string, audio, video bool) string {
	t.Helper()
	tok, err := Signer{Key: testKey}.Sign(Grant{Room: room, UserID: user, Name: "Nom " + user, Role: role,
		CanPublishAudio: audio, CanPublishVideo: video, CanPublishScreen: video,
		Expires: time.Now().Add(5 * time.Minute)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// testClient is a real pion peer with a signaling socket, as a browser page
// would be: it answers the server's offers and attaches its tracks to the
// slots the server made.
type testClient struct {
	t    *testing.T
	name string
	ws   *websocket.Conn
	pc   *webrtc.PeerConnection
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu      sync.Mutex
	events  []Event
	pending map[string]*webrtc.TrackLocalStaticSample // source → track waiting for a slot
	packets map[string]*atomic.Int64                  // received RTP packets by track id
	kinds   map[string]string                         // track id → kind
	sockErr error
	plis    atomic.Int64 // keyframe requests received for our tracks

	// beforeAnswer, when set, runs before an answer that attaches tracks
	// is sent (to change the server's state at that moment).
	beforeAnswer func()
}

var clientAPI = func() *webrtc.API {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		panic(err)
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(loopbackOnly)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
}()

// dial connects and sends the join; it does not wait for "joined".
func (ts *testServer) dial(t *testing.T, name, room, grant string) *testClient {
	t.Helper()
	return ts.dialWith(t, clientAPI, webrtc.Configuration{}, name, room, grant)
}

func (c *testClient) close() {
	c.stop()
	c.ws.CloseNow()
	c.pc.Close()
	c.wg.Wait()
}

func (c *testClient) sendMsg(m Message) {
	b, err := json.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(b)
}

func (c *testClient) sendRaw(b []byte) {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, b)
}

func (c *testClient) readLoop() {
	for {
		_, b, err := c.ws.Read(c.ctx)
		if err != nil {
			c.mu.Lock()
			c.sockErr = err
			c.mu.Unlock()
			return
		}
		var e Event
		if err := json.Unmarshal(b, &e, json.RejectUnknownMembers(true)); err != nil {
			c.t.Errorf("%s: bad event %s: %v", c.name, b, err)
			return
		}
		if e.Type == TypeOffer {
			// A PeerConnection closed by the server (kick, end) may fail
			// an answer in progress; the socket still carries the reason.
			// Tests that need the answer fail on missing media instead.
			if err := c.answer(e); err != nil {
				c.t.Logf("%s: answer: %v", c.name, err)
			}
		}
		c.mu.Lock()
		c.events = append(c.events, e)
		c.mu.Unlock()
	}
}

// answer attaches pending tracks to new slots, answers and starts sending.
func (c *testClient) answer(e Event) error {
	c.mu.Lock()
	var attach []*webrtc.TrackLocalStaticSample
	for _, s := range e.Slots {
		if tr := c.pending[s.Source]; tr != nil {
			attach = append(attach, tr)
			delete(c.pending, s.Source)
		}
	}
	c.mu.Unlock()
	for _, tr := range attach {
		trx, err := c.pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return err
		}
		c.wg.Go(func() {
			for {
				pkts, _, err := trx.Sender().ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					if _, ok := p.(*rtcp.PictureLossIndication); ok {
						c.plis.Add(1)
					}
				}
			}
		})
		c.wg.Go(func() { c.sendSamples(tr) })
	}
	if done, err := answerOffer(c.ctx, c.pc, e.SDP); done || err != nil {
		return err
	}
	if len(attach) > 0 && c.beforeAnswer != nil {
		c.beforeAnswer()
	}
	c.sendMsg(Message{V: 1, Type: TypeAnswer, SDP: c.pc.LocalDescription().SDP})
	return nil
}

// sendSamples writes synthetic media: 1 KB VP8-like frames every 33 ms, or
// Opus-sized frames every 20 ms, until the client closes.
func (c *testClient) sendSamples(tr *webrtc.TrackLocalStaticSample) {
	size, every := 1000, 33*time.Millisecond
	if tr.Kind() == webrtc.RTPCodecTypeAudio {
		size, every = 80, 20*time.Millisecond
	}
	buf := make([]byte, size)
	buf[0] = 0x10 // VP8 payload descriptor-ish first byte; content is never decoded
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
			if err := tr.WriteSample(media.Sample{Data: buf, Duration: every}); err != nil {
				return
			}
		}
	}
}

// publish asks the server for slots for the sources and keeps tracks to
// attach when the offer naming them arrives.
func (c *testClient) publish(sources ...string) {
	c.mu.Lock()
	for _, s := range sources {
		codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		if s == SourceMicrophone {
			codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
		}
		tr, err := webrtc.NewTrackLocalStaticSample(codec, c.name+"-"+s, c.name)
		if err != nil {
			c.t.Fatal(err)
		}
		c.pending[s] = tr
	}
	c.mu.Unlock()
	c.sendMsg(Message{V: 1, Type: TypePublish, Sources: sources})
}

// waitEvent waits for an event matching ok.
func (c *testClient) waitEvent(d time.Duration, ok func(Event) bool) (Event, bool) {
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		for _, e := range c.events {
			if ok(e) {
				c.mu.Unlock()
				return e, true
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			return Event{}, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *testClient) mustEvent(d time.Duration, what string, ok func(Event) bool) Event {
	c.t.Helper()
	e, found := c.waitEvent(d, ok)
	if !found {
		c.mu.Lock()
		defer c.mu.Unlock()
		var seen []string
		for _, e := range c.events {
			seen = append(seen, e.Type+" "+e.Code+" "+strings.Join(e.Hands, ","))
		}
		c.t.Fatalf("%s: no %s within %v; events: %q", c.name, what, d, seen)
	}
	return e
}

func isType(typ string) func(Event) bool { return func(e Event) bool { return e.Type == typ } }

func isError(code string) func(Event) bool {
	return func(e Event) bool { return e.Type == TypeError && e.Code == code }
}

// received counts RTP packets of the given kind from tracks published by user
// (track ids come from joined/track_added events).
func (c *testClient) received(user, kind string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	owners := map[string]string{}
	for _, e := range c.events {
		for _, t := range e.Tracks {
			owners[t.ID] = t.User
		}
		if e.Track != nil {
			owners[e.Track.ID] = e.Track.User
		}
	}
	var n int64
	for id, cnt := range c.packets {
		if owners[id] == user && c.kinds[id] == kind {
			n += cnt.Load()
		}
	}
	return n
}

func (c *testClient) waitMedia(t *testing.T, d time.Duration, user, kind string, min int64) {
	t.Helper()
	deadline := time.Now().Add(d)
	for c.received(user, kind) < min {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d %s packets from %s after %v, want ≥ %d", c.name, c.received(user, kind), kind, user, d, min)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *testClient) socketClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sockErr != nil
}

// checkLeaks fails if goroutines started during the test are still running
// a few seconds after everything was closed.
func checkLeaks(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d, before: %d\n%s", runtime.NumGoroutine(), before, buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// answerOffer sets the server's offer, answers it and waits until ICE
// gathering is complete, so the local description holds every candidate.
// done is true when ctx ended first (the client is closing).
func answerOffer(ctx context.Context, pc *webrtc.PeerConnection, offer string) (done bool, err error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return false, err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return false, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return false, err
	}
	select {
	case <-gathered:
		return false, nil
	case <-ctx.Done():
		return true, nil
	}
}
