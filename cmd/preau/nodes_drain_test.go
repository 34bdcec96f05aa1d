//go:build linux

package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"preau/web"
)

// TestNodesDrain (issue 8, "Draining"): a node gets SIGTERM while it holds
// a chat connection and a live lesson. At once /readyz answers 503
// "draining" (the load balancer sends newcomers to the other node), the
// chat client is closed with 1001 and reconnects to the other node, the
// lesson's participants are told, and no new lesson starts there (503 in
// French); the running lesson goes on — a participant may still rejoin —
// and once the teacher ends it the node exits, well within its
// --shutdown-timeout. A second node whose lesson never ends closes it at
// the deadline: everyone gets "ended" and the node exits in time.
func TestNodesDrain(t *testing.T) {
	cl := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var classA, classB int64
	for name, v := range map[string]*int64{"3e A": &classA, "6e A": &classB} {
		if err := cl.d.QueryRow(ctx, "SELECT id FROM classes WHERE name = ?", name).Scan(v); err != nil {
			t.Fatalf("class %s: %v", name, err)
		}
	}
	_, teacher := cl.session(t, "prof.demo")
	_, pupil := cl.session(t, "eleve.demo")
	const timeout = 20 * time.Second
	c := startNode(t, "C", append(cl.args, "--shutdown-timeout", timeout.String())...)

	// On C itself: the mark says another node of the cluster placed it
	// here (web/forward_mark.go).
	here := http.Header{web.ForwardedHeader: {web.ForwardMark(cl.key, "POST", "/api/v1/live/lessons", time.Now())}}
	r := doHeader(c.url, teacher, "POST", "/api/v1/live/lessons", "application/json", fmt.Appendf(nil, `{"class_id":%d}`, classA), here)
	if r.code != http.StatusCreated {
		t.Fatalf("start a lesson on C: %s", r)
	}
	var lesson struct{ Room string }
	r.decode(t, &lesson)
	teacherLive := joinLive(t, ctx, c.url, teacher, lesson.Room)
	pupilLive := joinLive(t, ctx, c.url, pupil, lesson.Room)
	for _, ch := range []<-chan liveEvent{teacherLive, pupilLive} {
		if e, ok := waitLive(ch, 10*time.Second, func(e liveEvent) bool { return e.Type == "joined" || e.Type == "error" }); !ok || e.Type != "joined" {
			t.Fatalf("join the lesson on C: %+v", e)
		}
	}
	chatWS, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.url, "http")+"/ws/chat",
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {pupil}}})
	if err != nil {
		t.Fatal(err)
	}
	defer chatWS.CloseNow()
	chatClosed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := chatWS.Read(ctx); err != nil {
				chatClosed <- err
				return
			}
		}
	}()

	term := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// At once: not ready, the chat moves, the room is told.
	waitFor(t, 2*time.Second, "C's /readyz to answer 503 draining", func() bool {
		r := do(c.url, "", "GET", "/readyz", "", nil)
		return r.code == http.StatusServiceUnavailable && strings.Contains(string(r.body), "draining")
	})
	select {
	case err := <-chatClosed:
		if s := websocket.CloseStatus(err); s != websocket.StatusGoingAway {
			t.Errorf("chat on C closed with %v, want 1001 (going away)", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("the chat connection on C is still open 2 s after SIGTERM")
	}
	if seq, code, err := chatOnce(ctx, cl.b.url, pupil, mustConversation(t, cl), "after-drain"); err != nil || seq == 0 {
		t.Errorf("chat on B while C drains: seq %d, %q, %v", seq, code, err)
	}
	for name, ch := range map[string]<-chan liveEvent{"teacher": teacherLive, "pupil": pupilLive} {
		if e, ok := waitLive(ch, 2*time.Second, func(e liveEvent) bool { return e.Type == "draining" }); !ok || !strings.Contains(e.Message, "redémarre") {
			t.Errorf("the %s was not told C is draining: %+v", name, e)
		}
	}
	if r := doHeader(c.url, teacher, "POST", "/api/v1/live/lessons", "application/json", fmt.Appendf(nil, `{"class_id":%d}`, classB), here); r.code != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "Réessayez") {
		t.Errorf("a new lesson on a draining node: %s, want 503 in French", r)
	}
	// The running lesson goes on: the pupil rejoins.
	again := joinLive(t, ctx, c.url, pupil, lesson.Room)
	if e, ok := waitLive(again, 5*time.Second, func(e liveEvent) bool { return e.Type == "joined" || e.Type == "error" }); !ok || e.Type != "joined" {
		t.Errorf("rejoin the running lesson on the draining node: %+v", e)
	}
	select {
	case <-c.exited:
		t.Fatal("C exited with a lesson running")
	default:
	}
	// The teacher ends it: C exits.
	ended := time.Now()
	if r := do(c.url, teacher, "POST", "/api/v1/live/rooms/"+lesson.Room+"/end", "", nil); r.code != http.StatusNoContent {
		t.Errorf("end the lesson on C: %s", r)
	}
	select {
	case <-c.exited:
	case <-time.After(timeout):
		t.Fatalf("C still running %v after the lesson ended", timeout)
	}
	t.Logf("drain with a lesson: C exited %v after the lesson ended, %v after SIGTERM (--shutdown-timeout %v)",
		time.Since(ended).Round(time.Millisecond), time.Since(term).Round(time.Millisecond), timeout)

	// A lesson that does not end: closed at the deadline.
	const short = 6 * time.Second
	d := startNode(t, "D", append(cl.args, "--shutdown-timeout", short.String())...)
	r = doHeader(d.url, teacher, "POST", "/api/v1/live/lessons", "application/json", fmt.Appendf(nil, `{"class_id":%d}`, classB), here)
	if r.code != http.StatusCreated {
		t.Fatalf("start a lesson on D: %s", r)
	}
	r.decode(t, &lesson)
	onD := joinLive(t, ctx, d.url, teacher, lesson.Room)
	if e, ok := waitLive(onD, 10*time.Second, func(e liveEvent) bool { return e.Type == "joined" || e.Type == "error" }); !ok || e.Type != "joined" {
		t.Fatalf("join the lesson on D: %+v", e)
	}
	term = time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	if _, ok := waitLive(onD, short+time.Second, func(e liveEvent) bool { return e.Type == "ended" }); !ok {
		t.Errorf("D's lesson did not end within its --shutdown-timeout %v", short)
	}
	endedAfter := time.Since(term)
	select {
	case <-d.exited:
	case <-time.After(short + 2*time.Second):
		t.Fatalf("D still running %v after SIGTERM (--shutdown-timeout %v)", time.Since(term), short)
	}
	t.Logf("drain at the deadline: D's lesson ended %v after SIGTERM, D exited after %v (--shutdown-timeout %v)",
		endedAfter.Round(time.Millisecond), time.Since(term).Round(time.Millisecond), short)
}

// mustConversation makes a group conversation of the cluster's pupils.
func mustConversation(t *testing.T, cl *cluster) int64 {
	t.Helper()
	run := cl.newRun(t)
	return run.conv
}
