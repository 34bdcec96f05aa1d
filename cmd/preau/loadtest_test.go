package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestLoadtestChat: a short run of `preau loadtest chat` against an
// in-process `preau serve --demo` loses and duplicates nothing. Figures are
// not asserted: tests never judge wall-clock speed.
// The tool is given nothing but the server's URL: the server makes the
// conversations and their synthetic members.
func TestLoadtestChat(t *testing.T) {
	// A load-test server may let each account send more than the 20
	// messages per 10 s of production: the tool reads the limit from the
	// set-up and paces itself under it (8 accounts: 14.4 msg/s at 20,
	// 36 msg/s at 50).
	base, _ := startServe(t, "--demo", "--data", t.TempDir(), "--chat-send-limit", "50")
	cfg, err := parseLoadtest([]string{"--url", base, "--conversations", "2", "--members", "4",
		"--connections", "12", "--rate", "30", "--duration", "3s", "--drain", "3s"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sum, err := loadtestChat(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", sum)
	if sum.Deliveries == 0 || sum.Acked == 0 || sum.Lost != 0 || sum.Duplicated != 0 || sum.Errors != 0 {
		t.Fatalf("deliveries %d, acked %d, lost %d, duplicated %d, errors %d",
			sum.Deliveries, sum.Acked, sum.Lost, sum.Duplicated, sum.Errors)
	}
	// 12 connections over 2 conversations: every ack reaches 6 connections.
	if sum.Deliveries != sum.Acked*6 {
		t.Errorf("deliveries %d, want 6 × %d acked", sum.Deliveries, sum.Acked)
	}
	if sum.RateCapped || sum.Rate != 30 {
		t.Errorf("rate %v (capped %v), want the 30 msg/s asked: the server allows 50 per 10 s per account", sum.Rate, sum.RateCapped)
	}
}

// TestLoadtestFlags: only this machine may be loaded, and the limits hold.
func TestLoadtestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://example.org:8080"},
		{"--url", "http://10.0.0.1:8080"},
		{"--duration", "1h"},
		{"--connections", "1000000"},
		{"--rate", "-1"},
		{"--conversations", "1000", "--members", "21"},
		{"--members", "2", "--connections", "11"}, // 6 per account
		{"--url", "http://127.0.0.1:8080,http://example.org:8080"},
		{"--url", "http://127.0.0.1:8080,"},
	} {
		if _, err := parseLoadtest(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:8080"} {
		if _, err := parseLoadtest([]string{"--url", u}); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	c, err := parseLoadtest([]string{"--url", "http://127.0.0.1:8081/, http://127.0.0.1:8082"})
	if err != nil || c.URL != "http://127.0.0.1:8081" || len(c.URLs) != 2 || c.URLs[1] != "http://127.0.0.1:8082" {
		t.Errorf("two nodes: %+v, %v", c, err)
	}
}

// TestLoadtestChatSetup: the set-up route is for the administrator of a demo
// server only, and the synthetic users' header on /ws/chat works only for
// that administrator, for the ids of its own live set-up.
func TestLoadtestChatSetup(t *testing.T) {
	demoBase, _ := startServe(t, "--demo", "--data", t.TempDir())
	post := func(c *http.Client, base, body string) (int, chatSetup) {
		t.Helper()
		resp, err := c.Post(base+"/api/v1/chat/loadtest", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set chatSetup
		if resp.StatusCode == http.StatusCreated {
			if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, set
	}
	// dial opens /ws/chat with c's session, speaking for user; it returns
	// the HTTP status of a refused upgrade, or 101.
	dial := func(c *http.Client, base string, user int64) int {
		t.Helper()
		u, _ := url.Parse(base)
		var cookies []string
		for _, ck := range c.Jar.Cookies(u) {
			cookies = append(cookies, ck.Name+"="+ck.Value)
		}
		h := http.Header{"Cookie": {strings.Join(cookies, "; ")}, "X-Preau-Loadtest-User": {strconv.FormatInt(user, 10)}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws/chat", &websocket.DialOptions{HTTPHeader: h})
		if err == nil {
			ws.Close(websocket.StatusNormalClosure, "")
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return resp.StatusCode
	}

	teacher := demoClient(t, demoBase, "prof.demo")
	if code, _ := post(teacher, demoBase, `{"conversations":1,"members":2}`); code != http.StatusNotFound {
		t.Errorf("teacher: %d, want 404", code)
	}
	admin := demoClient(t, demoBase, "admin.demo")
	for _, bad := range []string{`{"conversations":0,"members":1}`, `{"conversations":1,"members":0}`,
		`{"conversations":1000,"members":100}`, `{"conversations":1,"members":1,"ttl":3600}`} {
		if code, _ := post(admin, demoBase, bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	code, set := post(admin, demoBase, `{"conversations":2,"members":3,"ttl":60}`)
	if code != http.StatusCreated || set.Run == "" || set.Header != "X-Preau-Loadtest-User" || len(set.Conversations) != 2 ||
		len(set.Conversations[1].Users) != 3 || set.SendLimit != 20 || set.SendWindowS != 10 {
		t.Fatalf("admin: %d %+v, want 201 with 2 conversations of 3 and the send limit, 20 per 10 s", code, set)
	}
	synthetic := set.Conversations[1].Users[2]
	if code := dial(admin, demoBase, synthetic); code != http.StatusSwitchingProtocols {
		t.Errorf("admin as its synthetic user: %d, want 101", code)
	}
	if code := dial(teacher, demoBase, synthetic); code != http.StatusUnauthorized {
		t.Errorf("teacher as the synthetic user: %d, want 401", code)
	}
	var teacherID int64
	if resp, err := teacher.Get(demoBase + "/api/v1/me"); err == nil {
		var me struct {
			ID int64 `json:"id"`
		}
		json.NewDecoder(resp.Body).Decode(&me)
		resp.Body.Close()
		teacherID = me.ID
	}
	if code := dial(admin, demoBase, teacherID); teacherID == 0 || code != http.StatusUnauthorized {
		t.Errorf("admin as a real user (%d): %d, want 401", teacherID, code)
	}
	// Once the set-up is deleted its ids are refused, and its accounts gone.
	del := func(c *http.Client) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodDelete, demoBase+"/api/v1/chat/loadtest/"+set.Run, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := del(teacher); code != http.StatusNotFound {
		t.Errorf("teacher deletes the set-up: %d, want 404", code)
	}
	if code := del(admin); code != http.StatusNoContent {
		t.Errorf("admin deletes the set-up: %d, want 204", code)
	}
	if code := dial(admin, demoBase, synthetic); code != http.StatusUnauthorized {
		t.Errorf("admin as a deleted synthetic user: %d, want 401", code)
	}

	// A server without --demo: 404 even for its administrator, and the
	// header is refused.
	dir := t.TempDir()
	seedDemo(t, dir)
	base, _ := startServe(t, "--data", dir)
	admin = demoClient(t, base, "admin.demo")
	if code, _ := post(admin, base, `{"conversations":1,"members":1}`); code != http.StatusNotFound {
		t.Errorf("admin without --demo: %d, want 404", code)
	}
	if code := dial(admin, base, synthetic); code != http.StatusUnauthorized {
		t.Errorf("header without --demo: %d, want 401", code)
	}
}
