package sfu

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The active speaker (docs/sfu.md, "Active speaker"): publishers' browsers
// put the audio level of each Opus packet in a header extension (RFC 6464,
// negotiated by the server's offers); the forwarding goroutine keeps a
// smoothed loudness per microphone track, and every speakerTick the manager
// names, in each room, the loudest participant speaking — after
// speakerConfirm ticks in a row, so that a cough does not move the
// highlight — and tells everyone with a "speaker" event (no user: silence).

const (
	speakerTick = 300 * time.Millisecond
	// speakerMin is the smoothed loudness (127 − level in −dBov, voice
	// packets only) below which nobody speaks: about −60 dBov.
	speakerMin = 60
	// speakerConfirm: ticks a new loudest participant must hold, and
	// ticks of silence before the highlight goes.
	speakerConfirm = 2
)

// registerAudioLevel makes the server's offers ask for the audio level of
// microphone packets.
func registerAudioLevel(me *webrtc.MediaEngine) error {
	return me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio)
}

// audioLevelID returns the negotiated id of the audio-level extension on a
// receiver (0: not negotiated).
func audioLevelID(recv *webrtc.RTPReceiver) uint8 {
	for _, e := range recv.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI && e.ID > 0 && e.ID < 256 {
			return uint8(e.ID)
		}
	}
	return 0
}

// audioLevel reads the RFC 6464 extension id from a raw RTP packet without
// allocating: the level (0 loudest … 127 silence, in −dBov) and the voice
// bit. ok is false when the packet has no such extension or is malformed
// (FuzzAudioLevel).
func audioLevel(pkt []byte, id uint8) (level uint8, voice, ok bool) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 || pkt[0]&0x10 == 0 || id == 0 {
		return 0, false, false
	}
	off := 12 + 4*int(pkt[0]&0x0f)
	if len(pkt) < off+4 {
		return 0, false, false
	}
	profile := binary.BigEndian.Uint16(pkt[off:])
	end := off + 4 + 4*int(binary.BigEndian.Uint16(pkt[off+2:]))
	if len(pkt) < end {
		return 0, false, false
	}
	for i := off + 4; i < end; {
		var eid, n int
		switch {
		case profile == 0xbede: // one-byte headers
			if pkt[i] == 0 { // padding
				i++
				continue
			}
			eid, n = int(pkt[i]>>4), int(pkt[i]&0x0f)+1
			if eid == 15 {
				return 0, false, false
			}
			i++
		case profile&0xfff0 == 0x1000: // two-byte headers
			if pkt[i] == 0 {
				i++
				continue
			}
			if i+1 >= end {
				return 0, false, false
			}
			eid, n = int(pkt[i]), int(pkt[i+1])
			i += 2
		default:
			return 0, false, false
		}
		if i+n > end {
			return 0, false, false
		}
		if eid == int(id) && n >= 1 {
			return pkt[i] & 0x7f, pkt[i]&0x80 != 0, true
		}
		i += n
	}
	return 0, false, false
}

// loudness is a microphone track's smoothed loudness, in sixteenths,
// written by its forwarding goroutine only, read by the speaker tick.
type loudness struct{ v16 atomic.Uint32 }

// add folds one packet in: 127 − level for a voice packet, 0 for the
// others; quick to rise (halfway to a louder packet at once) and slow to
// fall (by 1/32 a packet: half in ≈ 22 packets, 0.44 s of Opus), so that
// the pauses between words do not drop the speaker.
func (l *loudness) add(level uint8, voice bool) {
	x16 := uint32(0)
	if voice {
		x16 = (127 - uint32(min(level, 127))) * 16
	}
	v := l.v16.Load()
	if x16 > v {
		v = (v + x16 + 1) / 2
	} else {
		v -= v / 32
	}
	l.v16.Store(v)
}

// value returns the smoothed loudness, 0 … 127.
func (l *loudness) value() uint32 { return l.v16.Load() / 16 }

// speakerState is a room's highlight and the candidate waiting to take it.
type speakerState struct {
	current   string
	candidate string
	held      int
}

// next returns the speaker after one tick where loudest (possibly "") was
// the loudest participant above speakerMin, and whether it changed.
func (s *speakerState) next(loudest string) (string, bool) {
	if loudest == s.current {
		s.candidate, s.held = "", 0
		return s.current, false
	}
	if loudest != s.candidate {
		s.candidate, s.held = loudest, 0
	}
	s.held++
	if s.held < speakerConfirm {
		return s.current, false
	}
	s.current, s.candidate, s.held = loudest, "", 0
	return s.current, true
}

// closeSpeaker stops speakerLoop and waits for it (Close may run twice).
func (m *Manager) closeSpeaker() {
	m.mu.Lock()
	select {
	case <-m.stopSpeaker:
	default:
		close(m.stopSpeaker)
	}
	m.mu.Unlock()
	<-m.speakerDone
}

// speakerLoop runs the tick of every room until stop is closed.
func (m *Manager) speakerLoop(stop <-chan struct{}) {
	t := time.NewTicker(speakerTick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			m.mu.Lock()
			rooms := make([]*Room, 0, len(m.rooms))
			for _, r := range m.rooms {
				rooms = append(rooms, r)
			}
			m.mu.Unlock()
			for _, r := range rooms {
				r.speakerTick()
			}
		}
	}
}

// speakerTick names the room's loudest speaker and tells everyone when the
// highlight moves.
func (r *Room) speakerTick() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	loudest, best := "", uint32(speakerMin)
	for _, t := range r.tracks {
		if t.info.Source != SourceMicrophone || t.stopped.Load() {
			continue
		}
		if v := t.loud.value(); v >= best {
			loudest, best = t.info.User, v
		}
	}
	who, changed := r.speaker.next(loudest)
	var all []*Participant
	if changed {
		all = r.othersLocked(nil)
	}
	r.mu.Unlock()
	if changed {
		r.broadcast(all, Event{Type: TypeSpeaker, User: who})
	}
}
