package sfu

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// MaxTURNCredentialTTL is the longest TURN credentials live (SECURITY.md:
// HMAC, ≤ 4 h): a lesson's PeerConnection keeps its allocation with the
// credentials it started with, so they must outlast a lesson, not a grant.
const MaxTURNCredentialTTL = 4 * time.Hour

// maxTURNAllocations is how many relays one user may hold at once: a page
// gathers over UDP and TCP, and a reload makes new ones before the old ones
// time out; more is a misuse of the credentials.
const maxTURNAllocations = 10

// TURNConfig turns on the in-process TURN relay, for networks that block
// both the UDP media port and ICE over TCP.
type TURNConfig struct {
	// Port is the TURN port, UDP and TCP (0: OS-chosen, tests).
	Port int
	// RelayIP is the address of relayed candidates and of the TURN URLs
	// handed to clients (default: the first of Config.PublicIPs).
	RelayIP string
	// Realm is the long-term credential realm (default "preau").
	Realm string
}

// ICEServer is a TURN server and its credentials, as RTCIceServer wants it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username"`
	Credential string   `json:"credential"`
}

// turnRelay is the TURN server. It relays for this SFU only: permissions are
// granted for the SFU's own media addresses only, and a relayed socket
// writes only to the SFU's UDP port, so loopback, private ranges and the
// rest of the Internet are refused (no open relay, no way into the server's
// network).
type turnRelay struct {
	srv     *turn.Server
	udp     net.PacketConn
	tcp     net.Listener
	secret  []byte
	urls    []string
	allowed map[netip.AddrPort]bool // the SFU's UDP media addresses
	ips     map[netip.Addr]bool

	mu     sync.Mutex
	allocs map[string]int // user → allocations held
}

// turnSecret derives the credential key from the grant key, under its own
// label, so a TURN password never reveals anything usable as a grant MAC.
func turnSecret(key []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("preau-turn-v1"))
	return h.Sum(nil)
}

// turnPassword is the TURN REST API password for username
// (draft-uberti-behave-turn-rest-00 §2.2): base64(HMAC-SHA1(secret, username)).
func turnPassword(secret []byte, username string) string {
	h := hmac.New(sha1.New, secret)
	h.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// newTURNRelay listens on the TURN port. media are the SFU's UDP addresses
// (the only destinations the relay writes to); public are extra addresses
// of the SFU (Config.PublicIPs, same ports).
func newTURNRelay(cfg TURNConfig, key []byte, media []net.Addr, public []string, logs logging.LoggerFactory, now func() time.Time) (*turnRelay, error) {
	relayIP := cfg.RelayIP
	if relayIP == "" && len(public) > 0 {
		relayIP = public[0]
	}
	ip := net.ParseIP(relayIP)
	if ip == nil {
		return nil, errors.New("sfu: TURN needs a relay address (TURNConfig.RelayIP or Config.PublicIPs)")
	}
	if cfg.Realm == "" {
		cfg.Realm = "preau"
	}
	t := &turnRelay{secret: turnSecret(key), allowed: map[netip.AddrPort]bool{}, ips: map[netip.Addr]bool{},
		allocs: map[string]int{}}
	for _, a := range media {
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			continue
		}
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		t.allowed[ap] = true
		t.ips[ap.Addr()] = true
		for _, p := range public {
			if pa, err := netip.ParseAddr(p); err == nil {
				t.allowed[netip.AddrPortFrom(pa.Unmap(), ap.Port())] = true
				t.ips[pa.Unmap()] = true
			}
		}
	}
	var err error
	if t.udp, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", cfg.Port)); err != nil {
		return nil, fmt.Errorf("sfu: TURN: listen UDP port %d: %w", cfg.Port, err)
	}
	port := t.udp.LocalAddr().(*net.UDPAddr).Port
	if t.tcp, err = net.Listen("tcp4", fmt.Sprintf(":%d", port)); err != nil {
		t.udp.Close()
		return nil, fmt.Errorf("sfu: TURN: listen TCP port %d: %w", port, err)
	}
	gen := &sfuOnlyRelay{RelayAddressGeneratorStatic: turn.RelayAddressGeneratorStatic{RelayAddress: ip, Address: "0.0.0.0"}, t: t}
	t.srv, err = turn.NewServer(turn.ServerConfig{
		Realm:         cfg.Realm,
		LoggerFactory: logs,
		AuthHandler:   t.auth(now),
		QuotaHandler:  t.quota,
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, _, user, _ string, _ net.Addr, _ int) { t.count(user, 1) },
			OnAllocationDeleted: func(_, _ net.Addr, _, user, _ string) { t.count(user, -1) },
		},
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: t.udp, RelayAddressGenerator: gen,
			PermissionHandler: t.permit}},
		ListenerConfigs: []turn.ListenerConfig{{Listener: t.tcp, RelayAddressGenerator: gen,
			PermissionHandler: t.permit}},
	})
	if err != nil {
		t.udp.Close()
		t.tcp.Close()
		return nil, fmt.Errorf("sfu: TURN: %w", err)
	}
	host := net.JoinHostPort(relayIP, strconv.Itoa(port))
	t.urls = []string{"turn:" + host + "?transport=udp", "turn:" + host + "?transport=tcp"}
	return t, nil
}

// auth checks long-term credentials "expiry:user" whose expiry is in the
// future and at most MaxTURNCredentialTTL away (RFC 8489 §9.2; the key is
// MD5(username:realm:password), RFC 8489 §18.5.1).
func (t *turnRelay) auth(now func() time.Time) turn.AuthHandler {
	return func(ra *turn.RequestAttributes) (string, []byte, bool) {
		exp, user, ok := strings.Cut(ra.Username, ":")
		sec, err := strconv.ParseInt(exp, 10, 64)
		if !ok || err != nil || user == "" {
			return "", nil, false
		}
		left := time.Unix(sec, 0).Sub(now())
		if left <= 0 || left > MaxTURNCredentialTTL+time.Minute {
			return "", nil, false
		}
		return user, turn.GenerateAuthKey(ra.Username, ra.Realm, turnPassword(t.secret, ra.Username)), true
	}
}

// quota refuses an allocation (486, RFC 8656 §7.2) to a user who holds
// maxTURNAllocations already. username is "expiry:user", checked by auth.
func (t *turnRelay) quota(username, _ string, _ net.Addr) bool {
	_, user, _ := strings.Cut(username, ":")
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.allocs[user] < maxTURNAllocations
}

func (t *turnRelay) count(user string, d int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.allocs[user] += d; t.allocs[user] <= 0 {
		delete(t.allocs, user)
	}
}

// permit grants permissions (RFC 8656 §9) for the SFU's own addresses only.
func (t *turnRelay) permit(_ net.Addr, peer net.IP) bool {
	a, ok := netip.AddrFromSlice(peer)
	return ok && t.ips[a.Unmap()]
}

// credentials returns the ICE servers for user, valid until now + ttl
// (at most MaxTURNCredentialTTL).
func (t *turnRelay) credentials(user string, now time.Time, ttl time.Duration) ICEServer {
	ttl = min(ttl, MaxTURNCredentialTTL)
	username := strconv.FormatInt(now.Add(ttl).Unix(), 10) + ":" + user
	return ICEServer{URLs: t.urls, Username: username, Credential: turnPassword(t.secret, username)}
}

func (t *turnRelay) close() error {
	if t == nil {
		return nil
	}
	return t.srv.Close() // closes the listeners and every allocation
}

// sfuOnlyRelay makes relayed sockets that write only to the SFU's media
// addresses: a TURN permission is per IP (RFC 8656 §9), this narrows it to
// the port, so the SFU's loopback address cannot be used to reach another
// service on the server.
type sfuOnlyRelay struct {
	turn.RelayAddressGeneratorStatic
	t *turnRelay
}

func (g *sfuOnlyRelay) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	pc, addr, err := g.RelayAddressGeneratorStatic.AllocatePacketConn(c)
	if err != nil {
		return nil, nil, err
	}
	return &sfuOnlyConn{PacketConn: pc, allowed: g.t.allowed}, addr, nil
}

// AllocateListener refuses TCP relays (RFC 6062): media go over UDP.
func (g *sfuOnlyRelay) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errors.New("sfu: TURN: TCP relay refused")
}

// AllocateConn refuses TCP relays (RFC 6062).
func (g *sfuOnlyRelay) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errors.New("sfu: TURN: TCP relay refused")
}

type sfuOnlyConn struct {
	net.PacketConn
	allowed map[netip.AddrPort]bool // read-only after start
}

var errRelayRefused = errors.New("sfu: TURN: destination refused")

func (c *sfuOnlyConn) WriteTo(b []byte, to net.Addr) (int, error) {
	ap, err := netip.ParseAddrPort(to.String())
	if err != nil || !c.allowed[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] {
		return 0, errRelayRefused
	}
	return c.PacketConn.WriteTo(b, to)
}

// ICEServers returns the TURN servers and credentials to hand to user with
// a live-room grant (nil without TURN). They are valid for
// MaxTURNCredentialTTL.
func (m *Manager) ICEServers(user string, now time.Time) []ICEServer {
	if m.turn == nil {
		return nil
	}
	return []ICEServer{m.turn.credentials(user, now, MaxTURNCredentialTTL)}
}

// TURNAddr is the TURN server's UDP address (nil without TURN).
func (m *Manager) TURNAddr() net.Addr {
	if m.turn == nil {
		return nil
	}
	return m.turn.udp.LocalAddr()
}
