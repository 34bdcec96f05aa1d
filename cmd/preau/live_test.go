package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestMain lets the OS choose the SFU's UDP port in every test that starts
// `preau serve`, so tests never need the default port 50000 free (nor run
// into each other or a server running on this machine).
func TestMain(m *testing.M) {
	os.Setenv("PREAU_UDP_PORT", "0")
	os.Setenv("PREAU_TCP_PORT", "0") // ICE over TCP, likewise
	os.Exit(m.Run())
}

func TestServeLiveFlags(t *testing.T) {
	for _, env := range []string{"PREAU_UDP_PORT", "PREAU_SFU_KEY", "PREAU_PUBLIC_IP"} {
		t.Setenv(env, "") // restored after the test
		os.Unsetenv(env)
	}
	c, err := parseServe(nil)
	if err != nil || c.UDPPort != 50000 || c.SFUKey != nil || c.PublicIPs != nil {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	key := strings.Repeat("ab", 32)
	c, err = parseServe([]string{"--udp-port", "40000", "--sfu-key", key, "--public-ip", "203.0.113.7, 2001:db8::7"})
	if err != nil || c.UDPPort != 40000 || len(c.SFUKey) != 32 || strings.Join(c.PublicIPs, " ") != "203.0.113.7 2001:db8::7" {
		t.Fatalf("flags: %+v %v", c, err)
	}
	for _, bad := range [][]string{
		{"--udp-port", "70000"}, {"--udp-port", "x"},
		{"--sfu-key", "abcd"}, {"--sfu-key", strings.Repeat("zz", 32)},
		{"--public-ip", "serveur.example.fr"},
	} {
		if _, err := parseServe(bad); err == nil {
			t.Errorf("parseServe(%q) accepted", bad)
		}
	}
}

// TestServeLive: `preau serve` mounts the SFU. The demo teacher starts a
// lesson for 3e A, the demo pupil gets a grant and joins over /live/ws with
// the session cookie; when the teacher ends the lesson the pupil's socket is
// told and closed.
func TestServeLive(t *testing.T) {
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	classID := demoClassID(t, dir, "3e A")

	login := func(name string) *http.Client { return demoClient(t, base, name) }
	post := func(c *http.Client, path, body string, want int, v any) {
		t.Helper()
		resp, err := c.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST %s: %d, want %d", path, resp.StatusCode, want)
		}
		if v != nil {
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatalf("POST %s: %v", path, err)
			}
		}
	}
	teacher, pupil, parent := login("prof.demo"), login("eleve.demo"), login("parent.demo")

	var lesson struct{ Room string }
	post(teacher, "/api/v1/live/lessons", fmt.Sprintf(`{"class_id":%d}`, classID), http.StatusCreated, &lesson)
	grantPath := "/api/v1/live/rooms/" + lesson.Room + "/grant"
	var grant struct{ Room, Grant string }
	post(pupil, grantPath, "", http.StatusOK, &grant)
	post(parent, grantPath, "", http.StatusNotFound, nil)
	post(pupil, "/api/v1/live/lessons", fmt.Sprintf(`{"class_id":%d}`, classID), http.StatusNotFound, nil)

	wsURL := strings.Replace(base, "http", "ws", 1) + "/live/ws"
	type event struct {
		Type string `json:"type"`
		Code string `json:"code"`
	}
	join := func(c *http.Client) *websocket.Conn {
		t.Helper()
		ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: c})
		if err != nil {
			t.Fatalf("dial /live/ws: %v", err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		b, _ := json.Marshal(map[string]any{"v": 1, "type": "join", "room": grant.Room, "grant": grant.Grant})
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		return ws
	}
	next := func(ws *websocket.Conn) (event, error) {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return event{}, err
		}
		var e event
		json.Unmarshal(b, &e)
		return e, nil
	}

	// The pupil's grant in the teacher's session is refused: it names
	// another user.
	stolen := join(teacher)
	if e, err := next(stolen); err != nil || e.Type != "error" || e.Code != "bad_grant" {
		t.Fatalf("grant of another user: %+v %v", e, err)
	}

	ws := join(pupil)
	if e, err := next(ws); err != nil || e.Type != "joined" {
		t.Fatalf("join: %+v %v", e, err)
	}

	// The teacher ends the lesson: the pupil is told, then the socket closes.
	ended := time.Now()
	post(teacher, "/api/v1/live/rooms/"+lesson.Room+"/end", "", http.StatusNoContent, nil)
	sawEnded := false
	for {
		e, err := next(ws)
		if err != nil {
			if ctx.Err() != nil || !sawEnded {
				t.Fatalf("socket after the end: %v (ended seen: %v)", err, sawEnded)
			}
			break // closed by the server
		}
		if e.Type == "ended" {
			sawEnded = true
		}
	}
	if d := time.Since(ended); d > 5*time.Second {
		t.Errorf("the pupil's socket closed %v after the end", d)
	}
	post(pupil, grantPath, "", http.StatusNotFound, nil)
}
