package sfu

import (
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

func newTURNServer(t *testing.T) *testServer {
	t.Helper()
	m, err := New(Config{IncludeLoopback: true, IPFilter: loopbackOnly, TURN: &TURNConfig{RelayIP: "127.0.0.1"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Signer{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(func() {
		m.Close()
		srv.Close()
	})
	return &testServer{m: m, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
}

// TestTURNRelay: a pupil forced to relay-only ICE (a network that blocks
// both the UDP port and ICE over TCP) gets the teacher's media through the
// in-process TURN relay, with the credentials handed beside its grant.
func TestTURNRelay(t *testing.T) {
	ts := newTURNServer(t)
	if _, err := ts.m.CreateRoom("cours-turn", KindLesson); err != nil {
		t.Fatal(err)
	}
	teacher := ts.dial(t, "prof", "cours-turn", ts.grant(t, "cours-turn", "prof", RoleModerator, true, true))
	teacher.mustEvent(5*time.Second, "joined", isType(TypeJoined))
	teacher.publish(SourceCamera, SourceMicrophone)

	servers := ts.m.ICEServers("eleve", time.Now())
	if len(servers) != 1 || len(servers[0].URLs) != 2 {
		t.Fatalf("ICE servers %+v", servers)
	}
	var ice []webrtc.ICEServer
	for _, s := range servers {
		ice = append(ice, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	pupil := ts.dialWith(t, clientAPI, webrtc.Configuration{ICEServers: ice, ICETransportPolicy: webrtc.ICETransportPolicyRelay},
		"eleve", "cours-turn", ts.grant(t, "cours-turn", "eleve", RoleParticipant, false, false))
	pupil.waitMedia(t, 15*time.Second, "prof", "video", 10)
	pupil.waitMedia(t, 15*time.Second, "prof", "audio", 10)
	if _, typ := selectedPair(pupil); typ != webrtc.ICECandidateTypeRelay {
		t.Fatalf("selected local candidate %s, want relay", typ)
	}
}

// TestTURNCredentials: HMAC credentials live at most 4 h; expired, too
// long-lived, forged or malformed ones are refused.
func TestTURNCredentials(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	relay := &turnRelay{secret: turnSecret(testKey)}
	auth := relay.auth(func() time.Time { return now })
	check := func(username, password string) bool {
		user, key, ok := auth(&turnRequest{Username: username, Realm: "preau"})
		if ok && user == "" {
			t.Errorf("%s: empty user", username)
		}
		// The key must be the one the client derives from the password.
		return ok && string(key) == string(turnKey(username, "preau", password))
	}
	good := relay.credentials("eleve", now, 10*time.Hour) // capped at 4 h
	if exp := now.Add(MaxTURNCredentialTTL).Unix(); !strings.HasPrefix(good.Username, itoa(exp)+":eleve") {
		t.Fatalf("username %q, want expiry %d", good.Username, exp)
	}
	if !check(good.Username, good.Credential) {
		t.Fatal("valid credentials refused")
	}
	expired := itoa(now.Add(-time.Second).Unix()) + ":eleve"
	tooLong := itoa(now.Add(5*time.Hour).Unix()) + ":eleve"
	for _, u := range []string{expired, tooLong, "eleve", ":eleve", itoa(now.Add(time.Hour).Unix()) + ":", "x:eleve"} {
		if check(u, turnPassword(relay.secret, u)) {
			t.Errorf("%q accepted", u)
		}
	}
	other := &turnRelay{secret: turnSecret([]byte("another key, also at least 32 bytes"))}
	forged := other.credentials("eleve", now, time.Hour)
	if check(forged.Username, forged.Credential) {
		t.Error("credentials of another key accepted")
	}
}

// TestTURNRefusesOtherPeers: the relay serves this SFU only: no permission
// for loopback, private or public addresses that are not the SFU's, and a
// relayed socket writes to the SFU's media port only.
func TestTURNRefusesOtherPeers(t *testing.T) {
	ts := newTURNServer(t)
	relay := ts.m.turn
	var media *net.UDPAddr
	for _, a := range ts.m.UDPAddrs() {
		media = a.(*net.UDPAddr)
	}
	if !relay.permit(nil, media.IP) {
		t.Fatalf("the SFU's own address %s refused", media.IP)
	}
	for _, ip := range []string{"10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.169.254", "::1", "fe80::1", "8.8.8.8", "0.0.0.0"} {
		if relay.permit(nil, net.ParseIP(ip)) {
			t.Errorf("permission for %s granted", ip)
		}
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c := &sfuOnlyConn{PacketConn: pc, allowed: relay.allowed}
	other := &net.UDPAddr{IP: media.IP, Port: media.Port + 1}
	if _, err := c.WriteTo([]byte("x"), other); err == nil {
		t.Errorf("relay wrote to %s, not the SFU's media port", other)
	}
	if _, err := c.WriteTo([]byte("x"), media); err != nil {
		t.Errorf("relay to the SFU's media port %s: %v", media, err)
	}
}

type turnRequest = turn.RequestAttributes

func turnKey(username, realm, password string) []byte {
	return turn.GenerateAuthKey(username, realm, password)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTURNQuota: a user holds at most maxTURNAllocations relays at once.
func TestTURNQuota(t *testing.T) {
	relay := &turnRelay{allocs: map[string]int{}}
	for range maxTURNAllocations {
		if !relay.quota("1800000000:eleve", "preau", nil) {
			t.Fatal("refused under the quota")
		}
		relay.count("eleve", 1)
	}
	if relay.quota("1800000000:eleve", "preau", nil) {
		t.Fatal("allocation over the quota accepted")
	}
	if !relay.quota("1800000000:prof", "preau", nil) {
		t.Fatal("another user refused")
	}
	relay.count("eleve", -1)
	if !relay.quota("1800000000:eleve", "preau", nil) {
		t.Fatal("refused after a relay ended")
	}
}
