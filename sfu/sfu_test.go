package sfu

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-json-experiment/json"
	"github.com/pion/webrtc/v4"
)

// TestLesson runs a whole lesson with real pion peers over loopback: the
// teacher publishes VP8 and Opus, three pupils receive both, an unauthorised
// publish is refused, the floor is given and taken back, a pupil is kicked,
// the lesson ends and nothing leaks.
func TestLesson(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("cours-1", KindLesson); err != nil {
		t.Fatal(err)
	}
	teacher := ts.dial(t, "prof", "cours-1", ts.grant(t, "cours-1", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	teacher.publish(SourceCamera, SourceMicrophone)

	var pupils []*testClient
	for i := range 3 {
		u := fmt.Sprintf("eleve%d", i)
		p := ts.dial(t, u, "cours-1", ts.grant(t, "cours-1", u, RoleParticipant, false, false))
		pupils = append(pupils, p)
	}
	for _, p := range pupils {
		p.waitMedia(t, 10*time.Second, "prof", "video", 10)
		p.waitMedia(t, 10*time.Second, "prof", "audio", 10)
	}

	if st := ts.m.Stats(); st.Rooms != 1 || st.Participants != 4 || st.ForwardedPackets == 0 || st.ForwardedBytes == 0 {
		t.Fatalf("stats: %+v", st)
	}

	// A pupil without the floor tries to publish: refused, never forwarded.
	p0 := pupils[0]
	p0.publish(SourceMicrophone)
	p0.mustEvent(2*time.Second, "track_refused", isError("track_refused"))
	// A pupil may not moderate.
	p0.sendMsg(Message{V: 1, Type: TypeKick, User: "eleve1"})
	p0.mustEvent(2*time.Second, "forbidden", isError("forbidden"))

	// Raise hand → the teacher sees the queue, in order.
	p0.sendMsg(Message{V: 1, Type: TypeRaiseHand})
	teacher.mustEvent(2*time.Second, "hands", func(e Event) bool { return e.Type == TypeHands && len(e.Hands) == 1 })
	pupils[2].sendMsg(Message{V: 1, Type: TypeRaiseHand})
	teacher.mustEvent(2*time.Second, "hands", func(e Event) bool {
		return e.Type == TypeHands && strings.Join(e.Hands, ",") == "eleve0,eleve2"
	})

	// Give the floor: the pupil's audio reaches the teacher and the others.
	teacher.sendMsg(Message{V: 1, Type: TypeGiveFloor, User: "eleve0"})
	p0.mustEvent(2*time.Second, "permissions", func(e Event) bool {
		return e.Type == TypePermissions && e.Permissions.Audio && !e.Permissions.Video
	})
	p0.publish(SourceMicrophone)
	teacher.waitMedia(t, 10*time.Second, "eleve0", "audio", 10)
	pupils[1].waitMedia(t, 10*time.Second, "eleve0", "audio", 5)
	if teacher.received("eleve0", "video") != 0 {
		t.Fatal("video forwarded from a pupil allowed audio only")
	}

	// Take it back: forwarding stops within 1 s.
	teacher.sendMsg(Message{V: 1, Type: TypeTakeFloor, User: "eleve0"})
	teacher.mustEvent(time.Second, "track_removed", func(e Event) bool {
		return e.Type == TypeTrackRemoved && e.Track.User == "eleve0"
	})
	time.Sleep(200 * time.Millisecond) // packets already in flight
	n := teacher.received("eleve0", "audio")
	time.Sleep(500 * time.Millisecond)
	if m := teacher.received("eleve0", "audio"); m != n {
		t.Fatalf("pupil audio still forwarded after take_floor: %d → %d", n, m)
	}
	// Mute: a pupil with the floor is silenced by the server.
	p2 := pupils[2]
	teacher.sendMsg(Message{V: 1, Type: TypeGiveFloor, User: "eleve2"})
	p2.mustEvent(2*time.Second, "permissions", isType(TypePermissions))
	p2.publish(SourceMicrophone)
	teacher.waitMedia(t, 10*time.Second, "eleve2", "audio", 5)
	teacher.sendMsg(Message{V: 1, Type: TypeMute, User: "eleve2"})
	p2.mustEvent(time.Second, "muted", isType(TypeMuted))
	teacher.mustEvent(time.Second, "track_removed", func(e Event) bool {
		return e.Type == TypeTrackRemoved && e.Track.User == "eleve2"
	})

	// Publishing again without the floor is refused.
	p0.publish(SourceMicrophone)
	p0.mustEvent(2*time.Second, "track_refused", func(e Event) bool { return isError("track_refused")(e) })

	// Kick: the pupil's PeerConnection is closed within 1 s, and it may not
	// come back with its grant.
	p1 := pupils[1]
	closed := make(chan struct{})
	var once sync.Once
	p1.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateDisconnected {
			once.Do(func() { close(closed) })
		}
	})
	start := time.Now()
	teacher.sendMsg(Message{V: 1, Type: TypeKick, User: "eleve1"})
	select {
	case <-closed:
	case <-time.After(time.Second):
		t.Fatalf("kicked pupil's PeerConnection still %v after 1 s", p1.pc.ConnectionState())
	}
	t.Logf("kick → pupil PeerConnection closed in %v", time.Since(start))
	kickedAt := time.Now()
	p1.mustEvent(5*time.Second, "kicked", isError("kicked"))
	t.Logf("kicked event after %v more", time.Since(kickedAt))
	again := ts.dial(t, "eleve1-bis", "cours-1", ts.grant(t, "cours-1", "eleve1", RoleParticipant, false, false))
	again.mustEvent(2*time.Second, "kicked", isError("kicked"))

	// Lock: a new pupil is refused; the teacher still gets in.
	teacher.sendMsg(Message{V: 1, Type: TypeLock, Locked: new(true)})
	teacher.mustEvent(2*time.Second, "locked", isType(TypeLocked))
	late := ts.dial(t, "retard", "cours-1", ts.grant(t, "cours-1", "retard", RoleParticipant, false, false))
	late.mustEvent(2*time.Second, "locked", isError("locked"))

	// End: everyone gets "ended", sockets close, the room is gone.
	teacher.sendMsg(Message{V: 1, Type: TypeEnd})
	for _, c := range []*testClient{teacher, pupils[0], pupils[2]} {
		c.mustEvent(3*time.Second, "ended", isType(TypeEnded))
	}
	deadline := time.Now().Add(3 * time.Second)
	for !teacher.socketClosed() || !pupils[2].socketClosed() {
		if time.Now().After(deadline) {
			t.Fatal("sockets still open after end")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ts.m.Room("cours-1") != nil {
		t.Fatal("room still open after end")
	}
	for _, c := range []*testClient{teacher, again, late} {
		c.close()
	}
	for _, c := range pupils {
		c.close()
	}
	ts.m.Close()
	ts.srv.Close()
	checkLeaks(t, before)
}

// TestJoinStorm: ten pupils join at once while the teacher's camera starts;
// all of them must receive video.
func TestJoinStorm(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("storm", KindLesson); err != nil {
		t.Fatal(err)
	}
	teacher := ts.dial(t, "prof", "storm", ts.grant(t, "storm", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))

	const n = 10
	pupils := make([]*testClient, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u := fmt.Sprintf("eleve%d", i)
			pupils[i] = ts.dial(t, u, "storm", ts.grant(t, "storm", u, RoleParticipant, false, false))
		})
		if i == n/2 {
			teacher.publish(SourceCamera) // the camera starts in the middle of the storm
		}
	}
	wg.Wait()
	start := time.Now()
	for _, p := range pupils {
		p.waitMedia(t, 15*time.Second, "prof", "video", 5)
	}
	// Every join asked for a keyframe, but the teacher's encoder saw at
	// most one PLI per 500 ms (plus the one that opens the window).
	plis, elapsed := teacher.plis.Load(), time.Since(start)
	if plis < 1 || plis > int64(elapsed/minKeyframeInterval)+2 {
		t.Fatalf("%d PLIs in %v", plis, elapsed)
	}
	t.Logf("join storm: %d pupils with video in %v, %d PLIs", n, elapsed, plis)
	for _, p := range pupils {
		p.close()
	}
	teacher.close()
	ts.m.Close()
	ts.srv.Close()
	checkLeaks(t, before)
}

// TestRefusedJoins: a join is refused for a tampered, expired, wrong-room
// grant and for an unknown room.
func TestRefusedJoins(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("salle", KindMeeting); err != nil {
		t.Fatal(err)
	}
	good := ts.grant(t, "salle", "u1", RoleParticipant, true, true)
	tampered := strings.Replace(good, good[5:9], "AAAA", 1)
	expired, err := Signer{Key: testKey}.Sign(Grant{Room: "salle", UserID: "u1", Role: RoleParticipant,
		Expires: time.Now().Add(time.Minute)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts.m.cfg.Now = func() time.Time { return time.Now() } // the expired one is checked below with Verify
	if _, err := (Signer{Key: testKey}).Verify(expired, "salle", time.Now().Add(2*time.Minute)); err != ErrExpired {
		t.Fatalf("expired grant: %v", err)
	}
	for _, tc := range []struct{ name, room, grant, code string }{
		{"tampered", "salle", tampered, "bad_grant"},
		{"wrong room", "autre", good, "wrong_room"},
		{"unknown room", "inconnue", ts.grant(t, "inconnue", "u1", RoleParticipant, true, true), "unknown_room"},
		{"other key", "salle", func() string {
			tok, _ := Signer{Key: []byte(strings.Repeat("k", 32))}.Sign(Grant{Room: "salle", UserID: "u1",
				Role: RoleModerator, Expires: time.Now().Add(time.Minute)}, time.Now())
			return tok
		}(), "bad_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ts.dial(t, tc.name, tc.room, tc.grant)
			c.mustEvent(2*time.Second, tc.code, isError(tc.code))
			deadline := time.Now().Add(2 * time.Second)
			for !c.socketClosed() {
				if time.Now().After(deadline) {
					t.Fatal("socket still open")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	if got := len(ts.m.Room("salle").Participants()); got != 0 {
		t.Fatalf("%d participants after refused joins", got)
	}
}

// TestMalformedSignaling: bad JSON, an unknown type, a huge frame and a
// flood each close only the offending connection.
func TestMalformedSignaling(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("salle", KindMeeting); err != nil {
		t.Fatal(err)
	}
	good := ts.dial(t, "sage", "salle", ts.grant(t, "salle", "sage", RoleModerator, true, true))
	good.mustEvent(5*time.Second, "joined", isType(TypeJoined))

	for i, bad := range []func(c *testClient){
		func(c *testClient) { c.sendRaw([]byte(`{"v":1,"type":`)) },
		func(c *testClient) { c.sendRaw([]byte(`{"v":1,"type":"dance"}`)) },
		func(c *testClient) { c.sendRaw([]byte(`{"v":1,"type":"answer","sdp":"v=0\r\nnonsense"}`)) },
		func(c *testClient) { c.sendRaw([]byte(`{"v":1,"type":"join","room":"salle","grant":"g1.x.y"}`)) },
		func(c *testClient) { c.sendRaw([]byte(`{"v":1,"type":"ping","type":"ping"}`)) },
		func(c *testClient) { c.sendRaw([]byte(`{"v":1,"type":"ping","from":"prof"}`)) },
		func(c *testClient) {
			c.sendRaw([]byte(`{"v":1,"type":"ping","pad":"` + strings.Repeat("x", 70<<10) + `"}`))
		},
		func(c *testClient) {
			for range 100 {
				c.sendRaw([]byte(`{"v":1,"type":"ping"}`))
			}
		},
	} {
		u := fmt.Sprintf("fou%d", i)
		c := ts.dial(t, u, "salle", ts.grant(t, "salle", u, RoleParticipant, false, false))
		c.mustEvent(5*time.Second, "joined", isType(TypeJoined))
		bad(c)
		deadline := time.Now().Add(3 * time.Second)
		for !c.socketClosed() {
			if time.Now().After(deadline) {
				t.Fatalf("case %d: socket still open", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
		c.close()
	}
	good.sendMsg(Message{V: 1, Type: TypePing})
	good.mustEvent(2*time.Second, "pong", isType(TypePong))
	if got := len(ts.m.Room("salle").Participants()); got != 1 {
		t.Fatalf("%d participants, want 1", got)
	}
	good.close()
	ts.m.Close()
	ts.srv.Close()
	checkLeaks(t, before)
}

// TestSessionUser: with Config.SessionUser, a grant is only good with the
// session of the user it names.
func TestSessionUser(t *testing.T) {
	ts := newTestServer(t)
	ts.m.cfg.SessionUser = func(r *http.Request) (string, error) { return r.Header.Get("X-Test-User"), nil }
	if _, err := ts.m.CreateRoom("salle", KindMeeting); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ session, code string }{{"u1", ""}, {"u2", "bad_grant"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ws, _, err := websocket.Dial(ctx, ts.url, &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-User": {tc.session}}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(Message{V: 1, Type: TypeJoin, Room: "salle", Grant: ts.grant(t, "salle", "u1", RoleParticipant, false, false)})
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		_, b, err = ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		if (tc.code == "" && e.Type != TypeJoined) || (tc.code != "" && e.Code != tc.code) {
			t.Errorf("session %s: got %s %s", tc.session, e.Type, e.Code)
		}
		ws.CloseNow()
		cancel()
	}
}

// TestFloorTakenBeforeMedia: the floor is taken back after the server made a
// slot for the pupil's microphone but before its media arrives; the track is
// refused when it arrives (grants are enforced on media, not only on
// signaling) and never reaches the teacher.
func TestFloorTakenBeforeMedia(t *testing.T) {
	ts := newTestServer(t)
	room, err := ts.m.CreateRoom("salle", KindLesson)
	if err != nil {
		t.Fatal(err)
	}
	teacher := ts.dial(t, "prof", "salle", ts.grant(t, "salle", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	pupil := ts.dial(t, "eleve", "salle", ts.grant(t, "salle", "eleve", RoleParticipant, false, false))
	pupil.mustEvent(5*time.Second, "joined", isType(TypeJoined))

	teacher.sendMsg(Message{V: 1, Type: TypeGiveFloor, User: "eleve"})
	pupil.mustEvent(2*time.Second, "permissions", isType(TypePermissions))
	pupil.beforeAnswer = func() {
		teacher.sendMsg(Message{V: 1, Type: TypeTakeFloor, User: "eleve"})
		deadline := time.Now().Add(2 * time.Second)
		for {
			room.mu.Lock()
			p := room.participants["eleve"]
			room.mu.Unlock()
			if !p.allowed(SourceMicrophone) {
				return
			}
			if time.Now().After(deadline) {
				t.Error("floor not taken back")
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	pupil.publish(SourceMicrophone)
	pupil.mustEvent(5*time.Second, "track_refused", isError("track_refused"))
	time.Sleep(300 * time.Millisecond)
	if _, found := teacher.waitEvent(0, func(e Event) bool { return e.Type == TypeTrackAdded }); found {
		t.Fatal("the refused track was announced to the teacher")
	}
	if n := teacher.received("eleve", "audio"); n != 0 {
		t.Fatalf("teacher received %d packets of a refused track", n)
	}
}
