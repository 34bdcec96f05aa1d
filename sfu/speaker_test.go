package sfu

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

func packetWith(t testing.TB, ext func(h *rtp.Header)) []byte {
	t.Helper()
	h := rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 7, Timestamp: 960, SSRC: 42}
	ext(&h)
	b, err := (&rtp.Packet{Header: h, Payload: []byte{1, 2, 3}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAudioLevel(t *testing.T) {
	one := packetWith(t, func(h *rtp.Header) {
		h.Extension, h.ExtensionProfile = true, 0xbede
		h.SetExtension(3, []byte{0x11, 0x22}) // another extension first
		h.SetExtension(1, []byte{0x80 | 25})  // voice, −25 dBov
	})
	if level, voice, ok := audioLevel(one, 1); !ok || level != 25 || !voice {
		t.Errorf("one-byte header: %d %v %v", level, voice, ok)
	}
	if _, _, ok := audioLevel(one, 4); ok {
		t.Error("an id that is not there was found")
	}
	two := packetWith(t, func(h *rtp.Header) {
		h.Extension, h.ExtensionProfile = true, 0x1000
		h.SetExtension(20, []byte{127}) // silence, no voice
	})
	if level, voice, ok := audioLevel(two, 20); !ok || level != 127 || voice {
		t.Errorf("two-byte header: %d %v %v", level, voice, ok)
	}
	plain := packetWith(t, func(*rtp.Header) {})
	if _, _, ok := audioLevel(plain, 1); ok {
		t.Error("a packet without extension has a level")
	}
	for i := range one {
		audioLevel(one[:i], 1) // truncated: no panic
	}
}

func FuzzAudioLevel(f *testing.F) {
	f.Add(packetWith(f, func(h *rtp.Header) {
		h.Extension, h.ExtensionProfile = true, 0xbede
		h.SetExtension(1, []byte{0x80 | 30})
	}), uint8(1))
	f.Add([]byte{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 1, 2, 3, 4}, uint8(1))
	f.Fuzz(func(t *testing.T, pkt []byte, id uint8) {
		if level, _, ok := audioLevel(pkt, id); ok && level > 127 {
			t.Fatalf("level %d", level)
		}
	})
}

func TestSpeakerState(t *testing.T) {
	var s speakerState
	steps := []struct {
		loudest, want string
		changed       bool
	}{
		{"prof", "", false}, // one tick is not enough
		{"prof", "prof", true},
		{"eleve", "prof", false}, // a cough
		{"prof", "prof", false},
		{"eleve", "prof", false},
		{"eleve", "eleve", true},
		{"", "eleve", false},
		{"", "", true}, // silence
	}
	for i, st := range steps {
		got, changed := s.next(st.loudest)
		if got != st.want || changed != st.changed {
			t.Fatalf("step %d (%q): %q %v, want %q %v", i, st.loudest, got, changed, st.want, st.changed)
		}
	}
	var l loudness
	for range 30 {
		l.add(20, true)
	}
	if v := l.value(); v < 100 || v > 107 {
		t.Errorf("loudness after 30 packets at −20 dBov: %d", v)
	}
	l.add(127, true) // a pause between two words: still speaking
	if v := l.value(); v < 100 {
		t.Errorf("loudness after one quiet packet: %d", v)
	}
	for range 150 {
		l.add(20, false) // no voice: counts as silence
	}
	if v := l.value(); v > 5 {
		t.Errorf("loudness after 3 s without voice: %d", v)
	}
}

// levelInterceptor writes the audio level of a client's microphone, as a
// browser does, in every audio packet it sends.
type levelInterceptor struct {
	interceptor.NoOp
	level *atomic.Int32 // −dBov; negative: no voice
}

func (l *levelInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			id = uint8(e.ID)
		}
	}
	if id == 0 || info.MimeType != webrtc.MimeTypeOpus {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		v := l.level.Load()
		b := byte(127)
		if v >= 0 {
			b = 0x80 | byte(min(v, 127))
		}
		if err := h.SetExtension(id, []byte{b}); err != nil {
			return 0, err
		}
		return w.Write(h, payload, a)
	})
}

type levelFactory struct{ level *atomic.Int32 }

func (f levelFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &levelInterceptor{level: f.level}, nil
}

// speakingAPI is clientAPI with the audio level extension written from
// level.
func speakingAPI(t *testing.T, level *atomic.Int32) *webrtc.API {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if err := registerAudioLevel(me); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	ir.Add(levelFactory{level})
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(loopbackOnly)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// TestActiveSpeaker: in a meeting, whoever speaks louder is named to
// everyone, after the confirmation ticks; silence clears the name.
func TestActiveSpeaker(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("reunion", KindMeeting); err != nil {
		t.Fatal(err)
	}
	var profLevel, parentLevel atomic.Int32
	profLevel.Store(-1)
	parentLevel.Store(-1)
	prof := ts.dialWith(t, speakingAPI(t, &profLevel), webrtc.Configuration{}, "prof", "reunion", ts.grant(t, "reunion", "prof", RoleModerator, true, false))
	prof.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	parent := ts.dialWith(t, speakingAPI(t, &parentLevel), webrtc.Configuration{}, "parent", "reunion", ts.grant(t, "reunion", "parent", RoleParticipant, true, false))
	parent.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	observer := ts.dial(t, "cpe", "reunion", ts.grant(t, "reunion", "cpe", RoleParticipant, false, false))
	observer.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	prof.publish(SourceMicrophone)
	parent.publish(SourceMicrophone)
	observer.waitMedia(t, 10*time.Second, "prof", "audio", 10)
	observer.waitMedia(t, 10*time.Second, "parent", "audio", 10)

	speaker := func(who string) func(Event) bool {
		return func(e Event) bool { return e.Type == TypeSpeaker && e.User == who }
	}
	profLevel.Store(20) // the teacher speaks at −20 dBov
	observer.mustEvent(5*time.Second, "the teacher speaks", speaker("prof"))
	parent.mustEvent(5*time.Second, "the parent sees the teacher speak", speaker("prof"))
	profLevel.Store(-1)
	parentLevel.Store(25)
	observer.mustEvent(5*time.Second, "the parent speaks", speaker("parent"))
	parentLevel.Store(-1)
	observer.mustEvent(5*time.Second, "silence", speaker(""))
}
