package chat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"preau/db"
	"preau/internal/dbtest"
)

// hubSetup is a class channel on SQLite served by one hub.
type hubSetup struct {
	d     *db.DB
	f     fixture
	store *Store
	conv  Conversation
	hub   *Hub
	url   string
}

func newHubSetup(t *testing.T, cfg Config, wrap func(net.Listener) net.Listener) hubSetup {
	t.Helper()
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	s := NewStore(d)
	b := NewMemoryBroker(0)
	t.Cleanup(func() { b.Close() })
	h, url := startHub(t, s, b, cfg, wrap)
	return hubSetup{d: d, f: f, store: s, conv: classChannel(t, s, f), hub: h, url: url}
}

func closeStatus(err error) websocket.StatusCode { return websocket.CloseStatus(err) }

// TestHubExchange: two users exchange messages live; the ack comes only once
// the row is committed; a resend gets the same seq, one row and no second
// broadcast.
func TestHubExchange(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{}, nil)
	a, teacher := connect(t, hs.url, hs.f.pupilA), connect(t, hs.url, hs.f.teacher)
	a.subscribe(hs.conv.ID, 0)
	teacher.subscribe(hs.conv.ID, 0)
	if d := a.expect(TypeSubscribed).Data; !strings.Contains(string(d), `"seq":0`) {
		t.Fatalf("subscribed %s", d)
	}
	teacher.expect(TypeSubscribed)

	a.send(hs.conv.ID, "m-1", "Bonjour <b>madame</b> !")
	ack := a.expect(TypeAck)
	if ack.ID != a.nextID || !strings.Contains(string(ack.Data), `"client_id":"m-1"`) || !strings.Contains(string(ack.Data), `"seq":1`) {
		t.Fatalf("ack %+v %s", ack, ack.Data)
	}
	// Acknowledged means committed: the row is readable now.
	if ms, err := hs.store.Since(context.Background(), hs.conv.ID, 0, 10); err != nil || len(ms) != 1 || ms[0].Body != "Bonjour <b>madame</b> !" {
		t.Fatalf("after ack, stored %+v %v", ms, err)
	}
	m := teacher.next().message(t)
	if m.Seq != 1 || m.Sender != hs.f.pupilA || m.Body != "Bonjour <b>madame</b> !" || m.ClientID != "m-1" || m.AtMs == 0 {
		t.Fatalf("teacher got %+v", m)
	}
	if m := a.next().message(t); m.Seq != 1 {
		t.Fatalf("sender's own copy %+v", m)
	}

	teacher.send(hs.conv.ID, "t-1", "Bonjour Inès.")
	teacher.expect(TypeAck, TypeMessage)
	if m := a.next().message(t); m.Sender != hs.f.teacher || m.Seq != 2 {
		t.Fatalf("pupil got %+v", m)
	}

	// A resend: same seq, one row, not broadcast again.
	a.send(hs.conv.ID, "m-1", "Bonjour <b>madame</b> !")
	if ack := a.expect(TypeAck); !strings.Contains(string(ack.Data), `"seq":1`) {
		t.Fatalf("resend ack %s", ack.Data)
	}
	a.send(hs.conv.ID, "m-2", "Et merci.")
	a.expect(TypeAck, TypeMessage)
	if m := teacher.next(TypeMessage + "-none").message(t); m.Seq != 2 {
		// the teacher's own message 2 comes first
		t.Fatalf("teacher got %+v", m)
	}
	if m := teacher.next().message(t); m.Seq != 3 || m.ClientID != "m-2" {
		t.Fatalf("after a resend the teacher got %+v, want seq 3 (no second copy of 1)", m)
	}
	var rows int
	hs.d.QueryRow(context.Background(), "SELECT COUNT(*) FROM messages").Scan(&rows)
	if rows != 3 {
		t.Fatalf("%d rows, want 3", rows)
	}

	// The sender is the session's user; a sender field is refused.
	a.sendRaw(fmt.Sprintf(`{"v":1,"type":"send","id":50,"data":{"conversation":%d,"client_id":"x","body":"b","sender":%d}}`, hs.conv.ID, hs.f.teacher))
	if e := a.expect(TypeError, TypeMessage); !strings.Contains(string(e.Data), CodeBadRequest) {
		t.Fatalf("sender field: %s", e.Data)
	}
	// Read marks, and ping, after the HTTP server's timeouts have passed.
	time.Sleep(500 * time.Millisecond)
	a.request(TypeRead, map[string]int64{"conversation": hs.conv.ID, "seq": 3})
	a.request(TypePing, nil)
	a.expect(TypePong, TypeMessage)
	if u, _ := hs.store.Unread(context.Background(), hs.f.pupilA); u[hs.conv.ID] != 0 {
		t.Fatalf("unread after read: %v", u)
	}

	// Shutdown tells clients to go elsewhere.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := closeStatus(a.closed()); got != websocket.StatusGoingAway {
		t.Fatalf("close at shutdown: %v", got)
	}
	if _, err := dial(t, hs.url, hs.f.pupilA, nil); err == nil {
		t.Fatal("dial after shutdown succeeded")
	}
}

// TestHubReconnect: a client that reconnects with after_seq gets exactly
// what it missed, in order, then live messages.
func TestHubReconnect(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{RateMessages: 100}, nil)
	teacher := connect(t, hs.url, hs.f.teacher)
	teacher.subscribe(hs.conv.ID, 0)
	teacher.expect(TypeSubscribed)
	a := connect(t, hs.url, hs.f.pupilA)
	a.subscribe(hs.conv.ID, 0)
	a.expect(TypeSubscribed)
	say := func(from int) {
		teacher.send(hs.conv.ID, fmt.Sprintf("t%d", from), fmt.Sprintf("message %d", from))
		teacher.expect(TypeAck, TypeMessage)
	}
	for i := 1; i <= 3; i++ {
		say(i)
	}
	for i := 1; i <= 3; i++ {
		if m := a.next().message(t); m.Seq != int64(i) {
			t.Fatalf("live seq %d, want %d", m.Seq, i)
		}
	}
	a.conn.Close(websocket.StatusNormalClosure, "")
	a.closed()
	for i := 4; i <= 7; i++ {
		say(i)
	}
	a = connect(t, hs.url, hs.f.pupilA)
	a.subscribe(hs.conv.ID, 3)
	for i := 4; i <= 7; i++ {
		if m := a.next().message(t); m.Seq != int64(i) || m.Body != fmt.Sprintf("message %d", i) {
			t.Fatalf("replayed %+v, want seq %d", m, i)
		}
	}
	if d := a.expect(TypeSubscribed).Data; !strings.Contains(string(d), `"seq":7`) {
		t.Fatalf("subscribed %s", d)
	}
	say(8)
	if m := a.next().message(t); m.Seq != 8 {
		t.Fatalf("live after replay %+v", m)
	}
	// Nothing more: no duplicate of the replay.
	a.request(TypePing, nil)
	a.expect(TypePong)
}

// TestHubAccess: a non-member, or a conversation that does not exist, gets
// the same not_found; a bad handshake gets no socket.
func TestHubAccess(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{}, nil)
	x := connect(t, hs.url, hs.f.outsider)
	for _, conv := range []int64{hs.conv.ID, hs.conv.ID + 1000} {
		x.subscribe(conv, 0)
		if e := x.expect(TypeError); !strings.Contains(string(e.Data), `"code":"not_found"`) || !strings.Contains(string(e.Data), "Conversation introuvable") {
			t.Fatalf("subscribe %d: %s", conv, e.Data)
		}
		x.send(conv, "c", "intrus")
		if e := x.expect(TypeError); !strings.Contains(string(e.Data), `"code":"not_found"`) {
			t.Fatalf("send %d: %s", conv, e.Data)
		}
	}
	x.sendRaw(`{"v":1,"type":"send","id":1,"data":{"conversation":1,"client_id":"a","client_id":"b","body":"x"}}`)
	x.expect(TypeError)
	x.sendRaw(`{"v":2,"type":"ping"}`)
	x.expect(TypeError)
	x.send(hs.conv.ID, "long", strings.Repeat("a", MaxBodyChars+1))
	if e := x.expect(TypeError); !strings.Contains(string(e.Data), CodeTooLong) {
		t.Fatalf("long body: %s", e.Data)
	}
	x.request(TypePing, nil)
	x.expect(TypePong)

	// No session: 401 before any upgrade. A foreign Origin: refused.
	if _, err := dial(t, hs.url, 0, nil); err == nil {
		t.Fatal("dial without a user succeeded")
	}
	plain, err := dial(t, hs.url, hs.f.pupilA, nil)
	if err != nil {
		t.Fatalf("plain dial: %v", err)
	}
	plain.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, hs.url, &websocket.DialOptions{HTTPHeader: http.Header{
		"X-User": {fmt.Sprint(hs.f.pupilA)}, "Origin": {"https://evil.example"}}})
	if err == nil {
		c.CloseNow()
		t.Fatal("cross-origin handshake accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin: %v %v", resp, err)
	}
}

// TestHubLimits: an oversize frame closes with 1009; a flooder is closed
// with 1008 while others keep receiving; a sixth connection is refused.
func TestHubLimits(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{}, nil)
	big := connect(t, hs.url, hs.f.pupilB)
	big.sendRaw(`{"v":1,"type":"ping","pad":"` + strings.Repeat("x", 17<<10) + `"}`)
	if got := closeStatus(big.closed()); got != websocket.StatusMessageTooBig {
		t.Fatalf("oversize frame: close %v", got)
	}

	teacher := connect(t, hs.url, hs.f.teacher)
	teacher.subscribe(hs.conv.ID, 0)
	teacher.expect(TypeSubscribed)
	flooder := connect(t, hs.url, hs.f.pupilA)
	for i := range 25 {
		flooder.send(hs.conv.ID, fmt.Sprintf("f%d", i), "spam")
	}
	err := flooder.closed()
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason != reasonFlood {
		t.Fatalf("flooder closed with %v", err)
	}
	if n := hs.hub.Stats().FloodClosed; n != 1 {
		t.Fatalf("flood closes %d", n)
	}
	for i := 1; i <= 20; i++ {
		teacher.next().message(t)
	}
	other := connect(t, hs.url, hs.f.pupilB)
	other.send(hs.conv.ID, "b1", "Je suis encore là.")
	other.expect(TypeAck)
	if m := teacher.next().message(t); m.Sender != hs.f.pupilB || m.Seq != 21 {
		t.Fatalf("after the flood the teacher got %+v", m)
	}

	for range 4 {
		connect(t, hs.url, hs.f.teacher)
	}
	eventually(t, "5 teacher connections", func() bool { return hs.hub.Stats().Connections == 6 })
	sixth := connect(t, hs.url, hs.f.teacher)
	err = sixth.closed()
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason != reasonTooMany {
		t.Fatalf("sixth connection: %v", err)
	}
}

// smallBuffers makes the kernel buffer little for each accepted connection,
// so that a client that does not read blocks the server's writes at once.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

// TestHubSlowClient: a client that never reads is disconnected; the sender
// and the other readers are not held up.
func TestHubSlowClient(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{SendQueue: 16, RateMessages: 1000, WriteTimeout: 2 * time.Second},
		func(l net.Listener) net.Listener { return smallBuffers{l} })
	teacher := connect(t, hs.url, hs.f.teacher)
	teacher.subscribe(hs.conv.ID, 0)
	teacher.expect(TypeSubscribed)

	dialer := &net.Dialer{}
	slowHTTP := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4 << 10)
		}
		return c, err
	}}}
	slow, err := dial(t, hs.url, hs.f.pupilB, &websocket.DialOptions{HTTPClient: slowHTTP})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	slow.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"v":1,"type":"subscribe","data":{"conversations":[{"id":%d,"after_seq":0}]}}`, hs.conv.ID))
	eventually(t, "slow client subscribed", func() bool { return hs.hub.Stats().Topics == 1 && hs.hub.Stats().Connections == 2 })
	time.Sleep(50 * time.Millisecond) // let its subscription go live

	// The teacher keeps up (it takes each message before the next is sent),
	// so only the client that never reads can let its queue fill.
	a := connect(t, hs.url, hs.f.pupilA)
	body := strings.Repeat("é", 2000)
	const n = 200
	start := time.Now()
	for i := 1; i <= n; i++ {
		a.send(hs.conv.ID, fmt.Sprint(i), body)
		a.expect(TypeAck)
		if m := teacher.next().message(t); m.Seq != int64(i) {
			t.Fatalf("teacher got seq %d, want %d", m.Seq, i)
		}
	}
	t.Logf("%d messages acknowledged and delivered in %v", n, time.Since(start))
	if n := hs.hub.Stats().SlowClosed; n != 1 {
		t.Fatalf("SlowClosed = %d, want 1: one slow connection, counted once", n)
	}
	eventually(t, "slow client gone", func() bool { return hs.hub.Stats().Connections == 2 })
}

// TestHubTwoNodes: two hubs on one database and one broker (memory, then
// Redis) deliver to each other's clients; a client moving to the other node
// catches up by seq.
func TestHubTwoNodes(t *testing.T) {
	for _, kit := range brokerKits() {
		t.Run(kit.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				twoNodes(t, kit, d)
			})
		})
	}
}

func twoNodes(t *testing.T, kit brokerKit, d *db.DB) {
	checkLeaks(t)
	f := newFixture(t, d)
	node := kit.cluster(t, 0)
	s1, s2 := NewStore(d), NewStore(d)
	conv := classChannel(t, s1, f)
	ns := uniqueTopic("nodes") // both nodes of one deployment
	_, url1 := startHub(t, s1, node(), Config{Namespace: ns}, nil)
	_, url2 := startHub(t, s2, node(), Config{Namespace: ns}, nil)
	a, teacher := connect(t, url1, f.pupilA), connect(t, url2, f.teacher)
	a.subscribe(conv.ID, 0)
	teacher.subscribe(conv.ID, 0)
	a.expect(TypeSubscribed)
	teacher.expect(TypeSubscribed)
	a.send(conv.ID, "a1", "Depuis le nœud 1")
	a.expect(TypeAck)
	if m := teacher.next().message(t); m.Seq != 1 || m.Body != "Depuis le nœud 1" {
		t.Fatalf("node 2 got %+v", m)
	}
	teacher.send(conv.ID, "t1", "Depuis le nœud 2")
	teacher.expect(TypeAck, TypeMessage)
	if m := a.next(TypeMessage + "-none").message(t); m.Seq != 1 {
		t.Fatalf("own message first, got %+v", m)
	}
	if m := a.next().message(t); m.Seq != 2 || m.Sender != f.teacher {
		t.Fatalf("node 1 got %+v", m)
	}
	// Exactly once: a ping answers before any duplicate could.
	teacher.request(TypePing, nil)
	teacher.expect(TypePong, TypeMessage)
	a.request(TypePing, nil)
	a.expect(TypePong)

	b := connect(t, url2, f.pupilB)
	b.subscribe(conv.ID, 1)
	if m := b.next().message(t); m.Seq != 2 {
		t.Fatalf("catch-up on node 2: %+v", m)
	}
	b.expect(TypeSubscribed)
}

// TestHubBrokerDown: with the broker gone (Redis down), a node still serves
// its own clients: messages are stored, acknowledged and delivered locally.
func TestHubBrokerDown(t *testing.T) {
	checkLeaks(t)
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	s := NewStore(d)
	conv := classChannel(t, s, f)
	b := NewMemoryBroker(0)
	h, url := startHub(t, s, b, Config{}, nil)
	a, teacher := connect(t, url, f.pupilA), connect(t, url, f.teacher)
	a.subscribe(conv.ID, 0)
	a.expect(TypeSubscribed)
	b.Close()
	teacher.subscribe(conv.ID, 0) // a topic already there
	teacher.expect(TypeSubscribed)
	a.send(conv.ID, "a1", "Le courtier est tombé.")
	a.expect(TypeAck)
	if m := teacher.next().message(t); m.Seq != 1 {
		t.Fatalf("teacher got %+v", m)
	}
	eventually(t, "the publish failure counted", func() bool { return h.Stats().BrokerErrors > 0 })
	// Typing goes to the others (and is harmless to oneself).
	teacher.request(TypeTyping, map[string]int64{"conversation": conv.ID})
	f2 := a.expect(TypeTyping, TypeMessage)
	if !strings.Contains(string(f2.Data), fmt.Sprintf(`"user":%d`, f.teacher)) {
		t.Fatalf("typing %s", f2.Data)
	}
	a.request(TypeTyping, map[string]int64{"conversation": conv.ID + 7})
	a.expect(TypeError, TypeTyping)
}

// TestHubPost: a message posted outside a WebSocket (the page's plain form)
// reaches open connections live, once, even when the form is sent twice.
func TestHubPost(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{}, nil)
	teacher := connect(t, hs.url, hs.f.teacher)
	teacher.subscribe(hs.conv.ID, 0)
	teacher.expect(TypeSubscribed)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		m, err := hs.hub.Post(ctx, hs.conv.ID, hs.f.pupilA, "form-1", "Envoyé sans JavaScript")
		if err != nil || m.Seq != 1 {
			t.Fatalf("post #%d: %+v %v", i+1, m, err)
		}
	}
	if m := teacher.next().message(t); m.Seq != 1 || m.Body != "Envoyé sans JavaScript" || m.Sender != hs.f.pupilA {
		t.Fatalf("teacher got %+v", m)
	}
	// The next frame is the answer to a ping, not a second copy.
	teacher.request(TypePing, nil)
	if f := teacher.next(); f.Type != TypePong {
		t.Fatalf("after one post, got %s %s; want pong (no duplicate)", f.Type, f.Data)
	}
	if _, err := hs.hub.Post(ctx, hs.conv.ID, hs.f.outsider, "form-2", "intrus"); err == nil {
		t.Fatal("a non-member posted")
	}
}
