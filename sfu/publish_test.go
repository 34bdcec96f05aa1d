package sfu

import (
	"strings"
	"testing"
	"time"
)

// TestUnpublish: the teacher shares the screen beside the camera, stops the
// share (the pupil's screen track is removed, the camera keeps flowing) and
// shares again (a new track); a pupil muted while holding the floor may
// publish the microphone again.
func TestUnpublish(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("cours-ecran", KindLesson); err != nil {
		t.Fatal(err)
	}
	teacher := ts.dial(t, "prof", "cours-ecran", ts.grant(t, "cours-ecran", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	pupil := ts.dial(t, "eleve", "cours-ecran", ts.grant(t, "cours-ecran", "eleve", RoleParticipant, false, false))
	pupil.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	teacher.publish(SourceCamera, SourceScreen)

	added := func(source string, not string) string {
		e := pupil.mustEvent(10*time.Second, source+" track", func(e Event) bool {
			return e.Type == TypeTrackAdded && e.Track.Source == source && e.Track.ID != not
		})
		return e.Track.ID
	}
	packets := func(id string) int64 {
		pupil.mu.Lock()
		defer pupil.mu.Unlock()
		if n := pupil.packets[id]; n != nil {
			return n.Load()
		}
		return 0
	}
	waitPackets := func(id string, min int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for packets(id) < min {
			if time.Now().After(deadline) {
				t.Fatalf("track %s: %d packets, want ≥ %d", id, packets(id), min)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	camera, screen := added(SourceCamera, ""), added(SourceScreen, "")
	waitPackets(camera, 10)
	waitPackets(screen, 10)

	teacher.sendMsg(Message{V: 1, Type: TypeUnpublish, Sources: []string{SourceScreen}})
	pupil.mustEvent(time.Second, "screen removed", func(e Event) bool {
		return e.Type == TypeTrackRemoved && e.Track.ID == screen
	})
	time.Sleep(200 * time.Millisecond)
	n, c := packets(screen), packets(camera)
	time.Sleep(500 * time.Millisecond)
	if packets(screen) != n {
		t.Fatal("the screen is still forwarded after unpublish")
	}
	waitPackets(camera, c+5)

	teacher.publish(SourceScreen)
	again := added(SourceScreen, screen)
	waitPackets(again, 10)

	// Muted with the floor: a new publish makes a new slot and track.
	teacher.sendMsg(Message{V: 1, Type: TypeGiveFloor, User: "eleve"})
	pupil.mustEvent(2*time.Second, "permissions", isType(TypePermissions))
	pupil.publish(SourceMicrophone)
	teacher.waitMedia(t, 10*time.Second, "eleve", "audio", 5)
	teacher.sendMsg(Message{V: 1, Type: TypeMute, User: "eleve"})
	pupil.mustEvent(time.Second, "muted", isType(TypeMuted))
	first := teacher.mustEvent(time.Second, "mic removed", func(e Event) bool {
		return e.Type == TypeTrackRemoved && e.Track.User == "eleve"
	})
	pupil.publish(SourceMicrophone)
	teacher.mustEvent(5*time.Second, "mic again", func(e Event) bool {
		return e.Type == TypeTrackAdded && e.Track.User == "eleve" && e.Track.ID != first.Track.ID
	})
}

// TestICERestart: a client that asks for an ICE restart gets an offer with
// new ICE credentials, answers it, and the media keeps flowing.
func TestICERestart(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("cours-ice", KindLesson); err != nil {
		t.Fatal(err)
	}
	teacher := ts.dial(t, "prof", "cours-ice", ts.grant(t, "cours-ice", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	teacher.publish(SourceCamera)
	pupil := ts.dial(t, "eleve", "cours-ice", ts.grant(t, "cours-ice", "eleve", RoleParticipant, false, false))
	pupil.waitMedia(t, 10*time.Second, "prof", "video", 10)

	ufrag := func(sdp string) string {
		for _, l := range strings.Split(sdp, "\r\n") {
			if v, ok := strings.CutPrefix(l, "a=ice-ufrag:"); ok {
				return v
			}
		}
		return ""
	}
	pupil.mu.Lock()
	offers := 0
	var last string
	for _, e := range pupil.events {
		if e.Type == TypeOffer {
			offers++
			last = ufrag(e.SDP)
		}
	}
	pupil.mu.Unlock()
	pupil.sendMsg(Message{V: 1, Type: TypeRestartICE})
	e := pupil.mustEvent(5*time.Second, "a restarting offer", func(e Event) bool {
		return e.Type == TypeOffer && ufrag(e.SDP) != "" && ufrag(e.SDP) != last
	})
	t.Logf("ICE restart: ufrag %s → %s after %d offers", last, ufrag(e.SDP), offers)
	n := pupil.received("prof", "video")
	pupil.waitMedia(t, 10*time.Second, "prof", "video", n+30)
}
