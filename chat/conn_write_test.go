package chat

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestOutQueueTake: the writer takes every waiting frame at once, oldest
// first; frames taken count against the bound until the next take.
func TestOutQueueTake(t *testing.T) {
	o := newOutQueue(3)
	for _, f := range []string{"a", "b", "c"} {
		if !o.push([]byte(f)) {
			t.Fatalf("push %s refused", f)
		}
	}
	if o.push([]byte("d")) {
		t.Fatal("a fourth frame was queued beyond the bound")
	}
	replay, got := o.take(nil)
	if replay != nil || len(got) != 3 || string(got[0]) != "a" || string(got[2]) != "c" {
		t.Fatalf("took %q %q", replay, got)
	}
	if o.push([]byte("d")) {
		t.Fatal("queued while the three taken may not be written yet")
	}
	spare := recycle(got)
	if _, got = o.take(spare); len(got) != 0 {
		t.Fatalf("took %q from an empty queue", got)
	}
	if !o.push([]byte("e")) {
		t.Fatal("refused once the taken frames are written")
	}
	o.hand([]byte("r"))
	if replay, got = o.take(recycle(got)); string(replay) != "r" || len(got) != 1 || string(got[0]) != "e" {
		t.Fatalf("took %q %q", replay, got)
	}
}

// TestHubBurstInOrder: frames that pile up while a client does not read are
// written several per wake-up once it does, in order, each exactly as
// encoded: one final, unmasked text frame per message, as before.
func TestHubBurstInOrder(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{}, func(l net.Listener) net.Listener { return smallBuffers{l} })
	// Room for a few dozen frames in the sockets: the writer blocks on
	// the others, which pile up in its queue.
	w, _ := rawSubscribe(t, hs.url, hs.f.pupilA, hs.conv.ID, 0, 32<<10)

	const n = 200 // under SendQueue (256): slow, not too slow
	want := make([][]byte, n+1)
	for i := int64(1); i <= n; i++ {
		m := Message{ConversationID: hs.conv.ID, Seq: i, SenderID: hs.f.teacher, ClientID: fmt.Sprint(i),
			Body: strings.Repeat("x", 1000), CreatedAtMs: 1}
		want[i] = encodeMessage(m)
		hs.hub.fanout(hs.conv.ID, i, want[i])
	}
	for i := 1; i <= n; i++ {
		w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		f, err := w.next(nil)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !f.fin || f.rsv != 0 || f.opcode != opText || !bytes.Equal(f.payload, want[i]) {
			t.Fatalf("frame %d: fin %v rsv %x opcode %x %.60s…, want seq %d", i, f.fin, f.rsv, f.opcode, f.payload, i)
		}
	}
	if s := hs.hub.Stats(); s.SlowClosed != 0 || s.Delivered < n {
		t.Fatalf("stats %+v", s)
	}
}

// TestHubSlowConsumerClosed: a client that stops reading while messages
// keep coming is closed with 1013 once its queue is full; what it reads
// first is in order without a gap, then the close frame; it recovers what
// it missed by reconnecting with its last seq.
func TestHubSlowConsumerClosed(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{SendQueue: 8, WriteTimeout: 5 * time.Second}, func(l net.Listener) net.Listener { return smallBuffers{l} })
	w, _ := rawSubscribe(t, hs.url, hs.f.pupilA, hs.conv.ID, 0, 4<<10)

	const n = 60
	body := strings.Repeat("é", 2000)
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		if _, err := hs.hub.Post(ctx, hs.conv.ID, hs.f.teacher, fmt.Sprint(i), body); err != nil {
			t.Fatal(err)
		}
	}
	if s := hs.hub.Stats(); s.SlowClosed != 1 {
		t.Fatalf("SlowClosed = %d, want 1", s.SlowClosed)
	}
	var last int64
	for {
		w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		f, err := w.next(nil)
		if err != nil {
			t.Fatalf("after seq %d: %v", last, err)
		}
		if f.opcode == opClose {
			if len(f.payload) < 2 || websocket.StatusCode(binary.BigEndian.Uint16(f.payload)) != websocket.StatusTryAgainLater ||
				string(f.payload[2:]) != reasonSlow {
				t.Fatalf("close frame %q", f.payload)
			}
			break
		}
		var fr frame
		if err := json.Unmarshal(f.payload, &fr); err != nil {
			t.Fatal(err)
		}
		if m := fr.message(t); m.Seq != last+1 {
			t.Fatalf("got seq %d after %d", m.Seq, last)
		}
		last++
	}
	if last >= n {
		t.Fatalf("read all %d messages before the close: the queue never filled", last)
	}
	w.sendFrame(opClose, []byte{0x03, 0xe8}) // the close reply (1000)

	c := connect(t, hs.url, hs.f.pupilA)
	c.subscribe(hs.conv.ID, last)
	for want := last + 1; want <= n; want++ {
		if m := c.next().message(t); m.Seq != want {
			t.Fatalf("replay: seq %d, want %d", m.Seq, want)
		}
	}
	c.expect(TypeSubscribed)
}

// TestHubWriteDeadline: a client that reads nothing, with fewer frames for
// it than the queue holds, is closed once a write has been blocked for
// WriteTimeout.
func TestHubWriteDeadline(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{WriteTimeout: 300 * time.Millisecond}, func(l net.Listener) net.Listener { return smallBuffers{l} })
	rawSubscribe(t, hs.url, hs.f.pupilA, hs.conv.ID, 0, 4<<10)
	frame := encodeMessage(Message{ConversationID: hs.conv.ID, SenderID: hs.f.teacher, Body: strings.Repeat("x", 4000)})
	for i := int64(1); i <= 100; i++ {
		hs.hub.fanout(hs.conv.ID, i, frame)
	}
	start := time.Now()
	eventually(t, "the blocked connection closed", func() bool { return hs.hub.Stats().Connections == 0 })
	t.Logf("closed %v after the last frame was queued", time.Since(start))
	if s := hs.hub.Stats(); s.SlowClosed != 0 {
		t.Fatalf("SlowClosed = %d: closed for its queue, not its deadline", s.SlowClosed)
	}
}

// TestHubControlAfterIdle: the writer's deadline does not outlive its
// writes: long after the last message, the library's own replies from the
// reader (pong, the close reply) still go out.
func TestHubControlAfterIdle(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{WriteTimeout: 100 * time.Millisecond}, nil)
	w, _ := rawSubscribe(t, hs.url, hs.f.pupilA, hs.conv.ID, 0, 0)
	hs.hub.fanout(hs.conv.ID, 1, encodeMessage(Message{ConversationID: hs.conv.ID, Seq: 1, SenderID: hs.f.teacher, Body: "a"}))
	read := func() rawFrame {
		t.Helper()
		w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		f, err := w.next(nil)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := read(); f.opcode != opText {
		t.Fatalf("opcode %x, want the message", f.opcode)
	}
	time.Sleep(300 * time.Millisecond) // past the deadline of that write
	w.sendFrame(opPing, []byte("p1"))
	if f := read(); f.opcode != opPong || string(f.payload) != "p1" {
		t.Fatalf("opcode %x %q, want pong p1", f.opcode, f.payload)
	}
	w.sendFrame(opClose, []byte{0x03, 0xe8})
	if f := read(); f.opcode != opClose || binary.BigEndian.Uint16(f.payload) != 1000 {
		t.Fatalf("opcode %x %q, want the close reply", f.opcode, f.payload)
	}
	eventually(t, "the connection gone", func() bool { return hs.hub.Stats().Connections == 0 })
}

// TestHubPings: the server pings every PingInterval; a client that answers
// stays, one that does not is closed within WriteTimeout of a ping.
func TestHubPings(t *testing.T) {
	checkLeaks(t)
	hs := newHubSetup(t, Config{PingInterval: 100 * time.Millisecond, WriteTimeout: 500 * time.Millisecond}, nil)
	w, _ := rawSubscribe(t, hs.url, hs.f.pupilA, hs.conv.ID, 0, 0)
	for i := 0; i < 3; i++ {
		w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		f, err := w.next(nil)
		if err != nil {
			t.Fatal(err)
		}
		if f.opcode != opPing {
			t.Fatalf("opcode %x, want a ping", f.opcode)
		}
		w.sendFrame(opPong, f.payload)
	}
	if n := hs.hub.Stats().Connections; n != 1 {
		t.Fatalf("%d connections while answering pings", n)
	}
	// Now silent: the next ping goes unanswered.
	w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := w.next(nil); err != nil {
			break // closed
		}
	}
	eventually(t, "the silent connection gone", func() bool { return hs.hub.Stats().Connections == 0 })
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	if a, err = net.Dial("tcp", l.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if b = <-accepted; b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// TestBatchConn: what a batch holds is written at release in one piece, in
// order with what came before; Close writes what a batch holds before
// closing (the library's close reply), and does not wait for a write
// blocked on a peer that reads nothing.
func TestBatchConn(t *testing.T) {
	a, peer := tcpPair(t)
	b := &batchConn{Conn: a}
	b.Write([]byte("1"))
	b.hold(16)
	b.Write([]byte("2"))
	b.Write([]byte("3"))
	b.Write([]byte("456789abcdefghij")) // beyond the room held: "23" goes first
	b.Write([]byte("k"))
	if err := b.release(); err != nil {
		t.Fatal(err)
	}
	b.hold(16)
	b.Write([]byte("l"))
	b.Write([]byte("m")) // the close reply, then the library closes
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(peer)
	if err != nil || string(got) != "123456789abcdefghijklm" {
		t.Fatalf("peer read %q, %v", got, err)
	}

	// A peer that reads nothing: the write blocks once the sockets are full.
	a, _ = tcpPair(t)
	b = &batchConn{Conn: a}
	blocked := make(chan error, 1)
	go func() {
		big := make([]byte, 1<<20)
		for {
			if _, err := b.Write(big); err != nil {
				blocked <- err
				return
			}
		}
	}()
	eventually(t, "a blocked write", b.writing.Load)
	time.Sleep(10 * time.Millisecond)
	start := time.Now()
	b.Close()
	select {
	case <-blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("Close left the write blocked")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
}
