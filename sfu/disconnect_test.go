package sfu

import (
	"errors"
	"testing"
	"time"
)

// TestDisconnect: an account disabled or a session ended (chat's Hub.OnRevoke
// calls Manager.Disconnect) ends the user's connections in every room of the
// node, the waiting room included, with "revoked"; the others stay.
func TestDisconnect(t *testing.T) {
	ts := newTestServer(t)
	for _, id := range []string{"cours-a", "cours-b"} {
		if _, err := ts.m.CreateRoom(id, KindLesson); err != nil {
			t.Fatal(err)
		}
	}
	ts.m.Room("cours-b").SetWaitingRoom(true)
	teacher := ts.dial(t, "prof", "cours-a", ts.grant(t, "cours-a", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	inA := ts.dial(t, "eleve-a", "cours-a", ts.grant(t, "cours-a", "eleve", RoleParticipant, false, false))
	inA.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	other := ts.dial(t, "autre", "cours-a", ts.grant(t, "cours-a", "autre", RoleParticipant, false, false))
	other.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	waitingB := ts.dial(t, "eleve-b", "cours-b", ts.grant(t, "cours-b", "eleve", RoleParticipant, false, false))
	waitingB.mustEvent(5*time.Second, "waiting", isType(TypeWaiting))

	if n := ts.m.Disconnect("eleve"); n != 2 {
		t.Fatalf("Disconnect ended %d connections, want 2 (one in a room, one waiting)", n)
	}
	inA.mustEvent(3*time.Second, "revoked", isError("revoked"))
	waitingB.mustEvent(3*time.Second, "revoked", isError("revoked"))
	teacher.mustEvent(3*time.Second, "participant_left", func(e Event) bool {
		return e.Type == TypeParticipantOut && e.Participant != nil && e.Participant.User == "eleve"
	})

	names := map[string]bool{}
	for _, p := range ts.m.Room("cours-a").Participants() {
		names[p.User] = true
	}
	if names["eleve"] || !names["prof"] || !names["autre"] {
		t.Errorf("participants after Disconnect = %v, want prof and autre only", names)
	}
	if n := ts.m.Disconnect("eleve"); n != 0 {
		t.Errorf("second Disconnect ended %d connections, want 0", n)
	}
}

// TestDrain: once the node drains, no room opens; everyone in a running
// room is told, and may still join it until it ends.
func TestDrain(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("cours-a", KindLesson); err != nil {
		t.Fatal(err)
	}
	teacher := ts.dial(t, "prof", "cours-a", ts.grant(t, "cours-a", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	ts.m.Drain()
	teacher.mustEvent(3*time.Second, "draining", func(e Event) bool { return e.Type == TypeDraining && e.Message != "" })
	if _, err := ts.m.CreateRoom("cours-b", KindLesson); !errors.Is(err, ErrDraining) {
		t.Fatalf("CreateRoom while draining: %v, want ErrDraining", err)
	}
	late := ts.dial(t, "eleve", "cours-a", ts.grant(t, "cours-a", "eleve", RoleParticipant, false, false))
	late.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	ts.m.Drain() // again: nothing more
	ts.m.Room("cours-a").End()
	late.mustEvent(3*time.Second, "ended", isType(TypeEnded))
}

// TestAbandon: a room abandoned (its node was taken for dead and the room
// re-created on another) cuts every socket without "ended", so that the
// pages reconnect; OnEnd still runs, with Abandoned true, and the manager
// forgets the room, whose id may be created again.
func TestAbandon(t *testing.T) {
	ts := newTestServer(t)
	room, err := ts.m.CreateRoom("cours-a", KindLesson)
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan bool, 1)
	room.OnEnd(func([]AttendanceRecord) { ended <- room.Abandoned() })
	teacher := ts.dial(t, "prof", "cours-a", ts.grant(t, "cours-a", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	pupil := ts.dial(t, "eleve", "cours-a", ts.grant(t, "cours-a", "eleve", RoleParticipant, false, false))
	pupil.mustEvent(5*time.Second, "joined", isType(TypeJoined))

	room.Abandon()
	select {
	case abandoned := <-ended:
		if !abandoned {
			t.Error("OnEnd of an abandoned room: Abandoned() false")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("OnEnd not called")
	}
	for _, c := range []*testClient{teacher, pupil} {
		deadline := time.Now().Add(3 * time.Second)
		for {
			c.mu.Lock()
			closed := c.sockErr != nil
			c.mu.Unlock()
			if closed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: socket still open after Abandon", c.name)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, got := c.waitEvent(0, isType(TypeEnded)); got {
			t.Errorf("%s was told the abandoned room ended", c.name)
		}
	}
	if ts.m.Room("cours-a") != nil {
		t.Error("the manager still holds the abandoned room")
	}
	again, err := ts.m.CreateRoom("cours-a", KindLesson)
	if err != nil || again.Abandoned() {
		t.Fatalf("the room created again: %v, abandoned %v", err, again != nil && again.Abandoned())
	}
	room.End() // no effect on a closed room
}
