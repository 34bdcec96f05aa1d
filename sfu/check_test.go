package sfu

import (
	"context"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-json-experiment/json"
	"github.com/pion/webrtc/v4"
)

// TestCheck: a pion peer answers the check socket's offer; the data channel
// opens and the server reports the UDP pair it used, then closes.
func TestCheck(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := newTestServer(t)
	srv := httptest.NewServer(ts.m.CheckHandler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	pc, err := clientAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	gotText := make(chan string, 1)
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			select {
			case gotText <- string(m.Data):
			default:
			}
		})
	})
	read := func() checkEvent {
		t.Helper()
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var e checkEvent
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	offer := read()
	if offer.Type != TypeOffer || offer.SDP == "" {
		t.Fatalf("first event %+v", offer)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	<-gathered
	b, _ := json.Marshal(Message{V: 1, Type: TypeAnswer, SDP: pc.LocalDescription().SDP})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := read()
	if res.Type != TypeConnected || res.Result == nil || res.Result.Network != "udp" || res.Result.Local != "host" {
		t.Fatalf("result %+v", res)
	}
	t.Logf("check connected over %+v in %v", *res.Result, time.Since(start).Round(time.Millisecond))
	select {
	case s := <-gotText:
		if s != "ok" {
			t.Fatalf("data channel said %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message on the data channel")
	}
	// A malformed frame ends the check.
	ws.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"kick"}`))
	if e := read(); e.Type != TypeError {
		t.Fatalf("after a bad frame: %+v", e)
	}
	ws.CloseNow()
	pc.Close()
	srv.Close()
	ts.m.Close()
	ts.srv.Close()
	checkLeaks(t, before)
}
