//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"preau/chat"
	"preau/db"
	"preau/internal/testsvc"
)

// TestClusterScript: scripts/cluster starts two nodes on PostgreSQL, Redis
// and MinIO with the demo school; a pupil signed in on node 1 is signed in
// on node 2, a file sent through node 1 downloads from node 2, a message
// sent through node 1 reaches the pupil's connection on node 2; SIGTERM to
// the script stops both nodes. The nodes are this test binary
// (PREAU_BIN, as in nodes_test.go), so nothing is built.
func TestClusterScript(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "psql"} {
		if _, err := exec.LookPath(tool); err != nil {
			testsvc.Missing(t, tool, "not in PATH")
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pg := testsvc.PostgresURL(t)
	_, redisURL := testsvc.RedisProc(t)
	s3 := testsvc.S3URL(t)
	port := freePort(t)
	for !tcpFree(port + 1) {
		port = freePort(t)
	}
	media := freeUDPPort(t)
	dir := t.TempDir()
	cmd := exec.Command("bash", "../../scripts/cluster", "-n", "2", "--port", strconv.Itoa(port),
		"--media-port", strconv.Itoa(media), "--dir", dir)
	cmd.Env = append(os.Environ(), "PREAU_DATABASE_URL="+pg, "PREAU_REDIS_URL="+redisURL, "PREAU_STORAGE_URL="+s3,
		"PREAU_BIN="+exe, nodeChildEnv+"=1", nodeLifetimeEnv+"="+nodeLifetime.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when the script has exited
	var exitErr error
	up := make(chan struct{})
	var out strings.Builder
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "node(s) up") {
				close(up)
			}
		}
	}()
	go func() { <-outDone; exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Error("scripts/cluster did not stop within 20 s of SIGTERM")
		}
	})
	select {
	case <-up:
	case <-exited:
		t.Fatalf("scripts/cluster exited: %v\n%s", exitErr, &out)
	case <-time.After(2 * time.Minute):
		t.Fatalf("scripts/cluster not up within 2 min:\n%s", &out)
	}
	n1, n2 := "http://127.0.0.1:"+strconv.Itoa(port), "http://127.0.0.1:"+strconv.Itoa(port+1)

	// Sessions are shared: sign in on node 1, use node 2.
	resp, err := http.Post(n1+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"login":"eleve.demo","password":"`+demoPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "preau_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if resp.StatusCode != http.StatusOK || cookie == "" {
		t.Fatalf("sign in on node 1: %s, cookie %q", resp.Status, cookie)
	}
	if r := do(n2, cookie, "GET", "/api/v1/me", "", nil); r.code != http.StatusOK || !strings.Contains(string(r.body), "eleve.demo") {
		t.Fatalf("the session on node 2: %s", r)
	}

	// Files are in MinIO: sent to node 1, read from node 2.
	var spaces struct {
		Spaces []struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		} `json:"spaces"`
	}
	do(n1, cookie, "GET", "/api/v1/files/spaces", "", nil).decode(t, &spaces)
	var space int64
	for _, s := range spaces.Spaces {
		if s.Kind == "personal" {
			space = s.ID
		}
	}
	body := []byte("Fiche de révision : les fractions\n")
	r := do(n1, cookie, "POST", fmt.Sprintf("/api/v1/files/spaces/%d/upload?name=fractions.txt", space), "application/octet-stream", body)
	if r.code >= 300 {
		t.Fatalf("upload on node 1: %s", r)
	}
	var file struct{ ID int64 }
	r.decode(t, &file)
	if r := do(n2, cookie, "GET", fmt.Sprintf("/api/v1/files/items/%d/content", file.ID), "", nil); r.code != http.StatusOK || string(r.body) != string(body) {
		t.Errorf("download from node 2: %s", r)
	}

	// Chat crosses the nodes through Redis: the pupil's class channel.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	d, err := db.Open(ctx, db.Config{URL: pg})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var pupil, school int64
	if err := d.QueryRow(ctx, `SELECT u.id, r.structure_id FROM users u JOIN roles r ON r.user_id = u.id
		WHERE u.login = ?`, "eleve.demo").Scan(&pupil, &school); err != nil {
		t.Fatalf("the demo pupil: %v", err)
	}
	c, err := chat.NewStore(d).CreateGroupWith(ctx, school, "Groupe de révision", []int64{pupil})
	if err != nil {
		t.Fatal(err)
	}
	conv := c.ID
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(n2, "http")+"/ws/chat",
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	sub, _ := json.Marshal(map[string]any{"v": 1, "type": "subscribe", "id": 1, "data": map[string]any{
		"conversations": []map[string]int64{{"id": conv, "after_seq": 0}}}})
	if err := ws.Write(ctx, websocket.MessageText, sub); err != nil {
		t.Fatal(err)
	}
	next := func() faultFrame {
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("chat on node 2: %v", err)
			}
			var f faultFrame
			if json.Unmarshal(b, &f) == nil {
				return f
			}
		}
	}
	for f := next(); f.Type != "subscribed"; f = next() {
		if f.Type == "error" {
			t.Fatalf("subscribe on node 2: %+v", f)
		}
	}
	seq, code, err := chatOnce(ctx, n1, cookie, conv, "cluster-1")
	if err != nil || seq == 0 {
		t.Fatalf("send on node 1: %d %q %v", seq, code, err)
	}
	for f := next(); ; f = next() {
		if f.Type == "message" && f.Data.ClientID == "cluster-1" && f.Data.Seq == seq {
			break
		}
	}

	// The load tools, given both nodes: chat members on each node, and a
	// live room on each node. Nothing lost; figures are not judged.
	cfg, err := parseLoadtest([]string{"--url", n1 + "," + n2, "--conversations", "2", "--members", "4",
		"--rate", "10", "--duration", "2s", "--drain", "3s"})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := loadtestChat(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loadtest chat on 2 nodes: %+v", sum)
	if sum.Nodes != 2 || sum.Acked == 0 || sum.Deliveries != sum.Acked*4 || sum.Lost != 0 || sum.Duplicated != 0 ||
		sum.LatencyLocalP50 <= 0 || sum.LatencyCrossP50 <= 0 || sum.ServerCPUUsPerDelivery <= 0 {
		t.Errorf("loadtest chat on 2 nodes: %+v; want every ack delivered to the 4 members, across the nodes too, and both nodes' CPU", sum)
	}
	var sfuOut, sfuLog strings.Builder
	err = runLoadtestSFU(ctx, []string{"--url", n1 + "," + n2, "--rooms", "2", "--subscribers", "2", "--kbps", "300",
		"--duration", "2s", "--join-within", "1s", "--json"}, &sfuOut, &sfuLog)
	if err != nil {
		t.Fatalf("loadtest sfu on 2 nodes: %v\n%s", err, sfuLog.String())
	}
	var sfuSum sfuSummary
	if err := json.Unmarshal([]byte(sfuOut.String()), &sfuSum); err != nil {
		t.Fatal(err)
	}
	t.Logf("loadtest sfu on 2 nodes: %s", sfuOut.String())
	if sfuSum.Nodes != 2 || sfuSum.SubscribersWithVideo != 4 || sfuSum.ForwardedPackets == 0 {
		t.Errorf("loadtest sfu on 2 nodes: %+v; want 4 subscribers with video\n%s", sfuSum, sfuLog.String())
	}

	// SIGTERM stops the script and its nodes.
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("scripts/cluster still running 20 s after SIGTERM:\n%s", &out)
	}
	for _, n := range []string{n1, n2} {
		if resp, err := http.Get(n + "/healthz"); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after the script stopped", n)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "node1.log")); err != nil || !strings.Contains(string(b), "Demo school") {
		t.Errorf("node 1's log has no demo school (%v)", err)
	}
}

// freeUDPPort returns a UDP and TCP port of 127.0.0.1 free a moment ago,
// with the next one free too (scripts/cluster gives node i port+i-1).
func freeUDPPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		p := freePort(t)
		if p < 65000 && udpFree(p) && udpFree(p+1) && tcpFree(p+1) {
			return p
		}
	}
	t.Fatal("no two free ports in a row")
	return 0
}

func udpFree(port int) bool {
	c, err := net.ListenPacket("udp", ":"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func tcpFree(port int) bool {
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
