package sfu

import (
	"runtime"
	"testing"
	"time"
)

// TestWaitingRoom: with the waiting room on, a pupil waits (no offer, no
// media) until the teacher admits them; a denied pupil is closed; an
// admitted pupil who reconnects does not wait again; turning the waiting room
// off admits everyone waiting; the roll call merges sessions and reaches
// OnEnd when the lesson ends.
func TestWaitingRoom(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := newTestServer(t)
	room, err := ts.m.CreateRoom("cours-attente", KindLesson)
	if err != nil {
		t.Fatal(err)
	}
	room.SetWaitingRoom(true)
	ended := make(chan []AttendanceRecord, 1)
	room.OnEnd(func(recs []AttendanceRecord) { ended <- recs })
	grant := func(user, role string) string {
		return ts.grant(t, "cours-attente", user, role, role == RoleModerator, role == RoleModerator)
	}

	teacher := ts.dial(t, "prof", "cours-attente", grant("prof", RoleModerator))
	j := teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	if j.WaitingRoom == nil || !*j.WaitingRoom {
		t.Fatalf("teacher's joined: waiting_room %v, want true", j.WaitingRoom)
	}
	teacher.publish(SourceCamera)

	p1 := ts.dial(t, "eleve1", "cours-attente", grant("eleve1", RoleParticipant))
	w := p1.mustEvent(5*time.Second, "waiting", isType(TypeWaiting))
	if w.You == nil || w.You.User != "eleve1" {
		t.Fatalf("waiting event %+v", w)
	}
	teacher.mustEvent(2*time.Second, "lobby with eleve1", func(e Event) bool {
		return e.Type == TypeLobby && len(e.Waiting) == 1 && e.Waiting[0].User == "eleve1"
	})
	// While waiting: no offer, no media, nothing but ping.
	p1.sendMsg(Message{V: 1, Type: TypeRaiseHand})
	p1.sendMsg(Message{V: 1, Type: TypePing})
	p1.mustEvent(2*time.Second, "pong", isType(TypePong))
	time.Sleep(300 * time.Millisecond)
	if _, ok := p1.waitEvent(0, isType(TypeOffer)); ok {
		t.Fatal("a waiting pupil got an offer")
	}
	if _, ok := teacher.waitEvent(0, func(e Event) bool { return e.Type == TypeHands }); ok {
		t.Fatal("a waiting pupil raised a hand")
	}
	// A pupil may not admit anyone.
	p2 := ts.dial(t, "eleve2", "cours-attente", grant("eleve2", RoleParticipant))
	p2.mustEvent(5*time.Second, "waiting", isType(TypeWaiting))
	teacher.mustEvent(2*time.Second, "lobby of two", func(e Event) bool {
		return e.Type == TypeLobby && len(e.Waiting) == 2 && e.Waiting[1].User == "eleve2"
	})

	// Admit: admitted, joined, then the teacher's video.
	teacher.sendMsg(Message{V: 1, Type: TypeAdmit, User: "eleve1"})
	p1.mustEvent(2*time.Second, "admitted", isType(TypeAdmitted))
	p1.mustEvent(2*time.Second, "joined", isType(TypeJoined))
	p1.waitMedia(t, 10*time.Second, "prof", "video", 10)
	teacher.mustEvent(2*time.Second, "participant_joined", func(e Event) bool {
		return e.Type == TypeParticipantIn && e.Participant.User == "eleve1"
	})
	teacher.mustEvent(2*time.Second, "lobby of eleve2 only", func(e Event) bool {
		return e.Type == TypeLobby && len(e.Waiting) == 1 && e.Waiting[0].User == "eleve2"
	})
	// Admitted people may not admit.
	p1.sendMsg(Message{V: 1, Type: TypeAdmit, User: "eleve2"})
	p1.mustEvent(2*time.Second, "forbidden", isError("forbidden"))

	// Deny: the pupil is told and closed; the lobby empties.
	teacher.sendMsg(Message{V: 1, Type: TypeDeny, User: "eleve2"})
	p2.mustEvent(2*time.Second, "denied", isError("denied"))
	teacher.mustEvent(2*time.Second, "empty lobby", func(e Event) bool { return e.Type == TypeLobby && len(e.Waiting) == 0 })
	deadline := time.Now().Add(3 * time.Second)
	for !p2.socketClosed() {
		if time.Now().After(deadline) {
			t.Fatal("denied pupil's socket still open")
		}
		time.Sleep(20 * time.Millisecond)
	}
	teacher.sendMsg(Message{V: 1, Type: TypeAdmit, User: "eleve2"})
	teacher.mustEvent(2*time.Second, "not_found", isError("not_found"))

	// An admitted pupil reconnecting goes straight in (same session).
	p1bis := ts.dial(t, "eleve1-bis", "cours-attente", grant("eleve1", RoleParticipant))
	p1bis.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	p1.mustEvent(2*time.Second, "replaced", isError("replaced"))
	p1bis.waitMedia(t, 10*time.Second, "prof", "video", 5)

	// Turning the waiting room off admits who waits.
	p3 := ts.dial(t, "eleve3", "cours-attente", grant("eleve3", RoleParticipant))
	p3.mustEvent(5*time.Second, "waiting", isType(TypeWaiting))
	teacher.sendMsg(Message{V: 1, Type: TypeSetWaitingRoom, WaitingRoom: new(false)})
	teacher.mustEvent(2*time.Second, "waiting_room off", func(e Event) bool {
		return e.Type == TypeWaitingRoom && e.WaitingRoom != nil && !*e.WaitingRoom
	})
	p3.mustEvent(2*time.Second, "admitted", isType(TypeAdmitted))
	p3.mustEvent(2*time.Second, "joined", isType(TypeJoined))
	p3.waitMedia(t, 10*time.Second, "prof", "video", 5)
	p3.close() // leaves before the end

	// The roll call so far, then at the end.
	teacher.sendMsg(Message{V: 1, Type: TypeAttendance})
	att := teacher.mustEvent(2*time.Second, "attendance", isType(TypeAttendanceList))
	byUser := map[string]AttendanceRecord{}
	for _, a := range att.Attendance {
		byUser[a.User] = a
	}
	if len(byUser) != 3 || !byUser["prof"].Present || !byUser["eleve1"].Present || byUser["eleve1"].Sessions != 1 {
		t.Fatalf("attendance %+v, want prof and eleve1 present (one merged session), eleve3, not the denied eleve2", att.Attendance)
	}
	teacher.sendMsg(Message{V: 1, Type: TypeEnd})
	var recs []AttendanceRecord
	select {
	case recs = <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("OnEnd not called")
	}
	if len(recs) != 3 {
		t.Fatalf("final roll call %+v", recs)
	}
	for _, r := range recs {
		if r.Present || r.LastLeave.IsZero() || r.FirstJoin.IsZero() || r.LastLeave.Before(r.FirstJoin) || r.TotalMS <= 0 || r.Name == "" {
			t.Errorf("record %+v", r)
		}
	}
	for _, c := range []*testClient{teacher, p1, p1bis, p2, p3} {
		c.close()
	}
	ts.m.Close()
	ts.srv.Close()
	checkLeaks(t, before)
}

// TestAttendanceMerge: sessions of one user are merged; a replacing
// connection continues the running session; End closes every session.
func TestAttendanceMerge(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	now := t0
	m := &Manager{cfg: Config{Now: func() time.Time { return now }}}
	r := newRoom(m, "r", KindLesson)
	lea := &Participant{grant: Grant{UserID: "1", Name: "Léa", Role: RoleParticipant}}
	leaPhone := &Participant{grant: Grant{UserID: "1", Name: "Léa", Role: RoleParticipant}}
	hugo := &Participant{grant: Grant{UserID: "2", Name: "Hugo", Role: RoleParticipant}}
	at := func(min int, f func()) {
		now = t0.Add(time.Duration(min) * time.Minute)
		r.mu.Lock()
		f()
		r.mu.Unlock()
	}
	at(0, func() { r.markPresentLocked(lea, now) })
	at(5, func() { r.markPresentLocked(hugo, now) })
	at(10, func() { r.markPresentLocked(leaPhone, now) }) // replaces the first connection
	at(20, func() { r.markAbsentLocked("1", now) })
	at(30, func() { r.markPresentLocked(lea, now) })
	at(35, func() { r.markAbsentLocked("2", now) })
	now = t0.Add(40 * time.Minute)
	recs := r.Attendance()
	if len(recs) != 2 || recs[0].Name != "Hugo" || recs[1].Name != "Léa" {
		t.Fatalf("records %+v", recs)
	}
	hugoRec, leaRec := recs[0], recs[1]
	if hugoRec.TotalMS != (30*time.Minute).Milliseconds() || hugoRec.Present || hugoRec.Sessions != 1 ||
		!hugoRec.LastLeave.Equal(t0.Add(35*time.Minute)) {
		t.Errorf("Hugo %+v", hugoRec)
	}
	if leaRec.TotalMS != (30*time.Minute).Milliseconds() || !leaRec.Present || leaRec.Sessions != 2 ||
		!leaRec.FirstJoin.Equal(t0) || !leaRec.LastLeave.IsZero() {
		t.Errorf("Léa %+v", leaRec)
	}
	at(45, func() {
		for u := range r.attendance {
			r.markAbsentLocked(u, now)
		}
	})
	if l := r.Attendance()[1]; l.Present || l.TotalMS != (35*time.Minute).Milliseconds() || !l.LastLeave.Equal(t0.Add(45*time.Minute)) {
		t.Errorf("Léa at the end %+v", l)
	}
}
