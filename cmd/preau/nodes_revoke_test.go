//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// revokeWithin is issue 8's promise for fault test 6.
const revokeWithin = time.Second

// TestNodesRevocation (issue 8, fault test 6): the demo pupil is in a live
// lesson and in the chat on node B; the administrator disables the account
// on node A. Within 1 s node B closes the pupil's chat connection (4001)
// and ends their live connection ("revoked"), the teacher's page sees them
// leave, and node B refuses the pupil's session.
func TestNodesRevocation(t *testing.T) {
	cl := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var classID int64
	if err := cl.d.QueryRow(ctx, "SELECT id FROM classes WHERE name = ?", "3e A").Scan(&classID); err != nil {
		t.Fatal(err)
	}
	pupil, pupilCookie := cl.session(t, "eleve.demo")
	_, teacherCookie := cl.session(t, "prof.demo")
	_, adminCookie := cl.session(t, "admin.demo")
	// call sends one request and decodes a success into v.
	call := func(base, cookie, method, path, body string, v any) int {
		t.Helper()
		r := do(base, cookie, method, path, "application/json", []byte(body))
		if r.err != nil {
			t.Fatalf("%s %s: %v", method, path, r.err)
		}
		if v != nil && r.code < 300 {
			r.decode(t, v)
		}
		return r.code
	}

	// The lesson on node B; teacher and pupil join there.
	var lesson struct{ Room string }
	if code := call(cl.b.url, teacherCookie, "POST", "/api/v1/live/lessons", fmt.Sprintf(`{"class_id":%d}`, classID), &lesson); code != http.StatusCreated {
		t.Fatalf("start the lesson on B: %d", code)
	}
	teacherLive := joinLive(t, ctx, cl.b.url, teacherCookie, lesson.Room)
	if _, ok := waitLive(teacherLive, 10*time.Second, func(e liveEvent) bool { return e.Type == "joined" }); !ok {
		t.Fatal("the teacher did not join")
	}
	pupilLive := joinLive(t, ctx, cl.b.url, pupilCookie, lesson.Room)
	if _, ok := waitLive(pupilLive, 10*time.Second, func(e liveEvent) bool { return e.Type == "joined" }); !ok {
		t.Fatal("the pupil did not join")
	}
	pupilID := fmt.Sprint(pupil)
	if _, ok := waitLive(teacherLive, 10*time.Second, func(e liveEvent) bool {
		return e.Type == "participant_joined" && e.Participant != nil && e.Participant.User == pupilID
	}); !ok {
		t.Fatal("the teacher did not see the pupil join")
	}

	// The pupil's chat on node B.
	chatWS, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(cl.b.url, "http")+"/ws/chat",
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {pupilCookie}}})
	if err != nil {
		t.Fatalf("dial /ws/chat on B: %v", err)
	}
	defer chatWS.CloseNow()
	chatClosed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := chatWS.Read(ctx); err != nil {
				chatClosed <- err
				return
			}
		}
	}()
	if code := call(cl.b.url, pupilCookie, "GET", "/api/v1/me", "", nil); code != http.StatusOK {
		t.Fatalf("the pupil's session on B before: %d", code)
	}

	// Disabled on node A.
	start := time.Now()
	if code := call(cl.a.url, adminCookie, "POST", fmt.Sprintf("/api/v1/people/%d/disable", pupil), "", nil); code >= 300 {
		t.Fatalf("disable on A: %d", code)
	}
	answered := time.Since(start)

	select {
	case err := <-chatClosed:
		if s := websocket.CloseStatus(err); s != 4001 {
			t.Errorf("chat on B closed with %v (status %d), want 4001", err, s)
		}
	case <-time.After(revokeWithin):
		t.Errorf("the pupil's chat on B still open %v after the disable", revokeWithin)
	}
	chatCut := time.Since(start)
	e, ok := waitLive(pupilLive, revokeWithin, func(e liveEvent) bool { return e.Type == "error" || e.Type == "closed" })
	liveCut := time.Since(start)
	if !ok || e.Code != "revoked" {
		t.Errorf("the pupil's live connection on B: %+v (found %v), want the error revoked within %v", e, ok, revokeWithin)
	}
	if _, ok := waitLive(teacherLive, revokeWithin, func(e liveEvent) bool {
		return e.Type == "participant_left" && e.Participant != nil && e.Participant.User == pupilID
	}); !ok {
		t.Errorf("the teacher did not see the pupil leave within %v", revokeWithin)
	}
	teacherSaw := time.Since(start)
	if code := call(cl.b.url, pupilCookie, "GET", "/api/v1/me", "", nil); code != http.StatusUnauthorized {
		t.Errorf("the pupil's session on B after: %d, want 401", code)
	}
	t.Logf("revocation across nodes: disable answered on A in %v; on B the chat closed after %v, the live connection after %v, the teacher saw the pupil leave after %v",
		answered.Round(time.Millisecond), chatCut.Round(time.Millisecond), liveCut.Round(time.Millisecond), teacherSaw.Round(time.Millisecond))
}

// liveEvent is what the fault tests read of the SFU's events.
type liveEvent struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	Message     string `json:"message"`
	Participant *struct {
		User string `json:"user"`
	} `json:"participant"`
}

// joinLive asks base for a grant to room with the session cookie, joins it
// over base's /live/ws (signaling only, no PeerConnection) and returns its
// events; the channel closes with the socket.
func joinLive(t *testing.T, ctx context.Context, base, cookie, room string) <-chan liveEvent {
	t.Helper()
	ch, _ := joinLiveConn(t, ctx, base, cookie, room)
	return ch
}

// joinLiveConn is joinLive that also returns the socket, for the test to
// send on (the reader is the channel's goroutine).
func joinLiveConn(t *testing.T, ctx context.Context, base, cookie, room string) (<-chan liveEvent, *websocket.Conn) {
	t.Helper()
	r := do(base, cookie, "POST", "/api/v1/live/rooms/"+room+"/grant", "", nil)
	if r.code != http.StatusOK {
		t.Fatalf("grant to %s on %s: %s", room, base, r)
	}
	var grant struct{ Room, Grant string }
	r.decode(t, &grant)
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/live/ws?room="+url.QueryEscape(room),
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie}}})
	if err != nil {
		t.Fatalf("dial /live/ws on %s: %v", base, err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	b, _ := json.Marshal(map[string]any{"v": 1, "type": "join", "room": grant.Room, "grant": grant.Grant})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	ch := make(chan liveEvent, 64)
	go func() {
		defer close(ch)
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			var e liveEvent
			if json.Unmarshal(b, &e) == nil {
				select {
				case ch <- e:
				default: // the test reads what it waits for; drop the rest
				}
			}
		}
	}()
	return ch, ws
}

// waitLive waits up to d for an event that matches; a closed socket is the
// event {Type: "closed"}.
func waitLive(ch <-chan liveEvent, d time.Duration, match func(liveEvent) bool) (liveEvent, bool) {
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return liveEvent{Type: "closed"}, match(liveEvent{Type: "closed"})
			}
			if match(e) {
				return e, true
			}
		case <-timeout:
			return liveEvent{}, false
		}
	}
}
