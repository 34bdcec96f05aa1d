package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"preau/chat"
	"preau/db"
)

// TestServeChat: the chat hub is mounted by `preau serve`; a teacher and a
// pupil of 3e A talk in their class channel, with the session cookie as the
// only credential.
func TestServeChat(t *testing.T) {
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Class channels are not made automatically yet: make 3e A's here.
	d, err := db.Open(ctx, db.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var classID int64
	if err := d.QueryRow(ctx, "SELECT id FROM classes WHERE name = ?", "3e A").Scan(&classID); err != nil {
		t.Fatal(err)
	}
	conv, err := chat.NewStore(d).EnsureClassChannel(ctx, classID)
	if err != nil {
		t.Fatal(err)
	}

	dial := func(login string) *websocket.Conn {
		c := demoClient(t, base, login)
		ws, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/ws/chat",
			&websocket.DialOptions{HTTPClient: c})
		if err != nil {
			t.Fatalf("dial as %s: %v", login, err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	}
	send := func(ws *websocket.Conn, typ string, data any) {
		b, _ := json.Marshal(map[string]any{"v": 1, "type": typ, "id": 1, "data": data})
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	type frame struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	next := func(ws *websocket.Conn, want string) json.RawMessage {
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			var f frame
			json.Unmarshal(b, &f)
			if f.Type == want {
				return f.Data
			}
			if f.Type == "error" {
				t.Fatalf("waiting for %s: %s", want, b)
			}
		}
	}

	pupil, teacher := dial("eleve.demo"), dial("prof.demo")
	send(pupil, "subscribe", map[string]any{"conversations": []map[string]any{{"id": conv.ID, "after_seq": 0}}})
	next(pupil, "subscribed")
	send(teacher, "send", map[string]any{"conversation": conv.ID, "client_id": "e2e-1", "body": "Bonjour la 3e A !"})
	var ack struct{ Seq int64 }
	json.Unmarshal(next(teacher, "ack"), &ack)
	var msg struct {
		Seq  int64
		Body string
	}
	json.Unmarshal(next(pupil, "message"), &msg)
	if ack.Seq != 1 || msg.Seq != 1 || msg.Body != "Bonjour la 3e A !" {
		t.Fatalf("ack %+v, message %+v", ack, msg)
	}

	// Without a session there is no socket.
	if _, resp, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/ws/chat", nil); err == nil ||
		resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial without a session: %v %v", resp, err)
	}
}

// TestServeMetrics: /metrics shows the live parts' counters.
func TestServeMetrics(t *testing.T) {
	base, _ := startServe(t, "--data", t.TempDir())
	if resp, err := http.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	io.Copy(&b, resp.Body)
	for _, name := range []string{"preau_chat_connections 0", "preau_sfu_rooms 0", "preau_sfu_forwarded_packets_total",
		"preau_http_requests_total", "process_cpu_seconds_total"} {
		if !strings.Contains(b.String(), name) {
			t.Errorf("/metrics lacks %q", name)
		}
	}
}
