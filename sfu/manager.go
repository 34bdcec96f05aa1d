package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// Kind is what a room is for; it only changes defaults, never the rules.
type Kind string

// Room kinds. Rooms are created by the server from a lesson, a meeting or a
// council, never by a client.
const (
	KindLesson  Kind = "lesson"
	KindMeeting Kind = "meeting"
)

// ErrRoomExists is returned by CreateRoom for an id already in use.
var ErrRoomExists = errors.New("sfu: room exists")

// ErrDraining is returned by CreateRoom once Drain was called.
var ErrDraining = errors.New("sfu: node draining")

// Config is the SFU configuration; its zero value works (an OS-chosen UDP
// port on every interface but loopback).
type Config struct {
	// UDPPort is the one UDP port every peer's ICE uses (UDP mux). 0 lets the
	// OS choose (tests).
	UDPPort int
	// TCPPort is the one TCP port of ICE over TCP (RFC 6544), for networks
	// that block UDP. 0 lets the OS choose (tests); negative: no ICE-TCP.
	TCPPort int
	// TURN, when set, runs a TURN relay in-process (turn.go) for networks
	// that block both; nil: none.
	TURN *TURNConfig
	// PublicIPs, when set, replace the host candidates' addresses (server
	// behind a 1:1 NAT).
	PublicIPs []string
	// IncludeLoopback offers loopback candidates (tests, local demo).
	IncludeLoopback bool
	// IPFilter keeps only the local addresses it accepts (nil: all but
	// IPv6 link-local ones, which no browser outside the link can reach).
	IPFilter func(net.IP) bool
	// Logger receives the SFU's logs (nil: slog.Default()).
	Logger *slog.Logger
	// Now is the clock for grants (nil: time.Now).
	Now func() time.Time
	// SessionUser, when set, returns the user of the request's session
	// (cookie); a join whose grant names another user is refused, so a
	// leaked grant is useless without the session. nil: the grant alone.
	SessionUser func(*http.Request) (string, error)
}

// Manager owns the rooms of this node, the shared WebRTC API (one media
// engine, interceptors, one UDP mux) and the signaling handler.
type Manager struct {
	cfg    Config
	signer Signer
	log    *slog.Logger
	api    *webrtc.API
	mux    *ice.MultiUDPMuxDefault
	tcp    *iceTCP    // nil without ICE over TCP (ice.go)
	turn   *turnRelay // nil without TURN (turn.go)

	mu     sync.Mutex
	rooms  map[string]*Room
	closed bool
	// draining: no new rooms (Drain); guarded by mu.
	draining bool

	conns sync.WaitGroup // signaling connections being served
	stats stats
	// stopSpeaker ends speakerLoop, the one goroutine of the active
	// speaker; speakerDone is closed when it has returned.
	stopSpeaker, speakerDone chan struct{}
	bwes                     *bweHandoff // each PeerConnection's bandwidth estimator (bwe.go)
}

// Stats are counters for /metrics.
type Stats struct {
	Rooms            int    // open rooms
	Participants     int    // connected participants
	ForwardedPackets uint64 // RTP packets written to subscribers (one per subscriber)
	ForwardedBytes   uint64
	SlowClosed       uint64 // connections closed because their send queue was full
}

// Stats returns the current counters.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	rooms := make([]*Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		rooms = append(rooms, r)
	}
	m.mu.Unlock()
	s := Stats{Rooms: len(rooms), ForwardedPackets: m.stats.packets.Load(),
		ForwardedBytes: m.stats.bytes.Load(), SlowClosed: m.stats.slow.Load()}
	for _, r := range rooms {
		r.mu.Lock()
		s.Participants += len(r.participants)
		r.mu.Unlock()
	}
	return s
}

// New builds a Manager. It listens on cfg.UDPPort at once.
func New(cfg Config, signer Signer) (*Manager, error) {
	if len(signer.Key) < 32 {
		return nil, errors.New("sfu: grant key shorter than 32 bytes")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	logs := pionLogs{cfg.Logger}
	opts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4, ice.NetworkTypeUDP6),
		ice.UDPMuxFromPortWithLogger(logs.NewLogger("udpmux")),
	}
	if cfg.IncludeLoopback {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback())
	}
	opts = append(opts, ice.UDPMuxFromPortWithIPFilter(hostFilter(cfg.IPFilter))) // ice.go
	mux, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort, opts...)
	if err != nil {
		return nil, fmt.Errorf("sfu: listen UDP port %d: %w", cfg.UDPPort, err)
	}

	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		mux.Close()
		return nil, fmt.Errorf("sfu: codecs: %w", err)
	}
	if err := registerAudioLevel(me); err != nil { // speaker.go
		mux.Close()
		return nil, fmt.Errorf("sfu: audio level: %w", err)
	}
	bwes := &bweHandoff{}
	bwe, err := newBWEInterceptor(bwes, logs) // bwe.go
	if err != nil {
		mux.Close()
		return nil, fmt.Errorf("sfu: congestion control: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := registerInterceptors(me, ir, bwe); err != nil { // track.go
		mux.Close()
		return nil, fmt.Errorf("sfu: interceptors: %w", err)
	}
	se := webrtc.SettingEngine{LoggerFactory: logs}
	se.SetICEUDPMux(mux)
	tcp, err := listenICETCP(cfg, logs, &se)
	if err != nil {
		mux.Close()
		return nil, err
	}
	se.SetNetworkTypes(networkTypes(tcp))
	var relay *turnRelay
	if cfg.TURN != nil {
		if relay, err = newTURNRelay(*cfg.TURN, signer.Key, mux.GetListenAddresses(), cfg.PublicIPs, logs, cfg.Now); err != nil {
			mux.Close()
			tcp.close()
			return nil, err
		}
	}
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIPFilter(hostFilter(cfg.IPFilter))
	if len(cfg.PublicIPs) > 0 {
		se.SetNAT1To1IPs(cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	m := &Manager{
		cfg: cfg, signer: signer, log: cfg.Logger, api: api, mux: mux, tcp: tcp, turn: relay,
		rooms: map[string]*Room{}, bwes: bwes, stopSpeaker: make(chan struct{}), speakerDone: make(chan struct{}),
	}
	go func() {
		defer close(m.speakerDone)
		m.speakerLoop(m.stopSpeaker)
	}()
	return m, nil
}

// UDPAddrs lists the local addresses of the UDP mux (one port per address;
// the same port everywhere when Config.UDPPort is set).
func (m *Manager) UDPAddrs() []net.Addr { return m.mux.GetListenAddresses() }

// CreateRoom opens a room. Only the server calls it, when a lesson, meeting or
// council starts.
func (m *Manager) CreateRoom(id string, kind Kind) (*Room, error) {
	if id == "" || len(id) > 128 {
		return nil, fmt.Errorf("sfu: room id %q", id)
	}
	if kind != KindLesson && kind != KindMeeting {
		return nil, fmt.Errorf("sfu: room kind %q", kind)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("sfu: manager closed")
	}
	if m.draining {
		return nil, ErrDraining
	}
	if _, ok := m.rooms[id]; ok {
		return nil, fmt.Errorf("%w: %q", ErrRoomExists, id)
	}
	r := newRoom(m, id, kind)
	m.rooms[id] = r
	return r, nil
}

// Room returns the open room id, or nil.
func (m *Manager) Room(id string) *Room {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rooms[id]
}

// Rooms returns the number of open rooms.
func (m *Manager) Rooms() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rooms)
}

// Drain prepares the node's shutdown (SIGTERM): CreateRoom refuses new
// rooms with ErrDraining, and everyone in a room is told "draining" (the
// page says the lesson will stop soon). Running rooms go on, and their
// participants may still reconnect, until they end or Close.
func (m *Manager) Drain() {
	m.mu.Lock()
	if m.draining {
		m.mu.Unlock()
		return
	}
	m.draining = true
	rooms := make([]*Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		rooms = append(rooms, r)
	}
	m.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		all := r.othersLocked(nil)
		r.mu.Unlock()
		r.broadcast(all, Event{Type: TypeDraining, Message: frenchMessages["draining"]})
	}
}

// Disconnect ends every connection of user in every room of this node, the
// waiting rooms included, with the error "revoked": the account was
// disabled or its session ended. It returns how many it ended. Rejoining
// needs a new grant, which needs a valid session, and the socket's session
// is checked again at join (Config.SessionUser).
func (m *Manager) Disconnect(user string) int {
	m.mu.Lock()
	rooms := make([]*Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		rooms = append(rooms, r)
	}
	m.mu.Unlock()
	n := 0
	for _, r := range rooms {
		r.mu.Lock()
		ps := make([]*Participant, 0, 2)
		if p := r.participants[user]; p != nil {
			ps = append(ps, p)
		}
		if p := r.waiting[user]; p != nil {
			ps = append(ps, p)
		}
		r.mu.Unlock()
		for _, p := range ps {
			p.fail("revoked")
			n++
		}
	}
	return n
}

func (m *Manager) forget(r *Room) {
	m.mu.Lock()
	if m.rooms[r.id] == r {
		delete(m.rooms, r.id)
	}
	m.mu.Unlock()
}

// Handler serves the signaling WebSocket. The first message must be a join
// carrying a grant; see docs/sfu.md.
func (m *Manager) Handler() http.Handler {
	return http.HandlerFunc(m.serveWS)
}

// Close ends every room (closing their PeerConnections and sockets), waits
// for the signaling connections to finish and releases the UDP port.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	rooms := make([]*Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		rooms = append(rooms, r)
	}
	m.mu.Unlock()
	for _, r := range rooms {
		r.End()
	}
	m.closeSpeaker()
	m.conns.Wait()
	return errors.Join(m.mux.Close(), m.tcp.close(), m.turn.close())
}
