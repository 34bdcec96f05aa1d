package sfu

import (
	"errors"
	"fmt"

	"github.com/go-json-experiment/json"
)

// ProtocolVersion is the "v" of every signaling envelope.
const ProtocolVersion = 1

// MaxFrame is the largest signaling frame accepted (an SDP offer with many
// transceivers stays well below it).
const MaxFrame = 64 << 10

// Client → server message types.
const (
	TypeJoin      = "join"
	TypeAnswer    = "answer"
	TypeCandidate = "candidate"
	TypePublish   = "publish"
	TypeRaiseHand = "raise_hand"
	TypeLowerHand = "lower_hand"
	TypeGiveFloor = "give_floor"
	TypeTakeFloor = "take_floor"
	TypeMute      = "mute"
	TypeKick      = "kick"
	TypeLock      = "lock"
	TypeEnd       = "end"
	TypePing      = "ping"
	// Waiting room and attendance (moderator).
	TypeAdmit          = "admit"
	TypeDeny           = "deny"
	TypeSetWaitingRoom = "waiting_room"
	TypeAttendance     = "attendance"
	// TypeUnpublish stops forwarding the sender's own sources (a camera
	// turned off, a screen share stopped); publishing again makes new slots.
	TypeUnpublish = "unpublish"
	// TypeRestartICE asks for an offer that restarts ICE (new credentials),
	// when the client's connection is disconnected by a network change.
	TypeRestartICE = "ice_restart"
	// TypeLayer chooses the quality of a simulcast track received (the
	// tile size): low, medium or high (simulcast.go).
	TypeLayer = "layer"
)

// Server → client message types.
const (
	TypeJoined         = "joined"
	TypeOffer          = "offer"
	TypeParticipantIn  = "participant_joined"
	TypeParticipantOut = "participant_left"
	TypeTrackAdded     = "track_added"
	TypeTrackRemoved   = "track_removed"
	TypeHands          = "hands"
	TypePermissions    = "permissions"
	TypeMuted          = "muted"
	TypeLocked         = "locked"
	TypeEnded          = "ended"
	TypeError          = "error"
	TypePong           = "pong"
	// TypeAnswered: the client's answer is applied; tracks it sends on
	// the slots of that offer are received from now on.
	TypeAnswered = "answered"
	// TypeDraining: the node is shutting down; the room ends soon
	// (Manager.Drain). Message says so in French.
	TypeDraining = "draining"
	// TypeWaiting tells a participant it is in the waiting room; TypeLobby
	// gives moderators the waiting list; TypeAdmitted comes before the
	// "joined" of someone let in; TypeWaitingRoom (the same name as the
	// moderator's message) tells everyone the waiting room was turned on or
	// off; TypeAttendanceList answers "attendance".
	TypeWaiting        = "waiting"
	TypeLobby          = "lobby"
	TypeAdmitted       = "admitted"
	TypeWaitingRoom    = "waiting_room"
	TypeAttendanceList = "attendance"
	// TypeLayers tells a publisher which layers of its simulcast camera
	// someone watches: the others may stop being encoded (pause.go).
	TypeLayers = "layers"
	// TypeSpeaker names the participant speaking now (user; none: silence).
	TypeSpeaker = "speaker"
)

// Sources a participant may publish. The server, not the SDP, decides which
// source a received track is: it made the receiving slot for it.
const (
	SourceMicrophone = "microphone"
	SourceCamera     = "camera"
	SourceScreen     = "screen"
)

// Message is a client → server signaling message. Which fields a type may
// carry is checked by Decode; the sender is always the connection's
// participant, never a field.
type Message struct {
	V         int        `json:"v"`
	Type      string     `json:"type"`
	Room      string     `json:"room,omitzero"`      // join
	Grant     string     `json:"grant,omitzero"`     // join
	SDP       string     `json:"sdp,omitzero"`       // answer
	Candidate *Candidate `json:"candidate,omitzero"` // candidate
	Sources   []string   `json:"sources,omitzero"`   // publish
	User      string     `json:"user,omitzero"`      // give_floor, take_floor, mute, kick
	Video     bool       `json:"video,omitzero"`     // give_floor: may also publish the camera
	Locked    *bool      `json:"locked,omitzero"`    // lock
	// WaitingRoom turns the waiting room on or off (waiting_room).
	WaitingRoom *bool `json:"waiting_room,omitzero"`
	// Track and Quality: the simulcast track and the quality wanted (layer).
	Track   string `json:"track,omitzero"`
	Quality string `json:"quality,omitzero"`
}

// Candidate is an ICE candidate as RTCIceCandidate.toJSON() gives it.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitzero"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitzero"`
	UsernameFragment *string `json:"usernameFragment,omitzero"`
}

// Event is a server → client signaling message.
type Event struct {
	V            int               `json:"v"`
	Type         string            `json:"type"`
	Room         string            `json:"room,omitzero"`
	Kind         string            `json:"kind,omitzero"`
	You          *ParticipantInfo  `json:"you,omitzero"`
	Participants []ParticipantInfo `json:"participants,omitzero"`
	Participant  *ParticipantInfo  `json:"participant,omitzero"`
	Tracks       []TrackInfo       `json:"tracks,omitzero"`
	Track        *TrackInfo        `json:"track,omitzero"`
	SDP          string            `json:"sdp,omitzero"`
	Slots        []Slot            `json:"slots,omitzero"`
	Hands        []string          `json:"hands,omitzero"`
	Permissions  *Permissions      `json:"permissions,omitzero"`
	Locked       *bool             `json:"locked,omitzero"`
	Code         string            `json:"code,omitzero"`
	Message      string            `json:"message,omitzero"`
	// WaitingRoom: in joined and waiting_room, whether newcomers wait.
	WaitingRoom *bool `json:"waiting_room,omitzero"`
	// Waiting: in lobby (and a moderator's joined), who waits, in order.
	Waiting []ParticipantInfo `json:"waiting,omitzero"`
	// Attendance: in attendance, the roll call so far.
	Attendance []AttendanceRecord `json:"attendance,omitzero"`
	// Active: in layers, the RIDs of the layers to send, lowest first.
	Active []string `json:"active,omitzero"`
	// User: in speaker, who speaks (absent: nobody).
	User string `json:"user,omitzero"`
}

// ParticipantInfo describes a participant to the others.
type ParticipantInfo struct {
	User string `json:"user"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// TrackInfo describes a forwarded track. ID is the MediaStreamTrack id the
// subscriber sees; Stream is the msid stream id (the publisher's user id).
type TrackInfo struct {
	ID     string `json:"id"`
	User   string `json:"user"`
	Source string `json:"source"`
	Kind   string `json:"kind"`
	// Simulcast: the publisher sends layers; the subscriber may choose
	// one with "layer".
	Simulcast bool `json:"simulcast,omitzero"`
}

// Slot tells a publisher which m-line (mid) of the offer is where it should
// send a source.
type Slot struct {
	Mid    string `json:"mid"`
	Source string `json:"source"`
}

// Permissions is what a participant may publish now.
type Permissions struct {
	Audio  bool `json:"audio"`
	Video  bool `json:"video"`
	Screen bool `json:"screen"`
}

// ErrMalformed wraps every decoding failure.
var ErrMalformed = errors.New("sfu: malformed signaling message")

// Decode parses one client frame. It refuses invalid UTF-8, duplicate keys,
// unknown fields, a wrong version, an unknown type and fields that do not
// belong to the type.
func Decode(b []byte) (Message, error) {
	var m Message
	if len(b) > MaxFrame {
		return m, fmt.Errorf("%w: frame too large", ErrMalformed)
	}
	// go-json-experiment refuses duplicate names and invalid UTF-8 by default.
	if err := json.Unmarshal(b, &m, json.RejectUnknownMembers(true)); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if m.V != ProtocolVersion {
		return Message{}, fmt.Errorf("%w: version %d", ErrMalformed, m.V)
	}
	var ok bool
	switch m.Type {
	case TypeJoin:
		ok = m.Room != "" && m.Grant != "" && m.only("room", "grant")
	case TypeAnswer:
		ok = m.SDP != "" && m.only("sdp")
	case TypeCandidate:
		ok = m.Candidate != nil && m.only("candidate")
	case TypePublish, TypeUnpublish:
		ok = len(m.Sources) > 0 && len(m.Sources) <= 3 && m.only("sources")
		for _, s := range m.Sources {
			ok = ok && (s == SourceMicrophone || s == SourceCamera || s == SourceScreen)
		}
	case TypeGiveFloor:
		ok = m.User != "" && m.only("user", "video")
	case TypeTakeFloor, TypeMute, TypeKick, TypeAdmit, TypeDeny:
		ok = m.User != "" && m.only("user")
	case TypeSetWaitingRoom:
		ok = m.WaitingRoom != nil && m.only("waiting_room")
	case TypeLock:
		ok = m.Locked != nil && m.only("locked")
	case TypeLayer:
		_, known := qualityLayers[m.Quality]
		ok = m.Track != "" && len(m.Track) <= 64 && known && m.only("track", "quality")
	case TypeRaiseHand, TypeLowerHand, TypeEnd, TypePing, TypeAttendance, TypeRestartICE:
		ok = m.only()
	default:
		return Message{}, fmt.Errorf("%w: unknown type %q", ErrMalformed, m.Type)
	}
	if !ok {
		return Message{}, fmt.Errorf("%w: fields do not match type %q", ErrMalformed, m.Type)
	}
	return m, nil
}

// only reports whether every field set in m is one of names.
func (m Message) only(names ...string) bool {
	set := map[string]bool{
		"room": m.Room != "", "grant": m.Grant != "", "sdp": m.SDP != "",
		"candidate": m.Candidate != nil, "sources": m.Sources != nil, "user": m.User != "",
		"video": m.Video, "locked": m.Locked != nil, "waiting_room": m.WaitingRoom != nil,
		"track": m.Track != "", "quality": m.Quality != "",
	}
	for _, n := range names {
		delete(set, n)
	}
	for _, v := range set {
		if v {
			return false
		}
	}
	return true
}

// encode marshals an event, stamping the version.
func encode(e Event) []byte {
	e.V = ProtocolVersion
	b, err := json.Marshal(e)
	if err != nil { // only strings, bools and slices of them: cannot fail
		panic(fmt.Sprintf("sfu: encode %s: %v", e.Type, err))
	}
	return b
}
