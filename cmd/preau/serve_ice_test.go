package main

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// TestServeICEFlags: ICE over TCP is on by default (port 50000), the TURN
// relay off; -1 turns either off, and TURN outside the demo needs a public
// address.
func TestServeICEFlags(t *testing.T) {
	for _, env := range []string{"PREAU_TCP_PORT", "PREAU_TURN_PORT"} {
		t.Setenv(env, "") // restored after the test
		os.Unsetenv(env)
	}
	c, err := parseServe(nil)
	if err != nil || c.TCPPort != 50000 || c.TURNPort != -1 {
		t.Fatalf("defaults: tcp %d, turn %d, %v", c.TCPPort, c.TURNPort, err)
	}
	c, err = parseServe([]string{"--tcp-port", "-1", "--turn-port", "3478"})
	if err != nil || c.TCPPort != -1 || c.TURNPort != 3478 {
		t.Fatalf("flags: tcp %d, turn %d, %v", c.TCPPort, c.TURNPort, err)
	}
	for _, bad := range [][]string{{"--tcp-port", "-2"}, {"--tcp-port", "x"}, {"--turn-port", "70000"}} {
		if _, err := parseServe(bad); err == nil {
			t.Errorf("parseServe(%q) accepted", bad)
		}
	}
	c.TCPPort, c.UDPPort, c.TURNPort = 0, 0, 0
	if _, err := newLive(c, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Error("TURN without --public-ip and without --demo accepted")
	}
}
