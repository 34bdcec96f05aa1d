package sfu

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/go-json-experiment/json"
	"github.com/pion/webrtc/v4"
)

// The network check of the "Tester mon matériel" page: a WebSocket on which
// the server offers a PeerConnection with only a data channel, on the same
// ports as the lessons. When the data channel opens the server says which
// candidate pair carried it ("connected" with network udp or tcp and the
// candidate types), so the page learns whether the school's SFU is reachable
// from this network, over UDP and over TCP (it strips the other protocol's
// candidates to test one). No room, no grant: only a signed-in user, one
// PeerConnection per socket, closed after checkTTL.

const (
	checkTTL       = 20 * time.Second
	maxChecks      = 32 // concurrent checks on this node; more are refused (503)
	checkQueueSize = 8
)

// Check event types (server → client) on the check socket; the client sends
// "answer", "candidate" and "ping" as on /live/ws.
const (
	TypeConnected = "connected"
)

// CheckResult is what the server saw of a successful check.
type CheckResult struct {
	Network string `json:"network"` // "udp" or "tcp"
	Local   string `json:"local"`   // server candidate type: host, srflx, relay
	Remote  string `json:"remote"`  // client candidate type: host, srflx, prflx, relay
}

type checkEvent struct {
	V      int          `json:"v"`
	Type   string       `json:"type"`
	SDP    string       `json:"sdp,omitzero"`
	Result *CheckResult `json:"result,omitzero"`
	Code   string       `json:"code,omitzero"`
}

var activeChecks atomic.Int64

// CheckHandler serves the network check WebSocket (mount it behind the
// session: only signed-in users may open PeerConnections on the server).
func (m *Manager) CheckHandler() http.Handler {
	return http.HandlerFunc(m.serveCheck)
}

func (m *Manager) serveCheck(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	closed := m.closed
	if !closed {
		m.conns.Add(1)
	}
	m.mu.Unlock()
	if closed {
		http.Error(w, "service indisponible", http.StatusServiceUnavailable)
		return
	}
	defer m.conns.Done()
	if activeChecks.Add(1) > maxChecks {
		activeChecks.Add(-1)
		http.Error(w, "trop de tests en cours, réessayez dans un instant", http.StatusServiceUnavailable)
		return
	}
	defer activeChecks.Add(-1)

	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(MaxFrame)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), checkTTL)
	defer cancel()

	pc, err := m.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return
	}
	defer pc.Close()

	// One writer: events go through out, written by this goroutine below.
	out := make(chan checkEvent, checkQueueSize)
	emit := func(e checkEvent) {
		e.V = ProtocolVersion
		select {
		case out <- e:
		default: // the client is not reading: it loses the event
		}
	}
	dc, err := pc.CreateDataChannel("check", nil)
	if err != nil {
		return
	}
	var once sync.Once
	dc.OnOpen(func() {
		once.Do(func() {
			res := CheckResult{}
			if sctp := pc.SCTP(); sctp != nil {
				if pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
					res.Network = pair.Local.Protocol.String()
					res.Local = pair.Local.Typ.String()
					res.Remote = pair.Remote.Typ.String()
				}
			}
			_ = dc.SendText("ok")
			emit(checkEvent{Type: TypeConnected, Result: &res})
		})
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
	case <-ctx.Done():
		return
	}
	emit(checkEvent{Type: TypeOffer, SDP: pc.LocalDescription().SDP})

	// The reader runs beside; it ends when the socket closes.
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer cancel()
		bucket := tokenBucket{tokens: rateBurst, last: time.Now()}
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			msg, err := Decode(b)
			if typ != websocket.MessageText || err != nil || !bucket.take(time.Now()) {
				emit(checkEvent{Type: TypeError, Code: "bad_message"})
				return
			}
			switch msg.Type {
			case TypeAnswer:
				if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: msg.SDP}); err != nil {
					emit(checkEvent{Type: TypeError, Code: "bad_sdp"})
					return
				}
			case TypeCandidate:
				if pc.RemoteDescription() != nil {
					_ = pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: msg.Candidate.Candidate,
						SDPMid: msg.Candidate.SDPMid, SDPMLineIndex: msg.Candidate.SDPMLineIndex,
						UsernameFragment: msg.Candidate.UsernameFragment})
				}
			case TypePing:
				emit(checkEvent{Type: TypePong})
			}
		}
	}()
	for {
		select {
		case e := <-out:
			b := mustJSON(e)
			wctx, wcancel := context.WithTimeout(context.Background(), writeTimeout)
			err := c.Write(wctx, websocket.MessageText, b)
			wcancel()
			if err != nil {
				cancel()
				<-readDone
				return
			}
		case <-ctx.Done():
			pc.Close()
			// Flush what is queued (an error), then close.
			for len(out) > 0 {
				wctx, wcancel := context.WithTimeout(context.Background(), time.Second)
				_ = c.Write(wctx, websocket.MessageText, mustJSON(<-out))
				wcancel()
			}
			c.Close(websocket.StatusNormalClosure, "")
			<-readDone
			return
		}
	}
}

func mustJSON(e checkEvent) []byte {
	b, err := json.Marshal(e)
	if err != nil { // strings and a small struct: cannot fail
		panic("sfu: encode check event: " + err.Error())
	}
	return b
}
