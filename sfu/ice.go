package sfu

import (
	"errors"
	"fmt"
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// tcpReadBuffer is how many ICE-TCP packets are buffered per connection
// before the oldest are dropped (media is dropped, never queued without
// bound).
const tcpReadBuffer = 64

// iceTCP is ICE over TCP on one port (RFC 6544 passive candidates): for
// school networks that block UDP, every peer's media comes through one
// listener, so the firewall needs one TCP opening beside the UDP port.
type iceTCP struct {
	ln  net.Listener
	mux ice.TCPMux
}

// listenICETCP opens Config.TCPPort on every interface (negative: no ICE over
// TCP) and sets the SettingEngine to offer passive TCP host candidates on it.
// nil when disabled.
func listenICETCP(cfg Config, logs pionLogs, se *webrtc.SettingEngine) (*iceTCP, error) {
	if cfg.TCPPort < 0 {
		return nil, nil
	}
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.TCPPort))
	if err != nil {
		return nil, fmt.Errorf("sfu: listen TCP port %d: %w", cfg.TCPPort, err)
	}
	mux := webrtc.NewICETCPMux(logs.NewLogger("tcpmux"), ln, tcpReadBuffer)
	se.SetICETCPMux(mux)
	return &iceTCP{ln: ln, mux: mux}, nil
}

// hostFilter keeps the local addresses that keep (nil: all) accepts, never a
// link-local one: each host candidate costs every PeerConnection a receive
// goroutine and buffer, and a fe80:: address is of no use to a browser at
// home.
func hostFilter(keep func(net.IP) bool) func(net.IP) bool {
	return func(ip net.IP) bool {
		return !ip.IsLinkLocalUnicast() && (keep == nil || keep(ip))
	}
}

// networkTypes are the ICE network types the server gathers: UDP always
// (the UDP mux), TCP when the TCP mux is open.
func networkTypes(tcp *iceTCP) []webrtc.NetworkType {
	nt := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if tcp != nil {
		nt = append(nt, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	return nt
}

func (t *iceTCP) close() error {
	if t == nil {
		return nil
	}
	err := t.mux.Close() // closes the listener and every ICE-TCP connection
	if cerr := t.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = errors.Join(err, cerr)
	}
	return err
}

// TCPAddr is the ICE-TCP listener's address (nil without ICE over TCP).
func (m *Manager) TCPAddr() net.Addr {
	if m.tcp == nil {
		return nil
	}
	return m.tcp.ln.Addr()
}
