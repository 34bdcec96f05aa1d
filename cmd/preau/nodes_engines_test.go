//go:build linux

package main

// Fault tests 3 and 4 of issue 8: the content store (MinIO) stopped, and
// PostgreSQL restarted, under two real nodes (docs/reliability.md).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"preau/auth"
	"preau/chat"
)

// filesDownWithin is issue 5's and 8's promise: file routes answer 503
// within 2 s while the store is down.
const filesDownWithin = 2 * time.Second

// session signs the demo account login in (a session as a sign-in makes,
// without its hashing) and returns its id and cookie.
func (cl *cluster) session(t *testing.T, login string) (int64, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var id int64
	if err := cl.d.QueryRow(ctx, "SELECT id FROM users WHERE login = ?", login).Scan(&id); err != nil {
		t.Fatalf("user %s: %v", login, err)
	}
	token, err := auth.NewSessions(cl.d).Create(ctx, cl.d, id, "preau fault test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return id, "preau_session=" + token
}

// reply is an HTTP answer as the fault tests look at it.
type reply struct {
	code int
	body []byte
	took time.Duration
	err  error
}

func (r reply) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("%d %s (%v)", r.code, bytes.TrimSpace(r.body), r.took.Round(time.Millisecond))
}

// do sends one request with the cookie, bounded to 15 s.
func do(base, cookie, method, path, contentType string, body []byte) reply {
	return doHeader(base, cookie, method, path, contentType, body, nil)
}

// doHeader is do with more headers.
func doHeader(base, cookie, method, path, contentType string, body []byte, h http.Header) reply {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Cookie", cookie)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	return reply{code: resp.StatusCode, body: b, took: time.Since(start), err: err}
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}

// chatOnce sends one message over a fresh chat connection to base and
// returns the ack's seq, or the error frame's code.
func chatOnce(ctx context.Context, base, cookie string, conv int64, clientID string) (int64, string, error) {
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws/chat",
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie}}})
	if err != nil {
		return 0, "", err
	}
	defer ws.CloseNow()
	b, _ := json.Marshal(map[string]any{"v": 1, "type": "send", "id": 1, "data": map[string]any{
		"conversation": conv, "client_id": clientID, "body": "panne " + clientID}})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		return 0, "", err
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return 0, "", err
		}
		var f faultFrame
		if json.Unmarshal(b, &f) != nil {
			continue
		}
		switch f.Type {
		case "ack":
			if f.Data.ClientID == clientID {
				ws.Close(websocket.StatusNormalClosure, "")
				return f.Data.Seq, "", nil
			}
		case "error":
			return 0, f.Data.Code, nil
		}
	}
}

// TestNodesMinIOStopped (issue 8, fault test 3): with the files on a MinIO
// that stops, both nodes answer the file routes 503 with a French message
// within 2 s; chat and live lessons are unaffected; an upload started
// before resumes after MinIO is back, and the file reads back whole.
func TestNodesMinIOStopped(t *testing.T) {
	cl := startClusterWith(t, clusterOptions{minio: true})
	pupil, pupilCookie := cl.session(t, "eleve.demo")
	_, teacherCookie := cl.session(t, "prof.demo")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conv, err := chat.NewStore(cl.d).CreateGroupWith(ctx, cl.school, "Test de panne MinIO", cl.pupils)
	if err != nil {
		t.Fatal(err)
	}
	var classID int64
	if err := cl.d.QueryRow(ctx, "SELECT id FROM classes WHERE name = ?", "3e A").Scan(&classID); err != nil {
		t.Fatal(err)
	}

	// Before: a small file, and the first part of a big one, through A.
	var spaces struct {
		Spaces []struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		} `json:"spaces"`
	}
	do(cl.a.url, pupilCookie, "GET", "/api/v1/files/spaces", "", nil).decode(t, &spaces)
	var space int64
	for _, s := range spaces.Spaces {
		if s.Kind == "personal" {
			space = s.ID
		}
	}
	if space == 0 {
		t.Fatalf("the pupil %d has no personal space: %+v", pupil, spaces)
	}
	small := []byte("Exposé sur la Loire\n")
	r := do(cl.a.url, pupilCookie, "POST", fmt.Sprintf("/api/v1/files/spaces/%d/upload?name=expose.txt", space), "application/octet-stream", small)
	if r.code != http.StatusCreated && r.code != http.StatusOK {
		t.Fatalf("upload before the outage: %s", r)
	}
	var file struct{ ID int64 }
	r.decode(t, &file)
	big := bytes.Repeat([]byte("0123456789abcdef"), (8<<20+4096)/16)
	r = do(cl.a.url, pupilCookie, "POST", "/api/v1/files/uploads", "application/json",
		fmt.Appendf(nil, `{"space":%d,"name":"video.bin","size":%d}`, space, len(big)))
	if r.code != http.StatusCreated {
		t.Fatalf("start a resumable upload: %s", r)
	}
	var up struct {
		ID       string `json:"id"`
		PartSize int    `json:"part_size"`
		Parts    int    `json:"parts"`
	}
	r.decode(t, &up)
	if up.Parts != 2 {
		t.Fatalf("upload %+v, want 2 parts of %d bytes", up, len(big))
	}
	part := func(base string, n int) reply {
		b := big[(n-1)*up.PartSize : min(n*up.PartSize, len(big))]
		return do(base, pupilCookie, "PUT", fmt.Sprintf("/api/v1/files/uploads/%s/parts/%d", up.ID, n), "application/octet-stream", b)
	}
	if r := part(cl.a.url, 1); r.code >= 300 {
		t.Fatalf("part 1: %s", r)
	}

	// MinIO stops.
	cl.s3.Stop()
	stopped := time.Now()
	var worst time.Duration
	for _, n := range []*nodeProc{cl.a, cl.b} {
		for _, c := range []struct{ method, path string }{
			{"GET", fmt.Sprintf("/api/v1/files/items/%d/content", file.ID)},
			{"PUT", ""}, // part 2
			{"POST", fmt.Sprintf("/api/v1/files/spaces/%d/upload?name=autre.txt", space)},
		} {
			var r reply
			if c.method == "PUT" {
				r = part(n.url, 2)
			} else {
				r = do(n.url, pupilCookie, c.method, c.path, "application/octet-stream", small)
			}
			if r.code != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "indisponible") {
				t.Errorf("node %s: %s %s with MinIO stopped: %s, want 503 with a French message", n.name, c.method, c.path, r)
			}
			if r.took > filesDownWithin {
				t.Errorf("node %s: %s %s answered after %v, want within %v", n.name, c.method, c.path, r.took, filesDownWithin)
			}
			worst = max(worst, r.took)
		}
		// The Documents page says so too, in French.
		if r := do(n.url, pupilCookie, "GET", "/documents", "", nil); r.code != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "indisponible") {
			t.Errorf("node %s: /documents with MinIO stopped: %d, want 503 in French", n.name, r.code)
		}
	}
	// Chat and live lessons do not depend on it.
	for i, n := range []*nodeProc{cl.a, cl.b} {
		seq, code, err := chatOnce(ctx, n.url, pupilCookie, conv.ID, fmt.Sprintf("minio-down-%d", i))
		if err != nil || seq == 0 {
			t.Errorf("node %s: chat with MinIO stopped: seq %d, error %q, %v", n.name, seq, code, err)
		}
	}
	if r := do(cl.b.url, teacherCookie, "POST", "/api/v1/live/lessons", "application/json", fmt.Appendf(nil, `{"class_id":%d}`, classID)); r.code != http.StatusCreated {
		t.Errorf("start a live lesson with MinIO stopped: %s", r)
	}
	if r := do(cl.a.url, pupilCookie, "GET", "/", "", nil); r.code != http.StatusOK {
		t.Errorf("home page with MinIO stopped: %d", r.code)
	}
	down := time.Since(stopped)

	// MinIO is back: the upload resumes where it was, and completes.
	cl.s3.Start(t)
	back := time.Now()
	var resumed time.Duration
	for {
		r := part(cl.b.url, 2)
		if r.code < 300 {
			resumed = time.Since(back)
			break
		}
		if time.Since(back) > 10*time.Second {
			t.Fatalf("part 2 still refused 10 s after MinIO came back: %s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r = do(cl.b.url, pupilCookie, "POST", "/api/v1/files/uploads/"+up.ID+"/complete", "", nil)
	if r.code != http.StatusCreated && r.code != http.StatusOK {
		t.Fatalf("complete after the outage: %s", r)
	}
	var done struct{ ID int64 }
	r.decode(t, &done)
	if r := do(cl.a.url, pupilCookie, "GET", fmt.Sprintf("/api/v1/files/items/%d/content", done.ID), "", nil); r.code != http.StatusOK || !bytes.Equal(r.body, big) {
		t.Errorf("the resumed file reads back %d with %d bytes, want 200 with %d", r.code, len(r.body), len(big))
	}
	if r := do(cl.b.url, pupilCookie, "GET", fmt.Sprintf("/api/v1/files/items/%d/content", file.ID), "", nil); r.code != http.StatusOK || !bytes.Equal(r.body, small) {
		t.Errorf("the file from before reads back %d %q", r.code, r.body)
	}
	t.Logf("MinIO stopped for %v: file routes answered 503 in at most %v on both nodes; chat and live lessons unaffected; the upload resumed %v after MinIO returned",
		down.Round(time.Millisecond), worst.Round(time.Millisecond), resumed.Round(time.Millisecond))
}

// TestNodesPostgresRestart (issue 8, fault test 4): PostgreSQL is stopped
// (fast shutdown) while pupils send messages through both nodes, and
// started again. Meanwhile requests fail with a clear French error (503)
// without hanging; the nodes recover by themselves (/readyz); the senders,
// resending what was not acknowledged under the same client id, finish;
// every acknowledged message is in the database once, at its seq, with no
// gap.
func TestNodesPostgresRestart(t *testing.T) {
	cl := startClusterWith(t, clusterOptions{postgres: true})
	outage := faultEnvDuration(t, "PREAU_FAULT_OUTAGE", faultOutage)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conv, err := chat.NewStore(cl.d).CreateGroupWith(ctx, cl.school, "Test de redémarrage", cl.pupils)
	if err != nil {
		t.Fatal(err)
	}
	_, pupilCookie := cl.session(t, "eleve.demo")

	// Eight senders, one message every 600 ms each (under the per-user rate
	// of 20 per 10 s), half through each node; a message is resent under
	// the same client id until it is acknowledged.
	const senders, perSender = 8, 25
	type result struct {
		acked   map[string]int64
		retries int
	}
	results := make(chan result, senders)
	start := time.Now()
	for i := range senders {
		node := []*nodeProc{cl.a, cl.b}[i%2]
		go func() {
			res := result{acked: map[string]int64{}}
			defer func() { results <- res }()
			for k := range perSender {
				id := fmt.Sprintf("pg-%d-%d", i, k)
				for ctx.Err() == nil {
					seq, _, err := chatOnce(ctx, node.url, cl.cookie[cl.pupils[i]], conv.ID, id)
					if err == nil && seq > 0 {
						res.acked[id] = seq
						break
					}
					res.retries++
					time.Sleep(200 * time.Millisecond)
				}
				time.Sleep(600 * time.Millisecond)
			}
		}()
	}

	time.Sleep(3 * time.Second)
	cl.pg.Stop()
	stopped := time.Now()
	// While it is down: a clear error, quickly, on both nodes.
	var slowest time.Duration
	for time.Since(stopped) < outage {
		for _, n := range []*nodeProc{cl.a, cl.b} {
			r := do(n.url, pupilCookie, "GET", "/api/v1/me", "", nil)
			if r.code != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "indisponible") {
				t.Errorf("node %s, PostgreSQL down: GET /api/v1/me %s, want 503 with a French message", n.name, r)
			}
			slowest = max(slowest, r.took)
			if r := do(n.url, pupilCookie, "GET", "/readyz", "", nil); r.code != http.StatusServiceUnavailable {
				t.Errorf("node %s, PostgreSQL down: /readyz %s, want 503", n.name, r)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	cl.pg.Start(t)
	restarted := time.Now()
	var recovered time.Duration
	for _, n := range []*nodeProc{cl.a, cl.b} {
		waitFor(t, 10*time.Second, "node "+n.name+" ready after the restart", func() bool {
			return do(n.url, pupilCookie, "GET", "/readyz", "", nil).code == http.StatusOK
		})
		recovered = max(recovered, time.Since(restarted))
	}

	acked := map[string]int64{}
	retries := 0
	for range senders {
		select {
		case res := <-results:
			for id, seq := range res.acked {
				acked[id] = seq
			}
			retries += res.retries
		case <-ctx.Done():
			t.Fatal("the senders did not finish")
		}
	}
	if len(acked) != senders*perSender {
		t.Fatalf("%d messages acknowledged, want %d", len(acked), senders*perSender)
	}
	// The database holds each acknowledged message once, at its seq.
	rows, err := cl.d.Query(ctx, "SELECT seq, client_id FROM messages WHERE conversation_id = ? ORDER BY seq", conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int64{}
	var n, gaps int64
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			t.Fatal(err)
		}
		n++
		if seq != n {
			gaps++
		}
		if _, dup := stored[id]; dup {
			t.Errorf("client id %s stored twice", id)
		}
		stored[id] = seq
	}
	rows.Close()
	lost := 0
	for id, seq := range acked {
		if stored[id] != seq {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged %s at seq %d, stored at %d", id, seq, stored[id])
			}
		}
	}
	if gaps != 0 || int(n) != len(acked) {
		t.Errorf("%d messages stored with %d gaps, want %d without gaps", n, gaps, len(acked))
	}
	t.Logf("PostgreSQL down %v: requests answered 503 in at most %v; both nodes ready %v after the restart; %d messages acknowledged (%d sends retried), %d lost, stored once each; total %v",
		outage, slowest.Round(time.Millisecond), recovered.Round(time.Millisecond), len(acked), retries, lost, time.Since(start).Round(time.Millisecond))
}
