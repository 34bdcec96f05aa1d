//go:build linux

package main

// Fault tests of the chat across nodes (issue 4 "Several nodes", issue 8
// fault tests 1 and 2), with real processes and real engines on 127.0.0.1:
// two `preau serve` processes (this test binary, see main_test.go) on one
// fresh PostgreSQL schema and one private redis-server started here, and
// chat clients that behave like web/static/chat.js. docs/reliability.md
// lists them with their last figures.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"preau/auth"
	"preau/chat"
	"preau/db"
	"preau/demo"
	"preau/identity"
	"preau/internal/testsvc"
)

const (
	// faultMessages is what the kill -9 test streams. Issue 8 says 10,000;
	// the per-user rate of SECURITY.md (20 sends per 10 s) makes 10,000
	// from the demo's ~100 pupils last ~50 s, so CI runs 2,000 (all within
	// each pupil's first burst) and PREAU_FAULT_MESSAGES=10000 runs the
	// full figure.
	faultMessages = 2000
	// faultOutage is how long the Redis test keeps Redis stopped. Issue 8
	// says 30 s; CI runs 5 s, PREAU_FAULT_OUTAGE=30s runs the full figure.
	faultOutage = 5 * time.Second
	// backWithin is the promise: clients are back within 10 s.
	backWithin = 10 * time.Second
	// nodeLifetime bounds each node process (main_test.go).
	nodeLifetime = 4 * time.Minute
)

// TestNodesKill9: node A is killed (SIGKILL) in the middle of a stream of
// messages sent through it. Its clients reconnect to node B by themselves,
// resubscribe from their last seq and resend what was not acknowledged.
// Every acknowledged message reaches every receiver once, with no gap; a
// resent message is stored once; everyone is back within 10 s.
func TestNodesKill9(t *testing.T) {
	n := faultEnvInt(t, "PREAU_FAULT_MESSAGES", faultMessages)
	cl := startCluster(t)
	run := cl.newRun(t)
	// The senders: the other pupils, one connection to node A each.
	senders := make([]*faultClient, len(cl.pupils)-4)
	for i := range senders {
		quota := n / len(senders)
		if i < n%len(senders) {
			quota++
		}
		senders[i] = run.client(fmt.Sprintf("sender%d", i), cl.pupils[4+i], []string{cl.a.url, cl.b.url}, false)
		senders[i].quota, senders[i].window = quota, 4
	}
	recvA := []*faultClient{run.client("recvA0", cl.pupils[0], []string{cl.a.url, cl.b.url}, true),
		run.client("recvA1", cl.pupils[1], []string{cl.a.url, cl.b.url}, true)}
	recvB := []*faultClient{run.client("recvB0", cl.pupils[2], []string{cl.b.url, cl.a.url}, true),
		run.client("recvB1", cl.pupils[3], []string{cl.b.url, cl.a.url}, true)}
	receivers := append(slices.Clone(recvA), recvB...)
	run.startAll(t, receivers)
	start := time.Now()
	run.startAll(t, senders)

	// Kill A once half the messages are acknowledged.
	waitFor(t, 60*time.Second, "half the messages acknowledged", func() bool { return run.acked.Load() >= int64(n/2) })
	ackedAtKill := run.acked.Load()
	cl.a.kill(t)
	killedAt := time.Now()

	for _, s := range senders {
		s.wait(t, 120*time.Second)
	}
	sendTime := time.Since(start)
	last := run.lastSeq(t)
	run.waitAll(t, 30*time.Second, receivers, last)
	run.stopAll(t)

	run.check(t, senders, receivers, int64(n))
	var back []time.Duration
	for _, c := range append(slices.Clone(senders), recvA...) {
		if c.cuts > 0 && (len(c.back) == 0 || !c.downAt.IsZero()) {
			t.Errorf("%s: cut off and not back; ends: %q", c.name, c.ends)
		}
		back = append(back, c.back...)
	}
	for _, r := range recvA {
		if r.cuts == 0 {
			t.Errorf("%s (node A) was not cut off by the kill", r.name)
		}
	}
	for _, r := range recvB {
		if r.connections != 1 {
			t.Errorf("%s (node B) connected %d times, want once; ends: %q", r.name, r.connections, r.ends)
		}
	}
	slices.Sort(back)
	if len(back) > 0 && back[len(back)-1] > backWithin {
		t.Errorf("slowest client back after %v, want ≤ %v", back[len(back)-1], backWithin)
	}
	var resent, ooo int
	for _, s := range senders {
		resent += s.resent
	}
	for _, r := range receivers {
		ooo += r.outOfOrder
	}
	t.Logf("kill -9: %d messages, %d acknowledged (%d before the kill), %d resent, reconnect p50 %v max %v (%d clients), "+
		"%d out-of-order arrivals (reordered by seq), total %v (kill at %v)",
		n, run.acked.Load(), ackedAtKill, resent, quantile(back, 0.5), quantile(back, 1), len(back),
		ooo, sendTime.Round(time.Millisecond), killedAt.Sub(start).Round(time.Millisecond))
}

// TestNodesRedisOutage: Redis stops while node A's clients keep sending.
// A's own clients keep receiving and the senders keep getting acks (the
// database is up); B's clients receive nothing while it is down; once it
// is back they catch up from the store without reconnecting: every message
// once, with no gap.
func TestNodesRedisOutage(t *testing.T) {
	outage := faultEnvDuration(t, "PREAU_FAULT_OUTAGE", faultOutage)
	cl := startCluster(t)
	run := cl.newRun(t)
	senders := make([]*faultClient, 8)
	for i := range senders {
		senders[i] = run.client(fmt.Sprintf("sender%d", i), cl.pupils[4+i], []string{cl.a.url}, false)
		senders[i].quota, senders[i].window = 1<<30, 1
		senders[i].interval = 500 * time.Millisecond // 2 per second each: the sustained rate allowed
	}
	recvA := []*faultClient{run.client("recvA0", cl.pupils[0], []string{cl.a.url}, true),
		run.client("recvA1", cl.pupils[1], []string{cl.a.url}, true)}
	recvB := []*faultClient{run.client("recvB0", cl.pupils[2], []string{cl.b.url}, true),
		run.client("recvB1", cl.pupils[3], []string{cl.b.url}, true)}
	receivers := append(slices.Clone(recvA), recvB...)
	run.startAll(t, receivers)
	run.startAll(t, senders)

	waitFor(t, 20*time.Second, "messages across nodes before the outage", func() bool {
		return recvB[0].upTo.Load() >= 10 && recvB[1].upTo.Load() >= 10
	})
	cl.redis.Stop()
	stopped := time.Now()
	time.Sleep(500 * time.Millisecond) // what was published before the stop arrives
	heldB := []int64{recvB[0].count.Load(), recvB[1].count.Load()}
	countA, ackedAtStop := recvA[0].count.Load(), run.acked.Load()
	time.Sleep(outage - time.Since(stopped))
	ackedDuring := run.acked.Load() - ackedAtStop
	if ackedDuring == 0 {
		t.Error("no message acknowledged while Redis was down")
	}
	if d := recvA[0].count.Load() - countA; d < ackedDuring/2 {
		t.Errorf("node A's own client got %d messages while %d were acknowledged during the outage", d, ackedDuring)
	}
	for i, r := range recvB {
		if got := r.count.Load(); got != heldB[i] {
			t.Errorf("%s received %d messages while Redis was down (fan-out must stop)", r.name, got-heldB[i])
		}
	}
	mark := run.maxAcked()
	cl.redis.Start(t)
	restarted := time.Now()
	waitFor(t, backWithin, "node B's clients catching up", func() bool {
		return recvB[0].upTo.Load() >= mark && recvB[1].upTo.Load() >= mark
	})
	caughtUp := time.Since(restarted)
	time.Sleep(time.Second) // live again
	for _, s := range senders {
		s.finish()
	}
	for _, s := range senders {
		s.wait(t, 30*time.Second)
	}
	last := run.lastSeq(t)
	run.waitAll(t, 10*time.Second, receivers, last)
	run.stopAll(t)
	run.check(t, senders, receivers, -1)
	for _, c := range append(slices.Clone(senders), receivers...) {
		if c.connections != 1 {
			t.Errorf("%s connected %d times, want once (no reconnection); ends: %q", c.name, c.connections, c.ends)
		}
	}
	t.Logf("Redis outage: %v down, %d messages in all (%d acknowledged during the outage), node B caught up %v after Redis returned, without reconnecting",
		outage, run.acked.Load(), ackedDuring, caughtUp.Round(time.Millisecond))
}

// cluster is two nodes on one PostgreSQL schema and one private Redis, and
// the demo pupils with a session each.
type cluster struct {
	d     *db.DB
	redis *testsvc.Proc
	// pg is the private PostgreSQL (clusterOptions.postgres), s3 the
	// private MinIO (clusterOptions.minio); nil otherwise.
	pg, s3 *testsvc.Proc
	// args are the nodes' flags, for a test that starts another node;
	// redisURL their Redis.
	args     []string
	redisURL string
	key      []byte // the nodes' grant key (--sfu-key)
	a, b     *nodeProc
	school   int64
	pupils   []int64
	cookie   map[int64]string
}

// clusterOptions: postgres runs the nodes on a private PostgreSQL the
// test may restart (else a fresh schema of the shared one); minio stores
// files in a private MinIO the test may stop (else on local disk, each
// node its own).
type clusterOptions struct{ postgres, minio bool }

func startCluster(t *testing.T) *cluster { return startClusterWith(t, clusterOptions{}) }

func startClusterWith(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	var pgProc, s3Proc *testsvc.Proc
	var pg string
	if o.postgres {
		pgProc, pg = testsvc.PostgresProc(t)
	} else {
		pg = testsvc.PostgresURL(t)
	}
	rs, redisURL := testsvc.RedisProc(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Seeded here, before any node starts: no node runs --demo, so two
	// nodes never seed at once.
	d, err := db.Open(ctx, db.Config{URL: pg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	authSvc := auth.NewService(d, auth.Config{}, slog.New(slog.DiscardHandler))
	res, err := demo.Seed(ctx, d, authSvc.Hasher, demo.Options{Password: demoPassword, Now: time.Now()})
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	cl := &cluster{d: d, redis: rs, pg: pgProc, school: res.Structure.ID, cookie: map[int64]string{}}
	rows, err := d.Query(ctx, `SELECT u.id FROM users u JOIN roles r ON r.user_id = u.id
		WHERE r.profile = ? AND NOT u.disabled ORDER BY u.id`, string(identity.Pupil))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		cl.pupils = append(cl.pupils, id)
	}
	rows.Close()
	if len(cl.pupils) < 20 {
		t.Fatalf("the demo has %d pupils, want at least 20", len(cl.pupils))
	}
	// A session per pupil, as a sign-in makes (and without its hashing).
	sessions := auth.NewSessions(d)
	for _, id := range cl.pupils {
		token, err := sessions.Create(ctx, d, id, "preau fault test", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cl.cookie[id] = "preau_session=" + token
	}
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	args := []string{"--database-url", pg, "--redis-url", redisURL, "--udp-port", "0", "--tcp-port", "-1",
		"--turn-port", "-1", "--log-level", "warn", "--shutdown-timeout", "3s", "--sfu-key", fmt.Sprintf("%x", key)}
	if o.minio {
		var s3URL string
		s3Proc, s3URL = testsvc.MinIOProc(t)
		cl.s3 = s3Proc
		args = append(args, "--storage-url", s3URL)
	}
	cl.args, cl.redisURL, cl.key = args, redisURL, key
	cl.a = startNode(t, "A", args...)
	cl.b = startNode(t, "B", args...)
	return cl
}

// faultRun is one conversation of all the pupils and its clients.
type faultRun struct {
	cl      *cluster
	conv    int64
	ctx     context.Context
	cancel  context.CancelFunc
	clients []*faultClient
	acked   atomic.Int64
}

func (cl *cluster) newRun(t *testing.T) *faultRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conv, err := chat.NewStore(cl.d).CreateGroupWith(ctx, cl.school, "Test de panne", cl.pupils)
	if err != nil {
		t.Fatal(err)
	}
	run := &faultRun{cl: cl, conv: conv.ID}
	run.ctx, run.cancel = context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(func() {
		run.cancel()
		for _, c := range run.clients {
			if c.running {
				<-c.done
			}
		}
	})
	return run
}

func (r *faultRun) client(name string, user int64, urls []string, receive bool) *faultClient {
	c := &faultClient{name: name, run: r, cookie: r.cl.cookie[user], urls: urls, receive: receive,
		done: make(chan struct{}), stop: make(chan struct{}), started: make(chan struct{}),
		acked: map[string]int64{}, bySeq: map[int64]string{}, seqOf: map[string]int64{}, have: map[int64]bool{}}
	r.clients = append(r.clients, c)
	return c
}

// startAll starts clients and waits until each is connected (and, for a
// receiver, subscribed).
func (r *faultRun) startAll(t *testing.T, cs []*faultClient) {
	t.Helper()
	for _, c := range cs {
		c.running = true
		go c.loop(r.ctx)
	}
	for _, c := range cs {
		select {
		case <-c.started:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: not connected within 20 s", c.name)
		}
	}
}

// stopAll ends every client and waits for them.
func (r *faultRun) stopAll(t *testing.T) {
	t.Helper()
	for _, c := range r.clients {
		c.finish()
	}
	r.cancel()
	for _, c := range r.clients {
		if c.running {
			c.wait(t, 10*time.Second)
		}
	}
}

// lastSeq is the conversation's last seq in the database.
func (r *faultRun) lastSeq(t *testing.T) int64 {
	t.Helper()
	var last int64
	if err := r.cl.d.QueryRow(context.Background(), "SELECT last_seq FROM conversations WHERE id = ?", r.conv).Scan(&last); err != nil {
		t.Fatal(err)
	}
	return last
}

// waitAll waits until every receiver holds every message up to last.
func (r *faultRun) waitAll(t *testing.T, d time.Duration, receivers []*faultClient, last int64) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var behind []string
		for _, c := range receivers {
			if n := c.upTo.Load(); n < last {
				behind = append(behind, fmt.Sprintf("%s holds up to %d", c.name, n))
			}
		}
		if len(behind) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, the last seq is %d but %s", d, last, strings.Join(behind, ", "))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// maxAcked is the highest seq acknowledged so far.
func (r *faultRun) maxAcked() int64 {
	var m int64
	for _, c := range r.clients {
		m = max(m, c.maxAck.Load())
	}
	return m
}

// check asserts the delivery guarantees once every client has ended: want
// is the number of messages (-1: not fixed).
func (r *faultRun) check(t *testing.T, senders, receivers []*faultClient, want int64) {
	t.Helper()
	last := r.lastSeq(t)
	var rows int64
	if err := r.cl.d.QueryRow(context.Background(), "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", r.conv).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	var sent int64
	for _, s := range senders {
		sent += int64(len(s.acked))
		if s.pendingLen() > 0 {
			t.Errorf("%s: %d messages never acknowledged", s.name, s.pendingLen())
		}
		if s.ackMismatch > 0 {
			t.Errorf("%s: %d resends acknowledged with another seq", s.name, s.ackMismatch)
		}
		if s.errors > 0 {
			t.Errorf("%s: %d error frames (first: %s)", s.name, s.errors, s.firstError)
		}
	}
	if want >= 0 && sent != want {
		t.Errorf("%d messages acknowledged, want %d", sent, want)
	}
	if rows != sent || last != sent {
		t.Errorf("stored %d messages, last seq %d, for %d distinct messages acknowledged: a resend was stored twice", rows, last, sent)
	}
	for _, c := range receivers {
		if c.dupSame+c.dupBelow+c.dupClientID > 0 {
			t.Errorf("%s: duplicates: %d on one connection, %d below its after_seq, %d client ids at two seqs", c.name, c.dupSame, c.dupBelow, c.dupClientID)
		}
		if c.lastSeq != last || len(c.have) != 0 {
			t.Errorf("%s holds every message up to %d (and %d beyond), want %d", c.name, c.lastSeq, len(c.have), last)
		}
		if c.errors > 0 {
			t.Errorf("%s: %d error frames (first: %s)", c.name, c.errors, c.firstError)
		}
		for _, s := range senders {
			for id, seq := range s.acked {
				if c.bySeq[seq] != id {
					t.Errorf("%s: seq %d is %q, acknowledged to %s as %q", c.name, seq, c.bySeq[seq], s.name, id)
					return
				}
			}
		}
	}
}

// faultClient is one chat connection of a user that behaves like
// web/static/chat.js: it reconnects by itself (to the next node of urls —
// the load balancer's part), resubscribes from the highest seq below which
// it holds everything, and resends its unacknowledged messages with the
// same client ids. Its fields belong to its loop until done is closed;
// the atomics may be read meanwhile.
type faultClient struct {
	name     string
	run      *faultRun
	cookie   string
	urls     []string
	receive  bool
	quota    int           // messages to send
	window   int           // unacknowledged messages at most
	interval time.Duration // between two sends; 0: as fast as the window and the rate allow

	done, stop, started chan struct{}
	stopOnce, startOnce sync.Once
	running             bool // loop started (set before, by the test)

	// Sender.
	nextMsg     int
	pending     []string // sent, not acknowledged, in order
	pendMu      sync.Mutex
	acked       map[string]int64
	ackMismatch int
	resent      int
	tokens      float64
	refilled    time.Time
	lastSend    time.Time
	maxAck      atomic.Int64

	// Receiver: lastSeq as chat.js's (every seq up to it held), have the
	// seqs held above it.
	lastSeq                        int64
	have                           map[int64]bool
	bySeq                          map[int64]string
	seqOf                          map[string]int64
	dupSame, dupBelow, dupClientID int
	outOfOrder, rerequested        int
	upTo, count                    atomic.Int64

	endMu       sync.Mutex
	ends        []string // why each connection ended, as its reader saw it
	cuts        int      // connections that ended before the client was done
	connections int
	downAt      time.Time
	back        []time.Duration
	errors      int
	firstError  string
}

func (c *faultClient) finish() { c.stopOnce.Do(func() { close(c.stop) }) }

func (c *faultClient) stopped() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

func (c *faultClient) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		t.Fatalf("%s: not done within %v", c.name, d)
	}
}

func (c *faultClient) pendingLen() int {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	return len(c.pending)
}

// finished: a sender whose messages are all sent and acknowledged, or
// stopped with nothing unacknowledged.
func (c *faultClient) finished() bool {
	if c.receive {
		return false
	}
	select {
	case <-c.stop:
		return c.pendingLen() == 0
	default:
	}
	return c.nextMsg >= c.quota && c.pendingLen() == 0
}

func (c *faultClient) loop(ctx context.Context) {
	defer close(c.done)
	// The per-user rate (20 sends per 10 s): a little under it.
	c.tokens, c.refilled = 19, time.Now()
	node := 0
	for ctx.Err() == nil && !c.finished() {
		select {
		case <-c.stop:
			if c.receive {
				return
			}
		default:
		}
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ws, resp, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(c.urls[node], "http")+"/ws/chat",
			&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {c.cookie}}})
		cancel()
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err != nil {
			node = (node + 1) % len(c.urls)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		ws.SetReadLimit(64 << 10)
		c.connections++
		c.session(ctx, ws)
		ws.CloseNow()
		if ctx.Err() == nil && !c.finished() && !c.stopped() {
			c.cuts++
			if c.downAt.IsZero() {
				c.downAt = time.Now()
			}
		}
	}
}

type faultFrame struct {
	Type string `json:"type"`
	Data struct {
		Conversation int64  `json:"conversation"`
		Seq          int64  `json:"seq"`
		ClientID     string `json:"client_id"`
		Code         string `json:"code"`
	} `json:"data"`
}

// session serves one connection until it ends.
func (c *faultClient) session(ctx context.Context, ws *websocket.Conn) {
	frames := make(chan faultFrame, 256)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(frames)
		for {
			_, b, err := ws.Read(rctx)
			if err != nil {
				c.endMu.Lock()
				c.ends = append(c.ends, err.Error())
				c.endMu.Unlock()
				return
			}
			var f faultFrame
			if json.Unmarshal(b, &f) != nil {
				continue
			}
			select {
			case frames <- f:
			case <-rctx.Done():
				return
			}
		}
	}()
	defer func() {
		ws.CloseNow()
		for range frames {
		}
	}()
	write := func(v any) bool {
		b, _ := json.Marshal(v)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return ws.Write(wctx, websocket.MessageText, b) == nil
	}
	reqID := int64(0)
	send := func(id string) bool {
		reqID++
		return write(map[string]any{"v": 1, "type": "send", "id": reqID, "data": map[string]any{
			"conversation": c.run.conv, "client_id": id, "body": "panne " + id}})
	}
	seenHere := map[int64]bool{}
	after := c.lastSeq
	if c.receive {
		reqID++
		if !write(map[string]any{"v": 1, "type": "subscribe", "id": reqID, "data": map[string]any{
			"conversations": []map[string]int64{{"id": c.run.conv, "after_seq": after}}}}) {
			return
		}
	} else {
		// Resend, in order, what was not acknowledged.
		c.pendMu.Lock()
		resend := slices.Clone(c.pending)
		c.pendMu.Unlock()
		for _, id := range resend {
			c.take(ctx)
			if !send(id) {
				return
			}
			c.resent++
		}
		if len(resend) == 0 {
			c.up()
		}
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if c.receive {
				select {
				case <-c.stop:
					return
				default:
				}
				continue
			}
			if c.finished() {
				ws.Close(websocket.StatusNormalClosure, "")
				return
			}
			for c.canSend() {
				id := fmt.Sprintf("%s-%d", c.name, c.nextMsg)
				c.nextMsg++
				c.pendMu.Lock()
				c.pending = append(c.pending, id)
				c.pendMu.Unlock()
				c.tokens--
				c.lastSend = time.Now()
				if !send(id) {
					return
				}
			}
		case f, ok := <-frames:
			if !ok {
				return
			}
			c.handle(f, seenHere, after)
		}
	}
}

// canSend: a sender under its window, quota, pace and rate.
func (c *faultClient) canSend() bool {
	select {
	case <-c.stop:
		return false
	default:
	}
	if c.nextMsg >= c.quota || c.pendingLen() >= c.window || time.Since(c.lastSend) < c.interval {
		return false
	}
	c.refill()
	return c.tokens >= 1
}

func (c *faultClient) refill() {
	now := time.Now()
	c.tokens = min(19, c.tokens+now.Sub(c.refilled).Seconds()*1.8)
	c.refilled = now
}

// take waits for a rate token (resends count too).
func (c *faultClient) take(ctx context.Context) {
	for c.refill(); c.tokens < 1 && ctx.Err() == nil; c.refill() {
		time.Sleep(50 * time.Millisecond)
	}
	c.tokens--
}

// up records that the client is back, when it was cut off.
func (c *faultClient) up() {
	c.startOnce.Do(func() { close(c.started) })
	if !c.downAt.IsZero() {
		c.back = append(c.back, time.Since(c.downAt))
		c.downAt = time.Time{}
	}
}

func (c *faultClient) handle(f faultFrame, seenHere map[int64]bool, after int64) {
	d := f.Data
	switch f.Type {
	case "subscribed":
		c.up()
	case "ack":
		c.up()
		if prev, ok := c.acked[d.ClientID]; ok && prev != d.Seq {
			c.ackMismatch++
		}
		c.acked[d.ClientID] = d.Seq
		c.pendMu.Lock()
		if i := slices.Index(c.pending, d.ClientID); i >= 0 {
			c.pending = slices.Delete(c.pending, i, i+1)
			c.run.acked.Add(1)
		}
		c.pendMu.Unlock()
		if d.Seq > c.maxAck.Load() {
			c.maxAck.Store(d.Seq)
		}
	case "message":
		if !c.receive || d.Conversation != c.run.conv || d.Seq <= 0 {
			return
		}
		seq := d.Seq
		switch {
		case seenHere[seq]:
			c.dupSame++
			return
		case seq <= after:
			c.dupBelow++
			return
		}
		seenHere[seq] = true
		if prev, ok := c.seqOf[d.ClientID]; ok && prev != seq {
			c.dupClientID++ // one message stored at two seqs
		}
		c.seqOf[d.ClientID] = seq
		if seq <= c.lastSeq || c.have[seq] {
			c.rerequested++ // held above after_seq before the reconnection: asked again
			return
		}
		c.bySeq[seq] = d.ClientID
		c.count.Add(1)
		if seq != c.lastSeq+1 {
			c.outOfOrder++
		}
		c.have[seq] = true
		for c.have[c.lastSeq+1] {
			delete(c.have, c.lastSeq+1)
			c.lastSeq++
		}
		c.upTo.Store(c.lastSeq)
	case "error":
		c.errors++
		if c.firstError == "" {
			c.firstError = d.Code
		}
	}
}

// nodeProc is one `preau serve` process.
type nodeProc struct {
	name, url, logPath string
	cmd                *exec.Cmd
	exited             chan struct{}
	killed             bool
}

// startNode runs the test binary as `preau serve` on a free 127.0.0.1 port
// and waits until /readyz answers; it is stopped (SIGTERM, then SIGKILL) at
// the end of the test, and dies with the test process (Pdeathsig).
func startNode(t *testing.T, name string, args ...string) *nodeProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	n := &nodeProc{name: name, url: "http://" + addr, logPath: filepath.Join(dir, "node.log"), exited: make(chan struct{})}
	logf, err := os.Create(n.logPath)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(exe, append([]string{"serve", "--addr", addr, "--data", dir}, args...)...)
	n.cmd.Env = append(os.Environ(), nodeChildEnv+"=1", nodeLifetimeEnv+"="+nodeLifetime.String())
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	go func() {
		n.cmd.Wait()
		logf.Close()
		close(n.exited)
	}()
	t.Cleanup(func() { n.stop(t) })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(n.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		select {
		case <-n.exited:
			t.Fatalf("node %s exited at start:\n%s", name, n.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not ready within 60 s:\n%s", name, n.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill is kill -9.
func (n *nodeProc) kill(t *testing.T) {
	t.Helper()
	n.killed = true
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill node %s: %v", n.name, err)
	}
	<-n.exited
}

// stop ends a node that is still running with SIGTERM (SIGKILL after 10 s)
// and fails the test if its log shows a data race.
func (n *nodeProc) stop(t *testing.T) {
	if !n.killed {
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.exited:
		case <-time.After(10 * time.Second):
			n.cmd.Process.Kill()
			<-n.exited
			t.Errorf("node %s did not stop within 10 s of SIGTERM", n.name)
		}
	}
	b, _ := os.ReadFile(n.logPath)
	if bytes.Contains(b, []byte("WARNING: DATA RACE")) || bytes.Contains(b, []byte("panic:")) {
		t.Errorf("node %s:\n%s", n.name, b)
	} else if t.Failed() {
		t.Logf("node %s log:\n%s", n.name, n.logTail())
	}
}

func (n *nodeProc) logTail() string {
	b, _ := os.ReadFile(n.logPath)
	if len(b) > 8<<10 {
		b = b[len(b)-8<<10:]
	}
	return string(b)
}

func freePort(t *testing.T) int { return testsvc.FreePort(t) }

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted)-1)+0.5))].Round(time.Millisecond)
}

func faultEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

func faultEnvDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a duration", name, v)
	}
	return d
}
