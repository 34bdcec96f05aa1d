package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"preau/ent/meetings"
	"preau/sfu/placement"
)

func TestEndedMark(t *testing.T) {
	for _, tc := range []struct {
		node, owner string
		ended       bool
	}{
		{"a1b2c3", "", false},
		{endedMark("a1b2c3"), "a1b2c3", true},
		{"", "", false},
		{endedMark(""), "", true},
	} {
		owner, ended := endedOwner(tc.node)
		if owner != tc.owner || ended != tc.ended {
			t.Errorf("endedOwner(%q) = %q, %v; want %q, %v", tc.node, owner, ended, tc.owner, tc.ended)
		}
	}
}

// fakeNode stands for another Préau node: it records what it was sent.
type fakeNode struct {
	*httptest.Server
	mu  sync.Mutex
	got []string // method, path and the forwarded mark of each request
}

func newFakeNode(t *testing.T, srv *Server, room string) *fakeNode {
	n := &fakeNode{}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mark := r.Header.Get(placedHeader) // "1" when it is a valid mark of the cluster (forward_mark.go)
		if srv.forwarded(r) {
			mark = "1"
		}
		n.mu.Lock()
		n.got = append(n.got, r.Method+" "+r.URL.Path+" "+mark)
		n.mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/grant"):
			writeJSON(w, http.StatusOK, grantResponse{Room: room, Grant: "from-the-other-node"})
		case strings.HasSuffix(r.URL.Path, "/end"):
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	t.Cleanup(n.Close)
	return n
}

// last returns the last request the node got, and how many.
func (n *fakeNode) last() (string, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.got) == 0 {
		return "", 0
	}
	return n.got[len(n.got)-1], len(n.got)
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMeetingPlacement walks a meeting room through the placement
// registry, with another node played by a fake server: alone, the room
// opens here and is placed here, kept when the entry is lost and ended
// when marked ended; with a less loaded node, or a room placed on another
// live node, the grant, the end and the socket are forwarded there and
// nothing opens here, and a cancellation marks the entry; the room of a
// dead node is re-created here by its socket; a room placed on another
// node while open here ends here.
func TestMeetingPlacement(t *testing.T) {
	f, now, do := meetingsWorld(t)
	ctx := context.Background()
	w := do("POST", "/api/v1/meetings/slots", fmt.Sprintf(`{"teacher_ids":[%d],"date":"2026-12-01","from":"17:00","until":"17:30","minutes":15,"mode":"video"}`, f.teacher.ID), "teacher")
	wantCode(t, w, http.StatusCreated, "teacher publishes")
	slots := decodeBody[[]meetingSlotJSON](t, w)
	wantCode(t, do("POST", fmt.Sprintf("/api/v1/meetings/slots/%d/booking", slots[1].ID), fmt.Sprintf(`{"child_id":%d}`, f.lea.ID), "mother"),
		http.StatusCreated, "mother books")
	*now = time.Date(2026, 12, 1, 17, 5, 0, 0, meetings.Paris)
	room := fmt.Sprintf("rdv-%d", slots[1].ID)
	closes := time.Date(2026, 12, 1, 17, 30, 0, 0, meetings.Paris)
	grant, end := "/api/v1/live/rooms/"+room+"/grant", "/api/v1/live/rooms/"+room+"/end"
	live := f.srv.cfg.Live.ready()
	reg, self, m := live.Registry, live.Node.ID, live.Manager
	entry := func() placement.Room {
		t.Helper()
		r, err := reg.Get(ctx, room)
		if err != nil && !errors.Is(err, placement.ErrNoRoom) {
			t.Fatal(err)
		}
		return r
	}

	// Alone: opened and placed here, with its window's end.
	wantCode(t, do("POST", grant, "", "mother"), http.StatusOK, "mother's grant")
	if m.Room(room) == nil {
		t.Fatal("no room opened here")
	}
	var meta placedMeeting
	if r := entry(); r.Node != self || json.Unmarshal(r.Meta, &meta) != nil || !meta.Closes.Equal(closes) {
		t.Fatalf("entry %+v, want on %s until %v", r, self, closes)
	}
	// An entry lost (Redis restarted empty) is placed again.
	reg.Release(ctx, room, self)
	waitUntil(t, 3*time.Second, "the lost entry placed again", func() bool { return entry().Node == self })
	// Marked ended (a cancellation on another node): ended here, dropped.
	if ok, err := reg.Move(ctx, room, self, endedMark(self)); !ok || err != nil {
		t.Fatalf("mark ended: %v %v", ok, err)
	}
	waitUntil(t, 3*time.Second, "the room marked ended to end", func() bool { return m.Room(room) == nil && entry().Node == "" })

	// Another node, less loaded (this one does not beat here): the grant
	// goes there, with the member's request; nothing opens here.
	other := newFakeNode(t, f.srv, room)
	reg.Beat(ctx, placement.Node{ID: "zz-other", URL: other.URL})
	w = do("POST", grant, "", "teacher")
	wantCode(t, w, http.StatusOK, "teacher's grant, forwarded")
	if g := decodeBody[grantResponse](t, w); g.Grant != "from-the-other-node" {
		t.Errorf("grant %+v, want the other node's", g)
	}
	if got, _ := other.last(); got != "POST "+grant+" 1" {
		t.Errorf("the other node got %q", got)
	}
	wantCode(t, do("GET", "/direct/"+room, "", "mother"), http.StatusOK, "the page")
	if m.Room(room) != nil || entry().Node != "" {
		t.Errorf("a room opened here (%v) or placed (%+v) while another node is to open it", m.Room(room), entry())
	}

	// Placed on the other node: grant, end and socket go there.
	reg.Claim(ctx, placement.Room{ID: room, Node: "zz-other"})
	wantCode(t, do("POST", grant, "", "mother"), http.StatusOK, "mother's grant, forwarded")
	wantCode(t, do("POST", end, "", "mother"), http.StatusNotFound, "the parent ends it")
	wantCode(t, do("POST", end, "", "teacher"), http.StatusNoContent, "the teacher ends it, forwarded")
	if got, _ := other.last(); got != "POST "+end+" 1" {
		t.Errorf("the other node got %q, want the end", got)
	}
	ws := httptest.NewServer(f.srv.LiveWS())
	defer ws.Close()
	resp, err := http.Get(ws.URL + "/live/ws?room=" + room)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, _ := other.last(); got != "GET /live/ws 1" || resp.StatusCode != http.StatusTeapot {
		t.Errorf("socket: the other node got %q (status %d), want it forwarded", got, resp.StatusCode)
	}
	// A cancellation here marks the entry: the other node ends it.
	_, before := other.last()
	f.srv.endMeetingRoom(room)
	if r := entry(); r.Node != endedMark("zz-other") {
		t.Errorf("entry after the cancellation %+v, want marked ended", r)
	}
	if _, after := other.last(); after != before {
		t.Error("the cancellation sent a request to the other node")
	}
	if m.Room(room) != nil {
		t.Error("a room opened here")
	}

	// Its node died: the socket that comes back has it re-created here
	// (this node is the least loaded now), under the same id.
	reg.Release(ctx, room, endedMark("zz-other"))
	reg.Beat(ctx, placement.Node{ID: self, URL: "http://this.invalid"})
	reg.Beat(ctx, placement.Node{ID: "zz-other", URL: other.URL, Participants: 5})
	metaJSON, _ := json.Marshal(placedMeeting{Closes: closes})
	reg.Claim(ctx, placement.Room{ID: room, Node: "dead", Meta: metaJSON})
	if url, err := f.srv.meetingSocketHost(ctx, room, true); url != "" || err != nil {
		t.Fatalf("socket of a dead node's room: %q %v, want served here", url, err)
	}
	if m.Room(room) == nil || entry().Node != self {
		t.Fatalf("re-created: room %v, entry %+v", m.Room(room), entry())
	}
	// This node taken for dead, the room re-created on another: it ends here.
	if ok, _ := reg.Move(ctx, room, self, "zz-other"); !ok {
		t.Fatal("move")
	}
	waitUntil(t, 3*time.Second, "the room placed elsewhere to end here", func() bool { return m.Room(room) == nil })
	if r := entry(); r.Node != "zz-other" {
		t.Errorf("entry %+v, want left to the other node", r)
	}

	// The window's end ends the room on its node, and drops the entry.
	reg.Release(ctx, room, "zz-other")
	reg.Beat(ctx, placement.Node{ID: self, URL: "http://this.invalid"})
	reg.Beat(ctx, placement.Node{ID: "zz-other", URL: other.URL, Participants: 5})
	*now = closes.Add(-500 * time.Millisecond)
	wantCode(t, do("POST", grant, "", "mother"), http.StatusOK, "mother's grant, half a second before the end")
	if m.Room(room) == nil || entry().Node != self {
		t.Fatalf("room %v, entry %+v; want opened here", m.Room(room), entry())
	}
	waitUntil(t, 3*time.Second, "the room to end with its window", func() bool { return m.Room(room) == nil && entry().Node == "" })
}
