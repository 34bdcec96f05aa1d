package chat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"preau/db"
	"preau/internal/dbtest"
	"preau/internal/testsvc"
)

// privateRedis is a redis-server of the test's own on a free 127.0.0.1
// port, so that stopping it disturbs nobody else's Redis.
type privateRedis struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

// startPrivateRedis starts redis-server (from PATH) or skips the test
// (fails under PREAU_REQUIRE_SERVICES=1); it is killed at the end.
func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testsvc.Missing(t, "redis-server", "not in PATH: "+err.Error())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &privateRedis{t: t, bin: bin, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *privateRedis) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

// start runs the server on its port and waits until it answers (5 s).
func (r *privateRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("redis-server: %v", err)
	}
	opts, _ := redis.ParseURL(r.url())
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.stop()
			r.t.Fatalf("redis-server on port %d does not answer: %v", r.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server (SIGKILL) and waits for it.
func (r *privateRedis) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// TestHubCatchUpAfterRedisOutage: Redis stops while node A keeps posting;
// A's clients get everything, B's get nothing; when Redis comes back, B's
// client catches up from the store without reconnecting: every message
// once, in seq order, then live again.
func TestHubCatchUpAfterRedisOutage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		checkLeaks(t)
		rs := startPrivateRedis(t)
		f := newFixture(t, d)
		sA, sB := NewStore(d), NewStore(d)
		conv := classChannel(t, sA, f)
		ns := uniqueTopic("outage")
		brokers := make([]*RedisBroker, 2)
		for i := range brokers {
			b, err := NewRedisBroker(context.Background(), rs.url(), 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			brokers[i] = b
		}
		_, urlA := startHub(t, sA, brokers[0], Config{Namespace: ns}, nil)
		_, urlB := startHub(t, sB, brokers[1], Config{Namespace: ns}, nil)
		sender, local, remote := connect(t, urlA, f.pupilA), connect(t, urlA, f.pupilB), connect(t, urlB, f.teacher)
		for _, c := range []*wsClient{sender, local, remote} {
			c.subscribe(conv.ID, 0)
			c.expect(TypeSubscribed)
		}
		seq := int64(0)
		send := func() {
			t.Helper()
			seq++
			sender.send(conv.ID, fmt.Sprintf("c%d", seq), fmt.Sprintf("message %d", seq))
			if m := sender.expect(TypeAck, TypeMessage); m.Type != TypeAck {
				t.Fatalf("sender got %s", m.Type)
			}
		}
		// got checks that c receives exactly seqs from..to, in order, and
		// nothing else before a pong.
		got := func(who string, c *wsClient, from, to int64) {
			t.Helper()
			for want := from; want <= to; want++ {
				if m := c.next().message(t); m.Seq != want {
					t.Fatalf("%s got seq %d, want %d", who, m.Seq, want)
				}
			}
			c.request(TypePing, nil)
			if f := c.next(); f.Type != TypePong {
				t.Fatalf("%s got %s %s, want pong (no duplicate, nothing more)", who, f.Type, f.Data)
			}
		}
		send()
		send()
		got("B before the outage", remote, 1, 2)

		rs.stop()
		for range 5 {
			send() // acknowledged: the database is up
		}
		got("A's own client during the outage", local, 1, 7)
		got("B during the outage", remote, 3, 2) // nothing

		rs.start()
		got("B after Redis came back", remote, 3, 7)
		send()
		got("B live again", remote, 8, 8)
		got("A's own client", local, 8, 8)
	})
}

// TestHubCatchUpGap: a message committed but never fanned out (its node
// died between the commit and the publish) reaches a connection that sees
// the next one, without reconnecting, once.
func TestHubCatchUpGap(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{}, nil)
	teacher := connect(t, hs.url, hs.f.teacher)
	teacher.subscribe(hs.conv.ID, 0)
	teacher.expect(TypeSubscribed)
	ctx := context.Background()
	if _, err := hs.store.Post(ctx, hs.conv.ID, hs.f.pupilA, "lost", "jamais diffusé"); err != nil {
		t.Fatal(err)
	}
	if _, err := hs.hub.Post(ctx, hs.conv.ID, hs.f.pupilA, "next", "diffusé"); err != nil {
		t.Fatal(err)
	}
	if m := teacher.next().message(t); m.Seq != 2 {
		t.Fatalf("live first: got %+v", m)
	}
	if m := teacher.next().message(t); m.Seq != 1 || m.ClientID != "lost" {
		t.Fatalf("catch-up: got %+v", m)
	}
	// The resend of the lost one is delivered again, and skipped here.
	if _, err := hs.hub.Post(ctx, hs.conv.ID, hs.f.pupilA, "lost", "jamais diffusé"); err != nil {
		t.Fatal(err)
	}
	teacher.request(TypePing, nil)
	if f := teacher.next(); f.Type != TypePong {
		t.Fatalf("got %s %s, want pong (no duplicate)", f.Type, f.Data)
	}
}

// failingBroker fails every publish while fail is set: a broker that is
// away for this node only.
type failingBroker struct {
	Broker
	fail atomic.Bool
}

func (b *failingBroker) Publish(ctx context.Context, topic string, payload []byte) error {
	if b.fail.Load() {
		return errors.New("broker away")
	}
	return b.Broker.Publish(ctx, topic, payload)
}

// TestHubRepublish: the last message a node failed to publish reaches the
// other nodes once the broker works again, though no later message shows
// the hole; the ones before it come by catch-up; nothing twice.
func TestHubRepublish(t *testing.T) {
	checkLeaks(t)
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	sA, sB := NewStore(d), NewStore(d)
	conv := classChannel(t, sA, f)
	mem := NewMemoryBroker(0)
	t.Cleanup(func() { mem.Close() })
	flaky := &failingBroker{Broker: mem}
	ns := uniqueTopic("republish")
	hubA, _ := startHub(t, sA, flaky, Config{Namespace: ns}, nil)
	_, urlB := startHub(t, sB, mem, Config{Namespace: ns}, nil)
	remote := connect(t, urlB, f.teacher)
	remote.subscribe(conv.ID, 0)
	remote.expect(TypeSubscribed)
	ctx := context.Background()
	flaky.fail.Store(true)
	for i := range 3 {
		if _, err := hubA.Post(ctx, conv.ID, f.pupilA, fmt.Sprintf("r%d", i), "pendant la panne"); err != nil {
			t.Fatal(err)
		}
	}
	remote.request(TypePing, nil)
	remote.expect(TypePong) // nothing crossed
	flaky.fail.Store(false)
	seqs := map[int64]bool{}
	for range 3 {
		seqs[remote.next().message(t).Seq] = true
	}
	if !seqs[1] || !seqs[2] || !seqs[3] {
		t.Fatalf("node B got seqs %v, want 1, 2 and 3", seqs)
	}
	time.Sleep(2 * republishEvery) // a second republish would come now
	remote.request(TypePing, nil)
	if f := remote.next(); f.Type != TypePong {
		t.Fatalf("got %s %s, want pong (no duplicate)", f.Type, f.Data)
	}
}

// TestRedisBrokerOnResume: after Redis restarts, the broker tells that a
// subscribed topic is back (and only then), and payloads flow again.
func TestRedisBrokerOnResume(t *testing.T) {
	checkLeaks(t)
	rs := startPrivateRedis(t)
	b, err := NewRedisBroker(context.Background(), rs.url(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	resumed := make(chan string, 4)
	stop := b.OnResume(func(topic string) { resumed <- topic })
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	topic := uniqueTopic("resume")
	ch, err := b.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-resumed:
		t.Fatalf("resumed %q on a first subscription", got)
	case <-time.After(200 * time.Millisecond):
	}
	rs.stop()
	if err := b.Publish(ctx, topic, []byte("lost")); err == nil {
		t.Fatal("publish with Redis down succeeded")
	}
	rs.start()
	select {
	case got := <-resumed:
		if got != topic {
			t.Fatalf("resumed %q, want %q", got, topic)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no resumption within 10 s of Redis's return")
	}
	eventually(t, "a publish going through again", func() bool { return b.Publish(ctx, topic, []byte("back")) == nil })
	if got := recv(t, ch); got != "back" {
		t.Fatalf("got %q after the return, want back", got)
	}
}
